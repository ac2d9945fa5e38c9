use super::*;
use crate::domain::Provider;
use crate::test_fixtures::{account, cash, dec, position};
use proptest::prelude::*;

const P: Provider = Provider::Schwab;

fn cached(id: &str, positions: usize, cash: &[(&str, &str)]) -> CachedAccount {
    CachedAccount {
        account_id: id.to_owned(),
        positions,
        cash: cash.iter().map(|(c, a)| (Currency::parse(c).unwrap(), dec(a))).collect(),
    }
}

/// A read listing `accounts`, with one position in each of `holding` and cash `balances`.
fn read(accounts: &[&str], holding: &[&str], balances: &[(&str, &str, &str)]) -> Holdings {
    Holdings {
        accounts: accounts.iter().map(|id| account(P, id, None)).collect(),
        positions: holding.iter().map(|id| position(P, id, None, "SYNT", "10")).collect(),
        balances: balances.iter().map(|(id, c, a)| cash(P, id, None, c, a)).collect(),
    }
}

fn suspect(ids: &[&str]) -> EmptyReadVerdict {
    EmptyReadVerdict::Suspect { accounts: ids.iter().map(|s| (*s).to_owned()).collect() }
}

#[test]
fn an_account_that_held_positions_read_back_empty_with_the_same_cash_is_suspect() {
    let cache = [cached("a1", 3, &[("USD", "100.50")])];
    let fetched = read(&["a1"], &[], &[("a1", "USD", "100.5")]);
    assert_eq!(judge_read(&cache, &fetched, false), suspect(&["a1"]), "100.5 is 100.50: the cash did not move");
}

#[test]
fn a_read_listing_no_account_at_all_is_suspect_for_every_account_that_held_positions() {
    let cache = [cached("a1", 2, &[]), cached("a2", 0, &[]), cached("a3", 1, &[])];
    assert_eq!(judge_read(&cache, &read(&[], &[], &[]), false), suspect(&["a1", "a3"]));
}

#[test]
fn an_emptied_account_whose_cash_changed_is_believed_the_person_sold() {
    let cache = [cached("a1", 3, &[("USD", "100.50")])];
    let fetched = read(&["a1"], &[], &[("a1", "USD", "5100.50")]);
    assert_eq!(judge_read(&cache, &fetched, false), EmptyReadVerdict::Accept);
    let new_currency = read(&["a1"], &[], &[("a1", "USD", "100.50"), ("a1", "CAD", "20")]);
    assert_eq!(judge_read(&cache, &new_currency, false), EmptyReadVerdict::Accept, "a new currency is moved cash");
}

#[test]
fn cash_the_read_does_not_report_is_unknown_and_never_confirms_an_empty() {
    let cache = [cached("a1", 3, &[("USD", "100.50")])];
    assert_eq!(judge_read(&cache, &read(&["a1"], &[], &[]), false), suspect(&["a1"]));
    let no_cached_cash = [cached("a1", 3, &[])];
    assert_eq!(judge_read(&no_cached_cash, &read(&["a1"], &[], &[]), false), suspect(&["a1"]));
}

#[test]
fn the_second_read_in_a_row_that_answers_empty_is_believed() {
    let cache = [cached("a1", 3, &[("USD", "100.50")])];
    let fetched = read(&["a1"], &[], &[("a1", "USD", "100.50")]);
    assert_eq!(judge_read(&cache, &fetched, false), suspect(&["a1"]));
    assert_eq!(judge_read(&cache, &fetched, true), EmptyReadVerdict::Accept);
}

#[test]
fn accounts_with_positions_and_accounts_the_read_drops_are_not_suspect() {
    let cache = [cached("a1", 3, &[]), cached("gone", 4, &[])];
    assert_eq!(judge_read(&cache, &read(&["a1"], &["a1"], &[]), false), EmptyReadVerdict::Accept);
    let cache = [cached("empty-before", 0, &[])];
    assert_eq!(judge_read(&cache, &read(&["empty-before"], &[], &[]), false), EmptyReadVerdict::Accept);
    assert_eq!(judge_read(&[], &read(&[], &[], &[]), false), EmptyReadVerdict::Accept, "nothing cached");
}

#[test]
fn one_emptied_account_among_healthy_ones_refuses_the_read_and_names_only_it() {
    let cache = [cached("a1", 3, &[]), cached("a2", 2, &[("USD", "1")])];
    let fetched = read(&["a1", "a2"], &["a1"], &[("a2", "USD", "1.00")]);
    assert_eq!(judge_read(&cache, &fetched, false), suspect(&["a2"]));
}

#[test]
fn the_cheap_test_flags_reads_with_no_account_or_an_account_without_positions() {
    assert!(read_could_be_suspect(&read(&[], &[], &[])));
    assert!(read_could_be_suspect(&read(&["a1", "a2"], &["a1"], &[])));
    assert!(!read_could_be_suspect(&read(&["a1", "a2"], &["a1", "a2"], &[])));
}

proptest! {
    /// `read_could_be_suspect` false ⇒ `judge_read` accepts, whatever the cache and history.
    #[test]
    fn a_read_the_cheap_test_clears_is_always_accepted(
        listed in proptest::collection::btree_set(0u8..6, 0..5),
        held in proptest::collection::btree_set(0u8..6, 0..5),
        cache in proptest::collection::vec((0u8..6, 0usize..3, proptest::option::of(0u32..3)), 0..6),
        previous in any::<bool>(),
    ) {
        let name = |i: &u8| format!("a{i}");
        let listed: Vec<String> = listed.iter().map(name).collect();
        let held: Vec<String> = held.iter().map(name).collect();
        let fetched = Holdings {
            accounts: listed.iter().map(|id| account(P, id, None)).collect(),
            positions: held.iter().map(|id| position(P, id, None, "SYNT", "1")).collect(),
            balances: Vec::new(),
        };
        let cache: Vec<CachedAccount> = cache
            .iter()
            .map(|(i, n, c)| CachedAccount {
                account_id: name(i),
                positions: *n,
                cash: c.iter().map(|c| (Currency::parse("USD").unwrap(), Decimal::from(*c))).collect(),
            })
            .collect();
        if !read_could_be_suspect(&fetched) {
            prop_assert_eq!(judge_read(&cache, &fetched, previous), EmptyReadVerdict::Accept);
        }
        if previous {
            prop_assert_eq!(judge_read(&cache, &fetched, true), EmptyReadVerdict::Accept);
        }
    }
}
