//! Statements read into holdings: accounts, positions with lots, cash, and every query problem.

use super::tests::fixture;
use super::*;
use crate::domain::{Position, Provider, SecurityKind};
use crate::ErrorCode;
use rust_decimal::Decimal;
use std::str::FromStr;

const AT: i64 = 1_773_480_000;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn read(name: &str) -> Statement {
    read_statement(&fixture(name), "conn-1", AT).unwrap()
}

fn key<'h>(statement: &'h Statement, key: &str) -> &'h Position {
    statement.holdings.positions.iter().find(|p| p.security_key == key).unwrap_or_else(|| panic!("no {key}"))
}

/// A one-account statement around `open_positions` and `cash_report` rows.
fn statement_with(open_positions: &str, cash_report: &str) -> String {
    format!(
        r#"<FlexQueryResponse type="AF"><FlexStatements count="1"><FlexStatement accountId="U1" toDate="2026-03-13">
        <AccountInformation currency="USD" accountType="Individual" /><OpenPositions>{open_positions}</OpenPositions>
        <CashReport>{cash_report}</CashReport><Trades /><CashTransactions /></FlexStatement></FlexStatements>
        </FlexQueryResponse>"#
    )
}

fn error_of(body: &str) -> FlexError {
    read_statement(body.as_bytes(), "conn-1", AT).unwrap_err()
}

#[test]
fn two_accounts_are_read_with_their_names_masks_and_base_currencies() {
    let statement = read("ok-two-accounts.xml");
    assert_eq!(statement.statement_date, "2026-03-13", "the latest toDate");
    assert_eq!(statement.generated_at.as_deref(), Some("2026-03-14T09:15:42"));
    let accounts = &statement.holdings.accounts;
    let shown: Vec<_> = accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_deref(), a.number_mask.as_deref(), a.account_type.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("U1234567", Some("IBKR Individual ···4567"), Some("4567"), Some("Individual")),
            ("U7654321", Some("Retirement & Savings"), Some("4321"), Some("Joint")),
        ]
    );
    for account in accounts {
        assert_eq!(account.provider, Provider::IbkrFlex);
        assert_eq!(account.connection_id.as_deref(), Some("conn-1"));
        assert_eq!(account.institution.as_ref().unwrap().as_str(), IBKR_INSTITUTION);
        assert_eq!(account.institution_name.as_deref(), Some("Interactive Brokers"));
    }
    assert_eq!(accounts[1].currency.as_ref().unwrap().as_str(), "CAD");
    assert!(statement.holdings.positions.iter().all(|p| p.as_of == AT && p.provider == Provider::IbkrFlex));
    assert!(statement.holdings.balances.iter().all(|b| b.as_of == AT && b.institution == accounts[0].institution));
}

#[test]
fn positions_are_the_summary_rows_with_their_lots_beneath() {
    let statement = read("ok-two-accounts.xml");
    let keys: Vec<&str> = statement.holdings.positions.iter().map(|p| p.security_key.as_str()).collect();
    assert_eq!(keys, ["SYNT", "SYNT  260619C00160000", "SYNE", "SHRT", "SETF"], "LOT rows are never positions");
    let synt = key(&statement, "SYNT");
    assert_eq!(
        (synt.kind, synt.quantity.0, synt.price, synt.market_value),
        (SecurityKind::Equity, dec("25"), Some(dec("150.1")), Some(dec("3752.5")))
    );
    assert_eq!(
        (synt.cost_basis, synt.ticker.as_ref().unwrap().as_str(), synt.name.as_deref()),
        (Some(dec("3010")), "SYNT", Some("SYNTH CORP"))
    );
    let detail = synt.detail.as_deref().unwrap();
    assert_eq!(
        (detail.conid.as_deref(), detail.isin.as_deref(), detail.cusip.as_deref()),
        (Some("11112222"), Some("US0000000AA1"), Some("0000000AA"))
    );
    let lots: Vec<_> = detail.lots.iter().map(|l| (l.quantity.0, l.cost_basis, l.opened_at.as_deref())).collect();
    assert_eq!(
        lots,
        [
            (dec("15"), Some(dec("1806")), Some("2025-06-02T10:31:07")),
            (dec("10"), Some(dec("1204")), Some("2026-01-15T10:31:07"))
        ]
    );
    let setf = key(&statement, "SETF");
    assert_eq!((setf.kind, setf.cost_basis), (SecurityKind::Etf, None), "an empty cost basis is unknown, never 0");
    assert_eq!(setf.detail.as_deref().unwrap().lots[0].opened_at, None, "MULTI is no date");
    assert_eq!(setf.name.as_deref(), Some("SYNTH S&P 500 ETF"));
}

