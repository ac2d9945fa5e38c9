//! Carrying out `POST /api/holdings/refresh`: gather the state the core's refresh policy needs,
//! let it decide, claim the user's cooldown atomically, then refresh the planned providers in
//! parallel (one after another when `REFRESH_FANOUT=sequential`). One provider's failure never
//! fails the others; each provider's pending flag is cleared only after its own successful
//! refresh; every refresh and billed call is logged.

use crate::api::{json, log_failure, ApiError, ApiResult};
use crate::auth::Authenticated;
use crate::providers::fan_out;
use crate::services::holdings::fetch_and_cache;
use crate::store::refresh::{self as log_store, LogEntry};
use crate::store::{connections, pending};
use serde::Deserialize;
use serde_json::{json, Value};
use tributary_core::capabilities::provider_refresh_cost;
use tributary_core::refresh::{
    refusal, PlannedRefresh, ProviderRefreshState, RefreshDecision, RefreshMode, RefreshRequest, RefreshTrigger,
    UserRefreshState,
};
use tributary_core::Provider;
use worker::{Env, Response};

/// The request body; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    #[serde(default)]
    providers: Option<Vec<String>>,
    #[serde(default)]
    confirm_cost: bool,
}

fn with_status(body: &Value, status: u16, retry_after_s: Option<u64>) -> ApiResult {
    let mut response =
        Response::from_json(body).map_err(|e| ApiError::internal("serialise response", e))?.with_status(status);
    if let Some(seconds) = retry_after_s {
        response
            .headers_mut()
            .set("Retry-After", &seconds.to_string())
            .map_err(|e| ApiError::internal("set Retry-After", e))?;
    }
    Ok(response)
}

/// The answer to a refresh the core's policy refused (429 cooling down or throttled, 402 cost capped), with
/// the body and `Retry-After` the core decides.
fn refused(decision: &RefreshDecision) -> ApiResult {
    let (status, retry_after_s, body) =
        refusal(decision).ok_or_else(|| ApiError::internal("render refresh refusal", "not a refusal"))?;
    let body = serde_json::to_value(&body).map_err(|e| ApiError::internal("serialise response", e))?;
    with_status(&body, status, retry_after_s)
}

/// What a refresh request came to: refused by the policy (with the decision saying why and when
/// it is next allowed), or carried out (`nothing_pending` or `allowed` with each provider's result).
pub enum RefreshOutcome {
    Refused(RefreshDecision),
    Done(Value),
}

