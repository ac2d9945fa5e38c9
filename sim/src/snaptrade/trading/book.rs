//! What the simulated brokers remember about trading, per account: the test settings, orders,
//! placement requests, cash moved by fills, the last trade (for the soft rate limit), and the
//! checked trades (`tradeId`s) impact handed out. Time is always an argument, never read here.
//!
//! Bounds: at most [`MAX_ORDERS`] orders and [`MAX_ORDERS`] placements per account (the oldest are
//! dropped first) and [`MAX_TRADES`] checked trades in all (expired ones, then the soonest to
//! expire, are dropped first).

use super::form::{Action, OrderRequest, OrderType, TimeInForce};
use crate::snaptrade::symbols::Listing;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Orders (and placement records) kept per account.
pub const MAX_ORDERS: usize = 10_000;
/// Checked trades kept in all.
pub const MAX_TRADES: usize = 10_000;
/// How long a `tradeId` from impact stays placeable (SnapTrade: 5 minutes).
pub const TRADE_TTL: Duration = Duration::from_secs(300);
/// SnapTrade's soft limit: one trade per this interval per account (when the test enables it).
pub const TRADE_INTERVAL: Duration = Duration::from_secs(1);

/// An order's status (the subset of `AccountOrderRecordStatus` the simulator produces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Accepted,
    Queued,
    Executed,
    Canceled,
}

impl OrderStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Accepted => "ACCEPTED",
            OrderStatus::Queued => "QUEUED",
            OrderStatus::Executed => "EXECUTED",
            OrderStatus::Canceled => "CANCELED",
        }
    }

    /// `PENDING`, `ACCEPTED` or `QUEUED` (the statuses a new order may be given).
    pub fn parse_open(s: &str) -> Option<Self> {
        [OrderStatus::Pending, OrderStatus::Accepted, OrderStatus::Queued].into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the order still waits for execution (and so may be filled or cancelled).
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Accepted | OrderStatus::Queued)
    }
}

/// One order leg at the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub brokerage_order_id: String,
    pub account_id: String,
    pub client_order_id: Option<String>,
    pub listing: &'static Listing,
    pub action: Action,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    /// Units ordered (for a notional order: the notional over the estimated price, to 6 places).
    pub total: Decimal,
    pub filled: Decimal,
    pub canceled: Decimal,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub execution_price: Option<Decimal>,
    pub status: OrderStatus,
    /// Unix seconds.
    pub placed: i64,
    pub updated: Option<i64>,
    pub executed: Option<i64>,
    pub expiry_date: Option<String>,
}

impl Order {
    /// Units neither filled nor cancelled.
    pub fn open_quantity(&self) -> Decimal {
        self.total - self.filled - self.canceled
    }
}

/// What became of one placement request the broker received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceOutcome {
    /// A new order, answered normally.
    Created,
    /// The broker deduplicated on `client_order_id` and answered with the existing order.
    Deduplicated,
    /// The broker refused it (the `reject` setting); no order.
    Rejected,
    /// A new order, then a 500 (the `accept_then_500` setting).
    CreatedThen500,
    /// A new order, then a held answer and a 504 (the `accept_then_timeout` setting).
    CreatedThenTimeout,
}

impl PlaceOutcome {
    /// The control's spelling: `created`, `deduplicated`, `rejected`, `created_then_500`, `created_then_timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceOutcome::Created => "created",
            PlaceOutcome::Deduplicated => "deduplicated",
            PlaceOutcome::Rejected => "rejected",
            PlaceOutcome::CreatedThen500 => "created_then_500",
            PlaceOutcome::CreatedThenTimeout => "created_then_timeout",
        }
    }

    /// Whether a new order was made.
    pub fn created(self) -> bool {
        matches!(self, PlaceOutcome::Created | PlaceOutcome::CreatedThen500 | PlaceOutcome::CreatedThenTimeout)
    }
}

