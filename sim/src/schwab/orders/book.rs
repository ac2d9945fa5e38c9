//! What the simulated Schwab remembers about orders: every order (ids unique across the
//! simulator, increasing from [`FIRST_ORDER_ID`]), every placement request that reached the order
//! desk, each account's test settings and the trailing window of its order writes. Accounts are
//! keyed by their `hashValue` (unique per customer and account number). Time is always an
//! argument, never read here.
//!
//! Bounds: at most [`MAX_ORDERS`] orders and [`MAX_ORDERS`] placement records in all (the oldest
//! are dropped first).

use super::terms::{Instruction, OrderDuration, OrderType, Session};
pub use super::terms::{OrderStatus, ORDER_STATUSES};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The first order id handed out (int64, like Schwab's 13-digit ids).
pub const FIRST_ORDER_ID: u64 = 1_000_000_000_001;
/// Orders (and placement records) kept in all.
pub const MAX_ORDERS: usize = 100_000;
/// The window of the per-account order limit.
pub const ORDER_WINDOW: Duration = Duration::from_secs(60);
/// The highest per-account order limit an app may choose (and the default).
pub const MAX_ORDER_LIMIT: u32 = 120;

/// The execution of a filled order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// The `activityId` (also the fill's TRADE transaction's).
    pub activity_id: u64,
    pub price: Decimal,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// One order at Schwab (single leg, equity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub order_id: u64,
    pub customer: String,
    pub account_hash: String,
    pub account_number: String,
    pub symbol: String,
    /// The instrument's own `assetType` (from the quote).
    pub asset_type: String,
    pub cusip: Option<String>,
    pub instruction: Instruction,
    pub quantity: Decimal,
    pub filled_quantity: Decimal,
    pub order_type: OrderType,
    pub session: Session,
    pub duration: OrderDuration,
    pub price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub status: OrderStatus,
    /// Unix milliseconds.
    pub entered_ms: i64,
    /// Set when the order reached a final status (filled, cancelled, replaced).
    pub closed_ms: Option<i64>,
    pub execution: Option<Execution>,
    pub status_description: Option<String>,
}

impl Order {
    /// Quantity not filled.
    pub fn remaining_quantity(&self) -> Decimal {
        self.quantity - self.filled_quantity
    }
}

/// What became of one placement request (`POST …/orders` or `PUT …/orders/{orderId}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceOutcome {
    /// A new order, answered 201.
    Created,
    /// Refused by a rule or the `reject` setting (400); no order.
    Rejected,
    /// A new order, then a 500 (the `accept_then_500` setting).
    CreatedThen500,
    /// A new order, then a held answer and a 504 (the `accept_then_timeout` setting).
    CreatedThenTimeout,
    /// Over the account's order limit (429); no order.
    Throttled,
    /// The app may not trade (403); no order.
    Forbidden,
}

impl PlaceOutcome {
    /// `created`, `rejected`, `created_then_500`, `created_then_timeout`, `throttled` or `forbidden`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceOutcome::Created => "created",
            PlaceOutcome::Rejected => "rejected",
            PlaceOutcome::CreatedThen500 => "created_then_500",
            PlaceOutcome::CreatedThenTimeout => "created_then_timeout",
            PlaceOutcome::Throttled => "throttled",
            PlaceOutcome::Forbidden => "forbidden",
        }
    }
}

/// One placement request that reached the order desk (a body that is not a valid order is not one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub customer: String,
    pub account_number: String,
    /// The order made (`None` when none was).
    pub order_id: Option<u64>,
    /// The order's terms, when the body was a valid order (a 403 or 429 may come before that check).
    pub symbol: Option<String>,
    pub instruction: Option<Instruction>,
    pub quantity: Option<Decimal>,
    pub outcome: PlaceOutcome,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// What the next placements in an account do instead of succeeding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextPlace {
    /// Rejected with this `activityMessage`.
    Reject {
        reason: String,
    },
    AcceptThen500,
    AcceptThenTimeout,
}

/// An account's trading behaviour, set by `POST /__sim/schwab/trading`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradingSettings {
    /// `false`: previewOrder and every order write answer 403.
    pub app_trading_enabled: bool,
    /// Order writes allowed per trailing 60 s (0..=120).
    pub order_limit_per_minute: u32,
    pub next_place: Option<NextPlace>,
    /// Placements `next_place` still applies to.
    pub times: u32,
    /// The status new orders get (an open one).
    pub order_status: OrderStatus,
}

impl Default for TradingSettings {
    fn default() -> Self {
        Self {
            app_trading_enabled: true,
            order_limit_per_minute: MAX_ORDER_LIMIT,
            next_place: None,
            times: 0,
            order_status: OrderStatus::Working,
        }
    }
}

