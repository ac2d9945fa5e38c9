//! The Charles Schwab Trader API (individual) half of the simulator, built from the provider
//! reference only: the OAuth2 authorization-code flow ([`oauth`]), the account endpoints under
//! `/trader/v1` (behind [`gate`], handlers in [`routes`] and [`transactions`], rows rendered by
//! [`wire`]), the order endpoints with their per-account order limit ([`orders`]), per-customer
//! codes, tokens, logins, account data, transactions and orders ([`state`], seeded by [`seed`] and
//! [`history`]) and the `/__sim/schwab/*` controls ([`control`] and [`orders::control`]; rows are
//! appended through `/__sim/transactions` with `provider: "schwab"`, see [`crate::ledger::control`]).
//! Not simulated: `GET /trader/v1/orders` (all accounts), multi-leg, option and conditional
//! orders, single-transaction reads, user preferences, market data.
//!
//! Routes:
//! - `GET /v1/oauth/authorize?client_id&redirect_uri[&response_type=code][&state]` → the consent page
//!   (a form posting to `/v1/oauth/authorize/decision` with a `customer` field: which simulated Schwab
//!   customer logs in); an unknown client or a redirect URI not registered exactly → 400 HTML "Access Denied".
//! - `POST /v1/oauth/authorize/decision` → 302 to `redirect_uri?code=C0.…%40&session=<uuid>[&state=…]`
//!   (allow) or `redirect_uri?error=access_denied[&state=…]` (deny).
//! - `POST /v1/oauth/token` (HTTP Basic client auth, form body): `grant_type=authorization_code`
//!   (code single use, 30 s) or `refresh_token` (newest login only, 7 days from that login) →
//!   `{expires_in: 1800, token_type, scope, refresh_token, access_token, id_token}`.
//! - `GET /trader/v1/accounts/accountNumbers`, `GET /trader/v1/accounts[?fields=positions]`,
//!   `GET /trader/v1/accounts/{accountHash}[?fields=positions]` with `Authorization: Bearer`.
//! - `GET /trader/v1/accounts/{accountHash}/transactions?startDate&endDate&types[&symbol]` →
//!   `[Transaction]` (all three required, at most a year, at most 3000 rows, `+0000` times, the
//!   duplicated `assetType` key; see [`transactions`]).
//! - `POST /trader/v1/accounts/{accountHash}/previewOrder`, `GET|POST /trader/v1/accounts/{accountHash}/orders`,
//!   `GET|PUT|DELETE /trader/v1/accounts/{accountHash}/orders/{orderId}` (see [`orders`]).
//!
//! Every OAuth and Trader answer carries `Schwab-Client-CorrelId`. Errors: OAuth-style
//! `{error, error_description}` from the token endpoint; `{"errors": [{id, status: 401, title,
//! detail: "Client not authorized"}]}` for a missing/unknown/expired access token;
//! `{"message": "…"}` for Trader validation errors (400) and injected Trader status faults; 404
//! `{"errors": [{id, status: "404", title: "Not Found"}]}` for unknown `/trader/v1` paths; 429
//! `{"errors": [{status: 429, title: "Too Many Requests"}]}` + `Retry-After` past 120 non-order
//! requests per trailing 60 s per app (token and Trader calls together, previewOrder and order
//! reads included; order writes are not counted there but against their account's own limit, see
//! [`orders`]).
//!
//! Faults (`provider: "schwab"`, endpoints [`crate::faults::SCHWAB_ENDPOINTS`], user = the
//! customer of the code, refresh token or access token): `status` → the error shape above,
//! `rate_limit` → 429 + `Retry-After`, `timeout` → held, then 504 `upstream request timeout` (plain
//! text, like Schwab's gateway), `malformed` → 200 non-JSON, `disabled` → the customer's grant is
//! gone: Trader calls 401 `Client not authorized`, refresh the nested `refresh_token_authentication_error`,
//! code exchange `invalid_grant`, for as long as the fault lasts.

