//! Silent empties: whether a provider's complete read that answers no positions for an account
//! the cache holds positions for is believed, or refused as a *suspect empty* (a provider answering
//! `[]` where it lost the data, not where the person sold). Pure: the worker passes what the cache
//! held and what the read found; it keeps the cache and records the failure on a suspect verdict.
//!
//! The rules, in the order [`judge_read`] applies them:
//! 1. **Confirmed.** When the provider's previous read was itself refused as a suspect empty
//!    (`previous_read_suspect`), this read is [`EmptyReadVerdict::Accept`]ed whatever it holds: two
//!    complete reads in a row agree, so an account that was really emptied (everything sold or
//!    transferred out) is recorded on the second read.
//! 2. **Emptied account.** Each cached account with at least one position is *emptied* by the read
//!    when the read has no position in it and either lists the account or lists no account at all
//!    (a read that drops one account while listing others says the account is gone — closed or
//!    disconnected — which the cache follows).
//! 3. **Cash moved.** An emptied account is believed when the read reports its cash and that cash
//!    differs from the cached cash (the same currencies at the same amounts, compared exactly): a
//!    sale moves money into the account. Cash the read does not report is unknown, never a sign.
//! 4. Any emptied account left is [`EmptyReadVerdict::Suspect`] (the whole read is refused: the
//!    cache is replaced per provider, so it is kept whole); otherwise [`EmptyReadVerdict::Accept`].
//!
//! [`read_could_be_suspect`] is the cheap test the worker runs before reading the cache: when it
//! is false, [`judge_read`] accepts the read whatever the cache holds.

use crate::domain::{Currency, Holdings};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The stable code a suspect empty is recorded and reported with.
pub const SUSPECT_EMPTY_CODE: &str = "suspect_empty";

/// What the cache held for one account before the read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedAccount {
    /// The provider's id of the account.
    pub account_id: String,
    /// How many cached positions it has.
    pub positions: usize,
    /// Its cached cash per currency (exact).
    pub cash: BTreeMap<Currency, Decimal>,
}

/// Whether a complete read replaces the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmptyReadVerdict {
    /// The read is believed: it replaces the cache.
    Accept,
    /// The read emptied these accounts (the provider's ids, in the cache's order) without a sign
    /// that they were really emptied: the cache is kept and the read recorded as failed.
    Suspect { accounts: Vec<String> },
}

/// Whether `fetched` could be judged a suspect empty against any cache: it lists no account, or
/// an account without positions. When false, [`judge_read`] accepts it.
pub fn read_could_be_suspect(fetched: &Holdings) -> bool {
    fetched.accounts.is_empty()
        || fetched.accounts.iter().any(|a| !fetched.positions.iter().any(|p| p.account_id == a.account_id))
}

/// Judges a complete read against the cache it would replace, by the rules in the module doc.
pub fn judge_read(cached: &[CachedAccount], fetched: &Holdings, previous_read_suspect: bool) -> EmptyReadVerdict {
    if previous_read_suspect {
        return EmptyReadVerdict::Accept;
    }
    let lists_none = fetched.accounts.is_empty();
    let emptied = |account: &&CachedAccount| {
        let id = account.account_id.as_str();
        account.positions > 0
            && !fetched.positions.iter().any(|p| p.account_id == id)
            && (lists_none || fetched.accounts.iter().any(|a| a.account_id == id))
    };
    let cash_moved = |account: &CachedAccount| {
        let read: BTreeMap<Currency, Decimal> = fetched
            .balances
            .iter()
            .filter(|b| b.account_id == account.account_id)
            .map(|b| (b.currency.clone(), b.amount))
            .collect();
        !read.is_empty() && read != account.cash
    };
    let accounts: Vec<String> =
        cached.iter().filter(emptied).filter(|a| !cash_moved(a)).map(|a| a.account_id.clone()).collect();
    if accounts.is_empty() {
        EmptyReadVerdict::Accept
    } else {
        EmptyReadVerdict::Suspect { accounts }
    }
}

#[cfg(test)]
#[path = "empty_read_tests.rs"]
mod tests;
