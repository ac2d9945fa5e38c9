//! Shared helpers for the simulator's HTTP tests: a simulator with fresh SnapTrade credentials and
//! a client that signs requests the way SnapTrade documents (the signing function itself is pinned
//! by the published vector in the unit tests).

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};
use tributary_sim::snaptrade::signature::sign;
use tributary_sim::{SimConfig, Simulator, SnapTradeCredentials};

pub const CLIENT_ID: &str = "TEST-CLIENT";
pub const CONSUMER_KEY: &str = "test-consumer-key-0123456789";

/// A started simulator and a client for it.
pub struct Harness {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
}

/// A registered SnapTrade user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub secret: String,
}

/// What tests look at in a response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    }
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The standard query: `clientId`, `timestamp` (now), then the user's `userId`/`userSecret`.
pub fn query(user: Option<&User>) -> String {
    let mut q = format!("clientId={CLIENT_ID}&timestamp={}", now());
    if let Some(u) = user {
        q.push_str(&format!("&userId={}&userSecret={}", u.id, u.secret));
    }
    q
}

impl Harness {
    pub async fn start() -> Self {
        let config = SimConfig {
            snaptrade: Some(SnapTradeCredentials { client_id: CLIENT_ID.into(), consumer_key: CONSUMER_KEY.into() }),
            plaid: None,
            schwab: None,
        };
        Self::with_config(config).await
    }

    pub async fn with_config(config: SimConfig) -> Self {
        let sim = Simulator::start(0, config).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: sim.base_url(), sim, http }
    }

    /// Sends exactly `path?query` with `body` and the given `Signature` header (none when `None`).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&str>,
        signature: Option<&str>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}?{query}", self.base));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        if let Some(signature) = signature {
            request = request.header("Signature", signature);
        }
        read(request.send().await.unwrap()).await
    }

    /// A correctly signed call.
    pub async fn call(&self, method: Method, path: &str, user: Option<&User>, body: Option<Value>) -> Reply {
        let q = query(user);
        let signature = sign(CONSUMER_KEY, path, &q, body.as_ref());
        let text = body.map(|b| b.to_string());
        self.raw(method, path, &q, text.as_deref(), Some(&signature)).await
    }

    pub async fn get(&self, path: &str, user: &User) -> Reply {
        self.call(Method::GET, path, Some(user), None).await
    }

    pub async fn register(&self, id: &str) -> User {
        let reply =
            self.call(Method::POST, "/snapTrade/registerUser", None, Some(serde_json::json!({"userId": id}))).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        User { id: id.into(), secret: reply.json["userSecret"].as_str().unwrap().into() }
    }

    /// `POST /snapTrade/login` with `body`; returns the portal URL.
    pub async fn login(&self, user: &User, body: Value) -> String {
        let reply = self.call(Method::POST, "/snapTrade/login", Some(user), Some(body)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json["redirectURI"].as_str().unwrap().to_owned()
    }

    /// Opens the portal page at `url`: (status, HTML).
    pub async fn portal_page(&self, url: &str) -> (StatusCode, String) {
        let response = self.http.get(url).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Submits the portal form of `url` for `broker`: (status, Location header, body).
    pub async fn portal_submit(&self, url: &str, broker: &str) -> (StatusCode, String, String) {
        let parsed = reqwest::Url::parse(url).unwrap();
        let pairs: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
        let form = [("sessionId", pairs["sessionId"].as_str()), ("token", pairs["token"].as_str()), ("broker", broker)];
        let response = self.http.post(format!("{}{}", self.base, parsed.path())).form(&form).send().await.unwrap();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (response.status(), location, response.text().await.unwrap())
    }

    /// Connects `broker` for `user` through login + portal; returns the authorization id.
    pub async fn connect(&self, user: &User, broker: &str, connection_type: &str) -> String {
        let body = serde_json::json!({"customRedirect": "http://app.test/done", "connectionType": connection_type});
        let url = self.login(user, body).await;
        let (status, location, _) = self.portal_submit(&url, broker).await;
        assert_eq!(status, 302);
        location.split("connection_id=").nth(1).unwrap().to_owned()
    }

    /// Registers a control fault; returns the reply.
    pub async fn fault(&self, spec: Value) -> Value {
        let response = self.http.post(format!("{}/__sim/faults", self.base)).json(&spec).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap().json().await.unwrap()
    }
}

/// The parts of `response` tests look at (`json` is `Null` when the body is not JSON).
pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, text, json }
}

/// Asserts `reply` is SnapTrade's error shape with this status and code.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.json["status_code"], status, "{}", reply.text);
    assert_eq!(reply.json["code"], code, "{}", reply.text);
    assert!(reply.json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", reply.text);
}
