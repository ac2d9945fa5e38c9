//! Repairing a connection from the browser: which connection ids can be reconnected (SnapTrade's,
//! through its portal in reconnect mode; Plaid's, through Link's update mode), the request that
//! starts that flow ([`reconnect_start`]) and how it is finished ([`reconnect_completion`]: a
//! SnapTrade sync, or for Plaid the repair check — never a token exchange). The popup is handled
//! as for a new connection ([`super::connect`]).

use super::connect::{completion, return_url, Completion, ConnectOptions, FlowEnd};
use crate::domain::Provider;
use crate::error::ErrorCode;
use serde::Serialize;

/// `POST`: the SnapTrade portal URL (here in reconnect mode).
pub const SNAPTRADE_PORTAL_PATH: &str = "/api/snaptrade/connection-url";
/// `POST`: a Plaid Hosted Link session (here in update mode, `{repair}`).
pub const PLAID_LINK_PATH: &str = "/api/plaid/link";

/// How to start repairing a connection: `POST path` with `body`, then open the answer's
/// `url_field` in the popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectStart {
    pub provider: Provider,
    pub path: &'static str,
    pub body: String,
    /// The field of the answer holding the provider's page.
    pub url_field: &'static str,
}

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
    let (provider, external_id) = split_connection_id(connection_id)?;
    if provider != Provider::SnapTrade {
        return Err(ReconnectError::NotSupported(provider));
    }
    let redirect = options.redirect.clone().unwrap_or_else(|| return_url(origin));
    let connection_type = options.need_trading.map(|trade| if trade { "trade" } else { "read" });
    let body = PortalRequest { reconnect: external_id, connection_type, redirect: &redirect };
    Ok(serde_json::to_string(&body).expect("strings always serialise"))
}

/// The connection id's provider and external id; `NotAConnection` unless it is `<provider>:<id>`.
fn split_connection_id(connection_id: &str) -> Result<(Provider, &str), ReconnectError> {
    connection_id
        .split_once(':')
        .and_then(|(provider, id)| Some((Provider::parse(provider).ok()?, id)))
        .filter(|(_, id)| !id.is_empty())
        .ok_or_else(|| ReconnectError::NotAConnection(connection_id.to_owned()))
}

/// Whether a Plaid Item id can stand in a URL path as it is (Plaid's ids are letters and digits).
fn plain_item_id(id: &str) -> bool {
    id.len() <= 200 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How to start repairing `connection_id`: SnapTrade's portal in reconnect mode, or a Plaid
/// Hosted Link in update mode (`{repair, redirect}`; `needTrading` does not apply to Plaid).
/// Other providers are `NotSupported` (Schwab is repaired by signing in again with `connect`).
pub fn reconnect_start(
    connection_id: &str,
    options: &ConnectOptions,
    origin: &str,
) -> Result<ReconnectStart, ReconnectError> {
    let (provider, external_id) = split_connection_id(connection_id)?;
    match provider {
        Provider::SnapTrade => Ok(ReconnectStart {
            provider,
            path: SNAPTRADE_PORTAL_PATH,
            body: reconnect_request(connection_id, options, origin)?,
            url_field: "redirect_url",
        }),
        Provider::Plaid if plain_item_id(external_id) => {
            #[derive(Serialize)]
            struct RepairLink<'a> {
                repair: &'a str,
                redirect: &'a str,
            }
            let redirect = options.redirect.clone().unwrap_or_else(|| return_url(origin));
            let body = RepairLink { repair: external_id, redirect: &redirect };
            let body = serde_json::to_string(&body).expect("strings always serialise");
            Ok(ReconnectStart { provider, path: PLAID_LINK_PATH, body, url_field: "hosted_link_url" })
        }
        Provider::Plaid => Err(ReconnectError::NotAConnection(connection_id.to_owned())),
        other => Err(ReconnectError::NotSupported(other)),
    }
}

/// How to finish the repair of `connection_id` after its popup ended as `end`: a Plaid popup that
/// came back asks the worker to check the Item (`POST /api/plaid/items/{id}/repair`: no exchange);
/// SnapTrade's is finished as a new connection would be; a closed popup is cancelled.
pub fn reconnect_completion(provider: Provider, connection_id: &str, end: &FlowEnd) -> Completion {
    match (provider, end, split_connection_id(connection_id)) {
        (Provider::Plaid, FlowEnd::Returned(_), Ok((Provider::Plaid, item_id))) if plain_item_id(item_id) => {
            Completion::PlaidRepair { path: format!("/api/plaid/items/{item_id}/repair") }
        }
        _ => completion(provider, connection_id, end),
    }
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
    use crate::client::ReturnParams;
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
    fn a_plaid_item_is_repaired_in_update_mode_and_finished_without_an_exchange() {
        let start = reconnect_start("plaid:Item9x", &ConnectOptions::default(), "http://127.0.0.1:8787").unwrap();
        assert_eq!(
            (start.provider, start.path, start.url_field),
            (Provider::Plaid, PLAID_LINK_PATH, "hosted_link_url")
        );
        let sent: Value = serde_json::from_str(&start.body).unwrap();
        assert_eq!(sent, json!({"repair": "Item9x", "redirect": "http://127.0.0.1:8787/?flow=return"}));
        let back = FlowEnd::Returned(ReturnParams { flow: Some("return".into()), ..ReturnParams::default() });
        assert_eq!(
            reconnect_completion(Provider::Plaid, "plaid:Item9x", &back),
            Completion::PlaidRepair { path: "/api/plaid/items/Item9x/repair".into() }
        );
        let closed = reconnect_completion(Provider::Plaid, "plaid:Item9x", &FlowEnd::PopupClosed);
        assert_eq!(closed, Completion::Cancelled { reason: "popup_closed".into() });
        let with_token =
            FlowEnd::Returned(ReturnParams { public_token: Some("public-x".into()), ..ReturnParams::default() });
        assert!(matches!(
            reconnect_completion(Provider::Plaid, "plaid:Item9x", &with_token),
            Completion::PlaidRepair { .. }
        ));
        let odd = reconnect_start("plaid:a/b", &ConnectOptions::default(), "http://127.0.0.1:8787").unwrap_err();
        assert_eq!(odd.code(), "invalid_input");
        let schwab = reconnect_start("schwab:acct", &ConnectOptions::default(), "http://127.0.0.1:8787").unwrap_err();
        assert_eq!(schwab.code(), "reconnect_not_supported");
        let snaptrade = reconnect_start("snaptrade:auth-1", &ConnectOptions::default(), "http://x.test").unwrap();
        assert_eq!((snaptrade.path, snaptrade.url_field), (SNAPTRADE_PORTAL_PATH, "redirect_url"));
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
