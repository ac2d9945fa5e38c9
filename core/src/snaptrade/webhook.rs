//! SnapTrade webhooks: proof that a `POST /webhooks/snaptrade` came from SnapTrade and is fresh,
//! the event it carries as a typed value, and what the worker must do about it.
//!
//! Verification fails closed and trusts nothing in the body until the signature holds: the body
//! is parsed, re-serialised as sorted-key compact JSON ([`canonical_json`]), signed with
//! HMAC-SHA256 under the consumer key and compared in constant time with the base64 `Signature`
//! header. Only then are `eventTimestamp` (within [`MAX_WEBHOOK_AGE_S`] of now, either way) and
//! the other fields read. This module does not deduplicate (the worker keys `webhook_events` on
//! [`SnapTradeWebhook::webhook_id`]), does not cap body size (the worker refuses large bodies
//! before calling it) and changes no state: [`webhook_effect`] only says what should change.

use super::canonical::canonical_json;
use crate::time::parse_rfc3339;
use crate::webhook::{WebhookError, MAX_WEBHOOK_AGE_S};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

/// A verified, fresh SnapTrade webhook; holding one means its signature and time were checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapTradeWebhook {
    /// SnapTrade's id of this delivery; the key that makes processing first-time only.
    pub webhook_id: String,
    pub client_id: String,
    /// `eventTimestamp` as Unix seconds (fractions of a second dropped).
    pub event_timestamp: i64,
    /// SnapTrade's user id (the one we registered), resolved to our user by the worker.
    pub user_id: String,
    pub event_type: SnapTradeEvent,
    pub brokerage_id: Option<String>,
    pub account_id: Option<String>,
    pub brokerage_authorization_id: Option<String>,
    /// The payload's `details` object as sent (`null` when absent).
    pub details: Value,
}

/// Every event SnapTrade documents, and any other name kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SnapTradeEvent {
    UserRegistered,
    UserDeleted,
    ConnectionAttempted,
    ConnectionAdded,
    ConnectionDeleted,
    ConnectionBroken,
    ConnectionFixed,
    ConnectionUpdated,
    ConnectionFailed,
    NewAccountAvailable,
    AccountTransactionsInitialUpdate,
    AccountTransactionsUpdated,
    AccountRemoved,
    AccountHoldingsUpdated,
    TradeDetection,
    TradeUpdate,
    /// An event type this version does not know; acknowledged, never acted on.
    Unknown(String),
}

impl SnapTradeEvent {
    /// Every documented event, in the order SPEC lists them.
    pub const KNOWN: [SnapTradeEvent; 16] = [
        Self::UserRegistered,
        Self::UserDeleted,
        Self::ConnectionAttempted,
        Self::ConnectionAdded,
        Self::ConnectionDeleted,
        Self::ConnectionBroken,
        Self::ConnectionFixed,
        Self::ConnectionUpdated,
        Self::ConnectionFailed,
        Self::NewAccountAvailable,
        Self::AccountTransactionsInitialUpdate,
        Self::AccountTransactionsUpdated,
        Self::AccountRemoved,
        Self::AccountHoldingsUpdated,
        Self::TradeDetection,
        Self::TradeUpdate,
    ];

    /// The exact (case-sensitive) wire name; anything not documented becomes `Unknown`.
    pub fn parse(name: &str) -> Self {
        Self::KNOWN.into_iter().find(|event| event.as_str() == name).unwrap_or_else(|| Self::Unknown(name.to_owned()))
    }

    /// The wire name, e.g. `ACCOUNT_HOLDINGS_UPDATED`; `Unknown` gives back what was sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::UserRegistered => "USER_REGISTERED",
            Self::UserDeleted => "USER_DELETED",
            Self::ConnectionAttempted => "CONNECTION_ATTEMPTED",
            Self::ConnectionAdded => "CONNECTION_ADDED",
            Self::ConnectionDeleted => "CONNECTION_DELETED",
            Self::ConnectionBroken => "CONNECTION_BROKEN",
            Self::ConnectionFixed => "CONNECTION_FIXED",
            Self::ConnectionUpdated => "CONNECTION_UPDATED",
            Self::ConnectionFailed => "CONNECTION_FAILED",
            Self::NewAccountAvailable => "NEW_ACCOUNT_AVAILABLE",
            Self::AccountTransactionsInitialUpdate => "ACCOUNT_TRANSACTIONS_INITIAL_UPDATE",
            Self::AccountTransactionsUpdated => "ACCOUNT_TRANSACTIONS_UPDATED",
            Self::AccountRemoved => "ACCOUNT_REMOVED",
            Self::AccountHoldingsUpdated => "ACCOUNT_HOLDINGS_UPDATED",
            Self::TradeDetection => "TRADE_DETECTION",
            Self::TradeUpdate => "TRADE_UPDATE",
            Self::Unknown(name) => name,
        }
    }
}

