use super::*;
use crate::config::DataKey;
use crate::domain::{Position, SecurityKind, UserId};
use crate::test_fixtures::{account, cash, dec, position, slug, valued};
use rust_decimal::Decimal;

const NOW: i64 = 1_800_000_000;

fn key(byte: u8) -> DataKey {
    DataKey { id: "k1".into(), bytes: [byte; 32] }
}

fn request(dry_run: bool) -> MigrationRequest {
    parse_request(MigrationBody {
        institution: Some("Charles Schwab".into()),
        from_provider: Some("plaid".into()),
        to_provider: Some("schwab".into()),
        dry_run: Some(dry_run),
        confirm: None,
    })
    .unwrap()
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn held(provider: Provider, rows: &[(&str, &str, &str)]) -> Holdings {
    let schwab = Some("charles_schwab");
    let mut holdings = Holdings::default();
    for (account_id, ticker, quantity) in rows {
        if !holdings.accounts.iter().any(|a| a.account_id == *account_id) {
            holdings.accounts.push(account(provider, account_id, schwab));
        }
        holdings.positions.push(position(provider, account_id, schwab, ticker, quantity));
    }
    holdings
}

fn connection(provider: Provider, id: &str, status: HealthStatus, data_ok: bool) -> MigrationConnection {
    MigrationConnection {
        connection_id: format!("{}:{id}", provider.as_str()),
        external_id: id.into(),
        provider,
        institution_slug: Some("charles_schwab".into()),
        institution: Some("Charles Schwab".into()),
        status,
        data_ok,
        reason: (status != HealthStatus::Ok).then(|| "data_stale".into()),
    }
}

#[test]
fn a_request_resolves_the_institution_defaults_to_a_dry_run_and_refuses_one_provider_twice() {
    let parsed = request(true);
    assert_eq!(parsed.institution.as_str(), "charles_schwab");
    let body = MigrationBody {
        institution: Some("charles_schwab".into()),
        from_provider: Some("snaptrade".into()),
        to_provider: Some("plaid".into()),
        ..MigrationBody::default()
    };
    assert!(parse_request(body.clone()).unwrap().dry_run, "a dry run unless told otherwise");
    let same = MigrationBody { to_provider: Some("snaptrade".into()), ..body.clone() };
    assert_eq!(parse_request(same).unwrap_err().code(), "migration_same_provider");
    let missing = MigrationBody { institution: None, ..body.clone() };
    assert_eq!(parse_request(missing).unwrap_err().code(), "invalid_input");
    let long = MigrationBody { institution: Some("x".repeat(101)), ..body.clone() };
    assert_eq!(parse_request(long).unwrap_err().code(), "invalid_input");
    let token = MigrationBody { confirm: Some("c".repeat(2_049)), ..body.clone() };
    assert_eq!(parse_request(token).unwrap_err().code(), "invalid_input");
    let unknown = MigrationBody { from_provider: Some("robinhood".into()), ..body };
    assert_eq!(parse_request(unknown).unwrap_err().http_status(), 400);
}

#[test]
fn the_gate_needs_a_target_connection_ok_with_sound_data() {
    let schwab = slug("charles_schwab");
    let missing = gate_target(&[], Provider::Schwab, &schwab).unwrap_err();
    assert_eq!((missing.code(), missing.http_status()), ("migration_target_missing", 409));
    assert!(
        gate_target(&[connection(Provider::Schwab, "s1", HealthStatus::Ok, true)], Provider::Schwab, &schwab).is_ok()
    );
    for (status, data_ok) in [
        (HealthStatus::Ok, false),
        (HealthStatus::Degraded, false),
        (HealthStatus::ExpiresSoon, true),
        (HealthStatus::NeedsRepair, false),
    ] {
        let refused =
            gate_target(&[connection(Provider::Schwab, "s1", status, data_ok)], Provider::Schwab, &schwab).unwrap_err();
        assert_eq!(refused.code(), "migration_target_unhealthy", "{status:?}");
        assert_eq!(refused.details().unwrap()["connections"][0]["connection_id"], "schwab:s1");
    }
}

#[test]
fn exactly_one_connection_of_the_old_provider_must_match() {
    let one = connection(Provider::Plaid, "item-1", HealthStatus::Ok, true);
    assert_eq!(single_candidate(vec![one.clone()]).unwrap(), one);
    let none = single_candidate(vec![]).unwrap_err();
    assert_eq!(
        (none.code(), none.details().unwrap()["candidates"].as_array().unwrap().len()),
        ("migration_no_candidate", 0)
    );
    let two = single_candidate(vec![one.clone(), connection(Provider::Plaid, "item-2", HealthStatus::Ok, true)]);
    let two = two.unwrap_err();
    assert_eq!(two.code(), "migration_several_candidates");
    assert_eq!(two.details().unwrap()["candidates"][1]["external_id"], "item-2");
    let mut elsewhere = one.clone();
    elsewhere.institution_slug = Some("chase".into());
    let all = [one.clone(), elsewhere, connection(Provider::Schwab, "s1", HealthStatus::Ok, true)];
    assert_eq!(connections_of(&all, Provider::Plaid, &slug("charles_schwab")), vec![one]);
}

#[test]
fn quantities_are_summed_per_security_across_accounts_and_compared_within_the_tolerance() {
    let from = held(Provider::Plaid, &[("p1", "AAPL", "10"), ("p2", "VOO", "2.5")]);
    let to = held(Provider::Schwab, &[("s1", "AAPL", "4"), ("s2", "AAPL", "6.00005"), ("s1", "VOO", "2.50")]);
    let compared = compare(&from, &to, &slug("charles_schwab"), "item-1");
    assert!(compared.comparison.equal, "{:?}", compared.comparison.differences);
    assert_eq!(compared.comparison.tolerance, dec("0.0001"));
    let aapl = &compared.totals_after.securities[0];
    assert_eq!((aapl.security_key.as_str(), aapl.quantity), ("AAPL", dec("10.00005")));
    let beyond = held(Provider::Schwab, &[("s1", "AAPL", "10.00011"), ("s1", "VOO", "2.5")]);
    let compared = compare(&from, &beyond, &slug("charles_schwab"), "item-1");
    assert_eq!(compared.comparison.differences.len(), 1);
    let difference = &compared.comparison.differences[0];
    assert_eq!((difference.kind, difference.difference), (DifferenceKind::QuantityDiffers, dec("0.00011")));
}

#[test]
fn every_difference_is_listed_with_the_missing_side_null() {
    let from = held(Provider::Plaid, &[("p1", "AAPL", "10"), ("p1", "MSFT", "1")]);
    let to = held(Provider::SnapTrade, &[("s1", "AAPL", "9"), ("s1", "BTC", "0.05")]);
    let compared = compare(&from, &to, &slug("charles_schwab"), "item-1");
    let listed: Vec<(&str, DifferenceKind, Option<Decimal>, Option<Decimal>)> = compared
        .comparison
        .differences
        .iter()
        .map(|d| (d.security_key.as_str(), d.kind, d.from_quantity, d.to_quantity))
        .collect();
    assert_eq!(
        listed,
        [
            ("AAPL", DifferenceKind::QuantityDiffers, Some(dec("10")), Some(dec("9"))),
            ("BTC", DifferenceKind::MissingAtSource, None, Some(dec("0.05"))),
            ("MSFT", DifferenceKind::MissingAtTarget, Some(dec("1")), None),
        ]
    );
    assert!(!compared.comparison.equal);
}

fn cash_position(provider: Provider, account_id: &str, ticker: &str, quantity: &str) -> Position {
    let mut p = position(provider, account_id, Some("charles_schwab"), ticker, quantity);
    p.kind = SecurityKind::Cash;
    p
}

#[test]
fn cash_is_excluded_even_when_only_one_side_calls_a_fund_cash() {
    let mut from = held(Provider::Plaid, &[("p1", "AAPL", "10")]);
    from.positions.push(cash_position(Provider::Plaid, "p1", "SWVXX", "1500"));
    from.balances.push(cash(Provider::Plaid, "p1", Some("charles_schwab"), "USD", "2500.75"));
    let mut to = held(Provider::SnapTrade, &[("s1", "AAPL", "10"), ("s1", "SWVXX", "1499")]);
    to.balances.push(cash(Provider::SnapTrade, "s1", Some("charles_schwab"), "USD", "4000.75"));
    let compared = compare(&from, &to, &slug("charles_schwab"), "item-1");
    assert!(compared.comparison.equal, "{:?}", compared.comparison.differences);
    assert_eq!(compared.totals_before.cash[&crate::Currency::parse("USD").unwrap()], dec("4000.75"));
    assert_eq!(compared.totals_after.positions, 2, "the fund stays a position in the totals it is reported in");
}

#[test]
fn other_institutions_and_unknown_values_stay_out_of_the_totals_or_null() {
    let mut from = held(Provider::Plaid, &[("p1", "AAPL", "10")]);
    from.positions[0] = valued(from.positions[0].clone(), "1892.50", None);
    from.positions.push(position(Provider::Plaid, "p9", Some("chase"), "JPM", "8"));
    let totals = institution_totals(&from, &slug("charles_schwab"));
    assert_eq!((totals.accounts, totals.positions, totals.securities.len()), (1, 1, 1));
    assert_eq!(totals.market_value[0].amount, Some(dec("1892.50")));
    from.positions.push(position(Provider::Plaid, "p1", Some("charles_schwab"), "XYZQ", "3"));
    let totals = institution_totals(&from, &slug("charles_schwab"));
    assert_eq!((totals.market_value[0].amount, totals.market_value[0].unpriced_positions), (None, 1), "never 0");
}

#[test]
fn option_symbols_match_across_their_padding() {
    let from = held(Provider::Plaid, &[("p1", "AAPL", "1")]);
    let mut from = from;
    from.positions[0].security_key = "AAPL271217C00240000".into();
    let mut to = held(Provider::SnapTrade, &[("s1", "AAPL", "1")]);
    to.positions[0].security_key = "aapl  271217C00240000".into();
    assert!(compare(&from, &to, &slug("charles_schwab"), "x").comparison.equal);
}

#[test]
fn the_fingerprint_binds_quantities_and_the_connection_not_prices() {
    let schwab = slug("charles_schwab");
    let from = held(Provider::Plaid, &[("p1", "AAPL", "10")]);
    let to = held(Provider::Schwab, &[("s1", "AAPL", "10.0")]);
    let base = compare(&from, &to, &schwab, "item-1").fingerprint;
    let mut repriced = to.clone();
    repriced.positions[0] = valued(repriced.positions[0].clone(), "1999", None);
    assert_eq!(compare(&from, &repriced, &schwab, "item-1").fingerprint, base, "prices move; quantities bind");
    assert_ne!(compare(&from, &to, &schwab, "item-2").fingerprint, base);
    let moved = held(Provider::Schwab, &[("s1", "AAPL", "10.00001")]);
    assert_ne!(compare(&from, &moved, &schwab, "item-1").fingerprint, base, "even within the tolerance");
}

#[test]
fn a_confirm_token_binds_user_institution_providers_fingerprint_and_ten_minutes() {
    let (k, alice, req) = (key(7), user("alice"), request(false));
    let token = issue_confirm(&k, &alice, &req, "fp", NOW);
    let claims = check_confirm(&k, Some(&token), &alice, &req, NOW + CONFIRM_TTL_S - 1).unwrap();
    assert_eq!((claims.fingerprint.as_str(), claims.expires_at), ("fp", NOW + 600));
    let code = |result: Result<ConfirmClaims, MigrationError>| result.unwrap_err().code();
    assert_eq!(code(check_confirm(&k, None, &alice, &req, NOW)), "migration_confirm_required");
    assert_eq!(code(check_confirm(&k, Some(" "), &alice, &req, NOW)), "migration_confirm_required");
    assert_eq!(code(check_confirm(&k, Some(&token), &user("bob"), &req, NOW)), "migration_confirm_invalid");
    assert_eq!(code(check_confirm(&key(8), Some(&token), &alice, &req, NOW)), "migration_confirm_invalid");
    let reversed = MigrationRequest { from_provider: req.to_provider, to_provider: req.from_provider, ..req.clone() };
    assert_eq!(code(check_confirm(&k, Some(&token), &alice, &reversed, NOW)), "migration_confirm_invalid");
    let elsewhere = MigrationRequest { institution: slug("chase"), ..req.clone() };
    assert_eq!(code(check_confirm(&k, Some(&token), &alice, &elsewhere, NOW)), "migration_confirm_invalid");
    let expired = check_confirm(&k, Some(&token), &alice, &req, NOW + CONFIRM_TTL_S).unwrap_err();
    assert_eq!((expired.code(), expired.http_status()), ("migration_confirm_expired", 409));
    let mut forged = token.clone();
    forged.replace_range(5..6, if &token[5..6] == "A" { "B" } else { "A" });
    assert_eq!(code(check_confirm(&k, Some(&forged), &alice, &req, NOW)), "migration_confirm_invalid");
    assert_eq!(code(check_confirm(&k, Some("mc1.x"), &alice, &req, NOW)), "migration_confirm_invalid");
}

#[test]
fn an_execute_is_ready_only_when_equal_and_unchanged_since_the_dry_run() {
    let schwab = slug("charles_schwab");
    let from = held(Provider::Plaid, &[("p1", "AAPL", "10")]);
    let compared = compare(&from, &held(Provider::Schwab, &[("s1", "AAPL", "10")]), &schwab, "item-1");
    let claims = |fingerprint: &str| ConfirmClaims {
        user: "alice".into(),
        institution: "charles_schwab".into(),
        from: "plaid".into(),
        to: "schwab".into(),
        fingerprint: fingerprint.into(),
        expires_at: NOW,
    };
    assert!(ready_to_remove(&compared, &claims(&compared.fingerprint)).is_ok());
    assert_eq!(ready_to_remove(&compared, &claims("older")).unwrap_err().code(), "migration_changed");
    let moved = compare(&from, &held(Provider::Schwab, &[("s1", "AAPL", "9")]), &schwab, "item-1");
    let refused = ready_to_remove(&moved, &claims(&moved.fingerprint)).unwrap_err();
    assert_eq!(refused.code(), "migration_holdings_differ");
    assert_eq!(refused.details().unwrap()["differences"][0]["security_key"], "AAPL");
}

#[test]
fn an_execute_settles_by_the_step_that_failed_and_says_whether_the_old_connection_is_gone() {
    let schwab = slug("charles_schwab");
    let before = institution_totals(&held(Provider::Plaid, &[("p1", "AAPL", "10")]), &schwab);
    let same = institution_totals(&held(Provider::Schwab, &[("s1", "AAPL", "10")]), &schwab);
    let less = institution_totals(&held(Provider::Schwab, &[("s1", "AAPL", "9")]), &schwab);
    let refused = settle(false, &before, None);
    assert_eq!(
        (refused.status, refused.failed_step, refused.old_connection_removed),
        (MigrationStatus::Failed, Some(MigrationStep::Remove), false)
    );
    assert!(state_sentence(&refused, Provider::Plaid, Provider::Schwab).contains("both connections are in place"));
    let unread = settle(true, &before, Some(None));
    assert_eq!((unread.failed_step, unread.old_connection_removed), (Some(MigrationStep::Reread), true));
    let differs = settle(true, &before, Some(Some(&less)));
    assert_eq!(differs.failed_step, Some(MigrationStep::Verify));
    assert_eq!(differs.verification.unwrap().differences.len(), 1);
    let done = settle(true, &before, Some(Some(&same)));
    assert_eq!((done.status, done.failed_step), (MigrationStatus::Completed, None));
    for status in [MigrationStatus::Removing, MigrationStatus::Completed, MigrationStatus::Failed] {
        assert_eq!(MigrationStatus::from_name(status.as_str()), Some(status));
    }
    for step in [MigrationStep::Remove, MigrationStep::Reread, MigrationStep::Verify] {
        assert_eq!(MigrationStep::from_name(step.as_str()), Some(step));
    }
}
