-- Provider call outcomes (issue 17 §3, §5), kept bounded: no row per call. Times are on the clock
-- of the request that made the call. `institution` is '' when the adapter did not know it.

-- The rolling window that feeds link-time routing: attempts and provider failures per minute
-- (Unix minutes). Rows older than an hour are deleted by the next write (core `ops::window`).
CREATE TABLE provider_call_window (
  minute        INTEGER NOT NULL,
  provider      TEXT NOT NULL,
  institution   TEXT NOT NULL DEFAULT '',
  attempts      INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, provider, institution)
);

-- Daily aggregates for the operator's metrics: attempts, how they ended, successful billed
-- attempts, and a latency histogram in the core's fixed buckets (`ops::latency`: <=50, <=100,
-- <=250, <=500, <=1000, <=2500, <=5000, <=10000, <=30000, <=60000 ms and slower). Days older than
-- 400 days are deleted by the next write.
CREATE TABLE provider_call_days (
  day           TEXT NOT NULL,
  provider      TEXT NOT NULL,
  institution   TEXT NOT NULL DEFAULT '',
  operation     TEXT NOT NULL,
  calls         INTEGER NOT NULL DEFAULT 0,
  succeeded     INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  billed        INTEGER NOT NULL DEFAULT 0,
  l0            INTEGER NOT NULL DEFAULT 0,
  l1            INTEGER NOT NULL DEFAULT 0,
  l2            INTEGER NOT NULL DEFAULT 0,
  l3            INTEGER NOT NULL DEFAULT 0,
  l4            INTEGER NOT NULL DEFAULT 0,
  l5            INTEGER NOT NULL DEFAULT 0,
  l6            INTEGER NOT NULL DEFAULT 0,
  l7            INTEGER NOT NULL DEFAULT 0,
  l8            INTEGER NOT NULL DEFAULT 0,
  l9            INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, provider, institution, operation)
);

-- Webhooks per day and provider: verified and recorded, rejected (never stored in
-- webhook_events), duplicate (an id already recorded).
CREATE TABLE webhook_days (
  day           TEXT NOT NULL,
  provider      TEXT NOT NULL,
  received      INTEGER NOT NULL DEFAULT 0,
  rejected      INTEGER NOT NULL DEFAULT 0,
  duplicate     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, provider)
);
