//! Tributary's functional core: the domain types and every decision the worker and the browser
//! module carry out. Pure Rust: no I/O, no JavaScript, no clock — time comes in as an argument.
//!
//! The `server` feature adds what only the worker needs (session tokens, configuration, signing);
//! the browser module compiles without it to stay small.

pub mod domain;
pub mod error;
pub mod ibkr;
pub mod origin;
pub mod plaid;
pub mod provider_error;
pub mod provider_retry;
pub mod provider_spec;
pub mod schwab;
pub mod snaptrade;
pub mod time;
pub mod transactions;
pub mod url;
pub mod webhook;

pub mod cache;
pub mod capabilities;
pub mod client;
pub mod connection_health;
pub mod coverage;
pub mod dedup;
pub mod empty_read;
pub mod institutions;
pub mod merge;
pub mod refresh;
pub mod tables;
#[cfg(test)]
mod test_fixtures;
#[cfg(feature = "server")]
pub mod trading;

pub use domain::{
    Account, CashBalance, Currency, Holdings, InstitutionSlug, Money, Position, Provider, Quantity, SecurityKind,
    Ticker, UserId,
};

#[cfg(feature = "server")]
pub mod body;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod dev_clock;
#[cfg(feature = "server")]
pub mod mcp;
#[cfg(feature = "server")]
pub mod migration;
#[cfg(feature = "server")]
pub mod ops;
#[cfg(feature = "server")]
pub mod sealed;
#[cfg(feature = "server")]
pub mod session;

pub use error::{ErrorCode, RequestError, ValidationError};

/// The product version every shell reports (health endpoint, browser module).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
