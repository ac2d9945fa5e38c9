//! Trading, written once for every provider that can trade: the core's gate before any call,
//! symbol search, previews stored for 5 minutes, places reserved in the idempotency ledger before
//! the broker is called (and never sent twice), lost answers reconciled with the broker's own
//! order list, order states refreshed from the broker, cancels, and the audit trail of each order.

use super::random_owner;
use crate::api::{json, ApiError, ApiResult};
use crate::auth::Authenticated;
use crate::port::{TradeAccount, TradeCallError, TradingPort};
use crate::store::pending;
use crate::store::trading::{self as store, OrderRow, OrderUpdate, PreviewRow, TradingAccountRow};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;
use tributary_core::capabilities::ConnectionType;
use tributary_core::coverage::CoverageMap;
use tributary_core::trading::{
    classify_place_failure, decide_place, estimate, find_placed, order_retry_after, order_window_rule,
    parse_idempotency_key, parse_symbol_query, reconcile_verdict, refresh_action, trading_gate, Attempt, CachedFacts,
    NotAllowedReason, OrderAction, OrderForm, OrderRequest, OrderState, PlaceDecision, PlaceFailure, PlacedIntent,
    ProviderOrder, ReconcileVerdict, RefreshAction, SymbolRef, TradableSymbol, TradingAccount, TradingError,
    PREVIEW_TTL_S,
};
use tributary_core::{ErrorCode, InstitutionSlug, Provider};
use worker::{Delay, Env};

/// How long a request waits between looks at an attempt another request is sending.
const WAIT_STEP: Duration = Duration::from_millis(250);
/// Looks before a waiting request answers `order_in_progress` (about 15 s in all).
const WAIT_STEPS: u32 = 60;
/// Orders `GET /api/orders` lists at most.
const MAX_LISTED: u32 = 500;

/// One of the user's accounts, resolved for trading.
struct Resolved {
    row: TradingAccountRow,
    provider: Provider,
    brokerage: String,
}

impl Resolved {
    fn trade_account(&self) -> TradeAccount<'_> {
        TradeAccount { account_id: &self.row.external_id, brokerage: &self.brokerage }
    }

    /// The account's key in the holdings cache (`provider:account`).
    fn cache_key(&self) -> String {
        format!("{}:{}", self.provider.as_str(), self.row.external_id)
    }

    /// The provider's trading calls, when the core's gate lets this account trade.
    fn gate(&self) -> Result<&'static dyn TradingPort, ApiError> {
        let slug = self.row.institution_slug.as_deref().and_then(|s| InstitutionSlug::parse(s).ok());
        let rule = slug.as_ref().and_then(|s| CoverageMap::embedded().rule(s));
        trading_gate(&TradingAccount {
            provider: self.provider,
            account_id: &self.row.external_id,
            stored_trading: self.row.cap_trading != 0,
            connection_type: ConnectionType::parse(&self.row.connection_type).unwrap_or(ConnectionType::Read),
            rule,
            needs_repair: self.row.disabled != 0 || self.row.needs_repair != 0,
            brokerage: &self.brokerage,
        })?;
        self.port().ok_or_else(|| {
            TradingError::NotAllowed {
                account: self.row.external_id.clone(),
                reason: NotAllowedReason::ProviderCannotTrade,
            }
            .into()
        })
    }

    /// The provider's trading calls, for reading orders the account already has (no gate).
    fn port(&self) -> Option<&'static dyn TradingPort> {
        crate::registry::port(self.provider).trading()
    }
}

/// The session user's account `account_id` (the one that can trade, if two providers share the id).
async fn account(env: &Env, session: &Authenticated, account_id: &str) -> Result<Resolved, ApiError> {
    let rows = store::accounts(env, &session.claims.user_id, account_id).await?;
    let row = rows
        .iter()
        .find(|r| r.cap_trading != 0)
        .or_else(|| rows.first())
        .cloned()
        .ok_or_else(|| TradingError::AccountNotFound(account_id.to_owned()))?;
    let provider = Provider::parse(&row.provider)?;
    let brokerage = row.institution_name.clone().unwrap_or_else(|| provider.display_name().to_owned());
    Ok(Resolved { row, provider, brokerage })
}

