//! SnapTrade webhooks as SnapTrade documents them: a JSON payload with `webhookId`, `clientId`,
//! `eventTimestamp` (RFC 3339 UTC with milliseconds), `userId`, `eventType` and, when given,
//! `brokerageId`, `accountId`, `brokerageAuthorizationId` and `details`; header `Signature` =
//! base64(HMAC-SHA256(consumer key, sorted-key compact JSON of the payload)), the canonical form of
//! [`canonical_json`] (the same one SnapTrade's request signatures use).
//!
//! Transactions events (`ACCOUNT_TRANSACTIONS_INITIAL_UPDATE`, `ACCOUNT_TRANSACTIONS_UPDATED`, any
//! `eventType` starting `ACCOUNT_TRANSACTIONS_`) carry the documented `{webhookId, clientId,
//! eventTimestamp, userId, eventType, webhookSecret, accountId, brokerageAuthorizationId}`:
//! `webhookSecret` is `webhook_secret` when given, else [`default_webhook_secret`] of the client
//! id (never the consumer key); `brokerageAuthorizationId` defaults to the connection of
//! `account_id` when the simulator knows that account. Other events carry `webhookSecret` only when
//! `webhook_secret` is given.
//!
//! The body is sent in that canonical form, so it is exactly the signed bytes. A [`Tamper`] adds
//! one defect and nothing else. It does not check `eventType` against SnapTrade's list, so that a
//! receiver's handling of unknown events can be tested too.

use super::{answer, deliver, target_url, unsent, Delivery, SentWebhook};
use crate::control::{bad, parse};
use crate::faults::Provider;
use crate::snaptrade::signature::canonical_json;
use crate::util::{random_uuid, rfc3339};
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// How far from now a `stale` (past) or `future` timestamp is: twice SnapTrade's 300 s window.
pub const SKEW_SECS: i64 = 600;
/// The `eventTimestamp` of a `malformed_timestamp` webhook: a date, but not RFC 3339.
pub const MALFORMED_TIMESTAMP: &str = "21/11/2026 10:00:00";

/// One defect to put into an otherwise genuine webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// One bit of the (otherwise correct) signature flipped.
    BadSignature,
    /// `eventTimestamp` [`SKEW_SECS`] in the past, correctly signed.
    Stale,
    /// `eventTimestamp` [`SKEW_SECS`] in the future, correctly signed.
    Future,
    /// No `eventTimestamp` key at all, correctly signed.
    MissingTimestamp,
    /// `eventTimestamp` = [`MALFORMED_TIMESTAMP`], correctly signed.
    MalformedTimestamp,
    /// `clientId` of another app (`OTHER-<client id>`), correctly signed with the consumer key.
    WrongClient,
    /// Keys sent in reverse order at every level, signed over the canonical form: this one MUST
    /// still verify, because the receiver re-canonicalises before checking.
    ReorderedKeys,
    /// The canonical body without its closing `}` (not JSON), signed over exactly those bytes.
    NonJson,
    /// No `Signature` header.
    NoSignature,
}

impl Tamper {
    fn touches_timestamp(self) -> bool {
        matches!(self, Self::Stale | Self::Future | Self::MissingTimestamp | Self::MalformedTimestamp)
    }
}

/// The body of `POST /__sim/snaptrade/webhook`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// Where to post; the stored default SnapTrade webhook URL when absent.
    #[serde(default)]
    pub url: Option<String>,
    /// `eventType`, e.g. `ACCOUNT_HOLDINGS_UPDATED` (not checked against SnapTrade's list).
    pub event_type: String,
    /// `userId`: the SnapTrade user the event is about.
    pub user_id: String,
    /// `accountId`, sent only when given.
    #[serde(default)]
    pub account_id: Option<String>,
    /// `brokerageAuthorizationId`, sent only when given.
    #[serde(default)]
    pub authorization_id: Option<String>,
    /// `brokerageId`, sent only when given.
    #[serde(default)]
    pub brokerage_id: Option<String>,
    /// `details`, sent only when given.
    #[serde(default)]
    pub details: Option<Map<String, Value>>,
    /// `webhookId`; random unless given (reuse one to send a replay by id).
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// Unix seconds (number) or an RFC 3339 string sent as given; now when absent.
    #[serde(default)]
    pub event_timestamp: Option<Value>,
    /// The one defect to add, if any.
    #[serde(default)]
    pub tamper: Option<Tamper>,
    /// `webhookSecret`; transactions events get [`default_webhook_secret`] when absent.
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

