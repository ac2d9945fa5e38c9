//! SnapTrade's customer-level rate limit: by default 250 requests in any trailing 60 seconds per
//! client id, reported on every response as `X-RateLimit-Limit` / `-Remaining` / `-Reset` (seconds
//! until the window frees a slot), and answered with 429 + `Retry-After` when exceeded.

use axum::http::{HeaderMap, HeaderValue};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Requests allowed per window unless changed through `POST /__sim/ratelimit`.
pub const DEFAULT_LIMIT: usize = 250;
/// The rolling window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The highest limit the control endpoint accepts (bounds the memory of the window).
pub const MAX_LIMIT: usize = 100_000;

/// Trailing-window request times per client id.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    hits: HashMap<String, VecDeque<Instant>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, hits: HashMap::new() }
    }
}

/// The outcome of one request against the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: usize,
    pub remaining: usize,
    /// Seconds until the oldest request in the window leaves it (the window's full length when empty).
    pub reset_secs: u64,
    pub allowed: bool,
}

impl RateStatus {
    /// The headers of a request that was not attributed to a known client id.
    pub fn unattributed() -> Self {
        Self { limit: DEFAULT_LIMIT, remaining: DEFAULT_LIMIT, reset_secs: WINDOW.as_secs(), allowed: true }
    }

    /// Writes the `X-RateLimit-*` headers (and `Retry-After` when refused) into `headers`.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit as u64));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining as u64));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset_secs));
        if !self.allowed {
            headers.insert("retry-after", HeaderValue::from(self.reset_secs.max(1)));
        }
    }
}

impl RateLimiter {
    /// Sets the per-window limit (clamped to 1..=[`MAX_LIMIT`]) and forgets the window.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.clamp(1, MAX_LIMIT);
        self.hits.clear();
    }

    /// The current per-window limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Counts one request from `client_id` at `now` unless the window is full; refused requests do not count.
    pub fn hit(&mut self, client_id: &str, now: Instant) -> RateStatus {
        let window = self.hits.entry(client_id.to_owned()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            window.pop_front();
        }
        let allowed = window.len() < self.limit;
        if allowed {
            window.push_back(now);
        }
        let reset_secs = window.front().map_or(WINDOW.as_secs(), |oldest| {
            let left = WINDOW.saturating_sub(now.duration_since(*oldest));
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        });
        RateStatus { limit: self.limit, remaining: self.limit.saturating_sub(window.len()), reset_secs, allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_frees_slots_as_the_window_rolls() {
        let mut limiter = RateLimiter::default();
        limiter.set_limit(3);
        let t0 = Instant::now();
        assert_eq!(limiter.hit("c", t0).remaining, 2);
        limiter.hit("c", t0 + Duration::from_secs(10));
        let third = limiter.hit("c", t0 + Duration::from_secs(20));
        assert_eq!((third.remaining, third.allowed, third.reset_secs), (0, true, 40));
        let refused = limiter.hit("c", t0 + Duration::from_secs(30));
        assert_eq!((refused.allowed, refused.reset_secs), (false, 30));
        assert!(limiter.hit("other", t0).allowed);
        assert!(limiter.hit("c", t0 + Duration::from_secs(60)).allowed);
    }
}
