-- The per-user refresh cooldown, claimed with one atomic upsert so two worker isolates can never
-- both start a refresh inside the cooldown (see tributary_core::refresh).
CREATE TABLE refresh_cooldowns (
  user_id            TEXT PRIMARY KEY,
  last_refresh_at    INTEGER NOT NULL
);

-- Webhook lookups: SnapTrade names the user by its userId, Plaid by the Item id.
CREATE INDEX provider_users_by_provider_id ON provider_users (provider, provider_user_id);