pub mod control;
pub mod gate;
pub mod history;
pub mod oauth;
pub mod orders;
pub mod routes;
pub mod seed;
pub mod state;
pub mod transactions;
pub mod wire;

use crate::faults::{FaultKind, Provider, TIMEOUT_HOLD_SECS};
use crate::snaptrade::ratelimit::RateLimiter;
use crate::util::{escape_html, random_uuid};
use crate::{lock, Sim};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Json, Router};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The response header carrying a fresh correlation id on every OAuth and Trader answer.
pub const CORREL_ID_HEADER: &str = "schwab-client-correlid";
/// Non-order requests allowed per trailing 60 s per app unless changed through the control.
pub const DEFAULT_RATE_LIMIT: usize = 120;
/// The Trader API prefix.
pub const TRADER_PREFIX: &str = "/trader/v1";

/// Operation name (call counts) of a code exchange.
pub const OP_TOKEN_CODE: &str = "token_code";
/// Operation name (call counts) of a refresh.
pub const OP_TOKEN_REFRESH: &str = "token_refresh";
/// Operation name (call counts and faults) of `GET /trader/v1/accounts/accountNumbers`.
pub const OP_ACCOUNT_NUMBERS: &str = "account_numbers";
/// Operation name (call counts and faults) of `GET /trader/v1/accounts`.
pub const OP_ACCOUNTS: &str = "accounts";
/// Operation name (call counts and faults) of `GET /trader/v1/accounts/{accountHash}`.
pub const OP_ACCOUNT: &str = "account";
/// Operation name (call counts and faults) of `GET /trader/v1/accounts/{accountHash}/transactions`.
pub const OP_TRANSACTIONS: &str = "transactions";
/// Operation name (call counts and faults) of `POST /trader/v1/accounts/{accountHash}/previewOrder`.
pub const OP_PREVIEW_ORDER: &str = "preview_order";
/// Operation name (call counts and faults) of `GET /trader/v1/accounts/{accountHash}/orders`.
pub const OP_ORDERS: &str = "orders";
/// Operation name (call counts and faults) of `POST /trader/v1/accounts/{accountHash}/orders`.
pub const OP_PLACE_ORDER: &str = "place_order";
/// Operation name (call counts and faults) of `GET /trader/v1/accounts/{accountHash}/orders/{orderId}`.
pub const OP_ORDER: &str = "order";
/// Operation name (call counts and faults) of `DELETE /trader/v1/accounts/{accountHash}/orders/{orderId}`.
pub const OP_CANCEL_ORDER: &str = "cancel_order";
/// Operation name (call counts and faults) of `PUT /trader/v1/accounts/{accountHash}/orders/{orderId}`.
pub const OP_REPLACE_ORDER: &str = "replace_order";
/// The fault endpoint name covering both token grants.
pub const FAULT_TOKEN: &str = "token";

/// The exact body Schwab answers (400) for a dead, superseded or unknown refresh token.
pub const REFRESH_TOKEN_ERROR_BODY: &str = r#"{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{\"error_description\":\"Exception while authenticating refresh token [tokenDigest=...]\",\"error\":\"refresh_token_authentication_error\"}\""}"#;

/// Everything the Schwab half remembers: state and the per-app rate limit.
pub struct SchwabSim {
    /// Codes, tokens, logins and account data.
    pub state: Mutex<state::SchwabState>,
    /// The trailing-window request counts per client id.
    pub rate: Mutex<RateLimiter>,
}

impl SchwabSim {
    /// Fresh state with the default 120 requests/minute limit.
    pub fn new() -> Self {
        let mut rate = RateLimiter::default();
        rate.set_limit(DEFAULT_RATE_LIMIT);
        Self { state: Mutex::default(), rate: Mutex::new(rate) }
    }
}

impl Default for SchwabSim {
    fn default() -> Self {
        Self::new()
    }
}

