use super::*;
use crate::cache::CachePolicy;
use crate::test_fixtures::{account, cash, dec, position, slug, valued, AS_OF};
use serde_json::json;

const BOTH: [Provider; 2] = [Provider::SnapTrade, Provider::Plaid];

fn ok(provider: Provider, holdings: Holdings) -> ProviderResult {
    ProviderResult::Ok { provider, holdings, last_updated: Some(AS_OF), cache_info: None }
}

fn failed(provider: Provider) -> ProviderResult {
    let error =
        ProviderFailure { code: "provider_unavailable".into(), message: "snaptrade had a server error (503)".into() };
    ProviderResult::Failed { provider, error }
}

fn snaptrade_schwab() -> Holdings {
    let s = Provider::SnapTrade;
    Holdings {
        accounts: vec![account(s, "s-schwab", Some("charles_schwab"))],
        positions: vec![valued(position(s, "s-schwab", Some("charles_schwab"), "AAPL", "10"), "1900", Some("1500"))],
        balances: vec![cash(s, "s-schwab", Some("charles_schwab"), "USD", "250.50")],
    }
}

fn plaid_schwab_and_chase() -> Holdings {
    let p = Provider::Plaid;
    let mut aapl = valued(position(p, "p-schwab", Some("charles_schwab"), "AAPL", "10"), "1900", None);
    aapl.name = Some("APPLE INC".into());
    Holdings {
        accounts: vec![account(p, "p-schwab", Some("charles_schwab")), account(p, "p-chase", Some("chase"))],
        positions: vec![aapl, valued(position(p, "p-chase", Some("chase"), "VTI", "3"), "720", Some("600"))],
        balances: vec![
            cash(p, "p-schwab", Some("charles_schwab"), "USD", "250.50"),
            cash(p, "p-chase", Some("chase"), "USD", "10"),
        ],
    }
}

fn report(merged: &MergedPortfolio, provider: Provider) -> &ProviderReport {
    merged.providers.iter().find(|r| r.provider == provider).unwrap()
}

fn line<'a>(merged: &'a MergedPortfolio, key: &str) -> &'a ConsolidatedPosition {
    merged.consolidated.iter().find(|l| l.security_key == key).unwrap()
}

#[test]
fn schwab_on_both_providers_is_counted_once_from_its_canonical_provider() {
    let merged = merge_portfolios(
        vec![ok(Provider::Plaid, plaid_schwab_and_chase()), ok(Provider::SnapTrade, snaptrade_schwab())],
        &BOTH,
    );
    let aapl = line(&merged, "AAPL");
    assert_eq!(aapl.quantity, Quantity(dec("10")));
    assert_eq!(aapl.sources.iter().map(|s| s.provider).collect::<Vec<_>>(), [Provider::SnapTrade]);
    assert_eq!(line(&merged, "VTI").sources[0].provider, Provider::Plaid);
    let plaid = report(&merged, Provider::Plaid);
    assert_eq!(plaid.status, ProviderStatus::Ok);
    assert_eq!(plaid.routed_away.len(), 1);
    assert_eq!(
        (plaid.routed_away[0].institution.as_str(), plaid.routed_away[0].to),
        ("charles_schwab", Provider::SnapTrade)
    );
    assert_eq!((plaid.accounts, plaid.positions, plaid.balances), (1, 1, 1));
    assert_eq!(
        merged.cash,
        vec![CashTotal {
            currency: Currency::parse("USD").unwrap(),
            amount: dec("260.50"),
            sources: vec![
                CashSource {
                    provider: Provider::SnapTrade,
                    account_id: "s-schwab".into(),
                    institution: Some(slug("charles_schwab")),
                    amount: dec("250.50")
                },
                CashSource {
                    provider: Provider::Plaid,
                    account_id: "p-chase".into(),
                    institution: Some(slug("chase")),
                    amount: dec("10")
                },
            ],
        }]
    );
}

