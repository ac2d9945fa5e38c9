//! Repairing a connection from the browser: which connection ids can be reconnected (SnapTrade's,
//! through its portal in reconnect mode) and the request that starts that flow. The popup and the
//! flow's return are handled as for a new connection ([`super::connect`]).

use super::connect::{return_url, ConnectOptions};
use crate::domain::Provider;
use crate::error::ErrorCode;
use serde::Serialize;

/// `POST`: the SnapTrade portal URL (here in reconnect mode).
pub const SNAPTRADE_PORTAL_PATH: &str = "/api/snaptrade/connection-url";

/// Why a reconnect cannot be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconnectError {
    #[error("{0:?} is not a connection id (expected the `id` of a listed connection, e.g. \"snaptrade:…\")")]
    NotAConnection(String),
    #[error("{0} connections cannot be repaired in place yet; remove the connection and link the institution again")]
    NotSupported(Provider),
}

impl ErrorCode for ReconnectError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotAConnection(_) => "invalid_input",
            Self::NotSupported(_) => "reconnect_not_supported",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

#[derive(Serialize)]
struct PortalRequest<'a> {
    reconnect: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_type: Option<&'static str>,
    redirect: &'a str,
}

/// The body of `POST /api/snaptrade/connection-url` that reopens the connection `connection_id`
/// (our id, `snaptrade:<authorization id>`, as the connection lists give it), returning to the
/// page's `origin` unless the options name a redirect; `needTrading` asks for a trade connection.
pub fn reconnect_request(
    connection_id: &str,
    options: &ConnectOptions,
    origin: &str,
) -> Result<String, ReconnectError> {
    let (provider, external_id) = connection_id
        .split_once(':')
        .and_then(|(provider, id)| Some((Provider::parse(provider).ok()?, id)))
        .filter(|(_, id)| !id.is_empty())
        .ok_or_else(|| ReconnectError::NotAConnection(connection_id.to_owned()))?;
    if provider != Provider::SnapTrade {
        return Err(ReconnectError::NotSupported(provider));
    }
    let redirect = options.redirect.clone().unwrap_or_else(|| return_url(origin));
    let connection_type = options.need_trading.map(|trade| if trade { "trade" } else { "read" });
    let body = PortalRequest { reconnect: external_id, connection_type, redirect: &redirect };
    Ok(serde_json::to_string(&body).expect("strings always serialise"))
}

/// The body of `POST /api/snaptrade/connections/sync` that finishes a SnapTrade flow: after a
/// reconnect it names the authorization (`{"reconnected": "<id>"}`) so the worker can clear its
/// repair flag once SnapTrade reports it enabled; after a new connection it is `{}`.
pub fn sync_request(reconnected_connection_id: Option<&str>) -> String {
    #[derive(Serialize)]
    struct SyncRequest<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        reconnected: Option<&'a str>,
    }
    let reconnected =
        reconnected_connection_id.and_then(|id| id.strip_prefix("snaptrade:")).filter(|id| !id.is_empty());
    serde_json::to_string(&SyncRequest { reconnected }).expect("strings always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn body(id: &str, options: &ConnectOptions) -> Result<Value, ReconnectError> {
        reconnect_request(id, options, "http://127.0.0.1:8787").map(|b| serde_json::from_str(&b).unwrap())
    }

    #[test]
    fn a_snaptrade_connection_reopens_the_portal_in_reconnect_mode() {
        let sent = body("snaptrade:auth-1:x", &ConnectOptions::default()).unwrap();
        assert_eq!(sent, json!({"reconnect": "auth-1:x", "redirect": "http://127.0.0.1:8787/?flow=return"}));
        let options = ConnectOptions { need_trading: Some(true), redirect: Some("https://app.example/back".into()) };
        let sent = body("snaptrade:auth-1", &options).unwrap();
        assert_eq!(
            (&sent["connection_type"], &sent["redirect"]),
            (&json!("trade"), &json!("https://app.example/back"))
        );
    }

    #[test]
    fn the_sync_after_a_reconnect_names_the_authorization_and_a_new_connection_names_none() {
        assert_eq!(sync_request(Some("snaptrade:auth-1:x")), r#"{"reconnected":"auth-1:x"}"#);
        assert_eq!(sync_request(None), "{}");
        assert_eq!(sync_request(Some("plaid:item-1")), "{}", "only SnapTrade authorizations are synced");
    }

    #[test]
    fn plaid_connections_and_unknown_ids_are_refused_with_stable_codes() {
        let plaid = body("plaid:item-1", &ConnectOptions::default()).unwrap_err();
        assert_eq!((plaid.code(), plaid), ("reconnect_not_supported", ReconnectError::NotSupported(Provider::Plaid)));
        for bad in ["auth-1", "snaptrade:", "ibkr:1", ""] {
            assert_eq!(body(bad, &ConnectOptions::default()).unwrap_err().code(), "invalid_input", "{bad:?}");
        }
    }
}
