//! The fuzz seed corpus (`fuzz/corpus/ibkr_statement/`) and this module's fixtures, run by
//! `cargo test` without nightly: no file makes the readers panic, and every `ok-*.xml` reads.

use super::*;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn check_every_file(dir: &Path) -> usize {
    let files = files(dir);
    for path in &files {
        let body = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let read = read_statement(&body, "corpus", 1_800_000_000);
        let _ = parse_send_response(&body);
        if name.starts_with("ok-") && name.ends_with(".xml") {
            let statement = read.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!statement.holdings.accounts.is_empty(), "{name}");
        }
    }
    files.len()
}

#[test]
fn every_corpus_file_is_read_without_panicking_and_ok_files_succeed() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ibkr_statement");
    assert!(check_every_file(&corpus) >= 3, "the seed corpus is there");
}

#[test]
fn every_fixture_is_read_without_panicking_and_ok_files_succeed() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ibkr/fixtures");
    assert!(check_every_file(&fixtures) >= 3);
}

/// The simulator's statements (written from IBKR's reference, not from this parser), read to the
/// last digit: what the simulator's seed says each account holds, in every date style it writes.
#[test]
fn the_simulators_statements_read_exactly_in_every_style() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ibkr_statement");
    let dec = |s: &str| Decimal::from_str(s).unwrap();
    for name in ["ok-sim-default.xml", "ok-sim-iso-single-quotes.xml", "ok-sim-us-dates.xml", "ok-sim-summary-only.xml"]
    {
        let body = std::fs::read(corpus.join(name)).unwrap();
        let statement = read_statement(&body, "c1", 1_800_000_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(statement.statement_date, "2026-03-13", "{name}");
        let holdings = &statement.holdings;
        assert_eq!(holdings.accounts.len(), 2, "{name}");
        assert_eq!(holdings.positions.len(), 6, "{name}: SUMMARY rows only, lots under them");
        let mut cash: Vec<(String, Decimal)> =
            holdings.balances.iter().map(|b| (b.currency.as_str().to_owned(), b.amount)).collect();
        cash.sort();
        let expected = [("CAD", "1520.35"), ("CAD", "250"), ("EUR", "1012.7"), ("USD", "-310.25"), ("USD", "3672.02")];
        let mut expected: Vec<(String, Decimal)> = expected.iter().map(|(c, a)| ((*c).to_owned(), dec(a))).collect();
        expected.sort();
        assert_eq!(cash, expected, "{name}: every currency once, BASE_SUMMARY never");
        let synt = holdings
            .positions
            .iter()
            .find(|p| p.security_key == "SYNT" && p.currency.as_str() == "USD" && p.quantity.0 == dec("25"))
            .unwrap_or_else(|| panic!("{name}: SYNT"));
        assert_eq!((synt.market_value, synt.cost_basis), (Some(dec("3753.0864")), Some(dec("3010.5"))), "{name}");
        let lots: Vec<Decimal> = synt.detail.as_ref().unwrap().lots.iter().map(|l| l.quantity.0).collect();
        if name.contains("summary-only") {
            assert!(lots.is_empty(), "{name}");
        } else {
            assert_eq!(lots, [dec("15"), dec("10")], "{name}");
        }
        let option = holdings.positions.iter().find(|p| p.kind == crate::domain::SecurityKind::Option).unwrap();
        assert_eq!((option.quantity.0, option.market_value), (dec("-1"), Some(dec("-420"))), "{name}");
        assert_eq!(option.detail.as_ref().unwrap().multiplier, Some(dec("100")), "{name}");
        #[cfg(feature = "server")]
        simulated_activity_reads_exactly(&statement, name);
    }
}

/// The simulator's day of activity: account 1's two SYNT executions and its dividend, tax and EUR
/// deposit; account 2's CAD dividend and the interest paid on its USD margin loan.
#[cfg(feature = "server")]
fn simulated_activity_reads_exactly(statement: &Statement, name: &str) {
    use crate::transactions::TransactionType as T;
    let dec = |s: &str| rust_decimal::Decimal::from_str_exact(s).unwrap();
    let brief = |index: usize| -> Vec<(T, Option<rust_decimal::Decimal>, Option<rust_decimal::Decimal>, String)> {
        let transactions = &statement.ledgers[index].transactions;
        transactions.iter().map(|t| (t.kind, t.quantity, t.amount, t.currency.as_ref().unwrap().to_string())).collect()
    };
    let usd = || "USD".to_owned();
    assert_eq!(statement.ledgers.len(), 2, "{name}");
    assert_eq!(
        brief(0),
        [
            (T::Buy, Some(dec("5")), Some(dec("-750")), usd()),
            (T::Sell, Some(dec("-2")), Some(dec("301")), usd()),
            (T::Dividend, None, Some(dec("12.5")), usd()),
            (T::Tax, None, Some(dec("-1.88")), usd()),
            (T::Deposit, None, Some(dec("1000")), "EUR".to_owned()),
        ],
        "{name}"
    );
    assert_eq!(
        brief(1),
        [(T::Dividend, None, Some(dec("25.2")), "CAD".to_owned()), (T::Interest, None, Some(dec("-0.85")), usd())],
        "{name}"
    );
    let synt_key = &statement.holdings.positions[0].security_key;
    assert_eq!(&statement.ledgers[0].transactions[0].security.as_ref().unwrap().security_key, synt_key, "{name}");
}