#[test]
fn a_failing_canonical_provider_keeps_the_other_copy_and_reports_the_failure() {
    let merged =
        merge_portfolios(vec![failed(Provider::SnapTrade), ok(Provider::Plaid, plaid_schwab_and_chase())], &BOTH);
    assert_eq!(line(&merged, "AAPL").sources[0].provider, Provider::Plaid);
    assert!(report(&merged, Provider::Plaid).routed_away.is_empty());
    let snaptrade = report(&merged, Provider::SnapTrade);
    assert!(matches!(&snaptrade.status, ProviderStatus::Failed { error } if error.code == "provider_unavailable"));
}

#[test]
fn a_canonical_provider_without_that_institution_does_not_take_it_away() {
    let s = Provider::SnapTrade;
    let fidelity_only =
        Holdings { positions: vec![position(s, "s-fid", Some("fidelity"), "FXAIX", "4")], ..Holdings::default() };
    let merged = merge_portfolios(vec![ok(s, fidelity_only), ok(Provider::Plaid, plaid_schwab_and_chase())], &BOTH);
    assert_eq!(line(&merged, "AAPL").sources[0].provider, Provider::Plaid, "Schwab is only connected through Plaid");
}

#[test]
fn an_unavailable_canonical_provider_never_routes_anything_away() {
    let results = || vec![ok(Provider::SnapTrade, snaptrade_schwab()), ok(Provider::Plaid, plaid_schwab_and_chase())];
    let merged = merge_portfolios(results(), &[]);
    assert_eq!(line(&merged, "AAPL").quantity, Quantity(dec("20")), "fail-open: both copies are kept");
    let snaptrade = report(&merged, Provider::SnapTrade);
    assert_eq!(snaptrade.fail_open, [FailOpen { institution: slug("charles_schwab"), preferred: Provider::Schwab }]);
    assert!(!snaptrade.available);
    // With the chain, the next available provider stands in: Plaid's copy counts, once.
    let merged = merge_portfolios(results(), &[Provider::Plaid]);
    assert_eq!(line(&merged, "AAPL").quantity, Quantity(dec("10")), "never doubled");
    assert_eq!(report(&merged, Provider::SnapTrade).routed_away[0].to, Provider::Plaid);
}

#[test]
fn schwab_direct_takes_schwab_from_both_aggregators_and_yields_when_it_is_unavailable() {
    let direct = Holdings {
        accounts: vec![account(Provider::Schwab, "HASH1", Some("charles_schwab"))],
        positions: vec![position(Provider::Schwab, "HASH1", Some("charles_schwab"), "AAPL", "10")],
        balances: vec![],
    };
    let results = || {
        vec![
            ok(Provider::Schwab, direct.clone()),
            ok(Provider::SnapTrade, snaptrade_schwab()),
            ok(Provider::Plaid, plaid_schwab_and_chase()),
        ]
    };
    let merged = merge_portfolios(results(), &Provider::ALL);
    let aapl = line(&merged, "AAPL");
    assert_eq!(aapl.quantity, Quantity(dec("10")));
    assert_eq!(aapl.sources[0].provider, Provider::Schwab);
    for aggregator in [Provider::SnapTrade, Provider::Plaid] {
        let routed = &report(&merged, aggregator).routed_away;
        assert_eq!((routed[0].institution.as_str(), routed[0].to), ("charles_schwab", Provider::Schwab));
    }
    // Schwab direct needs repair (not available): SnapTrade's copy is shown instead, and says why.
    let merged = merge_portfolios(results(), &[Provider::SnapTrade, Provider::Plaid]);
    let aapl = line(&merged, "AAPL");
    assert_eq!((aapl.quantity, aapl.sources[0].provider), (Quantity(dec("10")), Provider::SnapTrade));
    let schwab = report(&merged, Provider::Schwab);
    assert_eq!((schwab.status.clone(), schwab.available), (ProviderStatus::RoutedAway, false));
    assert_eq!(schwab.routed_away[0].to, Provider::SnapTrade);
    assert_eq!(report(&merged, Provider::SnapTrade).fail_open[0].preferred, Provider::Schwab);
}

