//! A person's side of the wire for the benchmarks: session tokens, the connection flows (SnapTrade
//! portal and Plaid hosted link, driven over HTTP exactly as the end-to-end suite drives them),
//! refreshes, and the simulator's controls (latency, account widening, webhooks, call counts).

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tributary_core::session::{issue_session_token, SessionKey};
use tributary_core::UserId;

/// Unix seconds from this machine's clock.
pub fn real_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// An HTTP answer reduced to what the benchmarks check.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub elapsed: Duration,
}

/// Talks to one worker (and the simulator) on behalf of users.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub sim: String,
    key: SessionKey,
    /// The worker's development clock offset, as the last `POST /api/dev/clock` answered.
    pub offset_s: i64,
    /// Plaid webhooks sent so far: each gets a different body, so two sent within one second
    /// (same `iat`) are still distinct deliveries.
    plaid_deliveries: std::sync::atomic::AtomicU64,
}

fn check(what: &str, reply: &Reply, status: u16) -> Result<(), String> {
    if reply.status == status {
        Ok(())
    } else {
        Err(format!("{what}: expected {status}, got {} {}", reply.status, reply.body))
    }
}

impl Client {
    pub fn new(base: &str, sim: &str, session_key: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| e.to_string())?;
        let key = SessionKey::new(session_key).map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            base: base.to_owned(),
            sim: sim.to_owned(),
            key,
            offset_s: 0,
            plaid_deliveries: Default::default(),
        })
    }

    /// The worker's notion of now (its clock offset applied).
    pub fn worker_now(&self) -> i64 {
        real_now() + self.offset_s
    }

    /// A session token for `user`, valid for an hour of the worker's clock.
    pub fn token(&self, user: &str) -> Result<String, String> {
        let user = UserId::parse(user).map_err(|e| e.to_string())?;
        Ok(issue_session_token(&user, &self.key, self.worker_now(), 3600))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, String> {
        let started = Instant::now();
        let response = request.send().await.map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| format!("read body: {e}"))?;
        let elapsed = started.elapsed();
        Ok(Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), elapsed })
    }

    /// `GET` a worker path as `user`.
    pub async fn get(&self, user: &str, path: &str) -> Result<Reply, String> {
        self.send(self.http.get(format!("{}{path}", self.base)).bearer_auth(self.token(user)?)).await
    }

    /// `POST` JSON to a worker path as `user`.
    pub async fn post(&self, user: &str, path: &str, body: Value) -> Result<Reply, String> {
        self.send(self.http.post(format!("{}{path}", self.base)).bearer_auth(self.token(user)?).json(&body)).await
    }

    /// `POST` JSON to a simulator control (`/__sim/...`), expecting 200.
    pub async fn sim_control(&self, path: &str, body: Value) -> Result<Value, String> {
        let reply = self.send(self.http.post(format!("{}{path}", self.sim)).json(&body)).await?;
        check(path, &reply, 200)?;
        Ok(reply.body)
    }

    /// The simulator's call counts (`GET /__sim/calls`).
    pub async fn sim_calls(&self) -> Result<Value, String> {
        Ok(self.send(self.http.get(format!("{}/__sim/calls", self.sim))).await?.body)
    }

    /// Connects `broker` through SnapTrade's portal for `user`, widens the connection to
    /// `accounts` accounts, and syncs it; returns the authorization id.
    pub async fn connect_snaptrade(
        &self,
        user: &str,
        institution: &str,
        broker: &str,
        accounts: usize,
    ) -> Result<String, String> {
        // Back to the worker's own origin: the only return a production worker accepts without an
        // ALLOWED_ORIGINS entry (the flows are driven over HTTP; nothing follows it).
        let redirect = format!("{}/connected", self.base);
        let body = json!({"institution": institution, "connection_type": "read", "redirect": redirect});
        let reply = self.post(user, "/api/snaptrade/connection-url", body).await?;
        check("connection-url", &reply, 200)?;
        let url =
            reqwest::Url::parse(reply.body["redirect_url"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        let form = [("sessionId", query.get("sessionId")), ("token", query.get("token"))]
            .map(|(k, v)| (k, v.cloned().unwrap_or_default()));
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let portal = format!("{}{}", self.sim, url.path());
        let form = [form[0].clone(), form[1].clone(), ("broker", broker.to_owned())];
        let response = no_redirects.post(portal).form(&form).send().await.map_err(|e| e.to_string())?;
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let authorization = location.rsplit_once("connection_id=").map(|(_, id)| id.to_owned());
        let authorization = authorization.ok_or_else(|| format!("the portal did not connect: {location:?}"))?;
        let widen = json!({"user_id": user, "authorization_id": authorization, "count": accounts});
        self.sim_control("/__sim/snaptrade/accounts", widen).await?;
        check("sync", &self.post(user, "/api/snaptrade/connections/sync", json!({})).await?, 200)?;
        Ok(authorization)
    }

    /// Links `institution_id` through Plaid's hosted link for `user`, exchanges it, and widens the
    /// Item to `accounts` accounts; returns the Item id. (The cache holds the seeded accounts until
    /// the next refresh.)
    pub async fn link_plaid(
        &self,
        user: &str,
        institution: &str,
        institution_id: &str,
        accounts: usize,
    ) -> Result<String, String> {
        let reply = self
            .post(
                user,
                "/api/plaid/link",
                json!({"institution": institution, "redirect": format!("{}/linked", self.base)}),
            )
            .await?;
        check("plaid link", &reply, 200)?;
        let url = reply.body["hosted_link_url"].as_str().unwrap_or_default().to_owned();
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = no_redirects
            .post(&url)
            .form(&[("institution_id", institution_id)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let location = reqwest::Url::parse(location).map_err(|e| format!("hosted link did not redirect: {e}"))?;
        let public_token = location.query_pairs().find(|(k, _)| k == "public_token").map(|(_, v)| v.into_owned());
        let body = json!({"public_token": public_token, "institution": institution});
        let exchanged = self.post(user, "/api/plaid/exchange", body).await?;
        check("plaid exchange", &exchanged, 201)?;
        let item = exchanged.body["item"]["external_id"].as_str().unwrap_or_default().to_owned();
        self.sim_control("/__sim/plaid/accounts", json!({"item_id": item, "count": accounts})).await?;
        Ok(item)
    }

    /// Connects Schwab directly for `user` as Schwab customer `customer` holding `accounts`
    /// accounts (one position and a cash balance each): the authorize flow, Allow on the
    /// simulator's consent page, and the callback.
    pub async fn connect_schwab(&self, user: &str, customer: &str, accounts: usize) -> Result<(), String> {
        let books: Vec<Value> = (0..accounts)
            .map(|i| {
                json!({"securitiesAccount": {"type": "CASH", "accountNumber": format!("{}", 70_000_000 + i),
                    "positions": [{"longQuantity": 3.0, "shortQuantity": 0.0, "averagePrice": 101.5, "marketValue": 310.5,
                        "instrument": {"assetType": "EQUITY", "symbol": "SYNT"}}],
                    "currentBalances": {"cashBalance": 250.25}}})
            })
            .collect();
        self.sim_control("/__sim/schwab/accounts", json!({"customer": customer, "accounts": books})).await?;
        let reply = self
            .post(user, "/api/schwab/authorize", json!({"redirect": format!("{}/?flow=return", self.base)}))
            .await?;
        check("schwab authorize", &reply, 200)?;
        let url =
            reqwest::Url::parse(reply.body["authorize_url"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        let field = |k: &str| query.get(k).cloned().unwrap_or_default();
        let form = [
            ("client_id", field("client_id")),
            ("redirect_uri", field("redirect_uri")),
            ("state", field("state")),
            ("customer", customer.to_owned()),
            ("decision", "allow".to_owned()),
        ];
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let consent = format!("{}/v1/oauth/authorize/decision", self.sim);
        let response = no_redirects.post(consent).form(&form).send().await.map_err(|e| e.to_string())?;
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let back = reqwest::Url::parse(location).map_err(|e| format!("the consent page did not redirect: {e}"))?;
        let back: std::collections::HashMap<String, String> = back.query_pairs().into_owned().collect();
        let body = json!({"code": back.get("code"), "state": back.get("state")});
        check("schwab callback", &self.post(user, "/api/schwab/callback", body).await?, 201)?;
        Ok(())
    }

    /// Has the simulator sign and send `ACCOUNT_HOLDINGS_UPDATED` for `user`, timestamped by the
    /// worker's clock; returns the worker's answer body.
    pub async fn snaptrade_holdings_webhook(&self, user: &str) -> Result<Value, String> {
        let spec = json!({"url": format!("{}/webhooks/snaptrade", self.base), "event_type": "ACCOUNT_HOLDINGS_UPDATED",
                          "user_id": user, "event_timestamp": self.worker_now()});
        let answer = self.sim_control("/__sim/snaptrade/webhook", spec).await?;
        webhook_answer(&answer)
    }

    /// Has the simulator sign and send Plaid `HOLDINGS: DEFAULT_UPDATE` for `item`, issued at the
    /// worker's clock; returns the worker's answer body.
    pub async fn plaid_holdings_webhook(&self, item: &str) -> Result<Value, String> {
        let n = self.plaid_deliveries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let spec = json!({"url": format!("{}/webhooks/plaid", self.base), "item_id": item, "webhook_type": "HOLDINGS",
                          "webhook_code": "DEFAULT_UPDATE", "iat": self.worker_now(), "new_holdings": n});
        let answer = self.sim_control("/__sim/plaid/webhook", spec).await?;
        webhook_answer(&answer)
    }

    /// Moves the worker's development clock forward by `seconds`.
    pub async fn advance_clock(&mut self, seconds: i64) -> Result<(), String> {
        let reply = self
            .send(self.http.post(format!("{}/api/dev/clock", self.base)).json(&json!({"advance_s": seconds})))
            .await?;
        check("dev clock", &reply, 200)?;
        self.offset_s = reply.body["offset_s"].as_i64().ok_or("dev clock: no offset_s")?;
        Ok(())
    }
}

/// The receiver's JSON answer inside a simulator webhook answer; an error unless it was a 200.
fn webhook_answer(answer: &Value) -> Result<Value, String> {
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    match answer["status"].as_u64() {
        Some(200) => Ok(body),
        _ => Err(format!("the worker refused a genuine webhook: {answer}")),
    }
}
