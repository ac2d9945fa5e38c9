use super::*;
use crate::error::ErrorCode;
use proptest::prelude::*;
use serde_json::json;

const KEY: &str = "consumer_key";
const CLIENT: &str = "TRIBUTARY";
/// 2024-05-01T12:34:56Z.
const EVENT_AT: i64 = 1_714_566_896;

/// Signed by Python: `base64(hmac.new(key, json.dumps(p, separators=(",", ":"), sort_keys=True))`.
const PYTHON_SIGNATURE: &str = "94R30i7DrNwOaWSP6sXZo7EnfgTSo7zzSeJ456hboaA=";

fn payload() -> Value {
    json!({
        "webhookId": "b9e1c3f0-0c7a-4a8e-9d0e-3f6f1b2a7c11",
        "clientId": CLIENT,
        "eventTimestamp": "2024-05-01T12:34:56.789Z",
        "userId": "user-42",
        "eventType": "ACCOUNT_HOLDINGS_UPDATED",
        "brokerageId": "b-1",
        "accountId": "acc-1",
        "brokerageAuthorizationId": "auth-1",
        "details": {"note": "Café € 📈", "count": 3}
    })
}

fn sign(key: &str, value: &Value) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(canonical_json(value).as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `payload()` with `field` replaced (or removed when `value` is `None`), signed.
fn signed_with(field: &str, value: Option<Value>) -> (Vec<u8>, String) {
    let mut body = payload();
    let fields = body.as_object_mut().unwrap();
    match value {
        Some(value) => fields.insert(field.to_owned(), value),
        None => fields.remove(field),
    };
    (serde_json::to_vec(&body).unwrap(), sign(KEY, &body))
}

fn verify_at(body: &[u8], signature: &str, now: i64) -> Result<SnapTradeWebhook, WebhookError> {
    verify_webhook(KEY, body, signature, now)
}

#[test]
fn a_genuine_webhook_verifies_against_a_python_computed_signature() {
    let pretty = serde_json::to_vec_pretty(&payload()).unwrap();
    let webhook = verify_at(&pretty, PYTHON_SIGNATURE, EVENT_AT + 10).unwrap();
    assert_eq!(webhook.webhook_id, "b9e1c3f0-0c7a-4a8e-9d0e-3f6f1b2a7c11");
    assert_eq!((webhook.client_id.as_str(), webhook.user_id.as_str()), (CLIENT, "user-42"));
    assert_eq!(webhook.event_timestamp, EVENT_AT);
    assert_eq!(webhook.event_type, SnapTradeEvent::AccountHoldingsUpdated);
    assert_eq!(webhook.brokerage_id.as_deref(), Some("b-1"));
    assert_eq!(webhook.account_id.as_deref(), Some("acc-1"));
    assert_eq!(webhook.brokerage_authorization_id.as_deref(), Some("auth-1"));
    assert_eq!(webhook.details, json!({"count": 3, "note": "Café € 📈"}));
}

#[test]
fn reordered_keys_verify_with_the_same_signature() {
    let reordered = br#"{"details":{"count":3,"note":"Caf\u00e9 \u20ac \ud83d\udcc8"},
        "webhookId":"b9e1c3f0-0c7a-4a8e-9d0e-3f6f1b2a7c11","userId":"user-42","eventType":"ACCOUNT_HOLDINGS_UPDATED",
        "eventTimestamp":"2024-05-01T12:34:56.789Z","clientId":"TRIBUTARY","brokerageId":"b-1",
        "brokerageAuthorizationId":"auth-1","accountId":"acc-1"}"#;
    assert!(verify_at(reordered, PYTHON_SIGNATURE, EVENT_AT).is_ok());
}

#[test]
fn reordered_keys_signed_over_a_different_canonical_body_fail() {
    let mut other = payload();
    other["details"]["count"] = json!(4);
    let reordered = r#"{"userId":"user-42","accountId":"acc-1","webhookId":"b9e1c3f0-0c7a-4a8e-9d0e-3f6f1b2a7c11",
        "eventType":"ACCOUNT_HOLDINGS_UPDATED","eventTimestamp":"2024-05-01T12:34:56.789Z","clientId":"TRIBUTARY",
        "brokerageId":"b-1","brokerageAuthorizationId":"auth-1","details":{"note":"Café € 📈","count":3}}"#;
    assert_eq!(verify_at(reordered.as_bytes(), &sign(KEY, &other), EVENT_AT), Err(WebhookError::BadSignature));
    assert!(verify_at(reordered.as_bytes(), PYTHON_SIGNATURE, EVENT_AT).is_ok(), "the same body is genuine");
}