impl From<String> for SnapTradeEvent {
    fn from(name: String) -> Self {
        Self::parse(&name)
    }
}

impl From<SnapTradeEvent> for String {
    fn from(event: SnapTradeEvent) -> String {
        event.as_str().to_owned()
    }
}

/// What the worker must do for a verified, first-time webhook (it answers 2xx in every case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum WebhookEffect {
    /// SnapTrade has new data for this user: set the (user, snaptrade) pending flag.
    SetPending,
    /// The provider has new transactions for this user: set the (user, provider) transactions
    /// pending flag (beside the holdings flag).
    SetTransactionsPending,
    /// The connection stopped working: mark it as needing the reconnect flow.
    NeedsRepair { authorization_id: String },
    /// The connection works again: clear its repair mark.
    Repaired { authorization_id: String },
    /// The connection is gone at SnapTrade: remove it and its accounts.
    RemoveConnection { authorization_id: String },
    /// The account is gone at SnapTrade: remove it and its positions.
    RemoveAccount { account_id: String },
    /// Nothing to change: record the event and say why.
    Acknowledge { reason: String },
}

/// Verifies a SnapTrade webhook as described in the module doc and returns it typed.
///
/// - MUST return [`WebhookError::NotConfigured`] if `consumer_key` is empty;
/// - [`WebhookError::MissingSignature`] if the header is empty; [`WebhookError::BadSignature`] if
///   it is not standard base64 or does not match the canonical body;
/// - [`WebhookError::MalformedJson`] if the body is not a JSON object or a required field
///   (`webhookId`, `clientId`, `userId`, `eventType`: non-empty strings) is missing;
/// - [`WebhookError::MalformedTimestamp`] if `eventTimestamp` is missing or is neither an RFC 3339
///   date-time with offset (`2024-05-01T12:34:56.789Z`) nor a JSON integer of Unix seconds;
/// - [`WebhookError::Stale`] if it is more than [`MAX_WEBHOOK_AGE_S`] from `now_unix`.
pub fn verify_webhook(
    consumer_key: &str,
    raw_body: &[u8],
    signature_header: &str,
    now_unix: i64,
) -> Result<SnapTradeWebhook, WebhookError> {
    if consumer_key.is_empty() {
        return Err(WebhookError::NotConfigured);
    }
    let claimed = decode_signature(signature_header)?;
    let payload: Value = serde_json::from_slice(raw_body).map_err(|e| WebhookError::MalformedJson(e.to_string()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(canonical_json(&payload).as_bytes());
    mac.verify_slice(&claimed).map_err(|_| WebhookError::BadSignature)?;

    // From here on the body is SnapTrade's own words.
    let Value::Object(fields) = payload else {
        return Err(WebhookError::MalformedJson("the payload is not a JSON object".into()));
    };
    let event_timestamp = event_timestamp(&fields)?;
    let age_s = now_unix.saturating_sub(event_timestamp);
    if age_s.unsigned_abs() > MAX_WEBHOOK_AGE_S.unsigned_abs() {
        return Err(WebhookError::Stale { age_s, max_s: MAX_WEBHOOK_AGE_S });
    }
    Ok(SnapTradeWebhook {
        webhook_id: required_text(&fields, "webhookId")?,
        client_id: required_text(&fields, "clientId")?,
        event_timestamp,
        user_id: required_text(&fields, "userId")?,
        event_type: SnapTradeEvent::parse(&required_text(&fields, "eventType")?),
        brokerage_id: optional_text(&fields, "brokerageId")?,
        account_id: optional_text(&fields, "accountId")?,
        brokerage_authorization_id: optional_text(&fields, "brokerageAuthorizationId")?,
        details: fields.get("details").cloned().unwrap_or(Value::Null),
    })
}

/// [`verify_webhook`], then MUST return [`WebhookError::WrongClientId`] unless `clientId` equals
/// `client_id` ([`WebhookError::NotConfigured`] if `client_id` is empty).
pub fn verify_webhook_for_client(
    consumer_key: &str,
    client_id: &str,
    raw_body: &[u8],
    signature_header: &str,
    now_unix: i64,
) -> Result<SnapTradeWebhook, WebhookError> {
    if client_id.is_empty() {
        return Err(WebhookError::NotConfigured);
    }
    let webhook = verify_webhook(consumer_key, raw_body, signature_header, now_unix)?;
    if webhook.client_id != client_id {
        return Err(WebhookError::WrongClientId);
    }
    Ok(webhook)
}

/// Routes a verified webhook to one effect; never panics, and an effect whose id is missing
/// becomes [`WebhookEffect::Acknowledge`] naming the missing field.
///
/// New data (`ACCOUNT_HOLDINGS_UPDATED`, `NEW_ACCOUNT_AVAILABLE`, `CONNECTION_ADDED`,
/// `CONNECTION_UPDATED`) sets pending: the follow-up read is free, and an added or updated
/// connection may bring accounts or a new connection type that only a read shows. Transactions,
/// trades, users, connection attempts and unknown events are acknowledged only.
pub fn webhook_effect(webhook: &SnapTradeWebhook) -> WebhookEffect {
    use SnapTradeEvent as E;
    let authorization = || webhook.brokerage_authorization_id.clone().ok_or("brokerageAuthorizationId");
    let effect = match &webhook.event_type {
        E::AccountHoldingsUpdated | E::NewAccountAvailable | E::ConnectionAdded | E::ConnectionUpdated => {
            Ok(WebhookEffect::SetPending)
        }
        E::AccountTransactionsInitialUpdate | E::AccountTransactionsUpdated => {
            Ok(WebhookEffect::SetTransactionsPending)
        }
        E::ConnectionBroken | E::ConnectionFailed => {
            authorization().map(|authorization_id| WebhookEffect::NeedsRepair { authorization_id })
        }
        E::ConnectionFixed => authorization().map(|authorization_id| WebhookEffect::Repaired { authorization_id }),
        E::ConnectionDeleted => {
            authorization().map(|authorization_id| WebhookEffect::RemoveConnection { authorization_id })
        }
        E::AccountRemoved => {
            webhook.account_id.clone().ok_or("accountId").map(|account_id| WebhookEffect::RemoveAccount { account_id })
        }
        E::Unknown(name) => {
            return WebhookEffect::Acknowledge { reason: format!("unknown event type {name:?}; nothing to change") }
        }
        other => {
            return WebhookEffect::Acknowledge { reason: format!("{} changes no Tributary state", other.as_str()) }
        }
    };
    effect.unwrap_or_else(|missing| WebhookEffect::Acknowledge {
        reason: format!("{} without {missing}; nothing to change", webhook.event_type.as_str()),
    })
}

/// The header's HMAC bytes: empty means missing, anything but standard padded base64 is bad.
fn decode_signature(signature_header: &str) -> Result<Vec<u8>, WebhookError> {
    let header = signature_header.trim();
    if header.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    STANDARD.decode(header).map_err(|_| WebhookError::BadSignature)
}

fn required_text(fields: &Map<String, Value>, key: &str) -> Result<String, WebhookError> {
    optional_text(fields, key)?
        .ok_or_else(|| WebhookError::MalformedJson(format!("{key} is missing; SnapTrade always sends it")))
}

/// Absent, `null` and `""` are all "not given"; any other non-string is malformed.
fn optional_text(fields: &Map<String, Value>, key: &str) -> Result<Option<String>, WebhookError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(WebhookError::MalformedJson(format!("{key} is not a string"))),
    }
}

