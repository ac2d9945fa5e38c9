use super::*;
use proptest::prelude::*;

const NOW: i64 = 1_800_000_000;
const HOUR: i64 = 3_600;

/// A healthy Schwab connection: read a minute ago, login ending in five days.
fn healthy() -> ConnectionFacts<'static> {
    ConnectionFacts {
        provider: Provider::Schwab,
        disabled: false,
        needs_repair: false,
        repair_reason: None,
        reauth_required_at: Some(NOW + 5 * 24 * HOUR),
        reads: ReadFacts { last_success_at: Some(NOW - 60), last_failure: None, ttl_hours: 1 },
    }
}

fn failed(code: &'static str, message: Option<&'static str>) -> ReadFacts<'static> {
    ReadFacts {
        last_success_at: Some(NOW - 600),
        last_failure: Some(ReadFailure { code, message, at: Some(NOW - 30) }),
        ttl_hours: 1,
    }
}

fn status_and_reason(health: &Health) -> (HealthStatus, Option<&str>) {
    (health.status, health.reason.as_deref())
}

#[test]
fn a_recently_read_connection_with_a_distant_deadline_is_ok_with_nothing_to_do() {
    let health = connection_health(&healthy(), NOW);
    assert_eq!(
        health,
        Health {
            status: HealthStatus::Ok,
            reason: None,
            action: None,
            action_code: None,
            data_ok: true,
            data_reason: None
        }
    );
}

#[test]
fn a_disabled_connection_needs_repair_with_its_stored_code_or_connection_disabled() {
    let disabled = ConnectionFacts { disabled: true, ..healthy() };
    let health = connection_health(&disabled, NOW);
    assert_eq!(status_and_reason(&health), (HealthStatus::NeedsRepair, Some("connection_disabled")));
    assert_eq!(health.action_code, Some(ActionCode::Reconnect));
    assert!(!health.data_ok);
    let marked = ConnectionFacts { needs_repair: true, repair_reason: Some("snaptrade_reauth_required"), ..healthy() };
    assert_eq!(
        status_and_reason(&connection_health(&marked, NOW)),
        (HealthStatus::NeedsRepair, Some("snaptrade_reauth_required"))
    );
    let unexplained = ConnectionFacts { needs_repair: true, ..healthy() };
    assert_eq!(
        status_and_reason(&connection_health(&unexplained, NOW)),
        (HealthStatus::NeedsRepair, Some("schwab_reauth_required")),
        "no stored code: the provider's re-login code"
    );
}

#[test]
fn repair_outranks_an_ending_login_and_a_failed_read() {
    let facts = ConnectionFacts {
        disabled: true,
        reauth_required_at: Some(NOW + HOUR),
        reads: failed("provider_timeout", None),
        ..healthy()
    };
    let health = connection_health(&facts, NOW);
    assert_eq!(status_and_reason(&health), (HealthStatus::NeedsRepair, Some("connection_disabled")));
    assert_eq!(health.data_reason.as_deref(), Some("provider_timeout"));
}

#[test]
fn a_login_within_48_hours_of_its_deadline_expires_soon_and_past_it_needs_repair() {
    let ending = ConnectionFacts { reauth_required_at: Some(NOW + 20 * HOUR), ..healthy() };
    let health = connection_health(&ending, NOW);
    assert_eq!(status_and_reason(&health), (HealthStatus::ExpiresSoon, Some("login_expires_soon")));
    assert_eq!(health.action_code, Some(ActionCode::Reconnect));
    assert!(health.action.as_deref().unwrap().contains("20 h"), "{health:?}");
    assert!(health.data_ok, "the data itself is sound");
    let at_window = ConnectionFacts { reauth_required_at: Some(NOW + EXPIRES_SOON_WINDOW_S), ..healthy() };
    assert_eq!(connection_health(&at_window, NOW).status, HealthStatus::ExpiresSoon);
    let beyond = ConnectionFacts { reauth_required_at: Some(NOW + EXPIRES_SOON_WINDOW_S + 1), ..healthy() };
    assert_eq!(connection_health(&beyond, NOW).status, HealthStatus::Ok);
    let over = ConnectionFacts { reauth_required_at: Some(NOW), ..healthy() };
    assert_eq!(
        status_and_reason(&connection_health(&over, NOW)),
        (HealthStatus::NeedsRepair, Some("schwab_reauth_required"))
    );
}

#[test]
fn an_ending_login_over_a_failed_read_keeps_its_status_but_never_calls_the_data_sound() {
    let facts =
        ConnectionFacts { reauth_required_at: Some(NOW + HOUR), reads: failed("suspect_empty", None), ..healthy() };
    let health = connection_health(&facts, NOW);
    assert_eq!(health.status, HealthStatus::ExpiresSoon);
    assert_eq!((health.data_ok, health.data_reason.as_deref()), (false, Some("suspect_empty")));
}

