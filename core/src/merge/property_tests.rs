//! Properties of the merge over generated portfolios: nothing is lost, order does not matter, and
//! dedup never drops an institution its canonical provider cannot supply.

use super::*;
use crate::dedup::DataType;
use crate::institutions::AliasTable;
use crate::test_fixtures::{account, cash, position, AS_OF};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Institutions with no dedup rule (nothing can be routed away) and with rules on either provider.
const UNROUTED: [Option<&str>; 3] = [None, Some("citi"), Some("m1_finance")];
const ROUTED: [Option<&str>; 3] = [Some("charles_schwab"), Some("fidelity"), Some("chase")];
const KEYS: [&str; 4] = ["AAPL", "VTI", "BTC", "SHOP"];
const CURRENCIES: [&str; 3] = ["USD", "CAD", "EUR"];

fn arb_decimal() -> impl Strategy<Value = Decimal> {
    (-1_000_000_000i64..1_000_000_000, 0u32..7).prop_map(|(units, scale)| Decimal::new(units, scale))
}

fn arb_holdings(provider: Provider, institutions: &'static [Option<&'static str>]) -> impl Strategy<Value = Holdings> {
    let row = (
        proptest::sample::select(institutions),
        0usize..2,
        proptest::sample::select(&KEYS[..]),
        proptest::sample::select(&CURRENCIES[..]),
        arb_decimal(),
        proptest::option::of(arb_decimal()),
        proptest::option::of(arb_decimal()),
    );
    let balance = (proptest::sample::select(institutions), proptest::sample::select(&CURRENCIES[..]), arb_decimal());
    (proptest::collection::vec(row, 0..10), proptest::collection::vec(balance, 0..4), any::<bool>()).prop_map(
        move |(rows, balances, with_accounts)| {
            let account_id =
                |institution: Option<&str>, n: usize| format!("{provider}-{}-{n}", institution.unwrap_or("x"));
            let mut holdings = Holdings::default();
            for (institution, n, key, currency, quantity, value, cost) in rows {
                let mut p = position(provider, &account_id(institution, n), institution, key, "0");
                p.quantity = Quantity(quantity);
                p.market_value = value;
                p.cost_basis = cost;
                p.currency = Currency::parse(currency).unwrap();
                if with_accounts && !holdings.accounts.iter().any(|a: &Account| a.account_id == p.account_id) {
                    holdings.accounts.push(account(provider, &p.account_id, institution));
                }
                holdings.positions.push(p);
            }
            for (institution, currency, amount) in balances {
                holdings.balances.push(cash(
                    provider,
                    &account_id(institution, 0),
                    institution,
                    currency,
                    &amount.to_string(),
                ));
            }
            holdings
        },
    )
}

fn arb_result(
    provider: Provider,
    institutions: &'static [Option<&'static str>],
) -> impl Strategy<Value = ProviderResult> {
    let failure = ProviderFailure { code: "provider_timeout".into(), message: "timed out".into() };
    prop_oneof![
        4 => arb_holdings(provider, institutions)
            .prop_map(move |holdings| ProviderResult::Ok { provider, holdings, last_updated: Some(AS_OF), cache_info: None }),
        1 => Just(ProviderResult::Failed { provider, error: failure }),
        1 => Just(ProviderResult::NotConnected { provider }),
    ]
}

fn arb_results(institutions: &'static [Option<&'static str>]) -> impl Strategy<Value = Vec<ProviderResult>> {
    (arb_result(Provider::SnapTrade, institutions), arb_result(Provider::Plaid, institutions))
        .prop_map(|(a, b)| vec![a, b])
}

#[derive(Debug, Default, PartialEq)]
struct Totals {
    quantity_per_security: BTreeMap<String, Decimal>,
    value_per_security_and_currency: BTreeMap<(String, String), Decimal>,
    cash_per_currency: BTreeMap<String, Decimal>,
}

fn input_totals(results: &[ProviderResult]) -> Totals {
    let mut totals = Totals::default();
    for result in results {
        if let ProviderResult::Ok { holdings, .. } = result {
            for p in &holdings.positions {
                *totals.quantity_per_security.entry(p.security_key.clone()).or_default() += p.quantity.0;
                let key = (p.security_key.clone(), p.currency.to_string());
                *totals.value_per_security_and_currency.entry(key).or_default() += p.market_value.unwrap_or_default();
            }
            for b in &holdings.balances {
                *totals.cash_per_currency.entry(b.currency.to_string()).or_default() += b.amount;
            }
        }
    }
    totals
}

fn output_totals(merged: &MergedPortfolio) -> Totals {
    let mut totals = Totals::default();
    for line in &merged.consolidated {
        *totals.quantity_per_security.entry(line.security_key.clone()).or_default() += line.quantity.0;
        let key = (line.security_key.clone(), line.currency.to_string());
        *totals.value_per_security_and_currency.entry(key).or_default() += line.market_value.unwrap_or_default();
    }
    for line in &merged.cash {
        *totals.cash_per_currency.entry(line.currency.to_string()).or_default() += line.amount;
    }
    totals
}

