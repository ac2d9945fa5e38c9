//! What a Plaid webhook says, read from its body once [`super::verify_webhook`] has accepted it:
//! the event (by `webhook_type` and `webhook_code`), the Item it concerns, and for a finished
//! Hosted Link session the link token and public tokens to exchange. Unknown events are kept as
//! `Other`, never an error: Plaid retries what is not answered 2xx.

use crate::webhook::WebhookError;
use serde_json::Value;
use std::fmt;

/// The events Tributary acts on; everything else is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaidEvent {
    /// `HOLDINGS` / `DEFAULT_UPDATE`: holdings changed; the user's Plaid data is pending refresh.
    HoldingsUpdated,
    /// `INVESTMENTS_TRANSACTIONS` / `DEFAULT_UPDATE`.
    InvestmentTransactionsUpdated,
    /// `ITEM` / `ERROR`, with Plaid's `error_code` when given (e.g. `ITEM_LOGIN_REQUIRED`).
    ItemError { error_code: Option<String> },
    /// `ITEM` / `LOGIN_REPAIRED`.
    LoginRepaired,
    /// `ITEM` / `PENDING_DISCONNECT`.
    PendingDisconnect,
    /// `ITEM` / `PENDING_EXPIRATION`.
    PendingExpiration,
    /// `ITEM` / `USER_PERMISSION_REVOKED`.
    PermissionRevoked,
    /// `ITEM` / `NEW_ACCOUNTS_AVAILABLE`.
    NewAccountsAvailable,
    /// `LINK` / `SESSION_FINISHED`, with the session's `status` (e.g. `SUCCESS`, `EXITED`).
    LinkSessionFinished { status: Option<String> },
    /// Any other type and code, kept as sent.
    Other { webhook_type: String, webhook_code: String },
}

impl PlaidEvent {
    /// Whether the event sets the (user, Plaid) pending-updates flag.
    pub fn marks_holdings_pending(&self) -> bool {
        matches!(self, Self::HoldingsUpdated)
    }
}

/// A verified Plaid webhook's content. `Debug` never prints the public tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct PlaidWebhook {
    pub event: PlaidEvent,
    /// The Item concerned (absent on `LINK` events).
    pub item_id: Option<String>,
    /// The Link session's token (`LINK` events), to find which user started it.
    pub link_token: Option<String>,
    /// Public tokens to exchange for access tokens (`SESSION_FINISHED` with `SUCCESS`).
    pub public_tokens: Vec<String>,
}

