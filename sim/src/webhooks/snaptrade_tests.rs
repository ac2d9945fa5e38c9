use super::*;

const NOW_MS: i64 = 1_795_255_200_000; // 2026-11-21T10:00:00.000Z

fn spec(extra: Value) -> WebhookSpec {
    let mut base = json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": "u-1"});
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn body_json(built: &Built) -> Value {
    serde_json::from_slice(&built.body).unwrap()
}

#[test]
fn timestamps_are_rfc3339_utc_with_milliseconds() {
    assert_eq!(rfc3339_millis(NOW_MS), "2026-11-21T10:00:00.000Z");
    assert_eq!(rfc3339_millis(NOW_MS + 1_234), "2026-11-21T10:00:01.234Z");
    assert_eq!(rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
}

#[test]
fn recognises_rfc3339_and_refuses_near_misses() {
    for ok in [
        "2026-11-21T10:00:00.000Z",
        "2022-01-21T15:11:19.217000-05:00",
        "2026-11-21T10:00:00Z",
        "2026-11-21T23:59:60+14:00",
    ] {
        assert!(is_rfc3339(ok), "{ok}");
    }
    for bad in [
        MALFORMED_TIMESTAMP,
        "2026-11-21 10:00:00Z",
        "2026-13-21T10:00:00Z",
        "2026-11-21T10:00:00",
        "2026-11-21T10:00:00.Z",
        "2026-11-21T10:00:00+0500",
        "2026-11-21T10:00:00Zjunk",
        "2026-11-21T10:00:00+é5:00",
        "",
    ] {
        assert!(!is_rfc3339(bad), "{bad}");
    }
}

#[test]
fn a_genuine_webhook_is_the_canonical_payload_signed_with_the_consumer_key() {
    let spec = spec(json!({"account_id": "acc-1", "authorization_id": "auth-1", "brokerage_id": "b-1",
                           "details": {"z": 1, "a": "é"}, "webhook_id": "w-1"}));
    let built = build(&spec, "CID", "key", NOW_MS).unwrap();
    assert_eq!(built.webhook_id, "w-1");
    let expected = r#"{"accountId":"acc-1","brokerageAuthorizationId":"auth-1","brokerageId":"b-1","clientId":"CID","details":{"a":"\u00e9","z":1},"eventTimestamp":"2026-11-21T10:00:00.000Z","eventType":"ACCOUNT_HOLDINGS_UPDATED","userId":"u-1","webhookId":"w-1"}"#;
    assert_eq!(String::from_utf8(built.body.clone()).unwrap(), expected);
    assert_eq!(built.signature.as_deref(), Some(sign("key", expected.as_bytes()).as_str()));
}

#[test]
fn absent_optional_fields_are_left_out_and_ids_are_random() {
    let (a, b) =
        (build(&spec(json!({})), "CID", "k", NOW_MS).unwrap(), build(&spec(json!({})), "CID", "k", NOW_MS).unwrap());
    assert_ne!(a.webhook_id, b.webhook_id);
    let keys: Vec<String> = body_json(&a).as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["clientId", "eventTimestamp", "eventType", "userId", "webhookId"]);
}

#[test]
fn timestamp_overrides_take_unix_seconds_or_rfc3339_and_refuse_the_rest() {
    let at = |ts: Value| build(&spec(json!({"event_timestamp": ts})), "C", "k", NOW_MS).map(|b| body_json(&b));
    assert_eq!(at(json!(1_700_000_000)).unwrap()["eventTimestamp"], "2023-11-14T22:13:20.000Z");
    assert_eq!(at(json!(1_700_000_000.5)).unwrap()["eventTimestamp"], "2023-11-14T22:13:20.500Z");
    assert_eq!(at(json!("2022-01-21T15:11:19.217-05:00")).unwrap()["eventTimestamp"], "2022-01-21T15:11:19.217-05:00");
    assert!(at(json!("yesterday")).is_err());
    assert!(at(json!(-5)).is_err());
    assert!(at(json!(true)).is_err());
    let both = spec(json!({"event_timestamp": 1_700_000_000, "tamper": "stale"}));
    assert!(build(&both, "C", "k", NOW_MS).is_err());
}

#[test]
fn each_tamper_adds_exactly_its_defect() {
    let genuine = build(&spec(json!({"webhook_id": "w"})), "CID", "key", NOW_MS).unwrap();
    let tampered = |name: &str| build(&spec(json!({"webhook_id": "w", "tamper": name})), "CID", "key", NOW_MS).unwrap();
    let resigned = |built: &Built| Some(sign("key", &built.body));

    let bad = tampered("bad_signature");
    assert_eq!(bad.body, genuine.body);
    let (good_sig, bad_sig) =
        (STANDARD.decode(genuine.signature.unwrap()).unwrap(), STANDARD.decode(bad.signature.unwrap()).unwrap());
    let differing_bits: u32 = good_sig.iter().zip(&bad_sig).map(|(a, b)| (a ^ b).count_ones()).sum();
    assert_eq!(differing_bits, 1);

    for (name, timestamp) in [
        ("stale", json!("2026-11-21T09:50:00.000Z")),
        ("future", json!("2026-11-21T10:10:00.000Z")),
        ("malformed_timestamp", json!(MALFORMED_TIMESTAMP)),
        ("missing_timestamp", Value::Null),
    ] {
        let built = tampered(name);
        assert_eq!(body_json(&built)["eventTimestamp"], timestamp, "{name}");
        assert_eq!(built.signature, resigned(&built), "{name} is correctly signed");
    }
    assert!(body_json(&tampered("missing_timestamp")).get("eventTimestamp").is_none());

    let wrong = tampered("wrong_client");
    assert_eq!(body_json(&wrong)["clientId"], "OTHER-CID");
    assert_eq!(wrong.signature, resigned(&wrong));

    let reordered = tampered("reordered_keys");
    assert_ne!(reordered.body, genuine.body);
    assert!(String::from_utf8(reordered.body.clone()).unwrap().starts_with(r#"{"webhookId":"w","userId":"u-1""#));
    assert_eq!(canonical_json(&body_json(&reordered)).into_bytes(), genuine.body, "same payload, other order");
    assert_eq!(
        reordered.signature.as_deref(),
        Some(sign("key", &genuine.body).as_str()),
        "signature of the canonical form"
    );

    let non_json = tampered("non_json");
    assert!(serde_json::from_slice::<Value>(&non_json.body).is_err());
    assert_eq!(non_json.body, genuine.body[..genuine.body.len() - 1]);
    assert_eq!(non_json.signature, resigned(&non_json));

    let unsigned = tampered("no_signature");
    assert_eq!((unsigned.body, unsigned.signature), (genuine.body, None));
}

#[test]
fn empty_event_type_user_or_webhook_id_is_refused() {
    assert!(build(&spec(json!({"event_type": " "})), "C", "k", NOW_MS).is_err());
    assert!(build(&spec(json!({"user_id": ""})), "C", "k", NOW_MS).is_err());
    assert!(build(&spec(json!({"webhook_id": ""})), "C", "k", NOW_MS).is_err());
    assert!(
        serde_json::from_value::<WebhookSpec>(json!({"event_type": "X", "user_id": "u", "tamper": "nope"})).is_err()
    );
}

#[test]
fn transactions_events_carry_the_documented_fields_and_others_do_not_gain_a_secret() {
    let s = json!({"event_type": "ACCOUNT_TRANSACTIONS_UPDATED", "account_id": "acc-1", "authorization_id": "auth-1",
                   "webhook_id": "w-2"});
    let body = body_json(&build(&spec(s), "CID", "key", NOW_MS).unwrap());
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "accountId",
            "brokerageAuthorizationId",
            "clientId",
            "eventTimestamp",
            "eventType",
            "userId",
            "webhookId",
            "webhookSecret"
        ]
    );
    assert_eq!(body["webhookSecret"], json!(default_webhook_secret("CID")));
    let given = spec(json!({"event_type": "ACCOUNT_TRANSACTIONS_INITIAL_UPDATE", "webhook_secret": "s3"}));
    assert_eq!(body_json(&build(&given, "CID", "key", NOW_MS).unwrap())["webhookSecret"], "s3");
    assert!(body_json(&build(&spec(json!({})), "CID", "key", NOW_MS).unwrap()).get("webhookSecret").is_none());
}
