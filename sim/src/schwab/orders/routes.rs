//! The order handlers: each runs after the gate accepted the access token, locks the Schwab state,
//! calls one [`desk`] function with the current [`Now`] and renders the outcome (rules in
//! [`super`]'s module doc).

use super::desk::{self, After, Placed};
use super::query::OrdersQuery;
use super::{Now, OrderError};
use crate::faults::TIMEOUT_HOLD_SECS;
use crate::schwab::state::Caller;
use crate::schwab::{gateway_timeout, message};
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::sync::Arc;
use std::time::Duration;

/// The `Location` of order `id`: `http://<Host>/trader/v1/accounts/{hash}/orders/{id}`, with the
/// request's `Host` header (the simulator's own address when there is none).
pub fn location(headers: &HeaderMap, base_url: &str, hash: &str, id: u64) -> String {
    let fallback = base_url.strip_prefix("http://").unwrap_or(base_url);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| !h.is_empty()).unwrap_or(fallback);
    format!("http://{host}/trader/v1/accounts/{hash}/orders/{id}")
}

/// The answer to a placement that was decided: 201 + `Location`, or the configured failure.
async fn placed(sim: &Sim, headers: &HeaderMap, hash: &str, outcome: Result<Placed, OrderError>) -> Response {
    match outcome {
        Err(refusal) => refusal.into_response(),
        Ok(Placed { order_id, after: After::Created }) => {
            let mut response = StatusCode::CREATED.into_response();
            let value = HeaderValue::from_str(&location(headers, &sim.base_url, hash, order_id))
                .or_else(|_| HeaderValue::from_str(&location(&HeaderMap::new(), &sim.base_url, hash, order_id)));
            if let Ok(value) = value {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Ok(Placed { after: After::Fail500, .. }) => message(500, "Internal Server Error"),
        Ok(Placed { after: After::Timeout, .. }) => {
            tokio::time::sleep(Duration::from_secs(TIMEOUT_HOLD_SECS)).await;
            gateway_timeout()
        }
    }
}

/// `POST /trader/v1/accounts/{accountHash}/previewOrder` → `PreviewOrder`.
pub async fn preview_order(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    body: Bytes,
) -> Response {
    match desk::preview(&lock(&sim.schwab.state), &caller.customer, &hash, &body, Now::current()) {
        Ok(preview) => Json(preview).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST /trader/v1/accounts/{accountHash}/orders` → 201, empty, `Location`.
pub async fn place_order(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = desk::place(&mut lock(&sim.schwab.state), &caller.customer, &hash, &body, None, Now::current());
    placed(&sim, &headers, &hash, outcome).await
}

/// `PUT /trader/v1/accounts/{accountHash}/orders/{orderId}` → 201, empty, `Location` of the new order.
pub async fn replace_order(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path((hash, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = desk::place(&mut lock(&sim.schwab.state), &caller.customer, &hash, &body, Some(&id), Now::current());
    placed(&sim, &headers, &hash, outcome).await
}

/// `DELETE /trader/v1/accounts/{accountHash}/orders/{orderId}` → 200, empty.
pub async fn cancel_order(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path((hash, id)): Path<(String, String)>,
) -> Response {
    match desk::cancel(&mut lock(&sim.schwab.state), &caller.customer, &hash, &id, Now::current()) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// `GET /trader/v1/accounts/{accountHash}/orders?fromEnteredTime&toEnteredTime[&maxResults][&status]` → `[Order]`.
pub async fn orders(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    uri: Uri,
) -> Response {
    let query = match OrdersQuery::parse(&uri) {
        Ok(query) => query,
        Err(why) => return OrderError::BadQuery(why).into_response(),
    };
    match desk::orders(&lock(&sim.schwab.state), &caller.customer, &hash, &query) {
        Ok(orders) => Json(orders).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// `GET /trader/v1/accounts/{accountHash}/orders/{orderId}` → `Order`.
pub async fn order(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path((hash, id)): Path<(String, String)>,
) -> Response {
    match desk::order(&lock(&sim.schwab.state), &caller.customer, &hash, &id) {
        Ok(order) => Json(order).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}
