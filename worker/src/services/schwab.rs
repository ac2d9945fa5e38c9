//! The Schwab direct adapter: the OAuth authorize/callback flow (single-use, user-bound, 10-minute
//! `state`; the code decoded once; tokens sealed in D1), the token lifecycle (the access token
//! refreshed with five minutes left by ONE request of a concurrent burst, a 401 refreshed and
//! retried once, a dead refresh token marking the connection `needs_repair` with
//! `schwab_reauth_required` while cached holdings stay), and the holdings read through the
//! account-hash indirection. Every rule is the core's (`tributary_core::schwab`).

use super::random_nonce;
use crate::api::{now_unix, ApiError};
use crate::auth::Authenticated;
use crate::clock::real_now_unix;
use crate::port::{Connect, ConnectRequest, ProviderPort, ScopeRead};
use crate::providers::fan_out_pair;
use crate::providers::schwab::SchwabClient;
use crate::store::connections::{self, ConnectionRecord, ConnectionRow};
use crate::store::oauth::{self, Grant};
use futures_util::future::LocalBoxFuture;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use tributary_core::capabilities::ConnectionType;
use tributary_core::provider_error::ProviderError;
use tributary_core::schwab::transactions::{normalize_transactions, request_params, request_windows, split_if_full};
use tributary_core::schwab::{
    code_grant_body, decode_code, expires_soon, is_well_formed_state, new_grant_times, normalize_accounts,
    parse_account_numbers, refresh_grant_body, refreshed_times, state_expired, state_from_bytes, GrantTimes,
    OAuthError, TokenStep, SCHWAB_INSTITUTION,
};
use tributary_core::sealed::{open, seal};
use tributary_core::time::Date;
use tributary_core::transactions::sync::{sync_window, PagingError, MAX_PAGES};
use tributary_core::url::encode_component;
use tributary_core::{Account, ErrorCode, Holdings, Provider};
use worker::{Delay, Env};

const P: Provider = Provider::Schwab;
/// How long one request may hold the refresh lease (worker clock) before others may take it.
const REFRESH_LEASE_S: i64 = 30;
/// How often, and how many times, a request waiting for another's refresh looks again: for longer
/// than the lease lasts, so a holder that is slow (or gone) is outlasted and its lease taken over
/// rather than the waiter giving up.
const LEASE_POLL: Duration = Duration::from_millis(100);
const LEASE_POLLS: u32 = 2 * (REFRESH_LEASE_S as u32) * 10;

/// The Schwab client for this deployment, or `provider_not_configured`.
pub fn client(session: &Authenticated) -> Result<SchwabClient<'_>, ApiError> {
    let config = session.config.provider(P).ok_or(ProviderError::NotConfigured { provider: P })?;
    Ok(SchwabClient::new(config, Duration::from_millis(session.config.provider_timeout_ms)))
}

fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the runtime provides crypto.getRandomValues");
    bytes
}

/// Starts the authorize flow for the session user: a fresh single-use `state` remembered with
/// `redirect` (where the app wants the person afterwards); returns Schwab's consent URL.
pub async fn authorize(env: &Env, session: &Authenticated, redirect: &str) -> Result<String, ApiError> {
    let client = client(session)?;
    let user = &session.claims.user_id;
    crate::store::users::ensure(env, user, session.now()).await?;
    let state = state_from_bytes(&random_bytes());
    oauth::insert_state(env, &state, user, P, redirect, now_unix()).await?;
    Ok(client.authorize_url(&state))
}

/// A completed callback: the stored connection and what its first read found.
pub struct Connected {
    pub connection: Option<ConnectionRow>,
    pub accounts: usize,
    pub positions: usize,
    /// Where the app asked to return the person.
    pub redirect: String,
}

