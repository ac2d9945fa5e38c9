use super::*;
use crate::test_fixtures::{account, cash, position, slug};
use crate::ErrorCode;
use proptest::prelude::*;

const BOTH: [Provider; 2] = [Provider::SnapTrade, Provider::Plaid];
const PLAID_ONLY: [Provider; 1] = [Provider::Plaid];

#[test]
fn plaid_skips_schwab_when_snaptrade_is_canonical_and_available() {
    let decision = should_skip_for_provider("Charles Schwab", Provider::Plaid, DataType::Positions, &BOTH);
    assert_eq!(decision, SkipDecision::Skip { canonical: Provider::SnapTrade });
    assert!(decision.should_skip());
}

#[test]
fn plaid_keeps_schwab_when_schwab_direct_and_snaptrade_are_unavailable() {
    let decision = should_skip_for_provider("schwab", Provider::Plaid, DataType::Positions, &PLAID_ONLY);
    assert_eq!(decision, SkipDecision::KeepStandsIn { preferred: Provider::Schwab });
    assert!(!decision.should_skip());
    let decision = should_skip_for_provider("fidelity", Provider::Plaid, DataType::Positions, &PLAID_ONLY);
    assert_eq!(decision, SkipDecision::KeepCanonicalUnavailable { canonical: Provider::SnapTrade });
}

#[test]
fn schwab_direct_is_canonical_for_schwab_and_the_chain_fails_open_in_order() {
    let all = Provider::ALL;
    let at =
        |me, available: &[Provider]| should_skip_for_provider("Charles Schwab", me, DataType::Positions, available);
    assert_eq!(at(Provider::Schwab, &all), SkipDecision::KeepIsCanonical);
    assert_eq!(at(Provider::SnapTrade, &all), SkipDecision::Skip { canonical: Provider::Schwab });
    assert_eq!(at(Provider::Plaid, &all), SkipDecision::Skip { canonical: Provider::Schwab });
    // Schwab direct down: SnapTrade stands in, Plaid's copy still yields, and so do Schwab's own cached rows.
    assert_eq!(at(Provider::SnapTrade, &BOTH), SkipDecision::KeepStandsIn { preferred: Provider::Schwab });
    assert_eq!(at(Provider::Plaid, &BOTH), SkipDecision::Skip { canonical: Provider::SnapTrade });
    assert_eq!(at(Provider::Schwab, &BOTH), SkipDecision::Skip { canonical: Provider::SnapTrade });
    // Nobody available: every copy is kept.
    assert_eq!(at(Provider::Schwab, &[]), SkipDecision::KeepIsCanonical);
    assert_eq!(at(Provider::SnapTrade, &[]), SkipDecision::KeepStandsIn { preferred: Provider::Schwab });
}

