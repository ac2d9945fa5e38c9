//! The order desk: previewOrder, place, replace, cancel and the reads, each over the Schwab state
//! with the time passed in ([`Now`]); the test-only fill is in [`super::fill`]. The handlers in [`super::routes`] only lock,
//! call one of these and render; the order of the checks is the one in [`super`]'s module doc.

use super::book::{NextPlace, Order, OrderStatus, PlaceOutcome, Placement};
use super::form::{self, FormError, Instruction, OrderRequest};
use super::holdings::long_quantity;
use super::money::{self, Costs};
use super::query::OrdersQuery;
use super::quotes::{self, Quote};
use super::wire::{order_json, preview_json, Finding, Preview};
use super::{Now, OrderError};
use crate::schwab::history::{accounts_of, SchwabAccount};
use crate::schwab::state::SchwabState;
use rust_decimal::Decimal;
use serde_json::Value;

/// How far (10 %) a limit price may stray from the last price before previewOrder warns.
pub const FAR_LIMIT: Decimal = Decimal::from_parts(10, 0, 0, false, 2);
/// The `activityMessage` of a `reject` setting given without a reason.
pub const DEFAULT_REJECT_REASON: &str = "Your order cannot be accepted at this time.";
/// The `statusDescription` of a cancelled order.
pub const CANCELED_DESCRIPTION: &str = "Canceled at the client's request.";

/// The caller's account whose `hashValue` is `hash` (a plain number or another customer's hash is not).
fn account(state: &SchwabState, customer: &str, hash: &str) -> Result<SchwabAccount, OrderError> {
    accounts_of(state, customer).into_iter().find(|a| a.hash == hash).ok_or(OrderError::InvalidAccount)
}

/// The price the order is valued at: its limit price, else the quote's last.
fn valued_at(request: &OrderRequest, quote: Option<&Quote>) -> Decimal {
    match request.price {
        Some(limit) if request.order_type.has_limit() => limit,
        _ => quote.map(|q| q.last).unwrap_or_default(),
    }
}

/// The rule rejections of `request` in `account`, in order: no quote; a BUY costing more than the
/// available funds; a SELL of more than the long quantity held.
fn rule_rejects(request: &OrderRequest, account: &Value, quote: Option<&Quote>, costs: &Costs) -> Vec<Finding> {
    let mut rejects = Vec::new();
    if quote.is_none() {
        let message = format!("{} is not a valid symbol or is not eligible for trading.", request.symbol);
        rejects.push(Finding { rule: "SymbolValidation", message });
    }
    let funds = money::available_funds(account);
    let needed = costs.value + costs.charges();
    if request.instruction == Instruction::Buy && needed > funds {
        let message = format!(
            "Your order exceeds your available funds: it needs ${} and ${} is available.",
            needed.normalize(),
            funds.normalize()
        );
        rejects.push(Finding { rule: "AvailableFunds", message });
    }
    if request.instruction == Instruction::Sell && request.quantity > long_quantity(account, &request.symbol) {
        let message = "This order may result in an oversold position in your account. Please check your position \
                       quantity and/or open orders."
            .to_owned();
        rejects.push(Finding { rule: "OversoldPosition", message });
    }
    rejects
}

/// The warnings of an acceptable order: a limit price more than [`FAR_LIMIT`] away from the last price.
fn warnings(request: &OrderRequest, quote: Option<&Quote>) -> Vec<Finding> {
    let far = match (request.price, quote) {
        (Some(limit), Some(q)) if !q.last.is_zero() => ((limit - q.last).abs() / q.last) > FAR_LIMIT,
        _ => false,
    };
    let message = "Your limit price is significantly away from the current market price.".to_owned();
    if far {
        vec![Finding { rule: "LimitPriceAwayFromMarket", message }]
    } else {
        Vec::new()
    }
}

