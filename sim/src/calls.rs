//! Call accounting: every provider API request the simulator receives, counted per provider,
//! operation and user, plus the billed (paid) calls among them — read by `GET /__sim/calls`.

use crate::faults::Provider;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The user key for requests that name no user.
pub const NO_USER: &str = "(none)";

#[derive(Debug, Default, Clone, Copy)]
struct Count {
    calls: u64,
    billed: u64,
}

/// Counters keyed by (provider, operation, user).
#[derive(Debug, Default)]
pub struct Calls {
    counts: BTreeMap<(Provider, String, String), Count>,
}

impl Calls {
    fn entry(&mut self, provider: Provider, operation: &str, user: Option<&str>) -> &mut Count {
        let user = user.filter(|u| !u.is_empty()).unwrap_or(NO_USER);
        self.counts.entry((provider, operation.to_owned(), user.to_owned())).or_default()
    }

    /// Counts one request to `operation` on behalf of `user`.
    pub fn record(&mut self, provider: Provider, operation: &str, user: Option<&str>) {
        self.entry(provider, operation, user).calls += 1;
    }

    /// Counts one billed (paid) call to `operation` on behalf of `user`.
    pub fn bill(&mut self, provider: Provider, operation: &str, user: Option<&str>) {
        self.entry(provider, operation, user).billed += 1;
    }

    /// Forgets every count.
    pub fn reset(&mut self) {
        self.counts.clear();
    }

    /// `{"snaptrade": {total, billed, operations: {op: n}, users: {user: {total, billed, operations}}}, "plaid": …,
    /// "schwab": …, "ibkr": …}`: every provider is listed, even with no calls.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for provider in Provider::ALL {
            let mut total = Count::default();
            let mut operations = Map::new();
            let mut users: BTreeMap<&str, (Count, Map<String, Value>)> = BTreeMap::new();
            for ((p, op, user), count) in &self.counts {
                if *p != provider {
                    continue;
                }
                total.calls += count.calls;
                total.billed += count.billed;
                let n = operations.get(op).and_then(Value::as_u64).unwrap_or(0);
                operations.insert(op.clone(), json!(n + count.calls));
                let (user_total, user_ops) = users.entry(user).or_default();
                user_total.calls += count.calls;
                user_total.billed += count.billed;
                user_ops.insert(op.clone(), json!(count.calls));
            }
            let users: Map<String, Value> = users
                .into_iter()
                .map(|(user, (c, ops))| {
                    (user.to_owned(), json!({"total": c.calls, "billed": c.billed, "operations": ops}))
                })
                .collect();
            out.insert(
                provider.name().to_owned(),
                json!({"total": total.calls, "billed": total.billed, "operations": operations, "users": users}),
            );
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_per_provider_operation_and_user() {
        let mut calls = Calls::default();
        calls.record(Provider::SnapTrade, "accounts", Some("a"));
        calls.record(Provider::SnapTrade, "accounts", Some("b"));
        calls.record(Provider::SnapTrade, "refresh", Some("a"));
        calls.bill(Provider::SnapTrade, "refresh", Some("a"));
        calls.record(Provider::SnapTrade, "brokerages", None);
        let v = calls.to_json();
        assert_eq!(v["snaptrade"]["total"], 4);
        assert_eq!(v["snaptrade"]["billed"], 1);
        assert_eq!(v["snaptrade"]["operations"]["accounts"], 2);
        assert_eq!(v["snaptrade"]["users"]["a"]["operations"]["refresh"], 1);
        assert_eq!(v["snaptrade"]["users"]["a"]["billed"], 1);
        assert_eq!(v["snaptrade"]["users"][NO_USER]["total"], 1);
        assert_eq!(v["plaid"]["total"], 0);
        assert_eq!(v["schwab"], json!({"total": 0, "billed": 0, "operations": {}, "users": {}}));
        assert_eq!(v["ibkr"], json!({"total": 0, "billed": 0, "operations": {}, "users": {}}));
        let listed: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(listed.len(), Provider::ALL.len());
        calls.reset();
        assert_eq!(calls.to_json()["snaptrade"]["total"], 0);
    }
}
