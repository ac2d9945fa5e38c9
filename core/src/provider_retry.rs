//! When a provider call is asked again, and how long a provider asked us to wait: the browser
//! client's [`RetryPolicy`] and [`parse_retry_after`], applied to provider calls, so Tributary has
//! one retry rule and one `Retry-After` parser. Randomness and time come in as arguments.
//!
//! Promises: only idempotent calls are retried; only retryable failures (server errors, timeouts,
//! network, not-ready) are, plus a rate limit that asks for at most [`MAX_INLINE_RETRY_AFTER_S`]
//! (waited out once, for exactly what it asked); never more than the policy's attempts.

use crate::client::retry::RetryPolicy;
use crate::client::retry_after::parse_retry_after;
use crate::provider_error::ProviderError;

/// The policy of provider calls: 3 attempts, retries after 200–400 ms, then 400–800 ms.
pub const PROVIDER_RETRY: RetryPolicy = RetryPolicy { max_attempts: 3, base_delay_ms: 400, max_delay_ms: 8_000 };

/// A 429 asking for at most this many seconds is waited out; a longer one is returned at once.
pub const MAX_INLINE_RETRY_AFTER_S: u64 = 1;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// Give up: return this failure.
    Stop,
    /// Wait this many milliseconds, then ask again.
    After { wait_ms: u32 },
}

/// The step after `attempts_made` attempts of a call ended in `error`; `jitter_unit` in `[0, 1]`
/// places the backoff (see [`RetryPolicy::delay_before`]).
pub fn next_attempt(
    policy: &RetryPolicy,
    error: &ProviderError,
    attempts_made: u32,
    idempotent: bool,
    jitter_unit: f64,
) -> NextAttempt {
    let short_rate_limit = error.retry_after_s().filter(|s| *s <= MAX_INLINE_RETRY_AFTER_S);
    if !idempotent || attempts_made >= policy.max_attempts || !(error.is_retryable() || short_rate_limit.is_some()) {
        return NextAttempt::Stop;
    }
    let wait_ms = match short_rate_limit {
        // Exactly what was asked (a 0 still waits a moment: the limit is per second).
        Some(seconds) => (seconds.max(1) * 1000) as u32,
        None => policy.delay_before(attempts_made + 1, jitter_unit),
    };
    NextAttempt::After { wait_ms }
}

/// Seconds a provider asked us to wait: `Retry-After` (delta-seconds or an HTTP-date), else
/// `X-RateLimit-Reset`, which providers send either as seconds until the reset or as the Unix
/// time of it (a value above `now_unix` is a time).
pub fn provider_retry_after(retry_after: Option<&str>, ratelimit_reset: Option<&str>, now_unix: u64) -> Option<u64> {
    retry_after.and_then(|value| parse_retry_after(value, now_unix)).or_else(|| {
        let reset: u64 = ratelimit_reset?.trim().parse().ok()?;
        Some(if reset > now_unix { reset - now_unix } else { reset })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provider;

    const P: Provider = Provider::SnapTrade;

    fn step(error: &ProviderError, attempts: u32, idempotent: bool) -> NextAttempt {
        next_attempt(&PROVIDER_RETRY, error, attempts, idempotent, 0.0)
    }

    #[test]
    fn retryable_failures_of_idempotent_calls_back_off_up_to_three_attempts() {
        let server = ProviderError::ServerError { provider: P, status: 503 };
        assert_eq!(step(&server, 1, true), NextAttempt::After { wait_ms: 200 });
        assert_eq!(step(&server, 2, true), NextAttempt::After { wait_ms: 400 });
        assert_eq!(next_attempt(&PROVIDER_RETRY, &server, 2, true, 1.0), NextAttempt::After { wait_ms: 800 });
        assert_eq!(step(&server, 3, true), NextAttempt::Stop, "three attempts in all");
        assert_eq!(step(&server, 1, false), NextAttempt::Stop, "a non-idempotent call is never repeated");
        for retryable in [
            ProviderError::Timeout { provider: P },
            ProviderError::Network { provider: P, detail: "reset".into() },
            ProviderError::NotReady { provider: P },
        ] {
            assert!(matches!(step(&retryable, 1, true), NextAttempt::After { .. }), "{retryable:?}");
        }
    }

    #[test]
    fn only_a_short_rate_limit_is_waited_out_and_for_what_it_asked() {
        let limited = |s| ProviderError::RateLimited { provider: P, retry_after_s: s };
        assert_eq!(step(&limited(Some(1)), 1, true), NextAttempt::After { wait_ms: 1000 });
        assert_eq!(step(&limited(Some(0)), 1, true), NextAttempt::After { wait_ms: 1000 });
        assert_eq!(step(&limited(Some(2)), 1, true), NextAttempt::Stop, "longer waits go back to the caller");
        assert_eq!(step(&limited(None), 1, true), NextAttempt::Stop);
        assert_eq!(step(&limited(Some(1)), 3, true), NextAttempt::Stop);
    }

    #[test]
    fn failures_a_retry_cannot_fix_are_returned_at_once() {
        for fatal in [
            ProviderError::Auth { provider: P, detail: "bad signature".into() },
            ProviderError::Malformed { provider: P, detail: "not json".into() },
            ProviderError::EndpointGone { provider: P, operation: "accounts".into() },
            ProviderError::Rejected { provider: P, status: 400, detail: "bad".into() },
        ] {
            assert_eq!(step(&fatal, 1, true), NextAttempt::Stop, "{fatal:?}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_rate_limit_resets() {
        let now = 1_780_000_000;
        assert_eq!(provider_retry_after(Some("7"), None, now), Some(7));
        assert_eq!(provider_retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT"), None, now), Some(0), "a past date: now");
        assert_eq!(provider_retry_after(Some("soon"), Some("30"), now), Some(30), "an unreadable one falls back");
        assert_eq!(provider_retry_after(None, Some("30"), now), Some(30), "seconds until the reset");
        assert_eq!(provider_retry_after(None, Some(&(now + 45).to_string()), now), Some(45), "the reset's Unix time");
        assert_eq!(provider_retry_after(None, Some("later"), now), None);
        assert_eq!(provider_retry_after(None, None, now), None);
    }
}
