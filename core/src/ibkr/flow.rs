//! When Tributary talks to IBKR's Flex Web Service, decided here and carried out by the worker:
//! how long one request may wait for a statement, how far apart requests with one token go, when
//! a statement left pending is looked at again, and when the once-a-day pull is due. Pure: every
//! clock is an argument.
//!
//! The bounds, in the order a read meets them:
//! 1. **One request a second per token**, both endpoints together: [`gap_wait_ms`] says how long
//!    to wait after the token's last request (kept in D1, so concurrent requests and the cron
//!    trigger respect it too); at most 1 + [`IN_REQUEST_POLLS`] requests per read keeps a read far
//!    under ten a minute.
//! 2. **A request never waits long for a statement:** after SendRequest it polls GetStatement at
//!    most [`IN_REQUEST_POLLS`] times, each after [`in_request_wait_ms`] (never more than
//!    [`IN_REQUEST_POLL_WAIT_MS`]). A wait IBKR asks to be longer (1018: ten seconds) is not
//!    waited out in the request at all. Either way the reference code is kept and the answer says
//!    `statement_pending` with when to look again ([`next_poll_at`]).
//! 3. **The cron trigger** finishes pending statements whose time has come, and pulls every
//!    connection whose latest statement was read before the day's publication ([`daily_pull_due`]:
//!    IBKR publishes activity statements once a day, after its close of business).
//! 4. **A reference code is not kept forever:** one older than [`REFERENCE_MAX_AGE_S`] is dropped
//!    and a new statement is asked for.

pub use super::MIN_REQUEST_GAP_MS;
/// GetStatement polls one read makes before leaving the statement pending.
pub const IN_REQUEST_POLLS: u32 = 3;
/// SendRequest attempts one read makes when IBKR answers "try again shortly" (1001, 1009…).
pub const IN_REQUEST_SENDS: u32 = 2;
/// The longest one wait between polls inside a request.
pub const IN_REQUEST_POLL_WAIT_MS: u64 = 2_000;
/// The longest wait IBKR may ask for that a request still waits out itself.
pub const IN_REQUEST_MAX_ASKED_WAIT_S: u64 = 5;
/// How long one read may hold a connection (real clock) before another may take it over: longer
/// than the slowest bounded read — every request of it timing out after `provider_timeout_ms`,
/// each paced a gap apart, plus every wait between polls — with a margin.
pub fn lease_ms(provider_timeout_ms: u64) -> i64 {
    let requests = u64::from(IN_REQUEST_SENDS + IN_REQUEST_POLLS);
    let slowest =
        requests * (MIN_REQUEST_GAP_MS + provider_timeout_ms) + u64::from(IN_REQUEST_POLLS) * IN_REQUEST_POLL_WAIT_MS;
    i64::try_from(slowest + 10_000).unwrap_or(i64::MAX)
}
/// A statement left pending is looked at again no sooner than this.
pub const MIN_POLL_DELAY_S: i64 = 10;
/// A reference code older than this is abandoned for a new request.
pub const REFERENCE_MAX_AGE_S: i64 = 3_600;
/// The hour (UTC) by which IBKR has published the previous business day's statement: its close of
/// business is 17:20 New York time, and statements are generated overnight.
pub const PUBLISHED_BY_HOUR_UTC: i64 = 7;
/// How many due users one cron run reads (each read is bounded, so a run is too).
pub const CRON_USERS_PER_RUN: u32 = 25;
/// How many candidates a development cron run checks, each on its own clock.
pub const CRON_DEV_CANDIDATES: u32 = 500;

const DAY_S: i64 = 86_400;

/// The error of a Flex answer with a non-2xx HTTP status (IBKR answers every Flex outcome with
/// 200 and XML; anything else is its gateway): 5xx is the service being down, anything else a
/// page that is not the Flex Web Service (a wrong `IBKR_FLEX_BASE_URL`, a removed endpoint).
pub fn map_http_status(status: u16) -> crate::provider_error::ProviderError {
    use crate::provider_error::ProviderError;
    let provider = crate::domain::Provider::IbkrFlex;
    match status {
        500..=599 => ProviderError::ServerError { provider, status },
        404 | 410 => ProviderError::EndpointGone { provider, operation: "the Flex Web Service".into() },
        _ => ProviderError::Rejected {
            provider,
            status,
            detail: "the Flex Web Service answered outside its protocol".into(),
        },
    }
}

/// Milliseconds to wait before the next request with a token last used at `last_request_ms`
/// (`now_ms` on the same real clock); 0 when the gap has already passed or it was never used.
pub fn gap_wait_ms(last_request_ms: Option<i64>, now_ms: i64) -> u64 {
    let Some(last) = last_request_ms else { return 0 };
    let due = last.saturating_add(MIN_REQUEST_GAP_MS as i64);
    u64::try_from(due.saturating_sub(now_ms)).unwrap_or(0).min(MIN_REQUEST_GAP_MS)
}