#[test]
fn chains_name_each_provider_once_and_at_least_one() {
    for json in [r#"{"positions":{"x":[]}}"#, r#"{"positions":{"x":["plaid","plaid"]}}"#] {
        assert_eq!(DedupRouting::from_json(json).unwrap_err().code(), "invalid_table_json", "{json}");
    }
    let routing = DedupRouting::from_json(r#"{"positions":{"x":["schwab","plaid"]}}"#).unwrap();
    assert_eq!(routing.canonical_chain(&slug("x"), DataType::Positions), [Provider::Schwab, Provider::Plaid]);
}

#[test]
fn the_canonical_provider_always_keeps_its_institution() {
    assert_eq!(
        should_skip_for_provider("fidelity", Provider::SnapTrade, DataType::Transactions, &BOTH),
        SkipDecision::KeepIsCanonical
    );
    assert_eq!(
        should_skip_for_provider("Chase", Provider::Plaid, DataType::Positions, &BOTH),
        SkipDecision::KeepIsCanonical
    );
}

#[test]
fn institutions_without_a_rule_or_unknown_are_kept() {
    assert_eq!(
        should_skip_for_provider("Citi", Provider::Plaid, DataType::Positions, &BOTH),
        SkipDecision::KeepNoRoutingRule
    );
    assert_eq!(
        should_skip_for_provider("Purchase Bank", Provider::Plaid, DataType::Positions, &BOTH),
        SkipDecision::KeepUnknownInstitution
    );
    assert_eq!(
        should_skip_for_provider("", Provider::Plaid, DataType::Positions, &BOTH),
        SkipDecision::KeepUnknownInstitution
    );
}

#[test]
fn position_and_transaction_maps_are_independent() {
    let routing =
        DedupRouting::from_json(r#"{"positions":{"interactive_brokers":"snaptrade"},"transactions":{}}"#).unwrap();
    let ibkr = slug("interactive_brokers");
    assert!(routing.should_skip_for_provider(&ibkr, Provider::Plaid, DataType::Positions, &BOTH).should_skip());
    assert_eq!(
        routing.should_skip_for_provider(&ibkr, Provider::Plaid, DataType::Transactions, &BOTH),
        SkipDecision::KeepNoRoutingRule
    );
    assert_eq!(routing.canonical_provider(&ibkr, DataType::Positions), Some(Provider::SnapTrade));
    assert_eq!(routing.canonical_provider(&ibkr, DataType::Transactions), None);
}

#[test]
fn embedded_routing_names_schwab_direct_then_snaptrade_for_schwab_and_knows_every_slug() {
    let routing = DedupRouting::embedded();
    for data_type in [DataType::Positions, DataType::Transactions] {
        assert_eq!(routing.canonical_provider(&slug("fidelity"), data_type), Some(Provider::SnapTrade));
        assert_eq!(
            routing.canonical_chain(&slug("charles_schwab"), data_type),
            [Provider::Schwab, Provider::SnapTrade, Provider::Plaid]
        );
        assert_eq!(routing.canonical_provider(&slug("chase"), data_type), Some(Provider::Plaid));
    }
    for slug in routing.positions.keys().chain(routing.transactions.keys()) {
        assert!(AliasTable::embedded().get(slug).is_some(), "{slug} is not in the alias table");
    }
}

#[test]
fn invalid_routing_tables_are_refused_with_typed_errors() {
    for json in [r#"{"positions":{"chase":"chase_direct"}}"#, r#"{"position":{}}"#, "null"] {
        assert_eq!(DedupRouting::from_json(json).unwrap_err().code(), "invalid_table_json", "{json}");
    }
    assert_eq!(DedupRouting::from_json("{}").unwrap(), DedupRouting::default());
}

fn plaid_holdings() -> Holdings {
    let p = Provider::Plaid;
    Holdings {
        accounts: vec![account(p, "p-schwab", Some("charles_schwab")), account(p, "p-chase", Some("chase"))],
        positions: vec![
            position(p, "p-schwab", Some("charles_schwab"), "AAPL", "10"),
            position(p, "p-schwab", None, "MSFT", "5"),
            position(p, "p-chase", Some("chase"), "VTI", "3"),
        ],
        balances: vec![cash(p, "p-schwab", Some("charles_schwab"), "USD", "100"), cash(p, "p-chase", None, "USD", "7")],
    }
}

#[test]
fn routing_holdings_removes_the_canonical_elsewhere_institution_and_counts_it() {
    let routed = dedup_holdings(plaid_holdings(), Provider::Plaid, &BOTH);
    let expected = RoutedAway {
        institution: slug("charles_schwab"),
        to: Provider::SnapTrade,
        accounts: 1,
        positions: 2,
        balances: 1,
    };
    assert_eq!(routed.outcome, DedupOutcome::SomeRoutedAway { routed_away: vec![expected] });
    assert_eq!(routed.kept.accounts.len(), 1);
    assert!(routed.kept.positions.iter().all(|p| p.account_id == "p-chase"));
    assert_eq!(routed.kept.balances.len(), 1);
}

#[test]
fn routing_holdings_keeps_everything_when_the_canonical_provider_is_unavailable() {
    let routed = dedup_holdings(plaid_holdings(), Provider::Plaid, &PLAID_ONLY);
    assert_eq!(routed.outcome, DedupOutcome::NothingRoutedAway);
    assert_eq!(routed.kept, plaid_holdings());
}

#[test]
fn all_rows_routed_away_is_distinct_from_a_provider_that_returned_nothing() {
    let mut schwab_only = plaid_holdings();
    schwab_only.accounts.retain(|a| a.account_id == "p-schwab");
    schwab_only.positions.retain(|p| p.account_id == "p-schwab");
    schwab_only.balances.retain(|b| b.account_id == "p-schwab");
    let routed = dedup_holdings(schwab_only, Provider::Plaid, &BOTH);
    assert!(matches!(routed.outcome, DedupOutcome::AllRoutedAway { .. }));
    assert_eq!(routed.outcome.routed_away()[0].positions, 2);
    assert_eq!(routed.kept, Holdings::default());
    let nothing = dedup_holdings(Holdings::default(), Provider::Plaid, &BOTH);
    assert_eq!(nothing.outcome, DedupOutcome::ProviderReturnedNothing);
    assert!(nothing.outcome.routed_away().is_empty());
    assert_eq!(
        serde_json::to_value(&nothing.outcome).unwrap(),
        serde_json::json!({"outcome": "provider_returned_nothing"})
    );
}

#[test]
fn an_account_known_only_by_institution_name_is_routed_through_the_alias_table() {
    let mut named = account(Provider::Plaid, "p-1", None);
    named.institution_name = Some("SCHWAB & CO.".to_owned());
    let holdings = Holdings {
        accounts: vec![named],
        positions: vec![
            position(Provider::Plaid, "p-1", None, "AAPL", "1"),
            position(Provider::Plaid, "p-2", None, "X", "1"),
        ],
        balances: vec![],
    };
    let routed = dedup_holdings(holdings, Provider::Plaid, &BOTH);
    assert_eq!(routed.outcome.routed_away()[0].institution, slug("charles_schwab"));
    assert_eq!(routed.kept.positions.len(), 1, "the row with no known institution is kept");
    assert_eq!(routed.kept.positions[0].account_id, "p-2");
}

#[test]
fn institutions_in_lists_every_resolved_institution() {
    let found: Vec<String> =
        institutions_in(AliasTable::embedded(), &plaid_holdings()).iter().map(|s| s.to_string()).collect();
    assert_eq!(found, ["charles_schwab", "chase"]);
}

fn arb_holdings(provider: Provider) -> impl Strategy<Value = Holdings> {
    let institutions = prop_oneof![Just(None), Just(Some("charles_schwab")), Just(Some("chase")), Just(Some("citi"))];
    proptest::collection::vec((institutions, 0usize..3, 1i64..1000), 0..12).prop_map(move |rows| {
        let mut holdings = Holdings::default();
        for (i, (institution, account_n, units)) in rows.into_iter().enumerate() {
            let account_id = format!("{provider}-{account_n}");
            holdings.positions.push(position(provider, &account_id, institution, &format!("T{i}"), &units.to_string()));
            if i % 3 == 0 {
                holdings.balances.push(cash(provider, &account_id, institution, "CAD", &units.to_string()));
            }
        }
        holdings
    })
}

proptest! {
    #[test]
    fn every_row_is_either_kept_or_counted_as_routed_away(
        holdings in arb_holdings(Provider::Plaid),
        available in proptest::sample::subsequence(BOTH.to_vec(), 0..=2),
    ) {
        let routed = dedup_holdings(holdings.clone(), Provider::Plaid, &available);
        let removed: usize = routed.outcome.routed_away().iter().map(|r| r.positions).sum();
        prop_assert_eq!(routed.kept.positions.len() + removed, holdings.positions.len());
        let removed: usize = routed.outcome.routed_away().iter().map(|r| r.balances).sum();
        prop_assert_eq!(routed.kept.balances.len() + removed, holdings.balances.len());
        if !available.contains(&Provider::SnapTrade) {
            prop_assert_eq!(routed.kept, holdings);
        }
    }
}