/// Completes the flow: consumes the user's `state` (another user's, a replayed or an expired one
/// is refused), exchanges the decoded `code`, reads the accounts with the new token, and only
/// then stores the sealed grant, the connection (repaired, if it needed repair) and the holdings.
/// Nothing is stored when any step fails.
pub async fn callback(env: &Env, session: &Authenticated, code: &str, state: &str) -> Result<Connected, ApiError> {
    let client = client(session)?;
    let user = &session.claims.user_id;
    let code = decode_code(code)?;
    if !is_well_formed_state(state) {
        return Err(OAuthError::StateInvalid.into());
    }
    let taken = oauth::take_state(env, state, user, P).await?.ok_or(OAuthError::StateInvalid)?;
    if state_expired(taken.created_at, now_unix()) {
        return Err(OAuthError::StateExpired.into());
    }
    let grant = match client.token(code_grant_body(&code, client.redirect_url()), false).await {
        Ok(grant) => grant,
        Err(ProviderError::Rejected { detail, .. }) => return Err(OAuthError::CodeRejected { detail }.into()),
        Err(other) => return Err(other.into()),
    };
    let refresh_token = grant.refresh_token.clone().ok_or_else(|| ProviderError::Malformed {
        provider: P,
        detail: "token: the code grant returned no refresh_token".into(),
    })?;
    let now = session.now();
    // A reconnect keeps its connection (and so its accounts' ids); a first login gets a new one.
    let connection_id = match oauth::grant(env, user, P).await? {
        Some(existing) => existing.connection_id,
        None => format!("schwab-{}", &state_from_bytes(&random_bytes())[..24]),
    };
    let holdings = read(&client, &grant.access_token, &connection_id, now).await?;
    let times = new_grant_times(now, grant.expires_in_s);
    let key = &session.config.data_key;
    let stored = Grant {
        connection_id: connection_id.clone(),
        access: seal(key, random_nonce(), user, P, &grant.access_token),
        refresh: seal(key, random_nonce(), user, P, &refresh_token),
        access_expires_at: times.access_expires_at,
        login_at: times.login_at,
        reauth_required_at: times.reauth_required_at,
    };
    let record = ConnectionRecord {
        external_id: connection_id.clone(),
        institution_slug: Some(SCHWAB_INSTITUTION.to_owned()),
        institution_name: Some("Charles Schwab".to_owned()),
        // An app registered for "Accounts and Trading" gets one grant for both: the connection
        // can trade (within the app's order limit).
        connection_type: ConnectionType::Trade.as_str(),
        disabled: false,
        disabled_date: None,
    };
    crate::store::db(env)?
        .batch(vec![
            oauth::upsert_statement(env, user, P, &stored, now)?,
            connections::upsert_statement(env, user, P, &record, now)?,
            connections::repair_statement(env, user, P, &connection_id, false, None, now)?,
        ])
        .await?;
    let stored = connections::list(env, user, P).await?;
    let holdings = super::cache::record(env, session, P, Ok(holdings), &stored, now).await?;
    let connection = stored.into_iter().find(|c| c.external_id == connection_id);
    Ok(Connected {
        connection,
        accounts: holdings.accounts.len(),
        positions: holdings.positions.len(),
        redirect: taken.redirect,
    })
}

/// Reads accountNumbers and accounts (at once: they are independent) and normalises them.
async fn read(
    client: &SchwabClient<'_>,
    token: &str,
    connection_id: &str,
    now: i64,
) -> Result<Holdings, ProviderError> {
    let (numbers, accounts) = fan_out_pair(
        tributary_core::config::Fanout::Parallel,
        client.get("/accounts/accountNumbers", token, "account_numbers"),
        client.get("/accounts?fields=positions", token, "accounts"),
    )
    .await;
    let numbers = parse_account_numbers(&numbers?)?;
    normalize_accounts(&accounts?, &numbers, connection_id, now)
}

fn times(grant: &Grant) -> GrantTimes {
    GrantTimes {
        access_expires_at: grant.access_expires_at,
        login_at: grant.login_at,
        reauth_required_at: grant.reauth_required_at,
    }
}

/// Marks the connection as needing a new login (the cached holdings are left as they are).
async fn require_reauth(env: &Env, session: &Authenticated, grant: &Grant) -> ApiError {
    let error = ProviderError::ReauthRequired { provider: P };
    let user = &session.claims.user_id;
    let marked =
        connections::repair_statement(env, user, P, &grant.connection_id, true, Some(error.code()), session.now());
    if let Err(e) = async { marked?.run().await }.await {
        crate::api::log_failure("mark schwab connection for repair", e);
    }
    error.into()
}

