//! SnapTrade normalisation (`normalize_positions`, `normalize_balances`, `normalize_account`,
//! `normalize_authorizations`) on JSON text (the seed corpus: real simulator payloads) or on a
//! provider-shaped payload built from the bytes (`tributary_fuzz::snaptrade_payload`).
//!
//! Oracle: never a panic; an accepted positions body yields one position per result row, with
//! the account's id, and an accepted balances body at most one cash line per row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tributary_core::institutions::resolve_institution;
use tributary_core::snaptrade::{normalize_account, normalize_authorizations, normalize_balances, normalize_positions};
use tributary_core::{Account, Currency, InstitutionSlug, Provider};
use tributary_fuzz::{json_or_shaped, snaptrade_payload};

fn account() -> Account {
    Account {
        provider: Provider::SnapTrade,
        account_id: "acc-1".into(),
        connection_id: Some("auth-1".into()),
        institution: InstitutionSlug::parse("charles_schwab").ok(),
        institution_name: Some("Charles Schwab".into()),
        name: None,
        number_mask: None,
        account_type: None,
        currency: Currency::parse("USD").ok(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(body) = json_or_shaped(data, snaptrade_payload) else { return };
    let account = account();
    if let Ok(positions) = normalize_positions(&body, &account, 1_800_000_000) {
        let rows = body.get("results").and_then(Value::as_array).map_or(0, Vec::len);
        assert_eq!(positions.len(), rows);
        assert!(positions.iter().all(|p| p.account_id == account.account_id && p.provider == Provider::SnapTrade));
    }
    if let Ok(balances) = normalize_balances(&body, &account, 1_800_000_000) {
        assert!(balances.len() <= body.as_array().map_or(0, Vec::len));
    }
    for entry in body.as_array().into_iter().flatten() {
        if let Ok(normalized) = normalize_account(entry, &resolve_institution) {
            assert!(!normalized.account_id.trim().is_empty());
        }
    }
    let _ = normalize_authorizations(&body, &resolve_institution);
});
