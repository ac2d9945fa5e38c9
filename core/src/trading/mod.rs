//! Trading, decided once for every shell: the order a person asks for (validated and
//! fingerprinted), whether an account may trade at all (the gate), a preview's figures with where
//! each came from, the idempotency ledger that lets an order reach a broker at most once, how an
//! unknown outcome is reconciled with the broker's own order list, and the typed refusals.

mod errors;
mod estimate;
mod gate;
mod idempotency;
mod order;
mod reconcile;
#[cfg(test)]
mod tests;

pub use errors::{NotAllowedReason, TradingError};
pub use estimate::{estimate, BrokerImpact, CachedFacts, Estimate, Figure, FigureSource};
pub use gate::{trading_gate, TradingAccount};
pub use idempotency::{
    admit_order, classify_place_failure, decide_place, order_retry_after, order_window_rule, parse_idempotency_key,
    reconcile_verdict, refresh_action, Attempt, OrderWindow, OrderWindowRule, PlaceDecision, PlaceFailure,
    ReconcileVerdict, RefreshAction, PREVIEW_TTL_S, RECONCILE_GIVE_UP_S, SENDING_STALE_S,
};
pub use order::{
    exact_json_number, parse_symbol_query, OrderAction, OrderForm, OrderRequest, OrderSize, OrderState, OrderType,
    SymbolRef, TimeInForce, MAX_SIGNIFICANT_DIGITS,
};
pub use reconcile::{find_placed, Match, PlacedIntent, ProviderOrder, TradableSymbol};