/// A tiny seeded generator (xorshift): enough to permute deterministically per proptest case.
struct Shuffler(u64);

impl Shuffler {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }

    /// Fisher–Yates.
    fn permute<T>(&mut self, mut items: Vec<T>) -> Vec<T> {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
        items
    }
}

/// The same results in another order, each provider's rows in another order too.
fn shuffled(results: Vec<ProviderResult>, seed: u64) -> Vec<ProviderResult> {
    let mut rng = Shuffler(seed | 1);
    let results: Vec<ProviderResult> = results
        .into_iter()
        .map(|result| match result {
            ProviderResult::Ok { provider, holdings, last_updated, cache_info } => {
                let holdings = Holdings {
                    accounts: rng.permute(holdings.accounts),
                    positions: rng.permute(holdings.positions),
                    balances: rng.permute(holdings.balances),
                };
                ProviderResult::Ok { provider, holdings, last_updated, cache_info }
            }
            other => other,
        })
        .collect();
    rng.permute(results)
}

proptest! {
    #[test]
    fn totals_per_security_and_currency_in_equal_totals_out_when_nothing_is_routed_away(
        results in arb_results(&UNROUTED),
        available in proptest::sample::subsequence(Provider::ALL.to_vec(), 0..=2),
    ) {
        let merged = merge_portfolios(results.clone(), &available);
        prop_assert_eq!(output_totals(&merged), input_totals(&results));
        let positions_in: usize = results.iter().map(|r| match r { ProviderResult::Ok { holdings, .. } => holdings.positions.len(), _ => 0 }).sum();
        prop_assert_eq!(merged.by_account.iter().map(|a| a.positions.len()).sum::<usize>(), positions_in);
        for total in &merged.totals {
            prop_assert_eq!(total.total, total.positions_value + total.cash);
        }
    }

    #[test]
    fn with_no_provider_available_dedup_removes_nothing_anywhere(results in arb_results(&ROUTED)) {
        let merged = merge_portfolios(results.clone(), &[]);
        prop_assert_eq!(output_totals(&merged), input_totals(&results));
        prop_assert!(merged.providers.iter().all(|r| r.routed_away.is_empty()));
    }

    #[test]
    fn merge_order_does_not_change_the_result(
        results in arb_results(&[None, Some("charles_schwab"), Some("chase"), Some("citi")]),
        available in proptest::sample::subsequence(Provider::ALL.to_vec(), 0..=2),
        seed in any::<u64>(),
    ) {
        let merged = merge_portfolios(results.clone(), &available);
        let reordered = merge_portfolios(shuffled(results, seed), &available);
        prop_assert_eq!(serde_json::to_string(&reordered).unwrap(), serde_json::to_string(&merged).unwrap());
        prop_assert_eq!(reordered, merged);
    }

    #[test]
    fn dedup_never_drops_an_institution_whose_canonical_provider_is_unavailable(
        results in arb_results(&[None, Some("charles_schwab"), Some("fidelity"), Some("chase"), Some("citi")]),
        available in proptest::sample::subsequence(Provider::ALL.to_vec(), 0..=2),
    ) {
        let merged = merge_portfolios(results.clone(), &available);
        let aliases = AliasTable::embedded();
        let ok_holdings: Vec<(Provider, &Holdings)> = results.iter().filter_map(|r| match r {
            ProviderResult::Ok { provider, holdings, .. } => Some((*provider, holdings)),
            _ => None,
        }).collect();
        let supplies = |canonical: Provider, slug: &InstitutionSlug| {
            available.contains(&canonical)
                && ok_holdings.iter().any(|(p, h)| *p == canonical && institutions_in(aliases, h).contains(slug))
        };
        let rows_of = |provider: Provider, slug: &InstitutionSlug, holdings: &Holdings| {
            holdings.positions.iter().filter(|q| q.provider == provider && q.institution.as_ref() == Some(slug)).count()
                + holdings.balances.iter().filter(|b| b.provider == provider && b.institution.as_ref() == Some(slug)).count()
        };
        let mut merged_rows = Holdings::default();
        for account in &merged.by_account {
            merged_rows.positions.extend(account.positions.iter().cloned());
            merged_rows.balances.extend(account.cash.iter().cloned());
        }
        for (provider, holdings) in &ok_holdings {
            for slug in institutions_in(aliases, holdings) {
                // The institution is always in the merged view, through one provider or another.
                prop_assert!(institutions_in(aliases, &merged_rows).contains(&slug)
                    || merged.by_account.iter().any(|a| a.account.institution.as_ref() == Some(&slug)));
                let chain = DedupRouting::embedded().canonical_chain(&slug, DataType::Positions);
                let canonical = chain.iter().copied().find(|c| supplies(*c, &slug));
                if canonical.is_none_or(|c| c == *provider) {
                    prop_assert_eq!(
                        rows_of(*provider, &slug, &merged_rows),
                        rows_of(*provider, &slug, holdings),
                        "rows of {} from {} were dropped", slug, provider
                    );
                }
            }
        }
    }
}