/// The Trader route of the account's orders.
const ORDERS_ROUTE: &str = "/trader/v1/accounts/{accountHash}/orders";
/// The Trader route of one order.
const ORDER_ROUTE: &str = "/trader/v1/accounts/{accountHash}/orders/{orderId}";
/// The Trader route of previewOrder.
const PREVIEW_ROUTE: &str = "/trader/v1/accounts/{accountHash}/previewOrder";

/// The operation name of a request with `method` on a matched Trader route path; `None` for other
/// routes and for methods an order route does not serve (the account routes name their operation
/// whatever the method, and answer unserved methods with Schwab's 404 after the gate).
pub fn trader_operation(method: &Method, route: &str) -> Option<&'static str> {
    let read = method == Method::GET || method == Method::HEAD;
    Some(match route {
        "/trader/v1/accounts/accountNumbers" => OP_ACCOUNT_NUMBERS,
        "/trader/v1/accounts" => OP_ACCOUNTS,
        "/trader/v1/accounts/{accountHash}" => OP_ACCOUNT,
        "/trader/v1/accounts/{accountHash}/transactions" => OP_TRANSACTIONS,
        PREVIEW_ROUTE if method == Method::POST => OP_PREVIEW_ORDER,
        ORDERS_ROUTE if read => OP_ORDERS,
        ORDERS_ROUTE if method == Method::POST => OP_PLACE_ORDER,
        ORDER_ROUTE if read => OP_ORDER,
        ORDER_ROUTE if method == Method::DELETE => OP_CANCEL_ORDER,
        ORDER_ROUTE if method == Method::PUT => OP_REPLACE_ORDER,
        _ => return None,
    })
}

/// Whether `operation` is an order write (POST/PUT/DELETE orders): not counted against the
/// per-app non-order limit, but against the account's order limit instead.
pub fn is_order_write(operation: &str) -> bool {
    matches!(operation, OP_PLACE_ORDER | OP_REPLACE_ORDER | OP_CANCEL_ORDER)
}

/// Whether `path` lies under the Trader API prefix.
pub fn is_trader_path(path: &str) -> bool {
    path == TRADER_PREFIX || path.starts_with("/trader/v1/")
}

/// An OAuth error answer `{"error", "error_description"}`.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (http, Json(json!({ "error": error, "error_description": description }))).into_response()
}

/// A Trader `ServiceError` answer `{"message"}`.
pub fn message(status: u16, text: &str) -> Response {
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (http, Json(json!({ "message": text }))).into_response()
}

/// 401 `{"errors": [{id, status: 401, title: "Unauthorized", detail: "Client not authorized"}]}`.
pub fn unauthorized() -> Response {
    let body = json!({"errors": [{"id": random_uuid(), "status": 401, "title": "Unauthorized",
                                  "detail": "Client not authorized"}]});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// 404 `{"errors": [{id, status: "404", title: "Not Found"}]}` (status as a string) with a correlation id.
pub fn not_found() -> Response {
    let body = json!({"errors": [{"id": random_uuid(), "status": "404", "title": "Not Found"}]});
    with_correl_id((StatusCode::NOT_FOUND, Json(body)).into_response())
}

/// 429 `{"errors": [{status: 429, title: "Too Many Requests"}]}` with `Retry-After: retry_after` (at least 1).
pub fn too_many_requests(retry_after: u64) -> Response {
    let body = json!({"errors": [{"status": 429, "title": "Too Many Requests"}]});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    response
}

/// The 400 nested `refresh_token_authentication_error` answer ([`REFRESH_TOKEN_ERROR_BODY`]).
pub fn refresh_token_error() -> Response {
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], REFRESH_TOKEN_ERROR_BODY).into_response()
}

/// A complete HTML page of the simulated Schwab login.
pub fn page_html(title: &str, body: &str) -> String {
    crate::util::page_html("Charles Schwab", title, body)
}

/// 400 HTML "Access Denied" page explaining `reason`.
pub fn access_denied(reason: &str) -> Response {
    let body = format!("<p role=\"alert\">Access Denied. {}</p>", escape_html(reason));
    (StatusCode::BAD_REQUEST, Html(page_html("Access Denied", &body))).into_response()
}

