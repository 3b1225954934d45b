-- Monthly redemption counts of tenants with a quota, and shared rate-limit buckets (GCRA:
-- the theoretical arrival time, in microseconds since the epoch).

CREATE TABLE tenant_usage (
  tenant_id   TEXT    NOT NULL,
  month       TEXT    NOT NULL,
  redemptions INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, month)
) WITHOUT ROWID;

CREATE TABLE rate_limits (
  bucket TEXT    NOT NULL PRIMARY KEY,
  tat    INTEGER NOT NULL
) WITHOUT ROWID;
