//! The broker's side of each trading call, over the SnapTrade state with the time passed in: the
//! account checks, impact, placement (force or checked), cancel and the test-only fill. The
//! handlers in [`super::routes`] only parse, lock, call one of these and render.

use super::book::{NextPlace, Order, OrderStatus, PlaceOutcome, Placement};
use super::form::{Action, OrderRequest, OrderType, Size, SymbolRef, MAX_AMOUNT};
use super::money::{cash_effect, commission, CashEffect};
use super::wire::{impact_json, AccountSummary};
use super::TradeError;
use crate::ibkr::dates::Date;
use crate::ledger::{Kind, Tx};
use crate::snaptrade::activities::activity_id;
use crate::snaptrade::seed::{Brokerage, SeedAccount};
use crate::snaptrade::state::SnapState;
use crate::snaptrade::symbols::{self, Listing};
use crate::snaptrade::{denied_error, ApiError};
use crate::util::random_uuid;
use rust_decimal::Decimal;
use serde_json::Value;
use std::time::Instant;

/// Which account checks a call needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// The account is the user's (a cached read: served even when the connection is disabled).
    Owned,
    /// Also a live connection (realtime reads: 402 when disabled).
    Live,
    /// Also trading: a `trade` connection and an app allowed to trade (impact, place, cancel).
    Trade,
}

/// An account a call may act on.
#[derive(Clone, Copy, Debug)]
pub struct Desk<'a> {
    pub account_id: &'a str,
    pub seed: &'static SeedAccount,
    pub brokerage: &'static Brokerage,
}

fn invalid(detail: impl Into<String>) -> TradeError {
    TradeError::Api(ApiError::new(400, "invalid_request", detail))
}

/// The user's account `account_id`, after `checks`, in this order: 404/403 when it is not the
/// user's, 402 `3003` when the connection is disabled, 403 `1066` for a read-only connection,
/// then 403 `default_code` 1066 when the app may not trade in it.
pub fn desk<'a>(state: &SnapState, user: &str, account_id: &'a str, checks: Checks) -> Result<Desk<'a>, TradeError> {
    let view = state.account(user, account_id).map_err(|why| TradeError::Api(denied_error(why)))?;
    let desk = Desk { account_id, seed: view.seed, brokerage: view.brokerage };
    if checks == Checks::Owned {
        return Ok(desk);
    }
    let auth = &state.authorizations[view.authorization_id];
    if auth.disabled {
        let detail = "Unable to sync with brokerage account because the connection is disabled.";
        return Err(TradeError::Api(ApiError::new(402, "3003", detail)));
    }
    if checks == Checks::Trade {
        if !auth.trade {
            let detail =
                "This connection does not have trading permissions; reconnect it with connectionType \"trade\".";
            return Err(TradeError::Api(ApiError::new(403, "1066", detail)));
        }
        if !state.trading.settings(account_id).app_trading_enabled {
            return Err(TradeError::AppTradingDisabled);
        }
    }
    Ok(desk)
}

