//! The Plaid adapter: hosted link, the public-token exchange (the Item's access token sealed at
//! rest, one Item per institution per user), the holdings fetch across all of a user's Items (all
//! must answer; an Item whose login broke is marked `needs_repair` and answered as
//! `plaid_reauth_required`), every Item's investment transactions for the ledger, billed
//! refreshes, and removing an Item. Repairing an Item through update mode is
//! [`super::plaid_repair`].

use super::{plaid_link_sessions, random_nonce};
use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::institutions::resolve;
use crate::port::{Connect, ConnectRequest, ProviderPort, ScopeRead};
use crate::providers::fan_out;
use crate::providers::plaid::PlaidClient;
use crate::store::connections::{self, ConnectionRecord};
use crate::store::items::{self, ItemRow, NewItem};
use futures_util::future::LocalBoxFuture;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use tributary_core::capabilities::ConnectionType;
use tributary_core::plaid::normalize_investment_transactions;
use tributary_core::plaid::{client_user_id, link_token_request, needs_update_mode, normalize_holdings, LinkLocale};
use tributary_core::provider_error::ProviderError;
use tributary_core::sealed::{open, seal};
use tributary_core::time::Date;
use tributary_core::transactions::sync::{next_offset, page_size, sync_window};
use tributary_core::{ErrorCode, Holdings, InstitutionSlug, Provider};
use worker::Env;

const P: Provider = Provider::Plaid;

/// The Plaid client for this deployment, or `provider_not_configured`.
pub fn client(session: &Authenticated) -> Result<PlaidClient<'_>, ApiError> {
    let config = session.config.provider(P).ok_or(ProviderError::NotConfigured { provider: P })?;
    Ok(PlaidClient::new(config, Duration::from_millis(session.config.provider_timeout_ms)))
}

/// A Plaid hosted-link session for the user.
pub struct PlaidLink {
    pub hosted_link_url: String,
    pub link_token: String,
}

/// The user's existing Item for an institution, when linking it again would duplicate it.
pub async fn existing_item(
    env: &Env,
    session: &Authenticated,
    slug: &InstitutionSlug,
) -> Result<Option<ItemRow>, ApiError> {
    let items = items::list(env, &session.claims.user_id, P).await?;
    Ok(items.into_iter().find(|i| i.institution_slug.as_deref() == Some(slug.as_str())))
}

/// What a link or exchange request led to.
pub enum Linked<T> {
    Done(T),
    /// The user already has an Item for this institution; nothing was created or billed.
    AlreadyLinked(ItemRow),
}

/// Creates a hosted-link session returning to `redirect`, with webhooks sent to `webhook_url`.
/// An institution the user already linked is answered with the existing Item instead.
pub async fn create_link(
    env: &Env,
    session: &Authenticated,
    institution: Option<&InstitutionSlug>,
    redirect: &str,
    webhook_url: Option<&str>,
) -> Result<Linked<PlaidLink>, ApiError> {
    if let Some(slug) = institution {
        if let Some(item) = existing_item(env, session, slug).await? {
            return Ok(Linked::AlreadyLinked(item));
        }
    }
    let development = session.config.environment.is_development();
    let body = link_token_request(
        &client_user_id(&session.claims.user_id),
        redirect,
        webhook_url,
        &LinkLocale::default(),
        development,
    )?;
    let link = client(session)?.at(institution).create_link_token(&body).await?;
    plaid_link_sessions::remember(env, &session.claims.user_id, &link).await?;
    Ok(Linked::Done(PlaidLink { hosted_link_url: link.hosted_link_url, link_token: link.link_token }))
}

/// A newly stored Item and what its first fetch found.
pub struct StoredItem {
    pub item: ItemRow,
    pub accounts: usize,
    pub positions: usize,
}

