//! Dedup routing: when two providers cover one institution, only its canonical provider's rows
//! count. Positions and transactions have separate routing maps (slug → canonical provider, or an
//! ordered chain of them such as `["schwab", "snaptrade"]`), which are data
//! (`core/data/dedup_routing.json`, embedded; a deployment can load its own).
//!
//! The canonical provider of an institution is the first provider of its chain that is available
//! (configured, healthy, and supplying that institution's data). Fail-open: a provider skips an
//! institution only when ANOTHER provider is canonical for it in that sense; when none in the
//! chain is available, every copy is kept. Anything unknown is kept. Removing every row of a
//! provider is reported as "routed away", never confused with "the provider returned nothing".

use crate::domain::{Holdings, InstitutionSlug, Provider};
use crate::institutions::AliasTable;
use crate::tables::{parse_table, TableError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const TABLE: &str = "dedup_routing";
const EMBEDDED_JSON: &str = include_str!("../data/dedup_routing.json");

/// Which kind of data a routing question is about; each has its own map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    Positions,
    Transactions,
}

/// The canonical provider of institutions, per data type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupRouting {
    #[serde(default)]
    positions: BTreeMap<InstitutionSlug, Chain>,
    #[serde(default)]
    transactions: BTreeMap<InstitutionSlug, Chain>,
}

/// An institution's canonical providers, most preferred first; written as one name or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
struct Chain(Vec<Provider>);

impl<'de> Deserialize<'de> for Chain {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            One(Provider),
            Many(Vec<Provider>),
        }
        let chain = match Written::deserialize(deserializer)? {
            Written::One(provider) => vec![provider],
            Written::Many(list) => list,
        };
        if chain.is_empty() {
            return Err(serde::de::Error::custom("a canonical chain names at least one provider"));
        }
        if chain.iter().enumerate().any(|(i, p)| chain[..i].contains(p)) {
            return Err(serde::de::Error::custom("a canonical chain names each provider once"));
        }
        Ok(Self(chain))
    }
}

/// Whether a provider keeps or skips an institution's data, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum SkipDecision {
    /// The institution could not be resolved to a slug: kept.
    KeepUnknownInstitution,
    /// No provider is canonical for the institution and data type: kept.
    KeepNoRoutingRule,
    /// This provider is the canonical one: kept.
    KeepIsCanonical,
    /// Another provider is canonical but unavailable: kept, so nothing is lost.
    KeepCanonicalUnavailable { canonical: Provider },
    /// This provider stands in for `preferred`, which is earlier in the chain but unavailable:
    /// kept, and other copies go to this one.
    KeepStandsIn { preferred: Provider },
    /// Another provider is canonical and available: skipped.
    Skip { canonical: Provider },
}

impl SkipDecision {
    /// True only for [`SkipDecision::Skip`].
    pub fn should_skip(&self) -> bool {
        matches!(self, Self::Skip { .. })
    }
}

/// Rows of one institution removed from a provider's holdings because another provider is canonical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutedAway {
    pub institution: InstitutionSlug,
    /// The canonical provider the institution's data comes from instead.
    pub to: Provider,
    pub accounts: usize,
    pub positions: usize,
    pub balances: usize,
}

/// What dedup did to one provider's holdings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DedupOutcome {
    /// The provider's holdings were empty before any routing.
    ProviderReturnedNothing,
    /// Every row was kept.
    NothingRoutedAway,
    /// Some institutions were routed to their canonical provider; other rows were kept.
    SomeRoutedAway { routed_away: Vec<RoutedAway> },
    /// Every row was routed to another provider: the provider did return data.
    AllRoutedAway { routed_away: Vec<RoutedAway> },
}

impl DedupOutcome {
    /// The institutions routed away (empty unless some or all were).
    pub fn routed_away(&self) -> &[RoutedAway] {
        match self {
            Self::SomeRoutedAway { routed_away } | Self::AllRoutedAway { routed_away } => routed_away,
            _ => &[],
        }
    }
}

/// An institution whose rows a provider kept although its preferred canonical provider is
/// another one: that provider could not supply them (unconfigured, failing, needing repair, or
/// not connected), so nothing is lost (fail-open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailOpen {
    pub institution: InstitutionSlug,
    /// The provider whose copy would have counted had it been available.
    pub preferred: Provider,
}