#[test]
fn every_single_bit_flip_of_the_body_is_rejected_unless_it_means_the_same_json() {
    let original = payload();
    let body = serde_json::to_vec(&original).unwrap();
    let (mut rejected, mut flips) = (0, 0);
    for i in 0..body.len() {
        for bit in 0..8 {
            let mut flipped = body.clone();
            flipped[i] ^= 1 << bit;
            flips += 1;
            match verify_at(&flipped, PYTHON_SIGNATURE, EVENT_AT) {
                Err(_) => rejected += 1,
                // A flip that leaves the same JSON value (none exist in this body) is no forgery.
                Ok(_) => assert_eq!(serde_json::from_slice::<Value>(&flipped).unwrap(), original, "byte {i} bit {bit}"),
            }
        }
    }
    assert_eq!(rejected, flips);
}

#[test]
fn every_single_bit_flip_of_the_signature_is_rejected() {
    let body = serde_json::to_vec(&payload()).unwrap();
    let mac = STANDARD.decode(PYTHON_SIGNATURE).unwrap();
    for i in 0..mac.len() {
        for bit in 0..8 {
            let mut flipped = mac.clone();
            flipped[i] ^= 1 << bit;
            assert_eq!(verify_at(&body, &STANDARD.encode(&flipped), EVENT_AT), Err(WebhookError::BadSignature));
        }
    }
    let truncated = STANDARD.encode(&mac[..31]);
    assert_eq!(verify_at(&body, &truncated, EVENT_AT), Err(WebhookError::BadSignature));
}

#[test]
fn signature_header_problems_have_their_own_refusals() {
    let body = serde_json::to_vec(&payload()).unwrap();
    assert_eq!(verify_at(&body, "", EVENT_AT), Err(WebhookError::MissingSignature));
    assert_eq!(verify_at(&body, "   ", EVENT_AT), Err(WebhookError::MissingSignature));
    assert_eq!(verify_at(&body, "not base64!", EVENT_AT), Err(WebhookError::BadSignature));
    let unpadded = PYTHON_SIGNATURE.trim_end_matches('=');
    assert_eq!(verify_at(&body, unpadded, EVENT_AT), Err(WebhookError::BadSignature));
    let hex: String = STANDARD.decode(PYTHON_SIGNATURE).unwrap().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(verify_at(&body, &hex, EVENT_AT), Err(WebhookError::BadSignature));
    assert_eq!(verify_at(&body, &format!(" {PYTHON_SIGNATURE} "), EVENT_AT).map(|w| w.event_timestamp), Ok(EVENT_AT));
    assert_eq!(verify_webhook(KEY, &body, &sign("other-key", &payload()), EVENT_AT), Err(WebhookError::BadSignature));
}

#[test]
fn an_empty_consumer_key_fails_closed_even_for_a_body_signed_with_it() {
    let body = serde_json::to_vec(&payload()).unwrap();
    let err = verify_webhook("", &body, &sign("", &payload()), EVENT_AT).unwrap_err();
    assert_eq!((err.clone(), err.http_status()), (WebhookError::NotConfigured, 503));
    assert_eq!(verify_webhook_for_client(KEY, "", &body, PYTHON_SIGNATURE, EVENT_AT), Err(WebhookError::NotConfigured));
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    for body in [&b"not json"[..], b"", b"{\"a\":", b"\xff\xfe{}"] {
        let err = verify_at(body, PYTHON_SIGNATURE, EVENT_AT).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedJson(_)), "{body:?}: {err:?}");
        assert_eq!(err.code(), "webhook_malformed_json");
    }
    let array = json!([1, 2]);
    let err = verify_at(b"[1,2]", &sign(KEY, &array), EVENT_AT).unwrap_err();
    assert!(matches!(err, WebhookError::MalformedJson(_)));
}

