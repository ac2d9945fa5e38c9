//! SnapTrade webhooks sent by the simulator, received over real HTTP by a small recording server.
//! Signatures are recomputed here from SnapTrade's description (HMAC-SHA256 with the consumer key
//! over sorted-key compact JSON), not with the simulator's signing code.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use common::{Harness, CLIENT_ID, CONSUMER_KEY};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use tributary_sim::faults::Provider;
use tributary_sim::{SimConfig, Simulator};

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A loopback server that records every POST to `/webhooks/snaptrade` and answers 202 "received".
struct Receiver {
    url: String,
    log: Log,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Self {
        async fn record(State(log): State<Log>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
            log.lock().unwrap().push(Received { headers, body: body.to_vec() });
            (StatusCode::ACCEPTED, "received")
        }
        let log: Log = Arc::default();
        let app = Router::new().route("/webhooks/snaptrade", post(record)).with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/snaptrade", listener.local_addr().unwrap());
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, log, task }
    }
    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
    fn last(&self) -> Received {
        self.received().pop().expect("a webhook arrived")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `value` with every object's keys in sorted order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Sorted-key compact JSON of a body (test payloads are ASCII, so no escaping question arises).
fn canonical(body: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&sorted(serde_json::from_slice(body).unwrap())).unwrap()
}