/// Runs the refresh policy for the session user and carries out its decision (`POST
/// /api/holdings/refresh`): the answer rendered from [`refresh_outcome`].
pub async fn refresh(env: &Env, session: &Authenticated, body: RefreshBody) -> ApiResult {
    let providers = body
        .providers
        .map(|names| names.iter().map(|n| Provider::parse(n)).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let request = RefreshRequest { providers, confirm_cost: body.confirm_cost, trigger: RefreshTrigger::Manual };
    match refresh_outcome(env, session, request).await? {
        RefreshOutcome::Refused(decision) => refused(&decision),
        RefreshOutcome::Done(body) => json(200, &body),
    }
}

/// Runs the refresh policy for `request` and carries out its decision: the one path every
/// manual refresh (the API's, an assistant's) takes.
pub async fn refresh_outcome(
    env: &Env,
    session: &Authenticated,
    request: RefreshRequest,
) -> Result<RefreshOutcome, ApiError> {
    let user = &session.claims.user_id;
    let (connected, flags, history, last) = futures_util::try_join!(
        connections::connected_providers(env, user),
        pending::flags(env, user),
        log_store::history(env, user),
        log_store::last_refresh_at(env, user),
    )?;
    let requested = futures_util::future::try_join_all(
        connected.iter().map(|&provider| crate::registry::port(provider).last_data_request(env, session)),
    )
    .await?;
    let state = UserRefreshState {
        last_refresh_at: last,
        providers: connected
            .iter()
            .zip(requested)
            .map(|(&provider, last_requested_at)| {
                let past = history.iter().find(|h| h.provider == provider.as_str());
                ProviderRefreshState {
                    provider,
                    connected: true,
                    pending: flags.iter().any(|f| f.provider == provider && f.pending),
                    last_refresh_at: past.and_then(|h| h.last_refresh_at),
                    last_billed_refresh_at: past.and_then(|h| h.last_billed_at),
                    refresh_cost: provider_refresh_cost(provider),
                    last_requested_at,
                }
            })
            .collect(),
    };
    let policy = session.config.refresh;
    let now = session.now();
    match policy.decide(&request, &state, now)? {
        refusal @ (RefreshDecision::CoolingDown { .. }
        | RefreshDecision::CostCapped { .. }
        | RefreshDecision::Throttled { .. }) => Ok(RefreshOutcome::Refused(refusal)),
        RefreshDecision::NothingPending => {
            Ok(RefreshOutcome::Done(json!({ "decision": "nothing_pending", "results": [] })))
        }
        RefreshDecision::Allowed { plan } => {
            if !log_store::claim_cooldown(env, user, now, policy.cooldown_cutoff(now)).await? {
                // Another request (perhaps in another isolate) claimed the cooldown first.
                let last = log_store::last_refresh_at(env, user).await?.unwrap_or(now);
                let retry_after_s = policy.retry_after_s(last, session.now()).unwrap_or(1);
                return Ok(RefreshOutcome::Refused(RefreshDecision::CoolingDown { retry_after_s }));
            }
            let runs = plan.iter().map(|planned| {
                let seen = flags.iter().find(|f| f.provider == planned.provider).and_then(|f| f.last_event_id.clone());
                run_one(env, session, *planned, seen)
            });
            let results: Vec<Value> = fan_out(session.config.fanout, runs).await;
            Ok(RefreshOutcome::Done(json!({ "decision": "allowed", "results": results })))
        }
    }
}

fn failure(provider: Provider, planned: &PlannedRefresh, error: &ApiError) -> Value {
    json!({"provider": provider, "status": "failed", "mode": planned.mode, "billed": planned.billed, "error": error.failure()})
}

/// Refreshes one provider as planned and reports it; never fails the whole request.
async fn run_one(env: &Env, session: &Authenticated, planned: PlannedRefresh, seen_event: Option<String>) -> Value {
    let (user, provider, started) = (&session.claims.user_id, planned.provider, session.now());
    let trigger = planned.trigger().as_str();
    let entry = |operation, billed, status, error_code| LogEntry {
        provider,
        trigger,
        billed,
        operation,
        status,
        error_code,
        started_at: started,
        finished_at: session.now(),
    };
    let log = |entry: LogEntry<'static>| async move {
        if let Err(e) = log_store::log(env, user, &entry).await {
            // The refresh itself stands; the missing log line is reported.
            log_failure("refresh log", e);
        }
    };
    if planned.mode == RefreshMode::ProviderRefresh {
        let asked = crate::registry::port(provider).provider_refresh(env, session).await;
        let (billed_calls, error) = match asked {
            Ok(answer) => answer,
            Err(error) => (0, Some(error)),
        };
        for _ in 0..billed_calls {
            log(entry("provider_refresh", planned.billed, "ok", None)).await;
        }
        if let Some(error) = error {
            log(entry("provider_refresh", false, "failed", Some(error.code()))).await;
            return failure(provider, &planned, &error);
        }
    }
    match fetch_and_cache(env, session, provider).await {
        Ok((holdings, fetched_at)) => {
            let clear = pending::clear(env, user, provider, seen_event.as_deref(), session.now());
            let (cleared, ()) = futures_util::future::join(clear, log(entry("holdings", false, "ok", None))).await;
            if let Err(e) = cleared {
                log_failure("clear pending flag", e);
            }
            json!({
                "provider": provider, "status": "ok", "mode": planned.mode, "billed": planned.billed,
                "last_updated": fetched_at, "accounts": holdings.accounts.len(), "positions": holdings.positions.len(),
            })
        }
        Err(error) => {
            log(entry("holdings", false, "failed", Some(error.code()))).await;
            failure(provider, &planned, &error)
        }
    }
}
