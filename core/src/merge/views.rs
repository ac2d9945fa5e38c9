//! Building the merged views from the rows dedup kept: accounts with their positions and cash,
//! consolidated lines per security and currency, cash per currency, totals per currency. Every
//! list is sorted by a total order, so the same rows in any order give the same portfolio.

use super::{provider_priority, AccountHoldings, CashSource, CashTotal, ConsolidatedPosition, CurrencyTotal};
use super::{MergedPortfolio, PositionSource, ProviderReport, ProviderStatus};
use crate::domain::{Account, CashBalance, Currency, Holdings, Position, Provider, Quantity, SecurityKind};
use rust_decimal::Decimal;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The report of a provider that had no result at all.
pub(super) fn not_connected(provider: Provider, available: bool) -> ProviderReport {
    ProviderReport {
        provider,
        status: ProviderStatus::NotConnected,
        last_updated: None,
        cache_info: None,
        routed_away: Vec::new(),
        fail_open: Vec::new(),
        available,
        accounts: 0,
        positions: 0,
        balances: 0,
    }
}

/// Sorts by `order`, ties broken by the items' JSON: a total order on everything a client can see.
/// Only items that tie under `order` are serialised — the same result as sorting everything by
/// JSON first and then stably by `order`, without serialising every item.
pub(super) fn sort_deterministically<T: Serialize>(items: &mut [T], order: impl Fn(&T, &T) -> Ordering) {
    items.sort_by(&order);
    let mut start = 0;
    while start < items.len() {
        let run = items[start..].iter().take_while(|item| order(item, &items[start]) == Ordering::Equal).count();
        if run > 1 {
            items[start..start + run].sort_by_cached_key(|item| serde_json::to_string(item).unwrap_or_default());
        }
        start += run;
    }
}

/// Orders rows by provider priority, then by each of `fields` in turn.
fn by_provider_then<T>(a: &T, b: &T, provider: fn(&T) -> Provider, fields: &[fn(&T) -> &str]) -> Ordering {
    provider_priority(provider(a))
        .cmp(&provider_priority(provider(b)))
        .then_with(|| fields.iter().map(|field| field(a).cmp(field(b))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal))
}

/// Assembles the portfolio from the kept rows and the (already sorted) provider reports.
pub(super) fn build(rows: Holdings, providers: Vec<ProviderReport>) -> MergedPortfolio {
    let Holdings { mut accounts, mut positions, mut balances } = rows;
    sort_deterministically(&mut accounts, |a, b| by_provider_then(a, b, |a| a.provider, &[|a| &a.account_id]));
    sort_deterministically(&mut positions, |a, b| {
        by_provider_then(a, b, |p| p.provider, &[|p| &p.account_id, |p| &p.security_key, |p| p.currency.as_str()])
    });
    sort_deterministically(&mut balances, |a, b| {
        by_provider_then(a, b, |b| b.provider, &[|b| &b.account_id, |b| b.currency.as_str()])
    });
    MergedPortfolio {
        consolidated: consolidate(&positions),
        cash: cash_totals(&balances),
        totals: currency_totals(&positions, &balances),
        by_account: by_account(accounts, positions, balances),
        providers,
    }
}

fn placeholder_account(provider: Provider, account_id: &str, institution: Option<&crate::InstitutionSlug>) -> Account {
    Account {
        provider,
        account_id: account_id.to_owned(),
        connection_id: None,
        institution: institution.cloned(),
        institution_name: None,
        name: None,
        number_mask: None,
        account_type: None,
        currency: None,
    }
}

