//! `tributary_core::plaid::normalize_holdings` on JSON text (the seed corpus: real simulator
//! answers) or on a holdings answer built from the bytes (`tributary_fuzz::plaid_holdings`).
//!
//! Oracle: never a panic; in an accepted answer every position and cash line belongs to an
//! account id some holding named, and positions plus cash lines never outnumber the holdings
//! (a holding is one or the other; cash lines of one account and currency are summed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::BTreeSet;
use tributary_core::plaid::normalize_holdings;
use tributary_fuzz::{json_or_shaped, plaid_holdings};

fuzz_target!(|data: &[u8]| {
    let Some(body) = json_or_shaped(data, plaid_holdings) else { return };
    let Ok(holdings) = normalize_holdings(&body, None, 1_800_000_000) else { return };
    let rows = body.get("holdings").and_then(Value::as_array).cloned().unwrap_or_default();
    let named: BTreeSet<&str> = rows.iter().filter_map(|h| h.get("account_id")?.as_str()).collect();
    assert!(holdings.positions.iter().all(|p| named.contains(p.account_id.as_str())));
    assert!(holdings.balances.iter().all(|b| named.contains(b.account_id.as_str())));
    assert!(holdings.positions.len() + holdings.balances.len() <= rows.len());
});
