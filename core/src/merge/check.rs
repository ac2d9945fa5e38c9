//! The checks a provider's holdings pass before they are merged: every row belongs to the provider
//! that returned it, and no amount is so large it can only be garbage. A result that fails is
//! reported as failed — loudly, with a code — instead of being merged wrong or half-merged.

use super::{ProviderFailure, ProviderResult};
use crate::domain::{Holdings, Provider};
use crate::error::ErrorCode;
use rust_decimal::Decimal;

/// 10^18: no real quantity, price or amount comes near it. Bounding inputs here also means sums in
/// merge cannot overflow (that would take more than 79 billion rows).
pub const MAX_PLAUSIBLE_MAGNITUDE: Decimal = Decimal::from_parts(0xA764_0000, 0x0DE0_B6B3, 0, false, 0);

/// Why a provider's holdings were refused by the merge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldingsCheckError {
    #[error("{provider} returned a row labelled {found} (account {account_id}); rows must come from the provider that returned them")]
    ProviderMismatch { provider: Provider, found: Provider, account_id: String },
    #[error(
        "{provider} reported an implausible {field} of {value} in account {account_id}; its holdings were not merged"
    )]
    Implausible { provider: Provider, field: &'static str, value: Decimal, account_id: String },
}

impl ErrorCode for HoldingsCheckError {
    fn code(&self) -> &'static str {
        match self {
            Self::ProviderMismatch { .. } => "inconsistent_holdings",
            Self::Implausible { .. } => "implausible_holdings",
        }
    }
    fn http_status(&self) -> u16 {
        502
    }
}

/// Passes `holdings` of `provider` or names the first row that cannot be merged.
pub fn check_holdings(provider: Provider, holdings: &Holdings) -> Result<(), HoldingsCheckError> {
    let owners = holdings
        .accounts
        .iter()
        .map(|a| (a.provider, &a.account_id))
        .chain(holdings.positions.iter().map(|p| (p.provider, &p.account_id)))
        .chain(holdings.balances.iter().map(|b| (b.provider, &b.account_id)));
    for (found, account_id) in owners {
        if found != provider {
            return Err(HoldingsCheckError::ProviderMismatch { provider, found, account_id: account_id.clone() });
        }
    }
    let amounts = holdings
        .positions
        .iter()
        .flat_map(|p| {
            [
                ("quantity", Some(p.quantity.0)),
                ("price", p.price),
                ("market_value", p.market_value),
                ("cost_basis", p.cost_basis),
            ]
            .map(|(field, value)| (field, value, &p.account_id))
        })
        .chain(holdings.balances.iter().flat_map(|b| {
            [("cash", Some(b.amount)), ("buying_power", b.buying_power)]
                .map(|(field, value)| (field, value, &b.account_id))
        }));
    for (field, value, account_id) in amounts {
        if let Some(value) = value.filter(|v| v.abs() > MAX_PLAUSIBLE_MAGNITUDE) {
            return Err(HoldingsCheckError::Implausible { provider, field, value, account_id: account_id.clone() });
        }
    }
    Ok(())
}

/// The same result, or a `Failed` one when its holdings do not pass [`check_holdings`].
pub(super) fn reject_unusable(result: ProviderResult) -> ProviderResult {
    match &result {
        ProviderResult::Ok { provider, holdings, .. } => match check_holdings(*provider, holdings) {
            Ok(()) => result,
            Err(err) => ProviderResult::Failed { provider: *provider, error: ProviderFailure::from_error(&err) },
        },
        _ => result,
    }
}
