//! Plaid's error object `{error_type, error_code, error_message, display_message, …}` and the
//! errors the simulator answers with; the gate adds each request's `request_id`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A Plaid error answer (without its `request_id`, which the gate assigns per request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaidError {
    /// The HTTP status.
    pub status: u16,
    /// `error_type`, e.g. `INVALID_INPUT`.
    pub error_type: &'static str,
    /// `error_code`, e.g. `INVALID_API_KEYS`.
    pub error_code: &'static str,
    /// `error_message`, for developers.
    pub message: String,
    /// `display_message`, for end users (`null` when the error is not theirs to fix).
    pub display_message: Option<&'static str>,
}

impl PlaidError {
    /// An error with this HTTP status, type, code and developer message.
    pub fn new(status: u16, error_type: &'static str, error_code: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, error_code, message: message.into(), display_message: None }
    }

    /// A 400 `INVALID_REQUEST` error with this code.
    pub fn invalid_request(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_REQUEST", error_code, message)
    }

    /// A 400 `INVALID_INPUT` error with this code.
    pub fn invalid_input(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_INPUT", error_code, message)
    }

    /// `MISSING_FIELDS` naming `fields`.
    pub fn missing_fields(fields: &[&str]) -> Self {
        Self::invalid_request(
            "MISSING_FIELDS",
            format!("the following required fields are missing: {}", fields.join(", ")),
        )
    }

    /// `INVALID_FIELD` with this message.
    pub fn invalid_field(message: impl Into<String>) -> Self {
        Self::invalid_request("INVALID_FIELD", message)
    }

    /// `ITEM_LOGIN_REQUIRED`: the Item's login details need to be updated through Link.
    pub fn item_login_required() -> Self {
        const MESSAGE: &str = "the login details of this item have changed (credentials, MFA, or required user \
                               action) and a user login is required to update this information. use Link's update \
                               mode to restore the item to a good state";
        Self { display_message: Some(MESSAGE), ..Self::new(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED", MESSAGE) }
    }

    /// `PRODUCT_NOT_READY`: the Item's investments data is not extracted yet (retry later).
    pub fn product_not_ready() -> Self {
        Self::new(
            400,
            "ITEM_ERROR",
            "PRODUCT_NOT_READY",
            "the requested product is not yet ready. please provide a webhook or try the request again later",
        )
    }

    /// The error Plaid would send with an injected HTTP `status`.
    pub fn for_status(status: u16) -> Self {
        match status {
            429 => Self::new(429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT", "rate limit exceeded for this endpoint"),
            502 | 504 => Self::new(
                status,
                "INSTITUTION_ERROR",
                "INSTITUTION_NOT_RESPONDING",
                "this financial institution is not currently responding to requests. We apologize for the inconvenience.",
            ),
            503 => Self::new(503, "API_ERROR", "PLANNED_MAINTENANCE", "the Plaid API is undergoing planned maintenance"),
            401 | 403 => {
                Self::new(status, "INVALID_INPUT", "INVALID_API_KEYS", "invalid client_id or secret provided")
            }
            404 => Self::new(404, "INVALID_REQUEST", "NOT_FOUND", "not found"),
            400..=499 => Self::new(status, "INVALID_REQUEST", "INVALID_FIELD", "the request could not be processed"),
            _ => Self::new(
                status,
                "API_ERROR",
                "INTERNAL_SERVER_ERROR",
                "an unexpected error occurred while processing your request",
            ),
        }
    }

    /// The JSON error object (as also embedded in webhooks and `item.error`, without `request_id`).
    pub fn body(&self) -> Value {
        json!({
            "error_type": self.error_type,
            "error_code": self.error_code,
            "error_code_reason": null,
            "error_message": self.message,
            "display_message": self.display_message,
            "documentation_url": "https://plaid.com/docs/errors/",
            "suggested_action": null,
        })
    }

    /// The HTTP answer carrying `request_id`.
    pub fn respond(&self, request_id: &str) -> Response {
        let mut body = self.body();
        body["request_id"] = json!(request_id);
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_statuses_map_to_plaid_error_types() {
        assert_eq!(PlaidError::for_status(500).error_code, "INTERNAL_SERVER_ERROR");
        assert_eq!(PlaidError::for_status(429).error_type, "RATE_LIMIT_EXCEEDED");
        assert_eq!(PlaidError::for_status(503).error_code, "PLANNED_MAINTENANCE");
        assert_eq!(PlaidError::for_status(502).error_type, "INSTITUTION_ERROR");
        let body = PlaidError::for_status(500).body();
        assert!(body["display_message"].is_null() && body.get("request_id").is_none());
    }
}
