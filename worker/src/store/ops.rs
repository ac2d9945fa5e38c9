//! Every user's stored connections with their provider's last holdings read and any re-login
//! deadline, for the operator's connection summary: one bounded query across users.

use super::{query_all, DbResult};
use serde::Deserialize;
use tributary_core::Provider;
use worker::Env;

/// Most connections one summary reads (newest first); the answer says when there were more.
pub const MAX_CONNECTIONS_SCANNED: u32 = 5_000;

/// One connection with what its health rule needs.
#[derive(Debug, Clone)]
pub struct ConnectionFactsRow {
    pub id: String,
    pub provider: Provider,
    pub institution: Option<String>,
    pub disabled: bool,
    pub needs_repair: bool,
    pub repair_reason: Option<String>,
    pub fetched_at: Option<i64>,
    /// The last read failed (`provider_snapshots.status = 'failed'`).
    pub last_read_failed: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub attempted_at: Option<i64>,
    pub reauth_required_at: Option<i64>,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    provider: String,
    institution: Option<String>,
    disabled: f64,
    needs_repair: f64,
    repair_reason: Option<String>,
    fetched_at: Option<f64>,
    snapshot_status: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    attempted_at: Option<f64>,
    reauth_required_at: Option<f64>,
}

/// Up to `MAX_CONNECTIONS_SCANNED + 1` connections, newest first (one more than the cap tells
/// the caller the list was cut).
pub async fn connection_facts(env: &Env) -> DbResult<Vec<ConnectionFactsRow>> {
    let rows: Vec<Row> = query_all(
        env,
        "SELECT c.id, c.provider, COALESCE(c.institution_name, c.institution_slug) AS institution,
                c.disabled, c.needs_repair, c.repair_reason, s.fetched_at, s.status AS snapshot_status,
                s.error_code, s.error_message, s.attempted_at, g.reauth_required_at
         FROM connections c
         LEFT JOIN provider_snapshots s ON s.user_id = c.user_id AND s.provider = c.provider
         LEFT JOIN oauth_grants g ON g.user_id = c.user_id AND g.provider = c.provider AND g.connection_id = c.external_id
         ORDER BY c.created_at DESC LIMIT ?1",
        &[f64::from(MAX_CONNECTIONS_SCANNED + 1).into()],
    )
    .await?;
    let at = |v: Option<f64>| v.map(|t| t as i64);
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(ConnectionFactsRow {
                provider: Provider::parse(&r.provider).ok()?,
                id: r.id,
                institution: r.institution,
                disabled: r.disabled != 0.0,
                needs_repair: r.needs_repair != 0.0,
                repair_reason: r.repair_reason,
                fetched_at: at(r.fetched_at),
                last_read_failed: r.snapshot_status.as_deref() == Some("failed"),
                error_code: r.error_code,
                error_message: r.error_message,
                attempted_at: at(r.attempted_at),
                reauth_required_at: at(r.reauth_required_at),
            })
        })
        .collect())
}
