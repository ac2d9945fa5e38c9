//! Helpers for the Plaid HTTP tests: a simulator with Plaid credentials, a JSON client, the hosted
//! Link flow, a tiny webhook receiver, and an independent check of Plaid's webhook JWT written from
//! Plaid's verification docs (it lists every defect it finds, so a test can prove there is exactly one).
//! Include it beside `mod common;` (it reuses `common::Reply`).

#![allow(dead_code)]

use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tributary_sim::{PlaidCredentials, SimConfig, Simulator};

pub use crate::common::Reply;

pub const PLAID_CLIENT_ID: &str = "plaid-test-client";
pub const PLAID_SECRET: &str = "plaid-test-secret-0123456789";
pub const DONE_URL: &str = "https://app.test/plaid/done";

/// A started simulator that accepts the test Plaid credentials, and a client for it.
pub struct Plaid {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
}

/// An Item linked through the hosted Link flow.
#[derive(Debug, Clone)]
pub struct Linked {
    pub access_token: String,
    pub item_id: String,
    pub public_token: String,
    pub link_token: String,
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, text, json }
}

/// Asserts `reply` is Plaid's error shape with this status, type and code, and carries a request id.
pub fn assert_plaid_error(reply: &Reply, status: u16, error_type: &str, error_code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(
        (reply.json["error_type"].as_str(), reply.json["error_code"].as_str()),
        (Some(error_type), Some(error_code)),
        "{}",
        reply.text
    );
    assert!(reply.json["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.text);
    assert!(reply.json.get("display_message").is_some(), "{}", reply.text);
    assert!(reply.json["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{}", reply.text);
}

impl Plaid {
    pub async fn start() -> Self {
        let plaid = PlaidCredentials { client_id: PLAID_CLIENT_ID.into(), secret: PLAID_SECRET.into() };
        let sim = Simulator::start(0, SimConfig { snaptrade: None, plaid: Some(plaid), schwab: None }).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: sim.base_url(), sim, http }
    }

    /// POSTs `body` exactly as given (no credentials added) with extra `headers`.
    pub async fn post_raw(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.body(body.to_owned()).send().await.unwrap()).await
    }

    /// POSTs `body` with `client_id` and `secret` added to it.
    pub async fn post(&self, path: &str, mut body: Value) -> Reply {
        body["client_id"] = json!(PLAID_CLIENT_ID);
        body["secret"] = json!(PLAID_SECRET);
        self.post_raw(path, &body.to_string(), &[]).await
    }

    /// A valid `/link/token/create` body for `user`.
    pub fn link_body(user: &str, webhook: Option<&str>) -> Value {
        let mut body = json!({
            "client_name": "Tributary", "language": "en", "country_codes": ["US"],
            "user": {"client_user_id": user}, "products": ["investments"],
            "hosted_link": {"completion_redirect_uri": DONE_URL},
        });
        if let Some(webhook) = webhook {
            body["webhook"] = json!(webhook);
        }
        body
    }

    /// Creates a link token; returns (link_token, hosted_link_url).
    pub async fn link_token(&self, user: &str, webhook: Option<&str>) -> (String, String) {
        let reply = self.post("/link/token/create", Self::link_body(user, webhook)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let field = |k: &str| reply.json[k].as_str().unwrap().to_owned();
        (field("link_token"), field("hosted_link_url"))
    }

    /// Submits the hosted Link form at `url` for `institution_id`: (status, Location header).
    pub async fn submit_link(&self, url: &str, institution_id: &str) -> (StatusCode, String) {
        let response = self.http.post(url).form(&[("institution_id", institution_id)]).send().await.unwrap();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (response.status(), location)
    }

    /// Links `institution_id` for `user` through the hosted page and exchanges the public token.
    pub async fn link_item(&self, user: &str, institution_id: &str, webhook: Option<&str>) -> Linked {
        let (link_token, url) = self.link_token(user, webhook).await;
        let (status, location) = self.submit_link(&url, institution_id).await;
        assert_eq!(status, 302);
        let location = reqwest::Url::parse(&location).unwrap();
        let public_token = location.query_pairs().find(|(k, _)| k == "public_token").unwrap().1.into_owned();
        let reply = self.post("/item/public_token/exchange", json!({"public_token": public_token})).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let field = |k: &str| reply.json[k].as_str().unwrap().to_owned();
        Linked { access_token: field("access_token"), item_id: field("item_id"), public_token, link_token }
    }

    pub async fn holdings(&self, linked: &Linked) -> Reply {
        self.post("/investments/holdings/get", json!({"access_token": linked.access_token})).await
    }

    /// POSTs a control request; returns (status, JSON).
    pub async fn control(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    pub async fn calls(&self) -> Value {
        self.http.get(format!("{}/__sim/calls", self.base)).send().await.unwrap().json().await.unwrap()
    }

    /// The published JWK for `kid`, or the error reply.
    pub async fn jwk(&self, kid: &str) -> Result<Value, Reply> {
        let reply = self.post("/webhook_verification_key/get", json!({"key_id": kid})).await;
        if reply.status == 200 {
            Ok(reply.json["key"].clone())
        } else {
            Err(reply)
        }
    }
}

/// A webhook as the receiver got it.
#[derive(Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A loopback HTTP receiver answering 200 "received" to `POST /webhooks/plaid`.
pub struct Receiver {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Received>,
    handle: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/webhooks/plaid",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(Received { headers, body });
                    "received"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/plaid", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, rx, handle }
    }

    /// The next webhook received; waits at most a minute (only a webhook that never comes takes
    /// that long, however busy the machine is).
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(std::time::Duration::from_secs(60), self.rx.recv()).await.unwrap().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

fn decode_json(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// The verifying key of a JWK `{x, y}` (base64url coordinates).
pub fn verifying_key(jwk: &Value) -> VerifyingKey {
    let mut sec1 = vec![4u8];
    for c in ["x", "y"] {
        let bytes = URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
        assert_eq!(bytes.len(), 32, "{c}");
        sec1.extend(bytes);
    }
    VerifyingKey::from_sec1_bytes(&sec1).unwrap()
}

/// Whether the JWT's ES256 signature verifies with `jwk`.
pub fn es256_verifies(jwt: &str, jwk: &Value) -> bool {
    let Some((input, signature)) = jwt.rsplit_once('.') else { return false };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature) else { return false };
    let Ok(signature) = Signature::from_slice(&bytes) else { return false };
    verifying_key(jwk).verify(input.as_bytes(), &signature).is_ok()
}

/// Every defect of a received webhook under Plaid's documented checks: "alg" (not ES256), "kid"
/// (no published key), "signature", "iat" (missing or older than 5 minutes), "hash_missing",
/// "hash_mismatch" (SHA-256 hex of the raw body bytes differs from `request_body_sha256`).
pub async fn defects(plaid: &Plaid, received: &Received) -> Vec<&'static str> {
    let jwt = received.headers.get("plaid-verification").and_then(|v| v.to_str().ok()).unwrap_or("");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let (header, claims) = (decode_json(parts[0]).unwrap(), decode_json(parts[1]).unwrap());
    let mut found = Vec::new();
    let es256 = header["alg"] == "ES256";
    if !es256 {
        found.push("alg");
    }
    match plaid.jwk(header["kid"].as_str().unwrap_or("")).await {
        Err(_) => found.push("kid"),
        Ok(jwk) if es256 && !es256_verifies(jwt, &jwk) => found.push("signature"),
        Ok(_) => {}
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    if claims["iat"].as_i64().is_none_or(|iat| now - iat > 300) {
        found.push("iat");
    }
    let hash: String = Sha256::digest(&received.body).iter().map(|b| format!("{b:02x}")).collect();
    match claims["request_body_sha256"].as_str() {
        None => found.push("hash_missing"),
        Some(claimed) if claimed != hash => found.push("hash_mismatch"),
        Some(_) => {}
    }
    found
}
