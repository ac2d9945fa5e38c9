//! The Plaid half of the simulator, built from Plaid's OpenAPI spec (2020-09-14): JSON `POST`
//! endpoints at root paths, authenticated by `client_id` + `secret` in the body or the
//! `PLAID-CLIENT-ID` / `PLAID-SECRET` headers (behind [`gate`]); handlers in [`link_token`] and
//! [`routes`] (body checks in [`fields`], error shape in [`error`]); Items, tokens and link
//! sessions ([`state`]); seeded institutions and holdings ([`seed`], rendered by [`seed_json`]);
//! the hosted Link page ([`link`]); investment transactions with their default histories
//! ([`transactions`]); the ES256 webhook keys ([`keys`]) and signed webhooks on demand
//! ([`webhook`]); broken logins and their repair through Link update mode ([`sandbox`],
//! [`link_token`], [`link`]). Not simulated: update mode's `account_selection_enabled: true` and
//! credit products, (banking) transactions, webhooks fired on their own (after a refresh or a
//! `reset_login`, say), key rotation/expiry, environments other than sandbox.
//!
//! API routes (every answer, success or error, carries `request_id`):
//! - `/link/token/create` → `{link_token: "link-sandbox-…", expiration, hosted_link_url, request_id}`.
//!   Requires what Plaid requires (`client_name`, `language`, `country_codes`, `user.client_user_id`)
//!   plus what the simulator supports: `products` containing `"investments"` and a `hosted_link`
//!   object with `completion_redirect_uri`. Update mode: `access_token` of an existing Item and no
//!   `products` (400 `INVALID_FIELD` if given; an unknown token is `INVALID_ACCESS_TOKEN`); the
//!   token lives 30 minutes and its hosted page repairs that Item (no new Item, no public token).
//! - `/link/token/get` → `{link_token, created_at, expiration, metadata, link_sessions, request_id}`;
//!   a finished session lists `results.item_add_results[].public_token`.
//! - `/item/public_token/exchange` → `{access_token: "access-sandbox-…", item_id, request_id}`
//!   (public tokens are single use and last 30 minutes; creating the Item is billed).
//! - `/investments/holdings/get` `{access_token, options?: {account_ids?}}` →
//!   `{accounts, holdings, securities, item, request_id}`.
//! - `/investments/transactions/get` `{access_token, start_date, end_date, options?: {account_ids?,
//!   count?, offset?, async_update?}}` → `{accounts, securities, investment_transactions,
//!   total_investment_transactions, item, is_investments_fallback_item, request_id}` (never billed;
//!   see [`transactions`]; `ITEM_ERROR`/`PRODUCT_NOT_READY` while the Item is made not ready).
//! - `/investments/refresh` `{access_token}` → `{request_id}` (billed per call).
//! - `/item/get` `{access_token}` → `{item, status, request_id}`, `item.error` null or the
//!   `ITEM_LOGIN_REQUIRED` object; `/item/remove` → `{request_id}`.
//! - `/sandbox/item/reset_login` `{access_token}` → `{reset_login: true, request_id}`: the Item's
//!   login breaks (see [`sandbox`]).
//! - `/webhook_verification_key/get` `{key_id}` → `{key: JWK, request_id}`.
//!
//! Real Plaid hands the public token to the app through Link's `onSuccess`, `/link/token/get` or
//! the `LINK` `SESSION_FINISHED` webhook; the simulated hosted Link page also appends it to the
//! `completion_redirect_uri` (`?public_token=…&institution_id=…&link_session_id=…`) so a test or a
//! local app can finish without polling. Both paths work.
//!
//! Errors have Plaid's shape `{error_type, error_code, error_message, display_message,
//! request_id, …}`. Used: `INVALID_INPUT`/`INVALID_API_KEYS`, `INVALID_ACCESS_TOKEN` (never
//! issued), `INVALID_PUBLIC_TOKEN`, `INVALID_LINK_TOKEN`, `INVALID_ACCOUNT_ID`,
//! `INVALID_WEBHOOK_VERIFICATION_KEY_ID` (400); `INVALID_REQUEST`/`MISSING_FIELDS`,
//! `UNKNOWN_FIELDS`, `INVALID_FIELD`, `INVALID_BODY` (400); `ITEM_ERROR`/`ITEM_NOT_FOUND` (400, a
//! removed Item's access token), `ITEM_LOGIN_REQUIRED` (400, injected `disabled` fault),
//! `PRODUCT_NOT_READY` (400, `POST /__sim/plaid/transactions-not-ready`); `ITEM_LOGIN_REQUIRED` also
//! while an Item's login is broken (`/sandbox/item/reset_login`, `POST /__sim/plaid/items/break`).
//! Injected faults (operation names in [`OPERATIONS`], user = the Item's `client_user_id`):
//! `status` 500 → `API_ERROR`/`INTERNAL_SERVER_ERROR`, 503 → `API_ERROR`/`PLANNED_MAINTENANCE`,
//! 502/504 → `INSTITUTION_ERROR`/`INSTITUTION_NOT_RESPONDING`, 429 → `RATE_LIMIT_EXCEEDED`/
//! `RATE_LIMIT`, 401/403 → `INVALID_INPUT`/`INVALID_API_KEYS`, 404 → `INVALID_REQUEST`/`NOT_FOUND`,
//! other 4xx → `INVALID_REQUEST`/`INVALID_FIELD`, other 5xx → `API_ERROR`; `rate_limit` → 429 `RATE_LIMIT_EXCEEDED` with
//! `Retry-After`; `timeout` → held, then 504 `API_ERROR`; `malformed` → 200 with a non-JSON body;
//! `disabled` → the matching Item-scoped calls answer `ITEM_LOGIN_REQUIRED` (and `/item/get` shows
//! it in `item.error`) for as long as the fault lasts.
//!
//! Control (loopback tests only): `POST /__sim/plaid/webhook` — see [`webhook`];
//! `POST /__sim/plaid/items/break {item_id}` → `{item_id, error_code: "ITEM_LOGIN_REQUIRED"}` — see
//! [`sandbox`]; the transactions controls are in [`crate::ledger::control`].

