use super::*;
use proptest::prelude::*;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const HOUR: i64 = 3_600;

fn policy() -> RefreshPolicy {
    RefreshPolicy::default()
}

fn provider(provider: Provider) -> ProviderRefreshState {
    ProviderRefreshState::connected(provider)
}

fn pending(p: Provider) -> ProviderRefreshState {
    ProviderRefreshState { pending: true, ..provider(p) }
}

fn billed_ago(p: Provider, seconds: i64) -> ProviderRefreshState {
    ProviderRefreshState { last_billed_refresh_at: Some(NOW - seconds), ..provider(p) }
}

fn state(providers: Vec<ProviderRefreshState>) -> UserRefreshState {
    UserRefreshState { last_refresh_at: None, providers }
}

fn manual(providers: &[Provider]) -> RefreshRequest {
    RefreshRequest { providers: Some(providers.to_vec()), ..RefreshRequest::default() }
}

fn planned(provider: Provider, mode: RefreshMode, billed: bool) -> PlannedRefresh {
    PlannedRefresh { provider, mode, billed }
}

fn decide(request: &RefreshRequest, state: &UserRefreshState) -> Result<RefreshDecision, RefreshError> {
    policy().decide(request, state, NOW)
}

#[test]
fn defaults_are_a_60_second_cooldown_and_a_24_hour_paid_cap() {
    assert_eq!(policy(), RefreshPolicy { cooldown_s: 60, paid_cap_s: 86_400 });
    let custom: RefreshPolicy = serde_json::from_value(json!({"paid_cap_s": 3600})).unwrap();
    assert_eq!(custom, RefreshPolicy { cooldown_s: 60, paid_cap_s: 3600 });
}

#[test]
fn a_refresh_within_60_seconds_of_the_last_cools_down_for_the_exact_remainder() {
    let at = |ago: i64| {
        let user = UserRefreshState { last_refresh_at: Some(NOW - ago), providers: vec![pending(Provider::Plaid)] };
        decide(&RefreshRequest::default(), &user).unwrap()
    };
    assert_eq!(at(0), RefreshDecision::CoolingDown { retry_after_s: 60 });
    assert_eq!(at(30), RefreshDecision::CoolingDown { retry_after_s: 30 });
    assert_eq!(at(59), RefreshDecision::CoolingDown { retry_after_s: 1 });
    assert!(matches!(at(60), RefreshDecision::Allowed { .. }));
    assert_eq!(at(-100), RefreshDecision::CoolingDown { retry_after_s: 160 });
    assert_eq!(at(30).http_status(), 429);
}

#[test]
fn the_cooldown_spans_providers_and_counts_any_providers_last_refresh() {
    let mut snaptrade = provider(Provider::SnapTrade);
    snaptrade.last_refresh_at = Some(NOW - 10);
    let user = state(vec![snaptrade, pending(Provider::Plaid)]);
    assert_eq!(decide(&manual(&[Provider::Plaid]), &user), Ok(RefreshDecision::CoolingDown { retry_after_s: 50 }));
}

#[test]
fn cutoff_and_retry_after_agree_for_the_atomic_d1_check() {
    let policy = policy();
    assert_eq!(policy.cooldown_cutoff(NOW), NOW - 60);
    assert_eq!(policy.retry_after_s(NOW - 60, NOW), None);
    assert_eq!(policy.retry_after_s(NOW - 59, NOW), Some(1));
    assert_eq!(policy.retry_after_s(i64::MAX, i64::MIN), Some(u64::try_from(i64::MAX).unwrap()));
    assert_eq!(RefreshPolicy { cooldown_s: -5, ..policy }.cooldown_cutoff(NOW), NOW);
    assert_eq!(policy.paid_cap_until(NOW), NOW + 86_400);
}

#[test]
fn without_providers_only_connected_pending_providers_are_fetched_for_free() {
    let disconnected_pending = ProviderRefreshState { connected: false, ..pending(Provider::SnapTrade) };
    let user = state(vec![disconnected_pending, pending(Provider::Plaid)]);
    assert_eq!(
        decide(&RefreshRequest::default(), &user),
        Ok(RefreshDecision::Allowed { plan: vec![planned(Provider::Plaid, RefreshMode::FetchOnly, false)] })
    );
}

