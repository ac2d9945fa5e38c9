//! The coverage map — institution slug → preferred provider, optional fallback, whether trading is
//! allowed — and link-time routing over it ([`choose_provider`]).
//!
//! The map is data: `core/data/coverage.json` is embedded and parsed once, and a deployment can
//! replace it with its own JSON. This module decides; it fetches nothing and reads no clock.
//! Provider health comes in as an argument ([`ProviderHealth`]).

mod catalog;
mod health;
mod routing;

pub use catalog::{catalog, catalog_with, CatalogEntry, Route, Unroutable, MAX_CATALOG_ENTRIES};
pub use health::{ProviderHealth, ProviderProblem, ProviderState, RecentFailures};
pub use health::{FAILURE_RATE_THRESHOLD_PERCENT, MIN_ATTEMPTS_FOR_FAILURE_RATE};
pub use routing::{choose_provider, PassedOver, RoutingDecision, RoutingError, RoutingReason};

use crate::domain::{InstitutionSlug, Provider};
use crate::tables::{bad_entry, parse_table, TableError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = "coverage";
const EMBEDDED_JSON: &str = include_str!("../../data/coverage.json");

/// How one institution is connected: which provider first, which one if that fails, and whether
/// trading through Tributary is allowed there at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageRule {
    pub display_name: String,
    pub preferred: Provider,
    #[serde(default)]
    pub fallback: Option<Provider>,
    #[serde(default)]
    pub trading_allowed: bool,
    /// Shown first in institution pickers.
    #[serde(default)]
    pub popular: bool,
}

impl CoverageRule {
    /// The providers to try, in order: the preferred one, then the fallback if there is one.
    pub fn providers(&self) -> impl Iterator<Item = Provider> {
        std::iter::once(self.preferred).chain(self.fallback)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageFile {
    institutions: BTreeMap<InstitutionSlug, CoverageRule>,
}

/// Every institution Tributary has an explicit routing rule for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoverageMap {
    rules: BTreeMap<InstitutionSlug, CoverageRule>,
}

impl CoverageMap {
    /// Parses a coverage map; refuses a blank display name or a fallback equal to the preferred.
    pub fn from_json(json: &str) -> Result<Self, TableError> {
        let file: CoverageFile = parse_table(TABLE, json)?;
        for (slug, rule) in &file.institutions {
            if rule.display_name.trim().is_empty() {
                return Err(bad_entry(TABLE, slug.as_str(), "display_name is empty"));
            }
            if rule.fallback == Some(rule.preferred) {
                return Err(bad_entry(TABLE, slug.as_str(), "fallback must differ from preferred"));
            }
        }
        Ok(Self { rules: file.institutions })
    }

    /// The map shipped in `core/data/coverage.json`, parsed once per process.
    pub fn embedded() -> &'static Self {
        static MAP: OnceLock<CoverageMap> = OnceLock::new();
        MAP.get_or_init(|| Self::from_json(EMBEDDED_JSON).expect("embedded coverage.json is valid (tested)"))
    }

    /// The rule for a slug, if the map has one.
    pub fn rule(&self, slug: &InstitutionSlug) -> Option<&CoverageRule> {
        self.rules.get(slug)
    }

    /// Every rule, in slug order.
    pub fn iter(&self) -> impl Iterator<Item = (&InstitutionSlug, &CoverageRule)> {
        self.rules.iter()
    }
}

#[cfg(test)]
#[path = "coverage_tests.rs"]
mod tests;
