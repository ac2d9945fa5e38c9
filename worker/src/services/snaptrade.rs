//! The SnapTrade adapter: registration (secret sealed at rest), the connection portal, a complete
//! holdings fetch (every account's positions and balances, or an error), billed connection
//! refreshes, every account's activities for the ledger, and routing health from SnapTrade's
//! brokerage maintenance list.

use super::random_nonce;
use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::institutions::resolve;
use crate::port::{Connect, ConnectRequest, ProviderPort, ScopeRead};
use crate::providers::snaptrade::{SnapTradeClient, SnapTradeUser};
use crate::providers::{fan_out, fan_out_pair};
use crate::store::connections::{self, ConnectionRecord};
use crate::store::provider_users::{self, Registration};
use crate::store::KV;
use futures_util::future::LocalBoxFuture;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tributary_core::config::Fanout;
use tributary_core::coverage::ProviderState;
use tributary_core::provider_error::ProviderError;
use tributary_core::sealed::{open, seal};
use tributary_core::snaptrade::{
    broker_code, brokerages_in_maintenance, login_body, normalize_account, normalize_activities,
    normalize_authorizations, normalize_balances, normalize_positions, repaired_by_reconnect, PortalConnectionType,
};
use tributary_core::time::Date;
use tributary_core::transactions::sync::{next_offset, page_size, sync_window};
use tributary_core::url::encode_component;
use tributary_core::{Holdings, InstitutionSlug, Provider, ValidationError};
use worker::Env;

const P: Provider = Provider::SnapTrade;

/// The SnapTrade client for this deployment, or `provider_not_configured`.
pub fn client(session: &Authenticated) -> Result<SnapTradeClient<'_>, ApiError> {
    let config = session.config.provider(P).ok_or(ProviderError::NotConfigured { provider: P })?;
    Ok(SnapTradeClient::new(config, Duration::from_millis(session.config.provider_timeout_ms)))
}

/// The user's SnapTrade credentials, registering them first if needed. Returns whether this call created them.
pub async fn ensure_registered(env: &Env, session: &Authenticated) -> Result<(String, String, bool), ApiError> {
    let user = &session.claims.user_id;
    if let Some(found) = provider_users::get(env, user, P).await? {
        let secret = open(&session.config.data_key, &found.sealed, user, P)?;
        return Ok((found.provider_user_id, secret, false));
    }
    let (provider_user_id, secret) = client(session)?.register_user(user.as_str()).await?;
    crate::store::users::ensure(env, user, session.now()).await?;
    let sealed = seal(&session.config.data_key, random_nonce(), user, P, &secret);
    provider_users::insert(
        env,
        user,
        P,
        &Registration { provider_user_id: provider_user_id.clone(), sealed },
        session.now(),
    )
    .await?;
    // A concurrent registration may have won the insert: read back what is stored.
    let stored = provider_users::get(env, user, P)
        .await?
        .ok_or_else(|| ApiError::internal("snaptrade register", "row missing after insert"))?;
    let secret = open(&session.config.data_key, &stored.sealed, user, P)?;
    Ok((stored.provider_user_id, secret, true))
}

/// Fetches accounts, then every account's positions and balances (in parallel unless `fanout`
/// says sequential: two dependent round trips in all when parallel), normalised.
async fn fetch(
    client: &SnapTradeClient<'_>,
    user: &SnapTradeUser<'_>,
    now: i64,
    fanout: Fanout,
) -> Result<Holdings, ProviderError> {
    let raw_accounts = client.get(user, "/accounts", "accounts").await?;
    let rows = raw_accounts
        .as_array()
        .ok_or_else(|| ProviderError::Malformed { provider: P, detail: "accounts: expected a list".into() })?;
    let accounts = rows.iter().map(|row| normalize_account(row, &resolve)).collect::<Result<Vec<_>, _>>()?;
    let paths: Vec<(String, String)> = accounts
        .iter()
        .map(|a| {
            let id = encode_component(&a.account_id);
            (format!("/accounts/{id}/positions/all"), format!("/accounts/{id}/balances"))
        })
        .collect();
    let calls = paths.iter().map(|(positions, balances)| async move {
        let (p, b) =
            fan_out_pair(fanout, client.get(user, positions, "positions"), client.get(user, balances, "balances"))
                .await;
        Ok::<_, ProviderError>((p?, b?))
    });
    let answers = fan_out(fanout, calls).await;
    let mut holdings = Holdings { accounts: Vec::new(), positions: Vec::new(), balances: Vec::new() };
    for (account, answer) in accounts.into_iter().zip(answers) {
        let (positions, balances) = answer?;
        holdings.positions.extend(normalize_positions(&positions, &account, now)?);
        holdings.balances.extend(normalize_balances(&balances, &account, now)?);
        holdings.accounts.push(account);
    }
    Ok(holdings)
}

/// The SnapTrade adapter of the provider port.
pub struct SnapTradePort;

impl ProviderPort for SnapTradePort {
    fn provider(&self) -> Provider {
        P
    }

