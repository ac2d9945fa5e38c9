//! Link-time routing for the browser: institution names to slugs, which provider's connection flow
//! to open, and what an account will be able to do. Each export converts its arguments, calls the
//! same core function the worker calls, and converts the answer back; nothing is decided here.

use crate::boundary::{json_text, to_js};
use crate::error::ClientError;
use tributary_core::capabilities::{capabilities_for as core_capabilities_for, ConnectionType};
use tributary_core::coverage::{choose_provider as core_choose_provider, CoverageMap, ProviderHealth};
use tributary_core::institutions::resolve_institution as core_resolve_institution;
use tributary_core::Provider;
use wasm_bindgen::prelude::*;

/// The canonical slug of an institution name (`"SCHWAB & CO."` → `"charles_schwab"`), or `undefined`
/// when no alias matches exactly (case, spaces and punctuation never matter; substrings never match).
#[wasm_bindgen(js_name = resolveInstitution, unchecked_return_type = "InstitutionSlug | undefined")]
pub fn resolve_institution(name: &str) -> Option<String> {
    core_resolve_institution(name).map(|slug| slug.as_str().to_owned())
}

/// Which provider's connection flow to open for an institution (name or slug), and why.
///
/// `providerHealth` (an object or its JSON text) says which providers are configured and healthy;
/// when omitted, every provider counts as configured and healthy, and a provider missing from a
/// given object counts as not configured. Throws an `Error` with `code` `institution_required` for a
/// blank name, `no_provider_available` when no candidate is usable, `invalid_json` for bad health.
#[wasm_bindgen(js_name = chooseProvider, unchecked_return_type = "RoutingDecision")]
pub fn choose_provider(
    institution: &str,
    #[wasm_bindgen(js_name = needTrading)] need_trading: bool,
    #[wasm_bindgen(js_name = providerHealth, unchecked_optional_param_type = "ProviderHealth | string")]
    provider_health: JsValue,
) -> Result<JsValue, ClientError> {
    let health = match json_text(&provider_health, "providerHealth")? {
        Some(text) => serde_json::from_str::<ProviderHealth>(&text)
            .map_err(|e| ClientError::invalid_json(format!("providerHealth is not a valid ProviderHealth: {e}")))?,
        None => ProviderHealth::all_healthy(),
    };
    let decision = core_choose_provider(institution, need_trading, &health).map_err(|e| ClientError::from_core(&e))?;
    to_js(&decision)
}

/// The capabilities an account gets at import: `provider` (`"snaptrade"` | `"plaid"`), the
/// institution (name or slug; unknown or blank means no coverage rule) and the connection type
/// (`"read"` | `"trade"`). Throws `unknown_provider` or `unknown_connection_type` for other values.
#[wasm_bindgen(js_name = capabilitiesFor, unchecked_return_type = "Capabilities")]
pub fn capabilities_for(
    #[wasm_bindgen(unchecked_param_type = "Provider")] provider: &str,
    institution: Option<String>,
    #[wasm_bindgen(js_name = connectionType, unchecked_param_type = "ConnectionType")] connection_type: &str,
) -> Result<JsValue, ClientError> {
    let provider = Provider::parse(provider).map_err(|e| ClientError::from_core(&e))?;
    let connection_type = ConnectionType::parse(connection_type).map_err(|e| ClientError::from_core(&e))?;
    let rule = institution.as_deref().and_then(core_resolve_institution).and_then(|slug| {
        // The same lookup the worker makes at import: the embedded coverage map's rule, if any.
        CoverageMap::embedded().rule(&slug).cloned()
    });
    to_js(&core_capabilities_for(provider, rule.as_ref(), connection_type))
}
