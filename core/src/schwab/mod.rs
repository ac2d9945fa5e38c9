//! Schwab's Trader API ("Schwab direct"): the OAuth authorization-code flow and its token
//! lifecycle, the account-hash indirection, `/accounts?fields=positions` normalised into core
//! holdings, and `/accounts/{accountHash}/transactions` (its window rules and its rows normalised
//! into the ledger, [`transactions`]) — every number read exactly, every quirk parsed without panicking.

mod accounts;
mod errors;
mod oauth;
#[cfg(feature = "server")]
pub mod orders;
mod tokens;
#[cfg(feature = "server")]
pub mod transactions;

pub use accounts::{normalize_accounts, parse_account_numbers, AccountNumber, SCHWAB_INSTITUTION};
pub use errors::{map_error, map_token_error};
#[cfg(feature = "server")]
pub use oauth::basic_authorization;
pub use oauth::{
    authorize_url, code_grant_body, decode_code, is_well_formed_state, parse_token_response, refresh_grant_body,
    state_from_bytes, OAuthError, TokenGrant,
};
pub use tokens::{
    expires_soon, new_grant_times, refreshed_times, state_expired, GrantTimes, TokenStep, ACCESS_REFRESH_LEEWAY_S,
    EXPIRES_SOON_WINDOW_S, OAUTH_STATE_TTL_S, REFRESH_TOKEN_LIFETIME_S,
};

#[cfg(test)]
mod tests;