/// `response` with a fresh `Schwab-Client-CorrelId` (kept if it already has one).
pub fn with_correl_id(mut response: Response) -> Response {
    let name = HeaderName::from_static(CORREL_ID_HEADER);
    if !response.headers().contains_key(&name) {
        if let Ok(value) = HeaderValue::from_str(&random_uuid()) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

async fn correl_id(response: Response) -> Response {
    with_correl_id(response)
}

/// Counts one request of `client_id` against the per-app limit: `Err(retry_after)` when refused.
pub fn rate_hit(sim: &Sim, client_id: &str) -> Result<(), u64> {
    let status = lock(&sim.schwab.rate).hit(client_id, Instant::now());
    if status.allowed {
        Ok(())
    } else {
        Err(status.reset_secs.max(1))
    }
}

/// Which error shape an injected fault answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// The token endpoint: `{error, error_description}`.
    OAuth,
    /// Trader calls: `{"message"}`.
    Trader,
}

/// What the injected faults decided for one request.
pub enum Faulted {
    /// Answer normally.
    Proceed,
    /// A `disabled` fault: the customer's grant is gone.
    Disabled,
    /// Answer this instead.
    Answer(Response),
}

/// The OAuth `error` code for an injected HTTP `status`.
fn oauth_code(status: u16) -> &'static str {
    match status {
        401 => "invalid_client",
        403 => "access_denied",
        429 => "slow_down",
        503 => "temporarily_unavailable",
        400..=499 => "invalid_request",
        _ => "server_error",
    }
}

/// Applies the active Schwab faults for `endpoint` and `customer` (latency first, then the first other fault).
pub async fn apply_faults(sim: &Sim, endpoint: &str, customer: Option<&str>, flavor: Flavor) -> Faulted {
    let applied = lock(&sim.faults).take(Provider::Schwab, endpoint, customer);
    if applied.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(applied.latency_ms)).await;
    }
    let response = match applied.action {
        None | Some(FaultKind::Latency { .. }) => return Faulted::Proceed,
        Some(FaultKind::Disabled) => return Faulted::Disabled,
        Some(FaultKind::Status { status }) => {
            let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
            match flavor {
                Flavor::OAuth => oauth_error(status, oauth_code(status), reason),
                Flavor::Trader => message(status, reason),
            }
        }
        Some(FaultKind::RateLimit { retry_after }) => too_many_requests(retry_after),
        Some(FaultKind::Malformed) => {
            let truncated = match flavor {
                Flavor::OAuth => "{\"expires_in\": 1800, \"access_token\": ",
                Flavor::Trader => "[{\"securitiesAccount\": {\"accountNumber\": ",
            };
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], truncated).into_response()
        }
        Some(FaultKind::Timeout) => {
            tokio::time::sleep(Duration::from_secs(TIMEOUT_HOLD_SECS)).await;
            gateway_timeout()
        }
    };
    Faulted::Answer(response)
}

/// The gateway's 504 `upstream request timeout` (plain text) that ends a held request.
pub fn gateway_timeout() -> Response {
    (StatusCode::GATEWAY_TIMEOUT, [(header::CONTENT_TYPE, "text/plain")], "upstream request timeout").into_response()
}

/// Answers a known Trader path with an unsupported method as Schwab's 404.
async fn method_not_found() -> Response {
    not_found()
}