/// All order state.
#[derive(Debug)]
pub struct OrderBook {
    next_id: u64,
    orders: BTreeMap<u64, Order>,
    placements: VecDeque<Placement>,
    settings: HashMap<String, TradingSettings>,
    writes: HashMap<String, VecDeque<Instant>>,
}

impl Default for OrderBook {
    fn default() -> Self {
        Self {
            next_id: FIRST_ORDER_ID,
            orders: BTreeMap::new(),
            placements: VecDeque::new(),
            settings: HashMap::new(),
            writes: HashMap::new(),
        }
    }
}

impl OrderBook {
    /// The account's settings (the defaults until a test sets them).
    pub fn settings(&self, hash: &str) -> TradingSettings {
        self.settings.get(hash).cloned().unwrap_or_default()
    }

    /// Replaces the account's settings and forgets its order-write window.
    pub fn set_settings(&mut self, hash: &str, settings: TradingSettings) {
        self.settings.insert(hash.to_owned(), settings);
        self.writes.remove(hash);
    }

    /// The reason of a pending `reject` setting, without using it up (what previewOrder shows).
    pub fn pending_reject(&self, hash: &str) -> Option<String> {
        match self.settings.get(hash)?.next_place.as_ref()? {
            NextPlace::Reject { reason } => Some(reason.clone()),
            _ => None,
        }
    }

    /// The `next_place` behaviour for one placement, counting it down.
    pub fn take_next_place(&mut self, hash: &str) -> Option<NextPlace> {
        let settings = self.settings.get_mut(hash)?;
        let next = settings.next_place.clone()?;
        settings.times = settings.times.saturating_sub(1);
        if settings.times == 0 {
            settings.next_place = None;
        }
        Some(next)
    }

    /// Counts one order write at `now` against the account's limit, or the whole seconds until a
    /// slot frees (the full window when the limit is 0); a refused write does not count.
    pub fn count_write(&mut self, hash: &str, now: Instant) -> Result<(), u64> {
        let limit = self.settings(hash).order_limit_per_minute as usize;
        let window = self.writes.entry(hash.to_owned()).or_default();
        while window.front().is_some_and(|t| now.saturating_duration_since(*t) >= ORDER_WINDOW) {
            window.pop_front();
        }
        if window.len() < limit {
            window.push_back(now);
            return Ok(());
        }
        let wait = window
            .get(window.len() - limit)
            .map_or(ORDER_WINDOW, |oldest| ORDER_WINDOW.saturating_sub(now.saturating_duration_since(*oldest)));
        Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
    }

    /// A fresh order id.
    pub fn next_order_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Stores an order (the oldest is dropped beyond [`MAX_ORDERS`]).
    pub fn add_order(&mut self, order: Order) {
        if self.orders.len() >= MAX_ORDERS {
            self.orders.pop_first();
        }
        self.orders.insert(order.order_id, order);
    }

    /// Order `id` if it belongs to the account `hash`.
    pub fn order(&self, hash: &str, id: u64) -> Option<&Order> {
        self.orders.get(&id).filter(|o| o.account_hash == hash)
    }

    /// Order `id` if it belongs to `customer`, mutably.
    pub fn customer_order_mut(&mut self, customer: &str, id: u64) -> Option<&mut Order> {
        self.orders.get_mut(&id).filter(|o| o.customer == customer)
    }

    /// Order `id` if it belongs to the account `hash`, mutably.
    pub fn order_mut(&mut self, hash: &str, id: u64) -> Option<&mut Order> {
        self.orders.get_mut(&id).filter(|o| o.account_hash == hash)
    }

    /// The account's orders, newest (highest id) first.
    pub fn account_orders<'a>(&'a self, hash: &'a str) -> impl Iterator<Item = &'a Order> + 'a {
        self.orders.values().rev().filter(move |o| o.account_hash == hash)
    }

    /// The customer's orders (every account), newest first; every customer's when `None`.
    pub fn customer_orders<'a>(&'a self, customer: Option<&'a str>) -> impl Iterator<Item = &'a Order> + 'a {
        self.orders.values().rev().filter(move |o| customer.is_none_or(|c| o.customer == c))
    }

    /// Records one placement request (the oldest is dropped beyond [`MAX_ORDERS`]).
    pub fn record(&mut self, placement: Placement) {
        if self.placements.len() >= MAX_ORDERS {
            self.placements.pop_front();
        }
        self.placements.push_back(placement);
    }

    /// The customer's placement requests, oldest first; every customer's when `None`.
    pub fn placements(&self, customer: Option<&str>) -> Vec<Placement> {
        self.placements.iter().filter(|p| customer.is_none_or(|c| p.customer == c)).cloned().collect()
    }
}
