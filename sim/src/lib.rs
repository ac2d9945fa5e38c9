//! `tributary-sim`: the other side of the wire. A local stand-in for the SnapTrade and Plaid APIs
//! that Tributary calls, written from the providers' documentation — never from `tributary-core` —
//! so that a bug on our side shows up as a failure instead of cancelling out.

use axum::{routing::get, Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The simulator's routes.
pub fn app() -> Router {
    Router::new().route("/health", get(health))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "tributary-sim", "version": env!("CARGO_PKG_VERSION") }))
}

/// A simulator serving on a loopback port until dropped or until `serve` returns.
pub struct Simulator {
    pub addr: SocketAddr,
    handle: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Binds `127.0.0.1:port` (0 picks a free port) and serves in the background of the current runtime.
    pub async fn start(port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app()).await {
                eprintln!("tributary-sim: server stopped: {e}");
            }
        });
        Ok(Self { addr, handle })
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
        let sim = Simulator::start(0).await.unwrap();
        assert!(sim.addr.ip().is_loopback());
        let body: Value = reqwest::get(format!("{}/health", sim.base_url())).await.unwrap().json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}
