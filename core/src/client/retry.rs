//! When a client asks again: only after a [`HttpOutcome::Transient`] failure, at most
//! `max_attempts` requests in all, each retry after a bounded exponential backoff with jitter.
//! Rate limits (429), cost caps (402) and every other 4xx are never retried. The randomness
//! comes in as an argument (`jitter_unit` in `[0, 1]`), so every delay is reproducible.

use super::options::OptionError;
use super::outcome::HttpOutcome;

/// Requests per call, at most (the first one included).
pub const MAX_ATTEMPTS_LIMIT: u32 = 10;
/// The longest wait before one retry that can be configured.
pub const MAX_DELAY_LIMIT_MS: u32 = 60_000;

/// How many times to ask, and how long to wait between asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests per call, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles with every further retry.
    pub base_delay_ms: u32,
    /// No wait is longer than this.
    pub max_delay_ms: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_delay_ms: 250, max_delay_ms: 8_000 }
    }
}

impl RetryPolicy {
    /// The default policy with the given fields replaced; refuses `max_attempts` outside
    /// `1..=10`, delays above 60 s, and a base delay above the maximum.
    pub fn with(
        max_attempts: Option<u32>,
        base_delay_ms: Option<u32>,
        max_delay_ms: Option<u32>,
    ) -> Result<Self, OptionError> {
        let default = Self::default();
        let policy = Self {
            max_attempts: max_attempts.unwrap_or(default.max_attempts),
            base_delay_ms: base_delay_ms.unwrap_or(default.base_delay_ms),
            max_delay_ms: max_delay_ms.unwrap_or(default.max_delay_ms.max(base_delay_ms.unwrap_or(0))),
        };
        OptionError::check_range("maxAttempts", policy.max_attempts, 1, MAX_ATTEMPTS_LIMIT)?;
        OptionError::check_range("maxDelayMs", policy.max_delay_ms, 0, MAX_DELAY_LIMIT_MS)?;
        OptionError::check_range("baseDelayMs", policy.base_delay_ms, 0, policy.max_delay_ms)?;
        Ok(policy)
    }

    /// Milliseconds to wait before request number `attempt` (1-based; the first request never
    /// waits). Retry `n` waits between half and all of `min(max_delay_ms, base_delay_ms · 2ⁿ⁻¹)`,
    /// placed by `jitter_unit` (clamped to `[0, 1]`; NaN counts as 0).
    pub fn delay_before(&self, attempt: u32, jitter_unit: f64) -> u32 {
        if attempt <= 1 {
            return 0;
        }
        let doublings = (attempt - 2).min(31);
        let ceiling = u64::from(self.base_delay_ms).saturating_mul(1 << doublings).min(u64::from(self.max_delay_ms));
        let jitter = if jitter_unit.is_nan() { 0.0 } else { jitter_unit.clamp(0.0, 1.0) };
        let floor = ceiling / 2;
        let spread = ((ceiling - floor) as f64 * jitter).round() as u64;
        // floor + spread ≤ ceiling ≤ max_delay_ms, which is a u32.
        (floor + spread.min(ceiling - floor)) as u32
    }

    /// Whether to ask again after `outcome`, when `attempts_made` requests have been made.
    pub fn should_retry(&self, outcome: &HttpOutcome, attempts_made: u32) -> bool {
        outcome.is_transient() && attempts_made < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient(status: u16) -> HttpOutcome {
        HttpOutcome::Transient { status, code: "x".into(), message: "y".into() }
    }

    #[test]
    fn defaults_are_three_attempts_from_250_ms() {
        assert_eq!(RetryPolicy::default(), RetryPolicy { max_attempts: 3, base_delay_ms: 250, max_delay_ms: 8_000 });
        assert_eq!(RetryPolicy::with(None, None, None), Ok(RetryPolicy::default()));
    }

    #[test]
    fn the_first_request_never_waits_and_retries_double_within_jitter() {
        let policy = RetryPolicy::default();
        assert_eq!((policy.delay_before(0, 1.0), policy.delay_before(1, 1.0)), (0, 0));
        assert_eq!((policy.delay_before(2, 0.0), policy.delay_before(2, 1.0)), (125, 250));
        assert_eq!((policy.delay_before(3, 0.0), policy.delay_before(3, 1.0)), (250, 500));
        assert_eq!(policy.delay_before(3, 0.5), 375);
    }

    #[test]
    fn every_delay_is_bounded_whatever_the_attempt_or_jitter() {
        let policy = RetryPolicy::with(Some(10), Some(1_000), Some(5_000)).unwrap();
        for attempt in 0..=100 {
            for jitter in [f64::NAN, -3.0, 0.0, 0.25, 0.999, 1.0, 7.0, f64::INFINITY] {
                let delay = policy.delay_before(attempt, jitter);
                assert!(delay <= 5_000, "attempt {attempt} jitter {jitter}: {delay}");
            }
        }
        assert_eq!(policy.delay_before(40, 0.0), 2_500, "capped ceiling, half of it at the lowest jitter");
        assert_eq!(policy.delay_before(u32::MAX, 1.0), 5_000);
    }

    #[test]
    fn only_transient_failures_are_retried_and_only_up_to_max_attempts() {
        let policy = RetryPolicy::default();
        assert!(policy.should_retry(&transient(503), 1));
        assert!(policy.should_retry(&transient(0), 2));
        assert!(!policy.should_retry(&transient(503), 3), "three attempts in all");
        let never = [
            HttpOutcome::Ok,
            HttpOutcome::RateLimited {
                retry_after_s: Some(1),
                code: "refresh_cooling_down".into(),
                message: "m".into(),
            },
            HttpOutcome::CostCapped { provider: None, next_allowed_at: None, reason: "r".into() },
            HttpOutcome::Fatal { status: 400, code: "invalid_input".into(), message: "m".into() },
        ];
        for outcome in never {
            assert!(!policy.should_retry(&outcome, 1), "{outcome:?}");
        }
    }

    #[test]
    fn options_out_of_range_are_refused_by_name() {
        let refused = |a, b, m| RetryPolicy::with(a, b, m).unwrap_err().to_string();
        assert!(refused(Some(0), None, None).contains("maxAttempts"));
        assert!(refused(Some(11), None, None).contains("maxAttempts"));
        assert!(refused(None, Some(500), Some(100)).contains("baseDelayMs"));
        assert!(refused(None, None, Some(60_001)).contains("maxDelayMs"));
        let big_base = RetryPolicy::with(None, Some(20_000), None).unwrap();
        assert_eq!(big_base.max_delay_ms, 20_000, "a base above the default maximum raises the maximum");
        assert_eq!(RetryPolicy::with(Some(1), Some(0), None).unwrap().delay_before(2, 1.0), 0);
    }
}