/// Exchanges a public token for an Item, stores it sealed, and fetches the user's Plaid holdings.
/// Only a public token one of the user's own Link sessions produced is exchanged (else
/// `public_token_unknown`, before anything is created). `institution` (the name the user picked) lets a duplicate be refused before any Item is
/// created; without it, a duplicate found after the exchange is removed at once (ending its
/// billing) and the existing Item is returned.
pub async fn exchange(
    env: &Env,
    session: &Authenticated,
    public_token: &str,
    institution: Option<&InstitutionSlug>,
) -> Result<Linked<StoredItem>, ApiError> {
    let user = &session.claims.user_id;
    if let Some(slug) = institution {
        if let Some(item) = existing_item(env, session, slug).await? {
            return Ok(Linked::AlreadyLinked(item));
        }
    }
    let client = client(session)?.at(institution);
    plaid_link_sessions::check_public_token(env, user, &client, public_token).await?;
    let (access_token, item_id) = client.exchange(public_token).await?;
    let now = session.now();
    // The first read names the institution (the Item's `institution_name`) and proves the token works.
    let first = match client.holdings(&access_token).await.and_then(|raw| normalize_holdings(&raw, institution, now)) {
        Ok(first) => first,
        Err(error) => {
            // Nothing stored refers to the new Item: remove it so it is not billed for nothing.
            let _ = client.remove(&access_token).await;
            return Err(error.into());
        }
    };
    let slug = institution.cloned().or_else(|| first.accounts.iter().find_map(|a| a.institution.clone()));
    let name = first.accounts.iter().find_map(|a| a.institution_name.clone());
    if let Some(slug) = &slug {
        if let Some(item) = existing_item(env, session, slug).await? {
            let _ = client.remove(&access_token).await;
            return Ok(Linked::AlreadyLinked(item));
        }
    }
    crate::store::users::ensure(env, user, now).await?;
    let sealed = seal(&session.config.data_key, random_nonce(), user, P, &access_token);
    let record = ConnectionRecord {
        external_id: item_id.clone(),
        institution_slug: slug.as_ref().map(|s| s.as_str().to_owned()),
        institution_name: name.clone(),
        connection_type: ConnectionType::Read.as_str(),
        disabled: false,
        disabled_date: None,
    };
    let new_item = NewItem {
        external_id: &item_id,
        institution_slug: slug.as_ref().map(InstitutionSlug::as_str),
        institution_name: name.as_deref(),
        sealed: &sealed,
    };
    crate::store::db(env)?
        .batch(vec![
            items::insert_statement(env, user, P, &new_item, now)?,
            connections::upsert_statement(env, user, P, &record, now)?,
        ])
        .await?;
    let (read, stored) =
        futures_util::future::join(PlaidPort.fetch_holdings(env, session, now), connections::list(env, user, P)).await;
    let holdings = super::cache::record(env, session, P, read, &stored?, now).await?;
    let item = items::get(env, user, P, &item_id)
        .await?
        .ok_or_else(|| ApiError::internal("plaid exchange", "item missing after insert"))?;
    Ok(Linked::Done(StoredItem { item, accounts: holdings.accounts.len(), positions: holdings.positions.len() }))
}

pub(super) fn access_token(session: &Authenticated, item: &ItemRow) -> Result<String, ApiError> {
    let sealed = item.sealed().ok_or_else(|| ApiError::internal("plaid item", "unreadable sealed token"))?;
    Ok(open(&session.config.data_key, &sealed, &session.claims.user_id, P)?)
}

/// Marks the Item's connection `needs_repair` (Plaid's re-login code) and answers that code; a
/// flag that cannot be written is logged, and the answer stands.
async fn require_update_mode(env: &Env, session: &Authenticated, item: &ItemRow) -> ApiError {
    let error = ProviderError::ReauthRequired { provider: P };
    let user = &session.claims.user_id;
    let marked =
        connections::repair_statement(env, user, P, &item.external_id, true, Some(error.code()), session.now());
    if let Err(e) = async { marked?.run().await }.await {
        crate::api::log_failure("mark plaid item for repair", e);
    }
    error.into()
}

/// Fetches every Item's holdings (in parallel unless the deployment's fan-out is sequential); all
/// must succeed for a complete result. An Item Plaid says needs update mode is marked for repair.
async fn fetch(env: &Env, session: &Authenticated, items: &[ItemRow], now: i64) -> Result<Holdings, ApiError> {
    let client = client(session)?;
    let reads = items.iter().map(|item| {
        let client = &client;
        async move {
            let token = access_token(session, item)?;
            let client = client.at(item.institution_slug.as_deref().and_then(resolve).as_ref());
            let raw = match client.holdings(&token).await {
                Ok(raw) => raw,
                Err(error) if needs_update_mode(&error) => return Err(require_update_mode(env, session, item).await),
                Err(error) => return Err(error.into()),
            };
            let slug = item.institution_slug.as_deref().and_then(resolve);
            Ok::<_, ApiError>(normalize_holdings(&raw, slug.as_ref(), now)?)
        }
    });
    let mut all = Holdings::default();
    for result in fan_out(session.config.fanout, reads).await {
        let holdings = result?;
        all.accounts.extend(holdings.accounts);
        all.positions.extend(holdings.positions);
        all.balances.extend(holdings.balances);
    }
    Ok(all)
}

