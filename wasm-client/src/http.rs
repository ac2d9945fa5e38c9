//! One request to the Tributary API, carried out the way the core decides: the session token from
//! the app's getter, the answer classified by `tributary_core::client::classify`, and transient
//! failures retried under the core's `RetryPolicy` (bounded attempts, bounded backoff). A 429, a
//! cost cap or any other 4xx comes back at once, with its status (and the wait its `Retry-After`
//! names, on any refusal that sends one, e.g. a 409 `order_in_progress`).

use crate::js::{self, get, get_number, get_string, RawAnswer};
use js_sys::Function;
use tributary_core::client::outcome::{classify, is_success, ClientFailure, ErrorBody, HttpOutcome};
use tributary_core::client::requests::api_url;
use tributary_core::client::{parse_retry_after, RetryPolicy};
use wasm_bindgen::JsValue;

/// The fields of a JSON error body the core reads (absent when not JSON or of another type).
fn error_body(text: &str) -> ErrorBody {
    let body = js::parse_json(text);
    let error = get(&body, "error");
    let whole = |key: &str| get_number(&body, key).filter(|n| n.fract() == 0.0);
    ErrorBody {
        code: get_string(&error, "code"),
        message: get_string(&error, "message"),
        retry_after_s: whole("retry_after_s").filter(|n| *n >= 0.0).map(|n| n as u64),
        provider: get_string(&body, "provider"),
        next_allowed_at: whole("next_allowed_at").map(|n| n as i64),
        reason: get_string(&body, "reason"),
    }
}

/// A successful answer: its status, `Content-Disposition` (when readable) and body text.
pub struct Success {
    pub status: u16,
    pub disposition: Option<String>,
    pub body: String,
}

/// One attempt's answer: the success part, and the `Retry-After` header a refusal may carry.
struct Answer {
    success: Success,
    retry_after: Option<String>,
}

/// Where and how requests are sent: the API base URL, the token getter, the `fetch` to use.
pub struct Api {
    base_url: String,
    get_token: Function,
    fetch: Option<Function>,
    retry: RetryPolicy,
}

impl Api {
    /// An API client; `fetch` `None` uses the global `fetch`.
    pub fn new(base_url: String, get_token: Function, fetch: Option<Function>, retry: RetryPolicy) -> Self {
        Self { base_url, get_token, fetch, retry }
    }

    /// The session token from the app's getter (a string, or a promise of one).
    async fn token(&self) -> Result<String, ClientFailure> {
        let given = self
            .get_token
            .call0(&JsValue::NULL)
            .map_err(|e| ClientFailure::token_unavailable(&js::error_message(&e)))?;
        let token = js::settle(given).await.map_err(|e| ClientFailure::token_unavailable(&js::error_message(&e)))?;
        token
            .as_string()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ClientFailure::token_unavailable("getToken gave no token (expected a non-empty string)"))
    }

    /// One attempt: the outcome, the status (0 when nothing answered) and the body text.
    async fn attempt(
        &self,
        method: &str,
        url: &str,
        token: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (HttpOutcome, Answer) {
        let mut headers = vec![
            ("authorization", JsValue::from_str(&format!("Bearer {token}"))),
            ("accept", JsValue::from_str("application/json")),
        ];
        if body.is_some() {
            headers.push(("content-type", JsValue::from_str("application/json")));
        }
        headers.extend(extra.iter().map(|(name, value)| (*name, JsValue::from_str(value))));
        let mut init = vec![("method", JsValue::from_str(method)), ("headers", js::object(&headers))];
        if let Some(body) = body {
            init.push(("body", JsValue::from_str(body)));
        }
        let answer = match js::fetch(self.fetch.as_ref(), url, &js::object(&init)).await {
            Ok(response) => js::read_response(&response).await,
            Err(error) => Err(error),
        };
        match answer {
            Ok(RawAnswer { status, retry_after, disposition, body }) => {
                let now = (js_sys::Date::now() / 1000.0) as u64;
                let fields = if is_success(status) { ErrorBody::default() } else { error_body(&body) };
                let outcome = classify(status, retry_after.as_deref(), fields, now);
                (outcome, Answer { success: Success { status, disposition, body }, retry_after })
            }
            Err(error) => {
                let nothing = Success { status: 0, disposition: None, body: String::new() };
                (
                    HttpOutcome::network_failure(&js::error_message(&error)),
                    Answer { success: nothing, retry_after: None },
                )
            }
        }
    }

    /// Sends `method path` with an optional JSON body and returns the successful answer; retries
    /// only transient failures, waiting the core's backoff between attempts.
    pub async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Result<Success, ClientFailure> {
        self.send_with(method, path, body, &[]).await
    }

    /// [`Api::send`] with `extra` request headers (e.g. `Idempotency-Key`), the same on every
    /// attempt. A refusal's `Retry-After` becomes its `retry_after_s` when the core's
    /// classification (429 only) gave none.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<Success, ClientFailure> {
        let token = self.token().await?;
        let url = api_url(&self.base_url, path);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (outcome, answer) = self.attempt(method, &url, &token, body, extra).await;
            if self.retry.should_retry(&outcome, attempts) {
                js::sleep(self.retry.delay_before(attempts + 1, js_sys::Math::random())).await;
                continue;
            }
            return match outcome.into_failure(attempts) {
                None => Ok(answer.success),
                Some(mut failure) => {
                    let now = (js_sys::Date::now() / 1000.0) as u64;
                    let said = answer.retry_after.as_deref().and_then(|h| parse_retry_after(h, now));
                    failure.retry_after_s = failure.retry_after_s.or(said);
                    Err(failure)
                }
            };
        }
    }

    /// [`Api::send`], with the success body parsed into a plain JavaScript value.
    pub async fn send_json(&self, method: &str, path: &str, body: Option<&str>) -> Result<JsValue, ClientFailure> {
        let answer = self.send(method, path, body).await?;
        js_sys::JSON::parse(&answer.body)
            .map_err(|_| ClientFailure::invalid_response(answer.status, "the body is not JSON"))
    }
}
