//! Interactive Brokers' Flex Web Service (Flex v3): the two-call protocol (SendRequest for a
//! reference code, GetStatement for the statement) and the Activity Flex statement read into core
//! holdings — pure and exact: bytes in, typed results out, every number an exact decimal read from
//! its text, every date checked against the calendar, nothing able to panic on any input.
//!
//! What it promises:
//! - [`parse_credentials`] checks a person's token and query id; their `Debug` is redacted, and no
//!   error of this module can contain the token.
//! - [`send_request_url`] / [`get_statement_url`] build the only two URLs (`v=3`, never a period
//!   override), always on the configured base (the `<Url>` IBKR returns is legacy and ignored).
//! - [`parse_send_response`] and [`read_statement`] turn every answer into a reference code, a
//!   [`Statement`], or a [`FlexError`] with a stable code and a message naming the fix in Client
//!   Portal ([`FlexError::needs_repair`] says when the connection needs the person).
//!
//! - [`flow`] decides the pacing and the bounds: how far apart requests go, how long one request
//!   waits for a statement, when a pending statement is looked at again, when the daily pull is due.
//!
//! - With the `server` feature, [`read_statement`] also reads each account's `Trades` and
//!   `CashTransactions` into an [`AccountLedger`] of normalised transactions with the period the
//!   statement covers (`transactions`: executions only, cancellations resolved, stable ids).
//!
//! What it does not do: any I/O, waiting or clock reading (the worker does, as [`flow`] says).

mod credentials;
mod dates;
mod envelope;
mod error;
pub mod flow;
mod positions;
mod statement;
#[cfg(feature = "server")]
mod transactions;
mod values;

pub use credentials::{get_statement_url, parse_credentials, send_request_url, FlexCredentials};
pub use envelope::{parse_send_response, read_statement, MAX_BODY_BYTES};
pub use error::{wait_after, FlexError, FlexProblem, QueryProblem};
pub use statement::Statement;
#[cfg(feature = "server")]
pub use transactions::{latest_per_account, AccountLedger};

/// The institution every Flex account belongs to.
pub const IBKR_INSTITUTION: &str = "interactive_brokers";
/// The path of step 1: ask for a statement, get a reference code.
pub const SEND_REQUEST_PATH: &str = "/AccountManagement/FlexWebService/SendRequest";
/// The path of step 2: fetch the statement of a reference code.
pub const GET_STATEMENT_PATH: &str = "/AccountManagement/FlexWebService/GetStatement";
/// The shortest gap between two requests with one token, both endpoints together (reference
/// §2.5: one request a second, with margin).
pub const MIN_REQUEST_GAP_MS: u64 = 1_100;
/// The most requests with one token in any minute, both endpoints together (reference §2.5).
pub const MAX_REQUESTS_PER_MINUTE: u32 = 10;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod dates_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod statement_tests;
#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "server"))]
mod transactions_tests;