/// Whether each of the user's accounts may trade now, by the core's gate (no provider is called):
/// `{account_id, provider, brokerage, can_trade, code, reason}` per account.
pub async fn probe(env: &Env, session: &Authenticated) -> Result<Vec<Value>, ApiError> {
    let rows = store::all_accounts(env, &session.claims.user_id).await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(provider) = Provider::parse(&row.provider) else { continue };
        let brokerage = row.institution_name.clone().unwrap_or_else(|| provider.display_name().to_owned());
        let resolved = Resolved { row, provider, brokerage };
        let verdict = resolved.gate().err();
        accounts.push(json!({
            "account_id": resolved.row.external_id, "provider": provider, "brokerage": resolved.brokerage,
            "can_trade": verdict.is_none(), "code": verdict.as_ref().map(ApiError::code),
            "reason": verdict.as_ref().map(|e| e.failure().message),
        }));
    }
    Ok(accounts)
}

/// A trading call's failure as the API answers it: the provider's refusal typed by the core.
fn call_error(error: TradeCallError, brokerage: &str) -> ApiError {
    match error {
        TradeCallError::Provider(error) => match TradingError::from_provider(error, brokerage) {
            Ok(refusal) => refusal.into(),
            Err(other) => other.into(),
        },
        TradeCallError::Platform(error) => error,
    }
}

fn symbol_json(s: &TradableSymbol) -> Value {
    json!({
        "symbol_id": s.symbol_id, "symbol": s.symbol, "raw_symbol": s.raw_symbol, "description": s.description,
        "currency": s.currency, "exchange": s.exchange, "type": s.kind,
    })
}

/// `GET /api/accounts/{id}/symbols?q=`: instruments tradable in the account.
pub async fn search_symbols(env: &Env, session: &Authenticated, account_id: &str, q: Option<&str>) -> ApiResult {
    let query = parse_symbol_query(q)?;
    let resolved = account(env, session, account_id).await?;
    let port = resolved.gate()?;
    let symbols = port
        .search_symbols(env, session, resolved.trade_account(), &query)
        .await
        .map_err(|e| call_error(e, &resolved.brokerage))?;
    json(
        200,
        &json!({
            "account_id": resolved.row.external_id, "provider": resolved.provider,
            "symbols": symbols.iter().map(symbol_json).collect::<Vec<_>>(),
        }),
    )
}

/// The instrument an order names: its id as given, or the account's exact match for a ticker.
async fn resolve_symbol(
    env: &Env,
    session: &Authenticated,
    port: &dyn TradingPort,
    resolved: &Resolved,
    symbol: &SymbolRef,
) -> Result<(String, Option<String>), ApiError> {
    match symbol {
        SymbolRef::Id(id) => Ok((id.clone(), None)),
        SymbolRef::Ticker(ticker) => {
            let found = port
                .search_symbols(env, session, resolved.trade_account(), ticker.as_str())
                .await
                .map_err(|e| call_error(e, &resolved.brokerage))?;
            let exact = |s: &&TradableSymbol| s.symbol.eq_ignore_ascii_case(ticker.as_str());
            let raw =
                |s: &&TradableSymbol| s.raw_symbol.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(ticker.as_str()));
            let pick = found.iter().find(exact).or_else(|| found.iter().find(raw));
            let pick = pick.ok_or_else(|| TradingError::SymbolNotFound { symbol: ticker.as_str().to_owned() })?;
            Ok((pick.symbol_id.clone(), Some(pick.symbol.clone())))
        }
    }
}

fn decimal(text: Option<String>) -> Option<Decimal> {
    text.and_then(|t| Decimal::from_str(&t).ok())
}

