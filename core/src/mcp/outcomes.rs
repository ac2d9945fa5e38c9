//! The readable side of each tool's outcome: the one-line summaries beside `structuredContent`,
//! and a refused refresh as an `isError` result saying why and when the refresh is next allowed
//! (the same refusal `POST /api/holdings/refresh` answers with 429 or 402).

use super::tools::ToolOutcome;
use crate::error::ErrorCode;
use crate::refresh::{refusal, RefreshDecision};
use serde_json::Value;

/// Why a request to `/mcp` is refused before the protocol runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpRefusal {
    /// `Origin` is present and neither the worker's own nor in `ALLOWED_ORIGINS` (403).
    #[error("requests from this origin may not use the MCP endpoint; list it in ALLOWED_ORIGINS")]
    OriginNotAllowed,
}

impl ErrorCode for McpRefusal {
    fn code(&self) -> &'static str {
        "origin_not_allowed"
    }
    fn http_status(&self) -> u16 {
        403
    }
}

/// The `isError` result for a refresh the policy refused, `now` being the decision's time;
/// `None` when `decision` is not a refusal.
pub fn refused_refresh(decision: &RefreshDecision, now: i64) -> Option<ToolOutcome> {
    let (_, _, refused) = refusal(decision)?;
    let next = match decision {
        RefreshDecision::CoolingDown { retry_after_s } | RefreshDecision::Throttled { retry_after_s, .. } => {
            Some((now.saturating_add(*retry_after_s as i64), *retry_after_s as i64))
        }
        RefreshDecision::CostCapped { next_allowed_at, .. } => Some((*next_allowed_at, next_allowed_at - now)),
        RefreshDecision::Allowed { .. } | RefreshDecision::NothingPending => None,
    };
    let when =
        next.map_or(String::new(), |(at, wait)| format!(" Next allowed at Unix time {at} (in {} s).", wait.max(0)));
    Some(ToolOutcome::failure(format!(
        "Refresh refused ({}): {}{when} Nothing was refreshed and no billed call was made.",
        refused.error.code, refused.error.message
    )))
}

/// The entries of `value`'s `providers` array (none when it has none).
fn providers(value: &Value) -> impl Iterator<Item = &Value> {
    value.get("providers").and_then(Value::as_array).into_iter().flatten()
}

fn is_connected(entry: &&Value) -> bool {
    entry.get("connected").and_then(Value::as_bool) == Some(true)
}

fn array_len(value: &Value, key: &str) -> usize {
    value.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

/// `get_positions`: how many rows, and each provider's status and freshness.
pub fn positions_summary(portfolio: &Value) -> String {
    let view = portfolio.get("view").and_then(Value::as_str).unwrap_or("consolidated");
    let rows = array_len(portfolio, view);
    let unit = if view == "by_account" { "accounts" } else { "consolidated positions" };
    let providers: Vec<String> = providers(portfolio)
        .map(|p| {
            let name = p.get("provider").and_then(Value::as_str).unwrap_or("?");
            let status = p.get("status").and_then(Value::as_str).unwrap_or("?");
            match p.get("cache_info").filter(|c| c.is_object()) {
                Some(cache) => {
                    let age = cache
                        .get("age_hours")
                        .and_then(Value::as_str)
                        .map_or("just fetched".to_owned(), |h| format!("{h} h old"));
                    let from_cache = cache.get("from_cache").and_then(Value::as_bool) == Some(true);
                    format!("{name} {status} ({}{age})", if from_cache { "cached, " } else { "" })
                }
                None => format!("{name} {status}"),
            }
        })
        .collect();
    format!("{rows} {unit}; providers: {}.", providers.join(", "))
}

/// A refresh `get_positions` carried out first: each provider's outcome.
pub fn refresh_summary(refresh: &Value) -> String {
    let results: Vec<String> = refresh
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let text = |key| r.get(key).and_then(Value::as_str).unwrap_or("?");
            format!("{} {}", text("provider"), text("status"))
        })
        .collect();
    if results.is_empty() {
        "Refresh: nothing to refresh.".to_owned()
    } else {
        format!("Refresh: {}.", results.join(", "))
    }
}