#[test]
fn nothing_in_the_body_is_read_before_the_signature_holds() {
    let (stale, _) = signed_with("eventTimestamp", Some(json!("2000-01-01T00:00:00Z")));
    assert_eq!(verify_at(&stale, PYTHON_SIGNATURE, EVENT_AT), Err(WebhookError::BadSignature));
    let (no_id, _) = signed_with("webhookId", None);
    assert_eq!(verify_at(&no_id, PYTHON_SIGNATURE, EVENT_AT), Err(WebhookError::BadSignature));
    let (other_client, _) = signed_with("clientId", Some(json!("SOMEONE_ELSE")));
    assert_eq!(
        verify_webhook_for_client(KEY, CLIENT, &other_client, PYTHON_SIGNATURE, EVENT_AT),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn the_event_must_be_within_300_seconds_of_now_either_way() {
    let body = serde_json::to_vec(&payload()).unwrap();
    let at = |now| verify_at(&body, PYTHON_SIGNATURE, now).map(|w| w.event_timestamp);
    assert_eq!(at(EVENT_AT + 300), Ok(EVENT_AT));
    assert_eq!(at(EVENT_AT - 300), Ok(EVENT_AT));
    assert_eq!(at(EVENT_AT + 301), Err(WebhookError::Stale { age_s: 301, max_s: 300 }));
    assert_eq!(at(EVENT_AT - 301), Err(WebhookError::Stale { age_s: -301, max_s: 300 }));
    assert_eq!(at(i64::MAX), Err(WebhookError::Stale { age_s: i64::MAX - EVENT_AT, max_s: 300 }));
    assert_eq!(at(i64::MIN).unwrap_err().code(), "webhook_stale");
}

#[test]
fn offsets_and_integer_unix_seconds_are_read_as_the_same_instant() {
    for stamp in [json!("2024-05-01T14:34:56+02:00"), json!("2024-05-01t12:34:56.000001z"), json!(EVENT_AT)] {
        let (body, signature) = signed_with("eventTimestamp", Some(stamp.clone()));
        assert_eq!(verify_at(&body, &signature, EVENT_AT).map(|w| w.event_timestamp), Ok(EVENT_AT), "{stamp}");
    }
}

#[test]
fn a_missing_or_malformed_event_timestamp_is_refused() {
    let bad = [
        None,
        Some(Value::Null),
        Some(json!("")),
        Some(json!("yesterday")),
        Some(json!("2024-05-01")),
        Some(json!("2024-05-01T12:34:56")),
        Some(json!("2024-05-01T12:34Z")),
        Some(json!("2024-05-01T12:34:56.Z")),
        Some(json!("2024-05-01T12:34:56.78xZ")),
        Some(json!("2024-02-30T12:34:56Z")),
        Some(json!("2024-13-01T12:34:56Z")),
        Some(json!("2024-05-01T24:00:00Z")),
        Some(json!("2024-05-01T12:34:56+2:00")),
        Some(json!("2024-05-01T12:34:56+24:00")),
        Some(json!("1714566896")),
        Some(json!(1_714_566_896.5)),
        Some(json!(u64::MAX)),
        Some(json!(true)),
        Some(json!({"seconds": EVENT_AT})),
    ];
    for stamp in bad {
        let (body, signature) = signed_with("eventTimestamp", stamp.clone());
        let err = verify_at(&body, &signature, EVENT_AT).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedTimestamp(_)), "{stamp:?}: {err:?}");
        assert_eq!(err.http_status(), 400);
    }
}

#[test]
fn a_leap_day_is_a_real_date() {
    let (body, signature) = signed_with("eventTimestamp", Some(json!("2024-02-29T00:00:00Z")));
    assert_eq!(verify_at(&body, &signature, 1_709_164_800).map(|w| w.event_timestamp), Ok(1_709_164_800));
}

