//! `tributary-sim`: the other side of the wire. A local stand-in for the SnapTrade, Plaid, Schwab
//! Trader and IBKR Flex Web Service APIs that Tributary calls, written from the providers'
//! documentation — never from `tributary-core` — so that a bug on our side shows up as a failure
//! instead of cancelling out.
//!
//! Routes: `GET /health`; the SnapTrade API and its connection portal (see [`snaptrade`]); the Plaid
//! API and hosted Link (see [`plaid`]); Schwab's OAuth (`/v1/oauth/authorize`,
//! `/v1/oauth/authorize/decision`, `/v1/oauth/token`) and Trader API (`/trader/v1/accounts/accountNumbers`,
//! `/trader/v1/accounts`, `/trader/v1/accounts/{accountHash}`, `/trader/v1/accounts/{accountHash}/transactions`,
//! `/trader/v1/accounts/{accountHash}/previewOrder`, `/trader/v1/accounts/{accountHash}/orders[/{orderId}]`;
//! other `/trader/v1` paths answer Schwab's 404) (see [`schwab`]); IBKR's Flex Web Service (`/AccountManagement/FlexWebService/SendRequest`,
//! `/AccountManagement/FlexWebService/GetStatement`; other `/AccountManagement/` paths answer an HTML 404)
//! (see [`ibkr`]); and the loopback test controls under `/__sim/` (see [`control`], [`accounts_control`],
//! [`ledger::control`] (investment transactions), [`snaptrade::trading::control`] (SnapTrade trading),
//! [`schwab::control`], [`schwab::orders::control`] (Schwab orders) and [`ibkr::control`]). Any other
//! path answers SnapTrade's 404.

pub mod accounts_control;
pub mod calls;
pub mod control;
pub mod faults;
pub mod ibkr;
pub mod ledger;
pub mod plaid;
pub mod schwab;
pub mod snaptrade;
pub mod util;
pub mod webhooks;

use axum::http::Uri;
use axum::response::Response;
use axum::{routing::get, Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;

/// The SnapTrade API credentials the simulator accepts (client id + consumer key).
#[derive(Clone, PartialEq, Eq)]
pub struct SnapTradeCredentials {
    pub client_id: String,
    pub consumer_key: String,
}

/// The Plaid API credentials the simulator accepts (client id + secret).
#[derive(Clone, PartialEq, Eq)]
pub struct PlaidCredentials {
    pub client_id: String,
    pub secret: String,
}

/// The Schwab app the simulator accepts: app key (client id), secret and the registered callback
/// URLs (matched exactly, trailing slash included; `http://127.0.0.1…` is accepted too).
#[derive(Clone, PartialEq, Eq)]
pub struct SchwabCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

impl std::fmt::Debug for SchwabCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchwabCredentials")
            .field("client_id", &self.client_id)
            .field("redirect_uris", &self.redirect_uris)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SnapTradeCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapTradeCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PlaidCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaidCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// Which app credentials the simulator accepts; a provider without credentials rejects every call.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    pub snaptrade: Option<SnapTradeCredentials>,
    pub plaid: Option<PlaidCredentials>,
    pub schwab: Option<SchwabCredentials>,
}

/// Everything the simulator remembers, shared by every route.
pub struct Sim {
    pub config: SimConfig,
    /// `http://127.0.0.1:<port>`, used to build connection-portal links.
    pub base_url: String,
    pub snaptrade: Mutex<snaptrade::state::SnapState>,
    /// Plaid Items, tokens and webhook signing keys.
    pub plaid: plaid::PlaidSim,
    pub faults: Mutex<faults::Faults>,
    pub calls: Mutex<calls::Calls>,
    pub rate: Mutex<snaptrade::ratelimit::RateLimiter>,
    /// Extra latency added to every provider API request (`POST /__sim/latency`).
    pub latency_ms: AtomicU64,
    /// Default webhook targets and every webhook sent, for replays (see [`webhooks`]).
    pub webhooks: Mutex<webhooks::Webhooks>,
    /// Schwab codes, tokens, logins, account data and the per-app rate limit.
    pub schwab: schwab::SchwabSim,
    /// IBKR Flex users, tokens, queries, reference codes, the report date and the per-token throttle.
    pub ibkr: ibkr::IbkrSim,
}

impl Sim {
    /// A fresh simulator state for `config`, answering at `base_url`.
    pub fn new(config: SimConfig, base_url: String) -> Self {
        Self {
            config,
            base_url,
            snaptrade: Mutex::default(),
            plaid: plaid::PlaidSim::new(),
            faults: Mutex::default(),
            calls: Mutex::default(),
            rate: Mutex::default(),
            latency_ms: AtomicU64::new(0),
            webhooks: Mutex::default(),
            schwab: schwab::SchwabSim::new(),
            ibkr: ibkr::IbkrSim::new(),
        }
    }
}

/// Locks `mutex`, recovering the data if a panicking holder poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The simulator's routes over `sim`.
pub fn app(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/health", get(health))
        .merge(snaptrade::router(sim.clone()))
        .merge(plaid::router(sim.clone()))
        .merge(control::router())
        .merge(accounts_control::router())
        .merge(snaptrade::trading::control::router())
        .merge(ledger::control::router())
        .merge(schwab::router(sim.clone()))
        .merge(ibkr::router())
        .fallback(not_found)
        .with_state(sim)
}

/// Unknown paths: Schwab's 404 under `/trader/v1`, an HTML 404 under `/AccountManagement/`, SnapTrade's
/// everywhere else.
async fn not_found(uri: Uri) -> Response {
    if schwab::is_trader_path(uri.path()) {
        schwab::not_found()
    } else if ibkr::is_flex_path(uri.path()) {
        ibkr::not_found()
    } else {
        snaptrade::not_found().await
    }
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "tributary-sim", "version": env!("CARGO_PKG_VERSION") }))
}

/// A simulator serving on a loopback port until dropped or until `serve` returns.
pub struct Simulator {
    pub addr: SocketAddr,
    /// The shared state, for tests that want to look inside.
    pub sim: Arc<Sim>,
    handle: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Binds `127.0.0.1:port` (0 picks a free port) and serves `config` in the background of the current runtime.
    pub async fn start(port: u16, config: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let sim = Arc::new(Sim::new(config, format!("http://{addr}")));
        let router = app(sim.clone());
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                eprintln!("tributary-sim: server stopped: {e}");
            }
        });
        Ok(Self { addr, sim, handle })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn health_answers_on_a_free_loopback_port() {
        let sim = Simulator::start(0, SimConfig::default()).await.unwrap();
        assert!(sim.addr.ip().is_loopback());
        let body: Value = reqwest::get(format!("{}/health", sim.base_url())).await.unwrap().json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }

    #[test]
    fn credentials_never_show_their_secret_in_debug_output() {
        let config = SimConfig {
            snaptrade: Some(SnapTradeCredentials { client_id: "CID".into(), consumer_key: "very-secret-key".into() }),
            plaid: Some(PlaidCredentials { client_id: "PID".into(), secret: "plaid-secret".into() }),
            schwab: Some(SchwabCredentials {
                client_id: "SCHWAB-KEY".into(),
                client_secret: "schwab-secret".into(),
                redirect_uris: vec!["https://127.0.0.1:8182".into()],
            }),
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("CID") && !shown.contains("very-secret-key") && !shown.contains("plaid-secret"));
        assert!(shown.contains("SCHWAB-KEY") && shown.contains("127.0.0.1:8182") && !shown.contains("schwab-secret"));
    }
}
