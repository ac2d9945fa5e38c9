//! The ledger, written once for every provider through the provider port: a sync reads each
//! provider's scopes (fetch-only, never billed) and stores what it found — upserted by stable id,
//! with what a complete read of a window no longer has removed, and a failed page keeping every
//! row stored before; a read lists one deduplicated page newest first; reconciliation compares
//! the ledger with the change between two holdings reads. The rules are the core's.

use crate::api::{ApiError, ApiResult};
use crate::auth::Authenticated;
use crate::providers::fan_out;
use crate::registry::port;
use crate::store::refresh::{self as cooldowns, Cooldown};
use crate::store::transactions as store;
use crate::store::{connections, db};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tributary_core::merge::Supply;
use tributary_core::provider_error::ProviderError;
use tributary_core::refresh::{refusal, RefreshDecision};
use tributary_core::time::Date;
use tributary_core::transactions::query::{Cursor, TransactionQuery};
use tributary_core::transactions::reconcile::{reconcile, Mismatch};
use tributary_core::transactions::sync::{sync_status, ScopeOutcome};
use tributary_core::transactions::{removed_by_read, transaction_routing, Transaction};
use tributary_core::{ErrorCode, InstitutionSlug, Provider};
use worker::{Env, Response};

/// Statements per D1 batch when a sync stores many rows.
const BATCH: usize = 200;

/// How one provider's sync went.
fn provider_report(provider: Provider, status: &str, stored: usize, removed: usize, error: Option<&ApiError>) -> Value {
    json!({
        "provider": provider, "status": status, "stored": stored, "removed": removed,
        "error": error.map(ApiError::failure),
    })
}

/// Syncs one provider for the session user: every scope its adapter read is stored; a complete
/// scope read removes what it no longer has in its window and moves the scope's sync mark; the
/// transactions pending flag is cleared only when every scope was read completely and no newer
/// announcement came in meanwhile (`seen_event`).
async fn sync_one(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
    seen_event: Option<String>,
) -> Result<Value, ApiError> {
    let user = &session.claims.user_id;
    let now = session.now();
    let today = Date::from_unix(now);
    let states = store::sync_states(env, user, provider).await?;
    let synced: BTreeMap<String, Date> =
        states.iter().filter_map(|(scope, state)| Some((scope.clone(), state.synced_through?))).collect();
    let reads = match port(provider).read_transactions(env, session, &synced, today).await {
        Ok(None) => return Ok(provider_report(provider, "not_supported", 0, 0, None)),
        Ok(Some(reads)) => reads,
        Err(error) if error.is_provider_failure() => {
            return Ok(provider_report(provider, "failed", 0, 0, Some(&error)))
        }
        Err(error) => return Err(error),
    };
    let not_ready = ProviderError::NotReady { provider }.code();
    let (mut stored, mut removed) = (0, 0);
    let mut outcomes = Vec::new();
    for read in &reads {
        let mut statements = store::upsert_statements(env, user, &read.scope, &read.transactions, now)?;
        stored += read.transactions.len();
        match &read.failure {
            None => {
                outcomes.push(ScopeOutcome::Complete);
                let before = store::scope_ids(env, user, provider, &read.scope, read.from, read.to).await?;
                let gone = removed_by_read(&before, &read.transactions, read.from, read.to);
                if !gone.is_empty() {
                    removed += gone.len();
                    statements.push(store::remove_statement(env, user, &gone)?);
                }
                statements.push(store::synced_statement(env, user, provider, &read.scope, read.to, now)?);
            }
            Some(error) => {
                let (outcome, status) = if error.code() == not_ready {
                    (ScopeOutcome::NotReady, "not_ready")
                } else {
                    (ScopeOutcome::Failed, "failed")
                };
                outcomes.push(outcome);
                let failure = error.failure();
                statements.push(store::failed_statement(
                    env,
                    user,
                    provider,
                    &read.scope,
                    status,
                    &failure.code,
                    &failure.message,
                    now,
                )?);
            }
        }
        // The scope's rows first, its mark last: a mark never says more than what is stored.
        let database = db(env)?;
        let chunks: Vec<Vec<_>> = statements.chunks(BATCH).map(<[_]>::to_vec).collect();
        for chunk in chunks {
            database.batch(chunk).await?;
        }
    }
    let status = sync_status(&outcomes, stored);
    if status == "ok" {
        store::clear_pending_statement(env, user, provider, seen_event.as_deref(), now)?.run().await?;
    }
    let first_failure = reads.iter().find_map(|r| r.failure.as_ref());
    Ok(provider_report(provider, status, stored, removed, first_failure))
}

