//! The one place a provider is tied to its adapter: every shared path asks here for the
//! [`ProviderPort`] serving a provider.

use crate::port::ProviderPort;
use tributary_core::Provider;

/// The adapter serving `provider`: the one place a provider is tied to its code.
pub fn port(provider: Provider) -> &'static dyn ProviderPort {
    let adapter: &'static dyn ProviderPort = match provider {
        Provider::SnapTrade => &crate::services::snaptrade::SnapTradePort,
        Provider::Plaid => &crate::services::plaid::PlaidPort,
        Provider::Schwab => &crate::services::schwab::SchwabPort,
        Provider::IbkrFlex => &crate::services::ibkr_flex::IbkrFlexPort,
    };
    debug_assert_eq!(adapter.provider(), provider, "the registry names each provider's own adapter");
    adapter
}