#[test]
fn required_fields_must_be_non_empty_strings_and_optional_ids_may_be_absent() {
    for field in ["webhookId", "clientId", "userId", "eventType"] {
        for value in [None, Some(json!("")), Some(json!(7))] {
            let (body, signature) = signed_with(field, value.clone());
            let err = verify_at(&body, &signature, EVENT_AT).unwrap_err();
            assert!(matches!(err, WebhookError::MalformedJson(ref m) if m.contains(field)), "{field} {value:?}");
        }
    }
    for field in ["brokerageId", "accountId", "brokerageAuthorizationId", "details"] {
        let (body, signature) = signed_with(field, None);
        assert!(verify_at(&body, &signature, EVENT_AT).is_ok(), "{field}");
    }
    let (body, signature) = signed_with("accountId", Some(Value::Null));
    assert_eq!(verify_at(&body, &signature, EVENT_AT).unwrap().account_id, None);
    let (body, signature) = signed_with("accountId", Some(json!(["acc-1"])));
    assert!(matches!(verify_at(&body, &signature, EVENT_AT), Err(WebhookError::MalformedJson(_))));
}

#[test]
fn a_webhook_for_another_client_id_is_refused() {
    let body = serde_json::to_vec(&payload()).unwrap();
    assert!(verify_webhook_for_client(KEY, CLIENT, &body, PYTHON_SIGNATURE, EVENT_AT).is_ok());
    let err = verify_webhook_for_client(KEY, "OTHER", &body, PYTHON_SIGNATURE, EVENT_AT).unwrap_err();
    assert_eq!(
        (err.clone(), err.code(), err.http_status()),
        (WebhookError::WrongClientId, "webhook_wrong_client", 403)
    );
    let (lower, signature) = signed_with("clientId", Some(json!("tributary")));
    assert_eq!(verify_webhook_for_client(KEY, CLIENT, &lower, &signature, EVENT_AT), Err(WebhookError::WrongClientId));
}

#[test]
fn non_ascii_details_verify_and_arrive_intact() {
    let details = json!({"name": "Société Générale — 株式", "emoji": "💹", "quote": "\"\\\n"});
    let (body, signature) = signed_with("details", Some(details.clone()));
    assert!(String::from_utf8(body.clone()).unwrap().contains("株式"), "raw UTF-8, not escapes");
    assert_eq!(verify_at(&body, &signature, EVENT_AT).unwrap().details, details);
}

#[test]
fn every_documented_event_round_trips_and_others_stay_unknown() {
    for event in SnapTradeEvent::KNOWN {
        assert_eq!(SnapTradeEvent::parse(event.as_str()), event);
        assert_eq!(serde_json::to_value(&event).unwrap(), json!(event.as_str()));
    }
    let names: std::collections::HashSet<_> = SnapTradeEvent::KNOWN.iter().map(|e| e.as_str().to_owned()).collect();
    assert_eq!(names.len(), 16);
    assert_eq!(
        SnapTradeEvent::parse("account_holdings_updated"),
        SnapTradeEvent::Unknown("account_holdings_updated".into())
    );
    assert_eq!(serde_json::from_value::<SnapTradeEvent>(json!("NEW_THING")).unwrap().as_str(), "NEW_THING");
}

fn webhook(event: &str, authorization: Option<&str>, account: Option<&str>) -> SnapTradeWebhook {
    SnapTradeWebhook {
        webhook_id: "w-1".into(),
        client_id: CLIENT.into(),
        event_timestamp: EVENT_AT,
        user_id: "user-42".into(),
        event_type: SnapTradeEvent::parse(event),
        brokerage_id: None,
        account_id: account.map(str::to_owned),
        brokerage_authorization_id: authorization.map(str::to_owned),
        details: Value::Null,
    }
}

