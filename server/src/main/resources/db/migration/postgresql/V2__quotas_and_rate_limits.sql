-- Monthly redemption counts of tenants with a quota, and rate-limit buckets shared by every
-- replica (GCRA: the theoretical arrival time, in microseconds since the epoch).

CREATE TABLE tenant_usage (
  tenant_id   TEXT COLLATE "C" NOT NULL,
  month       TEXT COLLATE "C" NOT NULL,
  redemptions BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, month)
);

CREATE TABLE rate_limits (
  bucket TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  tat    BIGINT NOT NULL
) WITH (fillfactor = 80);
