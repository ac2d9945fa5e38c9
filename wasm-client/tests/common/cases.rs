//! Cases shared by the Node (`node.rs`) and Chromium (`browser.rs`) suites.

use tributary_client::{format_money, version};
use wasm_bindgen_test::*;
#[wasm_bindgen_test]
fn version_matches_the_crate() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn format_money_is_exact_and_grouped() {
    assert_eq!(format_money("1234567.891", "cad").unwrap(), "1,234,567.891 CAD");
    assert_eq!(format_money("0.1", "USD").unwrap(), "0.10 USD");
}

#[wasm_bindgen_test]
fn format_money_refuses_bad_input() {
    assert!(format_money("12abc", "USD").is_err());
    assert!(format_money("1", "U$").is_err());
}