#[test]
fn all_rows_routed_away_is_reported_apart_from_an_empty_provider() {
    let p = Provider::Plaid;
    let schwab_only =
        Holdings { positions: vec![position(p, "p-1", Some("charles_schwab"), "AAPL", "10")], ..Holdings::default() };
    let merged = merge_portfolios(vec![ok(Provider::SnapTrade, snaptrade_schwab()), ok(p, schwab_only)], &BOTH);
    assert_eq!(report(&merged, p).status, ProviderStatus::RoutedAway);
    let merged = merge_portfolios(vec![ok(p, Holdings::default())], &BOTH);
    assert_eq!(report(&merged, p).status, ProviderStatus::Empty);
    assert_eq!(report(&merged, Provider::SnapTrade).status, ProviderStatus::NotConnected);
}

#[test]
fn stale_cached_data_is_merged_and_marked_stale() {
    let cache_info = CachePolicy::default().cache_info(Provider::Plaid, AS_OF - 80 * 3600, AS_OF, true);
    let result = ProviderResult::Ok {
        provider: Provider::Plaid,
        holdings: plaid_schwab_and_chase(),
        last_updated: Some(AS_OF - 80 * 3600),
        cache_info: Some(cache_info.clone()),
    };
    let merged = merge_portfolios(vec![result], &BOTH);
    let plaid = report(&merged, Provider::Plaid);
    assert_eq!(plaid.status, ProviderStatus::Stale);
    assert_eq!(plaid.cache_info, Some(cache_info));
    assert_eq!(plaid.last_updated, Some(AS_OF - 80 * 3600));
    assert_eq!(plaid.positions, 2);
}

#[test]
fn consolidated_lines_sum_across_accounts_and_take_names_from_the_highest_priority_source() {
    let s = Provider::SnapTrade;
    let mut holdings = snaptrade_schwab();
    holdings.positions[0].name = Some("Apple Inc.".into());
    let mut unnamed = valued(position(s, "s-robinhood", Some("robinhood"), "AAPL", "2.5"), "475", Some("400"));
    unnamed.name = None; // the next source in priority order supplies the name
    holdings.positions.push(unnamed);
    let mut plaid = plaid_schwab_and_chase();
    plaid.positions[0].institution = Some(slug("vanguard")); // a third account, not routed away
    plaid.accounts[0].institution = Some(slug("vanguard"));
    let merged = merge_portfolios(vec![ok(Provider::Plaid, plaid), ok(s, holdings)], &[]);
    let aapl = line(&merged, "AAPL");
    assert_eq!(aapl.quantity, Quantity(dec("22.5")));
    assert_eq!(aapl.market_value, Some(dec("4275")));
    assert!(aapl.market_value_complete);
    assert_eq!(aapl.cost_basis, None, "one source has no cost basis, so no total is claimed");
    assert_eq!(aapl.name.as_deref(), Some("Apple Inc."));
    let sources: Vec<(Provider, &str, Quantity)> =
        aapl.sources.iter().map(|s| (s.provider, s.account_id.as_str(), s.quantity)).collect();
    assert_eq!(
        sources,
        [
            (Provider::SnapTrade, "s-robinhood", Quantity(dec("2.5"))),
            (Provider::SnapTrade, "s-schwab", Quantity(dec("10"))),
            (Provider::Plaid, "p-schwab", Quantity(dec("10"))),
        ]
    );
    let vti = line(&merged, "VTI");
    assert_eq!((vti.cost_basis, vti.market_value), (Some(dec("600")), Some(dec("720"))));
}

