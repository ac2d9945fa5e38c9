use super::latency::{bucket_of, percentile_ms, LATENCY_BUCKETS, LATENCY_BUCKET_BOUNDS_MS};
use super::metrics::{
    day_increments, provider_days, summarize_connections, ConnectionStanding, MetricsQueryError, MetricsRange,
    WebhookCounts, WebhookOutcome,
};
use super::operator::{authorize_operator, operator_token_matches, Operator, OperatorError};
use super::prices::CallPrices;
use super::window::{
    health_with_recent_calls, prune_days_before, prune_minutes_before, window_increments, window_minutes,
    with_recent_calls, WindowCount, RETAIN_DAYS, WINDOW_MINUTES,
};
use super::{CallOutcome, CallResult};
use crate::connection_health::HealthStatus;
use crate::coverage::{choose_provider, ProviderHealth, ProviderProblem, ProviderState, RoutingReason};
use crate::domain::{InstitutionSlug, Provider, UserId};
use crate::error::ErrorCode;
use crate::provider_error::ProviderError;
use crate::session::{Role, SessionClaims, SessionError};
use crate::time::Date;
use std::collections::BTreeMap;

const NOW: i64 = 1_760_000_000;

fn slug(s: &str) -> InstitutionSlug {
    InstitutionSlug::parse(s).unwrap()
}

fn outcome(at: i64, institution: Option<&str>, result: CallResult) -> CallOutcome {
    CallOutcome {
        provider: Provider::Plaid,
        institution: institution.map(slug),
        operation: "link_token_create".into(),
        status: Some(if result == CallResult::Failed { 500 } else { 200 }),
        latency_ms: 120,
        billed: false,
        result,
        at,
    }
}

/// The window's counts at `now` from outcomes, as the shell's one query would sum them.
fn window_at(now: i64, outcomes: &[CallOutcome]) -> Vec<WindowCount> {
    let (first, last) = window_minutes(now);
    window_increments(outcomes).into_iter().filter(|r| (first..=last).contains(&r.minute)).collect()
}

fn route_chase(rows: &[WindowCount]) -> crate::coverage::RoutingDecision {
    choose_provider("Chase", false, &health_with_recent_calls(ProviderHealth::all_healthy(), rows)).unwrap()
}

#[test]
fn only_provider_faults_count_as_failures() {
    let p = Provider::Plaid;
    assert_eq!(CallResult::of(None), CallResult::Succeeded);
    assert_eq!(CallResult::of(Some(&ProviderError::ServerError { provider: p, status: 503 })), CallResult::Failed);
    assert_eq!(CallResult::of(Some(&ProviderError::Timeout { provider: p })), CallResult::Failed);
    assert_eq!(
        CallResult::of(Some(&ProviderError::RateLimited { provider: p, retry_after_s: None })),
        CallResult::Refused,
        "a rate limit is our own call volume, not the provider failing"
    );
    assert_eq!(CallResult::of(Some(&ProviderError::LoginRequired { provider: p })), CallResult::Refused);
}

#[test]
fn a_provider_failing_for_one_institution_is_routed_around_with_the_reason_in_the_message() {
    let failures: Vec<_> = (0..5).map(|i| outcome(NOW - 60 * i, Some("chase"), CallResult::Failed)).collect();
    let decision = route_chase(&window_at(NOW, &failures));
    assert_eq!(decision.provider, Provider::SnapTrade);
    assert_eq!(
        decision.reason,
        RoutingReason::FellBack {
            from: Provider::Plaid,
            problem: ProviderProblem::HighFailureRate { attempts: 5, failures: 5 }
        }
    );
    assert!(
        decision.message.starts_with("Plaid is failing for Chase right now (5 of its last 5 attempts for this institution failed); connecting through SnapTrade."),
        "{}",
        decision.message
    );
    // Another institution at the same provider is unaffected.
    let boa = choose_provider(
        "Bank of America",
        false,
        &health_with_recent_calls(ProviderHealth::all_healthy(), &window_at(NOW, &failures)),
    )
    .unwrap();
    assert_eq!(boa.provider, Provider::Plaid);
}

