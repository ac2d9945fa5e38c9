//! Outbound webhooks: where the simulator may send them, how it delivers them, and what it sent,
//! so that a delivery can be replayed byte for byte. Each provider's payloads and signing live in
//! its submodule ([`snaptrade`]); this module knows no provider's format.
//!
//! Promises: the simulator only ever posts to `http://` URLs on a loopback host (`127.0.0.0/8`,
//! `[::1]`, `localhost`); it follows no redirect and uses no proxy, so a test receiver cannot
//! bounce a webhook elsewhere. It does not retry: a non-2xx answer is reported, not repeated.

pub mod snaptrade;

use crate::control::{bad, parse};
use crate::faults::Provider;
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a delivery may take before it is reported as failed.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One delivery exactly as it went out: target, headers in sending order, body bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentWebhook {
    /// The loopback URL it was posted to.
    pub url: String,
    /// Header names (lowercase) and values, in sending order.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
}

/// What the receiver answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The receiver's HTTP status.
    pub status: u16,
    /// The receiver's response body, as text.
    pub body: String,
}

/// Default target URLs per provider and every webhook sent, by provider and webhook id.
#[derive(Debug, Default)]
pub struct Webhooks {
    default_urls: BTreeMap<Provider, String>,
    sent: BTreeMap<(Provider, String), SentWebhook>,
}

impl Webhooks {
    /// The default target for `provider`, if one was stored.
    pub fn default_url(&self, provider: Provider) -> Option<&str> {
        self.default_urls.get(&provider).map(String::as_str)
    }

    /// Stores (or with `None` forgets) the default target for `provider`; the URL must be checked.
    pub fn set_default_url(&mut self, provider: Provider, url: Option<String>) {
        match url {
            Some(url) => self.default_urls.insert(provider, url),
            None => self.default_urls.remove(&provider),
        };
    }

    /// Remembers the latest delivery of webhook `id` (a reused id replaces the earlier one).
    pub fn remember(&mut self, provider: Provider, id: &str, sent: SentWebhook) {
        self.sent.insert((provider, id.to_owned()), sent);
    }

    /// The latest delivery of webhook `id`, for a byte-exact replay.
    pub fn sent(&self, provider: Provider, id: &str) -> Option<&SentWebhook> {
        self.sent.get(&(provider, id.to_owned()))
    }
}

impl Sim {
    /// The default webhook target stored for `provider` by `POST /__sim/webhook-url`, if any.
    pub fn webhook_url(&self, provider: Provider) -> Option<String> {
        lock(&self.webhooks).default_url(provider).map(str::to_owned)
    }
}

/// `url` if it is `http://` on a loopback host, otherwise why not.
pub fn check_loopback_url(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("url {url:?} is not a valid URL: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!("url {url:?} must use http:// (the simulator only posts to loopback receivers)"));
    }
    let host = parsed.host_str().unwrap_or_default();
    let loopback = match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if !loopback {
        return Err(format!("url {url:?} is not on a loopback host (127.0.0.1, [::1] or localhost)"));
    }
    Ok(url.to_owned())
}

/// The target of a webhook: `given` (checked) or the stored default for `provider`.
pub fn target_url(sim: &Sim, provider: Provider, given: Option<&str>) -> Result<String, String> {
    match given {
        Some(url) => check_loopback_url(url),
        None => sim.webhook_url(provider).ok_or_else(|| {
            format!("no url given and no default {} webhook url stored (POST /__sim/webhook-url)", provider.name())
        }),
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        // A fresh connection per delivery, as a provider's webhook sender makes: a pooled one the
        // receiver has meanwhile closed would fail the delivery before it was ever sent (seen:
        // "error sending request" under load, with nothing in the receiver's log).
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(DELIVERY_TIMEOUT)
            .build()
            .expect("a plain HTTP client builds")
    })
}

/// POSTs `sent` (re-checking that its URL is loopback) and reads the answer.
pub async fn deliver(sent: &SentWebhook) -> Result<Delivery, String> {
    let url = check_loopback_url(&sent.url)?;
    let mut request = client().post(url).body(sent.body.clone());
    for (name, value) in &sent.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.map_err(|e| format!("delivery to {} failed: {e}", sent.url))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| format!("reading the receiver's answer failed: {e}"))?;
    Ok(Delivery { status, body })
}

