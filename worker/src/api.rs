//! HTTP plumbing shared by every route: JSON bodies in and out, and the one error shape
//! `{"error":{"code","message"}}` built from the core's typed errors.

use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize};
use tributary_core::config::ConfigError;
use tributary_core::coverage::RoutingError;
use tributary_core::provider_error::ProviderError;
use tributary_core::refresh::RefreshError;
use tributary_core::sealed::SealError;
use tributary_core::session::SessionError;
use tributary_core::webhook::WebhookError;
use tributary_core::{ErrorCode, RequestError, ValidationError};
use worker::{Request, Response};

/// Largest JSON body any endpoint reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every route handler returns: a response, or an error to render as JSON.
pub type ApiResult = Result<Response, ApiError>;

/// An error on its way to becoming a JSON response.
#[derive(Debug)]
pub struct ApiError {
    status: u16,
    code: &'static str,
    message: String,
    /// Whether a provider caused it (a merge reports it per provider instead of failing whole).
    from_provider: bool,
    /// When to ask again, if the error says (answered as `Retry-After` and `error.retry_after_s`).
    retry_after_s: Option<u64>,
    /// The provider is still preparing the data (not a failed fetch; see `ProviderError::is_pending`).
    pending: bool,
    /// What the error lists beside its message (answered as `error.details`), when it lists any.
    details: Option<serde_json::Value>,
}

impl ApiError {
    fn from_coded(error: &impl ErrorCode) -> Self {
        Self {
            status: error.http_status(),
            code: error.code(),
            message: error.to_string(),
            from_provider: false,
            retry_after_s: None,
            pending: false,
            details: None,
        }
    }

    /// This error with `details` answered beside its code and message.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Whether a provider (not our platform or the request) caused this error.
    pub fn is_provider_failure(&self) -> bool {
        self.from_provider
    }

    /// Whether the provider is still preparing the data rather than failing.
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The code and message, as a merge reports a failed provider.
    pub fn failure(&self) -> tributary_core::merge::ProviderFailure {
        tributary_core::merge::ProviderFailure { code: self.code.to_owned(), message: self.message.clone() }
    }

    /// A failure of the platform (D1, KV, runtime): logged with context, answered as a bare 500.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        log_failure(context, error);
        Self::from_coded(&RequestError::Internal)
    }
}

/// Logs a platform failure that does not end the request (the request carries on without it).
pub fn log_failure(context: &str, error: impl std::fmt::Display) {
    worker::console_error!("{}", serde_json::json!({"level": "error", "context": context, "error": error.to_string()}));
}

macro_rules! api_error_from {
    ($($error:ty),*) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                Self::from_coded(&error)
            }
        }
    )*};
}
api_error_from!(
    RequestError,
    ValidationError,
    SessionError,
    ConfigError,
    SealError,
    RoutingError,
    WebhookError,
    RefreshError,
    tributary_core::dev_clock::DevClockError,
    tributary_core::plaid::LinkSessionError,
    tributary_core::plaid::RepairError,
    tributary_core::schwab::OAuthError,
    tributary_core::origin::RedirectError,
    tributary_core::mcp::McpRefusal,
    tributary_core::transactions::query::TransactionQueryError,
    tributary_core::transactions::sync::PagingError,
    tributary_core::connection_health::HealthQueryError,
    tributary_core::ops::operator::OperatorError,
    tributary_core::ops::metrics::MetricsQueryError
);

impl From<tributary_core::trading::TradingError> for ApiError {
    fn from(error: tributary_core::trading::TradingError) -> Self {
        Self { retry_after_s: error.retry_after_s(), ..Self::from_coded(&error) }
    }
}

impl From<tributary_core::migration::MigrationError> for ApiError {
    fn from(error: tributary_core::migration::MigrationError) -> Self {
        Self { details: error.details(), ..Self::from_coded(&error) }
    }
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> Self {
        Self {
            from_provider: true,
            retry_after_s: error.retry_after_s(),
            pending: error.is_pending(),
            ..Self::from_coded(&error)
        }
    }
}

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult {
    Response::from_json(body).map(|r| r.with_status(status)).map_err(|e| ApiError::internal("serialise response", e))
}