/// A provider's holdings after dedup, and what was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedHoldings {
    pub kept: Holdings,
    pub outcome: DedupOutcome,
    /// Institutions kept only because their preferred canonical provider was unavailable.
    pub fail_open: Vec<FailOpen>,
}

/// [`DedupRouting::should_skip_for_provider`] with the embedded tables; `institution` may be a
/// name or a slug.
pub fn should_skip_for_provider(
    institution: &str,
    my_provider: Provider,
    data_type: DataType,
    available: &[Provider],
) -> SkipDecision {
    let aliases = AliasTable::embedded();
    match aliases.resolve(institution).or_else(|| InstitutionSlug::parse(institution.trim()).ok()) {
        Some(slug) => DedupRouting::embedded().should_skip_for_provider(&slug, my_provider, data_type, available),
        None => SkipDecision::KeepUnknownInstitution,
    }
}

/// [`DedupRouting::route_holdings`] with the embedded tables and a plain set of available providers.
pub fn dedup_holdings(holdings: Holdings, my_provider: Provider, available: &[Provider]) -> RoutedHoldings {
    DedupRouting::embedded()
        .route_holdings(AliasTable::embedded(), holdings, my_provider, |p, _| available.contains(&p))
}

impl DedupRouting {
    /// Parses `{"positions": {slug: provider}, "transactions": {slug: provider}}` (either may be absent).
    pub fn from_json(json: &str) -> Result<Self, TableError> {
        parse_table(TABLE, json)
    }

    /// The maps shipped in `core/data/dedup_routing.json`, parsed once per process.
    pub fn embedded() -> &'static Self {
        static ROUTING: OnceLock<DedupRouting> = OnceLock::new();
        ROUTING.get_or_init(|| Self::from_json(EMBEDDED_JSON).expect("embedded dedup_routing.json is valid (tested)"))
    }

    /// The provider whose `data_type` rows count for `institution` when it is available: the
    /// head of its chain, if one is named.
    pub fn canonical_provider(&self, institution: &InstitutionSlug, data_type: DataType) -> Option<Provider> {
        self.canonical_chain(institution, data_type).first().copied()
    }

    /// Every provider that may be canonical for `institution`'s `data_type` rows, most preferred
    /// first (empty when none is named).
    pub fn canonical_chain(&self, institution: &InstitutionSlug, data_type: DataType) -> &[Provider] {
        let map = match data_type {
            DataType::Positions => &self.positions,
            DataType::Transactions => &self.transactions,
        };
        map.get(institution).map_or(&[], |chain| chain.0.as_slice())
    }

    /// Skips only when another provider is canonical for the institution AND is in `available`
    /// (configured and healthy); keeps otherwise.
    pub fn should_skip_for_provider(
        &self,
        institution: &InstitutionSlug,
        my_provider: Provider,
        data_type: DataType,
        available: &[Provider],
    ) -> SkipDecision {
        self.decide(institution, my_provider, data_type, |p, _| available.contains(&p))
    }

    /// The rule behind every skip decision; `is_available` says whether a canonical provider can
    /// actually supply an institution's data.
    fn decide(
        &self,
        institution: &InstitutionSlug,
        my_provider: Provider,
        data_type: DataType,
        is_available: impl Fn(Provider, &InstitutionSlug) -> bool,
    ) -> SkipDecision {
        let chain = self.canonical_chain(institution, data_type);
        let Some(&head) = chain.first() else { return SkipDecision::KeepNoRoutingRule };
        match chain.iter().copied().find(|p| is_available(*p, institution)) {
            Some(canonical) if canonical == my_provider && canonical == head => SkipDecision::KeepIsCanonical,
            Some(canonical) if canonical == my_provider => SkipDecision::KeepStandsIn { preferred: head },
            Some(canonical) => SkipDecision::Skip { canonical },
            // Nobody in the chain can supply it: every copy stays (fail-open).
            None if my_provider == head => SkipDecision::KeepIsCanonical,
            None if chain.contains(&my_provider) => SkipDecision::KeepStandsIn { preferred: head },
            None => SkipDecision::KeepCanonicalUnavailable { canonical: head },
        }
    }

    /// Removes from `my_provider`'s holdings the accounts, positions and balances of institutions
    /// that another provider is canonical for and `is_available` says can supply. A row's
    /// institution is its own slug, else its account's slug, else its account's institution name
    /// resolved through `aliases`; rows whose institution stays unknown are kept.
    pub fn route_holdings(
        &self,
        aliases: &AliasTable,
        holdings: Holdings,
        my_provider: Provider,
        is_available: impl Fn(Provider, &InstitutionSlug) -> bool,
    ) -> RoutedHoldings {
        let was_empty = holdings.accounts.is_empty() && holdings.positions.is_empty() && holdings.balances.is_empty();
        let account_institution = account_institutions(aliases, &holdings);
        let mut routed: BTreeMap<InstitutionSlug, RoutedAway> = BTreeMap::new();
        let fail_open = std::cell::RefCell::new(BTreeMap::<InstitutionSlug, Provider>::new());
        let skip_to = |institution: Option<&InstitutionSlug>| -> Option<(InstitutionSlug, Provider)> {
            let slug = institution?;
            match self.decide(slug, my_provider, DataType::Positions, &is_available) {
                SkipDecision::Skip { canonical } => Some((slug.clone(), canonical)),
                SkipDecision::KeepStandsIn { preferred: canonical }
                | SkipDecision::KeepCanonicalUnavailable { canonical } => {
                    fail_open.borrow_mut().insert(slug.clone(), canonical);
                    None
                }
                _ => None,
            }
        };
        let mut kept = Holdings::default();
        for account in holdings.accounts {
            match skip_to(account_institution.get(&account.account_id)) {
                Some((slug, to)) => record(&mut routed, slug, to).accounts += 1,
                None => kept.accounts.push(account),
            }
        }
        for position in holdings.positions {
            match skip_to(position.institution.as_ref().or_else(|| account_institution.get(&position.account_id))) {
                Some((slug, to)) => record(&mut routed, slug, to).positions += 1,
                None => kept.positions.push(position),
            }
        }
        for balance in holdings.balances {
            match skip_to(balance.institution.as_ref().or_else(|| account_institution.get(&balance.account_id))) {
                Some((slug, to)) => record(&mut routed, slug, to).balances += 1,
                None => kept.balances.push(balance),
            }
        }
        let routed_away: Vec<RoutedAway> = routed.into_values().collect();
        let kept_nothing = kept.accounts.is_empty() && kept.positions.is_empty() && kept.balances.is_empty();
        let outcome = match (was_empty, routed_away.is_empty(), kept_nothing) {
            (true, _, _) => DedupOutcome::ProviderReturnedNothing,
            (false, true, _) => DedupOutcome::NothingRoutedAway,
            (false, false, true) => DedupOutcome::AllRoutedAway { routed_away },
            (false, false, false) => DedupOutcome::SomeRoutedAway { routed_away },
        };
        let fail_open = fail_open
            .into_inner()
            .into_iter()
            .map(|(institution, preferred)| FailOpen { institution, preferred })
            .collect();
        RoutedHoldings { kept, outcome, fail_open }
    }
}