pub mod error;
pub mod fields;
pub mod gate;
pub mod keys;
pub mod link;
pub mod link_token;
pub mod routes;
pub mod sandbox;
pub mod seed;
pub mod seed_json;
pub mod state;
pub mod transactions;
pub mod webhook;

pub use error::PlaidError;

use crate::util::random_bytes;
use crate::{lock, Sim};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Everything the Plaid half remembers: Items and tokens, and the webhook signing keys.
pub struct PlaidSim {
    /// Link tokens, public tokens and Items.
    pub state: Mutex<state::PlaidState>,
    /// The published webhook key and the forger's key.
    pub keys: keys::WebhookKeys,
}

impl PlaidSim {
    /// Fresh state with newly generated webhook keys.
    pub fn new() -> Self {
        Self { state: Mutex::default(), keys: keys::WebhookKeys::generate(crate::util::now_unix()) }
    }
}

impl Default for PlaidSim {
    fn default() -> Self {
        Self::new()
    }
}

/// Whose data a request concerns, for fault matching and call counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// No user (e.g. the verification key).
    Nobody,
    /// `user.client_user_id` of the request body.
    LinkUser,
    /// The user the body's `link_token` was created for.
    LinkToken,
    /// The user the body's `public_token` was created for.
    PublicToken,
    /// The user of the Item the body's `access_token` belongs to.
    AccessToken,
}

/// One Plaid API endpoint: its path, operation name (faults and call counts), accepted body fields
/// (besides `client_id` and `secret`) and whose data it concerns.
#[derive(Debug)]
pub struct Operation {
    /// The route, e.g. `/investments/holdings/get`.
    pub path: &'static str,
    /// The name faults and call counts use, e.g. `investments_holdings_get`.
    pub name: &'static str,
    /// Body fields accepted besides `client_id` and `secret`; any other is `UNKNOWN_FIELDS`.
    pub fields: &'static [&'static str],
    /// Whose data the request concerns.
    pub subject: Subject,
}

/// The top-level fields `/link/token/create` accepts (LinkTokenCreateRequest).
const LINK_TOKEN_CREATE_FIELDS: &[&str] = &[
    "client_name",
    "language",
    "country_codes",
    "user",
    "user_id",
    "products",
    "required_if_supported_products",
    "optional_products",
    "additional_consented_products",
    "webhook",
    "access_token",
    "access_tokens",
    "link_customization_name",
    "appearance_mode",
    "redirect_uri",
    "android_package_name",
    "institution_data",
    "card_switch",
    "account_filters",
    "eu_config",
    "institution_id",
    "payment_configuration",
    "payment_initiation",
    "employment",
    "income_verification",
    "base_report",
    "credit_partner_insights",
    "cra_options",
    "consumer_report_permissible_purpose",
    "auth",
    "transfer",
    "update",
    "identity_verification",
    "statements",
    "third_party_user_token",
    "investments",
    "investments_auth",
    "hosted_link",
    "transactions",
    "cashflow_report",
    "cra_enabled",
    "identity",
    "financekit_supported",
    "enable_multi_item_link",
    "user_token",
];

