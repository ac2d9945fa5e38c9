-- Tributary's first schema. Amounts and quantities are TEXT decimal strings (never REAL),
-- times are Unix seconds (INTEGER). Applied migrations are never edited: add a new one.

-- A Tributary user, as named by the host app's session token (`sub`).
CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL
);

-- A user's registration with a provider (SnapTrade userId + userSecret), the secret encrypted
-- with AES-256-GCM under DATA_ENCRYPTION_KEY (`key_id` names the key for rotation).
CREATE TABLE provider_users (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  provider_user_id   TEXT NOT NULL,
  secret_ciphertext  BLOB,
  secret_nonce       BLOB,
  key_id             TEXT,
  created_at         INTEGER NOT NULL,
  PRIMARY KEY (user_id, provider),
  UNIQUE (provider, provider_user_id)
);

-- A provider-side item that maps back to one of our users: a Plaid Item (access token encrypted
-- as above) or a SnapTrade user id seen in webhooks. Webhooks resolve their user through it.
CREATE TABLE provider_items (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  external_id        TEXT NOT NULL,
  institution_slug   TEXT,
  institution_name   TEXT,
  secret_ciphertext  BLOB,
  secret_nonce       BLOB,
  key_id             TEXT,
  status             TEXT NOT NULL DEFAULT 'active',
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (provider, external_id)
);
CREATE INDEX provider_items_by_user ON provider_items (user_id, provider);

-- A connection to one institution through one provider (SnapTrade authorization, Plaid Item).
CREATE TABLE connections (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  external_id        TEXT NOT NULL,
  institution_slug   TEXT,
  institution_name   TEXT,
  connection_type    TEXT NOT NULL DEFAULT 'read' CHECK (connection_type IN ('read', 'trade')),
  disabled           INTEGER NOT NULL DEFAULT 0,
  disabled_date      TEXT,
  needs_repair       INTEGER NOT NULL DEFAULT 0,
  repair_reason      TEXT,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (provider, external_id)
);
CREATE INDEX connections_by_user ON connections (user_id, provider);

-- An account, with the capabilities derived when it was imported. Its provider serves it for
-- life (run-time routing never re-guesses).
CREATE TABLE accounts (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  connection_id      TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  external_id        TEXT NOT NULL,
  institution_slug   TEXT,
  name               TEXT,
  number_mask        TEXT,
  account_type       TEXT,
  currency           TEXT,
  cap_trading        INTEGER NOT NULL DEFAULT 0,
  cap_realtime       INTEGER NOT NULL DEFAULT 0,
  refresh_cost       TEXT NOT NULL DEFAULT 'free',
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (provider, external_id)
);
CREATE INDEX accounts_by_user ON accounts (user_id, provider);

-- Cached positions of an account; a provider's rows are replaced in one batch after a
-- complete successful fetch, never deleted by a failed one.
CREATE TABLE positions (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  security_key       TEXT NOT NULL,
  ticker             TEXT,
  name               TEXT,
  kind               TEXT NOT NULL,
  quantity           TEXT NOT NULL,
  price              TEXT,
  market_value       TEXT,
  cost_basis         TEXT,
  currency           TEXT NOT NULL,
  as_of              INTEGER NOT NULL
);
CREATE INDEX positions_by_user ON positions (user_id, provider);
CREATE INDEX positions_by_account ON positions (account_id);

-- Cached cash balances per account and currency (every currency kept).
CREATE TABLE balances (
  account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  currency           TEXT NOT NULL,
  cash               TEXT NOT NULL,
  buying_power       TEXT,
  as_of              INTEGER NOT NULL,
  PRIMARY KEY (account_id, currency)
);
CREATE INDEX balances_by_user ON balances (user_id, provider);

-- The last fetch of a provider's holdings for a user: what the cache policy reads.
CREATE TABLE provider_snapshots (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  fetched_at         INTEGER,
  status             TEXT NOT NULL DEFAULT 'never',
  error_code         TEXT,
  error_message      TEXT,
  attempted_at       INTEGER,
  PRIMARY KEY (user_id, provider)
);

-- Whether a verified holdings webhook raised an update not yet refreshed.
CREATE TABLE pending_updates (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  pending            INTEGER NOT NULL DEFAULT 0,
  raised_at          INTEGER,
  cleared_at         INTEGER,
  last_event_id      TEXT,
  PRIMARY KEY (user_id, provider)
);

-- Every verified webhook event, deduplicated by the provider's own id.
CREATE TABLE webhook_events (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  webhook_id         TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  user_id            TEXT,
  received_at        INTEGER NOT NULL,
  outcome            TEXT NOT NULL,
  payload            TEXT NOT NULL,
  UNIQUE (provider, webhook_id)
);

-- Every refresh and every billed provider call, so cost can be counted and cooldowns enforced.
CREATE TABLE refresh_log (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id            TEXT NOT NULL,
  provider           TEXT NOT NULL CHECK (provider IN ('snaptrade', 'plaid')),
  trigger            TEXT NOT NULL CHECK (trigger IN ('manual', 'webhook', 'initial', 'automatic')),
  billed             INTEGER NOT NULL DEFAULT 0,
  operation          TEXT,
  status             TEXT NOT NULL,
  error_code         TEXT,
  started_at         INTEGER NOT NULL,
  finished_at        INTEGER
);
CREATE INDEX refresh_log_by_user ON refresh_log (user_id, provider, started_at);