#[test]
fn without_providers_and_nothing_pending_there_is_nothing_to_do() {
    let user = state(vec![provider(Provider::SnapTrade), billed_ago(Provider::Plaid, HOUR)]);
    let decision = decide(&RefreshRequest::default(), &user).unwrap();
    assert_eq!((decision.clone(), decision.http_status()), (RefreshDecision::NothingPending, 200));
    assert_eq!(decide(&RefreshRequest::default(), &state(vec![])), Ok(RefreshDecision::NothingPending));
}

#[test]
fn naming_a_provider_that_is_not_connected_is_refused() {
    let user = state(vec![ProviderRefreshState { connected: false, ..pending(Provider::Plaid) }]);
    for named in [Provider::Plaid, Provider::SnapTrade] {
        let err = decide(&manual(&[named]), &user).unwrap_err();
        assert_eq!(err, RefreshError::NotConnected { provider: named });
        assert_eq!((err.code(), err.http_status()), ("refresh_provider_not_connected", 409));
    }
    let cooling = UserRefreshState { last_refresh_at: Some(NOW), ..user };
    assert!(decide(&manual(&[Provider::Plaid]), &cooling).is_err(), "a bad request is refused before the cooldown");
}

#[test]
fn an_empty_providers_list_is_refused() {
    let err = decide(&manual(&[]), &state(vec![pending(Provider::Plaid)])).unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("refresh_no_providers", 400));
}

#[test]
fn named_pending_providers_are_fetched_and_the_others_refreshed_once_each() {
    let user = state(vec![pending(Provider::SnapTrade), provider(Provider::Plaid)]);
    let request = manual(&[Provider::Plaid, Provider::SnapTrade, Provider::Plaid]);
    assert_eq!(
        decide(&request, &user),
        Ok(RefreshDecision::Allowed {
            plan: vec![
                planned(Provider::Plaid, RefreshMode::ProviderRefresh, true),
                planned(Provider::SnapTrade, RefreshMode::FetchOnly, false),
            ]
        })
    );
}

#[test]
fn plaid_refresh_twice_within_24h_is_blocked_with_reason() {
    let user = state(vec![billed_ago(Provider::Plaid, 3 * HOUR)]);
    let decision = decide(&manual(&[Provider::Plaid]), &user).unwrap();
    let RefreshDecision::CostCapped { provider, next_allowed_at, reason } = &decision else {
        panic!("expected CostCapped, got {decision:?}")
    };
    assert_eq!((*provider, *next_allowed_at), (Provider::Plaid, NOW + 21 * HOUR));
    assert_eq!(
        reason,
        "Plaid charges per refresh; the last one was 3 h ago; confirm the cost to refresh now, \
         or wait 21 h for the next refresh without confirmation"
    );
    assert_eq!(decision.http_status(), 402);
}

#[test]
fn confirming_the_cost_lifts_the_cap_and_the_cap_ends_after_24_hours() {
    let user = state(vec![billed_ago(Provider::Plaid, HOUR)]);
    let confirmed = RefreshRequest { confirm_cost: true, ..manual(&[Provider::Plaid]) };
    let allowed = RefreshDecision::Allowed { plan: vec![planned(Provider::Plaid, RefreshMode::ProviderRefresh, true)] };
    assert_eq!(decide(&confirmed, &user), Ok(allowed.clone()));
    let a_day_later = state(vec![billed_ago(Provider::Plaid, 24 * HOUR)]);
    assert_eq!(decide(&manual(&[Provider::Plaid]), &a_day_later), Ok(allowed));
    let almost = state(vec![billed_ago(Provider::Plaid, 24 * HOUR - 1)]);
    assert!(matches!(decide(&manual(&[Provider::Plaid]), &almost), Ok(RefreshDecision::CostCapped { .. })));
}

#[test]
fn snaptrade_manual_refresh_is_billed_so_it_is_capped_too() {
    let user = state(vec![billed_ago(Provider::SnapTrade, 90)]);
    let Ok(RefreshDecision::CostCapped { provider, reason, .. }) = decide(&manual(&[Provider::SnapTrade]), &user)
    else {
        panic!("SnapTrade's billed refresh must be capped")
    };
    assert_eq!(provider, Provider::SnapTrade);
    assert!(reason.starts_with("SnapTrade charges per refresh; the last one was 90 s ago;"), "{reason}");
}

