//! SnapTrade flows: registration (secret sealed at rest), and a complete holdings fetch that
//! replaces the cache in one batch only when every account's positions and balances arrived.

use super::random_nonce;
use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::institutions::resolve;
use crate::providers::snaptrade::{SnapTradeClient, SnapTradeUser};
use crate::providers::{fan_out, fan_out_pair};
use crate::store::connections;
use crate::store::holdings::{self, StoredCapabilities};
use crate::store::provider_users::{self, Registration};
use std::collections::HashMap;
use std::time::Duration;
use tributary_core::capabilities::{capabilities_for, ConnectionType};
use tributary_core::config::Fanout;
use tributary_core::coverage::CoverageMap;
use tributary_core::provider_error::ProviderError;
use tributary_core::sealed::{open, seal};
use tributary_core::snaptrade::{
    broker_code, login_body, normalize_account, normalize_balances, normalize_positions, PortalConnectionType,
};
use tributary_core::url::encode_component;
use tributary_core::{Account, Holdings, InstitutionSlug, Provider, ValidationError};
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

/// Capabilities of an account at import, from the core's rule: provider, coverage, connection type.
fn capabilities(account: &Account, connection_types: &HashMap<String, String>) -> StoredCapabilities {
    let connection_type = account
        .connection_id
        .as_ref()
        .and_then(|id| connection_types.get(id))
        .and_then(|t| ConnectionType::parse(t).ok())
        .unwrap_or(ConnectionType::Read);
    let rule = account.institution.as_ref().and_then(|slug| CoverageMap::embedded().rule(slug));
    let caps = capabilities_for(account.provider, rule, connection_type);
    StoredCapabilities { trading: caps.trading, realtime: caps.realtime, refresh_cost: caps.refresh_cost.as_str() }
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

/// Fetches the user's SnapTrade holdings and replaces the cache; on failure records it and
/// leaves every cached row as it was.
pub async fn refresh_cache(env: &Env, session: &Authenticated) -> Result<(Holdings, i64), ApiError> {
    let user = &session.claims.user_id;
    let (user_id, secret, _) = ensure_registered(env, session).await?;
    let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    let now = session.now();
    let client = client(session)?;
    // The stored connection types are read while the provider answers (no extra round trip).
    let (fetched, stored) = futures_util::future::join(
        fetch(&client, &credentials, now, session.config.fanout),
        connections::list(env, user, P),
    )
    .await;
    match fetched {
        Ok(fetched) => {
            let connection_types: HashMap<String, String> =
                stored?.into_iter().map(|c| (c.external_id, c.connection_type)).collect();
            holdings::replace(env, user, P, &fetched, &|a: &Account| capabilities(a, &connection_types), now).await?;
            Ok((fetched, now))
        }
        Err(error) => {
            holdings::record_failure(env, user, P, tributary_core::ErrorCode::code(&error), &error.to_string(), now)
                .await?;
            Err(error.into())
        }
    }
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
