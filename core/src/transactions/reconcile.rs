//! Holdings against activity: for each account both holdings snapshots contain, the quantity
//! change the transactions between them imply, per security, against the change the snapshots
//! show. A difference is reported as a [`Mismatch`], never "fixed". Pure.
//!
//! Providers date transactions by day and take snapshots at instants, so a transaction counts
//! between two snapshots when its trade date is after the first snapshot's (UTC) day and no later
//! than the second's.

use super::Transaction;
use crate::domain::Provider;
use crate::time::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One provider's position quantities at one instant, by (account id, security key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuantitySnapshot {
    /// Unix seconds of the fetch the quantities come from.
    pub taken_at: i64,
    pub quantities: BTreeMap<(String, String), Decimal>,
}

impl QuantitySnapshot {
    fn accounts(&self) -> BTreeSet<&str> {
        self.quantities.keys().map(|(account, _)| account.as_str()).collect()
    }
}

/// A security whose quantity changed otherwise than its transactions say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub provider: Provider,
    pub account_id: String,
    pub security_key: String,
    /// What the transactions between the snapshots add up to.
    pub implied_change: Decimal,
    /// What the snapshots show (the later quantity minus the earlier; absent = 0).
    pub observed_change: Decimal,
    /// `observed_change − implied_change`: what no transaction explains.
    pub difference: Decimal,
    /// The days the transactions were counted over: after `since`, up to `until`.
    pub since: Date,
    pub until: Date,
}