#[test]
fn every_currency_is_kept_and_totalled_separately() {
    let s = Provider::SnapTrade;
    let mut shop = valued(position(s, "s-q", Some("questrade"), "SHOP", "3"), "300", None);
    shop.currency = Currency::parse("CAD").unwrap();
    let usd_shop = valued(position(s, "s-q", Some("questrade"), "SHOP", "1"), "75", None);
    let holdings = Holdings {
        accounts: vec![],
        positions: vec![shop, usd_shop, position(s, "s-q", Some("questrade"), "XYZ", "1")],
        balances: vec![
            cash(s, "s-q", None, "CAD", "50"),
            cash(s, "s-q", None, "btc", "0.001"),
            cash(s, "s-q", None, "USD", "5"),
        ],
    };
    let merged = merge_portfolios(vec![ok(s, holdings)], &BOTH);
    let shop_lines: Vec<&str> =
        merged.consolidated.iter().filter(|l| l.security_key == "SHOP").map(|l| l.currency.as_str()).collect();
    assert_eq!(shop_lines, ["CAD", "USD"]);
    let totals: Vec<(&str, Decimal, Decimal, Decimal, usize)> = merged
        .totals
        .iter()
        .map(|t| (t.currency.as_str(), t.positions_value, t.cash, t.total, t.unvalued_positions))
        .collect();
    assert_eq!(
        totals,
        [
            ("BTC", dec("0"), dec("0.001"), dec("0.001"), 0),
            ("CAD", dec("300"), dec("50"), dec("350"), 0),
            ("USD", dec("75"), dec("5"), dec("80"), 1),
        ]
    );
}

#[test]
fn rows_without_an_account_get_a_placeholder_account_and_are_never_dropped() {
    let s = Provider::SnapTrade;
    let holdings = Holdings {
        positions: vec![position(s, "orphan", Some("webull"), "TSLA", "1")],
        balances: vec![cash(s, "orphan", None, "USD", "1")],
        ..Holdings::default()
    };
    let merged = merge_portfolios(vec![ok(s, holdings)], &BOTH);
    assert_eq!(merged.by_account.len(), 1);
    let orphan = &merged.by_account[0];
    assert_eq!(
        (orphan.account.account_id.as_str(), orphan.account.institution.as_ref().map(|s| s.as_str())),
        ("orphan", Some("webull"))
    );
    assert_eq!((orphan.positions.len(), orphan.cash.len()), (1, 1));
}