fn order_fields(form: &OrderForm, symbol_id: &str, symbol: &str) -> Value {
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    json!({
        "symbol_id": symbol_id, "symbol": symbol, "action": form.action.as_str(),
        "order_type": form.order_type.as_str(), "time_in_force": form.time_in_force.as_str(),
        "units": text(form.size.units()), "notional": text(form.size.notional()),
        "limit_price": text(form.limit_price), "stop_price": text(form.stop_price),
    })
}

/// `POST /api/orders/preview`: the order checked, the broker's preview (or estimates from the
/// cache where the broker gave none, each figure labelled), stored to be placed within 5 minutes.
pub async fn preview(env: &Env, session: &Authenticated, request: &OrderRequest) -> ApiResult {
    let form = OrderForm::parse(request)?;
    json(200, &preview_order(env, session, form).await?)
}

/// [`preview`] of an already checked order (the MCP tool `preview_trade`), as the API's body.
pub async fn preview_order(env: &Env, session: &Authenticated, form: OrderForm) -> Result<Value, ApiError> {
    let resolved = account(env, session, &form.account_id).await?;
    let port = resolved.gate()?;
    form.check_for(resolved.provider)?;
    let (symbol_id, ticker) = resolve_symbol(env, session, port, &resolved, &form.symbol).await?;
    let mut warnings = Vec::new();
    let broker = match port.preview(env, session, resolved.trade_account(), &form, &symbol_id).await {
        Ok(impact) => Some(impact),
        Err(TradeCallError::Provider(error)) => match TradingError::from_provider(error, &resolved.brokerage) {
            // The broker's verdict on the order, or on the connection: the person must know now.
            Ok(refusal) => return Err(refusal.into()),
            // No preview from the broker (unsupported, down): estimates from the cache, labelled.
            Err(error) => {
                warnings.push(format!(
                    "{} gave no preview ({}); figures below are estimates or unavailable",
                    resolved.brokerage,
                    error.code()
                ));
                None
            }
        },
        Err(TradeCallError::Platform(error)) => return Err(error),
    };
    let symbol = ticker.or_else(|| broker.as_ref().and_then(|b| b.symbol.clone())).unwrap_or_else(|| symbol_id.clone());
    let user = &session.claims.user_id;
    let key = resolved.cache_key();
    let (price, price_currency) = store::cached_price(env, user, &key, &symbol).await?;
    let currency =
        broker.as_ref().and_then(|b| b.currency.clone()).or(price_currency).or_else(|| resolved.row.currency.clone());
    let cash = match &currency {
        Some(c) => store::cached_cash(env, user, &key, c).await?,
        None => None,
    };
    let cached = CachedFacts { price: decimal(price), cash: decimal(cash), currency };
    let estimate = estimate(&form, broker.as_ref(), &cached);
    let now = session.now();
    let row = PreviewRow {
        id: super::random_uuid(),
        provider: resolved.provider.as_str().to_owned(),
        account_id: resolved.row.external_id.clone(),
        symbol_id: symbol_id.clone(),
        symbol: symbol.clone(),
        order_json: serde_json::to_string(&form).map_err(|e| ApiError::internal("preview order", e))?,
        estimate_json: estimate.to_json().to_string(),
        fingerprint: form.fingerprint(&symbol_id),
        created_at: now,
        expires_at: now + PREVIEW_TTL_S,
    };
    store::insert_preview(env, user, &row).await?;
    Ok(json!({
        "preview_id": row.id, "account_id": row.account_id, "provider": resolved.provider,
        "brokerage": resolved.brokerage, "expires_at": row.expires_at,
        "order": order_fields(&form, &symbol_id, &symbol), "estimate": estimate.to_json(), "warnings": warnings,
    }))
}

