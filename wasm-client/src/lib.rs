//! `@tributary/client`: Tributary's browser module. A thin wasm-bindgen layer over
//! `tributary-core` (compiled without its server half): every decision is the core's.

use tributary_core::Money;
use wasm_bindgen::prelude::*;

/// The Tributary version this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    tributary_core::VERSION.to_owned()
}

/// Formats an exact decimal amount for people: `formatMoney("1234.5", "usd")` → `"1,234.50 USD"`.
///
/// Throws an `Error` whose message says which argument is wrong (amount or currency).
#[wasm_bindgen(js_name = formatMoney)]
pub fn format_money(amount: &str, currency: &str) -> Result<String, JsError> {
    Money::parse(amount, currency).map(|m| m.display()).map_err(|e| JsError::new(&e.to_string()))
}
