use super::*;
use crate::coverage::{ProviderState, MIN_ATTEMPTS_FOR_FAILURE_RATE};
use crate::ErrorCode;
use proptest::prelude::*;

fn slug(s: &str) -> InstitutionSlug {
    InstitutionSlug::parse(s).unwrap()
}

fn healthy() -> ProviderHealth {
    ProviderHealth::all_healthy()
}

fn route(name: &str, need_trading: bool) -> RoutingDecision {
    choose_provider(name, need_trading, &healthy()).unwrap()
}

#[test]
fn schwab_reads_through_schwab_direct_and_trades_through_snaptrade() {
    let decision = route("Schwab", false);
    assert_eq!(decision.provider, Provider::Schwab);
    assert_eq!(decision.reason, RoutingReason::Preferred);
    assert_eq!(decision.institution, Some(slug("charles_schwab")));
    assert_eq!(decision.display_name.as_deref(), Some("Charles Schwab"));
    assert!(!decision.used_fallback && decision.passed_over.is_empty());
    assert_eq!(decision.message, "Charles Schwab connects through Schwab direct, its preferred provider.");
    let trade = route("Schwab", true);
    assert_eq!((trade.provider, trade.reason), (Provider::SnapTrade, RoutingReason::TradingNeedsFallback));
    assert!(trade.trading_available && trade.used_fallback);
    assert_eq!(
        trade.message,
        "Charles Schwab connects through SnapTrade because trading was requested and Schwab direct cannot trade there."
    );
}

#[test]
fn schwab_without_schwab_direct_configured_reads_through_snaptrade_and_says_why() {
    let health = healthy().with(Provider::Schwab, ProviderState::not_configured());
    let decision = choose_provider("Charles Schwab", false, &health).unwrap();
    assert_eq!(decision.provider, Provider::SnapTrade);
    assert_eq!(decision.passed_over[0].provider, Provider::Schwab);
    assert!(decision.message.contains("Schwab direct was passed over"), "{}", decision.message);
}

#[test]
fn fidelity_routes_to_snaptrade_without_trading_even_when_trading_is_asked_for() {
    for need_trading in [false, true] {
        let decision = route("Fidelity", need_trading);
        assert_eq!((decision.provider, decision.trading_available), (Provider::SnapTrade, false));
        assert_eq!(decision.message.contains("Trading is not available"), need_trading);
    }
}

#[test]
fn chase_routes_to_plaid_without_trading() {
    let decision = route("Chase", false);
    assert_eq!((decision.provider, decision.trading_available), (Provider::Plaid, false));
    assert_eq!(decision.reason, RoutingReason::Preferred);
}

#[test]
fn unknown_institution_needing_trading_routes_to_snaptrade() {
    let decision = route("Bank of Nowhere", true);
    assert_eq!(decision.provider, Provider::SnapTrade);
    assert_eq!(decision.reason, RoutingReason::UnknownInstitutionNeedsTrading);
    assert!(decision.trading_available);
    assert_eq!((decision.institution, decision.display_name), (None, None));
    assert!(decision.message.starts_with("Bank of Nowhere is not in the coverage map"));
}

#[test]
fn unknown_institution_without_trading_routes_to_plaid() {
    let decision = route("Purchase Bank", false);
    assert_eq!(decision.provider, Provider::Plaid);
    assert_eq!(decision.reason, RoutingReason::UnknownInstitution);
    assert!(!decision.trading_available && !decision.used_fallback);
}

#[test]
fn a_slug_routes_like_its_name() {
    assert_eq!(route("interactive_brokers", true), route("Interactive Brokers", true));
}

#[test]
fn etrade_in_snaptrade_maintenance_falls_back_to_plaid_and_says_why() {
    let health = healthy().with(Provider::SnapTrade, ProviderState::healthy().with_maintenance(slug("etrade")));
    let decision = choose_provider("E*TRADE", true, &health).unwrap();
    assert_eq!(decision.provider, Provider::Plaid);
    assert_eq!(
        decision.reason,
        RoutingReason::FellBack { from: Provider::SnapTrade, problem: ProviderProblem::Maintenance }
    );
    assert!(decision.used_fallback && !decision.trading_available);
    assert_eq!(
        decision.passed_over,
        [PassedOver { provider: Provider::SnapTrade, problem: ProviderProblem::Maintenance }]
    );
    assert!(decision.message.contains("SnapTrade was passed over: it reports this institution as under maintenance"));
    assert!(decision.message.contains("Trading is not available for E*TRADE through Plaid."));
    // Maintenance at one brokerage does not affect another.
    assert_eq!(choose_provider("Robinhood", true, &health).unwrap().provider, Provider::SnapTrade);
}