#[test]
fn a_failed_read_after_the_last_success_is_degraded_with_the_stored_code() {
    let cases = [
        ("suspect_empty", ActionCode::Refresh),
        ("provider_endpoint_gone", ActionCode::ReportProblem),
        ("provider_timeout", ActionCode::RetryLater),
        ("provider_rate_limited", ActionCode::RetryLater),
        ("schwab_reauth_required", ActionCode::Reconnect),
        ("ibkr_flex_reauth_required", ActionCode::Reconnect),
        ("connection_disabled", ActionCode::Reconnect),
        ("ibkr_token_expired", ActionCode::Reconnect),
        ("provider_malformed_response", ActionCode::Refresh),
    ];
    for (code, action) in cases {
        let health = connection_health(&ConnectionFacts { reads: failed(code, None), ..healthy() }, NOW);
        assert_eq!(status_and_reason(&health), (HealthStatus::Degraded, Some(code)));
        assert_eq!((health.action_code, health.data_ok), (Some(action), false), "{code}");
        assert_eq!(health.data_reason.as_deref(), Some(code));
    }
}

#[test]
fn a_failed_read_action_quotes_the_stored_message_and_says_what_to_do() {
    let reads = failed("provider_endpoint_gone", Some("Schwab no longer serves accounts (410 Gone)."));
    let health = connection_health(&ConnectionFacts { reads, ..healthy() }, NOW);
    assert_eq!(
        health.action.as_deref(),
        Some(
            "The last read of Schwab direct failed: Schwab no longer serves accounts (410 Gone). Report it: \
             nothing on your side fixes it."
        )
    );
}

#[test]
fn a_failure_older_than_the_last_success_is_history_not_a_problem() {
    let reads = ReadFacts {
        last_success_at: Some(NOW - 60),
        last_failure: Some(ReadFailure { code: "provider_timeout", message: None, at: Some(NOW - 600) }),
        ttl_hours: 1,
    };
    assert_eq!(connection_health(&ConnectionFacts { reads, ..healthy() }, NOW).status, HealthStatus::Ok);
}

#[test]
fn a_connection_never_read_or_read_past_its_ttl_is_degraded() {
    let never = ReadFacts { last_success_at: None, last_failure: None, ttl_hours: 24 };
    let health = connection_health(&ConnectionFacts { reads: never, ..healthy() }, NOW);
    assert_eq!(status_and_reason(&health), (HealthStatus::Degraded, Some("never_read")));
    let stale = ReadFacts { last_success_at: Some(NOW - 25 * HOUR), last_failure: None, ttl_hours: 24 };
    let health = connection_health(&ConnectionFacts { reads: stale, ..healthy() }, NOW);
    assert_eq!(status_and_reason(&health), (HealthStatus::Degraded, Some("data_stale")));
    assert_eq!(health.action_code, Some(ActionCode::Refresh));
    assert!(health.action.as_deref().unwrap().contains("25 h ago, past their 24 h"), "{health:?}");
}

#[test]
fn a_provider_without_a_login_deadline_is_judged_on_its_reads_alone() {
    let plaid = ConnectionFacts {
        provider: Provider::Plaid,
        reauth_required_at: None,
        reads: ReadFacts { last_success_at: Some(NOW - 70 * HOUR), last_failure: None, ttl_hours: 72 },
        ..healthy()
    };
    assert_eq!(connection_health(&plaid, NOW).status, HealthStatus::Ok);
}

#[test]
fn the_probe_is_asked_only_by_probe_trading_true_and_bad_queries_are_refused() {
    assert_eq!(parse_probe_trading([]), Ok(false));
    assert_eq!(parse_probe_trading([("probe_trading", "false")]), Ok(false));
    assert_eq!(parse_probe_trading([("probe_trading", "true")]), Ok(true));
    let bad = parse_probe_trading([("probe_trading", "yes")]).unwrap_err();
    assert_eq!((crate::ErrorCode::code(&bad), crate::ErrorCode::http_status(&bad)), ("invalid_input", 400));
    assert_eq!(parse_probe_trading([("probe", "true")]), Err(HealthQueryError::UnknownParameter("probe".to_owned())));
}

proptest! {
    /// `expires_soon` agrees with Schwab's own warning, and `data_ok` holds exactly when the
    /// status is ok or expires_soon with no data problem.
    #[test]
    fn the_window_agrees_with_schwab_and_data_ok_follows_the_status(
        until in -100 * HOUR..200 * HOUR,
        success_age in proptest::option::of(0i64..100 * HOUR),
        failed in any::<bool>(),
        disabled in any::<bool>(),
    ) {
        let reads = ReadFacts {
            last_success_at: success_age.map(|age| NOW - age),
            last_failure: failed.then_some(ReadFailure { code: "provider_timeout", message: None, at: Some(NOW) }),
            ttl_hours: 24,
        };
        let facts = ConnectionFacts { disabled, reauth_required_at: Some(NOW + until), reads, ..healthy() };
        let health = connection_health(&facts, NOW);
        if !disabled {
            prop_assert_eq!(
                health.status == HealthStatus::ExpiresSoon,
                crate::schwab::expires_soon(NOW + until, NOW)
            );
        }
        let sound_status = matches!(health.status, HealthStatus::Ok | HealthStatus::ExpiresSoon);
        prop_assert_eq!(health.data_ok, sound_status && health.data_reason.is_none());
        prop_assert_eq!(health.status == HealthStatus::Ok, health.reason.is_none());
    }
}
