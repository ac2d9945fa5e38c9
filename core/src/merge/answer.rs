//! The merged portfolio as both shells answer it: one requested view plus cash, totals and
//! provider reports; and how a per-provider holdings body (or a tagged result) is read back into
//! a [`ProviderResult`], so the worker and the browser module agree on both to the byte.

use super::{AccountHoldings, CashTotal, ConsolidatedPosition, CurrencyTotal, MergedPortfolio, ProviderFailure};
use super::{ProviderReport, ProviderResult};
use crate::cache::CacheInfo;
use crate::domain::{Account, CashBalance, Holdings, Position, Provider};
use crate::error::ValidationError;
use serde::{Deserialize, Serialize};

/// Which view of the merged portfolio an answer carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MergeView {
    /// Every account with its own positions and cash.
    ByAccount,
    /// One line per security and currency, summed across accounts and providers.
    #[default]
    Consolidated,
}

impl MergeView {
    /// Parses `by_account` or `consolidated`; anything else is `invalid_input` on `view`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        match name {
            "by_account" => Ok(Self::ByAccount),
            "consolidated" => Ok(Self::Consolidated),
            _ => Err(ValidationError::BadCharacters { field: "view", allowed: "by_account or consolidated" }),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ByAccount => "by_account",
            Self::Consolidated => "consolidated",
        }
    }
}

/// The answer for one view: `{view, by_account | consolidated, cash, totals, providers}`.
#[derive(Debug, Serialize)]
pub struct PortfolioView<'a> {
    pub view: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_account: Option<&'a [AccountHoldings]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consolidated: Option<&'a [ConsolidatedPosition]>,
    pub cash: &'a [CashTotal],
    pub totals: &'a [CurrencyTotal],
    pub providers: &'a [ProviderReport],
}

impl MergedPortfolio {
    /// This portfolio as the answer for `view`.
    pub fn view(&self, view: MergeView) -> PortfolioView<'_> {
        PortfolioView {
            view: view.as_str(),
            by_account: (view == MergeView::ByAccount).then_some(self.by_account.as_slice()),
            consolidated: (view == MergeView::Consolidated).then_some(self.consolidated.as_slice()),
            cash: &self.cash,
            totals: &self.totals,
            providers: &self.providers,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Failed,
    NotConnected,
}

/// One provider's answer as a client holds it: the core's tagged [`ProviderResult`], or a
/// per-provider holdings body (top-level `accounts`/`positions`/`balances`, plus fields the merge
/// does not use).
#[derive(Deserialize)]
pub struct ProviderResultInput {
    pub provider: Provider,
    status: Option<Status>,
    holdings: Option<Holdings>,
    accounts: Option<Vec<Account>>,
    positions: Option<Vec<Position>>,
    balances: Option<Vec<CashBalance>>,
    last_updated: Option<i64>,
    cache_info: Option<CacheInfo>,
    error: Option<ProviderFailure>,
    /// A holdings body's `last_error`: its provider's last fetch failed after these rows were cached.
    #[serde(default)]
    last_error: Option<serde_json::Value>,
}

impl ProviderResultInput {
    /// Whether this entry's provider can supply data to a merge: a holdings body whose last fetch
    /// failed (`last_error`, e.g. a login that must be redone) is served from an older cache, so
    /// its rows yield to any other copy of the same institution — as `/api/portfolio` decides.
    pub fn is_available(&self) -> bool {
        let last_fetch_failed = self.last_error.as_ref().is_some_and(|e| !e.is_null());
        // A client holds what the worker answered: the provider is configured there.
        let stale = self.cache_info.as_ref().is_some_and(|info| super::stale_yields(self.provider, info));
        super::Supply { configured: true, last_fetch_failed, needs_repair: false, stale }.is_available()
    }

    /// The core's `ProviderResult`, or why this entry is not one.
    pub fn into_result(self) -> Result<ProviderResult, String> {
        let Self { provider, status, holdings, accounts, positions, balances, last_updated, cache_info, error, .. } =
            self;
        let flat = accounts.is_some() || positions.is_some() || balances.is_some();
        let ok = |holdings| ProviderResult::Ok { provider, holdings, last_updated, cache_info };
        match (status, holdings, flat, error) {
            (Some(Status::NotConnected), ..) => Ok(ProviderResult::NotConnected { provider }),
            (Some(Status::Failed) | None, None, false, Some(error)) => Ok(ProviderResult::Failed { provider, error }),
            (Some(Status::Failed), ..) => Err("a failed result needs error {code, message} and no holdings".into()),
            (_, Some(_), true, _) => Err("holdings were given both nested and as top-level lists".into()),
            (_, Some(holdings), false, _) => Ok(ok(holdings)),
            (_, None, true, _) => Ok(ok(Holdings {
                accounts: accounts.unwrap_or_default(),
                positions: positions.unwrap_or_default(),
                balances: balances.unwrap_or_default(),
            })),
            (_, None, false, _) => Err("an ok result needs holdings (or accounts, positions, balances)".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn views_parse_by_wire_name_only() {
        assert_eq!(MergeView::parse("by_account"), Ok(MergeView::ByAccount));
        assert_eq!(MergeView::parse("consolidated").map(MergeView::as_str), Ok("consolidated"));
        assert!(MergeView::parse("Consolidated").is_err() && MergeView::parse("pie").is_err());
    }

    #[test]
    fn a_holdings_body_a_failure_and_an_ambiguous_entry_are_told_apart() {
        let body = json!({"provider": "plaid", "status": "ok", "accounts": [], "positions": [], "balances": [], "last_updated": 7});
        let read = |v: serde_json::Value| serde_json::from_value::<ProviderResultInput>(v).unwrap().into_result();
        assert!(matches!(read(body), Ok(ProviderResult::Ok { last_updated: Some(7), .. })));
        let failed = json!({"provider": "snaptrade", "status": "failed", "error": {"code": "x", "message": "y"}});
        assert!(matches!(read(failed), Ok(ProviderResult::Failed { .. })));
        let both =
            json!({"provider": "plaid", "holdings": {"accounts": [], "positions": [], "balances": []}, "accounts": []});
        assert!(read(both).is_err());
        assert!(read(json!({"provider": "plaid"})).is_err());
        let input = |v: serde_json::Value| serde_json::from_value::<ProviderResultInput>(v).unwrap();
        assert!(input(json!({"provider": "schwab", "positions": [], "last_error": null})).is_available());
        let stale = json!({"provider": "schwab", "positions": [], "last_error": {"code": "schwab_reauth_required"}});
        assert!(!input(stale).is_available(), "a provider whose last fetch failed yields its institutions");
    }

    #[test]
    fn a_view_carries_only_its_own_lines() {
        let merged = MergedPortfolio::default();
        let shown = serde_json::to_value(merged.view(MergeView::ByAccount)).unwrap();
        assert_eq!(shown["view"], "by_account");
        assert!(shown.get("consolidated").is_none() && shown["by_account"] == json!([]));
    }
}
