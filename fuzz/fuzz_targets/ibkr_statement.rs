//! `tributary_core::ibkr::read_statement` and `parse_send_response` on any bytes (the seed corpus:
//! the module's fixtures — statements, envelopes, an HTML page, a CSV body).
//!
//! Oracle: never a panic; an accepted reference code is 1–32 digits; in an accepted statement
//! every position and balance belongs to one of its accounts, all carry the fetch time, no balance
//! is the `BASE_SUMMARY` roll-up, every position's lots sum to its quantity, and the statement
//! date is an ISO date.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use tributary_core::ibkr::{parse_send_response, read_statement};

const FETCHED_AT: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(reference) = parse_send_response(data) {
        assert!((1..=32).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_digit()));
    }
    let Ok(statement) = read_statement(data, "fuzz", FETCHED_AT) else { return };
    let holdings = &statement.holdings;
    let known = |id: &str| holdings.accounts.iter().any(|a| a.account_id == id);
    assert!(!holdings.accounts.is_empty());
    for position in &holdings.positions {
        assert!(known(&position.account_id) && position.as_of == FETCHED_AT);
        if let Some(detail) = position.detail.as_deref().filter(|d| !d.lots.is_empty()) {
            assert_eq!(detail.lots.iter().map(|l| l.quantity.0).sum::<Decimal>(), position.quantity.0);
        }
    }
    for balance in &holdings.balances {
        assert!(known(&balance.account_id) && balance.as_of == FETCHED_AT);
        assert_ne!(balance.currency.as_str(), "BASE_SUMMARY");
    }
    let date = statement.statement_date.as_bytes();
    assert!(date.len() == 10 && date[4] == b'-' && date[7] == b'-');
});
