//! The institution picker's answer: for each institution matching a search, the provider each
//! kind of connection would use right now and why, and what the account will be able to do.

use super::{CoverageMap, CoverageRule, ProviderHealth, RoutingDecision, RoutingError};
use crate::capabilities::{capabilities_for, Capabilities, ConnectionType};
use crate::domain::InstitutionSlug;
use crate::error::ErrorCode;
use crate::institutions::AliasTable;
use serde::Serialize;

/// Most entries a search returns.
pub const MAX_CATALOG_ENTRIES: usize = 50;

/// Why no connection of a kind can be made now: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unroutable {
    pub code: &'static str,
    pub message: String,
}

/// A routing decision, or why there is none; serialised as the decision itself or `{"error": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Route {
    Chosen(RoutingDecision),
    Unavailable { error: Unroutable },
}

impl Route {
    /// The decision, when a provider was chosen.
    pub fn decision(&self) -> Option<&RoutingDecision> {
        match self {
            Self::Chosen(decision) => Some(decision),
            Self::Unavailable { .. } => None,
        }
    }
}

impl From<Result<RoutingDecision, RoutingError>> for Route {
    fn from(result: Result<RoutingDecision, RoutingError>) -> Self {
        match result {
            Ok(decision) => Self::Chosen(decision),
            Err(e) => Self::Unavailable { error: Unroutable { code: e.code(), message: e.to_string() } },
        }
    }
}

/// How one institution would be connected now, for reading only and for trading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogEntry {
    /// `None` for a name Tributary has no entry for (it is routed by the unknown-institution rule).
    pub slug: Option<InstitutionSlug>,
    pub display_name: String,
    pub popular: bool,
    /// The coverage rule, when the institution has one.
    pub coverage: Option<CoverageRule>,
    /// Where a read-only connection goes, or why none can be made now.
    pub read: Route,
    /// Where a connection that must trade goes, or why none can be made now.
    pub trade: Route,
    /// What accounts from a read-only connection through `read`'s provider can do.
    pub read_capabilities: Option<Capabilities>,
    /// What accounts from a trade connection through `trade`'s provider can do.
    pub trade_capabilities: Option<Capabilities>,
}

/// Catalog entries for a search: a blank query lists the popular institutions; otherwise the alias
/// table's matches (exact, then prefix, then substring). A query that matches no institution yields
/// one entry for the name as typed, routed like any unknown institution.
pub fn catalog(query: &str, health: &ProviderHealth) -> Vec<CatalogEntry> {
    catalog_with(CoverageMap::embedded(), AliasTable::embedded(), query, health)
}

/// [`catalog`] with a deployment's own coverage map and alias table.
pub fn catalog_with(
    map: &CoverageMap,
    aliases: &AliasTable,
    query: &str,
    health: &ProviderHealth,
) -> Vec<CatalogEntry> {
    let query = query.trim();
    let slugs: Vec<(InstitutionSlug, String)> = if query.is_empty() {
        map.iter()
            .filter(|(_, rule)| rule.popular)
            .map(|(slug, rule)| (slug.clone(), rule.display_name.clone()))
            .collect()
    } else {
        aliases.search(query).into_iter().map(|i| (i.slug.clone(), i.display_name.clone())).collect()
    };
    let mut entries: Vec<CatalogEntry> = slugs
        .into_iter()
        .take(MAX_CATALOG_ENTRIES)
        .map(|(slug, display_name)| entry(map, aliases, Some(slug), display_name, health))
        .collect();
    if entries.is_empty() && !query.is_empty() {
        entries.push(entry(map, aliases, None, query.to_owned(), health));
    }
    entries
}

fn entry(
    map: &CoverageMap,
    aliases: &AliasTable,
    slug: Option<InstitutionSlug>,
    display_name: String,
    health: &ProviderHealth,
) -> CatalogEntry {
    let name = slug.as_ref().map_or(display_name.as_str(), InstitutionSlug::as_str);
    let coverage = slug.as_ref().and_then(|s| map.rule(s)).cloned();
    let route = |need_trading| Route::from(map.choose_provider(aliases, name, need_trading, health));
    let (read, trade) = (route(false), route(true));
    let caps = |route: &Route, connection| {
        route.decision().map(|d| capabilities_for(d.provider, coverage.as_ref(), connection))
    };
    CatalogEntry {
        popular: coverage.as_ref().is_some_and(|r| r.popular),
        read_capabilities: caps(&read, ConnectionType::Read),
        trade_capabilities: caps(&trade, ConnectionType::Trade),
        slug,
        display_name,
        coverage,
        read,
        trade,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::ProviderState;
    use crate::domain::Provider;

    fn slug(s: &str) -> InstitutionSlug {
        InstitutionSlug::parse(s).unwrap()
    }

    #[test]
    fn a_blank_query_lists_only_popular_institutions() {
        let entries = catalog("", &ProviderHealth::all_healthy());
        assert!(!entries.is_empty());
        assert!(entries.iter().all(|e| e.popular && e.coverage.is_some()));
    }

    #[test]
    fn schwab_reads_through_schwab_direct_and_trades_through_snaptrade_on_a_trade_connection() {
        let entries = catalog("schwab", &ProviderHealth::all_healthy());
        let schwab = entries.iter().find(|e| e.slug == Some(slug("charles_schwab"))).expect("schwab listed");
        assert_eq!(schwab.read.decision().unwrap().provider, Provider::Schwab);
        assert_eq!(schwab.trade.decision().unwrap().provider, Provider::SnapTrade);
        assert!(!schwab.read_capabilities.unwrap().trading);
        assert!(schwab.trade_capabilities.unwrap().trading);
    }

    #[test]
    fn an_unknown_name_is_listed_as_typed_and_routed_to_plaid_or_snaptrade_for_trading() {
        let entries = catalog("Purchase Bank of Nowhere", &ProviderHealth::all_healthy());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].slug, None);
        assert_eq!(entries[0].read.decision().unwrap().provider, Provider::Plaid);
        assert_eq!(entries[0].trade.decision().unwrap().provider, Provider::SnapTrade);
    }

    #[test]
    fn a_provider_in_maintenance_is_passed_over_and_the_entry_says_so() {
        let health = ProviderHealth::all_healthy()
            .with(Provider::SnapTrade, ProviderState::healthy().with_maintenance(slug("etrade")));
        let entries = catalog("E*TRADE", &health);
        let read = entries[0].read.decision().unwrap();
        assert_eq!(read.provider, Provider::Plaid, "{read:?}");
        assert!(read.used_fallback);
        assert_eq!(read.passed_over[0].provider, Provider::SnapTrade);
    }

    #[test]
    fn no_usable_provider_is_an_explained_error_not_a_wrong_provider() {
        let health = ProviderHealth::all_healthy()
            .with(Provider::SnapTrade, ProviderState::not_configured())
            .with(Provider::Plaid, ProviderState::not_configured());
        let entries = catalog("Fidelity", &health);
        assert!(entries[0].read.decision().is_none() && entries[0].trade.decision().is_none());
        let shown = serde_json::to_value(&entries[0].read).unwrap();
        assert_eq!(shown["error"]["code"], "no_provider_available");
        assert!(entries[0].read_capabilities.is_none());
    }
}
