//! `tributary_core::snaptrade::verify_webhook_for_client` (and `verify_webhook`, `webhook_effect`).
//!
//! Input: byte 0 = flags, byte 1 = clock offset, the rest = the raw webhook body.
//! - flag 1: sign the body as SnapTrade does (HMAC-SHA256 of its canonical JSON under the key);
//!   otherwise flag 2 picks no signature at all, else the HMAC of the raw bytes (right only when
//!   the body already is canonical).
//! - flag 4: put `now` at the body's own `eventTimestamp` plus the offset (i8 × 4 s, so both sides
//!   of the 300 s window), otherwise a fixed now.
//!
//! Oracle: an accepted webhook has a signature equal to the one computed here from the canonical
//! JSON, is within 300 s of now, names our client id and carries non-empty ids; `verify_webhook`
//! and the client-checking variant agree. Nothing panics.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sha2::Sha256;
use tributary_core::snaptrade::{canonical_json, verify_webhook, verify_webhook_for_client, webhook_effect};
use tributary_core::time::parse_rfc3339;
use tributary_core::webhook::{WebhookError, MAX_WEBHOOK_AGE_S};
use tributary_core::ErrorCode;

const KEY: &str = "fuzz-consumer-key";
const CLIENT: &str = "FUZZ-CLIENT";
const FIXED_NOW: i64 = 1_800_000_000;

fn hmac_base64(bytes: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(bytes);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn body_time(body: Option<&Value>) -> Option<i64> {
    match body?.get("eventTimestamp")? {
        Value::String(text) => parse_rfc3339(text),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, offset, body @ ..] = data else { return };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let genuine = parsed.as_ref().map(|v| hmac_base64(canonical_json(v).as_bytes()));
    let signature = if flags & 1 != 0 {
        genuine.clone().unwrap_or_default()
    } else if flags & 2 != 0 {
        String::new()
    } else {
        hmac_base64(body)
    };
    let offset = i64::from(*offset as i8) * 4;
    let now = match body_time(parsed.as_ref()) {
        Some(at) if flags & 4 != 0 => at.saturating_add(offset),
        _ => FIXED_NOW + offset,
    };

    let for_client = verify_webhook_for_client(KEY, CLIENT, body, &signature, now);
    let any_client = verify_webhook(KEY, body, &signature, now);
    match (&for_client, &any_client) {
        (Ok(webhook), Ok(same)) => {
            assert_eq!(webhook, same);
            assert_eq!(Some(&signature), genuine.as_ref(), "accepted a signature SnapTrade never made");
            assert!(now.saturating_sub(webhook.event_timestamp).saturating_abs() <= MAX_WEBHOOK_AGE_S);
            assert_eq!(webhook.client_id, CLIENT);
            assert!(!webhook.webhook_id.is_empty() && !webhook.user_id.is_empty());
            let _ = webhook_effect(webhook);
        }
        (Err(WebhookError::WrongClientId), Ok(other)) => assert_ne!(other.client_id, CLIENT),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("the two verifiers disagree: {a:?} vs {b:?}"),
    }
    if let Err(error) = &for_client {
        assert!(!error.code().is_empty() && (400..=503).contains(&error.http_status()));
    }
    assert_eq!(verify_webhook("", body, &signature, now), Err(WebhookError::NotConfigured));
});
