//! What Tributary asks of SnapTrade's connection portal (`POST /snapTrade/login`).

use crate::domain::InstitutionSlug;
use crate::error::ValidationError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn brokers() -> &'static BTreeMap<String, String> {
    static TABLE: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/snaptrade_brokers.json"))
            .expect("snaptrade_brokers.json is valid")
    })
}

/// SnapTrade's brokerage code for an institution (`charles_schwab` → `SCHWAB`), when it has one.
pub fn broker_code(institution: &InstitutionSlug) -> Option<&'static str> {
    brokers().get(institution.as_str()).map(String::as_str)
}

/// The portal's connection type: read-only, trading, or trading where the brokerage allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalConnectionType {
    Read,
    Trade,
    TradeIfAvailable,
}

impl PortalConnectionType {
    /// Parses `read`, `trade` or `trade-if-available` (also with `_`).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "read" => Ok(Self::Read),
            "trade" => Ok(Self::Trade),
            "trade-if-available" => Ok(Self::TradeIfAvailable),
            _ => Err(ValidationError::BadCharacters {
                field: "connection_type",
                allowed: "read, trade or trade-if-available",
            }),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Trade => "trade",
            Self::TradeIfAvailable => "trade-if-available",
        }
    }
}

/// The `/snapTrade/login` body for a portal session.
pub fn login_body(
    broker: Option<&str>,
    connection_type: PortalConnectionType,
    reconnect: Option<&str>,
    redirect: &str,
) -> Value {
    let mut body = json!({
        "immediateRedirect": true,
        "customRedirect": redirect,
        "connectionType": connection_type.as_str(),
    });
    if let Some(broker) = broker {
        body["broker"] = json!(broker);
    }
    if let Some(reconnect) = reconnect {
        body["reconnect"] = json!(reconnect);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_institutions_have_broker_codes_and_types_parse() {
        assert_eq!(broker_code(&InstitutionSlug::parse("charles_schwab").unwrap()), Some("SCHWAB"));
        assert_eq!(broker_code(&InstitutionSlug::parse("chase").unwrap()), None);
        assert_eq!(PortalConnectionType::parse("trade_if_available"), Ok(PortalConnectionType::TradeIfAvailable));
        assert!(PortalConnectionType::parse("write").is_err());
        let body = login_body(Some("SCHWAB"), PortalConnectionType::Read, None, "https://app/x");
        assert_eq!(body["broker"], "SCHWAB");
        assert!(body.get("reconnect").is_none());
    }
}
