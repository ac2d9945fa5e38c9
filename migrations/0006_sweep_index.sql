-- The missed-webhook sweep finds each provider's oldest cached copies: snapshots by provider and
-- fetch time, so a cron run reads a few rows however many users there are.
CREATE INDEX provider_snapshots_by_age ON provider_snapshots (provider, fetched_at);
