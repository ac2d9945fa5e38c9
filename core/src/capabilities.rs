//! What an account can do — trade, stream fresh data, refresh for free or for a fee — derived once
//! at import from its provider, the institution's coverage rule and the connection type, then
//! stored with the account. Run-time code reads the stored value; it never re-derives or guesses.

use crate::coverage::CoverageRule;
use crate::domain::Provider;
use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};

/// An institution without a coverage rule does not forbid trading: the connection type (which the
/// provider reports after linking) is then what decides.
pub const UNLISTED_INSTITUTION_TRADING_ALLOWED: bool = true;

/// Whether a connection was authorised for reading only or also for trading (SnapTrade's
/// authorization `type`; Plaid connections are always `read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionType {
    Read,
    Trade,
}

impl ConnectionType {
    /// Parses SnapTrade's `read` / `trade` (any case, surrounding spaces ignored).
    pub fn parse(value: &str) -> Result<Self, CapabilityError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Self::Read),
            "trade" => Ok(Self::Trade),
            _ => Err(CapabilityError::UnknownConnectionType(value.to_owned())),
        }
    }

    /// The wire name (`read`, `trade`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Trade => "trade",
        }
    }
}

/// What a manual refresh of an account costs the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshCost {
    /// No per-call fee (direct feeds such as Schwab's own API).
    Free,
    /// Every refresh call is billed (Plaid `/investments/refresh`, SnapTrade manual refresh).
    Paid,
}

impl RefreshCost {
    /// The storage and wire name (`free`, `paid`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Paid => "paid",
        }
    }
}

/// The capabilities stored on an account at import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub trading: bool,
    pub realtime: bool,
    pub refresh_cost: RefreshCost,
}

/// Why a capability input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    #[error("unknown connection type {0:?}; expected read or trade")]
    UnknownConnectionType(String),
}

impl ErrorCode for CapabilityError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownConnectionType(_) => "unknown_connection_type",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// Whether Tributary can place orders through this provider at all (SnapTrade yes, Plaid no).
pub fn provider_supports_trading(provider: Provider) -> bool {
    provider.spec().supports_trading
}

/// Whether the provider serves positions fresh from the broker rather than from a daily snapshot.
pub fn provider_is_realtime(provider: Provider) -> bool {
    provider.spec().realtime
}

/// What a manual refresh through this provider costs (SnapTrade and Plaid bill per call).
pub fn provider_refresh_cost(provider: Provider) -> RefreshCost {
    provider.spec().refresh_cost
}

/// Whether the coverage rule lets an institution be traded through `provider` (no rule: see
/// [`UNLISTED_INSTITUTION_TRADING_ALLOWED`]).
pub fn trading_possible(provider: Provider, rule: Option<&CoverageRule>) -> bool {
    provider_supports_trading(provider) && rule.map_or(UNLISTED_INSTITUTION_TRADING_ALLOWED, |r| r.trading_allowed)
}

/// Whether link-time routing may promise trading at an institution through `provider`: the
/// provider is one routing sends trading to (SnapTrade; Schwab direct trades for the accounts
/// already connected through it but is not chosen for trading) and the coverage rule allows it.
pub fn routing_can_trade(provider: Provider, rule: Option<&CoverageRule>) -> bool {
    provider.spec().routes_trading && trading_possible(provider, rule)
}

/// Capabilities of an account: trading only when the provider supports it AND the coverage rule
/// allows it AND the connection was authorised for trading.
pub fn capabilities_for(
    provider: Provider,
    rule: Option<&CoverageRule>,
    connection_type: ConnectionType,
) -> Capabilities {
    Capabilities {
        trading: trading_possible(provider, rule) && connection_type == ConnectionType::Trade,
        realtime: provider_is_realtime(provider),
        refresh_cost: provider_refresh_cost(provider),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::CoverageMap;
    use crate::domain::InstitutionSlug;

    fn rule(slug: &str) -> &'static CoverageRule {
        CoverageMap::embedded().rule(&InstitutionSlug::parse(slug).unwrap()).unwrap()
    }

    #[test]
    fn schwab_on_snaptrade_with_a_trade_connection_can_trade() {
        let caps = capabilities_for(Provider::SnapTrade, Some(rule("charles_schwab")), ConnectionType::Trade);
        assert_eq!(caps, Capabilities { trading: true, realtime: true, refresh_cost: RefreshCost::Paid });
    }

    #[test]
    fn trading_needs_provider_support_coverage_permission_and_a_trade_connection() {
        let schwab = Some(rule("charles_schwab"));
        assert!(!capabilities_for(Provider::SnapTrade, schwab, ConnectionType::Read).trading);
        assert!(!capabilities_for(Provider::Plaid, schwab, ConnectionType::Trade).trading);
        assert!(!capabilities_for(Provider::SnapTrade, Some(rule("fidelity")), ConnectionType::Trade).trading);
    }

    #[test]
    fn unlisted_institution_trading_is_decided_by_the_connection_type() {
        assert!(capabilities_for(Provider::SnapTrade, None, ConnectionType::Trade).trading);
        assert!(!capabilities_for(Provider::SnapTrade, None, ConnectionType::Read).trading);
        assert!(!capabilities_for(Provider::Plaid, None, ConnectionType::Trade).trading);
    }

    #[test]
    fn plaid_accounts_are_not_realtime_and_refresh_is_paid() {
        let caps = capabilities_for(Provider::Plaid, Some(rule("chase")), ConnectionType::Read);
        assert_eq!(caps, Capabilities { trading: false, realtime: false, refresh_cost: RefreshCost::Paid });
        assert_eq!(
            serde_json::to_value(caps).unwrap(),
            serde_json::json!({"trading":false,"realtime":false,"refresh_cost":"paid"})
        );
    }

    #[test]
    fn connection_type_parses_snaptrade_strings_and_refuses_others() {
        assert_eq!(ConnectionType::parse("trade"), Ok(ConnectionType::Trade));
        assert_eq!(ConnectionType::parse(" READ "), Ok(ConnectionType::Read));
        let err = ConnectionType::parse("trade-if-available").unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("unknown_connection_type", 400));
        assert_eq!(serde_json::to_string(&ConnectionType::Trade).unwrap(), "\"trade\"");
        assert_eq!(serde_json::to_string(&RefreshCost::Free).unwrap(), "\"free\"");
    }
}