/// The API's view of a stored order.
pub fn order_json(row: &OrderRow) -> Value {
    let error = row.error_code.as_ref().map(|code| json!({ "code": code, "message": row.message }));
    json!({
        "id": row.id, "account_id": row.account_id, "provider": row.provider,
        "brokerage_order_id": row.brokerage_order_id, "client_order_id": row.client_order_id,
        "symbol": row.symbol, "symbol_id": row.symbol_id, "action": row.action, "order_type": row.order_type,
        "time_in_force": row.time_in_force, "units": row.units, "notional": row.notional,
        "limit_price": row.limit_price, "stop_price": row.stop_price, "state": row.order_state(),
        "status": row.status, "filled_units": row.filled_units, "execution_price": row.execution_price,
        "placed_at": row.placed_at, "sent_at": row.sent_at, "updated_at": row.updated_at,
        "message": row.message, "error": error,
    })
}

fn request_id() -> String {
    random_owner()[..16].to_owned()
}

async fn reload(env: &Env, session: &Authenticated, id: &str) -> Result<OrderRow, ApiError> {
    store::order(env, &session.claims.user_id, id)
        .await?
        .ok_or_else(|| ApiError::internal("order", "row missing after write"))
}

/// A place's answer: its status and body.
pub type Placed = (u16, Value);

/// The answer for a key whose attempt has an outcome: the first answer again.
fn replay(row: &OrderRow) -> Result<Placed, ApiError> {
    if row.order_state() == OrderState::Rejected {
        if let Some(code) = &row.error_code {
            let status = row.error_status.and_then(|s| u16::try_from(s).ok()).unwrap_or(422);
            return Err(TradingError::replay(code, status, row.message.clone().unwrap_or_default()).into());
        }
    }
    Ok((200, json!({ "order": order_json(row), "replayed": true })))
}

