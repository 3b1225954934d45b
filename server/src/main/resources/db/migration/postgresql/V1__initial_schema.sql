-- token-authority schema, version 1 (PostgreSQL). The same tables and columns as the SQLite
-- schema, so that one set of SQL statements serves both. Times are epoch milliseconds.
-- Ids compare byte by byte (COLLATE "C"), as in SQLite: the same page order on both stores, and
-- faster comparisons than a locale's collation.

CREATE TABLE tenants (
  id                          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  display_name                TEXT    NOT NULL,
  status                      TEXT    NOT NULL,
  subscription_status         TEXT    NOT NULL,
  enabled_modules             TEXT    NOT NULL,
  session_ttl_default_seconds BIGINT  NOT NULL,
  session_ttl_max_seconds     BIGINT  NOT NULL,
  mint_rate_per_minute        INTEGER NOT NULL,
  mint_rate_per_user_per_hour INTEGER NOT NULL,
  monthly_session_quota       BIGINT  NOT NULL,
  create_time                 BIGINT  NOT NULL,
  update_time                 BIGINT  NOT NULL
);

CREATE TABLE api_keys (
  id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  tenant_id       TEXT COLLATE "C" NOT NULL,
  name            TEXT    NOT NULL,
  scopes          TEXT    NOT NULL,
  allowed_origins TEXT    NOT NULL,
  secret_hash     BYTEA   NOT NULL UNIQUE,
  hint            TEXT    NOT NULL,
  create_time     BIGINT  NOT NULL,
  expire_time     BIGINT,
  last_used_time  BIGINT,
  revoke_time     BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, create_time, id);

-- A redeem updates uses_remaining only, which no index covers: with room left in each page
-- (fillfactor 80) PostgreSQL makes that a HOT update, touching neither index.
CREATE TABLE sessions (
  id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  tenant_id         TEXT COLLATE "C" NOT NULL,
  api_key_id        TEXT COLLATE "C" NOT NULL,
  external_user_id  TEXT    NOT NULL,
  external_group_id TEXT    NOT NULL,
  audience          TEXT    NOT NULL,
  scopes            TEXT    NOT NULL,
  origin            TEXT    NOT NULL,
  context           BYTEA,
  token_hash        BYTEA   NOT NULL,
  issue_time        BIGINT  NOT NULL,
  expire_time       BIGINT  NOT NULL,
  max_uses          INTEGER NOT NULL,
  uses_remaining    INTEGER NOT NULL,
  revoke_time       BIGINT
) WITH (fillfactor = 80);
CREATE INDEX sessions_by_expire_time ON sessions (expire_time);

CREATE TABLE signing_keys (
  kid         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  private_key BYTEA   NOT NULL,
  public_key  BYTEA   NOT NULL,
  create_time BIGINT  NOT NULL
);
