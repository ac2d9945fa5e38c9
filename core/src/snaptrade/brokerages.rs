//! SnapTrade's `/brokerages` list read for routing health: which institutions SnapTrade itself
//! reports as in maintenance or disabled right now.

use crate::domain::InstitutionSlug;
use serde_json::Value;
use std::collections::BTreeSet;

/// Institutions whose brokerage entry says `maintenance_mode: true` or `enabled: false`, resolved
/// to slugs by display name, name or SnapTrade slug. Entries we cannot resolve are skipped: they
/// cannot affect a routing decision. A non-list answer yields nothing (health is fail-open).
pub fn brokerages_in_maintenance(
    value: &Value,
    resolve: &dyn Fn(&str) -> Option<InstitutionSlug>,
) -> BTreeSet<InstitutionSlug> {
    let Some(list) = value.as_array() else { return BTreeSet::new() };
    list.iter()
        .filter(|b| {
            b.get("maintenance_mode").and_then(Value::as_bool) == Some(true)
                || b.get("enabled").and_then(Value::as_bool) == Some(false)
        })
        .filter_map(|b| {
            ["display_name", "name", "slug"].iter().find_map(|k| b.get(*k).and_then(Value::as_str).and_then(resolve))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_brokerages_in_maintenance_or_disabled_are_reported() {
        let list = json!([
            {"display_name": "Charles Schwab", "slug": "SCHWAB", "enabled": true, "maintenance_mode": true},
            {"display_name": "Fidelity", "slug": "FIDELITY", "enabled": false, "maintenance_mode": false},
            {"display_name": "Robinhood", "slug": "ROBINHOOD", "enabled": true, "maintenance_mode": false},
            {"display_name": "Nowhere Brokerage", "enabled": false}
        ]);
        let found = brokerages_in_maintenance(&list, &crate::institutions::resolve_institution);
        let names: Vec<&str> = found.iter().map(InstitutionSlug::as_str).collect();
        assert_eq!(names, ["charles_schwab", "fidelity"]);
        assert!(brokerages_in_maintenance(&json!({"oops": 1}), &crate::institutions::resolve_institution).is_empty());
    }
}