#[test]
fn one_capped_provider_refuses_the_whole_request() {
    let user = state(vec![provider(Provider::SnapTrade), billed_ago(Provider::Plaid, HOUR)]);
    let decision = decide(&manual(&[Provider::SnapTrade, Provider::Plaid]), &user).unwrap();
    assert!(matches!(decision, RefreshDecision::CostCapped { provider: Provider::Plaid, .. }));
}

#[test]
fn the_cap_never_blocks_a_pending_provider() {
    let user = state(vec![ProviderRefreshState { pending: true, ..billed_ago(Provider::Plaid, 60) }]);
    let fetch = RefreshDecision::Allowed { plan: vec![planned(Provider::Plaid, RefreshMode::FetchOnly, false)] };
    assert_eq!(decide(&manual(&[Provider::Plaid]), &user), Ok(fetch.clone()));
    assert_eq!(decide(&RefreshRequest::default(), &user), Ok(fetch));
}

#[test]
fn a_webhook_trigger_only_fetches_so_the_cap_never_blocks_it() {
    let user = state(vec![billed_ago(Provider::Plaid, 60)]);
    let request = RefreshRequest { trigger: RefreshTrigger::Webhook, ..manual(&[Provider::Plaid]) };
    assert_eq!(
        decide(&request, &user),
        Ok(RefreshDecision::Allowed { plan: vec![planned(Provider::Plaid, RefreshMode::FetchOnly, false)] })
    );
}

#[test]
fn a_free_provider_refreshes_unbilled_and_uncapped() {
    let user = state(vec![ProviderRefreshState { refresh_cost: RefreshCost::Free, ..billed_ago(Provider::Plaid, 60) }]);
    assert_eq!(
        decide(&manual(&[Provider::Plaid]), &user),
        Ok(RefreshDecision::Allowed { plan: vec![planned(Provider::Plaid, RefreshMode::ProviderRefresh, false)] })
    );
}

#[test]
fn decisions_and_requests_travel_as_snake_case_json() {
    let allowed = RefreshDecision::Allowed { plan: vec![planned(Provider::Plaid, RefreshMode::FetchOnly, false)] };
    assert_eq!(
        serde_json::to_value(&allowed).unwrap(),
        json!({"decision": "allowed", "plan": [{"provider": "plaid", "mode": "fetch_only", "billed": false}]})
    );
    assert_eq!(
        serde_json::to_value(RefreshDecision::CoolingDown { retry_after_s: 7 }).unwrap(),
        json!({"decision": "cooling_down", "retry_after_s": 7})
    );
    assert_eq!(serde_json::to_value(RefreshDecision::NothingPending).unwrap(), json!({"decision": "nothing_pending"}));
    let capped =
        RefreshDecision::CostCapped { provider: Provider::SnapTrade, next_allowed_at: NOW, reason: "r".into() };
    assert_eq!(
        serde_json::to_value(&capped).unwrap(),
        json!({"decision": "cost_capped", "provider": "snaptrade", "next_allowed_at": NOW, "reason": "r"})
    );
    let request: RefreshRequest =
        serde_json::from_value(json!({"providers": ["plaid"], "confirm_cost": true, "trigger": "webhook"})).unwrap();
    assert_eq!(
        request,
        RefreshRequest { providers: Some(vec![Provider::Plaid]), confirm_cost: true, ..Default::default() }
    );
    assert_eq!(serde_json::from_value::<RefreshRequest>(json!({})).unwrap(), RefreshRequest::default());
    assert!(serde_json::from_value::<RefreshRequest>(json!({"providers": ["ibkr"]})).is_err());
}

#[test]
fn spans_read_naturally_and_waits_round_up() {
    assert_eq!(span(45, false), "45 s");
    assert_eq!(span(119, true), "119 s");
    assert_eq!(span(150, false), "2 min");
    assert_eq!(span(150, true), "3 min");
    assert_eq!(span(3 * HOUR + 1, false), "3 h");
    assert_eq!(span(3 * HOUR + 1, true), "4 h");
}

