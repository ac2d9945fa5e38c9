//! SnapTrade's error answers (`{"detail", "status_code", "code"}`) mapped to typed errors.

use crate::domain::Provider;
use crate::provider_error::ProviderError;
use serde_json::Value;

const P: Provider = Provider::SnapTrade;

/// What kind of SnapTrade call failed; the same status means different things on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Reading accounts, positions, balances, authorizations, brokerages.
    Read(&'static str),
    /// Registering or logging a user in.
    User(&'static str),
    /// Refreshing a connection (billed).
    Refresh,
    /// Any trading call; `brokerage` names the connection's brokerage for the message.
    Trading { operation: &'static str, brokerage: Option<String> },
}

impl Operation {
    fn name(&self) -> &'static str {
        match self {
            Self::Read(name) | Self::User(name) | Self::Trading { operation: name, .. } => name,
            Self::Refresh => "refresh",
        }
    }
}

fn text(body: &Value, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Maps a non-2xx SnapTrade answer to a typed error. `retry_after_s` comes from `Retry-After`
/// or `X-RateLimit-Reset`, whichever the shell found.
pub fn map_error(status: u16, body: &[u8], operation: &Operation, retry_after_s: Option<u64>) -> ProviderError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = text(&parsed, "code").or_else(|| text(&parsed, "default_code")).unwrap_or_default();
    let detail = text(&parsed, "detail")
        .or_else(|| text(&parsed, "default_detail"))
        .or_else(|| text(&parsed, "error"))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let mentions_user = detail.to_ascii_lowercase().contains("user");
    match status {
        401 if code == "1083" || (mentions_user && !detail.to_ascii_lowercase().contains("signature")) => {
            ProviderError::UserNotFound { provider: P }
        }
        401 => ProviderError::Auth { provider: P, detail },
        402 => ProviderError::ConnectionDisabled { provider: P, detail },
        403 => match operation {
            Operation::Trading { brokerage, .. } => {
                ProviderError::TradingNotPermitted { provider: P, brokerage: brokerage.clone() }
            }
            _ if code == "1083" => ProviderError::UserNotFound { provider: P },
            _ => ProviderError::Auth { provider: P, detail },
        },
        404 if mentions_user && matches!(operation, Operation::User(_)) => ProviderError::UserNotFound { provider: P },
        404 => ProviderError::NotFound { provider: P, what: format!("{} ({detail})", operation.name()) },
        410 => ProviderError::EndpointGone { provider: P, operation: operation.name().to_owned() },
        425 => ProviderError::NotReady { provider: P },
        429 => ProviderError::RateLimited { provider: P, retry_after_s },
        500..=599 => ProviderError::ServerError { provider: P, status },
        _ => ProviderError::Rejected { provider: P, status, detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn map(status: u16, body: &str, op: Operation) -> ProviderError {
        map_error(status, body.as_bytes(), &op, Some(30))
    }

    #[test]
    fn each_documented_answer_maps_to_its_typed_error() {
        let read = || Operation::Read("positions");
        let cases = [
            (
                401,
                r#"{"detail":"Unable to verify signature sent","status_code":401,"code":"1076"}"#,
                "provider_auth_failed",
            ),
            (401, r#"{"detail":"Invalid userID or userSecret provided","code":"1083"}"#, "provider_user_not_found"),
            (402, r#"{"detail":"connection is disabled","code":"3003"}"#, "connection_disabled"),
            (403, r#"{"detail":"no permission","code":"1066"}"#, "provider_auth_failed"),
            (404, r#"{"detail":"The requested resource does not exist.","code":"1011"}"#, "provider_not_found"),
            (410, r#"{"detail":"Gone"}"#, "provider_endpoint_gone"),
            (425, r#"{"detail":"populating","code":"3012"}"#, "provider_not_ready"),
            (429, r#"{"detail":"Connection refreshed too recently.","code":"throttled"}"#, "provider_rate_limited"),
            (503, r#"{"detail":"Invalid response from Brokerage API.","code":"3002"}"#, "provider_unavailable"),
            (500, "<html>oops</html>", "provider_unavailable"),
            (418, "", "provider_rejected"),
        ];
        for (status, body, code) in cases {
            assert_eq!(map(status, body, read()).code(), code, "{status} {body}");
        }
    }

    #[test]
    fn forbidden_on_a_trading_call_names_the_brokerage() {
        let op = Operation::Trading { operation: "trade_impact", brokerage: Some("Fidelity".into()) };
        let error = map(403, r#"{"detail":"Feature is not enabled","default_code":1141}"#, op);
        assert_eq!(error.code(), "trading_not_permitted");
        assert!(error.to_string().contains("Fidelity"), "{error}");
    }

    #[test]
    fn gone_is_loud_and_rate_limits_carry_their_reset() {
        let gone = map(410, "{}", Operation::Read("holdings"));
        assert!(gone.to_string().contains("not an empty portfolio"));
        assert!(!gone.is_retryable());
        assert_eq!(map(429, "{}", Operation::Refresh).retry_after_s(), Some(30));
        assert!(map(502, "", Operation::Read("accounts")).is_retryable());
    }
}