#[test]
fn shorts_are_negative_and_options_keep_their_multiplier_and_occ_key() {
    let statement = read("ok-two-accounts.xml");
    let shrt = key(&statement, "SHRT");
    assert_eq!(
        (shrt.quantity.0, shrt.market_value, shrt.cost_basis),
        (dec("-30"), Some(dec("-367.5")), Some(dec("-420")))
    );
    assert_eq!(shrt.account_id, "U7654321");
    let option = key(&statement, "SYNT  260619C00160000");
    assert_eq!((option.kind, option.ticker.as_ref(), option.quantity.0), (SecurityKind::Option, None, dec("-1")));
    assert_eq!((option.market_value, option.cost_basis), (Some(dec("-420")), Some(dec("-510"))));
    let detail = option.detail.as_deref().unwrap();
    assert_eq!((detail.multiplier, detail.fx_rate_to_base), (Some(dec("100")), Some(dec("1"))));
    let syne = key(&statement, "SYNE");
    assert_eq!((syne.currency.as_str(), syne.detail.as_deref().unwrap().fx_rate_to_base), ("EUR", Some(dec("1.0862"))));
}

#[test]
fn cash_is_one_balance_per_currency_and_never_the_base_summary() {
    let statement = read("ok-two-accounts.xml");
    let cash: Vec<_> =
        statement.holdings.balances.iter().map(|b| (b.account_id.as_str(), b.currency.as_str(), b.amount)).collect();
    assert_eq!(
        cash,
        [
            ("U1234567", "USD", dec("4120.02")),
            ("U1234567", "EUR", dec("1012.70")),
            ("U7654321", "CAD", dec("-250.75")),
            ("U7654321", "USD", dec("1647.76")),
        ]
    );
    assert!(statement.holdings.balances.iter().all(|b| b.buying_power.is_none()));
}

#[test]
fn without_a_currency_breakout_the_base_summary_is_the_cash() {
    let statement = read("ok-day-first-base-summary-only.xml");
    let cash: Vec<_> = statement.holdings.balances.iter().map(|b| (b.currency.as_str(), b.amount)).collect();
    assert_eq!(cash, [("EUR", dec("1234.56"))]);
}

#[test]
fn day_first_dates_separators_parentheses_and_kinds_are_read_exactly() {
    let statement = read("ok-day-first-base-summary-only.xml");
    assert_eq!(statement.statement_date, "2025-10-14");
    assert_eq!(statement.generated_at.as_deref(), Some("2025-10-15T08:01:02-04:00"));
    let bond = key(&statement, "isin:DE0001102341");
    assert_eq!(
        (bond.kind, bond.quantity.0, bond.market_value),
        (SecurityKind::FixedIncome, dec("10000"), Some(dec("9812.50")))
    );
    assert_eq!(bond.cost_basis, Some(dec("-10050.00")), "(10,050.00) is negative");
    let future = key(&statement, "conid:700000001");
    assert_eq!((future.kind, future.cost_basis), (SecurityKind::Derivative, Some(dec("128500.5"))));
    let btc = key(&statement, "BTC");
    assert_eq!(
        (btc.kind, btc.ticker.as_ref(), btc.market_value, btc.cost_basis),
        (SecurityKind::Crypto, None, None, None)
    );
    // Decimal keeps 28 digits: the text's own digits, never an f64's 0.1.
    assert_eq!(btc.quantity.0, dec("0.1000000000000000055511151231"));
    assert_ne!(btc.quantity.0, dec("0.1"));
    assert_eq!(key(&statement, "SYNFUND").kind, SecurityKind::MutualFund);
    assert!(statement.holdings.positions.iter().all(|p| p.detail.as_deref().unwrap().lots.is_empty()));
}

