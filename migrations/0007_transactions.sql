-- The ledger: every provider's transactions, normalised by the core (amount > 0 = money into the
-- account), one row per stable id. `scope` is what one sync reads at once (a SnapTrade account, a
-- Plaid Item): a complete read of a scope's window removes that scope's rows it no longer has.
CREATE TABLE transactions (
  user_id                  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  id                       TEXT NOT NULL,
  provider                 TEXT NOT NULL,
  scope                    TEXT NOT NULL,
  provider_transaction_id  TEXT NOT NULL,
  account_id               TEXT NOT NULL,
  institution_slug         TEXT,
  type                     TEXT NOT NULL,
  provider_type            TEXT NOT NULL,
  trade_date               TEXT NOT NULL,
  settlement_date          TEXT,
  security_key             TEXT,
  ticker                   TEXT,
  security_name            TEXT,
  quantity                 TEXT,
  price                    TEXT,
  amount                   TEXT,
  fees                     TEXT,
  currency                 TEXT,
  description              TEXT,
  synced_at                INTEGER NOT NULL,
  PRIMARY KEY (user_id, id)
);
CREATE INDEX transactions_by_date ON transactions (user_id, trade_date DESC, id DESC);
CREATE INDEX transactions_by_scope ON transactions (user_id, provider, scope, trade_date);

-- How far each scope's last complete sync reached, and how its last attempt ended.
CREATE TABLE transaction_syncs (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  scope              TEXT NOT NULL,
  synced_through     TEXT,
  synced_at          INTEGER,
  attempted_at       INTEGER NOT NULL,
  status             TEXT NOT NULL,
  error_code         TEXT,
  error_message      TEXT,
  PRIMARY KEY (user_id, provider, scope)
);

-- Whether a verified webhook announced new transactions not synced yet (beside the holdings flag).
CREATE TABLE pending_transactions (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  pending            INTEGER NOT NULL DEFAULT 0,
  raised_at          INTEGER,
  cleared_at         INTEGER,
  last_event_id      TEXT,
  PRIMARY KEY (user_id, provider)
);

-- The position quantities of the holdings read before the current one, per provider, so the
-- ledger can be reconciled against the change between two reads.
CREATE TABLE previous_positions (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  account_id         TEXT NOT NULL,
  security_key       TEXT NOT NULL,
  quantity           TEXT NOT NULL,
  taken_at           INTEGER NOT NULL
);
CREATE INDEX previous_positions_by_user ON previous_positions (user_id, provider);

-- The per-user cooldown of `POST /api/transactions/sync` (the holdings refresh rule, its own clock).
CREATE TABLE transaction_sync_cooldowns (
  user_id            TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  last_refresh_at    INTEGER NOT NULL
);