/// Raises the account provider's holdings flag after a fill: the next refresh re-reads it, free.
async fn mark_filled(env: &Env, session: &Authenticated, row: &OrderRow) {
    let Ok(provider) = Provider::parse(&row.provider) else { return };
    let event = format!("order:{}:executed", row.id);
    let raised = match pending::raise_statement(env, &session.claims.user_id, provider, &event, session.now()) {
        Ok(statement) => statement.run().await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = raised {
        crate::api::log_failure("raise holdings pending after a fill", e);
    }
}

fn text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// Writes what the broker says of an attempt's order, recording the change; raises the holdings
/// flag when it has just executed.
async fn apply_broker_order(
    env: &Env,
    session: &Authenticated,
    row: &OrderRow,
    order: &ProviderOrder,
    kind: &str,
    request_id: &str,
) -> Result<(), ApiError> {
    let now = session.now();
    let update = OrderUpdate {
        brokerage_order_id: Some(&order.brokerage_order_id),
        status: order.status.as_deref(),
        filled_units: text(order.filled_units),
        execution_price: text(order.execution_price),
        placed_at: Some(order.placed_at.unwrap_or(now)),
        ..OrderUpdate::default()
    };
    let detail = json!({ "brokerage_order_id": order.brokerage_order_id, "status": order.status });
    store::update(env, &session.claims.user_id, &row.id, order.state, &update, now, kind, Some(&detail), request_id)
        .await?;
    if order.state == OrderState::Executed && row.order_state() != OrderState::Executed {
        mark_filled(env, session, row).await;
    }
    Ok(())
}

/// Settles an unknown attempt against `orders` (the broker's recent list): placed, failed
/// (long after, still not there), or still unknown.
async fn settle(
    env: &Env,
    session: &Authenticated,
    row: &OrderRow,
    orders: &[ProviderOrder],
    request_id: &str,
) -> Result<(), ApiError> {
    let provider = Provider::parse(&row.provider)?;
    let claimed: BTreeSet<String> =
        store::claimed_brokerage_ids(env, provider, &row.account_id).await?.into_iter().collect();
    let action = OrderAction::parse(&row.action).unwrap_or(OrderAction::Buy);
    let units = row.units.as_deref().and_then(|u| Decimal::from_str(u).ok());
    let intent = PlacedIntent {
        client_order_id: &row.client_order_id,
        symbol: &row.symbol,
        symbol_id: &row.symbol_id,
        action,
        units,
        sent_at: row.sent_at,
    };
    let now = session.now();
    match reconcile_verdict(find_placed(orders, &intent, &claimed), row.sent_at, now) {
        ReconcileVerdict::Placed(order) => {
            apply_broker_order(env, session, row, &order, "reconciled", request_id).await
        }
        ReconcileVerdict::Failed => {
            let update = OrderUpdate {
                message: Some("the broker never listed this order: it was not placed; it may be placed again".into()),
                ..OrderUpdate::default()
            };
            Ok(store::update(
                env,
                &session.claims.user_id,
                &row.id,
                OrderState::Failed,
                &update,
                now,
                "reconciled_not_placed",
                None,
                request_id,
            )
            .await?)
        }
        ReconcileVerdict::StillUnknown => Ok(store::event(
            env,
            &session.claims.user_id,
            &row.id,
            now,
            "reconcile_unresolved",
            OrderState::Unknown,
            Some(&json!({ "orders_listed": orders.len() })),
            request_id,
        )
        .await?),
    }
}

/// Reads the broker's recent orders for an attempt's account and settles the attempt with them;
/// a failed read leaves it unknown (recorded).
async fn reconcile(env: &Env, session: &Authenticated, row: &OrderRow, request_id: &str) -> Result<OrderRow, ApiError> {
    let resolved = account(env, session, &row.account_id).await?;
    let Some(port) = resolved.port() else { return Ok(row.clone()) };
    match port.recent_orders(env, session, resolved.trade_account()).await {
        Ok(orders) => settle(env, session, row, &orders, request_id).await?,
        Err(error) => {
            let failure = call_error(error, &resolved.brokerage).failure();
            let detail = json!({ "reconcile_failed": failure.code, "message": failure.message });
            store::event(
                env,
                &session.claims.user_id,
                &row.id,
                session.now(),
                "reconcile_failed",
                row.order_state(),
                Some(&detail),
                request_id,
            )
            .await?;
        }
    }
    reload(env, session, &row.id).await
}

/// `POST /api/orders {preview_id}` with `Idempotency-Key`: places the previewed order at most once.
///
/// 201 `{order, replayed: false}` when placed now; 200 `{order, replayed: true}` for a key already
/// answered; 202 `{order}` in state `unknown` when the broker's answer was lost and its order list
/// does not show the order yet. A key's first refusal is answered again for it.
pub async fn place(env: &Env, session: &Authenticated, key: Option<&str>, preview_id: &str) -> ApiResult {
    let key = parse_idempotency_key(key)?;
    let (status, body) = place_order(env, session, &key, preview_id).await?;
    json(status, &body)
}

/// [`place`] under an already checked key (the MCP tool `place_order`): the status and body.
pub async fn place_order(env: &Env, session: &Authenticated, key: &str, preview_id: &str) -> Result<Placed, ApiError> {
    let key = key.to_owned();
    let user = &session.claims.user_id;
    let preview = store::preview(env, user, preview_id)
        .await?
        .ok_or_else(|| TradingError::PreviewNotFound(preview_id.to_owned()))?;
    let form: OrderForm =
        serde_json::from_str(&preview.order_json).map_err(|e| ApiError::internal("stored preview", e))?;
    let request_id = request_id();
    let mut last_seen = None;
    for _ in 0..WAIT_STEPS {
        let existing = store::order_by_key(env, user, &key).await?;
        let attempt = existing.as_ref().map(|r| Attempt {
            order_id: r.id.clone(),
            fingerprint: r.fingerprint.clone(),
            state: r.order_state(),
            sent_at: r.sent_at,
        });
        match decide_place(attempt.as_ref(), &preview.fingerprint, session.now()) {
            PlaceDecision::Reused => return Err(TradingError::KeyReused.into()),
            PlaceDecision::Replay => return replay(existing.as_ref().expect("a replay has a row")),
            PlaceDecision::Reconcile => {
                let row =
                    reconcile(env, session, existing.as_ref().expect("a reconcile has a row"), &request_id).await?;
                match row.order_state() {
                    OrderState::Unknown | OrderState::Sending => {
                        return Err(TradingError::OutcomeUnknown { order_id: row.id }.into())
                    }
                    // Settled as never placed: the key may place it now (the next look decides).
                    OrderState::Failed => continue,
                    _ => return replay(&row),
                }
            }
            PlaceDecision::Wait => {
                last_seen = existing.map(|r| r.id);
                Delay::from(WAIT_STEP).await;
            }
            PlaceDecision::Place => {
                if let Some(answer) =
                    place_new(env, session, &key, &preview, &form, existing.as_ref(), &request_id).await?
                {
                    return Ok(answer);
                }
            }
        }
    }
    Err(TradingError::InProgress { order_id: last_seen.unwrap_or_default() }.into())
}

/// Places a fresh attempt (or a failed one's retry) under `key`: `None` when another request won
/// the reservation (the caller looks again).
async fn place_new(
    env: &Env,
    session: &Authenticated,
    key: &str,
    preview: &PreviewRow,
    form: &OrderForm,
    failed: Option<&OrderRow>,
    request_id: &str,
) -> Result<Option<Placed>, ApiError> {
    let user = &session.claims.user_id;
    let now = session.now();
    if now.saturating_sub(preview.created_at) >= PREVIEW_TTL_S {
        return Err(TradingError::PreviewExpired.into());
    }
    let resolved = account(env, session, &preview.account_id).await?;
    let port = resolved.gate()?;
    if let Some(twin) = store::unknown_twin(env, user, &preview.fingerprint, key).await? {
        // The same order under another key may already be at the broker: settle that first.
        let twin = reconcile(env, session, &twin, request_id).await?;
        if matches!(twin.order_state(), OrderState::Unknown | OrderState::Sending) {
            return Err(TradingError::OutcomeUnknown { order_id: twin.id }.into());
        }
    }
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    let row = OrderRow {
        id: failed.map_or_else(super::random_uuid, |r| r.id.clone()),
        idempotency_key: key.to_owned(),
        fingerprint: preview.fingerprint.clone(),
        preview_id: preview.id.clone(),
        provider: preview.provider.clone(),
        account_id: preview.account_id.clone(),
        client_order_id: failed.map_or_else(super::random_uuid, |r| r.client_order_id.clone()),
        brokerage_order_id: None,
        symbol_id: preview.symbol_id.clone(),
        symbol: preview.symbol.clone(),
        action: form.action.as_str().to_owned(),
        order_type: form.order_type.as_str().to_owned(),
        time_in_force: form.time_in_force.as_str().to_owned(),
        units: text(form.size.units()),
        notional: text(form.size.notional()),
        limit_price: text(form.limit_price),
        stop_price: text(form.stop_price),
        state: OrderState::Sending.as_str().to_owned(),
        status: None,
        filled_units: None,
        execution_price: None,
        error_code: None,
        error_status: None,
        message: None,
        sent_at: now,
        placed_at: None,
        updated_at: now,
    };
    if !store::reserve(env, user, &row, request_id).await? {
        return Ok(None);
    }
    let limit = resolved.provider.spec().order_rate_limit;
    if let Some(started) =
        store::claim_order_slot(env, &resolved.cache_key(), now, order_window_rule(limit, now)).await?
    {
        let refusal = TradingError::RateLimited { retry_after_s: order_retry_after(limit, started, now) };
        record_refusal(env, session, &row, OrderState::Failed, &refusal, request_id).await?;
        return Err(refusal.into());
    }
    let sent = port.place(env, session, resolved.trade_account(), form, &row.symbol_id, &row.client_order_id).await;
    match sent {
        Ok(order) => {
            apply_broker_order(env, session, &row, &order, "placed", request_id).await?;
            let row = reload(env, session, &row.id).await?;
            Ok(Some((201, json!({ "order": order_json(&row), "replayed": false }))))
        }
        Err(TradeCallError::Platform(error)) => {
            let failure = error.failure();
            let update = OrderUpdate { message: Some(failure.message.clone()), ..OrderUpdate::default() };
            let detail = json!({ "code": failure.code });
            store::update(
                env,
                user,
                &row.id,
                OrderState::Failed,
                &update,
                session.now(),
                "not_sent",
                Some(&detail),
                request_id,
            )
            .await?;
            Err(error)
        }
        Err(TradeCallError::Provider(error)) => match classify_place_failure(error, &resolved.brokerage) {
            PlaceFailure::Refused(refusal) => {
                record_refusal(env, session, &row, OrderState::Rejected, &refusal, request_id).await?;
                Err(refusal.into())
            }
            PlaceFailure::Retryable(refusal) => {
                record_refusal(env, session, &row, OrderState::Failed, &refusal, request_id).await?;
                Err(refusal.into())
            }
            PlaceFailure::Failed(error) => {
                record_refusal(env, session, &row, OrderState::Failed, &error, request_id).await?;
                Err(error.into())
            }
            PlaceFailure::Unknown(error) => {
                let update = OrderUpdate {
                    message: Some(format!(
                        "{}'s answer was lost ({}): the order may or may not be placed; Tributary is checking the broker's orders and will not send it again",
                        resolved.brokerage,
                        error.code()
                    )),
                    ..OrderUpdate::default()
                };
                let detail = json!({ "code": error.code(), "message": error.to_string() });
                store::update(
                    env,
                    user,
                    &row.id,
                    OrderState::Unknown,
                    &update,
                    session.now(),
                    "answer_lost",
                    Some(&detail),
                    request_id,
                )
                .await?;
                let row = reload(env, session, &row.id).await?;
                let row = reconcile(env, session, &row, request_id).await?;
                let status = if row.order_state() == OrderState::Unknown { 202 } else { 201 };
                Ok(Some((status, json!({ "order": order_json(&row), "replayed": false }))))
            }
        },
    }
}

/// Records a refusal on its attempt (code, status and message, to answer the key again).
async fn record_refusal(
    env: &Env,
    session: &Authenticated,
    row: &OrderRow,
    state: OrderState,
    refusal: &(impl ErrorCode + ?Sized),
    request_id: &str,
) -> Result<(), ApiError> {
    let message = refusal.to_string();
    let update =
        OrderUpdate { error: Some((refusal.code(), refusal.http_status(), message.clone())), ..OrderUpdate::default() };
    let detail = json!({ "code": refusal.code(), "message": message });
    Ok(store::update(
        env,
        &session.claims.user_id,
        &row.id,
        state,
        &update,
        session.now(),
        "refused",
        Some(&detail),
        request_id,
    )
    .await?)
}

/// Brings unfinished orders up to date from their brokers (one recent-orders read per account):
/// states and fills by brokerage order id, unknown attempts settled. A broker that cannot be
/// read leaves its orders as stored, named in the returned warnings.
async fn refresh(env: &Env, session: &Authenticated, rows: &[OrderRow]) -> Result<Vec<String>, ApiError> {
    let request_id = request_id();
    let mut warnings = Vec::new();
    let accounts: BTreeSet<&str> =
        rows.iter().filter(|r| !r.order_state().is_final()).map(|r| r.account_id.as_str()).collect();
    for account_id in accounts {
        let Ok(resolved) = account(env, session, account_id).await else { continue };
        let Some(port) = resolved.port() else { continue };
        let orders = match port.recent_orders(env, session, resolved.trade_account()).await {
            Ok(orders) => orders,
            Err(error) => {
                let failure = call_error(error, &resolved.brokerage).failure();
                warnings.push(format!("{}: orders not refreshed ({})", resolved.brokerage, failure.code));
                continue;
            }
        };
        for row in rows.iter().filter(|r| r.account_id == account_id && !r.order_state().is_final()) {
            let placed = row.brokerage_order_id.is_some();
            match refresh_action(row.order_state(), placed, row.sent_at, session.now()) {
                RefreshAction::Track => {
                    let id = row.brokerage_order_id.as_deref();
                    let Some(order) = orders.iter().find(|o| Some(o.brokerage_order_id.as_str()) == id) else {
                        continue;
                    };
                    let changed = order.state != row.order_state()
                        || order.status != row.status
                        || text(order.filled_units) != row.filled_units;
                    if changed {
                        apply_broker_order(env, session, row, order, "state", &request_id).await?;
                    }
                }
                RefreshAction::Settle => settle(env, session, row, &orders, &request_id).await?,
                RefreshAction::Leave => {}
            }
        }
    }
    Ok(warnings)
}

/// `GET /api/orders?account_id=&state=open|executed|all`: the user's orders, newest first, each
/// unfinished one refreshed from its broker first.
pub async fn list(env: &Env, session: &Authenticated, account_id: Option<&str>, state: &str) -> ApiResult {
    let user = &session.claims.user_id;
    let rows = store::orders(env, user, account_id, MAX_LISTED).await?;
    let warnings = refresh(env, session, &rows).await?;
    let rows = store::orders(env, user, account_id, MAX_LISTED).await?;
    let orders: Vec<Value> = rows.iter().filter(|r| r.order_state().in_filter(state)).map(order_json).collect();
    json(200, &json!({ "orders": orders, "warnings": warnings }))
}

fn events_json(events: &[store::EventRow]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let detail = e.detail.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok());
            json!({ "at": e.at, "kind": e.kind, "state": e.state, "detail": detail, "request_id": e.request_id })
        })
        .collect()
}

