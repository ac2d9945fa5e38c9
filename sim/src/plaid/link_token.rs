//! The Link token endpoints: `/link/token/create` (validated like Plaid, restricted to what the
//! simulator supports: hosted Link for the investments product, or update mode for an existing
//! Item) and `/link/token/get`.
//!
//! Update mode: `access_token` names an active Item (else `INVALID_ACCESS_TOKEN`, or
//! `ITEM_NOT_FOUND` for a removed one) and `products` must be omitted (else `INVALID_FIELD`; the
//! credit-product exception is not simulated); `update.account_selection_enabled` may only be
//! `false` or absent. The token lives 30 minutes. Its finished session lists no
//! `item_add_results` (nothing to exchange).

use super::fields::{is_http_url, optional_str, required_object, required_str, string_list};
use super::gate::Admitted;
use super::state::{LinkRequest, HOSTED_LINK_DEFAULT_LIFETIME_SECS};
use super::{ok, PlaidError};
use crate::util::{now_unix, rfc3339};
use crate::{lock, Sim};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Products `/link/token/create` accepts in `products` (Plaid's `Products` enum, minus `balance`).
const PRODUCTS: &[&str] = &[
    "assets",
    "auth",
    "beacon",
    "identity",
    "identity_match",
    "investments",
    "investments_auth",
    "liabilities",
    "payment_initiation",
    "identity_verification",
    "transactions",
    "credit_details",
    "income",
    "income_verification",
    "standing_orders",
    "transfer",
    "employment",
    "recurring_transactions",
    "transactions_refresh",
    "signal",
    "statements",
    "processor_payments",
    "processor_identity",
    "profile",
    "cra_base_report",
    "cra_income_insights",
    "cra_partner_insights",
    "cra_network_insights",
    "cra_cashflow_insights",
    "cra_monitoring",
    "cra_lend_score",
    "cra_plaid_credit_score",
    "layer",
    "pay_by_bank",
    "protect_linked_bank",
    "protect_transactions",
    "balance_plus",
];
/// Plaid's `CountryCode` enum.
const COUNTRIES: &[&str] = &[
    "US", "GB", "ES", "NL", "FR", "IE", "CA", "DE", "IT", "PL", "DK", "NO", "SE", "EE", "LT", "LV", "PT", "BE", "AT",
    "FI",
];
/// Languages Link supports.
const LANGUAGES: &[&str] =
    &["da", "nl", "en", "et", "fr", "de", "hi", "it", "lv", "lt", "no", "pl", "pt", "ro", "es", "sv", "vi"];
/// The longest hosted Link URL lifetime Plaid allows (21 days).
const MAX_URL_LIFETIME_SECS: i64 = 21 * 86_400;

/// Reads `/link/token/create`; `update_item` is the Item an `access_token` names (looked up by the
/// caller), which makes it update mode.
fn parse_link_request(body: &Map<String, Value>, update_item: Option<String>) -> Result<LinkRequest, PlaidError> {
    let client_name = required_str(body, "client_name", "client_name")?.to_owned();
    let language = required_str(body, "language", "language")?;
    if !LANGUAGES.contains(&language) {
        return Err(PlaidError::invalid_field(format!("language {language:?} is not supported")));
    }
    let country_codes = string_list(body, "country_codes", COUNTRIES)?;
    let user = required_object(body, "user")?;
    let client_user_id = required_str(user, "client_user_id", "user.client_user_id")?.to_owned();
    let products = if update_item.is_some() {
        if body.get("products").is_some_and(|v| !v.is_null()) {
            return Err(PlaidError::invalid_field("products must be omitted when launching Link in update mode"));
        }
        let update = body.get("update").filter(|v| !v.is_null());
        let selection = update.map(|u| u.get("account_selection_enabled").filter(|v| !v.is_null()));
        match (update, selection.flatten()) {
            (None, _) | (Some(Value::Object(_)), None | Some(Value::Bool(false))) => {}
            (Some(Value::Object(_)), Some(Value::Bool(true))) => {
                return Err(PlaidError::invalid_field(
                    "update.account_selection_enabled is not supported by the simulator",
                ))
            }
            _ => return Err(PlaidError::invalid_field("update must be an object")),
        }
        Vec::new()
    } else {
        let products = string_list(body, "products", PRODUCTS)?;
        if !products.iter().any(|p| p == "investments") {
            return Err(PlaidError::invalid_field(
                "products must include \"investments\": the simulator links investment Items only",
            ));
        }
        products
    };
    let webhook = optional_str(body, "webhook")?.map(str::to_owned);
    if webhook.as_deref().is_some_and(|w| !is_http_url(w)) {
        return Err(PlaidError::invalid_field("webhook must be a valid URL"));
    }
    let redirect_uri = optional_str(body, "redirect_uri")?.map(str::to_owned);
    let hosted = required_object(body, "hosted_link")?;
    let completion = required_str(hosted, "completion_redirect_uri", "hosted_link.completion_redirect_uri")?;
    if !is_http_url(completion) {
        return Err(PlaidError::invalid_field("hosted_link.completion_redirect_uri must be a valid URL"));
    }
    let url_lifetime_secs = match hosted.get("url_lifetime_seconds") {
        None | Some(Value::Null) => HOSTED_LINK_DEFAULT_LIFETIME_SECS,
        Some(v) => match v.as_i64() {
            Some(secs) if (1..=MAX_URL_LIFETIME_SECS).contains(&secs) => secs,
            _ => {
                return Err(PlaidError::invalid_field(
                    "hosted_link.url_lifetime_seconds must be a positive integer of at most 21 days",
                ))
            }
        },
    };
    Ok(LinkRequest {
        client_user_id,
        client_name,
        language: language.to_owned(),
        country_codes,
        products,
        webhook,
        redirect_uri,
        completion_redirect_uri: completion.to_owned(),
        url_lifetime_secs,
        update_item,
    })
}

/// `/link/token/create` → `{link_token, expiration, hosted_link_url, request_id}`.
pub async fn link_token_create(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let mut state = lock(&sim.plaid.state);
    let update_item = match req.body.get("access_token").filter(|v| !v.is_null()) {
        None => None,
        Some(token) => match token.as_str().map(|t| state.item(t)) {
            Some(Ok(item)) => Some(item.item_id.clone()),
            Some(Err(e)) => return e.respond(&req.request_id),
            None => return PlaidError::invalid_field("access_token must be a string").respond(&req.request_id),
        },
    };
    let request = match parse_link_request(&req.body, update_item) {
        Ok(request) => request,
        Err(e) => return e.respond(&req.request_id),
    };
    let link = state.create_link_token(request, now_unix());
    let hosted_link_url = format!("{}{}/{}", sim.base_url, super::link::PATH_PREFIX, link.token);
    let body =
        json!({ "link_token": link.token, "expiration": rfc3339(link.expires), "hosted_link_url": hosted_link_url });
    ok(&req.request_id, body)
}

/// `/link/token/get` → the token's metadata and its finished session, if any.
pub async fn link_token_get(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let token = match required_str(&req.body, "link_token", "link_token") {
        Ok(token) => token,
        Err(e) => return e.respond(&req.request_id),
    };
    let state = lock(&sim.plaid.state);
    let Some(link) = state.link_token(token) else {
        return PlaidError::invalid_input("INVALID_LINK_TOKEN", "provided link token is invalid")
            .respond(&req.request_id);
    };
    let sessions: Vec<Value> = link
        .session
        .iter()
        .map(|s| {
            let item = state.item_by_id(&s.item_id);
            let accounts: Vec<Value> = item
                .map(|item| {
                    item.institution
                        .accounts
                        .iter()
                        .cycle()
                        .zip(&item.account_ids)
                        .map(|(seed, id)| {
                            json!({"id": id, "name": seed.name, "mask": seed.mask, "type": "investment",
                               "subtype": seed.subtype, "verification_status": null, "class_type": null})
                        })
                        .collect()
                })
                .unwrap_or_default();
            let institution = item.map(|i| json!({"name": i.institution.name, "institution_id": i.institution.id}));
            json!({
                "link_session_id": s.id,
                "started_at": rfc3339(s.started),
                "finished_at": rfc3339(s.finished),
                "exit": null,
                "events": [],
                "results": {
                    "item_add_results": s.public_token.as_ref().map_or_else(Vec::new, |public_token| {
                        vec![json!({"public_token": public_token, "accounts": accounts, "institution": institution})]
                    }),
                    "cra_item_add_results": [], "cra_update_results": [], "bank_income_results": [],
                    "payroll_income_results": [], "document_income_results": null,
                },
            })
        })
        .collect();
    let r = &link.request;
    let body = json!({
        "link_token": link.token,
        "created_at": rfc3339(link.created),
        "expiration": rfc3339(link.expires),
        "link_sessions": sessions,
        "metadata": {
            "initial_products": r.products, "webhook": r.webhook, "country_codes": r.country_codes,
            "language": r.language, "redirect_uri": r.redirect_uri, "client_name": r.client_name,
        },
    });
    ok(&req.request_id, body)
}
