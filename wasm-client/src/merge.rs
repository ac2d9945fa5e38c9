//! Merging per-provider holdings in the browser. The input is what the worker's per-provider
//! holdings endpoints return; the merge itself is the core's `merge_portfolios`, unchanged.
//!
//! Promises: a provider that failed, is not connected, or whose entry cannot be read is reported
//! in `providers` and never makes the call throw; only input that is not a JSON array, an entry
//! that names no known provider, or an unknown view throws. Nothing is fetched or converted here.

use crate::boundary::{json_text, parse_js};
use crate::error::ClientError;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tributary_core::cache::CacheInfo;
use tributary_core::merge::{merge_portfolios as core_merge_portfolios, AccountHoldings, CashTotal};
use tributary_core::merge::{ConsolidatedPosition, CurrencyTotal, ProviderFailure, ProviderReport, ProviderResult};
use tributary_core::provider_error::ProviderError;
use tributary_core::{Account, CashBalance, Holdings, Position, Provider};
use wasm_bindgen::prelude::*;

/// Which view of the merged portfolio an answer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeView {
    /// Every account with its own positions and cash.
    ByAccount,
    /// One line per security and currency, summed across accounts and providers.
    Consolidated,
}

impl MergeView {
    /// Parses `by_account` or `consolidated`.
    pub fn parse(name: &str) -> Result<Self, ClientError> {
        match name {
            "by_account" => Ok(Self::ByAccount),
            "consolidated" => Ok(Self::Consolidated),
            other => Err(ClientError::invalid_input(format!(
                "view must be \"by_account\" or \"consolidated\", not {other:?}"
            ))),
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

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Failed,
    NotConnected,
}

/// One entry of `results`: the core's tagged `ProviderResult`, or a worker holdings body (no
/// `status`, top-level `accounts`/`positions`/`balances`, plus fields the merge does not use).
#[derive(Deserialize)]
struct ResultInput {
    provider: Provider,
    status: Option<Status>,
    holdings: Option<Holdings>,
    accounts: Option<Vec<Account>>,
    positions: Option<Vec<Position>>,
    balances: Option<Vec<CashBalance>>,
    last_updated: Option<i64>,
    cache_info: Option<CacheInfo>,
    error: Option<ProviderFailure>,
}

#[derive(Deserialize)]
struct NamesProvider {
    provider: Provider,
}

impl ResultInput {
    /// The core's `ProviderResult`, or why this entry is not one.
    fn into_result(self) -> Result<ProviderResult, String> {
        let provider = self.provider;
        let flat = self.accounts.is_some() || self.positions.is_some() || self.balances.is_some();
        match (self.status, self.holdings, flat, self.error) {
            (Some(Status::NotConnected), ..) => Ok(ProviderResult::NotConnected { provider }),
            (Some(Status::Failed) | None, None, false, Some(error)) => Ok(ProviderResult::Failed { provider, error }),
            (Some(Status::Failed), ..) => Err("a failed result needs error {code, message} and no holdings".into()),
            (_, Some(_), true, _) => Err("holdings were given both nested and as top-level lists".into()),
            (_, Some(holdings), false, _) => Ok(ProviderResult::Ok {
                provider,
                holdings,
                last_updated: self.last_updated,
                cache_info: self.cache_info,
            }),
            (_, None, true, _) => {
                let holdings = Holdings {
                    accounts: self.accounts.unwrap_or_default(),
                    positions: self.positions.unwrap_or_default(),
                    balances: self.balances.unwrap_or_default(),
                };
                Ok(ProviderResult::Ok {
                    provider,
                    holdings,
                    last_updated: self.last_updated,
                    cache_info: self.cache_info,
                })
            }
            (_, None, false, _) => Err("an ok result needs holdings (or accounts, positions, balances)".into()),
        }
    }
}

/// Entry `index` as a `ProviderResult`; an unreadable entry that names its provider becomes that
/// provider's failure (`provider_malformed_response`), one that names none is an error.
fn read_result(index: usize, raw: &RawValue) -> Result<ProviderResult, ClientError> {
    let (provider, problem) = match serde_json::from_str::<ResultInput>(raw.get()) {
        Ok(input) => {
            let provider = input.provider;
            match input.into_result() {
                Ok(result) => return Ok(result),
                Err(problem) => (Some(provider), problem),
            }
        }
        Err(e) => (serde_json::from_str::<NamesProvider>(raw.get()).ok().map(|p| p.provider), e.to_string()),
    };
    match provider {
        Some(provider) => {
            let detail = format!("results[{index}]: {problem}");
            let error = ProviderFailure::from_error(&ProviderError::Malformed { provider, detail });
            Ok(ProviderResult::Failed { provider, error })
        }
        None => Err(ClientError::invalid_json(format!(
            "results[{index}] does not name a known provider (\"snaptrade\" or \"plaid\"): {problem}"
        ))),
    }
}

/// Every entry of a JSON array of provider results.
pub fn read_results(text: &str) -> Result<Vec<ProviderResult>, ClientError> {
    let entries: Vec<&RawValue> = serde_json::from_str(text)
        .map_err(|e| ClientError::invalid_json(format!("results must be a JSON array of provider results: {e}")))?;
    entries.into_iter().enumerate().map(|(index, raw)| read_result(index, raw)).collect()
}

#[derive(Serialize)]
struct ViewAnswer<'a> {
    view: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_account: Option<&'a [AccountHoldings]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consolidated: Option<&'a [ConsolidatedPosition]>,
    cash: &'a [CashTotal],
    totals: &'a [CurrencyTotal],
    providers: &'a [ProviderReport],
}

/// The merge behind `mergePortfolios`, JSON text in and out (callable without JavaScript).
pub fn merge_portfolios_json(results: &str, view: MergeView) -> Result<String, ClientError> {
    // Availability is judged by the results themselves: the core routes an institution's rows
    // away only to a canonical provider whose result in this very merge succeeded with rows for
    // it, so counting every provider as available never loses data.
    let merged = core_merge_portfolios(read_results(results)?, &Provider::ALL);
    let answer = ViewAnswer {
        view: view.as_str(),
        by_account: (view == MergeView::ByAccount).then_some(merged.by_account.as_slice()),
        consolidated: (view == MergeView::Consolidated).then_some(merged.consolidated.as_slice()),
        cash: &merged.cash,
        totals: &merged.totals,
        providers: &merged.providers,
    };
    serde_json::to_string(&answer).map_err(|e| ClientError::internal(format!("could not serialise the portfolio: {e}")))
}

/// Merges what the worker's per-provider holdings endpoints returned into one portfolio.
///
/// `results` is an array (or its JSON text) of provider results: the worker's holdings bodies as
/// they are, or `{status: "failed", provider, error: {code, message}}` / `{status: "not_connected",
/// provider}` for providers that could not be fetched. Successful providers are merged; every other
/// one is reported in `providers` with its status; a failed provider never makes this throw.
/// `view` picks `by_account` or `consolidated`; cash, per-currency totals and provider reports
/// come with either. Throws `invalid_json` / `invalid_input` only for input it cannot read at all.
#[wasm_bindgen(js_name = mergePortfolios, unchecked_return_type = "MergedPortfolio")]
pub fn merge_portfolios(
    #[wasm_bindgen(unchecked_param_type = "ProviderResultInput[] | string")] results: JsValue,
    #[wasm_bindgen(unchecked_param_type = "MergeView")] view: &str,
) -> Result<JsValue, ClientError> {
    let view = MergeView::parse(view)?;
    let text = json_text(&results, "results")?
        .ok_or_else(|| ClientError::invalid_input("results is required: an array of provider results"))?;
    parse_js(&merge_portfolios_json(&text, view)?)
}