async fn own_order(env: &Env, session: &Authenticated, id: &str) -> Result<OrderRow, ApiError> {
    store::order(env, &session.claims.user_id, id)
        .await?
        .ok_or_else(|| TradingError::OrderNotFound(id.to_owned()).into())
}

/// `GET /api/orders/{id}`: one order, refreshed from its broker, with its audit trail.
pub async fn get(env: &Env, session: &Authenticated, id: &str) -> ApiResult {
    let row = own_order(env, session, id).await?;
    let warnings = refresh(env, session, std::slice::from_ref(&row)).await?;
    let row = reload(env, session, id).await?;
    let events = store::events(env, &session.claims.user_id, id).await?;
    json(200, &json!({ "order": order_json(&row), "events": events_json(&events), "warnings": warnings }))
}

/// `POST /api/orders/{id}/cancel`: asks the broker to cancel an open order; the order as it then stands.
pub async fn cancel(env: &Env, session: &Authenticated, id: &str) -> ApiResult {
    let row = own_order(env, session, id).await?;
    refresh(env, session, std::slice::from_ref(&row)).await?;
    let row = reload(env, session, id).await?;
    let state = row.order_state();
    let Some(brokerage_order_id) = row.brokerage_order_id.clone().filter(|_| state == OrderState::Open) else {
        return Err(TradingError::NotCancellable { state: state.as_str() }.into());
    };
    let resolved = account(env, session, &row.account_id).await?;
    let port = resolved.gate()?;
    let request_id = request_id();
    let answered = port
        .cancel(env, session, resolved.trade_account(), &brokerage_order_id)
        .await
        .map_err(|e| call_error(e, &resolved.brokerage))?;
    let now = session.now();
    let detail = json!({ "brokerage_order_id": brokerage_order_id, "answer": answered.map(OrderState::as_str) });
    match answered {
        Some(OrderState::Cancelled) => {
            let update = OrderUpdate { status: Some("CANCELED"), ..OrderUpdate::default() };
            store::update(
                env,
                &session.claims.user_id,
                id,
                OrderState::Cancelled,
                &update,
                now,
                "cancelled",
                Some(&detail),
                &request_id,
            )
            .await?;
        }
        _ => {
            store::event(env, &session.claims.user_id, id, now, "cancel_requested", state, Some(&detail), &request_id)
                .await?;
            let row = reload(env, session, id).await?;
            refresh(env, session, std::slice::from_ref(&row)).await?;
        }
    }
    let row = reload(env, session, id).await?;
    json(200, &json!({ "order": order_json(&row) }))
}
