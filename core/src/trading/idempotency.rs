//! The idempotency ledger's rules: an order attempt is reserved (one row per user and key) before
//! the broker is called, a repeated key replays the first outcome, a lost answer makes the attempt
//! `unknown` until the broker's own order list settles it, and nothing here ever calls twice.

use super::reconcile::Match;
use super::{OrderState, ProviderOrder, TradingError};
use crate::provider_error::ProviderError;
use crate::provider_spec::RateLimit;

/// How long a preview may be placed (SnapTrade's order-impact window).
pub const PREVIEW_TTL_S: i64 = 300;
/// A reserved attempt still `sending` this long after it was sent lost its request (the isolate
/// died mid-call): it is reconciled like an unknown one, never sent again.
pub const SENDING_STALE_S: i64 = 120;
/// An unknown attempt the broker still does not list this long after it was sent never reached
/// the broker: it is `failed`, and a new order may be placed.
pub const RECONCILE_GIVE_UP_S: i64 = 900;

/// A stored attempt, as the ledger sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub order_id: String,
    pub fingerprint: String,
    pub state: OrderState,
    /// When the place call was sent (the reservation time).
    pub sent_at: i64,
}

/// What a place request with a given key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceDecision {
    /// No attempt holds the key, or its attempt `failed` without reaching the broker: reserve it,
    /// then (if the reservation won) call the broker once.
    Place,
    /// The key's attempt has an outcome: answer it again.
    Replay,
    /// The key was used for a different order: 422 `idempotency_key_reused`.
    Reused,
    /// The key's attempt is being sent right now: wait for its outcome (bounded), never call.
    Wait,
    /// The key's outcome is unknown: ask the broker's order list, never call place.
    Reconcile,
}

/// Decides a place request against the attempt already holding its key, if any.
pub fn decide_place(existing: Option<&Attempt>, fingerprint: &str, now: i64) -> PlaceDecision {
    let Some(attempt) = existing else { return PlaceDecision::Place };
    if attempt.fingerprint != fingerprint {
        return PlaceDecision::Reused;
    }
    match attempt.state {
        OrderState::Sending if now.saturating_sub(attempt.sent_at) < SENDING_STALE_S => PlaceDecision::Wait,
        OrderState::Sending | OrderState::Unknown => PlaceDecision::Reconcile,
        // Nothing reached the broker (or reconciliation settled that it never did): the same
        // order may be placed again under its key.
        OrderState::Failed => PlaceDecision::Place,
        _ => PlaceDecision::Replay,
    }
}

/// A canonical UUID from the `Idempotency-Key` header (lowercased), or why not.
pub fn parse_idempotency_key(header: Option<&str>) -> Result<String, TradingError> {
    let key = header.map(str::trim).filter(|k| !k.is_empty()).ok_or(TradingError::KeyRequired)?;
    let groups: Vec<&str> = key.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let well_formed = groups.len() == 5
        && groups.iter().zip(lengths).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(TradingError::KeyInvalid);
    }
    Ok(key.to_ascii_lowercase())
}

/// What a failed place call means for the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceFailure {
    /// The broker or provider said no to this order: nothing was placed (the attempt is
    /// `rejected`, and its key answers this refusal again).
    Refused(TradingError),
    /// Refused for now (a rate limit, a connection to repair): nothing was placed (the attempt is
    /// `failed`, and its key may place again).
    Retryable(TradingError),
    /// The provider refused before any broker saw the order (our credentials, configuration):
    /// nothing was placed (the attempt is `failed`).
    Failed(ProviderError),
    /// The answer was lost (timeout, 5xx, transport, unreadable): the order may or may not be
    /// at the broker (the attempt is `unknown` and must be reconciled).
    Unknown(ProviderError),
}

/// Classifies a place call's failure: lost answers are unknown (never retried); a broker's or
/// provider's verdict on the order is a refusal; a refusal that says "not now" (a rate limit, a
/// connection to repair) or one of our own credentials is a failure the same key may retry.
pub fn classify_place_failure(error: ProviderError, brokerage: &str) -> PlaceFailure {
    match error {
        ProviderError::Timeout { .. }
        | ProviderError::ServerError { .. }
        | ProviderError::Network { .. }
        | ProviderError::Malformed { .. } => PlaceFailure::Unknown(error),
        other => match TradingError::from_provider(other, brokerage) {
            Ok(refusal @ (TradingError::RateLimited { .. } | TradingError::NeedsRepair { .. })) => {
                PlaceFailure::Retryable(refusal)
            }
            Ok(refusal) => PlaceFailure::Refused(refusal),
            Err(other) => PlaceFailure::Failed(other),
        },
    }
}

