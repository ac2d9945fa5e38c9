//! Merge: every provider's result — holdings, a failure, or no connection — becomes one portfolio
//! with two views (`by_account`, `consolidated`), cash and totals per currency, and a status per
//! provider. Dedup routing is applied first, so an institution covered twice counts once.
//!
//! Promises: merging never loses quantity or value (totals in equal totals out, per security and
//! per currency, whatever dedup did not route away); no currency is dropped or converted; the
//! result does not depend on the order of the inputs. It does not fetch, price or convert anything.

mod answer;
mod check;
mod views;

pub use answer::{MergeView, PortfolioView, ProviderResultInput};
pub use check::{HoldingsCheckError, MAX_PLAUSIBLE_MAGNITUDE};

use crate::cache::CacheInfo;
use crate::dedup::{institutions_in, DedupOutcome, DedupRouting, FailOpen, RoutedAway};
use crate::domain::{Account, CashBalance, Currency, Holdings, InstitutionSlug, Position, Provider, Quantity};
use crate::domain::{SecurityKind, Ticker};
use crate::error::ErrorCode;
use crate::institutions::AliasTable;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Whose metadata (names, tickers, kinds) wins when sources disagree, first = highest: a direct
/// feed (Schwab, IBKR Flex) is the broker's own record; SnapTrade reads the broker's position
/// records; Plaid's security data is aggregator-normalised.
pub const PROVIDER_PRIORITY: [Provider; 4] =
    [Provider::Schwab, Provider::IbkrFlex, Provider::SnapTrade, Provider::Plaid];

/// A provider's rank in [`PROVIDER_PRIORITY`] (0 = highest).
pub fn provider_priority(provider: Provider) -> usize {
    usize::from(provider.spec().metadata_priority)
}

/// A provider's failure as shells report it: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderFailure {
    pub code: String,
    pub message: String,
}

impl ProviderFailure {
    /// The code and message of any Tributary error.
    pub fn from_error(error: &impl ErrorCode) -> Self {
        Self { code: error.code().to_owned(), message: error.to_string() }
    }
}

/// One provider's answer, as the per-provider holdings endpoints return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProviderResult {
    Ok {
        provider: Provider,
        holdings: Holdings,
        /// Unix seconds of the real fetch time.
        #[serde(default)]
        last_updated: Option<i64>,
        #[serde(default)]
        cache_info: Option<CacheInfo>,
    },
    Failed {
        provider: Provider,
        error: ProviderFailure,
    },
    NotConnected {
        provider: Provider,
    },
}

impl ProviderResult {
    /// The provider this result is about.
    pub fn provider(&self) -> Provider {
        match self {
            Self::Ok { provider, .. } | Self::Failed { provider, .. } | Self::NotConnected { provider } => *provider,
        }
    }
}

/// How a provider contributed to the merged portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProviderStatus {
    /// Fresh data, merged.
    Ok,
    /// Cached data at least as old as its TTL, merged anyway.
    Stale,
    /// The provider answered with no accounts, positions or balances.
    Empty,
    /// The provider answered with data, all of it for institutions another provider is canonical for.
    RoutedAway,
    /// The provider's data could not be used; nothing of it is merged.
    Failed { error: ProviderFailure },
    /// The user has no connection through this provider.
    NotConnected,
}

/// Per-provider status, freshness and what it contributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderReport {
    pub provider: Provider,
    #[serde(flatten)]
    pub status: ProviderStatus,
    pub last_updated: Option<i64>,
    pub cache_info: Option<CacheInfo>,
    /// Institutions whose rows went to their canonical provider instead (also when only some did).
    pub routed_away: Vec<RoutedAway>,
    /// Institutions whose rows this provider kept only because the preferred canonical provider
    /// could not supply them (fail-open), naming that provider.
    pub fail_open: Vec<FailOpen>,
    /// Whether this provider could supply data to the merge: configured, and not failing or
    /// needing repair for this user. An unavailable provider's cached rows yield to any other
    /// copy of the same institution.
    pub available: bool,
    /// Rows of this provider in the merged portfolio.
    pub accounts: usize,
    pub positions: usize,
    pub balances: usize,
}

/// An account with everything merged into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountHoldings {
    pub account: Account,
    pub positions: Vec<Position>,
    pub cash: Vec<CashBalance>,
}

/// One account's share of a consolidated line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionSource {
    pub provider: Provider,
    pub account_id: String,
    pub institution: Option<InstitutionSlug>,
    pub quantity: Quantity,
    pub market_value: Option<Decimal>,
    pub cost_basis: Option<Decimal>,
}

/// One security in one currency, summed across accounts and providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsolidatedPosition {
    pub security_key: String,
    pub currency: Currency,
    /// Ticker, name and kind come from the highest-priority source that has them.
    pub ticker: Option<Ticker>,
    pub name: Option<String>,
    pub kind: SecurityKind,
    pub quantity: Quantity,
    /// Sum of the sources' market values that are known; `None` when none is.
    pub market_value: Option<Decimal>,
    /// True when every source had a market value, so `market_value` is the whole line's.
    pub market_value_complete: bool,
    /// Sum of the sources' cost bases, only when every source reports one (a partial sum would
    /// understate it); each source keeps its own in `sources`.
    pub cost_basis: Option<Decimal>,
    pub sources: Vec<PositionSource>,
}

/// One account's cash in one currency, as a source of a cash line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashSource {
    pub provider: Provider,
    pub account_id: String,
    pub institution: Option<InstitutionSlug>,
    pub amount: Decimal,
}

/// All cash in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashTotal {
    pub currency: Currency,
    pub amount: Decimal,
    pub sources: Vec<CashSource>,
}