/// `POST …/previewOrder`: the `PreviewOrder` of the body; nothing is stored or counted down.
pub fn preview(state: &SchwabState, customer: &str, hash: &str, body: &[u8], now: Now) -> Result<Value, OrderError> {
    let account = account(state, customer, hash)?;
    if !state.orders.settings(hash).app_trading_enabled {
        return Err(OrderError::Forbidden);
    }
    let request = form::parse_order(body).map_err(OrderError::Invalid)?;
    let quote = quotes::quote(&request.symbol, &account.account);
    let costs = money::costs(request.instruction, request.quantity, valued_at(&request, quote.as_ref()));
    let mut rejects = rule_rejects(&request, &account.account, quote.as_ref(), &costs);
    if let Some(reason) = state.orders.pending_reject(hash) {
        rejects.push(Finding { rule: "SimulatedRejection", message: reason });
    }
    let warns = if rejects.is_empty() { warnings(&request, quote.as_ref()) } else { Vec::new() };
    let delta = costs.cash_delta();
    let preview = Preview {
        account_number: &account.number,
        entered: now.unix_ms.div_euclid(1000),
        request: &request,
        quote: quote.as_ref(),
        costs,
        projected_available_fund: money::available_funds(&account.account) + delta,
        projected_buying_power: money::buying_power(&account.account) + delta,
        rejects,
        warns,
    };
    Ok(preview_json(&preview))
}

/// What the handler answers after a placement that made an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// 201 + `Location`.
    Created,
    /// 500 (the order exists).
    Fail500,
    /// Held, then 504 (the order exists).
    Timeout,
}

/// The order a placement made and what to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub order_id: u64,
    pub after: After,
}

/// The open order `id` of the account, for a replace or cancel: 404 unknown, 400 `refusal` when closed.
fn open_order(state: &SchwabState, hash: &str, id: &str, refusal: &str) -> Result<u64, OrderError> {
    let order = id.parse::<u64>().ok().and_then(|id| state.orders.order(hash, id)).ok_or(OrderError::NotFound)?;
    if !order.status.is_open() {
        return Err(OrderError::NotOpen(format!("{refusal}: its status is {}", order.status.as_str())));
    }
    Ok(order.order_id)
}

/// The app permission (403) and the account's order limit (429) of one order write.
fn admit_write(state: &mut SchwabState, hash: &str, now: Now) -> Result<(), (PlaceOutcome, OrderError)> {
    if !state.orders.settings(hash).app_trading_enabled {
        return Err((PlaceOutcome::Forbidden, OrderError::Forbidden));
    }
    state
        .orders
        .count_write(hash, now.instant)
        .map_err(|retry_after| (PlaceOutcome::Throttled, OrderError::Throttled { retry_after }))
}

