//! How a client reads one answer of the Tributary API: success, a rate limit (429, never retried
//! automatically), a refresh cost cap (402 `refresh_cost_capped`), a transient failure worth
//! retrying (no answer at all, or a 5xx other than 501), or a fatal one. Also the failure a client
//! hands its caller, which keeps the HTTP status in every case (0 when nothing answered).
//!
//! It reads the status, the `Retry-After` header and the fields of the JSON error body the worker
//! sends (`{"error": {"code", "message"}, …}`, see [`ErrorBody`]); it never reads a success body.

use super::retry_after::parse_retry_after;
use crate::domain::Provider;
use crate::merge::ProviderFailure;

/// The code of a request that got no HTTP answer (network down, CORS, aborted).
pub const NETWORK_ERROR: &str = "network_error";
/// The code of a successful status whose body is not the JSON expected.
pub const INVALID_RESPONSE: &str = "invalid_response";
/// The code of a session-token getter that threw or gave no token.
pub const TOKEN_UNAVAILABLE: &str = "token_unavailable";
/// The code the worker gives a billed refresh that repeats within the cap.
pub const COST_CAPPED: &str = "refresh_cost_capped";
/// The code of a 429 whose body names none.
pub const RATE_LIMITED: &str = "rate_limited";

/// What one HTTP answer means to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// A 2xx: the body is the answer.
    Ok,
    /// A 429: wait `retry_after_s` (from `Retry-After`, else the body's `retry_after_s`) before
    /// asking again. Never retried automatically.
    RateLimited { retry_after_s: Option<u64>, code: String, message: String },
    /// A 402 `refresh_cost_capped`: going ahead would bill again within the cap; the caller must
    /// confirm the cost. `reason` is for people.
    CostCapped { provider: Option<Provider>, next_allowed_at: Option<i64>, reason: String },
    /// No answer (`status` 0) or a 5xx other than 501: another attempt may succeed.
    Transient { status: u16, code: String, message: String },
    /// Any other answer: asking again the same way cannot help.
    Fatal { status: u16, code: String, message: String },
}

/// A request that did not succeed, as the client's caller sees it: a stable `code`, a message
/// for people, the HTTP `status` (0 when nothing answered) and whatever the answer said about
/// when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFailure {
    pub code: String,
    pub message: String,
    pub status: u16,
    /// Seconds to wait, on a 429.
    pub retry_after_s: Option<u64>,
    /// Unix seconds of the next refresh allowed without confirming the cost, on a 402 cost cap.
    pub next_allowed_at: Option<i64>,
    /// Why the cost cap applies, for people.
    pub reason: Option<String>,
    /// The provider the failure is about, when the answer names one.
    pub provider: Option<Provider>,
    /// How many requests were made (1 when not retried).
    pub attempts: u32,
}

impl ClientFailure {
    fn plain(code: &str, message: impl Into<String>, status: u16) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            status,
            retry_after_s: None,
            next_allowed_at: None,
            reason: None,
            provider: None,
            attempts: 1,
        }
    }

    /// A successful `status` whose body could not be read as the answer expected.
    pub fn invalid_response(status: u16, detail: &str) -> Self {
        Self::plain(
            INVALID_RESPONSE,
            format!("The Tributary API sent an answer that could not be read: {detail}"),
            status,
        )
    }

    /// The session-token getter threw or gave no token; no request was made.
    pub fn token_unavailable(detail: &str) -> Self {
        Self::plain(TOKEN_UNAVAILABLE, format!("No session token: {detail}"), 0)
    }

    /// This failure as a merged portfolio reports a provider that could not be read.
    pub fn provider_failure(&self) -> ProviderFailure {
        ProviderFailure { code: self.code.clone(), message: self.message.clone() }
    }
}

impl HttpOutcome {
    /// A request that got no HTTP answer at all (`detail` is the runtime's message).
    pub fn network_failure(detail: &str) -> Self {
        let message = format!("The Tributary API could not be reached: {detail}");
        Self::Transient { status: 0, code: NETWORK_ERROR.to_owned(), message }
    }

    /// Whether another attempt may succeed (only [`HttpOutcome::Transient`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// The caller's failure after `attempts` requests; `None` for [`HttpOutcome::Ok`].
    pub fn into_failure(self, attempts: u32) -> Option<ClientFailure> {
        let failure = match self {
            Self::Ok => return None,
            Self::RateLimited { retry_after_s, code, message } => {
                ClientFailure { retry_after_s, ..ClientFailure::plain(&code, message, 429) }
            }
            Self::CostCapped { provider, next_allowed_at, reason } => ClientFailure {
                provider,
                next_allowed_at,
                reason: Some(reason.clone()),
                ..ClientFailure::plain(COST_CAPPED, reason, 402)
            },
            Self::Transient { status, code, message } | Self::Fatal { status, code, message } => {
                ClientFailure::plain(&code, message, status)
            }
        };
        Some(ClientFailure { attempts, ..failure })
    }
}

/// The fields of the worker's error body a client reads (the shell reads them from the JSON;
/// a body that is not JSON, or a field of another type, reads as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `error.code`.
    pub code: Option<String>,
    /// `error.message`.
    pub message: Option<String>,
    /// `retry_after_s` (a 429's body).
    pub retry_after_s: Option<u64>,
    /// `provider` (a 402 cost cap's body).
    pub provider: Option<String>,
    /// `next_allowed_at` (a 402 cost cap's body).
    pub next_allowed_at: Option<i64>,
    /// `reason` (a 402 cost cap's body).
    pub reason: Option<String>,
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|s| !s.is_empty())
}

/// Whether `status` is a success, whose body is the answer (and not an [`ErrorBody`]).
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Classifies an answer: its `status`, its `Retry-After` header (if any) and its error body's
/// fields, with `now_unix` for HTTP-date `Retry-After` values. The error code and message come
/// from the body, else `http_<status>` and a generic sentence.
pub fn classify(status: u16, retry_after: Option<&str>, body: ErrorBody, now_unix: u64) -> HttpOutcome {
    if is_success(status) {
        return HttpOutcome::Ok;
    }
    let code = non_empty(body.code).unwrap_or_else(|| format!("http_{status}"));
    let message = non_empty(body.message);
    match status {
        429 => {
            let retry_after_s = retry_after.and_then(|h| parse_retry_after(h, now_unix)).or(body.retry_after_s);
            let message = message.unwrap_or_else(|| match retry_after_s {
                Some(s) => format!("Too many requests; try again in {s} s."),
                None => "Too many requests; try again later.".to_owned(),
            });
            let code = if code == "http_429" { RATE_LIMITED.to_owned() } else { code };
            HttpOutcome::RateLimited { retry_after_s, code, message }
        }
        402 if code == COST_CAPPED => HttpOutcome::CostCapped {
            provider: body.provider.and_then(|p| Provider::parse(&p).ok()),
            next_allowed_at: body.next_allowed_at,
            reason: non_empty(body.reason)
                .or(message)
                .unwrap_or_else(|| "Refreshing again now would be billed; confirm the cost to go ahead.".to_owned()),
        },
        500..=599 if status != 501 => {
            let message = message.unwrap_or_else(|| format!("The Tributary API failed ({status}); try again shortly."));
            HttpOutcome::Transient { status, code, message }
        }
        _ => {
            let message = message.unwrap_or_else(|| format!("The Tributary API refused the request ({status})."));
            HttpOutcome::Fatal { status, code, message }
        }
    }
}