#[test]
fn recent_failures_reroute_only_above_the_threshold_with_enough_attempts() {
    let with = |attempts, failures| {
        let state = ProviderState::healthy().with_failures(slug("etrade"), attempts, failures);
        choose_provider("etrade", false, &healthy().with(Provider::SnapTrade, state)).unwrap()
    };
    assert_eq!(
        with(MIN_ATTEMPTS_FOR_FAILURE_RATE - 1, MIN_ATTEMPTS_FOR_FAILURE_RATE - 1).provider,
        Provider::SnapTrade
    );
    assert_eq!(with(10, 4).provider, Provider::SnapTrade);
    let broken = with(10, 5);
    assert_eq!(broken.provider, Provider::Plaid);
    assert_eq!(
        broken.reason,
        RoutingReason::FellBack {
            from: Provider::SnapTrade,
            problem: ProviderProblem::HighFailureRate { attempts: 10, failures: 5 }
        }
    );
    assert!(broken.message.contains("5 of its last 10 attempts for this institution failed"));
}

#[test]
fn an_unconfigured_provider_is_never_chosen_when_another_works() {
    let no_plaid = healthy().with(Provider::Plaid, ProviderState::not_configured());
    let unknown = choose_provider("Credit Union 42", false, &no_plaid).unwrap();
    assert_eq!(unknown.provider, Provider::SnapTrade);
    assert!(unknown.used_fallback);
    let chase = choose_provider("Chase", false, &no_plaid).unwrap();
    assert_eq!(chase.provider, Provider::SnapTrade);
    let no_snaptrade = healthy().with(Provider::SnapTrade, ProviderState::unavailable());
    let schwab = choose_provider("Schwab", true, &no_snaptrade).unwrap();
    assert_eq!(
        schwab.reason,
        RoutingReason::FellBack { from: Provider::SnapTrade, problem: ProviderProblem::Unavailable }
    );
}

#[test]
fn an_institution_without_a_usable_provider_is_a_typed_error() {
    let no_plaid = healthy().with(Provider::Plaid, ProviderState::not_configured());
    let err = choose_provider("Citibank", false, &no_plaid).unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("no_provider_available", 503));
    assert_eq!(
        err.to_string(),
        "no provider can connect Citi right now: Plaid (it is not configured in this deployment)"
    );
    let err = choose_provider("Anything", true, &ProviderHealth::default()).unwrap_err();
    let RoutingError::NoUsableProvider { passed_over, .. } = err else { panic!("expected NoUsableProvider") };
    assert_eq!(passed_over.iter().map(|p| p.provider).collect::<Vec<_>>(), [Provider::SnapTrade, Provider::Plaid]);
}

#[test]
fn a_blank_institution_is_refused() {
    let err = choose_provider("  ", false, &healthy()).unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("institution_required", 400));
}

fn trade_via_fallback_map() -> CoverageMap {
    CoverageMap::from_json(
        r#"{"institutions":{"ally":{"display_name":"Ally Invest","preferred":"plaid","fallback":"snaptrade","trading_allowed":true}}}"#,
    )
    .unwrap()
}

#[test]
fn needing_trading_picks_the_fallback_when_only_it_can_trade() {
    let map = trade_via_fallback_map();
    let aliases = AliasTable::embedded();
    let read = map.choose_provider(aliases, "Ally", false, &healthy()).unwrap();
    assert_eq!(
        (read.provider, read.reason, read.trading_available),
        (Provider::Plaid, RoutingReason::Preferred, false)
    );
    let trade = map.choose_provider(aliases, "Ally", true, &healthy()).unwrap();
    assert_eq!((trade.provider, trade.reason), (Provider::SnapTrade, RoutingReason::TradingNeedsFallback));
    assert!(trade.trading_available && trade.used_fallback);
    assert!(trade.message.contains("trading was requested and Plaid cannot trade there"));
}