/// After IBKR asked to wait `asked_s` with `polls_done` GetStatement polls made in this request:
/// `Some(ms)` to wait and poll again in this request, `None` to leave the statement pending.
pub fn in_request_wait_ms(asked_s: u64, polls_done: u32) -> Option<u64> {
    if polls_done >= IN_REQUEST_POLLS || asked_s > IN_REQUEST_MAX_ASKED_WAIT_S {
        return None;
    }
    Some(asked_s.saturating_mul(1_000).clamp(MIN_REQUEST_GAP_MS, IN_REQUEST_POLL_WAIT_MS))
}

/// After IBKR answered SendRequest with a wait of `asked_s` on attempt `sends_done`: `Some(ms)`
/// to ask again in this request, `None` to give up for now (the answer says when to try again).
pub fn send_retry_wait_ms(asked_s: u64, sends_done: u32) -> Option<u64> {
    if sends_done >= IN_REQUEST_SENDS || asked_s > IN_REQUEST_MAX_ASKED_WAIT_S {
        return None;
    }
    Some(asked_s.saturating_mul(1_000).clamp(MIN_REQUEST_GAP_MS, IN_REQUEST_POLL_WAIT_MS))
}

/// The key a query id is recognised by (HMAC-SHA256 under the data key, hex), so one person's
/// query is connected once and found again without unsealing every stored one.
#[cfg(feature = "server")]
pub fn query_key(key: &crate::config::DataKey, query_id: &str) -> String {
    keyed_hex(key, b"tributary:ibkr-flex-query:v1:", query_id)
}

#[cfg(feature = "server")]
fn keyed_hex(key: &crate::config::DataKey, label: &[u8], value: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key.bytes).expect("HMAC takes any key length");
    mac.update(label);
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The key under which the time of a token's last request is kept (HMAC-SHA256 of the token
/// under the data key, hex): requests with one token are paced across connections, connects that
/// stored nothing and isolates, without the token itself ever being stored in the clear.
#[cfg(feature = "server")]
pub fn token_pacing_key(key: &crate::config::DataKey, token: &str) -> String {
    keyed_hex(key, b"tributary:ibkr-flex-pacing:v1:", token)
}

/// When a statement left pending at `now` after IBKR asked to wait `asked_s` is looked at again.
pub fn next_poll_at(now: i64, asked_s: u64) -> i64 {
    now.saturating_add(i64::try_from(asked_s).unwrap_or(i64::MAX).max(MIN_POLL_DELAY_S))
}

/// Whether a reference code asked for at `requested_at` is too old to poll at `now`.
pub fn reference_expired(requested_at: Option<i64>, now: i64) -> bool {
    requested_at.is_none_or(|at| now.saturating_sub(at) > REFERENCE_MAX_AGE_S)
}

/// Seconds until a pending statement (asked for at `requested_at`, next look at `next_poll_at`)
/// may be looked at again, or `None` when it may be now: a read before then answers pending
/// without asking IBKR; a reference code too old to poll may always be replaced at once.
pub fn wait_before_poll(next_poll_at: Option<i64>, requested_at: Option<i64>, now: i64) -> Option<u64> {
    let at = next_poll_at?;
    if at <= now || reference_expired(requested_at, now) {
        return None;
    }
    u64::try_from(at - now).ok()
}

/// Whether a cron run should read a connection at `now`: its pending statement's next look has
/// come (or has no time), or — nothing pending — the daily pull is due.
pub fn connection_due(pending: bool, next_poll_at: Option<i64>, last_statement_at: Option<i64>, now: i64) -> bool {
    match (pending, next_poll_at) {
        (true, Some(at)) => at <= now,
        (true, None) => true,
        (false, _) => daily_pull_due(last_statement_at, now),
    }
}

/// The latest daily publication time at or before `now` (unix seconds).
pub fn latest_publication(now: i64) -> i64 {
    let today = now.div_euclid(DAY_S) * DAY_S + PUBLISHED_BY_HOUR_UTC * 3_600;
    if today <= now {
        today
    } else {
        today - DAY_S
    }
}

