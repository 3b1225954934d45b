-- token-authority schema, version 1 (SQLite). Times are epoch milliseconds.

CREATE TABLE tenants (
  id                          TEXT    NOT NULL PRIMARY KEY,
  display_name                TEXT    NOT NULL,
  status                      TEXT    NOT NULL,
  subscription_status         TEXT    NOT NULL,
  enabled_modules             TEXT    NOT NULL,
  session_ttl_default_seconds INTEGER NOT NULL,
  session_ttl_max_seconds     INTEGER NOT NULL,
  mint_rate_per_minute        INTEGER NOT NULL,
  mint_rate_per_user_per_hour INTEGER NOT NULL,
  monthly_session_quota       INTEGER NOT NULL,
  create_time                 INTEGER NOT NULL,
  update_time                 INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id              TEXT    NOT NULL PRIMARY KEY,
  tenant_id       TEXT    NOT NULL,
  name            TEXT    NOT NULL,
  scopes          TEXT    NOT NULL,
  allowed_origins TEXT    NOT NULL,
  secret_hash     BLOB    NOT NULL UNIQUE,
  hint            TEXT    NOT NULL,
  create_time     INTEGER NOT NULL,
  expire_time     INTEGER,
  last_used_time  INTEGER,
  revoke_time     INTEGER
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, create_time, id);

CREATE TABLE sessions (
  id                TEXT    NOT NULL PRIMARY KEY,
  tenant_id         TEXT    NOT NULL,
  api_key_id        TEXT    NOT NULL,
  external_user_id  TEXT    NOT NULL,
  external_group_id TEXT    NOT NULL,
  audience          TEXT    NOT NULL,
  scopes            TEXT    NOT NULL,
  origin            TEXT    NOT NULL,
  context           BLOB,
  token_hash        BLOB    NOT NULL,
  issue_time        INTEGER NOT NULL,
  expire_time       INTEGER NOT NULL,
  max_uses          INTEGER NOT NULL,
  uses_remaining    INTEGER NOT NULL,
  revoke_time       INTEGER
) WITHOUT ROWID; -- one B-tree keyed by id: an insert maintains it and the expiry index, nothing else
CREATE INDEX sessions_by_expire_time ON sessions (expire_time);

CREATE TABLE signing_keys (
  kid         TEXT    NOT NULL PRIMARY KEY,
  private_key BLOB    NOT NULL,
  public_key  BLOB    NOT NULL,
  create_time INTEGER NOT NULL
);
