//! The shared cases in Node (`wasm-pack test --node -- --test node`).

#[path = "common/cases.rs"]
mod cases;