/// The listing the request names (a ticker prefers the account's currency).
fn listing(request: &OrderRequest, desk: &Desk<'_>) -> Result<&'static Listing, TradeError> {
    match &request.symbol {
        SymbolRef::Id(id) => symbols::by_id(id).ok_or_else(|| invalid(format!("Symbol {id} was not found."))),
        SymbolRef::Ticker(ticker) => symbols::by_ticker(ticker, desk.seed.currency)
            .ok_or_else(|| invalid(format!("Symbol {ticker:?} was not found at {}.", desk.brokerage.name))),
    }
}

/// The price an order is estimated at: the limit price, the stop price for Stop, the quote for Market.
fn estimated_price(request: &OrderRequest, listing: &Listing) -> Result<Decimal, TradeError> {
    let price = match request.order_type {
        OrderType::Limit | OrderType::StopLimit => request.price,
        OrderType::Stop => request.stop,
        OrderType::Market => listing.quote,
    };
    price.ok_or_else(|| invalid(format!("No quote is available for {}; place a Limit order.", listing.ticker)))
}

/// Units ordered: as sent, or the notional over the price to 6 decimal places (400 above
/// [`MAX_AMOUNT`] units, so a fill's units × price stays far from overflowing).
fn units(request: &OrderRequest, price: Decimal) -> Result<Decimal, TradeError> {
    let units = match request.size {
        Size::Units(units) => Some(units),
        Size::Notional(notional) => notional.checked_div(price).map(|u| u.round_dp(6)),
    };
    units.filter(|u| *u <= Decimal::from(MAX_AMOUNT)).ok_or_else(|| invalid("The order is too large."))
}

fn effect(state: &SnapState, desk: &Desk<'_>, listing: &Listing, action: Action, gross: Decimal) -> CashEffect {
    let changes = state.trading.cash_changes(desk.account_id);
    cash_effect(desk.seed, changes, listing.currency, action, gross, commission(desk.brokerage.slug))
}

/// `POST /trade/impact`: the `ManualTradeAndImpact` of `request`; its trade id is stored until `now` + 5 minutes.
pub fn impact(state: &mut SnapState, user: &str, request: OrderRequest, now: Instant) -> Result<Value, TradeError> {
    let desk = desk(state, user, &request.account_id, Checks::Trade)?;
    let listing = listing(&request, &desk)?;
    let price = estimated_price(&request, listing)?;
    let gross = match request.size {
        Size::Units(units) => units * price,
        Size::Notional(notional) => notional,
    };
    let effect = effect(state, &desk, listing, request.action, gross);
    let trade_id = random_uuid();
    let summary = AccountSummary { id: desk.account_id, name: desk.seed.name, number: desk.seed.number };
    let body = impact_json(&trade_id, &request, listing, price, &effect, &summary);
    state.trading.add_trade(trade_id, user, request, now);
    Ok(body)
}

/// What the handler does after a placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Answer with the order.
    Answer,
    /// Answer 500 (the order exists).
    Fail500,
    /// Hold the answer, then 504 (the order exists).
    Timeout,
}

/// A placement's order and what to answer.
#[derive(Clone, Debug)]
pub struct Placed {
    pub order: Order,
    pub after: After,
}

/// The checked trade `trade_id` of `user`, as its request: 400 when unknown or expired at `now`.
pub fn checked_trade(state: &SnapState, user: &str, trade_id: &str, now: Instant) -> Result<OrderRequest, TradeError> {
    match state.trading.trade(trade_id, user, now) {
        Ok(trade) => Ok(trade.request.clone()),
        Err(super::book::TradeLookup::Unknown) => Err(invalid(format!("Trade {trade_id} does not exist."))),
        Err(super::book::TradeLookup::Expired) => {
            let detail = format!("Trade {trade_id} has expired; check the order impact again.");
            Err(TradeError::Api(ApiError::new(400, "trade_expired", detail)))
        }
    }
}

/// `POST /trade/place` (`trade_id` None) or `POST /trade/{tradeId}`: checks, the soft rate limit,
/// the broker's `client_order_id` dedupe (when set), then the account's `next_place` behaviour.
pub fn place(
    state: &mut SnapState,
    user: &str,
    request: &OrderRequest,
    trade_id: Option<&str>,
    wait_to_confirm: bool,
    now: Instant,
    unix: i64,
) -> Result<Placed, TradeError> {
    let desk = desk(state, user, &request.account_id, Checks::Trade)?;
    let listing = listing(request, &desk)?;
    let price = estimated_price(request, listing)?;
    let total = units(request, price)?;
    let account_id = desk.account_id.to_owned();
    let settings = state.trading.settings(&account_id);
    state.trading.throttle(&account_id, now).map_err(|retry_after| TradeError::Throttled { retry_after })?;
    let record = |order: Option<&Order>, outcome| Placement {
        account_id: account_id.clone(),
        client_order_id: request.client_order_id.clone(),
        trade_id: trade_id.map(str::to_owned),
        brokerage_order_id: order.map(|o| o.brokerage_order_id.clone()),
        outcome,
        at: unix,
    };
    let existing = request.client_order_id.as_deref().filter(|_| settings.broker_dedupes_client_order_id);
    if let Some(order) = existing.and_then(|id| state.trading.order_by_client_id(&account_id, id)).cloned() {
        state.trading.record(record(Some(&order), PlaceOutcome::Deduplicated));
        return Ok(Placed { order, after: After::Answer });
    }
    let (outcome, after) = match state.trading.take_next_place(&account_id) {
        Some(NextPlace::Reject { reason }) => {
            state.trading.record(record(None, PlaceOutcome::Rejected));
            return Err(TradeError::Api(ApiError::new(400, "broker_rejected", reason)));
        }
        Some(NextPlace::AcceptThen500) => (PlaceOutcome::CreatedThen500, After::Fail500),
        Some(NextPlace::AcceptThenTimeout) => (PlaceOutcome::CreatedThenTimeout, After::Timeout),
        None => (PlaceOutcome::Created, After::Answer),
    };
    let status = if wait_to_confirm { settings.order_status } else { OrderStatus::Pending };
    let order = Order {
        brokerage_order_id: random_uuid(),
        account_id: account_id.clone(),
        client_order_id: request.client_order_id.clone(),
        listing,
        action: request.action,
        order_type: request.order_type,
        time_in_force: request.time_in_force,
        total,
        filled: Decimal::ZERO,
        canceled: Decimal::ZERO,
        limit_price: request.price.filter(|_| matches!(request.order_type, OrderType::Limit | OrderType::StopLimit)),
        stop_price: request.stop.filter(|_| matches!(request.order_type, OrderType::Stop | OrderType::StopLimit)),
        execution_price: None,
        status,
        placed: unix,
        updated: None,
        executed: None,
        expiry_date: request.expiry_date.clone(),
    };
    state.trading.record(record(Some(&order), outcome));
    state.trading.add_order(order.clone());
    Ok(Placed { order, after })
}

