//! `@tributary/client`: Tributary's browser module. A thin wasm-bindgen layer over
//! `tributary-core` (compiled without its server half): every decision is the core's; this crate
//! only converts arguments and answers.
//!
//! Boundary design: structured values cross as ONE JSON string each way (see [`boundary`]).
//! Arguments may be plain objects or their JSON text; answers are plain objects built by the
//! engine's `JSON.parse`. Merging 10,000 positions therefore costs two string copies across the
//! boundary rather than a boundary call per field. Errors are thrown as `Error` objects with a
//! stable `code` (see [`error`]); the `.d.ts` types every value (see [`types`], [`types_client`]).
//!
//! The API client ([`client::TributaryClient`], [`poller::PendingUpdatesPoller`],
//! [`connect::handle_connect_redirect`]) sends requests through the global `fetch` (or one given
//! to it), classifies answers and retries only transient failures as the core decides, and
//! merges holdings with the same core merge as `mergePortfolios`. The ledger ([`ledger`]) reads
//! every page of the transactions for a set of filters and totals them per currency exactly
//! ([`totals::transaction_totals`]). Trading ([`trading`]) previews and places orders, each place
//! under an `Idempotency-Key` kept per order until its outcome is definitive ([`tributary_core::client::order_keys`]).

pub mod boundary;
pub mod client;
pub mod connect;
pub mod error;
pub mod http;
mod js;
pub mod ledger;
pub mod merge;
mod options;
pub mod pending;
pub mod poller;
pub mod routing;
pub mod totals;
pub mod trading;
pub mod types;
pub mod types_client;
pub mod types_ledger;
pub mod types_trading;

pub use client::TributaryClient;
pub use connect::handle_connect_redirect;
pub use error::ClientError;
pub use merge::{merge_portfolios, merge_portfolios_json};
pub use poller::PendingUpdatesPoller;
pub use routing::{capabilities_for, choose_provider, resolve_institution};
pub use totals::transaction_totals;
pub use tributary_core::merge::MergeView;

use tributary_core::Money;
use wasm_bindgen::prelude::*;

/// The Tributary version this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    tributary_core::VERSION.to_owned()
}

/// Formats an exact decimal amount for people: `formatMoney("1234.5", "usd")` → `"1,234.50 USD"`.
///
/// Throws an `Error` whose message says which argument is wrong (amount or currency).
#[wasm_bindgen(js_name = formatMoney)]
pub fn format_money(amount: &str, currency: &str) -> Result<String, JsError> {
    Money::parse(amount, currency).map(|m| m.display()).map_err(|e| JsError::new(&e.to_string()))
}

/// [`format_money`] rounded to the currency's minor unit for a page (`"26790.22305"`, `"usd"` →
/// `"26,790.22 USD"`; crypto units keep every digit). The amount itself is never rounded: pass
/// the exact value the API answered.
#[wasm_bindgen(js_name = formatMoneyRounded)]
pub fn format_money_rounded(amount: &str, currency: &str) -> Result<String, JsError> {
    Money::parse(amount, currency).map(|m| m.display_rounded()).map_err(|e| JsError::new(&e.to_string()))
}