fn hmac_base64(message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(CONSUMER_KEY.as_bytes()).unwrap();
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// What a receiver following SnapTrade's docs concludes about the signature.
fn signature_verifies(received: &Received) -> bool {
    received.header("signature").is_some_and(|sig| sig == hmac_base64(&canonical(&received.body)))
}

/// The Unix time of an RFC 3339 UTC timestamp with milliseconds (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
fn unix_of(timestamp: &str) -> i64 {
    let b = timestamp.as_bytes();
    assert_eq!(b.len(), 24, "{timestamp}");
    assert_eq!((b[4], b[7], b[10], b[13], b[16], b[19], b[23]), (b'-', b'-', b'T', b':', b':', b'.', b'Z'));
    let n = |range: std::ops::Range<usize>| timestamp[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (proleptic Gregorian), then seconds.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

async fn control_post(h: &Harness, path: &str, body: Value) -> (u16, Value) {
    let response = h.http.post(format!("{}{path}", h.base)).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn send(h: &Harness, spec: Value) -> (u16, Value) {
    control_post(h, "/__sim/snaptrade/webhook", spec).await
}

#[tokio::test]
async fn a_genuine_webhook_is_signed_over_its_sorted_compact_json() {
    let (h, receiver) = (Harness::start().await, Receiver::start().await);
    let spec = json!({"url": receiver.url, "event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": "user-1",
                      "account_id": "acc-1", "authorization_id": "auth-1", "brokerage_id": "brk-1",
                      "details": {"reason": "sync", "count": 2}});
    let (status, answer) = send(&h, spec).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((&answer["status"], &answer["body"]), (&json!(202), &json!("received")), "the receiver's answer");

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let webhook = &got[0];
    assert_eq!(webhook.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(webhook.body, canonical(&webhook.body), "sent in canonical form");
    assert_eq!(webhook.header("signature"), Some(hmac_base64(&webhook.body)));
    let payload = webhook.json();
    assert_eq!(payload["webhookId"], answer["webhook_id"]);
    assert_eq!(payload["webhookId"].as_str().unwrap().len(), 36, "a UUID");
    assert_eq!(payload["clientId"], CLIENT_ID);
    assert_eq!(
        (&payload["userId"], &payload["eventType"], &payload["accountId"]),
        (&json!("user-1"), &json!("ACCOUNT_HOLDINGS_UPDATED"), &json!("acc-1"))
    );
    assert_eq!((&payload["brokerageAuthorizationId"], &payload["brokerageId"]), (&json!("auth-1"), &json!("brk-1")));
    assert_eq!(payload["details"], json!({"count": 2, "reason": "sync"}));
    let age = common::now() - unix_of(payload["eventTimestamp"].as_str().unwrap());
    assert!((0..=5).contains(&age), "eventTimestamp is now (age {age} s)");
}

#[tokio::test]
async fn a_replay_resends_identical_bytes_and_headers() {
    let (h, receiver) = (Harness::start().await, Receiver::start().await);
    let spec = json!({"url": receiver.url, "event_type": "CONNECTION_BROKEN", "user_id": "u2"});
    let (_, first) = send(&h, spec).await;
    let (status, again) =
        control_post(&h, "/__sim/snaptrade/webhook/replay", json!({"webhook_id": first["webhook_id"]})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((&again["webhook_id"], &again["status"]), (&first["webhook_id"], &json!(202)));
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
    for name in ["signature", "content-type", "content-length"] {
        assert_eq!(got[0].header(name), got[1].header(name), "{name}");
    }

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let reuse = json!({"url": receiver.url, "event_type": "CONNECTION_BROKEN", "user_id": "u2",
                       "webhook_id": first["webhook_id"]});
    send(&h, reuse).await;
    let resent = receiver.last();
    assert_eq!(resent.json()["webhookId"], first["webhook_id"], "a reused id is a replay by id");
    assert_ne!(resent.json()["eventTimestamp"], got[0].json()["eventTimestamp"], "with a fresh timestamp");
    assert!(signature_verifies(&resent));

    let (status, missing) =
        control_post(&h, "/__sim/snaptrade/webhook/replay", json!({"webhook_id": "never-sent"})).await;
    assert_eq!(status, 404, "{missing}");
}

#[tokio::test]
async fn tamper_variants_do_what_they_say() {
    let (h, receiver) = (Harness::start().await, Receiver::start().await);
    let mut genuine = None;
    for tamper in [
        None,
        Some("bad_signature"),
        Some("stale"),
        Some("future"),
        Some("missing_timestamp"),
        Some("malformed_timestamp"),
        Some("wrong_client"),
        Some("reordered_keys"),
        Some("non_json"),
        Some("no_signature"),
    ] {
        let mut spec = json!({"url": receiver.url, "event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": "u3",
                              "account_id": "acc-3", "details": {"b": 1, "a": {"y": 2, "x": 3}}});
        if let Some(tamper) = tamper {
            spec["tamper"] = json!(tamper);
        }
        let (status, answer) = send(&h, spec).await;
        assert_eq!(status, 200, "{tamper:?}: {answer}");
        let webhook = receiver.last();
        let name = tamper.unwrap_or("none");
        if tamper == Some("non_json") {
            assert!(serde_json::from_slice::<Value>(&webhook.body).is_err(), "non_json is not JSON");
            assert_eq!(webhook.header("signature"), Some(hmac_base64(&webhook.body)), "signed over the raw bytes");
            continue;
        }
        let payload = webhook.json();
        let timestamp = payload.get("eventTimestamp").and_then(Value::as_str);
        let skew = timestamp.filter(|t| t.len() == 24).map(|t| unix_of(t) - common::now());
        match tamper {
            None => {
                assert!(signature_verifies(&webhook) && skew.is_some_and(|s| s.abs() <= 5));
                genuine = Some(webhook.clone());
            }
            Some("bad_signature") => {
                assert!(!signature_verifies(&webhook));
                let sent = STANDARD.decode(webhook.header("signature").unwrap()).unwrap();
                let right = STANDARD.decode(hmac_base64(&webhook.body)).unwrap();
                let bits: u32 = sent.iter().zip(&right).map(|(a, b)| (a ^ b).count_ones()).sum();
                assert_eq!(bits, 1, "exactly one bit flipped");
            }
            Some("stale") => assert!(signature_verifies(&webhook) && skew.is_some_and(|s| (-605..=-595).contains(&s))),
            Some("future") => assert!(signature_verifies(&webhook) && skew.is_some_and(|s| (595..=605).contains(&s))),
            Some("missing_timestamp") => {
                assert!(signature_verifies(&webhook) && payload.get("eventTimestamp").is_none())
            }
            Some("malformed_timestamp") => {
                assert!(signature_verifies(&webhook) && timestamp.is_some() && skew.is_none(), "{payload}")
            }
            Some("wrong_client") => {
                assert!(signature_verifies(&webhook));
                assert!(payload["clientId"].as_str().is_some_and(|c| c != CLIENT_ID && !c.is_empty()));
            }
            Some("reordered_keys") => {
                assert_ne!(webhook.body, canonical(&webhook.body), "not in canonical order");
                assert!(signature_verifies(&webhook), "still verifies: the receiver canonicalises");
            }
            Some("no_signature") => {
                assert_eq!(webhook.header("signature"), None);
                assert_eq!(webhook.body, canonical(&webhook.body));
            }
            Some(other) => unreachable!("{other}"),
        }
        if tamper != Some("wrong_client") && timestamp.is_some() {
            assert_eq!(payload["clientId"], CLIENT_ID, "{name}");
        }
        let same_fields = ["userId", "eventType", "accountId", "details"];
        let genuine = genuine.as_ref().unwrap().json();
        assert!(same_fields.iter().all(|f| payload[f] == genuine[f]), "{name} changes nothing else: {payload}");
    }
}

#[tokio::test]
async fn only_loopback_urls_are_accepted() {
    let (h, receiver) = (Harness::start().await, Receiver::start().await);
    let port = receiver.url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    for url in [
        "http://example.com/webhooks/snaptrade".to_owned(),
        "http://10.0.0.1/webhooks/snaptrade".to_owned(),
        format!("https://127.0.0.1:{port}/webhooks/snaptrade"),
        format!("http://127.0.0.1.nip.io:{port}/webhooks/snaptrade"),
        "webhooks/snaptrade".to_owned(),
    ] {
        let (status, answer) = send(&h, json!({"url": url, "event_type": "USER_REGISTERED", "user_id": "u"})).await;
        assert_eq!(status, 400, "{url}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (status, _) = control_post(&h, "/__sim/webhook-url", json!({"snaptrade": "http://example.com/w"})).await;
    assert_eq!(status, 400);
    let (status, _) = send(&h, json!({"event_type": "USER_REGISTERED", "user_id": "u"})).await;
    assert_eq!(status, 400, "no url and no default");
    assert!(receiver.received().is_empty());

    let localhost = format!("http://localhost:{port}/webhooks/snaptrade");
    let (status, _) = send(&h, json!({"url": localhost, "event_type": "USER_REGISTERED", "user_id": "u"})).await;
    assert_eq!(status, 200);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_stored_default_url_lets_the_url_be_omitted() {
    let (h, receiver) = (Harness::start().await, Receiver::start().await);
    let (status, urls) = control_post(&h, "/__sim/webhook-url", json!({"snaptrade": receiver.url})).await;
    assert_eq!((status, urls), (200, json!({"snaptrade": receiver.url, "plaid": null})));
    assert_eq!(h.sim.sim.webhook_url(Provider::SnapTrade).as_deref(), Some(receiver.url.as_str()));
    assert_eq!(h.sim.sim.webhook_url(Provider::Plaid), None);

    let (status, answer) = send(&h, json!({"event_type": "NEW_ACCOUNT_AVAILABLE", "user_id": "u4"})).await;
    assert_eq!((status, &answer["status"]), (200, &json!(202)));
    assert_eq!(receiver.last().json()["eventType"], "NEW_ACCOUNT_AVAILABLE");

    let plaid = receiver.url.replace("snaptrade", "plaid");
    let (_, urls) = control_post(&h, "/__sim/webhook-url", json!({"snaptrade": null, "plaid": plaid})).await;
    assert_eq!(urls, json!({"snaptrade": null, "plaid": plaid}));
    let current: Value =
        h.http.get(format!("{}/__sim/webhook-url", h.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(current, urls);
    assert_eq!(control_post(&h, "/__sim/webhook-url", json!({"ibkr": plaid})).await.0, 400);
}

#[tokio::test]
async fn failed_delivery_and_missing_credentials_are_reported() {
    let h = Harness::start().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let spec =
        json!({"url": format!("http://{closed}/webhooks/snaptrade"), "event_type": "USER_DELETED", "user_id": "u"});
    let (status, answer) = send(&h, spec.clone()).await;
    assert_eq!(status, 502, "{answer}");
    assert!(answer["webhook_id"].as_str().is_some() && answer["error"].as_str().is_some());

    let without = Simulator::start(0, SimConfig::default()).await.unwrap();
    let response = h.http.post(format!("{}/__sim/snaptrade/webhook", without.base_url())).json(&spec).send().await;
    assert_eq!(response.unwrap().status(), 400, "nothing to sign with");
    let (status, _) = send(&h, json!({"event_type": "X", "user_id": "u", "tamper": "sideways"})).await;
    assert_eq!(status, 400, "unknown tamper");
}

#[tokio::test]
async fn sign_returns_the_genuine_delivery_without_sending_or_remembering_it() {
    let (h, receiver) = (Harness::start().await, Receiver::start().await);
    let spec = json!({"url": receiver.url, "event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": "u5",
                      "account_id": "acc-5"});
    let (status, answer) = control_post(&h, "/__sim/snaptrade/webhook/sign", spec).await;
    assert_eq!(status, 200, "{answer}");
    assert!(receiver.received().is_empty(), "nothing was sent");
    let headers: Vec<(String, String)> = serde_json::from_value(answer["headers"].clone()).unwrap();
    let signature = headers.iter().find(|(n, _)| n == "signature").map(|(_, v)| v.clone()).unwrap();
    let body = answer["body"].as_str().unwrap().as_bytes();
    assert_eq!(body, canonical(body).as_slice(), "the canonical body, as send would post it");
    assert_eq!(signature, hmac_base64(body), "signed as SnapTrade documents");
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!((&payload["webhookId"], &payload["accountId"]), (&answer["webhook_id"], &json!("acc-5")));
    let (status, _) =
        control_post(&h, "/__sim/snaptrade/webhook/replay", json!({"webhook_id": answer["webhook_id"]})).await;
    assert_eq!(status, 404, "a signed-only webhook is not remembered for replays");

    let stale = json!({"event_type": "X", "user_id": "u5", "tamper": "stale"});
    let (_, answer) = control_post(&h, "/__sim/snaptrade/webhook/sign", stale).await;
    let payload: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    let age = common::now() - unix_of(payload["eventTimestamp"].as_str().unwrap());
    assert!((600..=605).contains(&age), "tampers apply as for send: age {age}");
    assert_eq!(control_post(&h, "/__sim/snaptrade/webhook/sign", json!({"user_id": "u"})).await.0, 400);
}
