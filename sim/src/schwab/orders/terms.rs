//! The terms of a single-leg equity order as the simulator knows them: the enumerations an
//! OrderRequest may use (each with its wire spelling), the validated request itself (built only by
//! [`super::form::parse_order`]) and the order statuses.

use rust_decimal::Decimal;

/// `orderType` (the four the simulator accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    StopLimit,
}

impl OrderType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit => "LIMIT",
            OrderType::Stop => "STOP",
            OrderType::StopLimit => "STOP_LIMIT",
        }
    }

    /// Whether `price` (the limit) belongs to this type.
    pub fn has_limit(self) -> bool {
        matches!(self, OrderType::Limit | OrderType::StopLimit)
    }

    /// Whether `stopPrice` belongs to this type.
    pub fn has_stop(self) -> bool {
        matches!(self, OrderType::Stop | OrderType::StopLimit)
    }
}

/// `session`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Session {
    Normal,
    Am,
    Pm,
    Seamless,
}

impl Session {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Session::Normal => "NORMAL",
            Session::Am => "AM",
            Session::Pm => "PM",
            Session::Seamless => "SEAMLESS",
        }
    }
}

/// `duration` (the four the simulator accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderDuration {
    Day,
    GoodTillCancel,
    FillOrKill,
    ImmediateOrCancel,
}

impl OrderDuration {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderDuration::Day => "DAY",
            OrderDuration::GoodTillCancel => "GOOD_TILL_CANCEL",
            OrderDuration::FillOrKill => "FILL_OR_KILL",
            OrderDuration::ImmediateOrCancel => "IMMEDIATE_OR_CANCEL",
        }
    }
}

/// A leg's `instruction` (equity orders: BUY or SELL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instruction {
    Buy,
    Sell,
}

impl Instruction {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Instruction::Buy => "BUY",
            Instruction::Sell => "SELL",
        }
    }

    /// `OPENING` for a BUY, `CLOSING` for a SELL (no short selling is simulated).
    pub fn position_effect(self) -> &'static str {
        match self {
            Instruction::Buy => "OPENING",
            Instruction::Sell => "CLOSING",
        }
    }
}

/// A leg instrument's `assetType` as the client sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetType {
    Equity,
    CollectiveInvestment,
}

impl AssetType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Equity => "EQUITY",
            AssetType::CollectiveInvestment => "COLLECTIVE_INVESTMENT",
        }
    }
}

/// A valid single-leg equity order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub order_type: OrderType,
    pub session: Session,
    pub duration: OrderDuration,
    /// The limit price (LIMIT and STOP_LIMIT only).
    pub price: Option<Decimal>,
    /// The stop price (STOP and STOP_LIMIT only).
    pub stop_price: Option<Decimal>,
    pub instruction: Instruction,
    pub quantity: Decimal,
    /// Trimmed and upper-cased.
    pub symbol: String,
    pub asset_type: AssetType,
}

/// Schwab's `ApiOrderStatus` values (the `status` filter of `GET …/orders` accepts these).
pub const ORDER_STATUSES: [&str; 21] = [
    "AWAITING_PARENT_ORDER",
    "AWAITING_CONDITION",
    "AWAITING_STOP_CONDITION",
    "AWAITING_MANUAL_REVIEW",
    "ACCEPTED",
    "AWAITING_UR_OUT",
    "PENDING_ACTIVATION",
    "QUEUED",
    "WORKING",
    "REJECTED",
    "PENDING_CANCEL",
    "CANCELED",
    "PENDING_REPLACE",
    "REPLACED",
    "FILLED",
    "EXPIRED",
    "NEW",
    "AWAITING_RELEASE_TIME",
    "PENDING_ACKNOWLEDGEMENT",
    "PENDING_RECALL",
    "UNKNOWN",
];

/// The statuses the simulator gives orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    Queued,
    Accepted,
    PendingActivation,
    Working,
    Filled,
    Canceled,
    Replaced,
}

impl OrderStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Queued => "QUEUED",
            OrderStatus::Accepted => "ACCEPTED",
            OrderStatus::PendingActivation => "PENDING_ACTIVATION",
            OrderStatus::Working => "WORKING",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Replaced => "REPLACED",
        }
    }

    /// `QUEUED`, `ACCEPTED`, `PENDING_ACTIVATION` or `WORKING`: the statuses a new order may get.
    pub fn parse_open(s: &str) -> Option<Self> {
        [OrderStatus::Queued, OrderStatus::Accepted, OrderStatus::PendingActivation, OrderStatus::Working]
            .into_iter()
            .find(|o| o.as_str() == s)
    }

    /// Whether the order still waits for execution (so it may be filled, cancelled or replaced).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Queued | OrderStatus::Accepted | OrderStatus::PendingActivation | OrderStatus::Working
        )
    }
}