#[test]
fn empty_sections_unknown_elements_and_compact_dates_are_fine() {
    let statement = read("ok-compact-dates-empty-sections.xml");
    assert_eq!(statement.statement_date, "2026-03-13");
    assert_eq!(statement.generated_at.as_deref(), Some("2026-03-14T09:15:42"));
    assert_eq!(statement.holdings.accounts.len(), 1);
    assert_eq!(statement.holdings.accounts[0].name.as_deref(), Some("IBKR Individual ···0001"));
    assert!(statement.holdings.positions.is_empty() && statement.holdings.balances.is_empty());
}

#[test]
fn each_missing_section_is_named() {
    let full = [
        "<AccountInformation currency=\"USD\" />",
        "<OpenPositions />",
        "<CashReport />",
        "<Trades />",
        "<CashTransactions />",
    ];
    for (index, section) in
        ["AccountInformation", "OpenPositions", "CashReport", "Trades", "CashTransactions"].into_iter().enumerate()
    {
        let sections: String = full.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, s)| *s).collect();
        let body = format!(
            r#"<FlexQueryResponse type="AF"><FlexStatements count="1"><FlexStatement accountId="U1" toDate="2026-03-13">{sections}</FlexStatement></FlexStatements></FlexQueryResponse>"#
        );
        let error = error_of(&body);
        assert_eq!(error, FlexError::Query(QueryProblem::SectionMissing { section }));
        assert_eq!(error.code(), "ibkr_section_missing");
        assert!(error.needs_repair());
    }
    let error = read_statement(&fixture("err-no-cash-report.xml"), "c", 0).unwrap_err();
    assert!(error.to_string().contains("Cash Report"), "{error}");
}

#[test]
fn lot_rows_alone_ask_for_the_summary_option() {
    let error = read_statement(&fixture("err-lot-only.xml"), "c", 0).unwrap_err();
    assert_eq!(error, FlexError::Query(QueryProblem::SummaryMissing));
    assert_eq!(error.code(), "ibkr_summary_missing");
}

#[test]
fn a_statement_that_disagrees_with_itself_is_malformed() {
    let lot = |conid: &str, position: &str| {
        format!(
            r#"<OpenPosition currency="USD" assetCategory="STK" symbol="A" conid="{conid}" position="{position}" levelOfDetail="LOT" />"#
        )
    };
    let summary = r#"<OpenPosition currency="USD" assetCategory="STK" symbol="A" conid="1" position="25" levelOfDetail="summary" />"#;
    let disagree = read_statement(&fixture("err-lots-disagree.xml"), "c", 0).unwrap_err();
    for error in [
        disagree,
        error_of(&statement_with(&format!("{summary}{}", lot("2", "25")), "")),
        error_of(&statement_with(&format!("{summary}{summary}"), "")),
        error_of(&statement_with(
            &format!("{summary}<OpenPosition currency=\"USD\" conid=\"3\" position=\"1\" />"),
            "",
        )),
        error_of(&statement_with(&format!("{summary}{}", lot("1", "x")), "")),
        read_statement(&fixture("err-count-mismatch.xml"), "c", 0).unwrap_err(),
        error_of(&statement_with(
            "",
            r#"<CashReportCurrency currency="USD" endingCash="1" /><CashReportCurrency currency="usd" endingCash="2" />"#,
        )),
    ] {
        assert_eq!(error.code(), "provider_malformed_response", "{error:?}");
    }
    let lots_in_order = format!("{summary}{}{}", lot("1", "20"), lot("1", "5"));
    assert!(read_statement(statement_with(&lots_in_order, "").as_bytes(), "c", 0).is_ok());
}

