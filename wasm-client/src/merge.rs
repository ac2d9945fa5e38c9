//! Merging per-provider holdings in the browser. The input is what the worker's per-provider
//! holdings endpoints return; the merge itself is the core's `merge_portfolios`, unchanged.
//!
//! Promises: a provider that failed, is not connected, or whose entry cannot be read is reported
//! in `providers` and never makes the call throw; only input that is not a JSON array, an entry
//! that names no known provider, or an unknown view throws. Nothing is fetched or converted here.

use crate::boundary::{json_text, parse_js};
use crate::error::ClientError;
use serde::Deserialize;
use serde_json::value::RawValue;
use tributary_core::merge::{merge_portfolios as core_merge_portfolios, MergeView, ProviderFailure};
use tributary_core::merge::{ProviderResult, ProviderResultInput};
use tributary_core::provider_error::ProviderError;
use tributary_core::Provider;
use wasm_bindgen::prelude::*;

#[derive(Deserialize)]
struct NamesProvider {
    provider: Provider,
}

/// Entry `index` as a `ProviderResult`; an unreadable entry that names its provider becomes that
/// provider's failure (`provider_malformed_response`), one that names none is an error.
/// Entry `index` and whether its provider can supply data to the merge (see
/// `ProviderResultInput::is_available`).
fn read_result(index: usize, raw: &RawValue) -> Result<(ProviderResult, bool), ClientError> {
    let (provider, problem) = match serde_json::from_str::<ProviderResultInput>(raw.get()) {
        Ok(input) => {
            let (provider, available) = (input.provider, input.is_available());
            match input.into_result() {
                Ok(result) => return Ok((result, available)),
                Err(problem) => (Some(provider), problem),
            }
        }
        Err(e) => (serde_json::from_str::<NamesProvider>(raw.get()).ok().map(|p| p.provider), e.to_string()),
    };
    match provider {
        Some(provider) => {
            let detail = format!("results[{index}]: {problem}");
            let error = ProviderFailure::from_error(&ProviderError::Malformed { provider, detail });
            Ok((ProviderResult::Failed { provider, error }, false))
        }
        None => Err(ClientError::invalid_json(format!(
            "results[{index}] does not name a known provider (\"snaptrade\", \"plaid\" or \"schwab\"): {problem}"
        ))),
    }
}

/// Every entry of a JSON array of provider results, and the providers among them that can supply
/// data to the merge.
pub fn read_results(text: &str) -> Result<(Vec<ProviderResult>, Vec<Provider>), ClientError> {
    let entries: Vec<&RawValue> = serde_json::from_str(text)
        .map_err(|e| ClientError::invalid_json(format!("results must be a JSON array of provider results: {e}")))?;
    let read: Vec<(ProviderResult, bool)> =
        entries.into_iter().enumerate().map(|(index, raw)| read_result(index, raw)).collect::<Result<_, _>>()?;
    let unavailable: Vec<Provider> = read.iter().filter(|(_, ok)| !ok).map(|(r, _)| r.provider()).collect();
    let available = Provider::ALL.into_iter().filter(|p| !unavailable.contains(p)).collect();
    Ok((read.into_iter().map(|(result, _)| result).collect(), available))
}

/// The merge behind `mergePortfolios`, JSON text in and out (callable without JavaScript).
pub fn merge_portfolios_json(results: &str, view: MergeView) -> Result<String, ClientError> {
    // Availability is judged by the results themselves: the core routes an institution's rows
    // away only to a canonical provider whose result in this very merge succeeded with rows for
    // it, and a provider whose last fetch failed yields to the next in the chain (fail-open).
    let (results, available) = read_results(results)?;
    let merged = core_merge_portfolios(results, &available);
    serde_json::to_string(&merged.view(view))
        .map_err(|e| ClientError::internal(format!("could not serialise the portfolio: {e}")))
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
    let view = MergeView::parse(view).map_err(|e| ClientError::invalid_input(e.to_string()))?;
    let text = json_text(&results, "results")?
        .ok_or_else(|| ClientError::invalid_input("results is required: an array of provider results"))?;
    parse_js(&merge_portfolios_json(&text, view)?)
}