/// Every security of `provider`'s accounts present in both snapshots whose observed quantity
/// change differs from the sum of its transactions' quantities dated between them.
pub fn reconcile(
    provider: Provider,
    earlier: &QuantitySnapshot,
    later: &QuantitySnapshot,
    transactions: &[Transaction],
) -> Vec<Mismatch> {
    let (since, until) = (Date::from_unix(earlier.taken_at), Date::from_unix(later.taken_at));
    let accounts: BTreeSet<&str> = earlier.accounts().intersection(&later.accounts()).copied().collect();
    let mut implied: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for tx in transactions {
        let (Some(security), Some(quantity)) = (&tx.security, tx.quantity) else { continue };
        if tx.provider != provider || !accounts.contains(tx.account_id.as_str()) {
            continue;
        }
        if tx.trade_date > since && tx.trade_date <= until {
            let sum = implied.entry((tx.account_id.clone(), security.security_key.clone())).or_default();
            *sum = sum.saturating_add(quantity);
        }
    }
    let keys: BTreeSet<&(String, String)> = earlier
        .quantities
        .keys()
        .chain(later.quantities.keys())
        .chain(implied.keys())
        .filter(|(account, _)| accounts.contains(account.as_str()))
        .collect();
    keys.into_iter()
        .filter_map(|key| {
            let quantity = |snapshot: &QuantitySnapshot| snapshot.quantities.get(key).copied().unwrap_or_default();
            let observed = quantity(later).saturating_sub(quantity(earlier));
            let implied_change = implied.get(key).copied().unwrap_or_default();
            (observed != implied_change).then(|| Mismatch {
                provider,
                account_id: key.0.clone(),
                security_key: key.1.clone(),
                implied_change: implied_change.normalize(),
                observed_change: observed.normalize(),
                difference: observed.saturating_sub(implied_change).normalize(),
                since,
                until,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transactions::{TransactionSecurity, TransactionType};
    use proptest::prelude::*;

    const DAY: i64 = 86_400;
    const T0: i64 = 1_780_000_000;

    fn tx(n: usize, account: &str, key: &str, quantity: Decimal, day: i64) -> Transaction {
        Transaction {
            id: format!("tx_{n:032x}"),
            provider: Provider::SnapTrade,
            provider_transaction_id: n.to_string(),
            account_id: account.into(),
            institution: None,
            kind: if quantity.is_sign_negative() { TransactionType::Sell } else { TransactionType::Buy },
            provider_type: "BUY".into(),
            trade_date: Date::from_unix(T0 + day * DAY),
            settlement_date: None,
            security: Some(TransactionSecurity { security_key: key.into(), ticker: Some(key.into()), name: None }),
            quantity: Some(quantity),
            price: None,
            amount: None,
            fees: None,
            currency: None,
            description: None,
        }
    }

    fn snapshot(at: i64, rows: &[(&str, &str, Decimal)]) -> QuantitySnapshot {
        QuantitySnapshot {
            taken_at: at,
            quantities: rows.iter().map(|(a, k, q)| ((a.to_string(), k.to_string()), *q)).collect(),
        }
    }

    #[test]
    fn a_trade_that_explains_the_change_is_no_mismatch_and_a_missing_one_is_reported() {
        let earlier = snapshot(T0, &[("a", "AAPL", Decimal::from(10)), ("a", "MSFT", Decimal::from(5))]);
        let later = snapshot(T0 + 3 * DAY, &[("a", "AAPL", Decimal::from(12)), ("a", "MSFT", Decimal::from(5))]);
        let bought = [tx(1, "a", "AAPL", Decimal::from(2), 1)];
        assert_eq!(reconcile(Provider::SnapTrade, &earlier, &later, &bought), []);
        let mismatches = reconcile(Provider::SnapTrade, &earlier, &later, &[]);
        assert_eq!(mismatches.len(), 1);
        let m = &mismatches[0];
        assert_eq!(
            (m.security_key.as_str(), m.implied_change, m.observed_change, m.difference),
            ("AAPL", Decimal::ZERO, Decimal::from(2), Decimal::from(2))
        );
        // A trade dated on the first snapshot's day, or after the second's, is not between them.
        let outside = [tx(2, "a", "AAPL", Decimal::from(2), 0), tx(3, "a", "AAPL", Decimal::from(2), 4)];
        assert_eq!(reconcile(Provider::SnapTrade, &earlier, &later, &outside).len(), 1);
        // An account only one snapshot has is not judged.
        let new_account = snapshot(T0 + 3 * DAY, &[("b", "AAPL", Decimal::from(1))]);
        assert_eq!(reconcile(Provider::SnapTrade, &earlier, &new_account, &[]), []);
    }

    proptest! {
        #[test]
        fn consistent_activity_never_mismatches_and_one_dropped_trade_flags_exactly_its_security(
            trades in proptest::collection::vec((0usize..3, 0usize..4, -50i64..50, 1i64..6), 1..40),
            drop in any::<proptest::sample::Index>(),
        ) {
            let accounts = ["a", "b", "c"];
            let keys = ["AAPL", "MSFT", "VTI", "cusip:123"];
            let trades: Vec<_> = trades.into_iter().filter(|t| t.2 != 0).collect();
            prop_assume!(!trades.is_empty());
            let mut quantities: BTreeMap<(String, String), Decimal> = BTreeMap::new();
            for a in accounts {
                for k in keys {
                    quantities.insert((a.into(), k.into()), Decimal::from(100));
                }
            }
            let earlier = QuantitySnapshot { taken_at: T0, quantities: quantities.clone() };
            let rows: Vec<Transaction> = trades
                .iter()
                .enumerate()
                .map(|(n, (a, k, q, d))| tx(n, accounts[*a], keys[*k], Decimal::new(*q, 1), *d))
                .collect();
            let mut later = QuantitySnapshot { taken_at: T0 + 6 * DAY, quantities };
            for row in &rows {
                let key = (row.account_id.clone(), row.security.as_ref().unwrap().security_key.clone());
                *later.quantities.get_mut(&key).unwrap() += row.quantity.unwrap();
            }
            prop_assert_eq!(reconcile(Provider::SnapTrade, &earlier, &later, &rows), vec![]);

            let dropped = drop.index(rows.len());
            let mut missing = rows.clone();
            let gone = missing.remove(dropped);
            let flagged = reconcile(Provider::SnapTrade, &earlier, &later, &missing);
            // The dropped trade's security is flagged unless other trades of it happen to cancel to the same sum (never: one row removed changes the sum by a non-zero amount).
            prop_assert_eq!(flagged.len(), 1);
            prop_assert_eq!(&flagged[0].account_id, &gone.account_id);
            prop_assert_eq!(&flagged[0].security_key, &gone.security.as_ref().unwrap().security_key);
            prop_assert_eq!(flagged[0].difference, gone.quantity.unwrap());
        }
    }
}
