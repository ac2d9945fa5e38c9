//! The forged-webhook catalogue: genuine deliveries signed by the simulator (`/__sim/*/webhook/sign`)
//! and the [`KINDS`] of forgery derived from them, each with the refusal codes it may earn. Every
//! variant is a different payload, a broken signature or timestamp, an oversized or non-JSON body —
//! never a byte-different encoding of a genuine delivery (those are the controls in `forgery`).

use crate::support::Ctx;
use serde_json::{json, Value};
use Hook::{Plaid as P, SnapTrade as S};

/// Which webhook endpoint a delivery goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    SnapTrade,
    Plaid,
}

impl Hook {
    pub fn path(self) -> &'static str {
        match self {
            Hook::SnapTrade => "/webhooks/snaptrade",
            Hook::Plaid => "/webhooks/plaid",
        }
    }

    fn sign_path(self) -> &'static str {
        match self {
            Hook::SnapTrade => "/__sim/snaptrade/webhook/sign",
            Hook::Plaid => "/__sim/plaid/webhook/sign",
        }
    }

    /// The header carrying the signature.
    pub fn signature_header(self) -> &'static str {
        match self {
            Hook::SnapTrade => "signature",
            Hook::Plaid => "plaid-verification",
        }
    }
}

/// One delivery: headers (lowercase names) and exact body bytes.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub hook: Hook,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn signature(&self) -> &str {
        let name = self.hook.signature_header();
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
    }

    /// The same delivery with the signature header set to `value` (removed for `None`).
    pub fn with_signature(&self, value: Option<String>) -> Self {
        let name = self.hook.signature_header();
        let mut headers: Vec<_> = self.headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case(name)).cloned().collect();
        headers.extend(value.map(|v| (name.to_owned(), v)));
        Self { hook: self.hook, headers, body: self.body.clone() }
    }

    pub fn with_body(&self, body: impl Into<Vec<u8>>) -> Self {
        Self { hook: self.hook, headers: self.headers.clone(), body: body.into() }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a genuine delivery is JSON")
    }
}

/// Asks the simulator to build and sign (not send) the webhook `spec` describes.
pub async fn sign(ctx: &Ctx, hook: Hook, spec: &Value) -> Delivery {
    let answer = ctx.sim_control(hook.sign_path(), spec).await;
    let headers = answer["headers"].as_array().unwrap_or_else(|| panic!("the simulator signed {spec}: {answer}"));
    let headers = headers
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_ascii_lowercase(), pair[1].as_str().unwrap().to_owned()))
        .collect();
    Delivery { hook, headers, body: answer["body"].as_str().unwrap().as_bytes().to_vec() }
}

/// The ids the genuine deliveries are about: one user's SnapTrade connection/account, Plaid Item.
pub struct Target {
    pub user: String,
    pub authorization: String,
    pub account: String,
    pub item: String,
}

impl Target {
    /// Specs of genuine webhooks about the target (each would change D1 if accepted).
    pub fn specs(&self, hook: Hook) -> Vec<Value> {
        let (u, auth, acc, item) = (&self.user, &self.authorization, &self.account, &self.item);
        match hook {
            Hook::SnapTrade => vec![
                json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": u, "account_id": acc, "authorization_id": auth,
                       "brokerage_id": "SCHWAB", "details": {"reason": "sync", "count": 2}}),
                json!({"event_type": "CONNECTION_DELETED", "user_id": u, "authorization_id": auth}),
                json!({"event_type": "ACCOUNT_REMOVED", "user_id": u, "account_id": acc}),
                json!({"event_type": "CONNECTION_BROKEN", "user_id": u, "authorization_id": auth}),
                json!({"event_type": "NEW_ACCOUNT_AVAILABLE", "user_id": u, "account_id": acc}),
            ],
            Hook::Plaid => vec![
                json!({"item_id": item, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE"}),
                json!({"item_id": item, "webhook_type": "ITEM", "webhook_code": "ERROR"}),
                json!({"item_id": item, "webhook_type": "ITEM", "webhook_code": "USER_PERMISSION_REVOKED"}),
                json!({"item_id": item, "webhook_type": "INVESTMENTS_TRANSACTIONS", "webhook_code": "DEFAULT_UPDATE"}),
            ],
        }
    }
}

/// A kind of forgery: how many per 10,000 and which refusal codes (`webhook_` + code) it may get.
pub struct Kind {
    pub name: &'static str,
    pub hook: Hook,
    pub count: usize,
    pub codes: &'static [&'static str],
}

const fn kind(name: &'static str, hook: Hook, count: usize, codes: &'static [&'static str]) -> Kind {
    Kind { name, hook, count, codes }
}

/// Every kind of forgery; the counts add up to 10,000.
pub const KINDS: &[Kind] = &[
    kind("snaptrade_body_bit_flip", S, 1200, &["signature_invalid", "malformed_json"]),
    kind("snaptrade_signature_bit_flip", S, 800, &["signature_invalid"]),
    kind("snaptrade_signature_mangled", S, 300, &["signature_invalid", "signature_missing"]),
    kind("snaptrade_reordered_keys_changed_value_old_signature", S, 1000, &["signature_invalid"]),
    kind("snaptrade_stale_timestamp", S, 300, &["stale"]),
    kind("snaptrade_future_timestamp", S, 300, &["stale"]),
    kind("snaptrade_missing_timestamp", S, 100, &["malformed_timestamp"]),
    kind("snaptrade_malformed_timestamp", S, 100, &["malformed_timestamp"]),
    kind("snaptrade_wrong_client_id", S, 300, &["wrong_client"]),
    kind("snaptrade_oversized_body", S, 150, &["too_large"]),
    kind("snaptrade_non_json_body", S, 350, &["malformed_json", "signature_invalid"]),
    kind("snaptrade_no_signature", S, 100, &["signature_missing"]),
    kind("plaid_body_bit_flip", P, 1000, &["body_mismatch"]),
    kind("plaid_reordered_keys_old_token", P, 500, &["body_mismatch"]),
    kind("plaid_changed_value_old_token", P, 300, &["body_mismatch"]),
    kind("plaid_signature_bit_flip", P, 700, &["signature_invalid"]),
    kind(
        "plaid_token_mangled",
        P,
        300,
        &["malformed_token", "signature_invalid", "unsupported_algorithm", "unknown_key", "signature_missing"],
    ),
    kind("plaid_claims_edited_old_signature", P, 300, &["signature_invalid"]),
    kind("plaid_wrong_alg", P, 400, &["unsupported_algorithm", "malformed_token"]),
    kind("plaid_wrong_kid", P, 300, &["unknown_key", "malformed_token"]),
    kind("plaid_signed_by_another_key", P, 200, &["signature_invalid"]),
    kind("plaid_stale_iat", P, 250, &["stale"]),
    kind("plaid_future_iat", P, 250, &["stale"]),
    kind("plaid_missing_body_hash", P, 100, &["malformed_token"]),
    kind("plaid_oversized_body", P, 150, &["too_large"]),
    kind("plaid_non_json_body", P, 150, &["malformed_json", "body_mismatch"]),
    kind("plaid_no_token", P, 100, &["signature_missing"]),
];

/// The largest webhook body the worker accepts (`MAX_WEBHOOK_BYTES`).
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;