    fn fetch_holdings<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        now: i64,
    ) -> LocalBoxFuture<'a, Result<Holdings, ApiError>> {
        Box::pin(async move {
            let (user_id, secret, _) = ensure_registered(env, session).await?;
            let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
            Ok(fetch(&client(session)?, &credentials, now, session.config.fanout).await?)
        })
    }

    fn provider_refresh<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<(usize, Option<ApiError>), ApiError>> {
        Box::pin(provider_refresh(env, session))
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

    fn health<'a>(&'a self, env: &'a Env, session: &'a Authenticated) -> LocalBoxFuture<'a, ProviderState> {
        Box::pin(async move {
            let mut state = ProviderState::healthy();
            for slug in maintenance(env, session).await {
                state = state.with_maintenance(slug);
            }
            state
        })
    }

    fn trading(&self) -> Option<&dyn crate::port::TradingPort> {
        Some(&super::snaptrade_trading::SnapTradeTrading)
    }

    fn removes_connections(&self) -> bool {
        true
    }

    fn remove_connection<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        connection_external_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), ApiError>> {
        Box::pin(remove_connection(env, session, connection_external_id))
    }

    fn connect<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        request: ConnectRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<Connect, ApiError>> {
        Box::pin(async move {
            let connection_type =
                if request.need_trading { PortalConnectionType::Trade } else { PortalConnectionType::Read };
            let institution = request.institution.filter(|s| broker_code(s).is_some());
            let url = portal_url(env, session, institution, connection_type, None, request.redirect).await?;
            Ok(Connect::Flow(json!({ "kind": "snaptrade_portal", "url": url, "redirect_url": url })))
        })
    }
}

const MAINTENANCE_KEY: &str = "routing:snaptrade:maintenance";
const MAINTENANCE_TTL_S: u64 = 600;

/// Institutions SnapTrade reports in maintenance (its `/brokerages` list, cached in KV for ten
/// minutes); empty (fail-open) when it cannot be read.
async fn maintenance(env: &Env, session: &Authenticated) -> BTreeSet<InstitutionSlug> {
    let kv = env.kv(KV).ok();
    if let Some(kv) = &kv {
        if let Ok(Some(cached)) = kv.get(MAINTENANCE_KEY).text().await {
            if let Ok(slugs) = serde_json::from_str::<BTreeSet<InstitutionSlug>>(&cached) {
                return slugs;
            }
        }
    }
    let Ok(client) = client(session) else { return BTreeSet::new() };
    let slugs = match client.brokerages().await {
        Ok(list) => brokerages_in_maintenance(&list, &resolve),
        // The failed call is already logged by the client; routing proceeds on configuration alone.
        Err(_) => return BTreeSet::new(),
    };
    if let (Some(kv), Ok(text)) = (kv, serde_json::to_string(&slugs)) {
        if let Ok(put) = kv.put(MAINTENANCE_KEY, text) {
            let _ = put.expiration_ttl(MAINTENANCE_TTL_S).execute().await;
        }
    }
    slugs
}