/// Whether the daily pull of a connection whose latest statement was read at
/// `last_statement_at` is due at `now`: never read, or read before the latest publication.
pub fn daily_pull_due(last_statement_at: Option<i64>, now: i64) -> bool {
    last_statement_at.is_none_or(|at| at < latest_publication(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-14 00:00:00 UTC.
    const MIDNIGHT: i64 = 1_773_446_400;

    #[test]
    fn a_gateway_answer_is_typed_by_its_status() {
        use crate::ErrorCode;
        assert_eq!(map_http_status(503).code(), "provider_unavailable");
        assert_eq!(map_http_status(404).code(), "provider_endpoint_gone");
        assert_eq!(map_http_status(403).code(), "provider_rejected");
    }

    #[test]
    fn requests_with_one_token_stay_a_second_apart() {
        assert_eq!(gap_wait_ms(None, 5_000), 0);
        assert_eq!(gap_wait_ms(Some(5_000), 5_000), 1_100);
        assert_eq!(gap_wait_ms(Some(5_000), 5_600), 500);
        assert_eq!(gap_wait_ms(Some(5_000), 9_000), 0);
        // A last request "in the future" (clock skew between isolates) never waits longer than one gap.
        assert_eq!(gap_wait_ms(Some(60_000), 5_000), 1_100);
    }

    #[test]
    fn a_request_polls_at_most_three_times_and_never_waits_out_a_long_ask() {
        assert_eq!(in_request_wait_ms(5, 0), Some(2_000));
        assert_eq!(in_request_wait_ms(0, 1), Some(1_100), "never faster than the rate limit");
        assert_eq!(in_request_wait_ms(1, 2), Some(1_100));
        assert_eq!(in_request_wait_ms(5, 3), None, "three polls, then pending");
        assert_eq!(in_request_wait_ms(10, 0), None, "1018 asks for ten seconds: pending at once");
        let total: u64 = (0..IN_REQUEST_POLLS).filter_map(|n| in_request_wait_ms(5, n)).sum();
        assert!(total + MIN_REQUEST_GAP_MS <= 8_000, "a request waits at most {total} ms for IBKR");
    }

    #[test]
    fn send_request_is_asked_twice_at_most_and_never_waits_out_a_long_ask() {
        assert_eq!(send_retry_wait_ms(5, 1), Some(2_000));
        assert_eq!(send_retry_wait_ms(5, 2), None);
        assert_eq!(send_retry_wait_ms(10, 1), None);
    }

    #[cfg(feature = "server")]
    #[test]
    fn the_pacing_key_is_keyed_and_never_the_token() {
        let key = |byte| crate::config::DataKey { id: "k".into(), bytes: [byte; 32] };
        let token = "528191644107458877539776";
        let a = token_pacing_key(&key(1), token);
        assert_eq!(a.len(), 64);
        assert!(!a.contains(token));
        assert_eq!(a, token_pacing_key(&key(1), token), "stable");
        assert_ne!(a, token_pacing_key(&key(2), token), "keyed");
        assert_ne!(a, token_pacing_key(&key(1), "528191644107458877539777"));
        assert_ne!(query_key(&key(1), "800969"), token_pacing_key(&key(1), "800969"), "labelled apart");
    }

    #[test]
    fn a_lease_outlasts_the_slowest_bounded_read() {
        // Five requests, each timing out at 10 s after a 1.1 s gap, plus three 2 s waits.
        assert_eq!(lease_ms(10_000), 5 * 11_100 + 3 * 2_000 + 10_000);
        assert!(lease_ms(60_000) > 5 * 61_100);
    }

    #[test]
    fn a_pending_statement_is_looked_at_again_after_the_wait_and_dropped_after_an_hour() {
        assert_eq!(next_poll_at(100, 5), 110);
        assert_eq!(next_poll_at(100, 30), 130);
        assert_eq!(next_poll_at(100, u64::MAX), i64::MAX);
        assert!(!reference_expired(Some(100), 100 + 3_600));
        assert!(reference_expired(Some(100), 100 + 3_601));
        assert!(reference_expired(None, 100));
    }

    #[test]
    fn a_pending_statement_is_not_polled_before_its_next_look_and_the_cron_reads_what_is_due() {
        assert_eq!(wait_before_poll(None, Some(100), 100), None);
        assert_eq!(wait_before_poll(Some(110), Some(100), 100), Some(10));
        assert_eq!(wait_before_poll(Some(110), Some(100), 110), None, "due at its time");
        assert_eq!(wait_before_poll(Some(100 + 7_200), Some(100), 100 + 3_601), None, "an expired code is replaced");
        assert!(connection_due(true, Some(110), None, 110) && !connection_due(true, Some(111), None, 110));
        assert!(connection_due(true, None, None, 110), "a pending code without a time is looked at");
        let seven = 1_773_446_400 + 7 * 3_600;
        assert!(!connection_due(false, None, Some(seven + 1), seven + 2) && connection_due(false, None, None, seven));
    }

    #[test]
    fn the_daily_pull_is_due_once_after_each_morning_publication() {
        let seven = MIDNIGHT + 7 * 3_600;
        assert_eq!(latest_publication(seven), seven);
        assert_eq!(latest_publication(seven - 1), seven - DAY_S);
        assert_eq!(latest_publication(seven + 5 * 3_600), seven);
        assert!(daily_pull_due(None, seven));
        // Read yesterday evening: due this morning, not before.
        let evening = seven - 10 * 3_600;
        assert!(!daily_pull_due(Some(evening), seven - 1));
        assert!(daily_pull_due(Some(evening), seven));
        // Read this morning after publication: not due again until tomorrow's.
        assert!(!daily_pull_due(Some(seven + 60), seven + DAY_S - 1));
        assert!(daily_pull_due(Some(seven + 60), seven + DAY_S));
    }
}
