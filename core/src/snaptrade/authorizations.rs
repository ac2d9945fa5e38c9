//! SnapTrade `/authorizations` entries (brokerage connections) normalised into what Tributary
//! stores about a connection: its id, institution, read/trade type and disabled state.

use crate::capabilities::ConnectionType;
use crate::domain::{InstitutionSlug, Provider};
use crate::provider_error::ProviderError;
use serde::Serialize;
use serde_json::Value;

/// One brokerage connection as SnapTrade reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authorization {
    pub external_id: String,
    pub institution_slug: Option<InstitutionSlug>,
    pub institution_name: Option<String>,
    pub connection_type: ConnectionType,
    pub disabled: bool,
    pub disabled_date: Option<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Normalises one `/authorizations` entry; `resolve` turns the brokerage name into a slug.
/// An entry without an id is malformed; an unknown `type` is read-only (never assumed tradable).
pub fn normalize_authorization(
    value: &Value,
    resolve: &dyn Fn(&str) -> Option<InstitutionSlug>,
) -> Result<Authorization, ProviderError> {
    let external_id = text(value.get("id")).ok_or_else(|| ProviderError::Malformed {
        provider: Provider::SnapTrade,
        detail: "authorization without an id".into(),
    })?;
    let brokerage = value.get("brokerage");
    let institution_name = brokerage.and_then(|b| text(b.get("display_name")).or_else(|| text(b.get("name"))));
    let connection_type = value
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| ConnectionType::parse(t).ok())
        .unwrap_or(ConnectionType::Read);
    Ok(Authorization {
        external_id,
        institution_slug: institution_name.as_deref().and_then(resolve),
        institution_name,
        connection_type,
        disabled: value.get("disabled").and_then(Value::as_bool).unwrap_or(false),
        disabled_date: text(value.get("disabled_date")),
    })
}

/// Normalises a whole `/authorizations` answer (a JSON list).
pub fn normalize_authorizations(
    value: &Value,
    resolve: &dyn Fn(&str) -> Option<InstitutionSlug>,
) -> Result<Vec<Authorization>, ProviderError> {
    value
        .as_array()
        .ok_or_else(|| ProviderError::Malformed {
            provider: Provider::SnapTrade,
            detail: "authorizations: expected a list".into(),
        })?
        .iter()
        .map(|entry| normalize_authorization(entry, resolve))
        .collect()
}

/// Whether a reconnect of `reconnected` repaired it: SnapTrade lists that authorization again and
/// reports it enabled. A reconnect the portal reported as done but SnapTrade still lists as
/// disabled (or no longer lists) is not a repair, so the connection keeps asking for one.
pub fn repaired_by_reconnect(authorizations: &[Authorization], reconnected: &str) -> bool {
    authorizations.iter().any(|a| a.external_id == reconnected && !a.disabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(id: &str, disabled: bool) -> Authorization {
        Authorization {
            external_id: id.into(),
            institution_slug: None,
            institution_name: None,
            connection_type: ConnectionType::Read,
            disabled,
            disabled_date: None,
        }
    }

    #[test]
    fn reconnect_repairs_only_an_enabled_authorization_that_is_still_listed() {
        let list = [auth("a", false), auth("b", true)];
        assert!(repaired_by_reconnect(&list, "a"));
        assert!(!repaired_by_reconnect(&list, "b"), "still disabled at SnapTrade");
        assert!(!repaired_by_reconnect(&list, "c"), "not listed any more");
    }
    use serde_json::json;

    fn resolve(name: &str) -> Option<InstitutionSlug> {
        crate::institutions::resolve_institution(name)
    }

    #[test]
    fn a_trade_connection_keeps_its_type_institution_and_disabled_state() {
        let entry = json!({
            "id": "87b24961-b51e-4db8-9226-f198f6518a89",
            "brokerage": {"name": "Schwab", "display_name": "Charles Schwab", "slug": "SCHWAB"},
            "type": "trade", "disabled": true, "disabled_date": "2026-11-20T10:00:00.000Z"
        });
        let auth = normalize_authorization(&entry, &resolve).unwrap();
        assert_eq!(auth.external_id, "87b24961-b51e-4db8-9226-f198f6518a89");
        assert_eq!(auth.institution_slug.as_ref().map(InstitutionSlug::as_str), Some("charles_schwab"));
        assert_eq!(auth.institution_name.as_deref(), Some("Charles Schwab"));
        assert_eq!(auth.connection_type, ConnectionType::Trade);
        assert!(auth.disabled);
        assert_eq!(auth.disabled_date.as_deref(), Some("2026-11-20T10:00:00.000Z"));
    }

    #[test]
    fn an_unknown_type_is_read_only_and_an_unknown_brokerage_has_no_slug() {
        let entry = json!({"id": "a1", "brokerage": {"name": "Purchase Bank"}, "type": "superuser"});
        let auth = normalize_authorization(&entry, &resolve).unwrap();
        assert_eq!(auth.connection_type, ConnectionType::Read);
        assert_eq!(auth.institution_slug, None);
        assert!(!auth.disabled);
    }

    #[test]
    fn entries_without_ids_and_non_lists_are_malformed_not_skipped() {
        assert!(matches!(
            normalize_authorizations(&json!([{"id": "a"}, {"type": "read"}]), &resolve),
            Err(ProviderError::Malformed { .. })
        ));
        assert!(matches!(
            normalize_authorizations(&json!({"id": "a"}), &resolve),
            Err(ProviderError::Malformed { .. })
        ));
        assert_eq!(normalize_authorizations(&json!([]), &resolve).unwrap(), vec![]);
    }
}
