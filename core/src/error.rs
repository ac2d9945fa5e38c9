//! The contract every Tributary error keeps: a stable machine-readable `code`, a human message
//! (its `Display`), and the HTTP status a shell answers with. Shells never invent codes.

/// A typed error that shells can turn into `{"error":{"code","message"}}` without guessing.
pub trait ErrorCode: std::fmt::Display {
    /// Stable, snake_case, machine-readable; clients branch on it, so it never changes.
    fn code(&self) -> &'static str;
    /// The HTTP status that fits this error when it ends a request.
    fn http_status(&self) -> u16;
}

/// Why a value from outside (a request, a provider payload, configuration) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains characters that are not allowed: {allowed}")]
    BadCharacters { field: &'static str, allowed: &'static str },
    #[error("{field} is not a decimal number: {value:?}")]
    NotADecimal { field: &'static str, value: String },
    #[error("unknown provider {0:?}; expected one of: snaptrade, plaid")]
    UnknownProvider(String),
}

impl ValidationError {
    /// The input field the error is about, for clients that highlight it.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::BadCharacters { field, .. }
            | Self::NotADecimal { field, .. } => field,
            Self::UnknownProvider(_) => "provider",
        }
    }
}

impl ErrorCode for ValidationError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownProvider(_) => "unknown_provider",
            _ => "invalid_input",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// Why an HTTP request itself was refused, before any domain rule ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body is larger than {max_bytes} bytes")]
    BodyTooLarge { max_bytes: usize },
    #[error("no such endpoint: {method} {path}")]
    NotFound { method: String, path: String },
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("something went wrong on our side; it has been logged")]
    Internal,
    #[error("{0} is unavailable right now")]
    Unavailable(&'static str),
}

impl ErrorCode for RequestError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Internal => "internal_error",
            Self::Unavailable(_) => "unavailable",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidJson(_) => 400,
            Self::BodyTooLarge { .. } => 413,
            Self::NotFound { .. } => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Internal => 500,
            Self::Unavailable(_) => 503,
        }
    }
}