/// Every simulated Plaid endpoint.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        path: "/link/token/create",
        name: "link_token_create",
        fields: LINK_TOKEN_CREATE_FIELDS,
        subject: Subject::LinkUser,
    },
    Operation { path: "/link/token/get", name: "link_token_get", fields: &["link_token"], subject: Subject::LinkToken },
    Operation {
        path: "/item/public_token/exchange",
        name: "item_public_token_exchange",
        fields: &["public_token"],
        subject: Subject::PublicToken,
    },
    Operation {
        path: "/investments/holdings/get",
        name: "investments_holdings_get",
        fields: &["access_token", "options"],
        subject: Subject::AccessToken,
    },
    Operation {
        path: "/investments/transactions/get",
        name: "investments_transactions_get",
        fields: &["access_token", "start_date", "end_date", "options"],
        subject: Subject::AccessToken,
    },
    Operation {
        path: "/investments/refresh",
        name: "investments_refresh",
        fields: &["access_token"],
        subject: Subject::AccessToken,
    },
    Operation { path: "/item/get", name: "item_get", fields: &["access_token"], subject: Subject::AccessToken },
    Operation {
        path: "/item/remove",
        name: "item_remove",
        fields: &["access_token", "reason_code", "reason_note"],
        subject: Subject::AccessToken,
    },
    Operation {
        path: "/sandbox/item/reset_login",
        name: "sandbox_item_reset_login",
        fields: &["access_token"],
        subject: Subject::AccessToken,
    },
    Operation {
        path: "/webhook_verification_key/get",
        name: "webhook_verification_key_get",
        fields: &["key_id"],
        subject: Subject::Nobody,
    },
];

/// The billed operation recorded when an Item is created (starts the monthly subscription).
pub const BILLED_ITEM_CREATE: &str = "item_create";
/// The billed operation recorded per successful `/investments/refresh`.
pub const BILLED_REFRESH: &str = "investments_refresh";

/// The endpoint served at `path`, if any.
pub fn operation(path: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|op| op.path == path)
}

/// A random identifier of `len` characters from `[A-Za-z0-9]`, like Plaid's ids.
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes(len).iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// A 200 answer: `body` (an object) with `request_id` added.
pub fn ok(request_id: &str, mut body: Value) -> Response {
    body["request_id"] = json!(request_id);
    Json(body).into_response()
}

/// A 200 answer whose body is not valid JSON (the `malformed` fault).
pub fn malformed() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"accounts\": [{\"account_id\": ").into_response()
}

/// The Plaid API routes (behind the gate), the hosted Link page, the webhook and break controls.
pub fn router(sim: Arc<Sim>) -> Router<Arc<Sim>> {
    Router::new()
        .route("/link/token/create", post(link_token::link_token_create))
        .route("/link/token/get", post(link_token::link_token_get))
        .route("/item/public_token/exchange", post(routes::public_token_exchange))
        .route("/investments/holdings/get", post(routes::holdings_get))
        .route("/investments/transactions/get", post(transactions::transactions_get))
        .route("/investments/refresh", post(routes::investments_refresh))
        .route("/item/get", post(routes::item_get))
        .route("/item/remove", post(routes::item_remove))
        .route("/sandbox/item/reset_login", post(sandbox::reset_login))
        .route("/webhook_verification_key/get", post(routes::verification_key_get))
        .route_layer(middleware::from_fn_with_state(sim, gate::gate))
        .route(link::PATH, get(link::page).post(link::complete))
        .route(webhook::PATH, post(webhook::send))
        .route(sandbox::BREAK_PATH, post(sandbox::break_item))
}

/// The user a request concerns, looked up from its body.
pub fn subject_user(sim: &Sim, subject: Subject, body: &serde_json::Map<String, Value>) -> Option<String> {
    let field = |k: &str| body.get(k).and_then(Value::as_str);
    let state = || lock(&sim.plaid.state);
    match subject {
        Subject::Nobody => None,
        Subject::LinkUser => body.get("user")?.get("client_user_id")?.as_str().map(str::to_owned),
        Subject::LinkToken => state().link_token_user(field("link_token")?),
        Subject::PublicToken => state().public_token_user(field("public_token")?),
        Subject::AccessToken => state().access_token_user(field("access_token")?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_endpoint_names_are_the_operation_names() {
        let names: Vec<&str> = OPERATIONS.iter().map(|op| op.name).collect();
        assert_eq!(names, crate::faults::PLAID_ENDPOINTS);
        assert_eq!(operation("/item/get").unwrap().subject, Subject::AccessToken);
        assert_eq!(random_id(37).len(), 37);
    }
}
