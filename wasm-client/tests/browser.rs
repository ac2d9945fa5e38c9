//! The same checks as `web.rs`, pinned to a real browser.

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test::wasm_bindgen_test]
fn formats_money_in_the_browser() {
    assert_eq!(tributary_client::format_money("-1000", "eur").unwrap(), "-1,000.00 EUR");
}