#[test]
fn each_event_routes_to_its_effect() {
    let auth = |id: &str| id.to_owned();
    let table = [
        ("ACCOUNT_HOLDINGS_UPDATED", WebhookEffect::SetPending),
        ("NEW_ACCOUNT_AVAILABLE", WebhookEffect::SetPending),
        ("CONNECTION_ADDED", WebhookEffect::SetPending),
        ("CONNECTION_UPDATED", WebhookEffect::SetPending),
        ("CONNECTION_BROKEN", WebhookEffect::NeedsRepair { authorization_id: auth("auth-1") }),
        ("CONNECTION_FAILED", WebhookEffect::NeedsRepair { authorization_id: auth("auth-1") }),
        ("CONNECTION_FIXED", WebhookEffect::Repaired { authorization_id: auth("auth-1") }),
        ("CONNECTION_DELETED", WebhookEffect::RemoveConnection { authorization_id: auth("auth-1") }),
        ("ACCOUNT_REMOVED", WebhookEffect::RemoveAccount { account_id: "acc-1".into() }),
        ("ACCOUNT_TRANSACTIONS_INITIAL_UPDATE", WebhookEffect::SetTransactionsPending),
        ("ACCOUNT_TRANSACTIONS_UPDATED", WebhookEffect::SetTransactionsPending),
    ];
    for (event, effect) in table {
        assert_eq!(webhook_effect(&webhook(event, Some("auth-1"), Some("acc-1"))), effect, "{event}");
    }
    for event in
        ["USER_REGISTERED", "USER_DELETED", "CONNECTION_ATTEMPTED", "TRADE_DETECTION", "TRADE_UPDATE", "SOMETHING_NEW"]
    {
        let effect = webhook_effect(&webhook(event, Some("auth-1"), Some("acc-1")));
        assert!(matches!(&effect, WebhookEffect::Acknowledge { reason } if reason.contains(event)), "{event}");
    }
}

#[test]
fn an_effect_without_the_id_it_needs_is_acknowledged_with_a_reason() {
    for event in ["CONNECTION_BROKEN", "CONNECTION_FAILED", "CONNECTION_FIXED", "CONNECTION_DELETED"] {
        let effect = webhook_effect(&webhook(event, None, Some("acc-1")));
        let expected = format!("{event} without brokerageAuthorizationId; nothing to change");
        assert_eq!(effect, WebhookEffect::Acknowledge { reason: expected });
    }
    let effect = webhook_effect(&webhook("ACCOUNT_REMOVED", Some("auth-1"), None));
    assert!(matches!(effect, WebhookEffect::Acknowledge { ref reason } if reason.contains("accountId")));
}

#[test]
fn effects_serialise_with_snake_case_tags() {
    assert_eq!(serde_json::to_value(WebhookEffect::SetPending).unwrap(), json!({"effect": "set_pending"}));
    assert_eq!(
        serde_json::to_value(WebhookEffect::NeedsRepair { authorization_id: "a".into() }).unwrap(),
        json!({"effect": "needs_repair", "authorization_id": "a"})
    );
}

proptest! {
    #[test]
    fn any_key_order_and_details_verify_and_a_different_key_never_does(
        pairs in prop::collection::vec(("[a-zA-Z]{1,8}", "[ -~éü€📈株]{0,12}"), 0..6),
        reverse in any::<bool>(),
        other_key in "[a-z]{1,12}",
    ) {
        let details: Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut body = payload();
        body["details"] = Value::Object(details);
        let signature = sign(KEY, &body);
        let mut entries: Vec<(String, Value)> = body.as_object().unwrap().clone().into_iter().collect();
        if reverse { entries.reverse(); }
        let text = format!(
            "{{{}}}",
            entries.iter().map(|(k, v)| format!("{}: {}", json!(k), v)).collect::<Vec<_>>().join(", ")
        );
        let verified = verify_at(text.as_bytes(), &signature, EVENT_AT);
        prop_assert_eq!(verified.map(|w| w.details), Ok(body["details"].clone()));
        prop_assume!(other_key != KEY);
        prop_assert_eq!(verify_webhook(&other_key, text.as_bytes(), &signature, EVENT_AT), Err(WebhookError::BadSignature));
    }

    #[test]
    fn within_the_window_is_accepted_and_beyond_it_is_stale(offset in -1_000i64..1_000) {
        let body = serde_json::to_vec(&payload()).unwrap();
        let result = verify_at(&body, PYTHON_SIGNATURE, EVENT_AT + offset);
        if offset.abs() <= MAX_WEBHOOK_AGE_S {
            prop_assert!(result.is_ok());
        } else {
            prop_assert_eq!(result, Err(WebhookError::Stale { age_s: offset, max_s: MAX_WEBHOOK_AGE_S }));
        }
    }

    #[test]
    fn arbitrary_bytes_and_headers_never_panic_or_verify(body in prop::collection::vec(any::<u8>(), 0..200), header in ".{0,60}") {
        prop_assert!(verify_at(&body, &header, EVENT_AT).is_err());
    }
}