/// `list_connections`: which providers are connected.
pub fn connections_summary(listing: &Value) -> String {
    let connected: Vec<&str> =
        providers(listing).filter(is_connected).filter_map(|p| p.get("provider").and_then(Value::as_str)).collect();
    if connected.is_empty() {
        "No provider is connected.".to_owned()
    } else {
        format!("Connected: {}.", connected.join(", "))
    }
}

/// `connection_health`: each connected provider's availability, then each connection that is not
/// `ok` with its status and reason.
pub fn health_summary(health: &Value) -> String {
    let lines: Vec<String> = providers(health)
        .filter(is_connected)
        .map(|p| {
            let name = p.get("provider").and_then(Value::as_str).unwrap_or("?");
            let available = p.get("available").and_then(Value::as_bool) == Some(true);
            format!("{name} {}", if available { "available" } else { "unavailable" })
        })
        .collect();
    if lines.is_empty() {
        return "No provider is connected.".to_owned();
    }
    let attention: Vec<String> = health
        .get("connections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("status").and_then(Value::as_str).is_some_and(|s| s != "ok"))
        .map(|c| {
            let field = |key| c.get(key).and_then(Value::as_str).unwrap_or("?");
            format!("{} {} ({})", field("provider"), field("status"), field("reason"))
        })
        .collect();
    if attention.is_empty() {
        format!("{}.", lines.join(", "))
    } else {
        format!("{}. Needs attention: {}.", lines.join(", "), attention.join(", "))
    }
}

/// `get_transactions`: how many rows in which window, and whether more pages exist.
pub fn transactions_summary(page: &Value) -> String {
    let text = |key| page.get(key).and_then(Value::as_str).unwrap_or("?");
    let more =
        if page.get("next_cursor").is_some_and(|c| !c.is_null()) { " (more exist: narrow the window)" } else { "" };
    format!("{} transactions from {} to {}{more}.", array_len(page, "transactions"), text("from"), text("to"))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    let mut at = value;
    for key in path {
        at = at.get(*key).unwrap_or(&Value::Null);
    }
    at.as_str().unwrap_or("")
}

fn figure(estimate: &Value, name: &str) -> String {
    let source = text(estimate, &["source", name]);
    match estimate.get(name).and_then(Value::as_str) {
        Some(value) => format!("{name} {value} ({source})"),
        None => format!("{name} unavailable"),
    }
}

/// `preview_trade`: the order, each estimate with its source, and how long it can be placed.
pub fn preview_summary(preview: &Value) -> String {
    let order = &preview["order"];
    let units = text(order, &["units"]);
    let limit = match text(order, &["limit_price"]) {
        "" => String::new(),
        price => format!(" at {price}"),
    };
    let estimate = &preview["estimate"];
    let figures: Vec<String> =
        ["price", "commission", "fees", "remaining_cash"].iter().map(|name| figure(estimate, name)).collect();
    format!(
        "Preview {}: {} {units} {} ({}{limit}, {}) in account {} at {}. {}. Place it with place_order within 5 minutes (until Unix time {}); nothing has been placed.",
        text(preview, &["preview_id"]),
        text(order, &["action"]),
        text(order, &["symbol"]),
        text(order, &["order_type"]),
        text(order, &["time_in_force"]),
        text(preview, &["account_id"]),
        text(preview, &["brokerage"]),
        figures.join(", "),
        preview["expires_at"]
    )
}

/// `place_order`: where the order stands now.
pub fn order_summary(answer: &Value) -> String {
    let order = &answer["order"];
    let again = if answer["replayed"] == Value::Bool(true) {
        " (this key's earlier answer; nothing was sent again)"
    } else {
        ""
    };
    format!(
        "Order {}: {} {} {} is {}{again}.{}",
        text(order, &["id"]),
        text(order, &["action"]),
        text(order, &["units"]),
        text(order, &["symbol"]),
        text(order, &["state"]),
        match text(order, &["message"]) {
            "" => String::new(),
            message => format!(" {message}"),
        }
    )
}

/// `place_order` on a deployment that does not let assistants place orders.
pub fn place_disabled() -> ToolOutcome {
    ToolOutcome::failure(
        "Placing orders through an assistant is turned off on this deployment (MCP_ALLOW_PLACE is not true). Nothing was placed: the person can place the preview from the app.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provider;
    use serde_json::json;

    #[test]
    fn a_refresh_in_its_cooldown_is_an_error_saying_when_it_is_next_allowed() {
        let outcome = refused_refresh(&RefreshDecision::CoolingDown { retry_after_s: 42 }, 1_000).unwrap();
        assert!(outcome.is_error);
        assert!(outcome.summary.contains("refresh_cooling_down"), "{}", outcome.summary);
        assert!(outcome.summary.contains("1042") && outcome.summary.contains("in 42 s"), "{}", outcome.summary);
    }

    #[test]
    fn a_capped_paid_refresh_is_an_error_with_the_policy_reason_and_next_time() {
        let decision = RefreshDecision::CostCapped {
            provider: Provider::Plaid,
            next_allowed_at: 90_000,
            reason: "Plaid refreshes are billed".into(),
        };
        let outcome = refused_refresh(&decision, 3_600).unwrap();
        assert!(outcome.summary.contains("Plaid refreshes are billed"));
        assert!(outcome.summary.contains("90000") && outcome.summary.contains("in 86400 s"));
        assert!(outcome.summary.contains("no billed call"));
    }

    #[test]
    fn an_allowed_refresh_is_not_a_refusal() {
        assert_eq!(refused_refresh(&RefreshDecision::NothingPending, 0), None);
    }

    #[test]
    fn summaries_name_counts_and_providers() {
        let portfolio = json!({"view": "consolidated", "consolidated": [{}, {}], "providers": [
            {"provider": "snaptrade", "status": "ok", "cache_info": {"age_hours": "2.00", "ttl_hours": 24, "from_cache": true}},
            {"provider": "plaid", "status": "not_connected", "cache_info": null}]});
        assert_eq!(
            positions_summary(&portfolio),
            "2 consolidated positions; providers: snaptrade ok (cached, 2.00 h old), plaid not_connected."
        );
        let listing = json!({"providers": [{"provider": "snaptrade", "connected": true}, {"provider": "plaid", "connected": false}]});
        assert_eq!(connections_summary(&listing), "Connected: snaptrade.");
        let health = json!({"providers": [{"provider": "snaptrade", "connected": true, "available": true}]});
        assert_eq!(health_summary(&health), "snaptrade available.");
        let health = json!({"providers": [{"provider": "schwab", "connected": true, "available": true}], "connections": [
            {"provider": "schwab", "status": "expires_soon", "reason": "login_expires_soon"},
            {"provider": "schwab", "status": "ok", "reason": null}]});
        assert_eq!(
            health_summary(&health),
            "schwab available. Needs attention: schwab expires_soon (login_expires_soon)."
        );
        let page = json!({"from": "2026-01-01", "to": "2026-03-31", "transactions": [{}], "next_cursor": null});
        assert_eq!(transactions_summary(&page), "1 transactions from 2026-01-01 to 2026-03-31.");
        let refresh = json!({"decision": "allowed", "results": [{"provider": "snaptrade", "status": "ok"}]});
        assert_eq!(refresh_summary(&refresh), "Refresh: snaptrade ok.");
    }

    #[test]
    fn a_preview_summary_names_each_figure_with_its_source_and_says_nothing_was_placed() {
        let preview = serde_json::json!({"preview_id": "p1", "account_id": "a1", "brokerage": "Robinhood", "expires_at": 1300,
            "order": {"action": "BUY", "units": "2", "symbol": "MSFT", "order_type": "Limit", "time_in_force": "Day", "limit_price": "401.25"},
            "estimate": {"price": "401.25", "commission": "0", "fees": null, "remaining_cash": "17.50",
                "source": {"price": "brokerage", "commission": "brokerage", "fees": "unavailable", "remaining_cash": "brokerage"}}});
        let summary = super::preview_summary(&preview);
        for part in
            ["BUY 2 MSFT", "at 401.25", "price 401.25 (brokerage)", "fees unavailable", "nothing has been placed"]
        {
            assert!(summary.contains(part), "{part}: {summary}");
        }
        assert!(!summary.contains("fees 0"), "an unknown figure is never 0: {summary}");
    }
}
