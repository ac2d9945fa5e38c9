//! The broker's side of an order as Tributary reads it, and which of the broker's recent orders an
//! unknown attempt became: the `client_order_id` when the broker echoes it, else the one unclaimed
//! order with the same instrument, side and quantity placed around the time it was sent.

use super::{OrderAction, OrderState};
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// How long before its send an order's `time_placed` may read (clock skew between us and the broker).
const MATCH_BEFORE_S: i64 = 120;
/// How long after its send an order's `time_placed` may read (the broker's queue).
const MATCH_AFTER_S: i64 = 600;

/// An instrument a provider can trade in one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradableSymbol {
    pub symbol_id: String,
    pub symbol: String,
    pub raw_symbol: Option<String>,
    pub description: Option<String>,
    pub currency: Option<String>,
    pub exchange: Option<String>,
    pub kind: Option<String>,
}

/// One order as the broker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOrder {
    pub brokerage_order_id: String,
    /// Only when the provider echoes it (SnapTrade's order records do not, today).
    pub client_order_id: Option<String>,
    pub symbol: Option<String>,
    pub symbol_id: Option<String>,
    pub action: Option<OrderAction>,
    pub state: OrderState,
    /// The provider's own status word.
    pub status: Option<String>,
    pub total_units: Option<Decimal>,
    pub filled_units: Option<Decimal>,
    pub execution_price: Option<Decimal>,
    pub placed_at: Option<i64>,
}

/// What an attempt asked the broker for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedIntent<'a> {
    pub client_order_id: &'a str,
    pub symbol: &'a str,
    pub symbol_id: &'a str,
    pub action: OrderAction,
    /// `None` for an order by amount (its units are the broker's to decide).
    pub units: Option<Decimal>,
    pub sent_at: i64,
}

/// Which broker order an attempt became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match<'a> {
    Found(&'a ProviderOrder),
    None,
    /// More than one unclaimed order fits: Tributary will not guess which.
    Ambiguous,
}

fn same_instrument(order: &ProviderOrder, intent: &PlacedIntent<'_>) -> bool {
    let id = order.symbol_id.as_deref().is_some_and(|id| id == intent.symbol_id);
    let ticker = order.symbol.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(intent.symbol));
    id || ticker
}

/// The broker order `intent` became among `orders`, skipping those another attempt already
/// `claimed` (by brokerage order id). An echoed `client_order_id` decides alone; otherwise
/// instrument, side, units (when ordered by units) and a placement time from 2 minutes before
/// to 10 minutes after the send must all agree, for exactly one order.
pub fn find_placed<'a>(
    orders: &'a [ProviderOrder],
    intent: &PlacedIntent<'_>,
    claimed: &BTreeSet<String>,
) -> Match<'a> {
    if let Some(order) = orders
        .iter()
        .find(|o| o.client_order_id.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(intent.client_order_id)))
    {
        return Match::Found(order);
    }
    let window = intent.sent_at - MATCH_BEFORE_S..=intent.sent_at + MATCH_AFTER_S;
    let mut candidates = orders.iter().filter(|o| {
        o.client_order_id.is_none()
            && !claimed.contains(&o.brokerage_order_id)
            && same_instrument(o, intent)
            && o.action == Some(intent.action)
            && intent.units.is_none_or(|u| o.total_units.is_some_and(|t| t.normalize() == u.normalize()))
            && o.placed_at.is_some_and(|at| window.contains(&at))
    });
    match (candidates.next(), candidates.next()) {
        (Some(order), None) => Match::Found(order),
        (None, _) => Match::None,
        (Some(_), Some(_)) => Match::Ambiguous,
    }
}
