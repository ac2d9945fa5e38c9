-- Single-flight re-reads: when cached holdings are past their TTL, one reader per user and
-- provider fetches them again (for free) while concurrent readers wait for its result.
CREATE TABLE fetch_leases (
  user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider             TEXT NOT NULL,
  owner                TEXT NOT NULL,
  until_ms             INTEGER NOT NULL,
  PRIMARY KEY (user_id, provider)
);
