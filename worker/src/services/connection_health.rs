//! Connection health (`GET /api/connections/health`, the MCP `connection_health`): every stored
//! connection of the session user, at every provider, judged by the core's
//! [`tributary_core::connection_health`] from what D1 holds — the connection's flags, its
//! accounts, its provider's last reads and any re-login deadline. Passive: no provider is called;
//! the trading probe, when asked, is the shared gate's (`services::trading::probe`), also without
//! a provider call.

use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::store::connections::{self, ConnectionAccount, ConnectionRow};
use crate::store::holdings::{self, ProviderSnapshot, SnapshotStatus};
use crate::store::oauth::{self, LoginDeadline};
use serde::Serialize;
use serde_json::Value;
use tributary_core::capabilities::ConnectionType;
use tributary_core::connection_health::{
    connection_health, ActionCode, ConnectionFacts, HealthStatus, ReadFacts, ReadFailure,
};
use tributary_core::Provider;
use worker::Env;

/// Why a trade connection's accounts cannot trade now (the gate's first refusal).
#[derive(Debug, Serialize)]
pub struct TradingRefusal {
    pub account_id: String,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// One connection's health, as the API answers it.
#[derive(Debug, Serialize)]
pub struct ConnectionHealth {
    /// Our id of the connection (`<provider>:<external id>`).
    pub connection_id: String,
    /// The provider's id of the connection.
    pub external_id: String,
    pub provider: Provider,
    /// The institution's name, else its slug; `None` when unknown.
    pub institution: Option<String>,
    pub institution_slug: Option<String>,
    pub connection_type: ConnectionType,
    pub disabled: bool,
    pub disabled_date: Option<String>,
    /// The provider's ids of the cached accounts under it.
    pub account_ids: Vec<String>,
    pub data_ok: bool,
    /// `None` unless the probe was asked for and the connection trades and has accounts.
    pub trading_ok: Option<bool>,
    pub trading_error: Option<TradingRefusal>,
    /// When the provider's holdings were last read successfully.
    pub last_success_at: Option<i64>,
    /// When the provider's last read failed, if it did.
    pub last_failure_at: Option<i64>,
    /// When a new login at the provider is needed, when it has such a deadline.
    pub reauth_required_at: Option<i64>,
    pub status: HealthStatus,
    pub reason: Option<String>,
    pub action: Option<String>,
    pub action_code: Option<ActionCode>,
    /// The data problem (a failed read, none yet, stale data), even under another status.
    pub data_reason: Option<String>,
}

/// Every connection's health for the session user, oldest first; with `probe_trading`, each
/// trade connection's standing under the trading gate.
pub async fn report(
    env: &Env,
    session: &Authenticated,
    probe_trading: bool,
) -> Result<Vec<ConnectionHealth>, ApiError> {
    let probe = if probe_trading { Some(super::trading::probe(env, session).await?) } else { None };
    report_with(env, session, probe.as_deref()).await
}

/// [`report`] with a trading probe already made (`services::trading::probe`'s per-account answers).
pub async fn report_with(
    env: &Env,
    session: &Authenticated,
    probe: Option<&[Value]>,
) -> Result<Vec<ConnectionHealth>, ApiError> {
    let user = &session.claims.user_id;
    let (rows, accounts, snapshots, deadlines) = futures_util::try_join!(
        connections::list_all(env, user),
        connections::accounts_by_connection(env, user),
        holdings::snapshots(env, user),
        oauth::login_deadlines(env, user),
    )?;
    let now = session.now();
    Ok(rows.into_iter().map(|row| judge(session, row, &accounts, &snapshots, &deadlines, probe, now)).collect())
}

fn judge(
    session: &Authenticated,
    row: ConnectionRow,
    accounts: &[ConnectionAccount],
    snapshots: &[ProviderSnapshot],
    deadlines: &[LoginDeadline],
    probe: Option<&[Value]>,
    now: i64,
) -> ConnectionHealth {
    let provider = row.provider;
    let account_ids: Vec<String> =
        accounts.iter().filter(|a| a.connection_id == row.id).map(|a| a.account_id.clone()).collect();
    let snapshot = snapshots.iter().find(|s| s.provider == provider).map(|s| &s.snapshot);
    let failure = snapshot.filter(|s| s.status == SnapshotStatus::Failed).map(|s| ReadFailure {
        code: s.error_code.as_deref().unwrap_or("provider_read_failed"),
        message: s.error_message.as_deref(),
        at: s.attempted_at,
    });
    let reauth_required_at = deadlines
        .iter()
        .find(|d| d.provider == provider && d.connection_id == row.external_id)
        .map(|d| d.reauth_required_at);
    let facts = ConnectionFacts {
        provider,
        disabled: row.disabled,
        needs_repair: row.needs_repair,
        repair_reason: row.repair_reason.as_deref(),
        reauth_required_at,
        reads: ReadFacts {
            last_success_at: snapshot.and_then(|s| s.fetched_at),
            last_failure: failure,
            ttl_hours: session.config.cache.ttl_hours(provider),
        },
    };
    let health = connection_health(&facts, now);
    let (trading_ok, trading_error) = match probe {
        Some(probe) if row.connection_type == ConnectionType::Trade => trading(probe, provider, &account_ids),
        _ => (None, None),
    };
    ConnectionHealth {
        connection_id: row.id,
        external_id: row.external_id,
        provider,
        institution: row.institution_name.or_else(|| row.institution_slug.clone()),
        institution_slug: row.institution_slug,
        connection_type: row.connection_type,
        disabled: row.disabled,
        disabled_date: row.disabled_date,
        account_ids,
        data_ok: health.data_ok,
        trading_ok,
        trading_error,
        last_success_at: facts.reads.last_success_at,
        last_failure_at: failure.and_then(|f| f.at),
        reauth_required_at,
        status: health.status,
        reason: health.reason,
        action: health.action,
        action_code: health.action_code,
        data_reason: health.data_reason,
    }
}

/// The gate's verdict over a trade connection's accounts: every account may trade (`true`), or
/// the first that may not, and why; `None` when the probe holds none of its accounts.
fn trading(probe: &[Value], provider: Provider, account_ids: &[String]) -> (Option<bool>, Option<TradingRefusal>) {
    let text = |entry: &Value, key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
    let standings: Vec<&Value> = probe
        .iter()
        .filter(|entry| entry.get("provider").and_then(Value::as_str) == Some(provider.as_str()))
        .filter(|entry| text(entry, "account_id").is_some_and(|id| account_ids.contains(&id)))
        .collect();
    if standings.is_empty() {
        return (None, None);
    }
    let refused = standings.iter().find(|entry| entry.get("can_trade").and_then(Value::as_bool) != Some(true));
    match refused {
        None => (Some(true), None),
        Some(entry) => (
            Some(false),
            Some(TradingRefusal {
                account_id: text(entry, "account_id").unwrap_or_default(),
                code: text(entry, "code"),
                message: text(entry, "reason"),
            }),
        ),
    }
}
