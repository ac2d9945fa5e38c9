//! The one error type every export throws: a JavaScript `Error` whose `message` is for people and
//! whose `code` is a stable, machine-readable string. Codes always come from the core's errors;
//! arguments the core never sees (JSON text, a view name) reuse the core's generic codes.

use tributary_core::{ErrorCode, RequestError, ValidationError};
use wasm_bindgen::JsValue;

/// An error on its way to JavaScript: thrown as `Error` with `code` and `message` properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    code: String,
    message: String,
}

impl ClientError {
    /// An error with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
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

impl From<ClientError> for JsValue {
    fn from(error: ClientError) -> Self {
        let js = js_sys::Error::new(&error.message);
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(&error.code));
        js.into()
    }
}