/// Everything held in one currency; never converted to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: Currency,
    /// Sum of the known market values of positions in this currency.
    pub positions_value: Decimal,
    pub cash: Decimal,
    /// `positions_value + cash`.
    pub total: Decimal,
    /// Positions in this currency without a market value (not included in `positions_value`).
    pub unvalued_positions: usize,
}

/// The merged portfolio: both views, cash and totals per currency, and every provider's status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedPortfolio {
    pub by_account: Vec<AccountHoldings>,
    pub consolidated: Vec<ConsolidatedPosition>,
    pub cash: Vec<CashTotal>,
    pub totals: Vec<CurrencyTotal>,
    pub providers: Vec<ProviderReport>,
}

/// What a provider's state for one user says about supplying data to a merge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Supply {
    /// The deployment configures the provider.
    pub configured: bool,
    /// The provider's last fetch failed (its rows are an older cache).
    pub last_fetch_failed: bool,
    /// One of the user's connections at the provider needs repair (e.g. a login to redo).
    pub needs_repair: bool,
    /// Its cached data is older than its spec lets stand as canonical ([`stale_yields`]).
    pub stale: bool,
}

impl Supply {
    /// Whether the provider can supply data to a merge, i.e. be canonical for an institution:
    /// configured, its last fetch succeeded, no connection needs repair, and its data is not past
    /// the TTL of a feed whose stale data yields. An unavailable provider's cached rows yield to
    /// the next provider of the institution's chain (fail-open).
    pub fn is_available(&self) -> bool {
        self.configured && !self.last_fetch_failed && !self.needs_repair && !self.stale
    }
}

/// Whether `provider`'s data described by `cache_info` is too old to stay canonical: past its TTL,
/// for a provider whose spec says stale data yields (IBKR Flex: the next daily statement did not
/// arrive, so an aggregator's fresher copy of the same accounts stands in).
pub fn stale_yields(provider: Provider, cache_info: &crate::cache::CacheInfo) -> bool {
    provider.spec().stale_yields && cache_info.is_stale()
}

/// Merges provider results with the embedded dedup routing and alias table.
///
/// `available_providers` are the configured and healthy ones; a provider's rows for an institution
/// are routed away only to a canonical provider that is available AND whose result in this merge
/// succeeded with rows for that institution (fail-open: a failed canonical provider keeps the copy;
/// with a chain, the next available provider of it counts instead).
pub fn merge_portfolios(results: Vec<ProviderResult>, available_providers: &[Provider]) -> MergedPortfolio {
    merge_portfolios_with(DedupRouting::embedded(), AliasTable::embedded(), results, available_providers)
}

/// [`merge_portfolios`] with a deployment's own dedup routing and alias table.
pub fn merge_portfolios_with(
    routing: &DedupRouting,
    aliases: &AliasTable,
    results: Vec<ProviderResult>,
    available_providers: &[Provider],
) -> MergedPortfolio {
    let results: Vec<ProviderResult> = results.into_iter().map(check::reject_unusable).collect();
    let mut supplies: BTreeSet<(Provider, InstitutionSlug)> = BTreeSet::new();
    for result in &results {
        if let ProviderResult::Ok { provider, holdings, .. } = result {
            if available_providers.contains(provider) {
                supplies.extend(institutions_in(aliases, holdings).into_iter().map(|slug| (*provider, slug)));
            }
        }
    }
    let mut merged = Holdings::default();
    let mut reports = Vec::with_capacity(results.len() + Provider::ALL.len());
    for result in results {
        let provider = result.provider();
        let mut fail_open = Vec::new();
        let (status, last_updated, cache_info, routed_away, kept) = match result {
            ProviderResult::Ok { holdings, last_updated, cache_info, .. } => {
                let routed = routing.route_holdings(aliases, holdings, provider, |canonical, slug| {
                    supplies.contains(&(canonical, slug.clone()))
                });
                fail_open = routed.fail_open;
                let stale = cache_info.as_ref().is_some_and(CacheInfo::is_stale);
                let status = match &routed.outcome {
                    DedupOutcome::AllRoutedAway { .. } => ProviderStatus::RoutedAway,
                    _ if stale => ProviderStatus::Stale,
                    DedupOutcome::ProviderReturnedNothing => ProviderStatus::Empty,
                    _ => ProviderStatus::Ok,
                };
                (status, last_updated, cache_info, routed.outcome.routed_away().to_vec(), routed.kept)
            }
            ProviderResult::Failed { error, .. } => {
                (ProviderStatus::Failed { error }, None, None, Vec::new(), Holdings::default())
            }
            ProviderResult::NotConnected { .. } => {
                (ProviderStatus::NotConnected, None, None, Vec::new(), Holdings::default())
            }
        };
        reports.push(ProviderReport {
            provider,
            status,
            last_updated,
            cache_info,
            routed_away,
            fail_open,
            available: available_providers.contains(&provider),
            accounts: kept.accounts.len(),
            positions: kept.positions.len(),
            balances: kept.balances.len(),
        });
        merged.accounts.extend(kept.accounts);
        merged.positions.extend(kept.positions);
        merged.balances.extend(kept.balances);
    }
    for provider in Provider::ALL {
        if !reports.iter().any(|r| r.provider == provider) {
            reports.push(views::not_connected(provider, available_providers.contains(&provider)));
        }
    }
    views::sort_deterministically(&mut reports, |a, b| {
        provider_priority(a.provider).cmp(&provider_priority(b.provider))
    });
    views::build(merged, reports)
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "property_tests.rs"]
mod property_tests;
