//! What every end-to-end test shares: the servers' URLs, the session key, an HTTP client, and
//! helpers to call the API and read its JSON errors.

use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tributary_core::session::{issue_session_token, SessionKey};
use tributary_core::UserId;

pub type TestResult = Result<(), String>;
pub type TestFn = fn(Arc<Ctx>) -> Pin<Box<dyn Future<Output = TestResult> + Send>>;

/// Declares `(name, fn)` trial entries from async test functions.
#[macro_export]
macro_rules! trials {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), (|ctx| Box::pin($name(ctx))) as $crate::support::TestFn)),*]
    };
}

/// Where the servers of one run listen, and the development worker's state dir.
pub struct Servers {
    pub dev: String,
    pub prod: String,
    pub wrong_key: String,
    pub sim: String,
    pub sim_state: Arc<tributary_sim::Sim>,
    pub dev_state: std::path::PathBuf,
    pub reliability: String,
    pub reliability_state: std::path::PathBuf,
    pub cron: String,
    pub cron_state: std::path::PathBuf,
}

#[derive(Clone)]
pub struct Ctx {
    pub dev: String,
    pub prod: String,
    /// A development worker whose SnapTrade consumer key is wrong (the simulator rejects its signatures).
    pub wrong_key: String,
    pub sim: String,
    /// The simulator's own state (the provider's side of the wire), for assertions only.
    pub sim_state: Arc<tributary_sim::Sim>,
    /// The development worker's wrangler state, to read its D1 database directly.
    pub dev_state: std::path::PathBuf,
    /// The reliability suites' own development worker (no refresh cooldown), and its state dir.
    pub reliability: String,
    pub reliability_state: std::path::PathBuf,
    /// The cron suites' own development worker and its state dir: a cron run reads every due or
    /// stale user of its worker, so it runs where no other suite's users live (see [`Ctx::on_cron_worker`]).
    pub cron: String,
    pub cron_state: std::path::PathBuf,
    /// Held by a cron suite for its whole run: one suite's cron runs never read another's users.
    pub cron_turn: Arc<tokio::sync::Mutex<()>>,
    session_key: SessionKey,
    pub session_key_raw: String,
    pub http: reqwest::Client,
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl Reply {
    /// The `error.code` of a JSON error body, or "" when there is none.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Ctx {
    pub fn new(servers: Servers, session_key: String) -> Self {
        Self {
            dev: servers.dev,
            prod: servers.prod,
            wrong_key: servers.wrong_key,
            sim: servers.sim,
            sim_state: servers.sim_state,
            dev_state: servers.dev_state,
            reliability: servers.reliability,
            reliability_state: servers.reliability_state,
            cron: servers.cron,
            cron_state: servers.cron_state,
            cron_turn: Arc::new(tokio::sync::Mutex::new(())),
            session_key: SessionKey::new(&session_key).expect("random key is long enough"),
            session_key_raw: session_key,
            // Idle connections are dropped well before wrangler dev's server closes them (Node's
            // 5 s keep-alive), so a request never goes out on a connection being closed.
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
        }
    }

    /// This context with the cron worker as its development worker (`dev`, `dev_state`), so the
    /// shared helpers call it; the caller holds [`Ctx::cron_turn`] while it runs cron triggers.
    pub fn on_cron_worker(&self) -> Arc<Ctx> {
        Arc::new(self.with_worker(&self.cron, &self.cron_state))
    }

    /// This context with `base` (whose wrangler state is `state`) as its development worker, so
    /// every shared helper (connecting, linking, `d1`) works against it unchanged.
    pub fn with_worker(&self, base: &str, state: &std::path::Path) -> Ctx {
        let mut other = self.clone();
        other.dev = base.to_owned();
        other.dev_state = state.to_owned();
        other
    }

    /// Runs the cron worker's cron trigger once (`wrangler dev --test-scheduled` answers after the
    /// scheduled handler has finished).
    pub async fn run_cron(&self) {
        let url = format!("{}/__scheduled?cron=*/15+*+*+*+*", self.cron);
        let answer = self.http.get(url).send().await.expect("the worker answers");
        assert_eq!(answer.status().as_u16(), 200, "the scheduled event ran");
    }

    /// A unique user id for one test, so tests never see each other's data.
    pub fn user(&self, label: &str) -> String {
        format!("{label}-{}", tributary_e2e::secrets::random_hex(4))
    }

    /// A valid session token for `user`, signed with the development worker's key. It lives an
    /// hour: longer than any suite, however slow the machine (users' own clocks never expire it).
    pub fn token(&self, user: &str) -> String {
        issue_session_token(&UserId::parse(user).unwrap(), &self.session_key, now(), 3600)
    }

    /// Moves only `user`'s clock on the worker at `base` forward by `seconds` (`POST /api/dev/clock`
    /// with `user_id`): their cooldowns end, their caches age, while every other test's time stands.
    pub async fn advance_user_clock(&self, base: &str, user: &str, seconds: u64) {
        let body = serde_json::json!({"advance_s": seconds, "user_id": user});
        let reply = self.send(self.http.post(format!("{base}/api/dev/clock")).json(&body)).await;
        assert_eq!((reply.status, &reply.body["user_id"]), (200, &serde_json::json!(user)), "{:?}", reply.body);
    }

    /// Sends a request and reads the reply as JSON (a non-JSON body becomes `Value::Null`).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let what = format!("{}", response.url());
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = response.text().await.unwrap_or_default();
        tributary_e2e::refuse_proxy_fault(&what, status, &text);
        Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), content_type }
    }

    /// The SnapTrade user secret the simulator issued to `user`, if it registered them.
    pub fn sim_user_secret(&self, user: &str) -> Option<String> {
        tributary_sim::lock(&self.sim_state.snaptrade).users.get(user).map(|u| u.secret.clone())
    }

    /// The simulator's call and billing counts (`GET /__sim/calls`).
    pub async fn sim_calls(&self) -> Value {
        self.http.get(format!("{}/__sim/calls", self.sim)).send().await.unwrap().json().await.unwrap()
    }

    /// POSTs a control request to the simulator (`/__sim/...`) and returns its JSON answer.
    pub async fn sim_control(&self, path: &str, body: &Value) -> Value {
        self.http.post(format!("{}{path}", self.sim)).json(body).send().await.unwrap().json().await.unwrap()
    }

    /// Has the simulator send a webhook (`path` under `/__sim/`); returns the receiver's status,
    /// its JSON body, and the simulator's whole answer (e.g. the `webhook_id` it used).
    pub async fn sim_webhook(&self, path: &str, spec: &Value) -> (u16, Value, Value) {
        let answer = self.sim_control(path, spec).await;
        let status = answer["status"].as_u64().unwrap_or_else(|| panic!("the simulator sent it: {answer}")) as u16;
        let body = serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        (status, body, answer)
    }

    /// Rows of a read-only SQL query against the development worker's D1 database.
    pub fn d1(&self, sql: &str, params: &[&str]) -> Vec<Value> {
        tributary_e2e::d1::query(&self.dev_state, sql, params).unwrap_or_else(|e| panic!("D1 query failed: {e}"))
    }

    /// POSTs `body` as JSON to `base` + `path` with the session `token`.
    pub async fn post(&self, base: &str, path: &str, token: &str, body: Value) -> Reply {
        self.send(self.http.post(format!("{base}{path}")).bearer_auth(token).json(&body)).await
    }

    pub async fn get(&self, base: &str, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.http.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The `transactions` flags of `GET /api/pending-updates` when no provider announced new activity.
pub fn no_transactions_pending() -> Value {
    serde_json::json!({"plaid": false, "snaptrade": false, "schwab": false, "ibkr_flex": false})
}