fn error_response(error: &ApiError) -> Response {
    let mut body = serde_json::json!({"error": {"code": error.code, "message": error.message}});
    if let Some(seconds) = error.retry_after_s {
        body["error"]["retry_after_s"] = seconds.into();
    }
    if let Some(details) = &error.details {
        body["error"]["details"] = details.clone();
    }
    let mut response = Response::from_json(&body)
        .map(|r| r.with_status(error.status))
        .unwrap_or_else(|_| Response::error("internal_error", 500).expect("a plain response can always be built"));
    if let Some(seconds) = error.retry_after_s {
        // A header that cannot be set leaves the body's figure; the answer itself stands.
        let _ = response.headers_mut().set("Retry-After", &seconds.to_string());
    }
    response
}

/// Renders a handler's outcome: the response itself, or its error as JSON.
pub fn finish(result: ApiResult) -> Response {
    result.unwrap_or_else(|error| error_response(&error))
}

/// The methods `routes` (method, `/path/:param` pattern) declare for `path`, for a 405's `Allow`.
pub fn allowed_methods(routes: &[(&str, &str)], path: &str) -> String {
    let matches = |pattern: &str| {
        let (mut want, mut got) = (pattern.split('/'), path.split('/'));
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w == g || (w.starts_with(':') && !g.is_empty()) => {}
                _ => return false,
            }
        }
    };
    // A literal route (`/api/orders/preview`) names its path alone: a parameter route that would
    // also match (`/api/orders/:id`) does not add its methods to it.
    let literal: Vec<&str> = routes.iter().filter(|(_, pattern)| *pattern == path).map(|(method, _)| *method).collect();
    if !literal.is_empty() {
        return literal.join(", ");
    }
    let methods: Vec<&str> = routes.iter().filter(|(_, pattern)| matches(pattern)).map(|(method, _)| *method).collect();
    methods.join(", ")
}

/// Replaces the router's plain-text 404/405 answers and runtime errors with JSON errors; a 405
/// carries `Allow` with the methods `routes` declare for the path (RFC 9110).
pub fn json_fallbacks(result: worker::Result<Response>, method: &str, path: &str, routes: &[(&str, &str)]) -> Response {
    let response = match result {
        Ok(response) => response,
        Err(e) => return error_response(&ApiError::internal("router", e)),
    };
    let is_json =
        response.headers().get("content-type").ok().flatten().is_some_and(|t| t.starts_with("application/json"));
    let (method, path) = (method.to_owned(), path.to_owned());
    match response.status_code() {
        404 if !is_json => error_response(&RequestError::NotFound { method, path }.into()),
        405 if !is_json => {
            let allow = allowed_methods(routes, &path);
            let mut response = error_response(&RequestError::MethodNotAllowed { method, path }.into());
            if let Err(e) = response.headers_mut().set("Allow", &allow) {
                log_failure("set Allow", e);
            }
            response
        }
        _ => response,
    }
}

/// A whole number from a JSON body, written `3600` or `3600.0`: JSON has one number type and
/// `openapi.yaml`'s `integer` accepts both. A fraction, or a value beyond ±2^53, is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumber(pub i64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        let exact_float = || number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0);
        number
            .as_i64()
            .or_else(|| exact_float().map(|f| f as i64))
            .map(WholeNumber)
            .ok_or_else(|| serde::de::Error::custom(format!("{number} is not a whole number")))
    }
}

/// Methods the router dispatches on exactly; workers-rs reads any other (e.g. `QUERY`) as GET.
const ROUTABLE_METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];

/// Whether the router may see a request with this (raw) method without mistaking it for another.
pub fn is_routable_method(method: &str) -> bool {
    ROUTABLE_METHODS.contains(&method)
}

/// The answer to a method the router must not see: 405 with `Allow` on a routed path, else 404.
pub fn unroutable_method(method: &str, path: &str, routes: &[(&str, &str)]) -> Response {
    let status = if allowed_methods(routes, path).is_empty() { 404 } else { 405 };
    json_fallbacks(Response::error("unroutable method", status), method, path, routes)
}