/// The Schwab OAuth and Trader routes (Trader ones behind the gate, all with correlation ids) and
/// the `/__sim/schwab/*` controls.
pub fn router(sim: Arc<Sim>) -> Router<Arc<Sim>> {
    let with_404 = |methods: MethodRouter<Arc<Sim>>| methods.fallback(method_not_found);
    let trader = Router::new()
        .route("/trader/v1/accounts/accountNumbers", get(routes::account_numbers).fallback(method_not_found))
        .route("/trader/v1/accounts", get(routes::accounts).fallback(method_not_found))
        .route("/trader/v1/accounts/{accountHash}", get(routes::account).fallback(method_not_found))
        .route(
            "/trader/v1/accounts/{accountHash}/transactions",
            get(transactions::transactions).fallback(method_not_found),
        )
        .route(PREVIEW_ROUTE, with_404(post(orders::routes::preview_order)))
        .route(ORDERS_ROUTE, with_404(get(orders::routes::orders).post(orders::routes::place_order)))
        .route(
            ORDER_ROUTE,
            with_404(
                get(orders::routes::order).put(orders::routes::replace_order).delete(orders::routes::cancel_order),
            ),
        )
        .route_layer(middleware::from_fn_with_state(sim, gate::gate));
    let api = Router::new()
        .route(oauth::AUTHORIZE_PATH, get(oauth::authorize))
        .route(oauth::DECISION_PATH, post(oauth::decision))
        .route(oauth::TOKEN_PATH, post(oauth::token))
        .merge(trader)
        .layer(middleware::map_response(correl_id));
    api.merge(control::router()).merge(orders::control::router())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_refresh_error_is_doubly_encoded_json() {
        let outer: Value = serde_json::from_str(REFRESH_TOKEN_ERROR_BODY).unwrap();
        assert_eq!(outer["error"], "unsupported_token_type");
        let description = outer["error_description"].as_str().unwrap();
        let inner = description.strip_prefix("400 Bad Request: \"").and_then(|d| d.strip_suffix('"')).unwrap();
        let inner: Value = serde_json::from_str(inner).unwrap();
        assert_eq!(inner["error"], "refresh_token_authentication_error");
        assert!(inner["error_description"].as_str().unwrap().starts_with("Exception while authenticating"));
    }

    #[test]
    fn trader_paths_and_operations() {
        assert!(is_trader_path("/trader/v1") && is_trader_path("/trader/v1/orders"));
        assert!(!is_trader_path("/trader/v10") && !is_trader_path("/accounts"));
        let ops: Vec<_> = [
            (Method::GET, "/trader/v1/accounts/accountNumbers"),
            (Method::GET, "/trader/v1/accounts"),
            (Method::GET, "/trader/v1/accounts/{accountHash}"),
            (Method::GET, "/trader/v1/accounts/{accountHash}/transactions"),
            (Method::POST, PREVIEW_ROUTE),
            (Method::GET, ORDERS_ROUTE),
            (Method::POST, ORDERS_ROUTE),
            (Method::GET, ORDER_ROUTE),
            (Method::DELETE, ORDER_ROUTE),
            (Method::PUT, ORDER_ROUTE),
        ]
        .iter()
        .filter_map(|(method, route)| trader_operation(method, route))
        .collect();
        assert_eq!(
            ops,
            [
                OP_ACCOUNT_NUMBERS,
                OP_ACCOUNTS,
                OP_ACCOUNT,
                OP_TRANSACTIONS,
                OP_PREVIEW_ORDER,
                OP_ORDERS,
                OP_PLACE_ORDER,
                OP_ORDER,
                OP_CANCEL_ORDER,
                OP_REPLACE_ORDER
            ]
        );
        assert_eq!(trader_operation(&Method::POST, "/trader/v1/accounts"), Some(OP_ACCOUNTS), "any method");
        assert_eq!(trader_operation(&Method::HEAD, ORDER_ROUTE), Some(OP_ORDER));
        assert_eq!(trader_operation(&Method::PATCH, ORDER_ROUTE), None);
        assert_eq!(trader_operation(&Method::GET, PREVIEW_ROUTE), None);
        let writes: Vec<_> = ops.iter().filter(|op| is_order_write(op)).collect();
        assert_eq!(writes, [&OP_PLACE_ORDER, &OP_CANCEL_ORDER, &OP_REPLACE_ORDER]);
        let mut faults: Vec<&str> = vec![FAULT_TOKEN];
        faults.extend(&ops);
        assert_eq!(faults, crate::faults::SCHWAB_ENDPOINTS);
    }
}