#[test]
fn too_few_attempts_or_a_low_share_never_reroutes() {
    let four: Vec<_> = (0..4).map(|i| outcome(NOW - i, Some("chase"), CallResult::Failed)).collect();
    assert_eq!(route_chase(&window_at(NOW, &four)).provider, Provider::Plaid, "four attempts are not enough");
    let mut mixed: Vec<_> = (0..4).map(|i| outcome(NOW - i, Some("chase"), CallResult::Failed)).collect();
    mixed.extend((0..5).map(|i| outcome(NOW - i, Some("chase"), CallResult::Succeeded)));
    assert_eq!(route_chase(&window_at(NOW, &mixed)).provider, Provider::Plaid, "4 of 9 is under half");
    let refusals: Vec<_> = (0..6).map(|i| outcome(NOW - i, Some("chase"), CallResult::Refused)).collect();
    assert_eq!(route_chase(&window_at(NOW, &refusals)).provider, Provider::Plaid, "refusals are not failures");
    let unknown: Vec<_> = (0..6).map(|i| outcome(NOW - i, None, CallResult::Failed)).collect();
    assert_eq!(
        route_chase(&window_at(NOW, &unknown)).provider,
        Provider::Plaid,
        "no institution, no institution verdict"
    );
}

#[test]
fn routing_recovers_when_the_failures_leave_the_window_or_successes_outnumber_them() {
    let failures: Vec<_> = (0..5).map(|_| outcome(NOW, Some("chase"), CallResult::Failed)).collect();
    assert_eq!(route_chase(&window_at(NOW, &failures)).provider, Provider::SnapTrade);
    let still = NOW + 60 * (WINDOW_MINUTES - 1);
    assert_eq!(route_chase(&window_at(still, &failures)).provider, Provider::SnapTrade, "still inside the window");
    let later = NOW + 60 * WINDOW_MINUTES;
    assert_eq!(route_chase(&window_at(later, &failures)).provider, Provider::Plaid, "out of the window");
    let mut diluted = failures.clone();
    diluted.extend((0..6).map(|_| outcome(NOW, Some("chase"), CallResult::Succeeded)));
    assert_eq!(route_chase(&window_at(NOW, &diluted)).provider, Provider::Plaid, "5 of 11 is under half");
}

#[test]
fn failures_without_an_institution_never_take_the_provider_away_from_everybody() {
    let everywhere: Vec<_> = (0..50).map(|_| outcome(NOW, None, CallResult::Failed)).collect();
    let state = with_recent_calls(ProviderState::healthy(), Provider::Plaid, &window_at(NOW, &everywhere));
    assert!(state.available && state.recent_failures.is_empty(), "{state:?}");
    let unconfigured = with_recent_calls(ProviderState::not_configured(), Provider::Plaid, &[]);
    assert_eq!(unconfigured, ProviderState::not_configured());
}

#[test]
fn window_and_retention_bounds() {
    assert_eq!(window_minutes(600), (1, 10));
    assert_eq!(prune_minutes_before(NOW), NOW / 60 - 60);
    assert_eq!(prune_days_before(NOW), Date::from_unix(NOW).add_days(-RETAIN_DAYS));
    let rows = window_increments(&[
        outcome(NOW, Some("chase"), CallResult::Failed),
        outcome(NOW + 1, Some("chase"), CallResult::Succeeded),
        outcome(NOW, None, CallResult::Failed),
    ]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let chase = rows.iter().find(|r| r.institution.is_some()).unwrap();
    assert_eq!((chase.attempts, chase.failures), (2, 1));
}

#[test]
fn percentiles_are_the_upper_bound_of_the_bucket_holding_the_rank() {
    let mut counts = [0u64; LATENCY_BUCKETS];
    assert_eq!(percentile_ms(&counts, 50), None);
    for latency in [10, 20, 30, 40, 60, 70, 80, 90, 400, 70_000] {
        counts[bucket_of(latency)] += 1;
    }
    assert_eq!(percentile_ms(&counts, 50), Some(100), "the 5th of 10 is in 51-100");
    assert_eq!(percentile_ms(&counts, 95), Some(60_000), "the 10th is the slowest, clamped to the last bucket");
    assert_eq!(percentile_ms(&counts, 40), Some(50));
    assert_eq!(bucket_of(0), 0);
    assert_eq!(bucket_of(50), 0);
    assert_eq!(bucket_of(51), 1);
    assert_eq!(bucket_of(u64::MAX), LATENCY_BUCKETS - 1);
    assert_eq!(LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKETS - 1], 60_000);
}

