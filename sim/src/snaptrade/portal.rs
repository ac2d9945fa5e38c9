//! The connection portal a `POST /snapTrade/login` link opens: a plain HTML form where a person
//! picks a brokerage (forced when the login named one) and presses "Connect". Submitting it creates
//! (or reconnects) the connection, then answers 302 to
//! `customRedirect?status=SUCCESS&connection_id=<authorization id>` — or shows a confirmation page
//! when no customRedirect was given. Tests drive it with a GET and a form POST.

use super::seed::{Brokerage, BROKERAGES};
use super::state::{ConnectionType, PortalError, PortalSession};
use crate::util::{escape_html, now_unix};
use crate::{lock, Sim};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Where the portal lives (the path of every `redirectURI`).
pub const PATH: &str = "/snapTrade/redeemToken";

fn page_html(title: &str, body: &str) -> String {
    crate::util::page_html("SnapTrade", title, body)
}

fn error_page(error: &PortalError) -> Response {
    let (status, message) = match error {
        PortalError::UnknownSession => (StatusCode::NOT_FOUND, "This connection link is not valid.".to_owned()),
        PortalError::Expired => {
            (StatusCode::GONE, "This connection link has expired. Links last 5 minutes.".to_owned())
        }
        PortalError::AlreadyUsed => (StatusCode::GONE, "This connection link has already been used.".to_owned()),
        PortalError::UnknownBrokerage(slug) => (StatusCode::BAD_REQUEST, format!("Unknown brokerage {slug:?}.")),
        PortalError::TradingNotSupported(name) => {
            (StatusCode::BAD_REQUEST, format!("{name} does not support trading connections."))
        }
    };
    let body = format!("<p role=\"alert\">{}</p>", escape_html(&message));
    (status, Html(page_html("Cannot connect", &body))).into_response()
}

fn brokerage_row(b: &Brokerage, session: &PortalSession) -> String {
    let forced = session.broker.is_some();
    let blocked = session.connection_type == ConnectionType::Trade && !b.allows_trading;
    let access = if session.connection_type.grants_trade(b) {
        "read and trade"
    } else if blocked {
        "does not support trading"
    } else {
        "read only"
    };
    format!(
        "<div class=\"row\"><input type=\"radio\" id=\"broker-{slug}\" name=\"broker\" value=\"{slug}\" required{checked}{disabled}>\
         <label for=\"broker-{slug}\">{name}</label> <span class=\"note\">({access})</span></div>",
        slug = escape_html(b.slug),
        name = escape_html(b.name),
        checked = if forced { " checked" } else { "" },
        disabled = if blocked { " disabled" } else { "" },
    )
}

/// `GET /snapTrade/redeemToken?token=…&sessionId=…`: the brokerage picker.
pub async fn page(State(sim): State<Arc<Sim>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let (id, token) =
        (query.get("sessionId").map_or("", String::as_str), query.get("token").map_or("", String::as_str));
    let state = lock(&sim.snaptrade);
    let session = match state.session(id, token, Instant::now()) {
        Ok(session) => session,
        Err(e) => return error_page(&e),
    };
    let rows: String = match session.broker {
        Some(b) => brokerage_row(b, session),
        None => BROKERAGES.iter().map(|b| brokerage_row(b, session)).collect(),
    };
    let purpose = match (&session.reconnect, session.connection_type) {
        (Some(_), _) => "Reconnect your brokerage to restore access.",
        (None, ConnectionType::Read) => "Share read-only access to your accounts.",
        (None, _) => "Share access to your accounts, with trading where the brokerage allows it.",
    };
    let body = format!(
        "<p>{purpose}</p><form method=\"post\" action=\"{PATH}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{id}\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <fieldset><legend>Brokerage</legend>{rows}</fieldset><button type=\"submit\">Connect</button></form>\
         <p class=\"note\">This is the Tributary provider simulator; no real credentials are asked for.</p>",
        id = escape_html(id),
        token = escape_html(token),
    );
    Html(page_html("Connect your brokerage", &body)).into_response()
}

/// `customRedirect` with `status=SUCCESS&connection_id=…` appended to its query (before any fragment).
pub fn success_redirect(custom_redirect: &str, authorization_id: &str) -> String {
    let (base, fragment) = match custom_redirect.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (custom_redirect, String::new()),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{separator}status=SUCCESS&connection_id={authorization_id}{fragment}")
}

/// `POST /snapTrade/redeemToken` (form `sessionId`, `token`, `broker`): connects, then redirects.
pub async fn connect(State(sim): State<Arc<Sim>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| form.get(k).map_or("", String::as_str);
    let result =
        lock(&sim.snaptrade).connect(field("sessionId"), field("token"), field("broker"), Instant::now(), now_unix());
    match result {
        Err(e) => error_page(&e),
        Ok(connected) => match connected.custom_redirect {
            Some(redirect) => {
                let location = success_redirect(&redirect, &connected.authorization_id);
                (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
            }
            None => {
                let body = format!(
                    "<p role=\"status\">Connected. Connection id: <code>{}</code>. You can close this window.</p>",
                    escape_html(&connected.authorization_id)
                );
                Html(page_html("Connected", &body)).into_response()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_result_to_any_redirect() {
        assert_eq!(success_redirect("http://a/b", "X"), "http://a/b?status=SUCCESS&connection_id=X");
        assert_eq!(success_redirect("http://a/b?x=1#f", "X"), "http://a/b?x=1&status=SUCCESS&connection_id=X#f");
        assert_eq!(success_redirect("http://a/b?", "X"), "http://a/b?status=SUCCESS&connection_id=X");
    }
}
