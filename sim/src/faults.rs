//! Injected faults: what `POST /__sim/faults` registers and what each provider request consults
//! before it is answered. A fault matches on provider, endpoint (or `*`) and optionally the user,
//! and applies to `times` requests (or until cleared).

use serde::Deserialize;
use serde_json::{json, Value};

/// The longest latency a fault or the global setting may add, in milliseconds.
pub const MAX_LATENCY_MS: u64 = 120_000;
/// The most matching requests a fault may let through before it acts (`after`).
pub const MAX_AFTER: u32 = 10_000;
/// How long a `timeout` fault holds a request before answering 504.
pub const TIMEOUT_HOLD_SECS: u64 = 60;
/// The SnapTrade endpoint names a fault can target (besides `*`).
pub const SNAPTRADE_ENDPOINTS: &[&str] = &[
    "register",
    "login",
    "accounts",
    "positions",
    "balances",
    "holdings",
    "activities",
    "authorizations",
    "refresh",
    "disable",
    "delete_connection",
    "brokerages",
    "symbols",
    "impact",
    "place",
    "orders",
    "recent_orders",
    "order_detail",
    "cancel",
    "cancel_legacy",
];

/// The Plaid operation names a fault can target (besides `*`); see `crate::plaid::OPERATIONS`.
pub const PLAID_ENDPOINTS: &[&str] = &[
    "link_token_create",
    "link_token_get",
    "item_public_token_exchange",
    "investments_holdings_get",
    "investments_transactions_get",
    "investments_refresh",
    "item_get",
    "item_remove",
    "sandbox_item_reset_login",
    "webhook_verification_key_get",
];

/// The Schwab endpoint names a fault can target (besides `*`): `token` covers both grants.
pub const SCHWAB_ENDPOINTS: &[&str] = &[
    "token",
    "account_numbers",
    "accounts",
    "account",
    "transactions",
    "preview_order",
    "orders",
    "place_order",
    "order",
    "cancel_order",
    "replace_order",
];

/// The IBKR Flex Web Service endpoint names a fault can target (besides `*`).
pub const IBKR_ENDPOINTS: &[&str] = &["send_request", "get_statement"];

/// The provider a fault or a call belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Provider {
    SnapTrade,
    Plaid,
    Schwab,
    Ibkr,
}

impl Provider {
    /// Every provider, in the order `GET /__sim/calls` lists them.
    pub const ALL: [Provider; 4] = [Provider::SnapTrade, Provider::Plaid, Provider::Schwab, Provider::Ibkr];

    /// The wire name: `snaptrade`, `plaid`, `schwab` or `ibkr`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::SnapTrade => "snaptrade",
            Provider::Plaid => "plaid",
            Provider::Schwab => "schwab",
            Provider::Ibkr => "ibkr",
        }
    }

    /// The endpoint names a fault for this provider can target (besides `*`).
    pub fn endpoints(self) -> &'static [&'static str] {
        match self {
            Provider::SnapTrade => SNAPTRADE_ENDPOINTS,
            Provider::Plaid => PLAID_ENDPOINTS,
            Provider::Schwab => SCHWAB_ENDPOINTS,
            Provider::Ibkr => IBKR_ENDPOINTS,
        }
    }
}

/// What a fault does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Wait `ms` before answering normally.
    Latency { ms: u64 },
    /// Answer with this HTTP status and the provider's error shape.
    Status { status: u16 },
    /// Answer 429 with `Retry-After: retry_after`.
    RateLimit { retry_after: u64 },
    /// Hold the request for [`TIMEOUT_HOLD_SECS`], then answer 504.
    Timeout,
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
    /// SnapTrade: mark the user's connections disabled (applied once, when registered). Plaid: kept
    /// like other faults; matching Item calls answer `ITEM_LOGIN_REQUIRED` while it lasts. Schwab:
    /// kept; the customer's grant is gone while it lasts (Trader 401, refresh refused). IBKR: kept;
    /// matching Flex requests answer 1011 "Service account is inactive." while it lasts.
    Disabled,
}

/// The body of `POST /__sim/faults`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub provider: String,
    pub endpoint: String,
    #[serde(default)]
    pub user_id: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub ms: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub times: Option<u32>,
    /// Matching requests let through unchanged before the fault starts acting (a failure on the
    /// third page of a read: `after: 2`). Default 0.
    #[serde(default)]
    pub after: Option<u32>,
}

/// One registered fault.
#[derive(Clone, Debug)]
pub struct Fault {
    pub id: u64,
    pub provider: Provider,
    pub endpoint: String,
    pub user_id: Option<String>,
    pub kind: FaultKind,
    /// Requests left before the fault retires itself; `None` = until cleared.
    pub remaining: Option<u32>,
    /// Matching requests still to let through before the fault acts.
    pub pass: u32,
}

