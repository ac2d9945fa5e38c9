//! Outbound provider clients over `worker::Fetch`, sharing one call discipline: a timeout per
//! attempt, the core's one retry rule (`tributary_core::provider_retry`: bounded jittered retries
//! of retryable failures, idempotent calls only) and `Retry-After` parser, one structured JSON
//! log line per attempt that never contains a secret, and each attempt's outcome recorded for the
//! request (`crate::calls`: routing health and the operator's metrics).

pub mod ibkr_flex;
pub mod plaid;
pub mod schwab;
pub mod snaptrade;

use crate::clock::real_now_unix;
use futures_util::future::{join, join_all, select, Either};
use std::future::Future;
use std::time::Duration;
use tributary_core::config::Fanout;
use tributary_core::ops::{CallOutcome, CallResult};
use tributary_core::provider_error::ProviderError;
use tributary_core::provider_retry::{next_attempt, provider_retry_after, NextAttempt, PROVIDER_RETRY};
use tributary_core::{InstitutionSlug, Provider};
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

/// One outbound request, described without its secrets' provenance.
pub struct Call<'a> {
    pub provider: Provider,
    /// Names the call in logs (`accounts`, `positions`, `register`...).
    pub operation: &'a str,
    pub method: Method,
    /// Full URL, query included.
    pub url: String,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<String>,
    /// Safe to repeat: only idempotent calls are retried.
    pub idempotent: bool,
    /// Billed by the provider: logged with `cost`.
    pub billed: bool,
    pub timeout: Duration,
    /// The institution the call serves, when the adapter knows it (routing health counts it there).
    pub institution: Option<InstitutionSlug>,
}

/// A provider's answer: status, headers that matter, body bytes.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after_s: Option<u64>,
    /// The `Location` header (where a created resource lives: Schwab's new order).
    pub location: Option<String>,
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the runtime provides crypto.getRandomValues");
    u64::from_le_bytes(bytes)
}

/// A short random id tying a log line to a call.
fn call_id() -> String {
    format!("{:016x}", random_u64())
}

/// A jitter in `[0, 1)` for the backoff.
fn jitter_unit() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn retry_after(headers: &Headers) -> Option<u64> {
    let header = |name: &str| headers.get(name).ok().flatten();
    let now = u64::try_from(real_now_unix()).unwrap_or(0);
    provider_retry_after(header("retry-after").as_deref(), header("x-ratelimit-reset").as_deref(), now)
}

async fn attempt(call: &Call<'_>) -> Result<Answer, ProviderError> {
    let provider = call.provider;
    let headers = Headers::new();
    for (name, value) in &call.headers {
        headers.set(name, value).map_err(|e| ProviderError::Network { provider, detail: e.to_string() })?;
    }
    let mut init = RequestInit::new();
    init.with_method(call.method.clone()).with_headers(headers);
    if let Some(body) = &call.body {
        init.with_body(Some(body.as_str().into()));
    }
    let request = Request::new_with_init(&call.url, &init)
        .map_err(|e| ProviderError::Network { provider, detail: e.to_string() })?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Box::pin(async move {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await?;
        let status = response.status_code();
        let retry_after_s = retry_after(response.headers());
        let location = response.headers().get("location").ok().flatten();
        let body = response.bytes().await?;
        Ok::<_, worker::Error>(Answer { status, body, retry_after_s, location })
    });
    let timeout = Box::pin(Delay::from(call.timeout));
    match select(fetch, timeout).await {
        Either::Left((Ok(answer), _)) => Ok(answer),
        Either::Left((Err(e), _)) => Err(ProviderError::Network { provider, detail: e.to_string() }),
        Either::Right(((), _)) => {
            controller.abort();
            Err(ProviderError::Timeout { provider })
        }
    }
}

fn log_attempt(call: &Call<'_>, id: &str, attempt_no: u32, status: Option<u16>, latency_ms: u64, outcome: &str) {
    let line = serde_json::json!({
        "level": "info", "event": "provider_call", "provider": call.provider.as_str(), "operation": call.operation,
        "status": status, "latency_ms": latency_ms, "request_id": id, "attempt": attempt_no, "outcome": outcome,
        "cost": if call.billed { "billed" } else { "free" },
    });
    worker::console_log!("{line}");
}

/// Sends `call`, retrying retryable failures of idempotent calls with jittered backoff. Returns
/// the final answer (any status) or the transport error; `classify` decides retryability of a
/// non-2xx answer.
pub async fn send(
    call: &Call<'_>,
    classify: impl Fn(&Answer) -> Option<ProviderError>,
) -> Result<Answer, ProviderError> {
    let id = call_id();
    let mut attempt_no = 0;
    loop {
        attempt_no += 1;
        let started = worker::Date::now().as_millis();
        let result = attempt(call).await;
        let latency_ms = worker::Date::now().as_millis().saturating_sub(started);
        let (error, status) = match &result {
            Ok(answer) => (classify(answer), Some(answer.status)),
            Err(e) => (Some(e.clone()), None),
        };
        let outcome = error.as_ref().map_or("ok", |e| tributary_core::ErrorCode::code(e));
        log_attempt(call, &id, attempt_no, status, latency_ms, outcome);
        crate::calls::record_call(CallOutcome {
            provider: call.provider,
            institution: call.institution.clone(),
            operation: call.operation.to_owned(),
            status,
            latency_ms,
            billed: call.billed,
            result: CallResult::of(error.as_ref()),
            at: crate::calls::now(),
        });
        let Some(error) = error else { return result };
        match next_attempt(&PROVIDER_RETRY, &error, attempt_no, call.idempotent, jitter_unit()) {
            NextAttempt::Stop => return result,
            NextAttempt::After { wait_ms } => Delay::from(Duration::from_millis(u64::from(wait_ms))).await,
        }
    }
}

/// Runs independent calls as `fanout` says — all at once, or one after another — and returns
/// their answers in the calls' order either way.
pub async fn fan_out<F: Future>(fanout: Fanout, calls: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    match fanout {
        Fanout::Parallel => join_all(calls).await,
        Fanout::Sequential => {
            let mut answers = Vec::new();
            for call in calls {
                answers.push(call.await);
            }
            answers
        }
    }
}

/// [`fan_out`] for two calls of different types.
pub async fn fan_out_pair<A: Future, B: Future>(fanout: Fanout, a: A, b: B) -> (A::Output, B::Output) {
    match fanout {
        Fanout::Parallel => join(a, b).await,
        Fanout::Sequential => (a.await, b.await),
    }
}