/// `eventTimestamp` as Unix seconds. A JSON integer is read as Unix seconds: only SnapTrade can
/// sign one, and a millisecond value lands far outside the window, so the mistake fails closed.
fn event_timestamp(fields: &Map<String, Value>) -> Result<i64, WebhookError> {
    let malformed = |why: String| Err(WebhookError::MalformedTimestamp(why));
    match fields.get("eventTimestamp") {
        None | Some(Value::Null) => malformed("eventTimestamp is missing".into()),
        Some(Value::String(text)) => match is_rfc3339_date_time(text).then(|| parse_rfc3339(text)).flatten() {
            Some(seconds) => Ok(seconds),
            None => {
                let shown: String = text.chars().take(40).collect();
                malformed(format!("{shown:?} is not an RFC 3339 date-time with an offset"))
            }
        },
        Some(Value::Number(number)) => match number.as_i64() {
            Some(seconds) => Ok(seconds),
            None => malformed(format!("{number} is not a whole number of Unix seconds")),
        },
        Some(_) => malformed("eventTimestamp is neither a string nor an integer".into()),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with a real calendar date and offset: the only
/// string shape accepted as an event time (no bare dates, no missing offset).
fn is_rfc3339_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < "2024-05-01T12:34:56Z".len() {
        return false;
    }
    let digits = |from: usize, to: usize| b[from..to].iter().all(u8::is_ascii_digit);
    let number = |from: usize, to: usize| b[from..to].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let shape = digits(0, 4)
        && b[4] == b'-'
        && digits(5, 7)
        && b[7] == b'-'
        && digits(8, 10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11, 13)
        && b[13] == b':'
        && digits(14, 16)
        && b[16] == b':'
        && digits(17, 19);
    if !shape {
        return false;
    }
    let (year, month, day) = (number(0, 4), number(5, 7), number(8, 10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return false,
    };
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    let zone = match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] if [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) => {
            (h1 - b'0') * 10 + (h2 - b'0') <= 23 && (m1 - b'0') * 10 + (m2 - b'0') <= 59
        }
        _ => false,
    };
    (1..=month_days).contains(&day) && number(11, 13) <= 23 && number(14, 16) <= 59 && number(17, 19) <= 60 && zone
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