#[test]
fn missing_or_bad_required_numbers_name_the_attribute() {
    let row = |attrs: &str| {
        statement_with(
            &format!(r#"<OpenPosition currency="USD" assetCategory="STK" symbol="A" conid="1" {attrs} />"#),
            "",
        )
    };
    let cases = [
        (row(""), "position"),
        (row(r#"position="1.2.3""#), "position"),
        (row(r#"position="1" markPrice="12,34""#), "markPrice"),
        (row(r#"position="1" costBasisMoney="1e400""#), "costBasisMoney"),
        (row(r#"position="(-1)""#), "position"),
        (statement_with("", r#"<CashReportCurrency currency="USD" />"#), "endingCash"),
        (statement_with("", r#"<CashReportCurrency currency="USD" endingCash="abc" />"#), "endingCash"),
    ];
    for (body, attribute) in cases {
        let error = error_of(&body);
        assert!(
            matches!(&error, FlexError::Malformed { detail } if detail.contains(attribute)),
            "{attribute}: {error:?}"
        );
    }
}

#[test]
fn root_type_count_and_account_ids_are_checked() {
    let tcf = r#"<FlexQueryResponse type="TCF"><FlexStatements count="1"><FlexStatement accountId="U1"><TradeConfirms /></FlexStatement></FlexStatements></FlexQueryResponse>"#;
    assert_eq!(error_of(tcf), FlexError::Query(QueryProblem::NotActivity));
    let none = r#"<FlexQueryResponse type="AF"><FlexStatements count="0" /></FlexQueryResponse>"#;
    assert!(matches!(error_of(none), FlexError::Malformed { detail } if detail.contains("no account")));
    for bad in ["", "U-1", "U1234567890123456789012345678901234"] {
        let body = statement_with("", "").replace(r#"accountId="U1""#, &format!(r#"accountId="{bad}""#));
        assert_eq!(error_of(&body).code(), "provider_malformed_response", "{bad:?}");
    }
    assert_eq!(error_of("<Report />").code(), "provider_malformed_response");
    let truncated = &fixture("ok-two-accounts.xml")[..2000];
    assert_eq!(read_statement(truncated, "c", 0).unwrap_err().code(), "provider_malformed_response");
}

#[test]
fn slash_dates_are_read_once_the_document_tells_their_order() {
    let ambiguous = read_statement(&fixture("err-ambiguous-dates.xml"), "c", 0).unwrap_err();
    assert_eq!(ambiguous, FlexError::Query(QueryProblem::AmbiguousDates));
    assert_eq!(ambiguous.code(), "ibkr_date_format_ambiguous");
    let month_first = statement_with(
        r#"<OpenPosition currency="USD" symbol="A" conid="1" position="1" levelOfDetail="SUMMARY" />
           <OpenPosition currency="USD" symbol="A" conid="1" position="1" levelOfDetail="LOT" openDateTime="03/04/2026;101500" />"#,
        "",
    )
    .replace(r#"toDate="2026-03-13""#, r#"toDate="03/13/2026""#);
    let statement = read_statement(month_first.as_bytes(), "c", 0).unwrap();
    assert_eq!(statement.statement_date, "2026-03-13");
    let lot = &statement.holdings.positions[0].detail.as_deref().unwrap().lots[0];
    assert_eq!(lot.opened_at.as_deref(), Some("2026-03-04T10:15:00"), "03/04 read as March 4 because of 03/13");
    let both = month_first.replace("03/04/2026", "13/04/2026");
    assert_eq!(error_of(&both).code(), "provider_malformed_response");
    let symmetric = statement_with("", "").replace(r#"toDate="2026-03-13""#, r#"toDate="03/03/2026""#);
    assert_eq!(read_statement(symmetric.as_bytes(), "c", 0).unwrap().statement_date, "2026-03-03");
}

#[test]
fn security_keys_fall_back_to_the_conid_when_the_symbol_is_unusable() {
    let row = |category: &str, symbol: &str| {
        format!(
            r#"<OpenPosition currency="USD" assetCategory="{category}" symbol="{symbol}" conid="{}" position="1" />"#,
            symbol.len()
        )
    };
    let long = "L".repeat(70);
    let rows = [
        row("OPT", "SYNT260619P00012500"),
        row("OPT", "P ASML 20260619 600 M"),
        row("STK", &long),
        row("WAR", "SYNT WAR"),
        row("FUND", "syfnd"),
    ]
    .concat();
    let statement = read_statement(statement_with(&rows, "").as_bytes(), "c", 0).unwrap();
    let keys: Vec<(&str, bool)> =
        statement.holdings.positions.iter().map(|p| (p.security_key.as_str(), p.ticker.is_some())).collect();
    assert_eq!(
        keys,
        [
            ("SYNT  260619P00012500", false),
            ("conid:21", false),
            ("conid:70", false),
            ("conid:8", false),
            ("SYFND", true)
        ]
    );
}
