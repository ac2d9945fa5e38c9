//! Schwab's OAuth2 authorization-code flow: the consent page (`GET /v1/oauth/authorize`), its form
//! (`POST /v1/oauth/authorize/decision`, which stands in for login + consent and redirects with the
//! code) and the token endpoint (`POST /v1/oauth/token`, HTTP Basic client authentication).
//!
//! Promises: redirect URIs must equal a registered one byte for byte (trailing slash included);
//! codes look like `C0.<b64url>.<b64url>@` and travel URL-encoded (`…%40`) in the redirect; a code
//! works once, within 30 s, for the redirect URI it was issued for; each exchange is a new login
//! whose refresh token works for 7 days and retires the customer's older refresh tokens; a refresh
//! returns a new access token and the same refresh token.

use super::state::{id_token, CodeError, Tokens};
use super::{
    access_denied, apply_faults, oauth_error, page_html, rate_hit, refresh_token_error, too_many_requests, Faulted,
    Flavor, FAULT_TOKEN, OP_TOKEN_CODE, OP_TOKEN_REFRESH,
};
use crate::faults::Provider;
use crate::util::{escape_html, now_unix, random_uuid};
use crate::{lock, SchwabCredentials, Sim};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The consent page.
pub const AUTHORIZE_PATH: &str = "/v1/oauth/authorize";
/// Where the consent form posts.
pub const DECISION_PATH: &str = "/v1/oauth/authorize/decision";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/v1/oauth/token";
/// The customer the consent form proposes.
pub const DEFAULT_CUSTOMER: &str = "schwab-customer";