/// An access token usable now, with the grant's connection id and the token's expiry; `None`
/// when the user has no Schwab grant. `spent` names an access token (by its expiry) that Schwab
/// just refused: it is refreshed even if its clock says otherwise. Of concurrent requests that
/// need a refresh, one takes the lease and refreshes; the others wait for its result.
pub(crate) async fn usable_token(
    env: &Env,
    session: &Authenticated,
    client: &SchwabClient<'_>,
    spent: Option<i64>,
) -> Result<Option<(String, String, i64)>, ApiError> {
    let (user, key) = (&session.claims.user_id, &session.config.data_key);
    for _ in 0..LEASE_POLLS {
        let Some(grant) = oauth::grant(env, user, P).await? else { return Ok(None) };
        match times(&grant).step(session.now(), spent) {
            TokenStep::Use => {
                let token = open(key, &grant.access, user, P)?;
                return Ok(Some((token, grant.connection_id, grant.access_expires_at)));
            }
            TokenStep::Reauth => return Err(require_reauth(env, session, &grant).await),
            TokenStep::Refresh => {
                let real = real_now_unix();
                if oauth::claim_refresh(env, user, P, grant.access_expires_at, real, real + REFRESH_LEASE_S).await? {
                    return refresh(env, session, client, &grant).await.map(Some);
                }
                // Another request holds the lease: look again once it has had a moment.
                Delay::from(LEASE_POLL).await;
            }
        }
    }
    Err(ProviderError::NotReady { provider: P }.into())
}

/// Refreshes the access token under the lease this request holds, and stores the result.
async fn refresh(
    env: &Env,
    session: &Authenticated,
    client: &SchwabClient<'_>,
    grant: &Grant,
) -> Result<(String, String, i64), ApiError> {
    let (user, key) = (&session.claims.user_id, &session.config.data_key);
    let refresh_token = open(key, &grant.refresh, user, P)?;
    match client.token(refresh_grant_body(&refresh_token), true).await {
        Ok(answer) => {
            let now = session.now();
            let next = refreshed_times(&times(grant), now, answer.expires_in_s);
            let kept = answer.refresh_token.unwrap_or(refresh_token);
            let access = seal(key, random_nonce(), user, P, &answer.access_token);
            let refresh = seal(key, random_nonce(), user, P, &kept);
            oauth::store_refreshed(env, user, P, &access, &refresh, next.access_expires_at, now).await?;
            Ok((answer.access_token, grant.connection_id.clone(), next.access_expires_at))
        }
        Err(ProviderError::ReauthRequired { .. }) => {
            // Dead for everyone: the deadline moves to now so no waiting request tries again.
            if let Err(e) = oauth::expire_login(env, user, P, session.now()).await {
                crate::api::log_failure("expire schwab login", e);
            }
            Err(require_reauth(env, session, grant).await)
        }
        Err(other) => {
            if let Err(e) = oauth::release_refresh(env, user, P).await {
                crate::api::log_failure("release schwab refresh lease", e);
            }
            Err(other.into())
        }
    }
}

/// The session user's Schwab connections, each with its re-login deadline and whether it is
/// within 48 hours of it.
pub async fn connections_with_expiry(env: &Env, session: &Authenticated) -> Result<Vec<serde_json::Value>, ApiError> {
    let user = &session.claims.user_id;
    let (rows, grant) = futures_util::try_join!(connections::list(env, user, P), oauth::grant(env, user, P))?;
    let now = session.now();
    rows.into_iter()
        .map(|row| {
            let deadline = grant.as_ref().filter(|g| g.connection_id == row.external_id).map(|g| g.reauth_required_at);
            let mut value = serde_json::to_value(&row).map_err(|e| ApiError::internal("serialise connection", e))?;
            value["reauth_required_at"] = json!(deadline);
            value["expires_soon"] = json!(deadline.is_some_and(|d| expires_soon(d, now)));
            Ok(value)
        })
        .collect()
}

/// The session user's holdings read with a usable token (refreshed once if Schwab refuses it
/// early), with that token: `None` when the user has no Schwab grant.
async fn read_with_token(
    env: &Env,
    session: &Authenticated,
    client: &SchwabClient<'_>,
    now: i64,
) -> Result<Option<(Holdings, String)>, ApiError> {
    let Some((token, connection_id, expires_at)) = usable_token(env, session, client, None).await? else {
        return Ok(None);
    };
    match read(client, &token, &connection_id, now).await {
        // The token was refused early (revoked, or clocks disagree): refresh once, retry once.
        Err(ProviderError::Auth { .. }) => {
            let Some((token, connection_id, _)) = usable_token(env, session, client, Some(expires_at)).await? else {
                return Ok(None);
            };
            Ok(Some((read(client, &token, &connection_id, now).await?, token)))
        }
        other => Ok(Some((other?, token))),
    }
}

