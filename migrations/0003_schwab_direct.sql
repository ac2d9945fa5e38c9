-- Schwab direct is the third provider. The first schema pinned every `provider` column to
-- ('snaptrade', 'plaid') with a CHECK, which SQLite cannot alter: those tables are rebuilt without
-- it (the worker's typed rows parse the provider name with the core's `Provider::parse`, so an
-- unknown name is refused when read), so the next provider needs no rebuild.
--
-- Foreign keys stay enforced throughout: every affected table is copied aside into a plain
-- table first, the originals are dropped children-first (so no ON DELETE CASCADE can reach a
-- row that is kept), rebuilt under their own names, and refilled parents-first.

CREATE TABLE keep_provider_users AS SELECT * FROM provider_users;
CREATE TABLE keep_provider_items AS SELECT * FROM provider_items;
CREATE TABLE keep_connections AS SELECT * FROM connections;
CREATE TABLE keep_accounts AS SELECT * FROM accounts;
CREATE TABLE keep_positions AS SELECT * FROM positions;
CREATE TABLE keep_balances AS SELECT * FROM balances;
CREATE TABLE keep_provider_snapshots AS SELECT * FROM provider_snapshots;
CREATE TABLE keep_pending_updates AS SELECT * FROM pending_updates;
CREATE TABLE keep_webhook_events AS SELECT * FROM webhook_events;
CREATE TABLE keep_refresh_log AS SELECT * FROM refresh_log;

DROP TABLE positions;
DROP TABLE balances;
DROP TABLE accounts;
DROP TABLE connections;
DROP TABLE provider_items;
DROP TABLE provider_users;
DROP TABLE provider_snapshots;
DROP TABLE pending_updates;
DROP TABLE webhook_events;
DROP TABLE refresh_log;

CREATE TABLE provider_users (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  provider_user_id   TEXT NOT NULL,
  secret_ciphertext  BLOB,
  secret_nonce       BLOB,
  key_id             TEXT,
  created_at         INTEGER NOT NULL,
  PRIMARY KEY (user_id, provider),
  UNIQUE (provider, provider_user_id)
);
INSERT INTO provider_users (user_id, provider, provider_user_id, secret_ciphertext, secret_nonce, key_id, created_at) SELECT user_id, provider, provider_user_id, secret_ciphertext, secret_nonce, key_id, created_at FROM keep_provider_users;
DROP TABLE keep_provider_users;

