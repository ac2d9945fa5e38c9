//! The browser client's decisions (`@tributary/client`), pure and natively tested: how an API
//! answer is classified (429 and cost caps are never retried, transient failures are), the
//! bounded backoff between retries, `Retry-After` parsing, which holdings to fetch and how a
//! failed provider enters the merge, the pending-updates poller's rules, and how a connection
//! popup (new or reconnecting) is started and its return finished. Time and randomness come in
//! as arguments; nothing here performs I/O — the wasm-client shell sends the requests, sets the
//! timers and opens the popup.

pub mod connect;
pub mod options;
pub mod order_keys;
pub mod outcome;
pub mod poller;
pub mod reconnect;
pub mod requests;
pub mod retry;
pub mod retry_after;

#[cfg(test)]
mod connect_tests;
#[cfg(test)]
mod outcome_tests;
#[cfg(test)]
mod requests_tests;

pub use connect::{ConnectOptions, ConnectResult, FlowEnd, ReturnParams};
pub use options::{ClientOptions, OptionError, PollerOptions};
pub use outcome::{classify, ClientFailure, ErrorBody, HttpOutcome};
pub use poller::PendingFlags;
pub use requests::RefreshOptions;
pub use retry::RetryPolicy;
pub use retry_after::parse_retry_after;