/// Reads one account's transactions in `[from, to]`: Schwab's windows of at most a year (the
/// core's `request_windows`), each window that came back full (3,000 rows, maybe truncated)
/// split in two and read again, at most `MAX_PAGES` calls; a failed call ends the read with what
/// came before it.
async fn read_account_transactions(
    client: &SchwabClient<'_>,
    token: &str,
    account: &Account,
    from: Date,
    to: Date,
) -> ScopeRead {
    let path = format!("/accounts/{}/transactions", encode_component(&account.account_id));
    let mut pending: Vec<(Date, Date)> = request_windows(from, to);
    let mut transactions = Vec::new();
    let mut calls = 0u32;
    let failure = loop {
        let Some((start, end)) = pending.pop() else { break None };
        if calls >= MAX_PAGES {
            break Some(ApiError::from(PagingError::TooManyPages));
        }
        calls += 1;
        let query: Vec<String> =
            request_params(start, end).iter().map(|(k, v)| format!("{k}={}", encode_component(v))).collect();
        let read = client.get(&format!("{path}?{}", query.join("&")), token, "transactions").await.and_then(|body| {
            // Full is what Schwab sent (rows it marked invalid included), not what was kept.
            let (sent, rows) = normalize_transactions(&body, account)?;
            Ok((split_if_full(start, end, sent)?, rows))
        });
        match read {
            Ok((Some((older, newer)), _)) => {
                pending.push(older);
                pending.push(newer);
            }
            Ok((None, rows)) => transactions.extend(rows),
            Err(error) => break Some(ApiError::from(error)),
        }
    };
    ScopeRead { scope: account.account_id.clone(), from, to, transactions, failure }
}

/// Every Schwab account's transactions for a sync (see `ProviderPort::read_transactions`); a
/// user with no Schwab grant has nothing to read.
async fn read_transactions(
    env: &Env,
    session: &Authenticated,
    synced: &BTreeMap<String, Date>,
    today: Date,
) -> Result<Option<Vec<ScopeRead>>, ApiError> {
    let client = client(session)?;
    let Some((holdings, token)) = read_with_token(env, session, &client, session.now()).await? else {
        return Ok(Some(Vec::new()));
    };
    let reads = holdings.accounts.iter().map(|account| {
        let (from, to) = sync_window(P, synced.get(&account.account_id).copied(), today);
        read_account_transactions(&client, &token, account, from, to)
    });
    Ok(Some(crate::providers::fan_out(session.config.fanout, reads).await))
}

/// The Schwab direct adapter of the provider port. Every read is live from Schwab's books, so it
/// keeps the port's default `provider_refresh` (no separate refresh call).
pub struct SchwabPort;

impl ProviderPort for SchwabPort {
    fn provider(&self) -> Provider {
        P
    }

    fn trading(&self) -> Option<&dyn crate::port::TradingPort> {
        Some(&super::schwab_trading::SchwabTrading)
    }

    fn fetch_holdings<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        now: i64,
    ) -> LocalBoxFuture<'a, Result<Holdings, ApiError>> {
        Box::pin(async move {
            let client = client(session)?;
            Ok(read_with_token(env, session, &client, now).await?.map(|(holdings, _)| holdings).unwrap_or_default())
        })
    }

    fn read_transactions<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        synced: &'a BTreeMap<String, Date>,
        today: Date,
    ) -> LocalBoxFuture<'a, Result<Option<Vec<ScopeRead>>, ApiError>> {
        Box::pin(read_transactions(env, session, synced, today))
    }

    fn connect<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        request: ConnectRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<Connect, ApiError>> {
        Box::pin(async move {
            let url = authorize(env, session, request.redirect).await?;
            Ok(Connect::Flow(json!({ "kind": "schwab_oauth", "url": url, "authorize_url": url })))
        })
    }
}