impl FaultSpec {
    /// Checks the spec and turns it into a fault (id 0 until registered), or says what is wrong.
    pub fn validate(self) -> Result<Fault, String> {
        let provider = match self.provider.as_str() {
            "snaptrade" => Provider::SnapTrade,
            "plaid" => Provider::Plaid,
            "schwab" => Provider::Schwab,
            "ibkr" => Provider::Ibkr,
            other => {
                return Err(format!("provider must be \"snaptrade\", \"plaid\", \"schwab\" or \"ibkr\", not {other:?}"))
            }
        };
        let known = provider.endpoints();
        if self.endpoint != "*" && !known.contains(&self.endpoint.as_str()) {
            return Err(format!("unknown {} endpoint {:?}; one of {known:?} or \"*\"", provider.name(), self.endpoint));
        }
        let kind = match self.kind.as_str() {
            "latency" => match self.ms {
                Some(ms) if ms <= MAX_LATENCY_MS => FaultKind::Latency { ms },
                _ => return Err(format!("latency needs \"ms\" between 0 and {MAX_LATENCY_MS}")),
            },
            "status" => match self.status {
                Some(status) if (400..=599).contains(&status) => FaultKind::Status { status },
                _ => return Err("status needs \"status\" between 400 and 599".into()),
            },
            "rate_limit" => FaultKind::RateLimit { retry_after: self.retry_after.unwrap_or(60).min(3600) },
            "timeout" => FaultKind::Timeout,
            "malformed" => FaultKind::Malformed,
            "disabled" => FaultKind::Disabled,
            other => {
                return Err(format!(
                    "kind must be latency, status, rate_limit, timeout, malformed or disabled, not {other:?}"
                ))
            }
        };
        if self.times == Some(0) {
            return Err("times must be at least 1 (omit it for \"until cleared\")".into());
        }
        let pass = self.after.unwrap_or(0);
        if pass > MAX_AFTER {
            return Err(format!("after must be at most {MAX_AFTER}"));
        }
        Ok(Fault { id: 0, provider, endpoint: self.endpoint, user_id: self.user_id, kind, remaining: self.times, pass })
    }
}

/// What the active faults do to one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Total latency of every matching latency fault.
    pub latency_ms: u64,
    /// The first matching non-latency fault, if any.
    pub action: Option<FaultKind>,
}

/// The registry of active faults.
#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    active: Vec<Fault>,
}

impl Faults {
    /// Registers `fault` and returns its id. SnapTrade `disabled` faults are not kept: the caller
    /// applies them once; Plaid, Schwab and IBKR ones are kept and consulted per request like any other.
    pub fn add(&mut self, mut fault: Fault) -> u64 {
        self.next_id += 1;
        fault.id = self.next_id;
        if fault.kind != FaultKind::Disabled || fault.provider != Provider::SnapTrade {
            self.active.push(fault);
        }
        self.next_id
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// Removes the fault registered as `id`; whether it was still active.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.active.len();
        self.active.retain(|f| f.id != id);
        self.active.len() != before
    }

    /// Consults the faults for one request: all matching latency faults, then the first matching other
    /// fault; each one used is counted down and retired when it reaches zero.
    pub fn take(&mut self, provider: Provider, endpoint: &str, user_id: Option<&str>) -> Applied {
        let mut applied = Applied::default();
        for fault in self.active.iter_mut() {
            let matches = fault.provider == provider
                && (fault.endpoint == "*" || fault.endpoint == endpoint)
                && fault.user_id.as_deref().is_none_or(|u| Some(u) == user_id);
            if !matches {
                continue;
            }
            if fault.pass > 0 {
                fault.pass -= 1;
                continue;
            }
            match &fault.kind {
                FaultKind::Latency { ms } => applied.latency_ms = applied.latency_ms.saturating_add(*ms),
                _ if applied.action.is_some() => continue,
                other => applied.action = Some(other.clone()),
            }
            if let Some(left) = fault.remaining.as_mut() {
                *left = left.saturating_sub(1);
            }
        }
        self.active.retain(|f| f.remaining != Some(0));
        applied
    }