/// Whether `customer` is 1–64 characters of `[A-Za-z0-9._-]`.
pub fn valid_customer(customer: &str) -> bool {
    (1..=64).contains(&customer.len())
        && customer.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `text` percent-encoded for a query value (everything but `A-Z a-z 0-9 - . _ ~`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base` with `params` (values percent-encoded) appended to its query, before any fragment.
pub fn append_query(base: &str, params: &[(&str, &str)]) -> String {
    let (base, fragment) = match base.find('#') {
        Some(i) => base.split_at(i),
        None => (base, ""),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
    format!("{base}{separator}{}{fragment}", query.join("&"))
}

/// The app credentials if `client_id` is the configured app and `redirect_uri` is registered exactly.
fn registered<'a>(sim: &'a Sim, client_id: &str, redirect_uri: &str) -> Result<&'a SchwabCredentials, &'static str> {
    let credentials = sim.config.schwab.as_ref().filter(|c| c.client_id == client_id);
    let credentials = credentials.ok_or("The client_id is not a registered application.")?;
    if !credentials.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return Err("The redirect_uri does not match a registered callback URL.");
    }
    Ok(credentials)
}

/// `GET /v1/oauth/authorize`: the consent page for a registered client and callback, else 400 Access Denied.
pub async fn authorize(
    State(sim): State<Arc<Sim>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let field = |k: &str| query.get(k).map_or("", String::as_str);
    let (client_id, redirect_uri, state) = (field("client_id"), field("redirect_uri"), field("state"));
    if let Err(reason) = registered(&sim, client_id, redirect_uri) {
        return access_denied(reason);
    }
    if !matches!(query.get("response_type").map(String::as_str), None | Some("code")) {
        return access_denied("Only response_type=code is supported.");
    }
    let hidden =
        |name: &str, value: &str| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape_html(value));
    let state_field = if state.is_empty() { String::new() } else { hidden("state", state) };
    let body = format!(
        "<p>The application <code>{app}</code> asks to view your Schwab accounts.</p>\
         <form method=\"post\" action=\"{DECISION_PATH}\">{client}{redirect}{state_field}\
         <div class=\"row\"><label for=\"customer\">Log in as (simulated Schwab customer)</label> \
         <input type=\"text\" id=\"customer\" name=\"customer\" value=\"{DEFAULT_CUSTOMER}\" required \
         maxlength=\"64\" pattern=\"[A-Za-z0-9._\\-]{{1,64}}\"></div>\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        app = escape_html(client_id),
        client = hidden("client_id", client_id),
        redirect = hidden("redirect_uri", redirect_uri),
    );
    Html(page_html("Allow access to your accounts", &body)).into_response()
}

fn bad_page(reason: &str) -> Response {
    let body = format!("<p role=\"alert\">{}</p>", escape_html(reason));
    (StatusCode::BAD_REQUEST, Html(page_html("Cannot continue", &body))).into_response()
}

/// `POST /v1/oauth/authorize/decision`: 302 to the callback with a code (allow) or `error=access_denied` (deny).
pub async fn decision(
    State(sim): State<Arc<Sim>>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return access_denied("The consent form could not be read.");
    };
    let field = |k: &str| form.get(k).map_or("", String::as_str);
    let (client_id, redirect_uri, state) = (field("client_id"), field("redirect_uri"), field("state"));
    if let Err(reason) = registered(&sim, client_id, redirect_uri) {
        return access_denied(reason);
    }
    let state_param = (!state.is_empty()).then_some(("state", state));
    let location = match field("decision") {
        "allow" => {
            let customer = field("customer");
            if !valid_customer(customer) {
                return bad_page("The customer must be 1 to 64 characters of letters, digits, '.', '_' or '-'.");
            }
            let code = lock(&sim.schwab.state).issue_code(client_id, redirect_uri, customer);
            let session = random_uuid();
            let mut params = vec![("code", code.as_str()), ("session", session.as_str())];
            params.extend(state_param);
            append_query(redirect_uri, &params)
        }
        "deny" => {
            let mut params = vec![("error", "access_denied")];
            params.extend(state_param);
            append_query(redirect_uri, &params)
        }
        _ => return bad_page("Choose Allow or Deny."),
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// The client id of a correct `Authorization: Basic base64(client_id:client_secret)` header.
fn basic_client(sim: &Sim, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (client_id, secret) = decoded.split_once(':')?;
    let credentials = sim.config.schwab.as_ref()?;
    let id_ok = credentials.client_id.as_bytes().ct_eq(client_id.as_bytes());
    let secret_ok = credentials.client_secret.as_bytes().ct_eq(secret.as_bytes());
    bool::from(id_ok & secret_ok).then(|| client_id.to_owned())
}

fn token_json(client_id: &str, tokens: &Tokens) -> Response {
    Json(json!({
        "expires_in": super::state::ACCESS_TOKEN_TTL_SECS,
        "token_type": "Bearer",
        "scope": "api",
        "refresh_token": tokens.refresh_token,
        "access_token": tokens.access_token,
        "id_token": id_token(client_id, &tokens.customer, now_unix()),
    }))
    .into_response()
}

/// `POST /v1/oauth/token`: call accounting, global latency, Basic client authentication (401
/// `invalid_client`), the per-app rate limit (429), injected faults, then the grant.
pub async fn token(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.ok().map(|Form(f)| f);
    let field = |k: &str| form.as_ref().and_then(|f| f.get(k)).map(String::as_str);
    let grant = field("grant_type");
    let (operation, customer) = {
        let state = lock(&sim.schwab.state);
        match grant {
            Some("authorization_code") => {
                (Some(OP_TOKEN_CODE), field("code").and_then(|c| state.code_customer(c)).map(str::to_owned))
            }
            Some("refresh_token") => (
                Some(OP_TOKEN_REFRESH),
                field("refresh_token").and_then(|t| state.refresh_customer(t)).map(str::to_owned),
            ),
            _ => (None, None),
        }
    };
    if let Some(op) = operation {
        lock(&sim.calls).record(Provider::Schwab, op, customer.as_deref());
    }
    let global = sim.latency_ms.load(Ordering::Relaxed);
    if global > 0 {
        tokio::time::sleep(Duration::from_millis(global)).await;
    }
    let Some(client_id) = basic_client(&sim, &headers) else {
        return oauth_error(401, "invalid_client", "Client authentication failed.");
    };
    if let Err(retry_after) = rate_hit(&sim, &client_id) {
        return too_many_requests(retry_after);
    }
    let disabled = match apply_faults(&sim, FAULT_TOKEN, customer.as_deref(), Flavor::OAuth).await {
        Faulted::Answer(response) => return response,
        Faulted::Disabled => true,
        Faulted::Proceed => false,
    };
    if form.is_none() {
        return oauth_error(400, "invalid_request", "The body must be application/x-www-form-urlencoded.");
    }
    match grant {
        Some("authorization_code") => {
            if disabled {
                return oauth_error(400, "invalid_grant", "The customer's authorization was revoked.");
            }
            let (code, redirect_uri) = (field("code").unwrap_or(""), field("redirect_uri").unwrap_or(""));
            let result = lock(&sim.schwab.state).exchange_code(&client_id, code, redirect_uri);
            match result {
                Ok(tokens) => token_json(&client_id, &tokens),
                Err(why) => oauth_error(400, "invalid_grant", CodeError::description(why)),
            }
        }
        Some("refresh_token") => {
            let refreshed = (!disabled)
                .then(|| lock(&sim.schwab.state).refresh(&client_id, field("refresh_token").unwrap_or("")))
                .flatten();
            match refreshed {
                Some(tokens) => token_json(&client_id, &tokens),
                None => refresh_token_error(),
            }
        }
        _ => (StatusCode::BAD_REQUEST, Json(json!({ "error": "unsupported_grant_type" }))).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_end_in_percent_40_once_encoded() {
        assert_eq!(percent_encode("C0.ab-_c.d@"), "C0.ab-_c.d%40");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn appends_parameters_to_any_callback() {
        assert_eq!(append_query("https://127.0.0.1:8182", &[("code", "x@")]), "https://127.0.0.1:8182?code=x%40");
        assert_eq!(append_query("https://a/cb?x=1#f", &[("a", "1"), ("b", "2")]), "https://a/cb?x=1&a=1&b=2#f");
        assert_eq!(append_query("https://a/cb?", &[("a", "1")]), "https://a/cb?a=1");
    }

    #[test]
    fn customers_are_short_safe_names() {
        assert!(valid_customer("schwab-customer") && valid_customer("a.b_C-9"));
        assert!(!valid_customer("") && !valid_customer("a b") && !valid_customer(&"x".repeat(65)));
        assert!(valid_customer(&"x".repeat(64)));
    }
}
