//! The one error type every export throws: a JavaScript `Error` named `TributaryError` whose
//! `message` is for people and whose `code` is a stable, machine-readable string. Codes always
//! come from the core's errors; arguments the core never sees (JSON text, a view name) reuse the
//! core's generic codes. Errors from an HTTP request also carry `status` (0 when nothing
//! answered), `attempts`, and — when the answer said so — `retryAfter`, `nextAllowedAt`,
//! `reason` and `provider`.

use tributary_core::client::ClientFailure;
use tributary_core::{ErrorCode, RequestError, ValidationError};
use wasm_bindgen::JsValue;

/// The `name` of every error this module throws.
pub const ERROR_NAME: &str = "TributaryError";

/// An error on its way to JavaScript: thrown as `Error` with `code` and `message` properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    code: String,
    message: String,
    /// What an HTTP request's failure adds (status, attempts, when to come back); boxed so the
    /// error stays small on the `Err` path.
    http: Option<Box<ClientFailure>>,
}

impl ClientError {
    /// An error with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), http: None }
    }

    /// Text that is not valid JSON, or not the JSON expected (the core's `invalid_json`).
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(RequestError::InvalidJson(String::new()).code(), message)
    }

    /// An argument outside what the export accepts (the core's `invalid_input`).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ValidationError::Empty { field: "" }.code(), message)
    }

    /// A bug on our side (the core's `internal_error`).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(RequestError::Internal.code(), message)
    }

    /// The code and message of a core error.
    pub fn from_core(error: &impl ErrorCode) -> Self {
        Self::new(error.code(), error.to_string())
    }

    /// The stable, machine-readable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The sentence for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ClientFailure> for ClientError {
    fn from(failure: ClientFailure) -> Self {
        Self { code: failure.code.clone(), message: failure.message.clone(), http: Some(Box::new(failure)) }
    }
}

impl From<ClientError> for JsValue {
    fn from(error: ClientError) -> Self {
        let js = js_sys::Error::new(&error.message);
        js.set_name(ERROR_NAME);
        let js: JsValue = js.into();
        // Setting a property on a fresh Error object cannot fail.
        let set = |key: &str, value: JsValue| {
            let _ = js_sys::Reflect::set(&js, &JsValue::from_str(key), &value);
        };
        set("code", JsValue::from_str(&error.code));
        if let Some(http) = &error.http {
            set("status", JsValue::from(http.status));
            set("attempts", JsValue::from(http.attempts));
            if let Some(seconds) = http.retry_after_s {
                set("retryAfter", JsValue::from(seconds as f64));
            }
            if let Some(at) = http.next_allowed_at {
                set("nextAllowedAt", JsValue::from(at as f64));
            }
            if let Some(reason) = &http.reason {
                set("reason", JsValue::from_str(reason));
            }
            if let Some(provider) = http.provider {
                set("provider", JsValue::from_str(provider.as_str()));
            }
        }
        js
    }
}