/// One placement request (`POST /trade/place` or `POST /trade/{tradeId}`) that reached the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub account_id: String,
    pub client_order_id: Option<String>,
    /// The checked trade placed, for `POST /trade/{tradeId}`.
    pub trade_id: Option<String>,
    /// The order made or returned (`None` when rejected).
    pub brokerage_order_id: Option<String>,
    pub outcome: PlaceOutcome,
    /// Unix seconds.
    pub at: i64,
}

/// What the next placements in an account do instead of succeeding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextPlace {
    Reject { reason: String },
    AcceptThen500,
    AcceptThenTimeout,
}

/// An account's trading behaviour, set by `POST /__sim/snaptrade/trading`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradingSettings {
    /// `false`: every impact, place and cancel answers 403 as for an app without trading.
    pub app_trading_enabled: bool,
    /// Whether a repeated `client_order_id` returns the existing order instead of a new one.
    pub broker_dedupes_client_order_id: bool,
    pub next_place: Option<NextPlace>,
    /// Placements `next_place` still applies to.
    pub times: u32,
    /// Whether the one-trade-per-second soft limit is enforced.
    pub rate_limit: bool,
    /// The status new orders get (an open one).
    pub order_status: OrderStatus,
}

impl Default for TradingSettings {
    fn default() -> Self {
        Self {
            app_trading_enabled: true,
            broker_dedupes_client_order_id: false,
            next_place: None,
            times: 0,
            rate_limit: false,
            order_status: OrderStatus::Accepted,
        }
    }
}

/// A checked trade handed out by impact.
#[derive(Clone, Debug)]
pub struct PendingTrade {
    pub user_id: String,
    pub request: OrderRequest,
    pub expires: Instant,
}

/// Why a `tradeId` cannot be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeLookup {
    Unknown,
    Expired,
}

/// All trading state, keyed by account id.
#[derive(Debug, Default)]
pub struct TradingState {
    settings: HashMap<String, TradingSettings>,
    orders: HashMap<String, VecDeque<Order>>,
    placements: HashMap<String, VecDeque<Placement>>,
    trades: HashMap<String, PendingTrade>,
    last_trade: HashMap<String, Instant>,
    cash: HashMap<String, BTreeMap<String, Decimal>>,
}

fn push_capped<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.len() >= MAX_ORDERS {
        queue.pop_front();
    }
    queue.push_back(item);
}

impl TradingState {
    /// The account's settings (the defaults until a test sets them).
    pub fn settings(&self, account: &str) -> TradingSettings {
        self.settings.get(account).cloned().unwrap_or_default()
    }

    /// Replaces the account's settings.
    pub fn set_settings(&mut self, account: &str, settings: TradingSettings) {
        self.settings.insert(account.to_owned(), settings);
    }

    /// The `next_place` behaviour for one placement, counting it down.
    pub fn take_next_place(&mut self, account: &str) -> Option<NextPlace> {
        let settings = self.settings.get_mut(account)?;
        let next = settings.next_place.clone()?;
        settings.times = settings.times.saturating_sub(1);
        if settings.times == 0 {
            settings.next_place = None;
        }
        Some(next)
    }

    /// Counts one trade at `now`, or the whole seconds to wait when the soft limit is on and the
    /// previous trade was less than [`TRADE_INTERVAL`] ago (a refused trade does not count).
    pub fn throttle(&mut self, account: &str, now: Instant) -> Result<(), u64> {
        if !self.settings(account).rate_limit {
            return Ok(());
        }
        if let Some(last) = self.last_trade.get(account) {
            let wait = TRADE_INTERVAL.saturating_sub(now.saturating_duration_since(*last));
            if !wait.is_zero() {
                return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
            }
        }
        self.last_trade.insert(account.to_owned(), now);
        Ok(())
    }

    /// Stores a checked trade under `id`, valid until `now` + [`TRADE_TTL`].
    pub fn add_trade(&mut self, id: String, user_id: &str, request: OrderRequest, now: Instant) {
        if self.trades.len() >= MAX_TRADES {
            self.trades.retain(|_, t| t.expires > now);
        }
        if self.trades.len() >= MAX_TRADES {
            if let Some(soonest) = self.trades.iter().min_by_key(|(_, t)| t.expires).map(|(id, _)| id.clone()) {
                self.trades.remove(&soonest);
            }
        }
        self.trades.insert(id, PendingTrade { user_id: user_id.to_owned(), request, expires: now + TRADE_TTL });
    }

