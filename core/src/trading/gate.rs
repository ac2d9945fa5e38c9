//! The capability gate: an account trades only when the trading capability stored at import
//! says so; a refusal explains itself from the same three inputs that capability was derived from.

use super::{NotAllowedReason, TradingError};
use crate::capabilities::{provider_supports_trading, ConnectionType};
use crate::coverage::CoverageRule;
use crate::domain::Provider;

/// What the gate knows of one account: its stored capability, and what that was derived from.
#[derive(Debug, Clone, Copy)]
pub struct TradingAccount<'a> {
    pub provider: Provider,
    pub account_id: &'a str,
    /// `accounts.cap_trading`, derived at import.
    pub stored_trading: bool,
    pub connection_type: ConnectionType,
    pub rule: Option<&'a CoverageRule>,
    /// The connection is disabled or flagged for repair.
    pub needs_repair: bool,
    /// The brokerage's name, for messages.
    pub brokerage: &'a str,
}

/// Allows the account to trade, or names why not: the provider cannot trade, the institution is
/// not enabled, the connection is read-only (in that order); a connection needing repair is
/// `connection_needs_repair` even when trading is allowed.
pub fn trading_gate(account: &TradingAccount<'_>) -> Result<(), TradingError> {
    if !account.stored_trading {
        let reason = if !provider_supports_trading(account.provider) {
            NotAllowedReason::ProviderCannotTrade
        } else if account.rule.is_some_and(|r| !r.trading_allowed) {
            NotAllowedReason::InstitutionNotEnabled
        } else {
            NotAllowedReason::ReadOnlyConnection
        };
        return Err(TradingError::NotAllowed { account: account.account_id.to_owned(), reason });
    }
    if account.needs_repair {
        return Err(TradingError::NeedsRepair { brokerage: account.brokerage.to_owned() });
    }
    Ok(())
}
