//! Repairing one of the user's Plaid Items in place with Link's update mode (the core's
//! [`tributary_core::plaid`] repair rules): an update-mode Hosted Link session for the Item, then,
//! once the popup returns, `/item/get` as the authoritative check. Nothing is exchanged — the
//! Item's access token does not change — and no Item is created. A healthy Item has its
//! connection's `needs_repair` cleared and its holdings read again through the shared path; an
//! Item Plaid still reports an error on keeps its flag.
//!
//! Only the session user's Items are touched: any other id is `provider_not_found`, with nothing
//! about whose it is. The access token goes to Plaid only, never to a log or an answer.

use super::plaid::{access_token, client, PlaidLink, PlaidPort};
use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::port::ProviderPort;
use crate::store::connections;
use crate::store::items::{self, ItemRow};
use tributary_core::plaid::{client_user_id, update_link_token_request, ItemHealth, LinkLocale};
use tributary_core::provider_error::ProviderError;
use tributary_core::Provider;
use worker::Env;

const P: Provider = Provider::Plaid;

/// The session user's Item `item_id`, or `provider_not_found`.
async fn own_item(env: &Env, session: &Authenticated, item_id: &str) -> Result<ItemRow, ApiError> {
    let item = items::get(env, &session.claims.user_id, P, item_id).await?;
    Ok(item.ok_or_else(|| ProviderError::NotFound { provider: P, what: "that Item".into() })?)
}

/// An update-mode Hosted Link session for the user's Item `item_id`, returning to `redirect`.
/// The link token is not remembered for an exchange: update mode has nothing to exchange.
pub async fn create_repair_link(
    env: &Env,
    session: &Authenticated,
    item_id: &str,
    redirect: &str,
) -> Result<PlaidLink, ApiError> {
    let item = own_item(env, session, item_id).await?;
    let token = access_token(session, &item)?;
    let development = session.config.environment.is_development();
    let user = client_user_id(&session.claims.user_id);
    let body = update_link_token_request(&user, &token, redirect, &LinkLocale::default(), development)?;
    let link = client(session)?.create_link_token(&body).await?;
    Ok(PlaidLink { hosted_link_url: link.hosted_link_url, link_token: link.link_token })
}

/// What the holdings read after a repair found.
pub enum ReadAfterRepair {
    /// The read succeeded and replaced the cache.
    Read { accounts: usize, positions: usize },
    /// The read failed (recorded beside the untouched cache); the Item is repaired all the same.
    Failed(ApiError),
}

/// How a repair attempt ended.
pub enum RepairOutcome {
    /// Plaid reports no error: the flag is cleared and the holdings were read again.
    Repaired { item: Box<ItemRow>, read: ReadAfterRepair },
    /// Plaid still reports `error_code` on the Item; the flag stays.
    StillBroken { error_code: String },
}

/// Asks Plaid (`/item/get`) whether the user's Item `item_id` is healthy again after update mode;
/// healthy → clears `needs_repair` and re-reads the Plaid holdings through the shared cache path.
pub async fn repair(env: &Env, session: &Authenticated, item_id: &str) -> Result<RepairOutcome, ApiError> {
    let user = &session.claims.user_id;
    let item = own_item(env, session, item_id).await?;
    let token = access_token(session, &item)?;
    if let ItemHealth::Broken { error_code } = client(session)?.item_health(&token, &item.external_id).await? {
        return Ok(RepairOutcome::StillBroken { error_code });
    }
    let now = session.now();
    connections::repair_statement(env, user, P, &item.external_id, false, None, now)?.run().await?;
    let (read, stored) =
        futures_util::future::join(PlaidPort.fetch_holdings(env, session, now), connections::list(env, user, P)).await;
    let read = match super::cache::record(env, session, P, read, &stored?, now).await {
        Ok(holdings) => {
            ReadAfterRepair::Read { accounts: holdings.accounts.len(), positions: holdings.positions.len() }
        }
        Err(error) => ReadAfterRepair::Failed(error),
    };
    worker::console_log!(
        "{}",
        serde_json::json!({"level": "info", "event": "plaid_item_repaired", "provider": "plaid",
            "read_ok": matches!(read, ReadAfterRepair::Read { .. })})
    );
    Ok(RepairOutcome::Repaired { item: Box::new(item), read })
}