fn provider_state() -> impl Strategy<Value = ProviderRefreshState> {
    let time = || prop::option::of(NOW - 2 * 86_400..NOW + 120);
    (prop::sample::select(Provider::ALL.to_vec()), any::<bool>(), any::<bool>(), time(), time(), any::<bool>())
        .prop_map(|(provider, connected, pending, last_refresh_at, last_billed_refresh_at, free)| {
            ProviderRefreshState {
                provider,
                connected,
                pending,
                last_refresh_at,
                last_billed_refresh_at,
                refresh_cost: if free { RefreshCost::Free } else { RefreshCost::Paid },
                last_requested_at: None,
            }
        })
}

fn user_state() -> impl Strategy<Value = UserRefreshState> {
    (prop::option::of(NOW - 600..NOW + 60), prop::collection::vec(provider_state(), 0..4))
        .prop_map(|(last_refresh_at, providers)| UserRefreshState { last_refresh_at, providers })
}

fn request() -> impl Strategy<Value = RefreshRequest> {
    let providers = prop::option::of(prop::collection::vec(prop::sample::select(Provider::ALL.to_vec()), 0..3));
    (providers, any::<bool>(), any::<bool>()).prop_map(|(providers, confirm_cost, webhook)| RefreshRequest {
        providers,
        confirm_cost,
        trigger: if webhook { RefreshTrigger::Webhook } else { RefreshTrigger::Manual },
    })
}

fn first(user: &UserRefreshState, provider: Provider) -> Option<&ProviderRefreshState> {
    user.providers.iter().find(|p| p.provider == provider)
}

proptest! {
    #[test]
    fn never_allowed_within_the_cooldown(request in request(), user in user_state(), cooldown in 0i64..600) {
        let policy = RefreshPolicy { cooldown_s: cooldown, ..policy() };
        let cutoff = policy.cooldown_cutoff(NOW);
        let latest = user.providers.iter().filter_map(|p| p.last_refresh_at).chain(user.last_refresh_at).max();
        match policy.decide(&request, &user, NOW) {
            Ok(RefreshDecision::Allowed { .. }) => prop_assert!(latest.is_none_or(|last| last <= cutoff)),
            Ok(RefreshDecision::CoolingDown { retry_after_s }) => {
                let last = latest.unwrap();
                prop_assert!(retry_after_s >= 1);
                prop_assert_eq!(retry_after_s, u64::try_from(last + cooldown - NOW).unwrap());
            }
            _ => {}
        }
    }

    #[test]
    fn a_pending_provider_is_never_cost_capped(request in request(), user in user_state()) {
        if let Ok(RefreshDecision::CostCapped { provider, next_allowed_at, .. }) = policy().decide(&request, &user, NOW) {
            let state = first(&user, provider).unwrap();
            prop_assert!(!state.pending && !request.confirm_cost && request.trigger == RefreshTrigger::Manual);
            prop_assert_eq!(state.refresh_cost, RefreshCost::Paid);
            prop_assert!(next_allowed_at > NOW);
        }
    }

    #[test]
    fn nothing_pending_only_when_nothing_is_pending_and_no_provider_is_named(
        request in request(), user in user_state()
    ) {
        let decision = policy().decide(&request, &user, NOW);
        if decision == Ok(RefreshDecision::NothingPending) {
            prop_assert!(request.providers.is_none());
            prop_assert!(!Provider::ALL.iter().any(|&p| first(&user, p).is_some_and(|s| s.connected && s.pending)));
        }
        if let Ok(RefreshDecision::Allowed { plan }) = decision {
            prop_assert!(!plan.is_empty());
            for step in plan {
                let state = first(&user, step.provider).unwrap();
                prop_assert!(state.connected);
                prop_assert_eq!(step.billed, step.mode == RefreshMode::ProviderRefresh && state.refresh_cost == RefreshCost::Paid);
            }
        }
    }

    #[test]
    fn a_paid_provider_is_never_billed_twice_within_the_cap_without_confirmation(
        steps in prop::collection::vec((1i64..30_000, request(), any::<bool>()), 1..40)
    ) {
        let policy = policy();
        let mut user = state(vec![provider(Provider::SnapTrade), provider(Provider::Plaid)]);
        let mut now = NOW;
        for (elapsed, mut request, webhook_arrives) in steps {
            now += elapsed;
            request.confirm_cost = false;
            if webhook_arrives {
                user.providers[1].pending = true;
            }
            if let Ok(RefreshDecision::Allowed { plan }) = policy.decide(&request, &user, now) {
                user.last_refresh_at = Some(now);
                for step in plan {
                    let state = user.providers.iter_mut().find(|p| p.provider == step.provider).unwrap();
                    if step.billed {
                        prop_assert!(state.last_billed_refresh_at.is_none_or(|last| now - last >= policy.paid_cap_s));
                        state.last_billed_refresh_at = Some(now);
                    }
                    state.last_refresh_at = Some(now);
                    state.pending = false;
                }
            }
        }
    }
}

