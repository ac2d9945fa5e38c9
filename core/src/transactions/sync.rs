//! How a transactions sync reads a provider: the window (from a little before where the last sync
//! reached, because providers post late, to today; the provider's whole history the first time)
//! and the pages (offset paging to the end, bounded). Pure: the caller brings the dates and pages.

use crate::domain::Provider;
use crate::time::Date;

/// How far before the day the last sync reached the next one starts again: late-posting rows
/// (dated days before they appear) are found, and re-read rows are upserted by id, never doubled.
pub const OVERLAP_DAYS: i64 = 10;

/// The most pages one sync reads of one account or Item before it stops and says so.
pub const MAX_PAGES: u32 = 40;

/// How far back the first sync of `provider` reads: Plaid keeps 24 months of investment
/// transactions; the others are read five years back (the longest window a ledger read covers).
pub fn history_days(provider: Provider) -> i64 {
    match provider {
        Provider::Plaid => 730,
        _ => super::query::MAX_WINDOW_DAYS,
    }
}

/// Rows per page asked of `provider`: its documented maximum (SnapTrade 1,000, Plaid 500).
pub fn page_size(provider: Provider) -> u32 {
    match provider {
        Provider::SnapTrade => 1_000,
        _ => 500,
    }
}

/// The window `[from, to]` the next sync of one account or Item reads on `today`, given the last
/// day a complete sync reached (`None` the first time).
pub fn sync_window(provider: Provider, synced_through: Option<Date>, today: Date) -> (Date, Date) {
    let oldest = today.add_days(-history_days(provider));
    let from = synced_through.map_or(oldest, |day| day.add_days(-OVERLAP_DAYS)).max(oldest).min(today);
    (from, today)
}

/// How the read of one scope (an account, an Item) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeOutcome {
    /// Every page was read.
    Complete,
    /// The provider is still preparing the data (Plaid's `PRODUCT_NOT_READY`): not yet, not a failure.
    NotReady,
    /// A page failed; the rows before it were kept.
    Failed,
}

/// How one provider's sync ended, from its scopes' outcomes and how many rows it stored:
/// `ok` when every scope was read completely (or there were none), `not_ready` when every
/// other scope is still being prepared, `partial` when something was stored or read completely
/// despite a failure, else `failed`.
pub fn sync_status(outcomes: &[ScopeOutcome], rows_stored: usize) -> &'static str {
    let complete = outcomes.iter().filter(|o| **o == ScopeOutcome::Complete).count();
    if complete == outcomes.len() {
        "ok"
    } else if complete == 0 && outcomes.iter().all(|o| *o == ScopeOutcome::NotReady) {
        "not_ready"
    } else if complete > 0 || rows_stored > 0 {
        "partial"
    } else {
        "failed"
    }
}

/// Why paging stopped before the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("more than {MAX_PAGES} pages of transactions in one read; the rest is read by the next sync")]
    TooManyPages,
}

impl crate::error::ErrorCode for PagingError {
    fn code(&self) -> &'static str {
        "transactions_too_many_pages"
    }
    fn http_status(&self) -> u16 {
        502
    }
}

/// Where the next page starts after the page at `offset` brought `received` rows of the `total`
/// the provider counts in the window: `None` when the read is complete (every row seen, or the
/// provider sent an empty page). `pages_read` counts pages so far, this one included.
pub fn next_offset(offset: u32, received: usize, total: u64, pages_read: u32) -> Result<Option<u32>, PagingError> {
    let next = u64::from(offset) + received as u64;
    if received == 0 || next >= total {
        return Ok(None);
    }
    if pages_read >= MAX_PAGES {
        return Err(PagingError::TooManyPages);
    }
    Ok(Some(u32::try_from(next).map_err(|_| PagingError::TooManyPages)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn the_first_sync_reads_the_history_and_later_ones_overlap_the_last() {
        let today = day("2026-12-03");
        assert_eq!(sync_window(Provider::Plaid, None, today), (day("2024-12-03"), today), "Plaid's 24 months");
        assert_eq!(sync_window(Provider::SnapTrade, None, today).0, today.add_days(-1830));
        assert_eq!(sync_window(Provider::SnapTrade, Some(day("2026-12-01")), today).0, day("2026-11-21"));
        // Never before the history, never after today.
        assert_eq!(sync_window(Provider::Plaid, Some(day("2020-01-01")), today).0, day("2024-12-03"));
        assert_eq!(sync_window(Provider::Plaid, Some(day("2027-06-01")), today).0, today);
    }

    #[test]
    fn a_sync_is_ok_only_when_every_scope_was_read_to_the_end() {
        use ScopeOutcome::*;
        assert_eq!(sync_status(&[], 0), "ok");
        assert_eq!(sync_status(&[Complete, Complete], 9), "ok");
        assert_eq!(sync_status(&[NotReady], 0), "not_ready");
        assert_eq!(sync_status(&[Complete, NotReady], 3), "partial");
        assert_eq!(sync_status(&[Failed], 500), "partial", "rows before the failed page were kept");
        assert_eq!(sync_status(&[Failed, NotReady], 0), "failed");
    }

    #[test]
    fn pages_run_to_the_total_and_stop_on_an_empty_page_or_the_bound() {
        assert_eq!(next_offset(0, 500, 1_200, 1), Ok(Some(500)));
        assert_eq!(next_offset(500, 500, 1_200, 2), Ok(Some(1_000)));
        assert_eq!(next_offset(1_000, 200, 1_200, 3), Ok(None));
        assert_eq!(next_offset(0, 0, 1_200, 1), Ok(None), "an empty page ends the read");
        assert_eq!(next_offset(0, 3, 3, 1), Ok(None));
        assert_eq!(next_offset(19_500, 500, 100_000, MAX_PAGES), Err(PagingError::TooManyPages));
    }
}