/// `POST /accounts/{accountId}/trading/cancel`: cancels an open order (400 for an unknown or
/// closed one); returns the cancelled order.
pub fn cancel(state: &mut SnapState, user: &str, account_id: &str, id: &str, unix: i64) -> Result<Order, TradeError> {
    desk(state, user, account_id, Checks::Trade)?;
    let order = state
        .trading
        .order_mut(account_id, id)
        .ok_or_else(|| invalid(format!("Order {id} was not found in this account.")))?;
    if !order.status.is_open() {
        return Err(invalid(format!("Order {id} is {} and can no longer be cancelled.", order.status.as_str())));
    }
    (order.canceled, order.status, order.updated) = (order.total - order.filled, OrderStatus::Canceled, Some(unix));
    Ok(order.clone())
}

/// Why a fill was refused: (HTTP status for the control, message).
pub type FillError = (u16, String);

/// Executes open order `id` of `account_id` at `price` (default: the quote): the order becomes
/// `EXECUTED`, the position moves through an applied BUY/SELL activity (fee = commission), and cash
/// moves as [`super::money`] says. Returns the order and the account's authorization id.
pub fn fill(
    state: &mut SnapState,
    account_id: &str,
    id: &str,
    price: Option<Decimal>,
    unix: i64,
) -> Result<(Order, String), FillError> {
    let account = state.accounts.get(account_id).ok_or((404, format!("no SnapTrade account {account_id:?}")))?;
    let authorization_id = account.authorization_id.clone();
    let view = state.account(&account.user_id, account_id).map_err(|_| (404, "unknown account".to_owned()))?;
    let desk = Desk { account_id, seed: view.seed, brokerage: view.brokerage };
    let order = state.trading.order(account_id, id).ok_or((404, format!("no order {id:?} in account {account_id}")))?;
    if !order.status.is_open() {
        return Err((400, format!("order {id} is {}, not open", order.status.as_str())));
    }
    let listing = order.listing;
    let price = price.or(listing.quote).ok_or((400, format!("price is required: {} has no quote", listing.ticker)))?;
    let (units, action) = (order.open_quantity(), order.action);
    let effect = effect(state, &desk, listing, action, units * price);
    state.trading.move_cash(account_id, &effect.currency, effect.delta);
    let fee = crate::snaptrade::seed_json::convert(effect.commission, &effect.currency, listing.currency);
    let gross = units * price;
    let tx = Tx {
        kind: if action == Action::Buy { Kind::Buy } else { Kind::Sell },
        symbol: Some(listing.ticker.to_owned()),
        units,
        price,
        amount: if action == Action::Buy { -(gross + fee) } else { gross - fee },
        fee: Some(fee),
        currency: listing.currency.to_owned(),
        date: Date::from_days(unix.div_euclid(86_400)),
        time: Some(unix.rem_euclid(86_400) as u32),
        description: None,
        external_reference_id: Some(id.to_owned()),
    };
    // Ids come from the account and a fresh insertion number, so they cannot collide.
    let _ = state.activities.append(account_id, vec![(None, tx)], true, &activity_id);
    let order = state.trading.order_mut(account_id, id).ok_or((404, format!("no order {id:?}")))?;
    (order.filled, order.execution_price, order.status) =
        (order.total - order.canceled, Some(price), OrderStatus::Executed);
    (order.updated, order.executed) = (Some(unix), Some(unix));
    Ok((order.clone(), authorization_id))
}