#[test]
fn refusals_are_answered_with_the_fields_the_client_reads() {
    let (status, retry_after, body) = refusal(&RefreshDecision::CoolingDown { retry_after_s: 7 }).unwrap();
    assert_eq!((status, retry_after), (429, Some(7)));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "error": {"code": "refresh_cooling_down", "message": "Refreshed moments ago; try again in 7 s."},
            "decision": "cooling_down", "retry_after_s": 7,
        })
    );
    let capped = RefreshDecision::CostCapped { provider: Provider::Plaid, next_allowed_at: NOW, reason: "r".into() };
    let (status, retry_after, body) = refusal(&capped).unwrap();
    assert_eq!((status, retry_after), (402, None));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "error": {"code": "refresh_cost_capped", "message": "r"},
            "decision": "cost_capped", "provider": "plaid", "next_allowed_at": NOW, "reason": "r",
        })
    );
    let read: RefusedRefresh = serde_json::from_value(serde_json::to_value(&body).unwrap()).unwrap();
    assert_eq!(read, body, "the same type reads it back");
    assert_eq!(refusal(&RefreshDecision::NothingPending), None);
    assert_eq!(refusal(&RefreshDecision::Allowed { plan: vec![] }), None);
}

#[test]
fn ibkr_flex_is_asked_for_a_statement_at_most_once_an_hour_by_any_path() {
    let asked_ago = |seconds: i64| ProviderRefreshState {
        last_requested_at: Some(NOW - seconds),
        refresh_cost: RefreshCost::Free,
        ..provider(Provider::IbkrFlex)
    };
    let request = manual(&[Provider::IbkrFlex]);
    let decision = decide(&request, &state(vec![asked_ago(20 * 60)])).unwrap();
    let RefreshDecision::Throttled { provider, retry_after_s, reason } = &decision else { panic!("{decision:?}") };
    assert_eq!((*provider, *retry_after_s), (Provider::IbkrFlex, 40 * 60));
    assert!(reason.contains("IBKR Flex") && reason.contains("40 min"), "{reason}");
    let (status, retry_after, body) = refusal(&decision).unwrap();
    assert_eq!((status, retry_after, body.error.code.as_str()), (429, Some(2_400), "refresh_throttled"));
    // A refresh counts as a request too, and an hour later either way it is allowed.
    let refreshed = ProviderRefreshState { last_refresh_at: Some(NOW - 10 * 60), ..asked_ago(2 * HOUR) };
    assert!(matches!(decide(&request, &state(vec![refreshed])), Ok(RefreshDecision::Throttled { .. })));
    assert_eq!(
        decide(&request, &state(vec![asked_ago(HOUR)])),
        Ok(RefreshDecision::Allowed { plan: vec![planned(Provider::IbkrFlex, RefreshMode::ProviderRefresh, false)] })
    );
    // Providers without a throttle are never throttled by a recent request.
    let snaptrade =
        ProviderRefreshState { last_requested_at: Some(NOW - 60), ..billed_ago(Provider::SnapTrade, 2 * 86_400) };
    assert!(matches!(
        decide(&manual(&[Provider::SnapTrade]), &state(vec![snaptrade])),
        Ok(RefreshDecision::Allowed { .. })
    ));
}