#[test]
fn prices_parse_as_exact_decimals_and_refuse_anything_else() {
    let prices = CallPrices::parse(r#"{"plaid:investments_refresh": "0.10", "snaptrade:refresh": "0.05"}"#).unwrap();
    assert_eq!(prices.price(Provider::Plaid, "investments_refresh").unwrap().to_string(), "0.10");
    assert_eq!(prices.price(Provider::Plaid, "holdings"), None);
    for bad in [
        r#"{"plaid:investments_refresh": 0.1}"#,
        r#"{"plaid:investments_refresh": "-1"}"#,
        r#"{"plaid:investments_refresh": "ten"}"#,
        r#"{"nobody:refresh": "1"}"#,
        r#"{"plaid": "1"}"#,
        r#"{"plaid:Bad-Op": "1"}"#,
        "[]",
    ] {
        assert!(CallPrices::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(CallPrices::parse("{}").unwrap(), CallPrices::default());
}

#[test]
fn cost_is_exact_zero_without_billed_calls_and_unknown_without_a_price() {
    let prices = CallPrices::parse(r#"{"plaid:investments_refresh": "0.10"}"#).unwrap();
    let billed = BTreeMap::from([("investments_refresh".to_owned(), 3u64), ("holdings".to_owned(), 0)]);
    let (cost, unpriced) = prices.cost(Provider::Plaid, &billed);
    assert_eq!(cost.unwrap().to_string(), "0.30");
    assert!(unpriced.is_empty());
    let (none, unpriced) = prices.cost(Provider::SnapTrade, &BTreeMap::from([("refresh".to_owned(), 1)]));
    assert_eq!((none, unpriced), (None, vec!["refresh".to_owned()]));
    let (zero, _) = prices.cost(Provider::SnapTrade, &BTreeMap::new());
    assert_eq!(zero.unwrap().to_string(), "0");
}

#[test]
fn provider_days_add_up_calls_billing_latency_and_webhooks() {
    let day = Date::from_unix(NOW);
    let mut refresh = outcome(NOW, Some("chase"), CallResult::Succeeded);
    refresh.operation = "investments_refresh".into();
    refresh.billed = true;
    let mut failed_refresh = refresh.clone();
    failed_refresh.result = CallResult::Failed;
    let rows = day_increments(&[
        refresh.clone(),
        refresh,
        failed_refresh,
        outcome(NOW, None, CallResult::Succeeded),
        outcome(NOW + 86_400, None, CallResult::Refused),
    ]);
    let prices = CallPrices::parse(r#"{"plaid:investments_refresh": "0.125"}"#).unwrap();
    let webhooks = [(day, Provider::Plaid, WebhookCounts::default().with(WebhookOutcome::Rejected))];
    let days = provider_days(&rows, &webhooks, &prices);
    assert_eq!(days.len(), 2);
    let first = &days[0];
    assert_eq!((first.calls, first.succeeded, first.failed, first.billed_calls), (4, 3, 1, 2));
    assert_eq!(first.cost.as_deref(), Some("0.25"));
    assert_eq!(first.success_rate, Some(0.75));
    assert_eq!((first.p50_latency_ms, first.p95_latency_ms), (Some(250), Some(250)));
    assert_eq!(first.webhooks.rejected, 1);
    assert_eq!(first.day, day.to_string());
    assert_eq!((days[1].calls, days[1].succeeded, days[1].cost.as_deref()), (1, 0, Some("0")));
}

#[test]
fn metrics_ranges_default_to_a_week_and_refuse_bad_dates() {
    let today = Date::parse("2026-03-10").unwrap();
    let week = MetricsRange::parse(None, None, today).unwrap();
    assert_eq!((week.from.to_string(), week.to.to_string()), ("2026-03-04".into(), "2026-03-10".into()));
    let one = MetricsRange::parse(Some("2026-01-01"), Some("2026-01-01"), today).unwrap();
    assert_eq!(one.from, one.to);
    let bad = MetricsRange::parse(Some("2026-13-01"), None, today).unwrap_err();
    assert!(matches!(bad, MetricsQueryError::BadDate { field: "from", .. }));
    assert_eq!(bad.code(), "invalid_metrics_range");
    assert!(matches!(MetricsRange::parse(Some("2026-03-11"), None, today), Err(MetricsQueryError::Reversed { .. })));
    assert_eq!(MetricsRange::parse(Some("2025-01-01"), None, today), Err(MetricsQueryError::TooLong));
}

#[test]
fn connections_are_counted_by_status_with_the_stalest_named() {
    let standing = |id: &str, status, at| ConnectionStanding {
        provider: Provider::Plaid,
        connection_id: id.into(),
        institution: None,
        status,
        last_success_at: at,
    };
    let summary = summarize_connections([
        standing("a", HealthStatus::Ok, Some(200)),
        standing("b", HealthStatus::NeedsRepair, Some(100)),
        standing("c", HealthStatus::Ok, Some(300)),
    ]);
    let plaid = &summary[&Provider::Plaid];
    assert_eq!((plaid.total, plaid.by_status["ok"], plaid.by_status["needs_repair"]), (3, 2, 1));
    assert_eq!(plaid.stalest.as_ref().unwrap().connection_id, "b");
    assert_eq!(summary[&Provider::SnapTrade].total, 0);
    assert_eq!(summary.len(), Provider::ALL.len());
    let never =
        summarize_connections([standing("a", HealthStatus::Ok, Some(1)), standing("n", HealthStatus::Degraded, None)]);
    assert_eq!(never[&Provider::Plaid].stalest.as_ref().unwrap().connection_id, "n", "never read is stalest");
}

fn claims(role: Option<Role>) -> SessionClaims {
    SessionClaims { user_id: UserId::parse("ops-1").unwrap(), expires_at: NOW + 60, issued_at: None, role }
}

#[test]
fn the_operator_token_or_an_operator_session_is_let_in_and_users_get_operator_only() {
    let configured = Some("s3cret-operator-token");
    let never = |_: &str| -> Result<SessionClaims, SessionError> { panic!("the token is not checked as a session") };
    assert_eq!(authorize_operator("s3cret-operator-token", configured, never), Ok(Operator::Token));
    let operator = authorize_operator("jwt", configured, |_| Ok(claims(Some(Role::Operator))));
    assert_eq!(operator, Ok(Operator::Session(UserId::parse("ops-1").unwrap())));
    let user = authorize_operator("jwt", configured, |_| Ok(claims(None))).unwrap_err();
    assert_eq!((user.code(), user.http_status()), ("operator_only", 403));
    let bad = authorize_operator("nope", configured, |_| Err(SessionError::BadSignature)).unwrap_err();
    assert_eq!(bad, OperatorError::Session(SessionError::BadSignature));
    assert_eq!(bad.http_status(), 401);
}

#[test]
fn a_missing_or_empty_operator_token_matches_nothing() {
    assert!(!operator_token_matches("", None));
    assert!(!operator_token_matches("", Some("")));
    assert!(!operator_token_matches("  ", Some("  ")));
    assert!(!operator_token_matches("abc", Some("abcd")));
    assert!(operator_token_matches("abc", Some("abc")));
    let user = authorize_operator("anything", Some(" "), |_| Ok(claims(None))).unwrap_err();
    assert_eq!(user, OperatorError::OperatorOnly);
}
