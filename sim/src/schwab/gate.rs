//! The door every Trader API request goes through, in this order: call accounting (user = the
//! customer of the access token, when it is known), global latency, the Bearer access token (401
//! `Client not authorized` when missing, unknown or older than 1800 s), the per-app rate limit on
//! non-order requests (429 + `Retry-After`; order writes skip it, their per-account limit is
//! applied by [`super::orders`]), injected faults; only then the handler, which receives the
//! [`Caller`].

use super::state::Caller;
use super::{
    apply_faults, is_order_write, rate_hit, too_many_requests, trader_operation, unauthorized, Faulted, Flavor,
};
use crate::faults::Provider;
use crate::{lock, Sim};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The middleware: admits, refuses or faults one Trader API request.
pub async fn gate(State(sim): State<Arc<Sim>>, matched: MatchedPath, mut request: Request, next: Next) -> Response {
    let Some(op) = trader_operation(request.method(), matched.as_str()) else {
        return next.run(request).await;
    };
    let caller = bearer(request.headers()).and_then(|token| lock(&sim.schwab.state).caller(token));
    let customer = caller.as_ref().map(|(c, _)| c.customer.clone());
    lock(&sim.calls).record(Provider::Schwab, op, customer.as_deref());
    let global = sim.latency_ms.load(Ordering::Relaxed);
    if global > 0 {
        tokio::time::sleep(Duration::from_millis(global)).await;
    }
    let Some((caller, true)) = caller else {
        return unauthorized();
    };
    if !is_order_write(op) {
        if let Err(retry_after) = rate_hit(&sim, &caller.client_id) {
            return too_many_requests(retry_after);
        }
    }
    match apply_faults(&sim, op, Some(&caller.customer), Flavor::Trader).await {
        Faulted::Answer(response) => return response,
        Faulted::Disabled => return unauthorized(),
        Faulted::Proceed => {}
    }
    request.extensions_mut().insert::<Caller>(caller);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_bearer_tokens_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer I0.abc@"));
        assert_eq!(bearer(&headers), Some("I0.abc@"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  I0.abc@ "));
        assert_eq!(bearer(&headers), Some("I0.abc@"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }
}