/// Reads one Item's investment transactions in `[from, to]`, page after page to the end (the
/// core's `next_offset`, moving by the rows each page held); a failed page (or Plaid's
/// `PRODUCT_NOT_READY`) ends the read with what came before it.
async fn read_item_transactions(
    client: &PlaidClient<'_>,
    session: &Authenticated,
    item: &ItemRow,
    from: Date,
    to: Date,
) -> ScopeRead {
    let slug = item.institution_slug.as_deref().and_then(resolve);
    let (start, end) = (from.to_string(), to.to_string());
    let mut transactions = Vec::new();
    let (mut offset, mut pages) = (0u32, 0u32);
    let failure = match access_token(session, item) {
        Err(error) => Some(error),
        Ok(token) => loop {
            pages += 1;
            let page = client
                .at(slug.as_ref())
                .investment_transactions(&token, &start, &end, page_size(P), offset)
                .await
                .and_then(|raw| normalize_investment_transactions(&raw, slug.as_ref()));
            match page {
                Ok(page) => {
                    transactions.extend(page.transactions);
                    match next_offset(offset, page.received, page.total, pages) {
                        Ok(Some(next)) => offset = next,
                        Ok(None) => break None,
                        Err(e) => break Some(ApiError::from(e)),
                    }
                }
                Err(error) => break Some(ApiError::from(error)),
            }
        },
    };
    ScopeRead { scope: item.external_id.clone(), from, to, transactions, failure }
}

/// The Plaid adapter of the provider port.
pub struct PlaidPort;

impl ProviderPort for PlaidPort {
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
            let items = items::list(env, &session.claims.user_id, P).await?;
            if items.is_empty() {
                return Ok(Holdings::default());
            }
            fetch(env, session, &items, now).await
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
        Box::pin(async move {
            let items = items::list(env, &session.claims.user_id, P).await?;
            let client = client(session)?;
            let reads = items.iter().map(|item| {
                let (from, to) = sync_window(P, synced.get(&item.external_id).copied(), today);
                read_item_transactions(&client, session, item, from, to)
            });
            Ok(Some(fan_out(session.config.fanout, reads).await))
        })
    }

    fn removes_connections(&self) -> bool {
        true
    }

    /// `/item/remove` through [`remove_item`] (the Item Plaid no longer knows counts as ended).
    fn remove_connection<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        connection_external_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move { remove_item(env, session, connection_external_id, false).await.map(|_| ()) })
    }

    fn connect<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        request: ConnectRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<Connect, ApiError>> {
        Box::pin(async move {
            let webhook = format!("{}/webhooks/plaid", request.webhook_origin);
            Ok(match create_link(env, session, request.institution, request.redirect, Some(&webhook)).await? {
                Linked::Done(link) => Connect::Flow(json!({
                    "kind": "plaid_hosted_link", "url": link.hosted_link_url,
                    "hosted_link_url": link.hosted_link_url, "link_token": link.link_token,
                })),
                Linked::AlreadyLinked(item) => Connect::AlreadyConnected {
                    name: item.display_name().to_owned(),
                    existing: serde_json::to_value(&item).map_err(|e| ApiError::internal("serialise item", e))?,
                },
            })
        })
    }
}

/// Asks Plaid to refresh every Item of the user (`/investments/refresh`, billed per call).
/// Returns how many billed calls succeeded and the first failure (the rest are still attempted).
pub async fn provider_refresh(env: &Env, session: &Authenticated) -> Result<(usize, Option<ApiError>), ApiError> {
    let client = client(session)?;
    let mut billed = 0;
    let mut first_error = None;
    for item in items::list(env, &session.claims.user_id, P).await? {
        let result = match access_token(session, &item) {
            Ok(token) => client
                .at(item.institution_slug.as_deref().and_then(resolve).as_ref())
                .refresh(&token)
                .await
                .map_err(ApiError::from),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => billed += 1,
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Ok((billed, first_error))
}

/// What removing an Item removes: the Item and its cached rows.
#[derive(serde::Serialize)]
pub struct Removal {
    pub item: ItemRow,
    pub accounts: i64,
    pub positions: i64,
    pub balances: i64,
}

/// Removes one of the user's Items (exact id), or with `dry_run` only reports what would go.
/// A real run ends the Item at Plaid first (an Item Plaid no longer knows counts as ended), then
/// deletes its rows in one batch.
pub async fn remove_item(
    env: &Env,
    session: &Authenticated,
    item_id: &str,
    dry_run: bool,
) -> Result<Removal, ApiError> {
    let user = &session.claims.user_id;
    let item = items::get(env, user, P, item_id)
        .await?
        .ok_or_else(|| ProviderError::NotFound { provider: P, what: "that Item".into() })?;
    let counts = connections::counts(env, user, P, item_id).await?;
    let removal = Removal { item, accounts: counts.0, positions: counts.1, balances: counts.2 };
    if dry_run {
        return Ok(removal);
    }
    let token = access_token(session, &removal.item)?;
    match client(session)?.remove(&token).await {
        Ok(()) => {}
        Err(ProviderError::NotFound { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let mut batch = connections::remove_statements(env, user, P, item_id)?;
    batch.push(items::remove_statement(env, user, P, item_id)?);
    crate::store::db(env)?.batch(batch).await?;
    worker::console_log!(
        "{}",
        serde_json::json!({"level": "info", "event": "plaid_item_removed", "provider": "plaid",
            "accounts": removal.accounts, "positions": removal.positions, "balances": removal.balances})
    );
    Ok(removal)
}