/// `{"webhook_id", "status", "body"}` for a delivery, or 502 `{"error", "webhook_id"}` when it failed.
pub fn answer(webhook_id: &str, delivery: Result<Delivery, String>) -> Response {
    match delivery {
        Ok(Delivery { status, body }) => {
            Json(json!({ "webhook_id": webhook_id, "status": status, "body": body })).into_response()
        }
        Err(error) => {
            (StatusCode::BAD_GATEWAY, Json(json!({ "error": error, "webhook_id": webhook_id }))).into_response()
        }
    }
}

/// `{"webhook_id"?, "headers": [[name, value], ...], "body": "<exact body text>"}`: a signed
/// delivery handed back to the caller instead of being sent (the `/sign` controls).
pub fn unsent(webhook_id: Option<&str>, sent: &SentWebhook) -> Response {
    let headers: Vec<[&str; 2]> = sent.headers.iter().map(|(n, v)| [n.as_str(), v.as_str()]).collect();
    let mut answer = json!({ "headers": headers, "body": String::from_utf8_lossy(&sent.body) });
    if let Some(id) = webhook_id {
        answer["webhook_id"] = json!(id);
    }
    Json(answer).into_response()
}

fn default_urls_json(webhooks: &Webhooks) -> Value {
    let url = |p| webhooks.default_url(p).map_or(Value::Null, |u| Value::String(u.to_owned()));
    json!({ "snaptrade": url(Provider::SnapTrade), "plaid": url(Provider::Plaid) })
}

/// `POST /__sim/webhook-url {"snaptrade"?: url|null, "plaid"?: url|null}`: sets (string) or clears
/// (null) default targets, leaving absent providers as they are; answers every default.
pub async fn set_default_urls(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fields: Map<String, Value> = match parse(&body) {
        Ok(fields) => fields,
        Err(message) => return bad(message),
    };
    let mut changes = Vec::new();
    for (key, value) in fields {
        let provider = match key.as_str() {
            "snaptrade" => Provider::SnapTrade,
            "plaid" => Provider::Plaid,
            other => return bad(format!("unknown provider {other:?}; expected \"snaptrade\" or \"plaid\"")),
        };
        let url = match value {
            Value::Null => None,
            Value::String(url) => match check_loopback_url(&url) {
                Ok(url) => Some(url),
                Err(message) => return bad(message),
            },
            other => return bad(format!("{key} must be a URL string or null, not {other}")),
        };
        changes.push((provider, url));
    }
    let mut webhooks = lock(&sim.webhooks);
    for (provider, url) in changes {
        webhooks.set_default_url(provider, url);
    }
    Json(default_urls_json(&webhooks)).into_response()
}

/// `GET /__sim/webhook-url` → `{"snaptrade": url|null, "plaid": url|null}`.
pub async fn default_urls(State(sim): State<Arc<Sim>>) -> Response {
    Json(default_urls_json(&lock(&sim.webhooks))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_loopback_urls_pass() {
        for ok in [
            "http://127.0.0.1:8787/webhooks/snaptrade",
            "http://localhost:1/x",
            "http://LOCALHOST/x",
            "http://127.1.2.3/",
            "http://[::1]:9/w",
        ] {
            assert_eq!(check_loopback_url(ok).as_deref(), Ok(ok), "{ok}");
        }
        for refused in [
            "https://127.0.0.1/x",
            "http://example.com/webhooks/snaptrade",
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://127.0.0.1.nip.io/",
            "http://0.0.0.0:80/",
            "ftp://127.0.0.1/",
            "not a url",
            "/webhooks/snaptrade",
        ] {
            assert!(check_loopback_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_reused_id_replaces_the_remembered_delivery_per_provider() {
        let mut webhooks = Webhooks::default();
        let sent = |body: &str| SentWebhook { url: "http://127.0.0.1/".into(), headers: vec![], body: body.into() };
        webhooks.remember(Provider::SnapTrade, "w1", sent("a"));
        webhooks.remember(Provider::SnapTrade, "w1", sent("b"));
        assert_eq!(webhooks.sent(Provider::SnapTrade, "w1").unwrap().body, b"b");
        assert!(webhooks.sent(Provider::Plaid, "w1").is_none());
        webhooks.set_default_url(Provider::Plaid, Some("http://127.0.0.1/p".into()));
        assert_eq!(webhooks.default_url(Provider::Plaid), Some("http://127.0.0.1/p"));
        webhooks.set_default_url(Provider::Plaid, None);
        assert_eq!(webhooks.default_url(Provider::Plaid), None);
    }
}
