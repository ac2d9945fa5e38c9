//! The development clock: an offset added to the runtime's clock so a test can move time forward
//! (cache ages, cooldowns, cost caps, webhook and session freshness) without sleeping.
//!
//! There are two: the worker-wide offset, and one per user on top of it. A user's own offset moves
//! only that user's decisions (their cooldowns, cache ages, cost caps), so tests that share one
//! development worker can each let hours pass without ending another test's cooldown or session.
//!
//! Promises: outside [`Environment::Development`] the offset is never applied, whatever is
//! stored; an advance is bounded per call and in total. It does not read or store anything: the
//! worker keeps the offset and passes the real time in. Calls to providers keep the real clock
//! (their signatures are checked against the provider's own time).

use crate::config::Environment;
use crate::error::ErrorCode;

/// The largest single advance: one leap year, in seconds.
pub const MAX_ADVANCE_S: i64 = 366 * 86_400;
/// The furthest the development clock may run ahead of the real one: ten leap years.
pub const MAX_OFFSET_S: i64 = 10 * MAX_ADVANCE_S;

/// Why an advance of the development clock was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevClockError {
    #[error("advance_s must be a whole number of seconds from 1 to {MAX_ADVANCE_S}")]
    AdvanceOutOfRange,
    #[error("the development clock may run at most {} days ahead of the real one", MAX_OFFSET_S / 86_400)]
    TooFarAhead,
}

impl ErrorCode for DevClockError {
    fn code(&self) -> &'static str {
        match self {
            Self::AdvanceOutOfRange => "clock_advance_out_of_range",
            Self::TooFarAhead => "clock_too_far_ahead",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// The time decisions use: `real_now` moved by `offset_s` in development, `real_now` elsewhere.
pub fn effective_now(real_now: i64, environment: &Environment, offset_s: i64) -> i64 {
    if environment.is_development() {
        real_now.saturating_add(offset_s.clamp(0, MAX_OFFSET_S))
    } else {
        real_now
    }
}

/// The offset after moving the clock forward by `advance_s` from `offset_s`.
///
/// - MUST return [`DevClockError::AdvanceOutOfRange`] unless `1 <= advance_s <= MAX_ADVANCE_S`;
/// - MUST return [`DevClockError::TooFarAhead`] when the new offset would exceed [`MAX_OFFSET_S`].
pub fn advance(offset_s: i64, advance_s: i64) -> Result<i64, DevClockError> {
    if !(1..=MAX_ADVANCE_S).contains(&advance_s) {
        return Err(DevClockError::AdvanceOutOfRange);
    }
    let next = offset_s.max(0).saturating_add(advance_s);
    if next > MAX_OFFSET_S {
        return Err(DevClockError::TooFarAhead);
    }
    Ok(next)
}

/// The offset a user's decisions use: the worker-wide offset plus the user's own, never negative
/// and never past [`MAX_OFFSET_S`].
pub fn user_offset(worker_offset_s: i64, user_offset_s: i64) -> i64 {
    worker_offset_s.max(0).saturating_add(user_offset_s.max(0)).min(MAX_OFFSET_S)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_applies_in_development_only() {
        let production = Environment::parse(Some("production"));
        let staging = Environment::parse(Some("staging"));
        assert_eq!(effective_now(1_000, &Environment::Development, 3_600), 4_600);
        assert_eq!(effective_now(1_000, &production, 3_600), 1_000);
        assert_eq!(effective_now(1_000, &staging, 3_600), 1_000);
        assert_eq!(effective_now(1_000, &Environment::Development, -50), 1_000, "never backwards");
        assert_eq!(effective_now(0, &Environment::Development, i64::MAX), MAX_OFFSET_S, "bounded");
    }

    #[test]
    fn advances_accumulate_within_bounds() {
        assert_eq!(advance(0, 3_600), Ok(3_600));
        assert_eq!(advance(3_600, 86_400), Ok(90_000));
        assert_eq!(advance(0, MAX_ADVANCE_S), Ok(MAX_ADVANCE_S));
        for bad in [0, -1, MAX_ADVANCE_S + 1] {
            assert_eq!(advance(0, bad), Err(DevClockError::AdvanceOutOfRange), "{bad}");
        }
        assert_eq!(advance(MAX_OFFSET_S, 1), Err(DevClockError::TooFarAhead));
        assert_eq!(advance(MAX_OFFSET_S - 1, 1), Ok(MAX_OFFSET_S));
        assert_eq!(DevClockError::TooFarAhead.code(), "clock_too_far_ahead");
        assert!(DevClockError::AdvanceOutOfRange.to_string().contains("advance_s"));
    }

    #[test]
    fn a_users_offset_adds_to_the_workers_within_bounds() {
        assert_eq!(user_offset(0, 0), 0);
        assert_eq!(user_offset(3_600, 600), 4_200);
        assert_eq!(user_offset(-5, 600), 600, "a negative stored offset counts as none");
        assert_eq!(user_offset(600, -5), 600);
        assert_eq!(user_offset(MAX_OFFSET_S, MAX_OFFSET_S), MAX_OFFSET_S, "bounded");
        assert_eq!(user_offset(i64::MAX, i64::MAX), MAX_OFFSET_S, "no overflow");
    }
}
