//! A Schwab session for the simulator's HTTP tests: a simulator that accepts one test app, a
//! customer logged in through the consent page and the code exchange, its account hashes, and
//! Trader and control calls. Include it next to `mod common;` with
//! `#[path = "common/schwab.rs"] mod schwab;`.

#![allow(dead_code)]

use crate::common::{read, Reply};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use tributary_sim::{SchwabCredentials, SimConfig, Simulator};

pub const CLIENT_ID: &str = "SchwabTestAppKey0123456789ABCDEF";
pub const CLIENT_SECRET: &str = "schwab-secret-16";
pub const CALLBACK: &str = "https://127.0.0.1:8182";

/// A started simulator and one logged-in customer.
pub struct Session {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
    pub customer: String,
    pub access: String,
    /// Account number → `hashValue`.
    pub hashes: HashMap<String, String>,
}

impl Session {
    /// A fresh simulator with `customer` logged in.
    pub async fn start(customer: &str) -> Self {
        let config = SimConfig {
            schwab: Some(SchwabCredentials {
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                redirect_uris: vec![CALLBACK.into()],
            }),
            ..SimConfig::default()
        };
        let sim = Simulator::start(0, config).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let base = sim.base_url();
        let mut s = Self { sim, base, http, customer: customer.into(), access: String::new(), hashes: HashMap::new() };
        s.access = s.login().await;
        let numbers = s.call(Method::GET, "/trader/v1/accounts/accountNumbers", None).await;
        let pairs = numbers.json.as_array().unwrap().iter();
        s.hashes = pairs
            .map(|p| (p["accountNumber"].as_str().unwrap().into(), p["hashValue"].as_str().unwrap().into()))
            .collect();
        s
    }

    /// Consent + code exchange for the customer: a new access token.
    pub async fn login(&self) -> String {
        let customer = self.customer.as_str();
        let form =
            [("client_id", CLIENT_ID), ("redirect_uri", CALLBACK), ("customer", customer), ("decision", "allow")];
        let decided = self.http.post(format!("{}/v1/oauth/authorize/decision", self.base)).form(&form).send().await;
        let decided = decided.unwrap();
        let location = reqwest::Url::parse(decided.headers()["location"].to_str().unwrap()).unwrap();
        let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
        let request = self.http.post(format!("{}/v1/oauth/token", self.base)).form(&form);
        let token = read(request.basic_auth(CLIENT_ID, Some(CLIENT_SECRET)).send().await.unwrap()).await;
        token.json["access_token"].as_str().unwrap().to_owned()
    }

    /// A Trader call with the customer's token and an optional raw JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<String>) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.access);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        read(request.send().await.unwrap()).await
    }

    /// A loopback control call.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }
}
