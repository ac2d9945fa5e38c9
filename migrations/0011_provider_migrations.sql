-- Provider migrations (issue 17 §4): one row per executed migration, written just before the old
-- connection's removal is asked for (status 'removing') and settled after it ('completed' or
-- 'failed' with the step that failed). A dry run writes nothing. The totals and the verification
-- are the core's JSON (`tributary_core::migration`), exact decimals as strings.
CREATE TABLE provider_migrations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    institution TEXT NOT NULL,
    from_provider TEXT NOT NULL,
    to_provider TEXT NOT NULL,
    removed_connection_id TEXT NOT NULL,
    removed_external_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('removing', 'completed', 'failed')),
    failed_step TEXT CHECK (failed_step IS NULL OR failed_step IN ('remove', 'reread', 'verify')),
    old_connection_removed INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    totals_before TEXT NOT NULL,
    target_before TEXT NOT NULL,
    totals_after TEXT,
    verification TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX provider_migrations_by_user ON provider_migrations (user_id, created_at);
