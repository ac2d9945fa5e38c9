//! Why an incoming provider webhook was refused. One taxonomy for SnapTrade (HMAC) and Plaid
//! (ES256 JWT): every refusal has a stable code, and none of them changes any state.

use crate::error::ErrorCode;

/// A webhook that must not be acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook carries no signature header")]
    MissingSignature,
    #[error("the webhook signature does not match its body")]
    BadSignature,
    #[error("the webhook body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the webhook has no usable event timestamp: {0}")]
    MalformedTimestamp(String),
    #[error("the webhook is {age_s} s away from now; at most {max_s} s is accepted")]
    Stale { age_s: i64, max_s: i64 },
    #[error("the webhook was sent for another client id")]
    WrongClientId,
    #[error("the webhook token uses algorithm {0:?}; only ES256 is accepted")]
    UnsupportedAlgorithm(String),
    #[error("the webhook token is not a well-formed JWT: {0}")]
    MalformedToken(String),
    #[error("no verification key is known for key id {0:?}")]
    UnknownKey(String),
    #[error("the verification key for this webhook has expired")]
    KeyExpired,
    #[error("the webhook body does not match the hash its token signs")]
    BodyHashMismatch,
    #[error("the webhook body is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    #[error("webhook verification is not configured on this deployment")]
    NotConfigured,
}

impl ErrorCode for WebhookError {
    fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "webhook_signature_missing",
            Self::BadSignature => "webhook_signature_invalid",
            Self::MalformedJson(_) => "webhook_malformed_json",
            Self::MalformedTimestamp(_) => "webhook_malformed_timestamp",
            Self::Stale { .. } => "webhook_stale",
            Self::WrongClientId => "webhook_wrong_client",
            Self::UnsupportedAlgorithm(_) => "webhook_unsupported_algorithm",
            Self::MalformedToken(_) => "webhook_malformed_token",
            Self::UnknownKey(_) => "webhook_unknown_key",
            Self::KeyExpired => "webhook_key_expired",
            Self::BodyHashMismatch => "webhook_body_mismatch",
            Self::TooLarge { .. } => "webhook_too_large",
            Self::NotConfigured => "webhook_not_configured",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            Self::MissingSignature | Self::UnknownKey(_) | Self::KeyExpired => 401,
            Self::MalformedJson(_) | Self::MalformedTimestamp(_) | Self::MalformedToken(_) => 400,
            Self::TooLarge { .. } => 413,
            Self::NotConfigured => 503,
            _ => 403,
        }
    }
}

/// Webhook age limit shared by both providers: 300 s either side of now.
pub const MAX_WEBHOOK_AGE_S: i64 = 300;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_distinct_code() {
        let all = [
            WebhookError::MissingSignature,
            WebhookError::BadSignature,
            WebhookError::MalformedJson(String::new()),
            WebhookError::MalformedTimestamp(String::new()),
            WebhookError::Stale { age_s: 0, max_s: 0 },
            WebhookError::WrongClientId,
            WebhookError::UnsupportedAlgorithm(String::new()),
            WebhookError::MalformedToken(String::new()),
            WebhookError::UnknownKey(String::new()),
            WebhookError::KeyExpired,
            WebhookError::BodyHashMismatch,
            WebhookError::TooLarge { max_bytes: 0 },
            WebhookError::NotConfigured,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(ErrorCode::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|e| (400..=503).contains(&e.http_status())));
    }
}