/// The answer to a sync inside the cooldown: the holdings refresh's 429 and `Retry-After`.
fn cooling_down(retry_after_s: u64) -> ApiResult {
    let decision = RefreshDecision::CoolingDown { retry_after_s };
    let (status, retry_after, body) =
        refusal(&decision).ok_or_else(|| ApiError::internal("render sync refusal", "not a refusal"))?;
    let mut response =
        Response::from_json(&body).map_err(|e| ApiError::internal("serialise response", e))?.with_status(status);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .set("Retry-After", &seconds.to_string())
            .map_err(|e| ApiError::internal("set Retry-After", e))?;
    }
    Ok(response)
}

/// `POST /api/transactions/sync`: under the user's own sync cooldown (the refresh rule), syncs the
/// named providers (default: every connected one) in parallel; one provider's failure never fails
/// the others.
pub async fn sync(env: &Env, session: &Authenticated, providers: Option<Vec<Provider>>) -> ApiResult {
    let user = &session.claims.user_id;
    let policy = session.config.refresh;
    let now = session.now();
    if !cooldowns::claim(env, Cooldown::TransactionsSync, user, now, policy.cooldown_cutoff(now)).await? {
        let last = cooldowns::last_claimed(env, Cooldown::TransactionsSync, user).await?.unwrap_or(now);
        return cooling_down(policy.retry_after_s(last, session.now()).unwrap_or(1));
    }
    let (connected, flags) =
        futures_util::try_join!(connections::connected_providers(env, user), store::pending_flags(env, user))?;
    let chosen: Vec<Provider> = match providers {
        Some(named) => named,
        None => connected.clone(),
    };
    let runs = chosen.iter().map(|&provider| {
        let seen = flags.iter().find(|f| f.0 == provider).and_then(|f| f.2.clone());
        let connected = connected.contains(&provider);
        async move {
            if !connected {
                return Ok(provider_report(provider, "not_connected", 0, 0, None));
            }
            sync_one(env, session, provider, seen).await
        }
    });
    let results = fan_out(session.config.fanout, runs).await.into_iter().collect::<Result<Vec<Value>, ApiError>>()?;
    crate::api::json(200, &json!({ "results": results }))
}

/// One page of the ledger and how each provider's copies were routed.
pub struct LedgerPage {
    pub transactions: Vec<Transaction>,
    pub next_cursor: Option<String>,
    pub providers: Vec<Value>,
}

impl LedgerPage {
    /// The answer of `GET /api/transactions` (and the MCP `get_transactions` result) for `query`.
    pub fn body(&self, query: &TransactionQuery) -> Value {
        json!({
            "from": query.from, "to": query.to,
            "transactions": self.transactions, "next_cursor": self.next_cursor, "providers": self.providers,
        })
    }
}