/// Every account (one per provider and account id; rows without an account get a placeholder
/// account, so no position or cash is ever dropped), by institution, provider priority and id.
fn by_account(accounts: Vec<Account>, positions: Vec<Position>, balances: Vec<CashBalance>) -> Vec<AccountHoldings> {
    let mut found: BTreeMap<(Provider, String), AccountHoldings> = BTreeMap::new();
    for account in accounts {
        let key = (account.provider, account.account_id.clone());
        found.entry(key).or_insert(AccountHoldings { account, positions: Vec::new(), cash: Vec::new() });
    }
    for position in positions {
        let key = (position.provider, position.account_id.clone());
        let placeholder =
            || placeholder_account(position.provider, &position.account_id, position.institution.as_ref());
        let entry = found.entry(key).or_insert_with(|| AccountHoldings {
            account: placeholder(),
            positions: Vec::new(),
            cash: Vec::new(),
        });
        entry.positions.push(position);
    }
    for balance in balances {
        let key = (balance.provider, balance.account_id.clone());
        let placeholder = || placeholder_account(balance.provider, &balance.account_id, balance.institution.as_ref());
        let entry = found.entry(key).or_insert_with(|| AccountHoldings {
            account: placeholder(),
            positions: Vec::new(),
            cash: Vec::new(),
        });
        entry.cash.push(balance);
    }
    let mut list: Vec<AccountHoldings> = found.into_values().collect();
    list.sort_by_key(|a| {
        let account = &a.account;
        (
            account.institution.is_none(),
            account.institution.clone(),
            provider_priority(account.provider),
            account.account_id.clone(),
        )
    });
    list
}

/// One line per (security key, currency), sources in priority order (positions arrive sorted).
fn consolidate(positions: &[Position]) -> Vec<ConsolidatedPosition> {
    let mut groups: BTreeMap<(&str, &Currency), Vec<&Position>> = BTreeMap::new();
    for position in positions {
        groups.entry((position.security_key.as_str(), &position.currency)).or_default().push(position);
    }
    groups
        .into_iter()
        .map(|((security_key, currency), group)| {
            let known_values: Vec<Decimal> = group.iter().filter_map(|p| p.market_value).collect();
            let cost_bases: Option<Vec<Decimal>> = group.iter().map(|p| p.cost_basis).collect();
            ConsolidatedPosition {
                security_key: security_key.to_owned(),
                currency: currency.clone(),
                ticker: group.iter().find_map(|p| p.ticker.clone()),
                name: group.iter().find_map(|p| p.name.clone()),
                kind: group.iter().map(|p| p.kind).find(|k| *k != SecurityKind::Other).unwrap_or(SecurityKind::Other),
                quantity: Quantity(group.iter().map(|p| p.quantity.0).sum()),
                market_value: (!known_values.is_empty()).then(|| known_values.iter().copied().sum()),
                market_value_complete: known_values.len() == group.len(),
                cost_basis: cost_bases.map(|all| all.into_iter().sum()),
                sources: group
                    .iter()
                    .map(|p| PositionSource {
                        provider: p.provider,
                        account_id: p.account_id.clone(),
                        institution: p.institution.clone(),
                        quantity: p.quantity,
                        market_value: p.market_value,
                        cost_basis: p.cost_basis,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// All cash per currency, each currency kept as it is.
fn cash_totals(balances: &[CashBalance]) -> Vec<CashTotal> {
    let mut totals: BTreeMap<&Currency, CashTotal> = BTreeMap::new();
    for balance in balances {
        let total = totals.entry(&balance.currency).or_insert_with(|| CashTotal {
            currency: balance.currency.clone(),
            amount: Decimal::ZERO,
            sources: Vec::new(),
        });
        total.amount += balance.amount;
        total.sources.push(CashSource {
            provider: balance.provider,
            account_id: balance.account_id.clone(),
            institution: balance.institution.clone(),
            amount: balance.amount,
        });
    }
    totals.into_values().collect()
}

/// Positions' known value plus cash, per currency.
fn currency_totals(positions: &[Position], balances: &[CashBalance]) -> Vec<CurrencyTotal> {
    let mut totals: BTreeMap<&Currency, CurrencyTotal> = BTreeMap::new();
    for position in positions {
        let total = total_for(&mut totals, &position.currency);
        match position.market_value {
            Some(value) => total.positions_value += value,
            None => total.unvalued_positions += 1,
        }
    }
    for balance in balances {
        total_for(&mut totals, &balance.currency).cash += balance.amount;
    }
    totals
        .into_values()
        .map(|mut t| {
            t.total = t.positions_value + t.cash;
            t
        })
        .collect()
}

fn total_for<'m, 'c>(
    totals: &'m mut BTreeMap<&'c Currency, CurrencyTotal>,
    currency: &'c Currency,
) -> &'m mut CurrencyTotal {
    totals.entry(currency).or_insert_with(|| CurrencyTotal {
        currency: currency.clone(),
        positions_value: Decimal::ZERO,
        cash: Decimal::ZERO,
        total: Decimal::ZERO,
        unvalued_positions: 0,
    })
}
