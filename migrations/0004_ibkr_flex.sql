-- IBKR Flex: a person's Flex token and Activity query per connection, the statement in flight,
-- and what a position carried beside its figures (identifiers, multiplier, FX rate, lots).

-- What a provider sent beside a position (JSON of core's PositionDetail); NULL for most.
ALTER TABLE positions ADD COLUMN detail TEXT;

-- One row per Flex connection. The token and the query id are sealed with the data key (bound to
-- the user); the reference code of a statement still being generated is kept so a later request
-- or the cron trigger finishes it instead of asking IBKR again.
CREATE TABLE ibkr_flex_queries (
  connection_id        TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  external_id          TEXT NOT NULL,
  token_ciphertext     TEXT NOT NULL,
  token_nonce          TEXT NOT NULL,
  query_ciphertext     TEXT NOT NULL,
  query_nonce          TEXT NOT NULL,
  key_id               TEXT NOT NULL,
  -- HMAC of the query id under the data key: the same query is found (and connected once) without
  -- unsealing every row.
  query_key            TEXT NOT NULL,
  -- The latest statement read: its date (YYYY-MM-DD) and when it was read (worker clock).
  statement_date       TEXT,
  last_statement_at    INTEGER,
  -- The statement in flight: IBKR's reference code, when it was asked for, when to look next.
  reference_code       TEXT,
  requested_at         INTEGER,
  next_poll_at         INTEGER,
  -- One reader at a time per connection: who holds it, until when (real clock, ms).
  lease_owner          TEXT,
  lease_until_ms       INTEGER,
  created_at           INTEGER NOT NULL,
  UNIQUE (user_id, query_key)
);
CREATE INDEX ibkr_flex_queries_by_user ON ibkr_flex_queries (user_id);
CREATE INDEX ibkr_flex_queries_due ON ibkr_flex_queries (next_poll_at);

-- When a Flex token was last used (real clock, ms), keyed by an HMAC of the token under the data
-- key (never the token): IBKR allows one request a second per token, across every path.
CREATE TABLE ibkr_flex_pacing (
  token_key            TEXT PRIMARY KEY,
  last_request_ms      INTEGER NOT NULL
);