/// Ends one of the user's SnapTrade connections (`DELETE /connection/{connectionId}`, sent once;
/// one SnapTrade no longer knows counts as ended), then deletes its stored rows in one batch. An
/// id that is not the user's is `provider_not_found` before any call; a refusal leaves every row.
async fn remove_connection(env: &Env, session: &Authenticated, authorization_id: &str) -> Result<(), ApiError> {
    let user = &session.claims.user_id;
    if !connections::belongs_to(env, user, P, authorization_id).await? {
        return Err(ProviderError::NotFound { provider: P, what: "that connection".into() }.into());
    }
    let (user_id, secret, _) = ensure_registered(env, session).await?;
    let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    match client(session)?.delete_connection(&credentials, authorization_id).await {
        Ok(()) | Err(ProviderError::NotFound { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    crate::store::db(env)?.batch(connections::remove_statements(env, user, P, authorization_id)?).await?;
    worker::console_log!(
        "{}",
        json!({"level": "info", "event": "snaptrade_connection_removed", "provider": "snaptrade"})
    );
    Ok(())
}

/// What a sync stored: the user's connections, and how many accounts and positions the read found.
pub struct Synced {
    pub connections: Vec<connections::ConnectionRow>,
    pub accounts: usize,
    pub positions: usize,
}

/// After the portal: stores the user's authorizations (clearing the repair flag of `reconnected`
/// only once SnapTrade lists it enabled), then reads and caches their holdings.
pub async fn sync_connections(
    env: &Env,
    session: &Authenticated,
    reconnected: Option<&str>,
) -> Result<Synced, ApiError> {
    let user = &session.claims.user_id;
    let (user_id, secret, _) = ensure_registered(env, session).await?;
    let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    let authorizations = client(session)?.get(&credentials, "/authorizations", "authorizations").await?;
    let list = normalize_authorizations(&authorizations, &resolve)?;
    let now = session.now();
    let mut statements = list
        .iter()
        .map(|auth| connections::upsert_statement(env, user, P, &ConnectionRecord::from(auth), now))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(id) = reconnected.filter(|id| repaired_by_reconnect(&list, id)) {
        statements.push(connections::repair_statement(env, user, P, id, false, None, now)?);
    }
    if !statements.is_empty() {
        crate::store::db(env)?.batch(statements).await?;
    }
    let now = session.now();
    let connections = connections::list(env, user, P).await?;
    let read = SnapTradePort.fetch_holdings(env, session, now).await;
    let fetched = super::cache::record(env, session, P, read, &connections, now).await?;
    Ok(Synced { connections, accounts: fetched.accounts.len(), positions: fetched.positions.len() })
}

/// The SnapTrade connection-portal URL for the session user (registering them first if needed):
/// preselecting `institution` when given, reconnecting `reconnect` only if it is the user's own.
pub async fn portal_url(
    env: &Env,
    session: &Authenticated,
    institution: Option<&InstitutionSlug>,
    connection_type: PortalConnectionType,
    reconnect: Option<&str>,
    redirect: &str,
) -> Result<String, ApiError> {
    let broker = institution
        .map(|slug| {
            broker_code(slug).ok_or(ValidationError::BadCharacters {
                field: "institution",
                allowed: "an institution SnapTrade serves",
            })
        })
        .transpose()?;
    if let Some(reconnect) = reconnect {
        if !connections::belongs_to(env, &session.claims.user_id, P, reconnect).await? {
            return Err(ProviderError::NotFound { provider: P, what: "that connection".into() }.into());
        }
    }
    let (user_id, secret, _) = ensure_registered(env, session).await?;
    let login = login_body(broker, connection_type, reconnect, redirect);
    Ok(client(session)?.login(&SnapTradeUser { user_id: &user_id, user_secret: &secret }, &login).await?)
}

/// Asks SnapTrade to refresh every connection of the user (one billed call each). Returns how
/// many billed calls succeeded, and the first failure if any (the rest are still attempted).
pub async fn provider_refresh(env: &Env, session: &Authenticated) -> Result<(usize, Option<ApiError>), ApiError> {
    let (user_id, secret, _) = ensure_registered(env, session).await?;
    let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    let client = client(session)?;
    let mut billed = 0;
    let mut first_error = None;
    for connection in connections::list(env, &session.claims.user_id, P).await? {
        match client.refresh_authorization(&credentials, &connection.external_id).await {
            Ok(_) => billed += 1,
            Err(error) => {
                first_error.get_or_insert(ApiError::from(error));
            }
        }
    }
    Ok((billed, first_error))
}

/// Reads one account's activities in `[from, to]`, page after page to the end (the core's
/// `next_offset`); a failed page ends the read with what came before it.
async fn read_account_activities(
    client: &SnapTradeClient<'_>,
    user: &SnapTradeUser<'_>,
    account: &tributary_core::Account,
    from: Date,
    to: Date,
) -> ScopeRead {
    let path = format!("/accounts/{}/activities", encode_component(&account.account_id));
    let (start, end, limit) = (from.to_string(), to.to_string(), page_size(P).to_string());
    let mut transactions = Vec::new();
    let (mut offset, mut pages) = (0u32, 0u32);
    let failure = loop {
        pages += 1;
        let at = offset.to_string();
        let params = [
            ("startDate", start.as_str()),
            ("endDate", end.as_str()),
            ("offset", at.as_str()),
            ("limit", limit.as_str()),
        ];
        let page = client
            .get_with(user, &path, &params, "activities")
            .await
            .and_then(|body| normalize_activities(&body, account));
        match page {
            Ok(page) => {
                let received = page.transactions.len();
                transactions.extend(page.transactions);
                match next_offset(offset, received, page.total, pages) {
                    Ok(Some(next)) => offset = next,
                    Ok(None) => break None,
                    Err(e) => break Some(ApiError::from(e)),
                }
            }
            Err(error) => break Some(ApiError::from(error)),
        }
    };
    ScopeRead { scope: account.account_id.clone(), from, to, transactions, failure }
}

/// Every SnapTrade account's activities for a sync (see `ProviderPort::read_transactions`); a
/// user SnapTrade never registered has nothing to read (and is not registered by a sync).
async fn read_transactions(
    env: &Env,
    session: &Authenticated,
    synced: &BTreeMap<String, Date>,
    today: Date,
) -> Result<Option<Vec<ScopeRead>>, ApiError> {
    if provider_users::get(env, &session.claims.user_id, P).await?.is_none() {
        return Ok(Some(Vec::new()));
    }
    let (user_id, secret, _) = ensure_registered(env, session).await?;
    let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    let client = client(session)?;
    let raw = client.get(&credentials, "/accounts", "accounts").await?;
    let rows = raw
        .as_array()
        .ok_or_else(|| ProviderError::Malformed { provider: P, detail: "accounts: expected a list".into() })?;
    let accounts = rows.iter().map(|row| normalize_account(row, &resolve)).collect::<Result<Vec<_>, _>>()?;
    let reads = accounts.iter().map(|account| {
        let (from, to) = sync_window(P, synced.get(&account.account_id).copied(), today);
        read_account_activities(&client, &credentials, account, from, to)
    });
    Ok(Some(fan_out(session.config.fanout, reads).await))
}
