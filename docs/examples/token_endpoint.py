"""A Python backend's token endpoint (standard library only): the signed-in user asks for a
session token, the backend mints one for that user with its API key, and returns it."""
import http.client
import json
import os
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUTHORITY = os.environ["TOKEN_AUTHORITY_URL"]  # e.g. http://localhost:8080
API_KEY = os.environ["TOKEN_AUTHORITY_API_KEY"]  # scope sessions:mint, from your secret store

# Stands in for your own login: a session id (your cookie) -> the user it belongs to.
SESSIONS = {"session-of-rep-8842": {"id": "rep_8842", "agency_id": "agency_chicago"}}


def mint_for(user):
    request = urllib.request.Request(
        f"{AUTHORITY}/v1/sessions",
        method="POST",
        # The user comes from your session, never from the request body.
        data=json.dumps({"externalUserId": user["id"], "externalGroupId": user["agency_id"]}).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.load(r), None
    except urllib.error.HTTPError as e:  # 4xx and 5xx carry the error envelope
        return e.code, json.load(e), e.headers.get("Retry-After")


class TokenEndpoint(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/token":
            return self.send(404, {"error": "NOT_FOUND"})
        user = SESSIONS.get(self.headers.get("X-Session-Id", ""))
        if user is None:
            return self.send(401, {"error": "SIGN_IN_FIRST"})
        try:
            status, body, retry_after = mint_for(user)
            if status == 200:
                return self.send(200, {"token": body["token"], "expiresAt": body["expireTime"]})
            code = body["error"]["code"]
        except (OSError, http.client.HTTPException, ValueError, LookupError, TypeError):
            # Unreachable, or an answer that is not the authority's (a proxy's HTML page, a wrong port).
            return self.send(502, {"error": "AUTHORITY_UNREACHABLE"})
        # Pass the reason on (RATE_LIMITED, SUBSCRIPTION_PAST_DUE, ...), never the key.
        headers = {"Retry-After": retry_after} if retry_after else {}
        return self.send(429 if status == 429 else 502, {"error": code}, headers)

    def send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # one line per request would be noise here; log through your app's logger instead


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "3000"))), TokenEndpoint)
    print(f"token endpoint on port {server.server_address[1]}", flush=True)
    server.serve_forever()
