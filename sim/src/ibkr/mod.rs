//! The Interactive Brokers Flex Web Service (v3) half of the simulator, built from the provider
//! reference only: the two-step SendRequest → GetStatement protocol ([`routes`]), its error
//! envelopes ([`flex`]), the per-token throttle ([`ratelimit`]), Flex users, tokens, queries and
//! reference codes ([`state`]), injected Flex codes ([`injected`]), the Activity statement
//! ([`statement`], from [`seed`] holdings in the [`model`] types and each user's transactions in
//! the shared [`crate::ledger`] — seeded by [`history`], shown per period by [`activity`] —
//! written as rows by [`rows`] in a query's [`options`] and [`dates`] formats) and the
//! `/__sim/ibkr/*` controls ([`control`]).
//! Not simulated: Trade Confirmation (`TCF`) queries, v2 answers, sections other than the five in
//! [`options::Section`], per-field selection.
//!
//! Routes (every Flex answer is HTTP 200 `text/xml; charset=utf-8`, errors included, except a
//! ready CSV or text statement, served as `text/csv` / `text/plain`):
//! - `GET /AccountManagement/FlexWebService/SendRequest?t=<token>&q=<queryId>&v=3`
//!   `[&fd=yyyymmdd&td=yyyymmdd | &p=1..365]` → `<FlexStatementResponse timestamp="14 March,
//!   2026 09:15 AM EDT">` with `<Status>Success</Status>`, `<ReferenceCode>` (10 digits) and `<Url>`
//!   (`<sim>/AccountManagement/FlexWebService/GetStatement`).
//! - `GET /AccountManagement/FlexWebService/GetStatement?t=<token>&q=<referenceCode>&v=3` → Warn
//!   1019 for the query's first `pending_polls` polls (default 1), then the `FlexQueryResponse`
//!   (or CSV/text) statement, the same bytes on every repeat.
//! - Errors: `<Status>Fail|Warn</Status><ErrorCode>n</ErrorCode><ErrorMessage>…</ErrorMessage>`
//!   with IBKR's verbatim messages; the order of checks is in [`routes`].
//! - `GET /Universal/servlet/FlexStatementService.SendRequest` and `.GetStatement` (the retired
//!   URLs) → Fail 1001 for every request; any other path under `/AccountManagement/` → HTML 404.
//!
//! Faults (`provider: "ibkr"`, endpoints `send_request`, `get_statement`, user = the token's
//! username; consulted after the throttle, like Schwab's): `latency`; `status` → that HTTP status
//! with an HTML error page (a gateway's); `timeout` → held, then 504 `upstream request timeout`
//! (plain text); `malformed` → 200 with the HTML page `<html><body>404 Not Found</body></html>`;
//! `rate_limit` → Warn 1018; `disabled` → Fail 1011 "Service account is inactive." while it lasts.

pub mod activity;
pub mod control;
pub mod dates;
pub mod flex;
pub mod history;
pub mod injected;
pub mod model;
pub mod options;
pub mod ratelimit;
pub mod routes;
pub mod rows;
pub mod seed;
pub mod state;
pub mod statement;

use crate::faults::{FaultKind, Provider, TIMEOUT_HOLD_SECS};
use crate::{lock, Sim};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use flex::{error_response, FlexCode, XmlStyle};
use injected::Endpoint;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The path prefix of the Flex Web Service.
pub const FLEX_PREFIX: &str = "/AccountManagement/";
/// The body of a `malformed` fault and of an unknown Flex path: a web server's HTML 404 page.
pub const HTML_NOT_FOUND: &str = "<html><body>404 Not Found</body></html>";

/// Everything the IBKR half remembers.
#[derive(Default)]
pub struct IbkrSim {
    /// Users, tokens, queries, reference codes, the report date, injected codes and the throttle.
    pub state: Mutex<state::IbkrState>,
}

impl IbkrSim {
    /// Fresh state: no users, report date 2026-03-13, one request per second and ten per minute.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Whether `path` lies under the Flex Web Service prefix.
pub fn is_flex_path(path: &str) -> bool {
    path.starts_with(FLEX_PREFIX)
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// 404 with [`HTML_NOT_FOUND`], for unknown paths under [`FLEX_PREFIX`].
pub fn not_found() -> Response {
    html(StatusCode::NOT_FOUND, HTML_NOT_FOUND.to_owned())
}

/// A gateway's HTML error page for HTTP `status`.
pub fn gateway_error(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!("{} {}", code.as_u16(), code.canonical_reason().unwrap_or("Error"));
    html(code, format!("<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"))
}

/// Applies the active IBKR faults for `endpoint` and `user` (latency first, then the first other
/// fault): `None` to answer normally, else the answer.
pub async fn apply_faults(sim: &Sim, endpoint: Endpoint, user: &str) -> Option<Response> {
    let applied = lock(&sim.faults).take(Provider::Ibkr, endpoint.name(), Some(user));
    if applied.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(applied.latency_ms)).await;
    }
    Some(match applied.action? {
        FaultKind::Latency { .. } => return None,
        FaultKind::Status { status } => gateway_error(status),
        FaultKind::RateLimit { .. } => error_response(FlexCode::THROTTLED, XmlStyle::default()),
        FaultKind::Malformed => html(StatusCode::OK, HTML_NOT_FOUND.to_owned()),
        FaultKind::Disabled => error_response(FlexCode::INACTIVE, XmlStyle::default()),
        FaultKind::Timeout => {
            tokio::time::sleep(Duration::from_secs(TIMEOUT_HOLD_SECS)).await;
            (StatusCode::GATEWAY_TIMEOUT, [(header::CONTENT_TYPE, "text/plain")], "upstream request timeout")
                .into_response()
        }
    })
}

/// The Flex Web Service routes (current and retired URLs) and the `/__sim/ibkr/*` controls.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route(routes::SEND_REQUEST_PATH, get(routes::send_request))
        .route(routes::GET_STATEMENT_PATH, get(routes::get_statement))
        .route(routes::LEGACY_SEND_REQUEST_PATH, get(routes::legacy_send_request))
        .route(routes::LEGACY_GET_STATEMENT_PATH, get(routes::legacy_get_statement))
        .merge(control::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_paths_and_fault_endpoints() {
        assert!(is_flex_path("/AccountManagement/FlexWebService/Other"));
        assert!(!is_flex_path("/accounts"));
        let endpoints = [Endpoint::SendRequest.name(), Endpoint::GetStatement.name()];
        assert_eq!(endpoints, crate::faults::IBKR_ENDPOINTS);
    }
}
