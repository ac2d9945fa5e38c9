//! The Flex Web Service's per-token throttle: at most `per_second` requests in any trailing second
//! and `per_minute` in any trailing 60 seconds (IBKR: one and ten), SendRequest and GetStatement
//! together, measured on the monotonic clock the caller passes in.
//!
//! A throttled request (answered 1018) is not itself counted, so a client that keeps retrying too
//! fast is let through again as soon as its earlier, admitted requests leave the windows. Requests
//! refused before the throttle (bad User-Agent, `v` or token) never reach it and are not counted.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Requests per trailing second allowed unless changed through the control.
pub const DEFAULT_PER_SECOND: usize = 1;
/// Requests per trailing minute allowed unless changed through the control.
pub const DEFAULT_PER_MINUTE: usize = 10;
/// The highest per-second limit the control accepts.
pub const MAX_PER_SECOND: usize = 1000;
/// The highest per-minute limit the control accepts (bounds each token's window).
pub const MAX_PER_MINUTE: usize = 100_000;

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// Admitted request times per token over the trailing minute.
#[derive(Debug)]
pub struct FlexRateLimiter {
    per_second: usize,
    per_minute: usize,
    hits: HashMap<String, VecDeque<Instant>>,
}

impl Default for FlexRateLimiter {
    fn default() -> Self {
        Self { per_second: DEFAULT_PER_SECOND, per_minute: DEFAULT_PER_MINUTE, hits: HashMap::new() }
    }
}

impl FlexRateLimiter {
    /// Sets both limits (clamped to their ranges) and forgets every token's window.
    pub fn set_limits(&mut self, per_second: usize, per_minute: usize) {
        self.per_second = per_second.clamp(1, MAX_PER_SECOND);
        self.per_minute = per_minute.clamp(1, MAX_PER_MINUTE);
        self.hits.clear();
    }

    /// (per second, per minute).
    pub fn limits(&self) -> (usize, usize) {
        (self.per_second, self.per_minute)
    }

    /// Admits and counts one request of `token` at `now`, or refuses it (uncounted) when either
    /// trailing window is full.
    pub fn admit(&mut self, token: &str, now: Instant) -> bool {
        let window = self.hits.entry(token.to_owned()).or_default();
        while window.front().is_some_and(|t| now.saturating_duration_since(*t) >= MINUTE) {
            window.pop_front();
        }
        let last_second = window.iter().rev().take_while(|t| now.saturating_duration_since(**t) < SECOND).count();
        let allowed = last_second < self.per_second && window.len() < self.per_minute;
        if allowed {
            window.push_back(now);
        }
        allowed
    }

    /// Forgets the window of a token that no longer exists.
    pub fn forget(&mut self, token: &str) {
        self.hits.remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_second_and_ten_per_minute_by_default() {
        let mut limiter = FlexRateLimiter::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert!(limiter.admit("t", at(0)));
        assert!(!limiter.admit("t", at(999)), "a second request within the same second");
        assert!(limiter.admit("other", at(999)), "tokens are throttled separately");
        for i in 1..10 {
            assert!(limiter.admit("t", at(i * 1000)), "request {i}");
        }
        assert!(!limiter.admit("t", at(10_000)), "the eleventh within a minute");
        assert!(!limiter.admit("t", at(59_999)));
        assert!(limiter.admit("t", at(60_000)), "the first request left the minute window");
    }

    #[test]
    fn throttled_requests_are_not_counted() {
        let mut limiter = FlexRateLimiter::default();
        limiter.set_limits(1000, 2);
        let t0 = Instant::now();
        assert!(limiter.admit("t", t0) && limiter.admit("t", t0));
        for s in 1..60 {
            assert!(!limiter.admit("t", t0 + Duration::from_secs(s)));
        }
        assert!(limiter.admit("t", t0 + Duration::from_secs(60)), "the refusals never filled the window");
        assert_eq!(limiter.limits(), (1000, 2));
        limiter.set_limits(0, 1_000_000);
        assert_eq!(limiter.limits(), (1, MAX_PER_MINUTE), "clamped");
    }
}
