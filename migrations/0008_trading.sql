-- Trading: previews (an order checked and priced, placeable for 5 minutes), the idempotency ledger
-- of order attempts (one row per user and Idempotency-Key, written BEFORE the broker is called),
-- every state change of an order (the audit trail), and the per-account trade limit.
-- Quantities and prices are TEXT decimals; times are Unix seconds.

CREATE TABLE order_previews (
  id             TEXT PRIMARY KEY,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider       TEXT NOT NULL,
  account_id     TEXT NOT NULL,
  symbol_id      TEXT NOT NULL,
  symbol         TEXT NOT NULL,
  order_json     TEXT NOT NULL,
  estimate_json  TEXT NOT NULL,
  fingerprint    TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL
);
CREATE INDEX order_previews_by_user ON order_previews (user_id, created_at);

CREATE TABLE orders (
  id                  TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  idempotency_key     TEXT NOT NULL,
  fingerprint         TEXT NOT NULL,
  preview_id          TEXT NOT NULL,
  provider            TEXT NOT NULL,
  account_id          TEXT NOT NULL,
  client_order_id     TEXT NOT NULL,
  brokerage_order_id  TEXT,
  symbol_id           TEXT NOT NULL,
  symbol              TEXT NOT NULL,
  action              TEXT NOT NULL,
  order_type          TEXT NOT NULL,
  time_in_force       TEXT NOT NULL,
  units               TEXT,
  notional            TEXT,
  limit_price         TEXT,
  stop_price          TEXT,
  state               TEXT NOT NULL CHECK (state IN ('sending', 'unknown', 'open', 'executed', 'cancelled', 'rejected', 'failed')),
  status              TEXT,
  filled_units        TEXT,
  execution_price     TEXT,
  error_code          TEXT,
  error_status        INTEGER,
  message             TEXT,
  sent_at             INTEGER NOT NULL,
  placed_at           INTEGER,
  updated_at          INTEGER NOT NULL,
  UNIQUE (user_id, idempotency_key)
);
CREATE UNIQUE INDEX orders_by_brokerage_id ON orders (provider, account_id, brokerage_order_id)
  WHERE brokerage_order_id IS NOT NULL;
CREATE INDEX orders_by_account ON orders (user_id, account_id, sent_at DESC);

CREATE TABLE order_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id    TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL,
  at          INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  state       TEXT,
  detail      TEXT,
  request_id  TEXT
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- SnapTrade's soft limit of one trade per second per account (`provider:account`).
CREATE TABLE trade_rate (
  account_key    TEXT PRIMARY KEY,
  last_place_at  INTEGER NOT NULL
);
