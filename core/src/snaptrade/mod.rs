//! SnapTrade, as Tributary understands it: request signing exactly as the official SDKs sign,
//! its error bodies mapped to [`crate::provider_error::ProviderError`], and its accounts,
//! positions and balances normalised into the core portfolio types.

mod canonical;
mod errors;
mod normalize;
mod portal;
#[cfg(feature = "server")]
mod signature;

pub use canonical::canonical_json;
pub use errors::{map_error, Operation};
pub use normalize::{normalize_account, normalize_balances, normalize_positions, SnapTradeAccount};
pub use portal::{broker_code, login_body, PortalConnectionType};
#[cfg(feature = "server")]
pub use signature::signature;