CREATE TABLE provider_items (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
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
INSERT INTO provider_items (id, user_id, provider, external_id, institution_slug, institution_name, secret_ciphertext, secret_nonce, key_id, status, created_at, updated_at) SELECT id, user_id, provider, external_id, institution_slug, institution_name, secret_ciphertext, secret_nonce, key_id, status, created_at, updated_at FROM keep_provider_items;
DROP TABLE keep_provider_items;

CREATE TABLE connections (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
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
INSERT INTO connections (id, user_id, provider, external_id, institution_slug, institution_name, connection_type, disabled, disabled_date, needs_repair, repair_reason, created_at, updated_at) SELECT id, user_id, provider, external_id, institution_slug, institution_name, connection_type, disabled, disabled_date, needs_repair, repair_reason, created_at, updated_at FROM keep_connections;
DROP TABLE keep_connections;

CREATE TABLE accounts (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
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
INSERT INTO accounts (id, user_id, provider, connection_id, external_id, institution_slug, name, number_mask, account_type, currency, cap_trading, cap_realtime, refresh_cost, created_at, updated_at) SELECT id, user_id, provider, connection_id, external_id, institution_slug, name, number_mask, account_type, currency, cap_trading, cap_realtime, refresh_cost, created_at, updated_at FROM keep_accounts;
DROP TABLE keep_accounts;

CREATE TABLE positions (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
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
INSERT INTO positions (id, user_id, provider, account_id, security_key, ticker, name, kind, quantity, price, market_value, cost_basis, currency, as_of) SELECT id, user_id, provider, account_id, security_key, ticker, name, kind, quantity, price, market_value, cost_basis, currency, as_of FROM keep_positions;
DROP TABLE keep_positions;

CREATE TABLE balances (
  account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  currency           TEXT NOT NULL,
  cash               TEXT NOT NULL,
  buying_power       TEXT,
  as_of              INTEGER NOT NULL,
  PRIMARY KEY (account_id, currency)
);
INSERT INTO balances (account_id, user_id, provider, currency, cash, buying_power, as_of) SELECT account_id, user_id, provider, currency, cash, buying_power, as_of FROM keep_balances;
DROP TABLE keep_balances;

CREATE TABLE provider_snapshots (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  fetched_at         INTEGER,
  status             TEXT NOT NULL DEFAULT 'never',
  error_code         TEXT,
  error_message      TEXT,
  attempted_at       INTEGER,
  PRIMARY KEY (user_id, provider)
);
INSERT INTO provider_snapshots (user_id, provider, fetched_at, status, error_code, error_message, attempted_at) SELECT user_id, provider, fetched_at, status, error_code, error_message, attempted_at FROM keep_provider_snapshots;
DROP TABLE keep_provider_snapshots;

CREATE TABLE pending_updates (
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  pending            INTEGER NOT NULL DEFAULT 0,
  raised_at          INTEGER,
  cleared_at         INTEGER,
  last_event_id      TEXT,
  PRIMARY KEY (user_id, provider)
);
INSERT INTO pending_updates (user_id, provider, pending, raised_at, cleared_at, last_event_id) SELECT user_id, provider, pending, raised_at, cleared_at, last_event_id FROM keep_pending_updates;
DROP TABLE keep_pending_updates;

CREATE TABLE webhook_events (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  provider           TEXT NOT NULL,
  webhook_id         TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  user_id            TEXT,
  received_at        INTEGER NOT NULL,
  outcome            TEXT NOT NULL,
  payload            TEXT NOT NULL,
  UNIQUE (provider, webhook_id)
);
INSERT INTO webhook_events (id, provider, webhook_id, event_type, user_id, received_at, outcome, payload) SELECT id, provider, webhook_id, event_type, user_id, received_at, outcome, payload FROM keep_webhook_events;
DROP TABLE keep_webhook_events;

CREATE TABLE refresh_log (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id            TEXT NOT NULL,
  provider           TEXT NOT NULL,
  trigger            TEXT NOT NULL CHECK (trigger IN ('manual', 'webhook', 'initial', 'automatic')),
  billed             INTEGER NOT NULL DEFAULT 0,
  operation          TEXT,
  status             TEXT NOT NULL,
  error_code         TEXT,
  started_at         INTEGER NOT NULL,
  finished_at        INTEGER
);
INSERT INTO refresh_log (id, user_id, provider, trigger, billed, operation, status, error_code, started_at, finished_at) SELECT id, user_id, provider, trigger, billed, operation, status, error_code, started_at, finished_at FROM keep_refresh_log;
DROP TABLE keep_refresh_log;

CREATE INDEX provider_items_by_user ON provider_items (user_id, provider);
CREATE INDEX connections_by_user ON connections (user_id, provider);
CREATE INDEX accounts_by_user ON accounts (user_id, provider);
CREATE INDEX positions_by_user ON positions (user_id, provider);
CREATE INDEX positions_by_account ON positions (account_id);
CREATE INDEX balances_by_user ON balances (user_id, provider);
CREATE INDEX refresh_log_by_user ON refresh_log (user_id, provider, started_at);
CREATE INDEX provider_users_by_provider_id ON provider_users (provider, provider_user_id);

-- OAuth `state` values waiting for their callback: random, bound to the user who started the
-- flow, consumed exactly once (deleted when used), and refused after ten minutes.
CREATE TABLE oauth_states (
  state              TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider           TEXT NOT NULL,
  redirect           TEXT NOT NULL,
  created_at         INTEGER NOT NULL
);
CREATE INDEX oauth_states_by_user ON oauth_states (user_id, created_at);

-- A user's OAuth grant at a provider (Schwab): the access and refresh tokens sealed like every
-- provider secret, when they stop working, and the lease one request holds while it refreshes
-- the access token for everyone (`refreshing_until`, worker clock).
CREATE TABLE oauth_grants (
  user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider             TEXT NOT NULL,
  connection_id        TEXT NOT NULL,
  access_ciphertext    BLOB NOT NULL,
  access_nonce         BLOB NOT NULL,
  refresh_ciphertext   BLOB NOT NULL,
  refresh_nonce        BLOB NOT NULL,
  key_id               TEXT NOT NULL,
  access_expires_at    INTEGER NOT NULL,
  login_at             INTEGER NOT NULL,
  reauth_required_at   INTEGER NOT NULL,
  refreshing_until     INTEGER,
  updated_at           INTEGER NOT NULL,
  PRIMARY KEY (user_id, provider)
);
