//! The pending-updates poller's rules: `GET /api/pending-updates`'s answer as per-provider flags
//! plus a combined one, when a change is worth telling the app about, and which providers
//! a poller refresh asks for — only the flagged ones, and with none flagged, no request at all;
//! beside the holdings flags, which providers announced new transactions ([`Pending`]).

use crate::domain::Provider;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which providers have new data waiting, and whether any has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PendingFlags {
    pub snaptrade: bool,
    pub plaid: bool,
    pub schwab: bool,
    /// Any of the providers.
    pub any: bool,
}

impl PendingFlags {
    /// Flags from per-provider booleans (Schwab direct has no webhooks: never pending); `any` is derived.
    pub fn new(snaptrade: bool, plaid: bool) -> Self {
        Self { snaptrade, plaid, schwab: false, any: snaptrade || plaid }
    }

    /// The flags of a `GET /api/pending-updates` answer (`{"plaid": bool, "snaptrade": bool}`);
    /// a provider left out is not pending.
    pub fn from_answer(snaptrade: Option<bool>, plaid: Option<bool>) -> Self {
        Self::new(snaptrade.unwrap_or(false), plaid.unwrap_or(false))
    }

    /// Whether `provider` has new data waiting.
    pub fn is_pending(&self, provider: Provider) -> bool {
        match provider {
            Provider::SnapTrade => self.snaptrade,
            Provider::Plaid => self.plaid,
            Provider::Schwab => self.schwab,
            // No webhooks: new statements are pulled on a schedule, never announced.
            Provider::IbkrFlex => false,
        }
    }

    /// The providers a poller refresh asks for: exactly the flagged ones, in a stable order.
    /// Empty means there is nothing to refresh and no request should be made.
    pub fn providers_to_refresh(&self) -> Vec<Provider> {
        Provider::ALL.into_iter().filter(|p| self.is_pending(*p)).collect()
    }
}

/// Whether the app's `onChange` hears about `next`: after the first poll, then on every change.
pub fn should_notify(previous: Option<&PendingFlags>, next: &PendingFlags) -> bool {
    previous != Some(next)
}

/// Everything `GET /api/pending-updates` says is waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// Holdings: per provider, and `any`.
    #[serde(flatten)]
    pub holdings: PendingFlags,
    /// New transactions announced, per provider the answer named.
    pub transactions: BTreeMap<Provider, bool>,
    /// Whether any provider has new transactions announced.
    pub any_transactions: bool,
}

impl Pending {
    /// The flags from the holdings flags and the per-provider transactions flags.
    pub fn new(holdings: PendingFlags, transactions: BTreeMap<Provider, bool>) -> Self {
        let any_transactions = transactions.values().any(|pending| *pending);
        Self { holdings, transactions, any_transactions }
    }

    /// The providers with new transactions announced, in the core's provider order.
    pub fn transactions_pending(&self) -> Vec<Provider> {
        self.transactions.iter().filter(|(_, pending)| **pending).map(|(provider, _)| *provider).collect()
    }

    /// The providers whose transactions flag is raised in `self` and was not in `previous` (every
    /// raised one on the first answer).
    pub fn transactions_raised(&self, previous: Option<&Pending>) -> Vec<Provider> {
        let was = |provider: &Provider| previous.and_then(|p| p.transactions.get(provider)).copied().unwrap_or(false);
        self.transactions_pending().into_iter().filter(|provider| !was(provider)).collect()
    }

    /// Whether the app hears about `self` after `previous`: the core's rule for holdings, and any
    /// change of a transactions flag.
    pub fn is_news_after(&self, previous: Option<&Pending>) -> bool {
        match previous {
            None => true,
            Some(before) => {
                should_notify(Some(&before.holdings), &self.holdings) || before.transactions != self.transactions
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_becomes_flags_with_a_combined_one() {
        assert_eq!(
            PendingFlags::from_answer(Some(true), Some(false)),
            PendingFlags { snaptrade: true, plaid: false, schwab: false, any: true }
        );
        assert_eq!(
            PendingFlags::from_answer(None, Some(true)),
            PendingFlags { snaptrade: false, plaid: true, schwab: false, any: true }
        );
        assert_eq!(PendingFlags::from_answer(None, None), PendingFlags::default());
        assert!(!PendingFlags::from_answer(Some(false), Some(false)).any);
    }

    #[test]
    fn only_flagged_providers_are_refreshed_and_none_means_no_request() {
        assert_eq!(PendingFlags::new(true, false).providers_to_refresh(), vec![Provider::SnapTrade]);
        assert_eq!(PendingFlags::new(false, true).providers_to_refresh(), vec![Provider::Plaid]);
        assert_eq!(PendingFlags::new(true, true).providers_to_refresh(), vec![Provider::SnapTrade, Provider::Plaid]);
        assert!(PendingFlags::new(false, false).providers_to_refresh().is_empty());
    }

    #[test]
    fn the_app_hears_the_first_poll_and_every_change_but_no_repeat() {
        let quiet = PendingFlags::default();
        let snaptrade = PendingFlags::new(true, false);
        assert!(should_notify(None, &quiet), "the first answer is news even when nothing is pending");
        assert!(should_notify(Some(&quiet), &snaptrade));
        assert!(should_notify(Some(&snaptrade), &quiet));
        assert!(!should_notify(Some(&snaptrade), &snaptrade));
    }

    #[test]
    fn flags_serialise_as_the_package_documents_them() {
        let json = serde_json::to_value(PendingFlags::new(false, true)).unwrap();
        assert_eq!(json, serde_json::json!({"snaptrade": false, "plaid": true, "schwab": false, "any": true}));
    }
}

#[cfg(test)]
mod transactions_flag_tests {
    use super::*;

    fn pending(snaptrade: bool, plaid: bool) -> Pending {
        Pending::new(PendingFlags::default(), [(Provider::SnapTrade, snaptrade), (Provider::Plaid, plaid)].into())
    }

    #[test]
    fn a_raised_transactions_flag_is_news_and_names_only_the_newly_raised_provider() {
        let first = pending(true, false);
        assert!(first.any_transactions && !first.holdings.any, "transactions never raise the holdings flag");
        assert_eq!(first.transactions_raised(None), [Provider::SnapTrade]);
        let next = pending(true, true);
        assert!(next.is_news_after(Some(&first)));
        assert_eq!(next.transactions_raised(Some(&first)), [Provider::Plaid]);
        assert!(!next.is_news_after(Some(&next.clone())), "the same flags again are no news");
        let cleared = pending(false, true);
        assert!(cleared.is_news_after(Some(&next)) && cleared.transactions_raised(Some(&next)).is_empty());
    }
}
