//! Every way a trading request is refused, each with a stable code and a message that tells the
//! person what to do next (the brokerage named where a broker or provider said no).

use crate::error::ErrorCode;
use crate::provider_error::ProviderError;

/// Why the gate refuses an account, as the `trading_not_allowed` message explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowedReason {
    /// The connection was authorised for reading only: reconnect it with trading.
    ReadOnlyConnection,
    /// Tributary's coverage rule does not enable trading at this institution.
    InstitutionNotEnabled,
    /// The provider serving the account cannot place orders (Plaid, IBKR Flex, Schwab direct today).
    ProviderCannotTrade,
}

impl NotAllowedReason {
    /// The stable wire name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnlyConnection => "read_only_connection",
            Self::InstitutionNotEnabled => "institution_not_enabled",
            Self::ProviderCannotTrade => "provider_cannot_trade",
        }
    }

    fn advice(self) -> &'static str {
        match self {
            Self::ReadOnlyConnection => {
                "the connection was made for reading only: reconnect with trading to place orders"
            }
            Self::InstitutionNotEnabled => "trading through Tributary is not enabled for this institution",
            Self::ProviderCannotTrade => {
                "its provider cannot place orders: connect the institution through SnapTrade with trading"
            }
        }
    }
}

/// A refused or unresolved trading request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TradingError {
    #[error("{field}: {reason}")]
    InvalidOrder { field: &'static str, reason: String },
    #[error("q: {0}")]
    InvalidQuery(String),
    /// The id asked for is kept for logs, never echoed: it may be another user's.
    #[error("that account is not one of yours")]
    AccountNotFound(String),
    #[error("account {account} cannot trade: {}", reason.advice())]
    NotAllowed { account: String, reason: NotAllowedReason },
    #[error("{brokerage} refused to trade: this app or connection is not enabled for trading there; reconnect with trading, or ask the app's operator to enable trading with the provider")]
    NotEnabled { brokerage: String },
    #[error("{brokerage} rejected the order: {reason}")]
    Rejected { brokerage: String, reason: String },
    #[error("the preview is older than 5 minutes; preview again before placing")]
    PreviewExpired,
    #[error("that preview is not one of yours (preview the order, then place its preview_id)")]
    PreviewNotFound(String),
    #[error("the {brokerage} connection needs repair before it can trade: reconnect it")]
    NeedsRepair { brokerage: String },
    #[error("placing an order needs an Idempotency-Key header (a UUID the client keeps for retries of this order)")]
    KeyRequired,
    #[error("Idempotency-Key must be a UUID (8-4-4-4-12 hexadecimal digits)")]
    KeyInvalid,
    #[error("this Idempotency-Key was used for a different order; use a new key for a new order")]
    KeyReused,
    #[error("order {order_id}: the broker's answer was lost and the order is not found at the broker yet; check the order before placing it again")]
    OutcomeUnknown { order_id: String },
    #[error("order {order_id} with this Idempotency-Key is being placed right now; ask again in a moment")]
    InProgress { order_id: String },
    #[error("the broker's order limit for this account is reached; try again in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    #[error("that order is not one of yours")]
    OrderNotFound(String),
    #[error("the order is {state}; only an open order can be cancelled")]
    NotCancellable { state: &'static str },
    #[error("{symbol:?} is not tradable in this account")]
    SymbolNotFound { symbol: String },
    /// A refusal stored with its attempt, answered again for a repeated `Idempotency-Key`.
    #[error("{message}")]
    Replayed { code: &'static str, status: u16, message: String },
}

/// Codes a stored refusal may be replayed with; any other stored code replays as `order_failed`.
const REPLAYABLE_CODES: &[&str] = &[
    "trading_not_allowed",
    "trading_not_enabled",
    "order_rejected",
    "connection_needs_repair",
    "trade_rate_limited",
    "provider_auth_failed",
    "provider_not_configured",
    "provider_rejected",
    "provider_not_found",
    "provider_user_not_found",
    "provider_endpoint_gone",
    "connection_disabled",
];

impl TradingError {
    /// The stored refusal of an attempt (its code, status and message as first answered), to
    /// answer a repeated key exactly as the first request was answered.
    pub fn replay(code: &str, status: u16, message: String) -> Self {
        let code = REPLAYABLE_CODES.iter().find(|c| **c == code).copied().unwrap_or("order_failed");
        let status = if (400..600).contains(&status) { status } else { 502 };
        Self::Replayed { code, status, message }
    }

    /// The provider's refusal of a trading call, typed: a permission refusal is `trading_not_enabled`,
    /// a disabled connection `connection_needs_repair`, a 4xx rejection `order_rejected` with the
    /// broker's reason; anything else (timeouts, 5xx, transport) stays the provider error it was.
    pub fn from_provider(error: ProviderError, brokerage: &str) -> Result<Self, ProviderError> {
        let brokerage = brokerage.to_owned();
        match error {
            ProviderError::TradingNotPermitted { .. } => Ok(Self::NotEnabled { brokerage }),
            ProviderError::ConnectionDisabled { .. } | ProviderError::ReauthRequired { .. } => {
                Ok(Self::NeedsRepair { brokerage })
            }
            ProviderError::Rejected { detail, .. } => Ok(Self::Rejected { brokerage, reason: detail }),
            ProviderError::RateLimited { retry_after_s, .. } => {
                Ok(Self::RateLimited { retry_after_s: retry_after_s.unwrap_or(1).max(1) })
            }
            other => Err(other),
        }
    }

    /// When to ask again, for refusals that say (`Retry-After`).
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_s } => Some(*retry_after_s),
            Self::InProgress { .. } => Some(1),
            _ => None,
        }
    }
}

impl ErrorCode for TradingError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidOrder { .. } => "invalid_order",
            Self::InvalidQuery(_) => "invalid_query",
            Self::AccountNotFound(_) => "account_not_found",
            Self::NotAllowed { .. } => "trading_not_allowed",
            Self::NotEnabled { .. } => "trading_not_enabled",
            Self::Rejected { .. } => "order_rejected",
            Self::PreviewExpired => "preview_expired",
            Self::PreviewNotFound(_) => "preview_not_found",
            Self::NeedsRepair { .. } => "connection_needs_repair",
            Self::KeyRequired => "idempotency_key_required",
            Self::KeyInvalid => "invalid_idempotency_key",
            Self::KeyReused => "idempotency_key_reused",
            Self::OutcomeUnknown { .. } => "order_outcome_unknown",
            Self::InProgress { .. } => "order_in_progress",
            Self::RateLimited { .. } => "trade_rate_limited",
            Self::OrderNotFound(_) => "order_not_found",
            Self::NotCancellable { .. } => "order_not_cancellable",
            Self::SymbolNotFound { .. } => "symbol_not_found",
            Self::Replayed { code, .. } => code,
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidOrder { .. } | Self::InvalidQuery(_) | Self::KeyRequired | Self::KeyInvalid => 400,
            Self::NotAllowed { .. } | Self::NotEnabled { .. } => 403,
            Self::AccountNotFound(_) | Self::PreviewNotFound(_) | Self::OrderNotFound(_) => 404,
            Self::NeedsRepair { .. }
            | Self::OutcomeUnknown { .. }
            | Self::InProgress { .. }
            | Self::NotCancellable { .. } => 409,
            Self::PreviewExpired => 410,
            Self::Rejected { .. } | Self::KeyReused | Self::SymbolNotFound { .. } => 422,
            Self::RateLimited { .. } => 429,
            Self::Replayed { status, .. } => *status,
        }
    }
}