    /// The user's checked trade `id`, if it is still valid at `now` (another user's is unknown).
    pub fn trade(&self, id: &str, user_id: &str, now: Instant) -> Result<&PendingTrade, TradeLookup> {
        let trade = self.trades.get(id).filter(|t| t.user_id == user_id).ok_or(TradeLookup::Unknown)?;
        if trade.expires <= now {
            return Err(TradeLookup::Expired);
        }
        Ok(trade)
    }

    /// Stores a new order (the account's oldest is dropped beyond [`MAX_ORDERS`]).
    pub fn add_order(&mut self, order: Order) {
        push_capped(self.orders.entry(order.account_id.clone()).or_default(), order);
    }

    /// The account's orders, newest first.
    pub fn orders(&self, account: &str) -> impl Iterator<Item = &Order> {
        self.orders.get(account).into_iter().flat_map(|q| q.iter().rev())
    }

    /// The account's order `brokerage_order_id`.
    pub fn order(&self, account: &str, brokerage_order_id: &str) -> Option<&Order> {
        self.orders(account).find(|o| o.brokerage_order_id == brokerage_order_id)
    }

    /// The account's order `brokerage_order_id`, mutably.
    pub fn order_mut(&mut self, account: &str, brokerage_order_id: &str) -> Option<&mut Order> {
        self.orders.get_mut(account)?.iter_mut().find(|o| o.brokerage_order_id == brokerage_order_id)
    }

    /// The account's oldest order placed with `client_order_id`.
    pub fn order_by_client_id(&self, account: &str, client_order_id: &str) -> Option<&Order> {
        let orders = self.orders.get(account)?;
        orders.iter().find(|o| o.client_order_id.as_deref() == Some(client_order_id))
    }

    /// Records one placement request (the account's oldest is dropped beyond [`MAX_ORDERS`]).
    pub fn record(&mut self, placement: Placement) {
        push_capped(self.placements.entry(placement.account_id.clone()).or_default(), placement);
    }

    /// The account's placement requests, oldest first.
    pub fn placements(&self, account: &str) -> Vec<Placement> {
        self.placements.get(account).map(|q| q.iter().cloned().collect()).unwrap_or_default()
    }

    /// Every account that has placement records.
    pub fn placement_accounts(&self) -> Vec<String> {
        let mut accounts: Vec<String> = self.placements.keys().cloned().collect();
        accounts.sort();
        accounts
    }

    /// Placements that made a second order for a `client_order_id` (or a `tradeId`) that had
    /// already made one in the account.
    pub fn duplicates(&self, account: &str) -> usize {
        let mut seen: HashSet<(bool, &str)> = HashSet::new();
        let mut duplicates = 0;
        for p in self.placements.get(account).into_iter().flatten().filter(|p| p.outcome.created()) {
            let keys = [(false, p.client_order_id.as_deref()), (true, p.trade_id.as_deref())];
            let mut repeated = false;
            for (is_trade, key) in keys {
                if let Some(key) = key {
                    repeated |= !seen.insert((is_trade, key));
                }
            }
            duplicates += usize::from(repeated);
        }
        duplicates
    }

    /// Cash moved by fills in the account, per currency.
    pub fn cash_changes(&self, account: &str) -> Option<&BTreeMap<String, Decimal>> {
        self.cash.get(account).filter(|c| !c.is_empty())
    }

    /// Moves the account's `currency` cash by `delta` (left as it is if the sum would overflow).
    pub fn move_cash(&mut self, account: &str, currency: &str, delta: Decimal) {
        let cash = self.cash.entry(account.to_owned()).or_default().entry(currency.to_owned()).or_default();
        *cash = cash.checked_add(delta).unwrap_or(*cash);
    }
}
