//! SnapTrade, as Tributary understands it: request signing exactly as the official SDKs sign,
//! its error bodies mapped to [`crate::provider_error::ProviderError`], and its accounts,
//! positions, balances and activities normalised into the core portfolio and ledger types.

#[cfg(feature = "server")]
mod activities;
mod authorizations;
mod brokerages;
mod canonical;
mod errors;
mod normalize;
mod portal;
#[cfg(feature = "server")]
mod signature;
#[cfg(feature = "server")]
mod trading;
#[cfg(feature = "server")]
mod webhook;

#[cfg(feature = "server")]
pub use activities::{normalize_activities, ActivityPage};
pub use authorizations::{normalize_authorization, normalize_authorizations, repaired_by_reconnect, Authorization};
pub use brokerages::brokerages_in_maintenance;
pub use canonical::canonical_json;
pub use errors::{map_error, Operation};
pub use normalize::{normalize_account, normalize_balances, normalize_positions, SnapTradeAccount};
pub use portal::{broker_code, login_body, PortalConnectionType};
#[cfg(feature = "server")]
pub use signature::signature;
#[cfg(feature = "server")]
pub use trading::{
    cancel_body, impact_body, parse_impact, parse_order_list, parse_order_record, parse_symbols, place_body,
    symbol_search_body, MAX_SYMBOLS,
};
#[cfg(feature = "server")]
pub use webhook::{
    verify_webhook, verify_webhook_for_client, webhook_effect, SnapTradeEvent, SnapTradeWebhook, WebhookEffect,
};