    /// The active faults as JSON, for `GET /__sim/faults` (`times` = requests left, null = until cleared).
    pub fn to_json(&self) -> Value {
        let faults: Vec<Value> = self
            .active
            .iter()
            .map(|f| {
                let mut v = json!({"id": f.id, "provider": f.provider.name(), "endpoint": f.endpoint,
                                   "user_id": f.user_id, "times": f.remaining, "after": f.pass});
                match f.kind {
                    FaultKind::Latency { ms } => (v["kind"], v["ms"]) = (json!("latency"), json!(ms)),
                    FaultKind::Status { status } => (v["kind"], v["status"]) = (json!("status"), json!(status)),
                    FaultKind::RateLimit { retry_after } => {
                        (v["kind"], v["retry_after"]) = (json!("rate_limit"), json!(retry_after))
                    }
                    FaultKind::Timeout => v["kind"] = json!("timeout"),
                    FaultKind::Malformed => v["kind"] = json!("malformed"),
                    FaultKind::Disabled => v["kind"] = json!("disabled"),
                }
                v
            })
            .collect();
        json!({ "faults": faults })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Result<Fault, String> {
        serde_json::from_value::<FaultSpec>(v).map_err(|e| e.to_string())?.validate()
    }

    #[test]
    fn validates_specs() {
        assert!(spec(json!({"provider": "snaptrade", "endpoint": "accounts", "kind": "timeout"})).is_ok());
        assert!(spec(json!({"provider": "x", "endpoint": "accounts", "kind": "timeout"})).is_err());
        assert!(spec(json!({"provider": "snaptrade", "endpoint": "nope", "kind": "timeout"})).is_err());
        assert!(spec(json!({"provider": "snaptrade", "endpoint": "*", "kind": "status", "status": 200})).is_err());
        assert!(spec(json!({"provider": "snaptrade", "endpoint": "*", "kind": "latency"})).is_err());
        assert!(spec(json!({"provider": "snaptrade", "endpoint": "*", "kind": "malformed", "times": 0})).is_err());
        assert!(spec(json!({"provider": "schwab", "endpoint": "account_numbers", "kind": "timeout"})).is_ok());
        assert!(spec(json!({"provider": "schwab", "endpoint": "positions", "kind": "timeout"})).is_err());
        assert!(spec(json!({"provider": "ibkr", "endpoint": "get_statement", "kind": "malformed"})).is_ok());
        assert!(spec(json!({"provider": "ibkr", "endpoint": "accounts", "kind": "malformed"})).is_err());
    }

    #[test]
    fn counts_down_and_matches_users() {
        let mut faults = Faults::default();
        let fault = spec(json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": "a", "kind": "status",
                                "status": 503, "times": 2}))
        .unwrap();
        faults.add(fault);
        faults.add(spec(json!({"provider": "snaptrade", "endpoint": "*", "kind": "latency", "ms": 5})).unwrap());
        assert_eq!(faults.take(Provider::SnapTrade, "accounts", Some("b")).action, None);
        let first = faults.take(Provider::SnapTrade, "accounts", Some("a"));
        assert_eq!(first, Applied { latency_ms: 5, action: Some(FaultKind::Status { status: 503 }) });
        assert!(faults.take(Provider::SnapTrade, "accounts", Some("a")).action.is_some());
        assert_eq!(faults.take(Provider::SnapTrade, "accounts", Some("a")).action, None);
        assert_eq!(faults.take(Provider::Plaid, "accounts", Some("a")), Applied::default());
    }

    #[test]
    fn lets_the_first_matching_requests_through_when_asked() {
        let mut faults = Faults::default();
        assert!(spec(json!({"provider": "plaid", "endpoint": "*", "kind": "timeout", "after": 10_001})).is_err());
        faults.add(
            spec(json!({"provider": "snaptrade", "endpoint": "activities", "user_id": "a", "kind": "status",
                        "status": 500, "times": 1, "after": 2}))
            .unwrap(),
        );
        assert_eq!(faults.take(Provider::SnapTrade, "activities", Some("b")).action, None, "another user");
        assert_eq!(faults.take(Provider::SnapTrade, "accounts", Some("a")).action, None, "another endpoint");
        assert_eq!(faults.take(Provider::SnapTrade, "activities", Some("a")).action, None, "first page");
        assert_eq!(faults.take(Provider::SnapTrade, "activities", Some("a")).action, None, "second page");
        let third = faults.take(Provider::SnapTrade, "activities", Some("a")).action;
        assert_eq!(third, Some(FaultKind::Status { status: 500 }), "third page fails");
        assert_eq!(faults.take(Provider::SnapTrade, "activities", Some("a")).action, None, "retired after one");
    }

    #[test]
    fn removing_one_fault_by_id_leaves_the_others() {
        let mut faults = Faults::default();
        let first = faults.add(spec(json!({"provider": "plaid", "endpoint": "*", "kind": "malformed"})).unwrap());
        let second = faults.add(spec(json!({"provider": "plaid", "endpoint": "*", "kind": "timeout"})).unwrap());
        assert!(faults.remove(first));
        assert!(!faults.remove(first), "already gone");
        assert_eq!(faults.take(Provider::Plaid, "item_get", None).action, Some(FaultKind::Timeout));
        assert!(faults.remove(second));
        assert_eq!(faults.take(Provider::Plaid, "item_get", None), Applied::default());
    }
}
