//! Plaid, as Tributary understands it: webhook JWTs verified (ES256 only, fresh, signing the exact
//! body), its error bodies mapped to [`crate::provider_error::ProviderError`], its investment
//! holdings and transactions normalised into the core portfolio and ledger types, the request bodies
//! the worker sends, which public tokens a user may exchange (only those of Link sessions
//! Tributary started for them), and repairing an Item in place with Link's update mode.
//!
//! Nothing here performs I/O or holds credentials: the worker adds `PLAID-CLIENT-ID` and
//! `PLAID-SECRET` headers, fetches verification keys, and passes the current time in.

mod errors;
mod events;
mod holdings;
#[cfg(feature = "server")]
mod jwt;
mod keys;
mod link;
#[cfg(feature = "server")]
mod link_sessions;
mod repair;
mod securities;
#[cfg(feature = "server")]
mod transactions;

pub use errors::map_error;
pub use events::{parse_webhook, PlaidEvent, PlaidWebhook};
#[cfg(feature = "server")]
pub use events::{webhook_delivery_id, webhook_effect};
pub use holdings::normalize_holdings;
#[cfg(feature = "server")]
pub use jwt::{verify_webhook, webhook_key_id};
pub use keys::{parse_verification_key_response, verification_key_request, Jwk};
#[cfg(feature = "server")]
pub use link::client_user_id;
pub use link::{link_token_request, parse_link_token_response, HostedLinkSession, LinkLocale, CLIENT_NAME};
#[cfg(feature = "server")]
pub use link_sessions::{
    judge_public_token, link_token_get_request, parse_link_token_get_response, public_token_belongs,
    read_link_token_get, IssuedLinkToken, LinkSessionError, RememberedLinkTokens, LINK_TOKEN_TTL_S,
    MAX_REMEMBERED_LINK_TOKENS, PUBLIC_TOKEN_TTL_S,
};
pub use repair::{
    item_get_request, link_intent, needs_update_mode, parse_item_get, update_link_token_request, ItemHealth,
    LinkIntent, RepairError,
};
#[cfg(feature = "server")]
pub use transactions::{normalize_investment_transactions, InvestmentTransactionPage};