#[test]
fn by_account_keeps_every_position_with_its_provider_institution_and_account() {
    let merged = merge_portfolios(
        vec![ok(Provider::SnapTrade, snaptrade_schwab()), ok(Provider::Plaid, plaid_schwab_and_chase())],
        &[],
    );
    let rows: Vec<(Option<&str>, Provider, &str, usize)> = merged
        .by_account
        .iter()
        .map(|a| {
            (
                a.account.institution.as_ref().map(|s| s.as_str()),
                a.account.provider,
                a.account.account_id.as_str(),
                a.positions.len(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (Some("charles_schwab"), Provider::SnapTrade, "s-schwab", 1),
            (Some("charles_schwab"), Provider::Plaid, "p-schwab", 1),
            (Some("chase"), Provider::Plaid, "p-chase", 1),
        ]
    );
}

#[test]
fn implausible_or_mislabelled_holdings_fail_that_provider_loudly() {
    let mut huge = snaptrade_schwab();
    huge.positions[0].quantity = Quantity(MAX_PLAUSIBLE_MAGNITUDE + Decimal::ONE);
    let merged =
        merge_portfolios(vec![ok(Provider::SnapTrade, huge), ok(Provider::Plaid, plaid_schwab_and_chase())], &BOTH);
    let ProviderStatus::Failed { error } = &report(&merged, Provider::SnapTrade).status else {
        panic!("expected failed")
    };
    assert_eq!(error.code, "implausible_holdings");
    assert!(error.message.contains("implausible quantity"), "{}", error.message);
    assert_eq!(line(&merged, "AAPL").sources[0].provider, Provider::Plaid, "fail-open once SnapTrade is refused");
    let merged = merge_portfolios(vec![ok(Provider::Plaid, snaptrade_schwab())], &BOTH);
    let ProviderStatus::Failed { error } = &report(&merged, Provider::Plaid).status else { panic!("expected failed") };
    assert_eq!(error.code, "inconsistent_holdings");
    assert_eq!(MAX_PLAUSIBLE_MAGNITUDE, Decimal::from(1_000_000_000_000_000_000u64));
}

#[test]
fn provider_results_read_from_the_per_provider_endpoint_json() {
    let results: Vec<ProviderResult> = serde_json::from_value(json!([
        {"status": "ok", "provider": "snaptrade", "last_updated": AS_OF,
         "cache_info": {"age_hours": null, "ttl_hours": 24, "from_cache": false},
         "holdings": {"accounts": [], "balances": [], "positions": [{
            "provider": "snaptrade", "account_id": "a1", "institution": "charles_schwab", "security_key": "AAPL",
            "ticker": "AAPL", "name": "Apple", "kind": "equity", "quantity": "1.5", "price": "190",
            "market_value": "285", "cost_basis": null, "currency": "USD", "as_of": AS_OF}]}},
        {"status": "failed", "provider": "plaid", "error": {"code": "provider_login_required", "message": "log in again"}}
    ]))
    .unwrap();
    let merged = merge_portfolios(results, &BOTH);
    assert_eq!(line(&merged, "AAPL").quantity, Quantity(dec("1.5")));
    let json = serde_json::to_value(&merged).unwrap();
    assert_eq!(json["consolidated"][0]["quantity"], "1.5");
    assert_eq!(
        json["totals"][0],
        json!({"currency": "USD", "positions_value": "285", "cash": "0", "total": "285", "unvalued_positions": 0})
    );
    assert_eq!(json["providers"][0]["provider"], "schwab");
    assert_eq!(json["providers"][1]["provider"], "ibkr_flex");
    assert_eq!(json["providers"][2]["status"], "ok");
    assert_eq!(
        json["providers"][3],
        json!({
            "provider": "plaid", "status": "failed", "error": {"code": "provider_login_required", "message": "log in again"},
            "last_updated": null, "cache_info": null, "routed_away": [], "fail_open": [], "available": true,
            "accounts": 0, "positions": 0, "balances": 0
        })
    );
    assert_eq!(serde_json::from_value::<MergedPortfolio>(json).unwrap(), merged);
}

#[test]
fn provider_failure_carries_any_error_code_and_message() {
    let err = crate::coverage::RoutingError::EmptyInstitution;
    assert_eq!(
        ProviderFailure::from_error(&err),
        ProviderFailure { code: "institution_required".into(), message: err.to_string() }
    );
    assert_eq!(provider_priority(Provider::Schwab), 0, "a direct feed is the broker's own record");
    assert_eq!(provider_priority(Provider::IbkrFlex), 1);
    assert_eq!(provider_priority(Provider::SnapTrade), 2);
    assert_eq!(provider_priority(Provider::Plaid), 3);
    for (rank, provider) in PROVIDER_PRIORITY.into_iter().enumerate() {
        assert_eq!(provider_priority(provider), rank);
    }
}

#[test]
fn a_provider_supplies_a_merge_only_when_configured_fetched_and_not_in_need_of_repair() {
    let healthy = Supply { configured: true, last_fetch_failed: false, needs_repair: false, stale: false };
    assert!(healthy.is_available());
    assert!(!Supply { configured: false, ..healthy }.is_available());
    assert!(!Supply { last_fetch_failed: true, ..healthy }.is_available());
    assert!(!Supply { needs_repair: true, ..healthy }.is_available(), "a login to redo yields to the next copy");
    assert!(!Supply { stale: true, ..healthy }.is_available(), "a statement past its TTL yields to the next copy");
    let old = crate::cache::CacheInfo::cached(0, 27 * 3_600, 26);
    let fresh = crate::cache::CacheInfo::cached(0, 25 * 3_600, 26);
    assert!(super::stale_yields(Provider::IbkrFlex, &old) && !super::stale_yields(Provider::IbkrFlex, &fresh));
    assert!(!super::stale_yields(Provider::SnapTrade, &crate::cache::CacheInfo::cached(0, 99 * 3_600, 24)));
}