/// Reads the raw body of at most `max_bytes`, refusing a larger one (declared or actual) with 413.
/// A larger body is read to its end (discarded, never buffered) up to the core's drain limit
/// before the refusal, so the sender is never cut off mid-upload (see [`tributary_core::body`]).
pub async fn read_bytes(req: &mut Request, max_bytes: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    use tributary_core::body::{body_step, too_large, BodyStep};
    let declared = req.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<usize>().ok());
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream().map_err(|e| ApiError::internal("read body", e))?;
    let (mut body, mut seen) = (Vec::new(), 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::internal("read body", e))?;
        seen = seen.saturating_add(chunk.len());
        match body_step(seen, declared, max_bytes) {
            BodyStep::Keep => body.extend_from_slice(&chunk),
            BodyStep::Discard => body = Vec::new(),
            BodyStep::Stop => break,
        }
    }
    if too_large(seen, declared, max_bytes) {
        return Err(RequestError::BodyTooLarge { max_bytes }.into());
    }
    Ok(body)
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`], refusing anything else with a typed error.
pub async fn read_json<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    let bytes = read_bytes(req, MAX_BODY_BYTES).await?;
    if bytes.is_empty() {
        return Err(RequestError::InvalidJson("the body is empty".into()).into());
    }
    parse_object(&bytes)
}

/// Like [`read_json`], but an empty body means `T::default()` (for endpoints whose fields are all optional).
pub async fn read_json_or_default<T: DeserializeOwned + Default>(req: &mut Request) -> Result<T, ApiError> {
    let bytes = read_bytes(req, MAX_BODY_BYTES).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_object(&bytes)
}

/// Every request body is a JSON object: serde would also fill a struct from an array of its
/// fields in order (`[["plaid"], true]`), which no documented body is.
fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(RequestError::InvalidJson("the body must be a JSON object".into()).into());
    }
    serde_json::from_slice(bytes).map_err(|e| RequestError::InvalidJson(e.to_string()).into())
}

/// The request's origin (`scheme://host[:port]`), for URLs the worker hands to providers.
pub fn origin(req: &Request) -> Result<String, ApiError> {
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    Ok(url.origin().ascii_serialization())
}

/// The current time in Unix seconds as decisions see it (see [`crate::clock`]).
pub fn now_unix() -> i64 {
    crate::clock::now_unix()
}

/// The request's CORS standing under the deployment's `ALLOWED_ORIGINS` (the core's rule).
/// Webhooks are never answered cross-origin; an unreadable configuration trusts no other origin.
pub fn cors(req: &Request, env: &worker::Env, path: &str) -> tributary_core::origin::Cors {
    use tributary_core::origin::{cors_applies, cors_for, is_same_origin, AllowedOrigins, Cors};
    let header = req.headers().get("origin").ok().flatten();
    let own = origin(req).unwrap_or_default();
    if is_same_origin(header.as_deref(), &own) {
        // The common case (a page of this worker): no configuration to read.
        return Cors::SameOrigin;
    }
    if !cors_applies(path) {
        return Cors::Refused;
    }
    let allowed = crate::env::load_config(env).map(|c| c.allowed_origins).unwrap_or_else(|_| AllowedOrigins::default());
    cors_for(header.as_deref(), &own, &allowed)
}

/// Adds `cors`'s headers to an answer (for an allowed origin: its echo, `Vary` and the exposed
/// `Retry-After`).
pub fn with_cors(mut response: Response, cors: &tributary_core::origin::Cors) -> Response {
    for (name, value) in cors.response_headers() {
        if let Err(e) = response.headers_mut().append(name, &value) {
            log_failure("set CORS header", e);
        }
    }
    response
}

/// The answer to a preflight (`OPTIONS` under `/api/`): 204 with the API's methods and headers
/// for an allowed origin, 403 JSON `origin_not_allowed` otherwise (no CORS header, so the browser
/// refuses the page).
pub fn preflight(cors: &tributary_core::origin::Cors) -> Response {
    let (status, headers) = cors.preflight();
    let mut response = if status == 204 {
        Response::empty().map(|r| r.with_status(204))
    } else {
        let body = serde_json::json!({"error": {"code": "origin_not_allowed", "message":
            "this origin may not call the API from a browser; list it in ALLOWED_ORIGINS"}});
        Response::from_json(&body).map(|r| r.with_status(status))
    }
    .unwrap_or_else(|_| Response::error("internal_error", 500).expect("a plain response can always be built"));
    for (name, value) in headers {
        if let Err(e) = response.headers_mut().append(name, &value) {
            log_failure("set CORS header", e);
        }
    }
    response
}

/// A flow's `redirect`, pinned by the core's rule to this worker's origin, an `ALLOWED_ORIGINS`
/// entry, or (in development) a loopback origin; anything else is 400 `redirect_not_allowed`.
pub fn pinned_redirect(
    req: &Request,
    config: &tributary_core::config::Config,
    redirect: &str,
) -> Result<String, ApiError> {
    let own = origin(req)?;
    let pinned = tributary_core::origin::pin_redirect(
        redirect,
        &own,
        &config.allowed_origins,
        config.environment.is_development(),
    )?;
    Ok(pinned.to_owned())
}