impl fmt::Debug for PlaidWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlaidWebhook")
            .field("event", &self.event)
            .field("item_id", &self.item_id)
            .field("link_token", &self.link_token)
            .field("public_tokens", &format_args!("[{} redacted]", self.public_tokens.len()))
            .finish()
    }
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Reads a webhook body; `MalformedJson` unless it is an object with `webhook_type` and `webhook_code`.
pub fn parse_webhook(raw_body: &[u8]) -> Result<PlaidWebhook, WebhookError> {
    let body: Value = serde_json::from_slice(raw_body).map_err(|e| WebhookError::MalformedJson(e.to_string()))?;
    let (Some(webhook_type), Some(webhook_code)) = (text(&body, "webhook_type"), text(&body, "webhook_code")) else {
        return Err(WebhookError::MalformedJson("expected an object with webhook_type and webhook_code".to_owned()));
    };
    let event = match (webhook_type.as_str(), webhook_code.as_str()) {
        ("HOLDINGS", "DEFAULT_UPDATE") => PlaidEvent::HoldingsUpdated,
        ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE") => PlaidEvent::InvestmentTransactionsUpdated,
        ("ITEM", "ERROR") => {
            PlaidEvent::ItemError { error_code: body.get("error").and_then(|e| text(e, "error_code")) }
        }
        ("ITEM", "LOGIN_REPAIRED") => PlaidEvent::LoginRepaired,
        ("ITEM", "PENDING_DISCONNECT") => PlaidEvent::PendingDisconnect,
        ("ITEM", "PENDING_EXPIRATION") => PlaidEvent::PendingExpiration,
        ("ITEM", "USER_PERMISSION_REVOKED") => PlaidEvent::PermissionRevoked,
        ("ITEM", "NEW_ACCOUNTS_AVAILABLE") => PlaidEvent::NewAccountsAvailable,
        ("LINK", "SESSION_FINISHED") => PlaidEvent::LinkSessionFinished { status: text(&body, "status") },
        _ => PlaidEvent::Other { webhook_type, webhook_code },
    };
    let mut public_tokens: Vec<String> = body
        .get("public_tokens")
        .and_then(Value::as_array)
        .map(|tokens| tokens.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(single) = text(&body, "public_token").filter(|t| !public_tokens.contains(t)) {
        public_tokens.push(single);
    }
    Ok(PlaidWebhook { event, item_id: text(&body, "item_id"), link_token: text(&body, "link_token"), public_tokens })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(body: Value) -> PlaidEvent {
        parse_webhook(body.to_string().as_bytes()).unwrap().event
    }

    #[test]
    fn each_event_tributary_acts_on_is_recognised() {
        let holdings = json!({"webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "item_id": "item-1",
                              "new_holdings": 1, "updated_holdings": 2, "environment": "production"});
        let parsed = parse_webhook(holdings.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.item_id.as_deref(), Some("item-1"));
        assert!(parsed.event.marks_holdings_pending());
        let error = json!({"webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": "i",
                           "error": {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED"}});
        assert_eq!(event(error), PlaidEvent::ItemError { error_code: Some("ITEM_LOGIN_REQUIRED".into()) });
        for (kind, code, expected) in [
            ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE", PlaidEvent::InvestmentTransactionsUpdated),
            ("ITEM", "LOGIN_REPAIRED", PlaidEvent::LoginRepaired),
            ("ITEM", "PENDING_DISCONNECT", PlaidEvent::PendingDisconnect),
            ("ITEM", "PENDING_EXPIRATION", PlaidEvent::PendingExpiration),
            ("ITEM", "USER_PERMISSION_REVOKED", PlaidEvent::PermissionRevoked),
            ("ITEM", "NEW_ACCOUNTS_AVAILABLE", PlaidEvent::NewAccountsAvailable),
            (
                "TRANSACTIONS",
                "SYNC_UPDATES_AVAILABLE",
                PlaidEvent::Other {
                    webhook_type: "TRANSACTIONS".into(),
                    webhook_code: "SYNC_UPDATES_AVAILABLE".into(),
                },
            ),
        ] {
            let parsed = event(json!({"webhook_type": kind, "webhook_code": code, "item_id": "i"}));
            assert!(!parsed.marks_holdings_pending());
            assert_eq!(parsed, expected);
        }
    }

    #[test]
    fn a_finished_link_session_carries_its_public_tokens_without_printing_them() {
        let body = json!({"webhook_type": "LINK", "webhook_code": "SESSION_FINISHED", "status": "SUCCESS",
                          "link_session_id": "s", "link_token": "link-production-1",
                          "public_tokens": ["public-production-aaaa-bbbb"], "public_token": "public-production-aaaa-bbbb",
                          "environment": "production"});
        let parsed = parse_webhook(body.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.event, PlaidEvent::LinkSessionFinished { status: Some("SUCCESS".into()) });
        assert_eq!(parsed.public_tokens, ["public-production-aaaa-bbbb"]);
        assert_eq!(parsed.link_token.as_deref(), Some("link-production-1"));
        assert!(!format!("{parsed:?}").contains("public-production"));
    }

    #[test]
    fn bodies_without_type_and_code_are_malformed() {
        for body in ["", "[]", "{}", r#"{"webhook_type": "ITEM"}"#, r#"{"webhook_type": 1, "webhook_code": "X"}"#] {
            assert!(matches!(parse_webhook(body.as_bytes()), Err(WebhookError::MalformedJson(_))), "{body}");
        }
    }
}

/// What the worker does with a verified Plaid webhook, in the same terms as SnapTrade's: the
/// connection id is the Item id. Holdings updates raise the pending flag; Item errors, pending
/// disconnects/expirations and revoked permission mark the Item for repair; a repaired login
/// clears that; everything else is acknowledged (Plaid retries anything not answered 2xx).
#[cfg(feature = "server")]
pub fn webhook_effect(webhook: &PlaidWebhook) -> crate::snaptrade::WebhookEffect {
    use crate::snaptrade::WebhookEffect;
    let item = webhook.item_id.clone();
    let needs_item = |make: fn(String) -> WebhookEffect| match &item {
        Some(id) => make(id.clone()),
        None => WebhookEffect::Acknowledge { reason: "an Item event without item_id; nothing to change".into() },
    };
    match &webhook.event {
        PlaidEvent::HoldingsUpdated => needs_item(|_| WebhookEffect::SetPending),
        PlaidEvent::InvestmentTransactionsUpdated => needs_item(|_| WebhookEffect::SetTransactionsPending),
        PlaidEvent::ItemError { .. }
        | PlaidEvent::PendingDisconnect
        | PlaidEvent::PendingExpiration
        | PlaidEvent::PermissionRevoked => needs_item(|id| WebhookEffect::NeedsRepair { authorization_id: id }),
        PlaidEvent::LoginRepaired => needs_item(|id| WebhookEffect::Repaired { authorization_id: id }),
        other => WebhookEffect::Acknowledge { reason: format!("{} needs no change", other.name()) },
    }
}

impl PlaidEvent {
    /// `TYPE/CODE` as Plaid names the event, for logs and the event record.
    pub fn name(&self) -> String {
        match self {
            Self::HoldingsUpdated => "HOLDINGS/DEFAULT_UPDATE".into(),
            Self::InvestmentTransactionsUpdated => "INVESTMENTS_TRANSACTIONS/DEFAULT_UPDATE".into(),
            Self::ItemError { .. } => "ITEM/ERROR".into(),
            Self::LoginRepaired => "ITEM/LOGIN_REPAIRED".into(),
            Self::PendingDisconnect => "ITEM/PENDING_DISCONNECT".into(),
            Self::PendingExpiration => "ITEM/PENDING_EXPIRATION".into(),
            Self::PermissionRevoked => "ITEM/USER_PERMISSION_REVOKED".into(),
            Self::NewAccountsAvailable => "ITEM/NEW_ACCOUNTS_AVAILABLE".into(),
            Self::LinkSessionFinished { .. } => "LINK/SESSION_FINISHED".into(),
            Self::Other { webhook_type, webhook_code } => format!("{webhook_type}/{webhook_code}"),
        }
    }
}

/// A stable id for one Plaid webhook delivery (Plaid sends none): the SHA-256 of the token's
/// signed part (header and claims, which cover the body hash and `iat`), so a replayed delivery
/// has the same id. The signature is left out: an ECDSA signature `(r, s)` has a twin `(r, n − s)`
/// that verifies just as well, and a replay re-signed that way must still be a duplicate.
#[cfg(feature = "server")]
pub fn webhook_delivery_id(jwt: &str) -> String {
    use sha2::{Digest, Sha256};
    let jwt = jwt.trim();
    let signed = jwt.rsplit_once('.').map_or(jwt, |(signed, _signature)| signed);
    let digest = Sha256::digest(signed.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("jwt-{}", &hex[..32])
}

#[cfg(all(test, feature = "server"))]
mod effect_tests {
    use super::*;
    use crate::snaptrade::WebhookEffect;

    fn hook(body: &str) -> PlaidWebhook {
        parse_webhook(body.as_bytes()).unwrap()
    }

    #[test]
    fn holdings_updates_raise_the_flag_and_item_trouble_asks_for_repair() {
        let holdings = hook(r#"{"webhook_type":"HOLDINGS","webhook_code":"DEFAULT_UPDATE","item_id":"it-1"}"#);
        assert_eq!(webhook_effect(&holdings), WebhookEffect::SetPending);
        let error = hook(
            r#"{"webhook_type":"ITEM","webhook_code":"ERROR","item_id":"it-1","error":{"error_code":"ITEM_LOGIN_REQUIRED"}}"#,
        );
        assert_eq!(webhook_effect(&error), WebhookEffect::NeedsRepair { authorization_id: "it-1".into() });
        let pending = hook(r#"{"webhook_type":"ITEM","webhook_code":"PENDING_DISCONNECT","item_id":"it-1"}"#);
        assert_eq!(webhook_effect(&pending), WebhookEffect::NeedsRepair { authorization_id: "it-1".into() });
        let repaired = hook(r#"{"webhook_type":"ITEM","webhook_code":"LOGIN_REPAIRED","item_id":"it-1"}"#);
        assert_eq!(webhook_effect(&repaired), WebhookEffect::Repaired { authorization_id: "it-1".into() });
        let other = hook(r#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"it-1"}"#);
        assert!(matches!(webhook_effect(&other), WebhookEffect::Acknowledge { .. }));
    }

    #[test]
    fn delivery_ids_follow_the_signed_header_and_claims_not_the_signature_bytes() {
        assert_eq!(webhook_delivery_id("a.b.c"), webhook_delivery_id(" a.b.c "));
        assert_ne!(webhook_delivery_id("a.b.c"), webhook_delivery_id("a.x.c"), "other claims, other delivery");
        assert_ne!(webhook_delivery_id("a.b.c"), webhook_delivery_id("x.b.c"), "other header, other delivery");
        // The same header and claims under another valid encoding of the signature are one delivery.
        assert_eq!(webhook_delivery_id("a.b.c"), webhook_delivery_id("a.b.d"));
    }
}