/// The prefix of SnapTrade's transactions event types.
pub const TRANSACTIONS_EVENT_PREFIX: &str = "ACCOUNT_TRANSACTIONS_";

/// The `webhookSecret` the simulated app `client_id` was given (a stable UUID derived from the
/// client id; SnapTrade shows the real one in its dashboard).
pub fn default_webhook_secret(client_id: &str) -> String {
    crate::util::stable_uuid(&format!("snaptrade-webhook-secret:{client_id}"))
}

/// What to send: the webhook id, the body bytes and the `Signature` header (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The payload's `webhookId`.
    pub webhook_id: String,
    /// The exact body bytes to send.
    pub body: Vec<u8>,
    /// The `Signature` header value; `None` for `no_signature`.
    pub signature: Option<String>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `ms` (Unix milliseconds) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_millis(ms: i64) -> String {
    let seconds = rfc3339(ms.div_euclid(1000));
    format!("{}.{:03}Z", seconds.trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// Whether `s` is an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    // The decimal value of the two-or-four ASCII digits at `at`, or None.
    let number = |at: usize, len: usize| -> Option<u32> {
        let digits = b.get(at..at + len)?;
        digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let in_range = |at, max| number(at, 2).is_some_and(|n| n <= max);
    let date_time = number(0, 4).is_some()
        && number(5, 2).is_some_and(|m| (1..=12).contains(&m))
        && number(8, 2).is_some_and(|d| (1..=31).contains(&d))
        && in_range(11, 23)
        && in_range(14, 59)
        && in_range(17, 60)
        && b.get(4..20).is_some_and(|sep| (sep[0], sep[3], sep[6], sep[9], sep[12]) == (b'-', b'-', b'T', b':', b':'));
    if !date_time {
        return false;
    }
    let mut at = 19;
    if b[at] == b'.' {
        let n = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        at += 1 + n;
    }
    match &b[at..] {
        [b'Z'] => true,
        [b'+' | b'-', _, _, b':', _, _] => in_range(at + 1, 23) && in_range(at + 4, 59),
        _ => false,
    }
}

fn event_timestamp(spec: &WebhookSpec, now_ms: i64) -> Result<Option<String>, String> {
    match (spec.tamper, &spec.event_timestamp) {
        (Some(tamper), Some(_)) if tamper.touches_timestamp() => {
            Err("event_timestamp cannot be combined with a tamper that sets the timestamp".into())
        }
        (Some(Tamper::Stale), None) => Ok(Some(rfc3339_millis(now_ms - SKEW_SECS * 1000))),
        (Some(Tamper::Future), None) => Ok(Some(rfc3339_millis(now_ms + SKEW_SECS * 1000))),
        (Some(Tamper::MissingTimestamp), None) => Ok(None),
        (Some(Tamper::MalformedTimestamp), None) => Ok(Some(MALFORMED_TIMESTAMP.to_owned())),
        (_, None) => Ok(Some(rfc3339_millis(now_ms))),
        (_, Some(Value::String(s))) if is_rfc3339(s) => Ok(Some(s.clone())),
        (_, Some(Value::Number(n))) => match n.as_f64() {
            // Years 1970..=9999, so the formatted date stays four digits.
            Some(secs) if (0.0..253_402_300_800.0).contains(&secs) => Ok(Some(rfc3339_millis((secs * 1000.0) as i64))),
            _ => Err(format!("event_timestamp {n} is out of range (Unix seconds, 1970 to 9999)")),
        },
        (_, Some(other)) => Err(format!("event_timestamp must be Unix seconds or an RFC 3339 string, not {other}")),
    }
}

/// The payload object (before serialisation) for `spec`, sent by app `client_id` at `now_ms`.
pub fn payload(spec: &WebhookSpec, client_id: &str, now_ms: i64) -> Result<Map<String, Value>, String> {
    if spec.event_type.trim().is_empty() || spec.user_id.trim().is_empty() {
        return Err("event_type and user_id must not be empty".into());
    }
    let client_id = match spec.tamper {
        Some(Tamper::WrongClient) => format!("OTHER-{client_id}"),
        _ => client_id.to_owned(),
    };
    let webhook_id = spec.webhook_id.clone().unwrap_or_else(random_uuid);
    if webhook_id.is_empty() {
        return Err("webhook_id must not be empty".into());
    }
    let mut payload = Map::new();
    payload.insert("webhookId".into(), json!(webhook_id));
    payload.insert("clientId".into(), json!(client_id));
    if let Some(timestamp) = event_timestamp(spec, now_ms)? {
        payload.insert("eventTimestamp".into(), json!(timestamp));
    }
    payload.insert("userId".into(), json!(spec.user_id));
    payload.insert("eventType".into(), json!(spec.event_type));
    let secret = match &spec.webhook_secret {
        Some(secret) => Some(secret.clone()),
        None => spec.event_type.starts_with(TRANSACTIONS_EVENT_PREFIX).then(|| default_webhook_secret(&client_id)),
    };
    if let Some(secret) = secret {
        payload.insert("webhookSecret".into(), json!(secret));
    }
    let optional = [
        ("brokerageId", spec.brokerage_id.clone().map(Value::String)),
        ("accountId", spec.account_id.clone().map(Value::String)),
        ("brokerageAuthorizationId", spec.authorization_id.clone().map(Value::String)),
        ("details", spec.details.clone().map(Value::Object)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            payload.insert(key.into(), value);
        }
    }
    Ok(payload)
}

/// base64(HMAC-SHA256(`consumer_key`, `message`)), standard alphabet with padding.
pub fn sign(consumer_key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `value` with object keys in reverse sorted order at every level (otherwise canonical).
fn reversed_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| b.0.cmp(a.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", canonical_json(&Value::String(k.clone())), reversed_json(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(reversed_json).collect::<Vec<_>>().join(",")),
        other => canonical_json(other),
    }
}

/// Builds the webhook for `spec`: body bytes and `Signature`, with the one requested defect.
pub fn build(spec: &WebhookSpec, client_id: &str, consumer_key: &str, now_ms: i64) -> Result<Built, String> {
    let payload = Value::Object(payload(spec, client_id, now_ms)?);
    let webhook_id = payload["webhookId"].as_str().unwrap_or_default().to_owned();
    let canonical = canonical_json(&payload);
    let signature = sign(consumer_key, canonical.as_bytes());
    let (body, signature) = match spec.tamper {
        Some(Tamper::BadSignature) => {
            let mut bytes = STANDARD.decode(&signature).expect("we just encoded it");
            bytes[0] ^= 0x01;
            (canonical.into_bytes(), Some(STANDARD.encode(bytes)))
        }
        Some(Tamper::ReorderedKeys) => (reversed_json(&payload).into_bytes(), Some(signature)),
        Some(Tamper::NonJson) => {
            let truncated = canonical.as_bytes()[..canonical.len() - 1].to_vec();
            let signature = sign(consumer_key, &truncated);
            (truncated, Some(signature))
        }
        Some(Tamper::NoSignature) => (canonical.into_bytes(), None),
        _ => (canonical.into_bytes(), Some(signature)),
    };
    Ok(Built { webhook_id, body, signature })
}

/// The delivery `body` (a [`WebhookSpec`]) describes, addressed to `url`, and its webhook id.
fn prepare(
    sim: &Sim,
    body: &Bytes,
    url: impl FnOnce(&WebhookSpec) -> Result<String, String>,
) -> Result<(String, SentWebhook), String> {
    prepare_spec(sim, parse(body)?, url)
}

/// The delivery `spec` describes, addressed to `url`, and its webhook id.
fn prepare_spec(
    sim: &Sim,
    mut spec: WebhookSpec,
    url: impl FnOnce(&WebhookSpec) -> Result<String, String>,
) -> Result<(String, SentWebhook), String> {
    if spec.event_type.starts_with(TRANSACTIONS_EVENT_PREFIX) && spec.authorization_id.is_none() {
        let state = lock(&sim.snaptrade);
        let known = spec.account_id.as_deref().and_then(|id| state.accounts.get(id));
        spec.authorization_id = known.map(|account| account.authorization_id.clone());
    }
    let credentials = sim
        .config
        .snaptrade
        .clone()
        .ok_or("SnapTrade credentials are not configured, so there is no consumer key to sign with")?;
    let url = url(&spec)?;
    let built = build(&spec, &credentials.client_id, &credentials.consumer_key, now_millis())?;
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(signature) = built.signature {
        headers.push(("signature".to_owned(), signature));
    }
    Ok((built.webhook_id, SentWebhook { url, headers, body: built.body }))
}

/// `POST /__sim/snaptrade/webhook`: builds, signs, remembers and delivers one webhook.
pub async fn send(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let target = |spec: &WebhookSpec| target_url(&sim, Provider::SnapTrade, spec.url.as_deref());
    let (webhook_id, sent) = match prepare(&sim, &body, target) {
        Ok(prepared) => prepared,
        Err(message) => return bad(message),
    };
    lock(&sim.webhooks).remember(Provider::SnapTrade, &webhook_id, sent.clone());
    answer(&webhook_id, deliver(&sent).await)
}

/// Builds, signs, remembers and delivers the webhook `spec` describes (to its `url` or the stored
/// default): its webhook id and the receiver's answer, or why it could not be built.
pub async fn send_spec(sim: &Sim, spec: WebhookSpec) -> Result<(String, Result<Delivery, String>), String> {
    let target = |spec: &WebhookSpec| target_url(sim, Provider::SnapTrade, spec.url.as_deref());
    let (webhook_id, sent) = prepare_spec(sim, spec, target)?;
    lock(&sim.webhooks).remember(Provider::SnapTrade, &webhook_id, sent.clone());
    Ok((webhook_id, deliver(&sent).await))
}

/// `POST /__sim/snaptrade/webhook/sign`: builds and signs one webhook like [`send`] and returns it
/// (headers and exact body) without sending or remembering it; `url` is ignored.
pub async fn sign_only(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match prepare(&sim, &body, |_| Ok(String::new())) {
        Ok((webhook_id, sent)) => unsent(Some(&webhook_id), &sent),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaySpec {
    webhook_id: String,
}

/// `POST /__sim/snaptrade/webhook/replay`: sends the remembered bytes and headers again.
pub async fn replay(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let ReplaySpec { webhook_id } = match parse(&body) {
        Ok(spec) => spec,
        Err(message) => return bad(message),
    };
    let Some(sent) = lock(&sim.webhooks).sent(Provider::SnapTrade, &webhook_id).cloned() else {
        let error = format!("no SnapTrade webhook {webhook_id:?} was sent");
        return (StatusCode::NOT_FOUND, Json(json!({ "error": error }))).into_response();
    };
    answer(&webhook_id, deliver(&sent).await)
}

#[cfg(test)]
#[path = "snaptrade_tests.rs"]
mod tests;