/// Each account's institution: its slug, else its institution name resolved through `aliases`.
fn account_institutions(aliases: &AliasTable, holdings: &Holdings) -> BTreeMap<String, InstitutionSlug> {
    holdings
        .accounts
        .iter()
        .filter_map(|a| {
            let slug = a.institution.clone().or_else(|| a.institution_name.as_deref().and_then(|n| aliases.resolve(n)));
            slug.map(|s| (a.account_id.clone(), s))
        })
        .collect()
}

/// Every institution `holdings` has a row for, resolved as [`DedupRouting::route_holdings`] does.
pub fn institutions_in(aliases: &AliasTable, holdings: &Holdings) -> BTreeSet<InstitutionSlug> {
    let by_account = account_institutions(aliases, holdings);
    let rows = holdings
        .positions
        .iter()
        .map(|p| (p.institution.as_ref(), &p.account_id))
        .chain(holdings.balances.iter().map(|b| (b.institution.as_ref(), &b.account_id)));
    let mut found: BTreeSet<InstitutionSlug> = by_account.values().cloned().collect();
    found.extend(rows.filter_map(|(own, account)| own.or_else(|| by_account.get(account)).cloned()));
    found
}

/// The tally of rows routed away for `slug`, created on first use.
fn record(routed: &mut BTreeMap<InstitutionSlug, RoutedAway>, slug: InstitutionSlug, to: Provider) -> &mut RoutedAway {
    routed.entry(slug.clone()).or_insert(RoutedAway { institution: slug, to, accounts: 0, positions: 0, balances: 0 })
}

#[cfg(test)]
#[path = "dedup_tests.rs"]
mod tests;
