//! The pending-updates poller's rules: `GET /api/pending-updates`'s answer as per-provider flags
//! plus a combined one, when a change is worth telling the app about, and which providers
//! a poller refresh asks for — only the flagged ones, and with none flagged, no request at all.

use crate::domain::Provider;
use serde::Serialize;

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
