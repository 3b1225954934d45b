// A Node backend's token endpoint (Node 18+, no dependencies): the signed-in user asks for a
// session token, the backend mints one for that user with its API key, and returns it.
import http from 'node:http';

const AUTHORITY = process.env.TOKEN_AUTHORITY_URL; // e.g. http://localhost:8080
const API_KEY = process.env.TOKEN_AUTHORITY_API_KEY; // scope sessions:mint, from your secret store

// Stands in for your own login: a session id (your cookie) -> the user it belongs to.
const SESSIONS = new Map([['session-of-rep-8842', { id: 'rep_8842', agencyId: 'agency_chicago' }]]);

async function mintFor(user) {
  const r = await fetch(`${AUTHORITY}/v1/sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    // The user comes from your session, never from the request body.
    body: JSON.stringify({ externalUserId: user.id, externalGroupId: user.agencyId }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: r.status, body: await r.json(), retryAfter: r.headers.get('retry-after') };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/token') {
    return send(res, 404, { error: 'NOT_FOUND' });
  }
  const user = SESSIONS.get(req.headers['x-session-id'] ?? '');
  if (!user) {
    return send(res, 401, { error: 'SIGN_IN_FIRST' });
  }
  try {
    const { status, body, retryAfter } = await mintFor(user);
    if (status === 200) {
      return send(res, 200, { token: body.token, expiresAt: body.expireTime });
    }
    // Pass the reason on (RATE_LIMITED, SUBSCRIPTION_PAST_DUE, ...), never the key.
    const headers = retryAfter ? { 'Retry-After': retryAfter } : {};
    return send(res, status === 429 ? 429 : 502, { error: body.error.code }, headers);
  } catch {
    return send(res, 502, { error: 'AUTHORITY_UNREACHABLE' });
  }
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`token endpoint on port ${server.address().port}`);
});