/// What reconciling an unknown attempt with the broker's order list concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileVerdict {
    /// The broker lists it: the attempt becomes this order.
    Placed(ProviderOrder),
    /// Not listed (yet), or more than one order could be it: still unknown.
    StillUnknown,
    /// Not listed long after it was sent: it never reached the broker.
    Failed,
}

/// The verdict for an attempt sent at `sent_at`, given what the broker's list matched.
pub fn reconcile_verdict(found: Match<'_>, sent_at: i64, now: i64) -> ReconcileVerdict {
    match found {
        Match::Found(order) => ReconcileVerdict::Placed(order.clone()),
        Match::Ambiguous => ReconcileVerdict::StillUnknown,
        Match::None if now.saturating_sub(sent_at) >= RECONCILE_GIVE_UP_S => ReconcileVerdict::Failed,
        Match::None => ReconcileVerdict::StillUnknown,
    }
}

/// One account's local order window: when it began and how many orders it has let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderWindow {
    pub started_at: i64,
    pub orders: u32,
}

/// What the store's one atomic statement needs to apply [`admit_order`] at `now`: a window that
/// began at or before `restart_at_or_before` is over (the order opens a new one); otherwise the
/// order is let through while the window holds fewer than `max_orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderWindowRule {
    pub restart_at_or_before: i64,
    pub max_orders: u32,
}

/// The rule [`admit_order`] applies for `limit` at `now`, in the store's terms.
pub fn order_window_rule(limit: RateLimit, now: i64) -> OrderWindowRule {
    OrderWindowRule { restart_at_or_before: now - i64::from(limit.per_seconds), max_orders: limit.requests }
}

/// Whether one more order of an account may be sent at `now` under the broker's `limit` (a fixed
/// window of `per_seconds` from its first order): the window after it, or the seconds until the
/// current window ends (at least 1) when it is full.
pub fn admit_order(current: Option<OrderWindow>, limit: RateLimit, now: i64) -> Result<OrderWindow, u64> {
    let rule = order_window_rule(limit, now);
    match current {
        Some(w) if w.started_at > rule.restart_at_or_before => {
            if w.orders < rule.max_orders {
                Ok(OrderWindow { orders: w.orders + 1, ..w })
            } else {
                Err(order_retry_after(limit, w.started_at, now))
            }
        }
        _ if rule.max_orders == 0 => Err(u64::from(limit.per_seconds.max(1))),
        _ => Ok(OrderWindow { started_at: now, orders: 1 }),
    }
}

/// Seconds until a window that began at `started_at` is over, at least 1.
pub fn order_retry_after(limit: RateLimit, started_at: i64, now: i64) -> u64 {
    let ends = started_at.saturating_add(i64::from(limit.per_seconds));
    u64::try_from(ends.saturating_sub(now)).unwrap_or(0).max(1)
}

/// What bringing a stored order up to date from its broker's recent orders does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshAction {
    /// Finished: nothing to read.
    Leave,
    /// At the broker under its brokerage order id: take its state and fills from there.
    Track,
    /// Its answer was lost (or its request died mid-send): reconcile it with the list.
    Settle,
}

/// The [`RefreshAction`] for an order in `state`, `placed` when its brokerage order id is known;
/// a `sending` one is settled only once stale (its own request may still be waiting for the answer).
pub fn refresh_action(state: OrderState, placed: bool, sent_at: i64, now: i64) -> RefreshAction {
    match state {
        _ if state.is_final() => RefreshAction::Leave,
        _ if placed => RefreshAction::Track,
        OrderState::Unknown => RefreshAction::Settle,
        OrderState::Sending if now.saturating_sub(sent_at) >= SENDING_STALE_S => RefreshAction::Settle,
        _ => RefreshAction::Leave,
    }
}