#[test]
fn when_the_trading_fallback_is_down_the_read_only_preferred_is_still_offered() {
    let health = healthy().with(Provider::SnapTrade, ProviderState::healthy().with_maintenance(slug("ally")));
    let decision = trade_via_fallback_map().choose_provider(AliasTable::embedded(), "Ally", true, &health).unwrap();
    assert_eq!(decision.provider, Provider::Plaid);
    assert!(!decision.used_fallback && !decision.trading_available);
    assert_eq!(
        decision.reason,
        RoutingReason::FellBack { from: Provider::SnapTrade, problem: ProviderProblem::Maintenance }
    );
}

#[test]
fn decision_serialises_with_snake_case_codes() {
    let health = healthy().with(Provider::SnapTrade, ProviderState::healthy().with_maintenance(slug("etrade")));
    let decision = choose_provider("etrade", false, &health).unwrap();
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(json["provider"], "plaid");
    assert_eq!(
        json["reason"],
        serde_json::json!({"code":"fell_back","from":"snaptrade","problem":{"code":"maintenance"}})
    );
    assert_eq!(json["institution"], "etrade");
    assert_eq!(serde_json::from_value::<RoutingDecision>(json).unwrap(), decision);
}

#[test]
fn provider_health_reads_from_json_and_missing_providers_count_as_unconfigured() {
    let health: ProviderHealth = serde_json::from_str(
        r#"{"snaptrade":{"configured":true,"maintenance":["fidelity"],"recent_failures":{"etrade":{"attempts":8,"failures":8}}}}"#,
    )
    .unwrap();
    assert_eq!(health.problem(Provider::SnapTrade, Some(&slug("fidelity"))), Some(ProviderProblem::Maintenance));
    assert_eq!(health.problem(Provider::SnapTrade, Some(&slug("vanguard"))), None);
    assert_eq!(health.problem(Provider::Plaid, None), Some(ProviderProblem::NotConfigured));
    assert_eq!(health.usable_providers(), [Provider::SnapTrade]);
    assert_eq!(healthy().usable_providers(), Provider::ALL);
}

fn arb_state() -> impl Strategy<Value = ProviderState> {
    let slugs = ["charles_schwab", "fidelity", "chase", "citi", "ally"];
    (any::<bool>(), any::<bool>(), proptest::sample::subsequence(slugs.to_vec(), 0..3), 0u32..20, 0u32..20).prop_map(
        move |(configured, available, maintenance, attempts, failures)| {
            let mut state = ProviderState { configured, available, ..ProviderState::healthy() };
            for s in &maintenance {
                state = state.with_maintenance(slug(s));
            }
            state.with_failures(slug("fidelity"), attempts, failures)
        },
    )
}

proptest! {
    #[test]
    fn the_chosen_provider_is_always_usable_and_errors_only_when_none_is(
        snaptrade in arb_state(),
        plaid in arb_state(),
        name in prop_oneof![Just("Schwab"), Just("Fidelity"), Just("Chase"), Just("Citi"), Just("Nowhere Bank"), Just("Ally")],
        need_trading in any::<bool>(),
    ) {
        let health = ProviderHealth::default().with(Provider::SnapTrade, snaptrade).with(Provider::Plaid, plaid);
        let institution = resolve(name);
        match choose_provider(name, need_trading, &health) {
            Ok(decision) => {
                prop_assert_eq!(health.problem(decision.provider, institution.as_ref()), None);
                for skipped in &decision.passed_over {
                    prop_assert_eq!(health.problem(skipped.provider, institution.as_ref()), Some(skipped.problem));
                }
                prop_assert!(!decision.trading_available || decision.provider == Provider::SnapTrade);
            }
            Err(RoutingError::NoUsableProvider { passed_over, .. }) => {
                let candidates: Vec<Provider> = match institution.as_ref().and_then(|s| CoverageMap::embedded().rule(s)) {
                    Some(rule) => rule.providers().collect(),
                    None => vec![Provider::Plaid, Provider::SnapTrade],
                };
                prop_assert_eq!(passed_over.len(), candidates.len());
                for provider in candidates {
                    prop_assert!(health.problem(provider, institution.as_ref()).is_some());
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

fn resolve(name: &str) -> Option<InstitutionSlug> {
    AliasTable::embedded().resolve(name)
}