/// The routing of the session user's stored transactions: which `(provider, institution)` copies
/// are left out because their institution's canonical provider can supply it, and one report
/// per provider (its sync state, what was routed away and kept fail-open).
async fn routing(
    env: &Env,
    session: &Authenticated,
) -> Result<(Vec<(Provider, InstitutionSlug)>, Vec<Value>), ApiError> {
    let user = &session.claims.user_id;
    let (sources, states, all_syncs) = futures_util::try_join!(
        store::sources(env, user),
        connections::provider_states(env, user),
        store::all_sync_states(env, user)
    )?;
    // Available by the merge's rule; a ledger has no cached fetch that failed or went stale.
    let available: Vec<Provider> = states
        .iter()
        .filter(|s| {
            let configured = session.config.provider(s.provider).is_some();
            Supply { configured, needs_repair: s.needing_repair > 0, ..Supply::default() }.is_available()
        })
        .map(|s| s.provider)
        .collect();
    let pairs: Vec<(Provider, InstitutionSlug)> =
        sources.iter().filter_map(|(p, slug, _)| slug.clone().map(|s| (*p, s))).collect();
    let decisions = transaction_routing(&pairs, &available);
    let skipped: Vec<(Provider, InstitutionSlug)> =
        decisions.iter().filter(|(_, d)| d.should_skip()).map(|(pair, _)| pair.clone()).collect();
    let mut reports = Vec::new();
    for provider in Provider::ALL {
        let sync: Vec<&store::SyncState> =
            all_syncs.iter().filter(|(p, _)| *p == provider).map(|(_, state)| state).collect();
        let routed_away: Vec<Value> = decisions
            .iter()
            .filter(|((p, _), d)| *p == provider && d.should_skip())
            .map(|((_, slug), d)| {
                let rows =
                    sources.iter().find(|(p, s, _)| *p == provider && s.as_ref() == Some(slug)).map_or(0, |s| s.2);
                json!({"institution": slug, "decision": d, "transactions": rows})
            })
            .collect();
        let fail_open: Vec<Value> = decisions
            .iter()
            .filter_map(|((p, slug), d)| match d {
                tributary_core::dedup::SkipDecision::KeepStandsIn { preferred }
                | tributary_core::dedup::SkipDecision::KeepCanonicalUnavailable { canonical: preferred }
                    if *p == provider =>
                {
                    Some(json!({"institution": slug, "preferred": preferred}))
                }
                _ => None,
            })
            .collect();
        let synced_at = sync.iter().filter_map(|s| s.synced_at).max();
        let failed: Vec<Value> = sync
            .iter()
            .filter(|s| s.status != "ok")
            .map(|s| json!({"scope": s.scope, "status": s.status, "code": s.error_code, "message": s.error_message, "at": s.attempted_at}))
            .collect();
        let status = if !states.iter().any(|s| s.provider == provider) {
            "not_connected"
        } else if sync.is_empty() {
            "never_synced"
        } else if failed.is_empty() {
            "ok"
        } else {
            "incomplete"
        };
        reports.push(json!({
            "provider": provider, "status": status, "last_synced_at": synced_at, "scopes": sync.len(),
            "problems": failed, "routed_away": routed_away, "fail_open": fail_open,
        }));
    }
    Ok((skipped, reports))
}

/// One page of the session user's ledger for `query` (deduplicated by the transactions routing).
pub async fn list(env: &Env, session: &Authenticated, query: &TransactionQuery) -> Result<LedgerPage, ApiError> {
    let (skipped, providers) = routing(env, session).await?;
    let mut rows = store::page(env, &session.claims.user_id, query, &skipped, query.limit + 1).await?;
    let next_cursor = if rows.len() > query.limit as usize {
        rows.truncate(query.limit as usize);
        rows.last().map(|last| Cursor { trade_date: last.trade_date, id: last.id.clone() }.encode())
    } else {
        None
    };
    Ok(LedgerPage { transactions: rows, next_cursor, providers })
}

/// Every row of the session user's ledger for `query` (its cursor and limit ignored), for CSV:
/// read page by page, at most `max_rows`.
pub async fn all(
    env: &Env,
    session: &Authenticated,
    query: &TransactionQuery,
    max_rows: usize,
) -> Result<Vec<Transaction>, ApiError> {
    let (skipped, _) = routing(env, session).await?;
    let mut page_query =
        TransactionQuery { cursor: None, limit: tributary_core::transactions::query::MAX_LIMIT, ..query.clone() };
    let mut out = Vec::new();
    while out.len() < max_rows {
        let rows = store::page(env, &session.claims.user_id, &page_query, &skipped, page_query.limit).await?;
        let done = rows.len() < page_query.limit as usize;
        page_query.cursor = rows.last().map(|last| Cursor { trade_date: last.trade_date, id: last.id.clone() });
        out.extend(rows);
        if done {
            break;
        }
    }
    out.truncate(max_rows);
    Ok(out)
}

/// Every mismatch between each provider's last two holdings reads and its ledger between them.
pub async fn reconciliation(env: &Env, session: &Authenticated) -> Result<Vec<Mismatch>, ApiError> {
    let user = &session.claims.user_id;
    let mut mismatches = Vec::new();
    for provider in Provider::ALL {
        let Some((earlier, later)) = store::quantity_snapshots(env, user, provider).await? else { continue };
        let (since, until) = (Date::from_unix(earlier.taken_at), Date::from_unix(later.taken_at));
        let rows = store::between(env, user, provider, since, until).await?;
        mismatches.extend(reconcile(provider, &earlier, &later, &rows));
    }
    Ok(mismatches)
}
