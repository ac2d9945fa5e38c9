//! The shared cases in headless Chromium (`wasm-pack test --headless --chrome -- --test browser`),
//! plus the API client's decision paths against real `Response` objects.

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/cases.rs"]
mod cases;

mod client;