/// `POST …/orders` (`replacing` None) or `PUT …/orders/{replacing}`: a new order from the body,
/// after the checks of the module doc; a replace also marks the old order REPLACED.
pub fn place(
    state: &mut SchwabState,
    customer: &str,
    hash: &str,
    body: &[u8],
    replacing: Option<&str>,
    now: Now,
) -> Result<Placed, OrderError> {
    let account = account(state, customer, hash)?;
    let parsed = form::parse_order(body);
    let terms = parsed.as_ref().ok();
    let record = |outcome, order_id| Placement {
        customer: customer.to_owned(),
        account_number: account.number.clone(),
        order_id,
        symbol: terms.map(|t| t.symbol.clone()),
        instruction: terms.map(|t| t.instruction),
        quantity: terms.map(|t| t.quantity),
        outcome,
        at_ms: now.unix_ms,
    };
    if let Err((outcome, refusal)) = admit_write(state, hash, now) {
        state.orders.record(record(outcome, None));
        return Err(refusal);
    }
    let old = replacing.map(|id| open_order(state, hash, id, "Order cannot be replaced")).transpose()?;
    let request = parsed.as_ref().map_err(|e: &FormError| OrderError::Invalid(e.clone()))?;
    let quote = quotes::quote(&request.symbol, &account.account);
    let costs = money::costs(request.instruction, request.quantity, valued_at(request, quote.as_ref()));
    let refused = rule_rejects(request, &account.account, quote.as_ref(), &costs).into_iter().next();
    let decided = match (refused, quote) {
        (Some(finding), _) => Err(finding.message),
        (None, None) => Err(format!("{} is not a valid symbol or is not eligible for trading.", request.symbol)),
        (None, Some(quote)) => match state.orders.take_next_place(hash) {
            Some(NextPlace::Reject { reason }) => Err(reason),
            Some(NextPlace::AcceptThen500) => Ok((quote, PlaceOutcome::CreatedThen500, After::Fail500)),
            Some(NextPlace::AcceptThenTimeout) => Ok((quote, PlaceOutcome::CreatedThenTimeout, After::Timeout)),
            None => Ok((quote, PlaceOutcome::Created, After::Created)),
        },
    };
    let (quote, outcome, after) = decided.map_err(|reason| {
        state.orders.record(record(PlaceOutcome::Rejected, None));
        OrderError::Rejected(reason)
    })?;
    let order_id = state.orders.next_order_id();
    let order = Order {
        order_id,
        customer: customer.to_owned(),
        account_hash: hash.to_owned(),
        account_number: account.number.clone(),
        symbol: quote.symbol.clone(),
        asset_type: quote.asset_type.clone(),
        cusip: quote.cusip.clone(),
        instruction: request.instruction,
        quantity: request.quantity,
        filled_quantity: Decimal::ZERO,
        order_type: request.order_type,
        session: request.session,
        duration: request.duration,
        price: request.price,
        stop_price: request.stop_price,
        status: state.orders.settings(hash).order_status,
        entered_ms: now.unix_ms,
        closed_ms: None,
        execution: None,
        status_description: None,
    };
    if let Some(old) = old.and_then(|id| state.orders.order_mut(hash, id)) {
        (old.status, old.closed_ms) = (OrderStatus::Replaced, Some(now.unix_ms));
    }
    state.orders.record(record(outcome, Some(order_id)));
    state.orders.add_order(order);
    Ok(Placed { order_id, after })
}

/// `DELETE …/orders/{orderId}`: an open order becomes CANCELED (403/429 first, 404 unknown, 400 closed).
pub fn cancel(state: &mut SchwabState, customer: &str, hash: &str, id: &str, now: Now) -> Result<(), OrderError> {
    account(state, customer, hash)?;
    admit_write(state, hash, now).map_err(|(_, refusal)| refusal)?;
    let id = open_order(state, hash, id, "Order cannot be cancelled")?;
    if let Some(order) = state.orders.order_mut(hash, id) {
        (order.status, order.closed_ms) = (OrderStatus::Canceled, Some(now.unix_ms));
        order.status_description = Some(CANCELED_DESCRIPTION.to_owned());
    }
    Ok(())
}

/// `GET …/orders/{orderId}`: the account's order (404 unknown or another account's).
pub fn order(state: &SchwabState, customer: &str, hash: &str, id: &str) -> Result<Value, OrderError> {
    account(state, customer, hash)?;
    let order = id.parse::<u64>().ok().and_then(|id| state.orders.order(hash, id)).ok_or(OrderError::NotFound)?;
    Ok(order_json(order))
}

/// `GET …/orders?…`: the account's orders entered in the window (and of the status), newest first.
pub fn orders(state: &SchwabState, customer: &str, hash: &str, query: &OrdersQuery) -> Result<Vec<Value>, OrderError> {
    account(state, customer, hash)?;
    let mut found: Vec<&Order> = state.orders.account_orders(hash).filter(|o| query.keeps(o)).collect();
    found.sort_by_key(|o| std::cmp::Reverse((o.entered_ms, o.order_id)));
    Ok(found.into_iter().take(query.max_results).map(order_json).collect())
}
