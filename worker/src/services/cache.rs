//! Writing one provider's holdings cache, shared by every path that read a provider completely:
//! a complete read replaces the cached rows in one batch (each account's capabilities derived at
//! import by the core); a failed read only records its failure and leaves every cached row as it
//! was — and so does a *suspect empty*, a complete read that answers no positions for an account
//! that had some, which the core's [`tributary_core::empty_read`] refuses (`suspect_empty`). No
//! provider is called here.

use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::store::connections::ConnectionRow;
use crate::store::holdings::{self, SnapshotStatus, StoredCapabilities};
use std::collections::HashMap;
use tributary_core::capabilities::{capabilities_for, ConnectionType};
use tributary_core::coverage::CoverageMap;
use tributary_core::empty_read::{judge_read, read_could_be_suspect, EmptyReadVerdict, SUSPECT_EMPTY_CODE};
use tributary_core::provider_error::ProviderError;
use tributary_core::{Account, Holdings, Provider, UserId};
use worker::Env;

/// Capabilities of an account at import, from the core's rule: its provider, the institution's
/// coverage and the type of the connection it came through (read when unknown).
fn capabilities(account: &Account, connection_types: &HashMap<&str, ConnectionType>) -> StoredCapabilities {
    let connection_type = account
        .connection_id
        .as_deref()
        .and_then(|id| connection_types.get(id))
        .copied()
        .unwrap_or(ConnectionType::Read);
    let rule = account.institution.as_ref().and_then(|slug| CoverageMap::embedded().rule(slug));
    let caps = capabilities_for(account.provider, rule, connection_type);
    StoredCapabilities { trading: caps.trading, realtime: caps.realtime, refresh_cost: caps.refresh_cost.as_str() }
}

/// The `suspect_empty` failure when the core refuses `fetched` as a silent empty of the user's
/// cache at `provider` (the cache is read only when the read could be one).
async fn suspect_empty(
    env: &Env,
    user: &UserId,
    provider: Provider,
    fetched: &Holdings,
) -> Result<Option<ApiError>, ApiError> {
    if !read_could_be_suspect(fetched) {
        return Ok(None);
    }
    let (cached, snapshot) = futures_util::try_join!(
        holdings::cached_accounts(env, user, provider),
        holdings::snapshot(env, user, provider)
    )?;
    let previous_read_suspect = snapshot
        .is_some_and(|s| s.status == SnapshotStatus::Failed && s.error_code.as_deref() == Some(SUSPECT_EMPTY_CODE));
    Ok(match judge_read(&cached, fetched, previous_read_suspect) {
        EmptyReadVerdict::Accept => None,
        EmptyReadVerdict::Suspect { accounts } => Some(ProviderError::SuspectEmpty { provider, accounts }.into()),
    })
}

/// Caches the outcome of reading `provider` at `now`: a complete read replaces its cache (and is
/// returned); a failure — or a complete read the core judges a suspect empty — is recorded beside
/// the untouched cache (and returned); data still being prepared records nothing. `stored` are the
/// user's connections at the provider, which type each account's capabilities.
pub async fn record(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
    read: Result<Holdings, ApiError>,
    stored: &[ConnectionRow],
    now: i64,
) -> Result<Holdings, ApiError> {
    let user = &session.claims.user_id;
    let fetched = match read {
        Ok(fetched) => fetched,
        // Data still being prepared (a Flex statement IBKR is generating) is not a failed fetch:
        // the cached rows stay as they are, still canonical.
        Err(error) if error.is_pending() => return Err(error),
        Err(error) => {
            let failure = error.failure();
            holdings::record_failure(env, user, provider, &failure.code, &failure.message, now).await?;
            return Err(error);
        }
    };
    if stored.is_empty() && fetched.accounts.is_empty() {
        // Nothing linked: nothing to cache for a user the provider has never seen.
        return Ok(fetched);
    }
    if let Some(error) = suspect_empty(env, user, provider, &fetched).await? {
        let failure = error.failure();
        holdings::record_failure(env, user, provider, &failure.code, &failure.message, now).await?;
        return Err(error);
    }
    let ids: Vec<&str> = fetched.accounts.iter().map(|a| a.account_id.as_str()).collect();
    if holdings::linked_elsewhere(env, user, provider, &ids).await? {
        // Another user's cached account is never repointed to this one (nor deleted with it).
        let error: ApiError = ProviderError::AccountLinkedElsewhere { provider }.into();
        let failure = error.failure();
        holdings::record_failure(env, user, provider, &failure.code, &failure.message, now).await?;
        return Err(error);
    }
    let types: HashMap<&str, ConnectionType> =
        stored.iter().map(|c| (c.external_id.as_str(), c.connection_type)).collect();
    holdings::replace(env, user, provider, &fetched, &|a: &Account| capabilities(a, &types), now).await?;
    Ok(fetched)
}
