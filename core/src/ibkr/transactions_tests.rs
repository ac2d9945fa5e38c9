//! Trades and cash transactions read into ledgers: the reference's samples to the last digit,
//! which rows count, cancellations, periods, ids and every malformed value.

use super::tests::fixture;
use super::*;
use crate::domain::Provider;
use crate::time::Date;
use crate::transactions::{transaction_id, Transaction, TransactionType as T};
use rust_decimal::Decimal;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// The reference's §3.6 Trades and §3.7 CashTransactions, verbatim.
const TRADES: &str = r#"<Trade accountId="U1234567" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="SYNT" conid="11112222"
    isin="US0000000AA1" tradeID="600000001" transactionID="900000001" ibExecID="0000e0d5.65f1a2b3.01.01"
    ibOrderID="700000001" reportDate="2026-03-13" tradeDate="2026-03-13" tradeTime="10:31:07"
    dateTime="2026-03-13;10:31:07" settleDateTarget="2026-03-14" transactionType="ExchTrade" exchange="NASDAQ"
    buySell="BUY" quantity="5" tradePrice="149.8" tradeMoney="749" proceeds="-749" ibCommission="-1"
    ibCommissionCurrency="USD" netCash="-750" closePrice="150.1" openCloseIndicator="O" notes="P"
    levelOfDetail="EXECUTION" orderType="LMT" isAPIOrder="N" />
  <Trade accountId="U1234567" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="SYNT" conid="11112222"
    tradeID="600000002" transactionID="900000002" tradeDate="2026-03-13" buySell="SELL" quantity="-2"
    tradePrice="151.0" proceeds="302" ibCommission="-1" netCash="301" fifoPnlRealized="61.2"
    openCloseIndicator="C" levelOfDetail="EXECUTION" />"#;

const CASH: &str = r#"<CashTransaction accountId="U1234567" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="SYNT"
    conid="11112222" isin="US0000000AA1" description="SYNT(US0000000AA1) CASH DIVIDEND USD 0.50 PER SHARE (Ordinary Dividend)"
    dateTime="2026-03-12;20:20:00" settleDate="2026-03-12" reportDate="2026-03-12" amount="12.50" type="Dividends"
    transactionID="910000001" levelOfDetail="DETAIL" code="" />
  <CashTransaction accountId="U1234567" currency="USD" fxRateToBase="1" assetCategory="STK" symbol="SYNT"
    conid="11112222" description="SYNT(US0000000AA1) CASH DIVIDEND USD 0.50 PER SHARE - US TAX"
    dateTime="2026-03-12;20:20:00" reportDate="2026-03-12" amount="-1.88" type="Withholding Tax"
    transactionID="910000002" levelOfDetail="DETAIL" />
  <CashTransaction accountId="U1234567" currency="EUR" fxRateToBase="1.0862" assetCategory="CASH"
    description="ELECTRONIC FUND TRANSFER" dateTime="2026-03-10" reportDate="2026-03-10" amount="1000"
    type="Deposits &amp; Withdrawals" transactionID="910000003" levelOfDetail="DETAIL" />"#;

/// A one-account statement of U1234567 over `period` (FlexStatement attributes) with these rows.
fn statement(period: &str, trades: &str, cash: &str) -> String {
    format!(
        r#"<FlexQueryResponse type="AF"><FlexStatements count="1"><FlexStatement accountId="U1234567" {period}>
        <AccountInformation accountId="U1234567" currency="USD" /><OpenPositions /><CashReport />
        <Trades>{trades}</Trades><CashTransactions>{cash}</CashTransactions></FlexStatement></FlexStatements>
        </FlexQueryResponse>"#
    )
}

fn ledger_of(body: &str) -> AccountLedger {
    let mut statement = read_statement(body.as_bytes(), "conn-1", 1_773_480_000).unwrap();
    assert_eq!(statement.ledgers.len(), 1);
    statement.ledgers.remove(0)
}

fn transactions(trades: &str, cash: &str) -> Vec<Transaction> {
    ledger_of(&statement(r#"fromDate="2026-03-10" toDate="2026-03-13""#, trades, cash)).transactions
}

fn error_of(trades: &str, cash: &str) -> String {
    let body = statement(r#"toDate="2026-03-13""#, trades, cash);
    let error = read_statement(body.as_bytes(), "conn-1", 0).unwrap_err();
    assert!(matches!(error, FlexError::Malformed { .. }), "{error}");
    error.to_string()
}

/// A Trade row of U1234567 in SYNT with these attributes added (traded 2026-03-12 unless they
/// say otherwise).
fn trade(attributes: &str) -> String {
    let date = if attributes.contains("tradeDate=") { "" } else { r#"tradeDate="2026-03-12""# };
    format!(
        r#"<Trade accountId="U1234567" currency="USD" assetCategory="STK" symbol="SYNT" conid="11112222" {date} {attributes} />"#
    )
}

#[test]
fn the_reference_trades_normalise_exactly() {
    let rows = transactions(TRADES, "");
    assert_eq!(rows.len(), 2);
    let (buy, sell) = (&rows[0], &rows[1]);
    assert_eq!((buy.provider, buy.account_id.as_str(), buy.kind), (Provider::IbkrFlex, "U1234567", T::Buy));
    assert_eq!(
        (buy.provider_transaction_id.as_str(), buy.id.clone()),
        ("900000001", transaction_id(Provider::IbkrFlex, "900000001"))
    );
    assert_eq!(
        (buy.quantity, buy.price, buy.amount, buy.fees),
        (Some(dec("5")), Some(dec("149.8")), Some(dec("-750")), Some(dec("1")))
    );
    assert_eq!((buy.trade_date, buy.settlement_date), (day("2026-03-13"), Some(day("2026-03-14"))));
    assert_eq!((buy.provider_type.as_str(), buy.currency.as_ref().unwrap().as_str()), ("BUY", "USD"));
    assert_eq!(buy.institution.as_ref().unwrap().as_str(), IBKR_INSTITUTION);
    let security = buy.security.as_ref().unwrap();
    assert_eq!((security.security_key.as_str(), security.ticker.as_deref()), ("SYNT", Some("SYNT")));
    assert_eq!((sell.kind, sell.quantity, sell.price), (T::Sell, Some(dec("-2")), Some(dec("151.0"))));
    assert_eq!((sell.amount, sell.fees, sell.settlement_date), (Some(dec("301")), Some(dec("1")), None));
    assert_eq!(sell.provider_transaction_id, "900000002");
}

#[test]
fn the_reference_cash_transactions_normalise_exactly() {
    let rows = transactions("", CASH);
    let brief: Vec<_> = rows
        .iter()
        .map(|t| (t.kind, t.amount.unwrap(), t.currency.as_ref().unwrap().as_str().to_owned(), t.trade_date))
        .collect();
    assert_eq!(
        brief,
        [
            (T::Dividend, dec("12.50"), "USD".to_owned(), day("2026-03-12")),
            (T::Tax, dec("-1.88"), "USD".to_owned(), day("2026-03-12")),
            (T::Deposit, dec("1000"), "EUR".to_owned(), day("2026-03-10")),
        ]
    );
    let dividend = &rows[0];
    assert_eq!(dividend.security.as_ref().unwrap().security_key, "SYNT");
    assert_eq!((dividend.settlement_date, dividend.quantity, dividend.fees), (Some(day("2026-03-12")), None, None));
    assert!(dividend.description.as_deref().unwrap().ends_with("(Ordinary Dividend)"));
    let deposit = &rows[2];
    assert_eq!((deposit.provider_type.as_str(), deposit.security.as_ref()), ("Deposits & Withdrawals", None));
    assert_eq!(deposit.id, transaction_id(Provider::IbkrFlex, "910000003"));
}

#[test]
fn orders_closed_lots_and_summaries_are_skipped() {
    let repeats = [
        trade(r#"transactionID="1" quantity="5" levelOfDetail="ORDER""#),
        trade(r#"transactionID="900000002" quantity="-2" levelOfDetail="CLOSED_LOT""#),
        trade(r#"transactionID="3" quantity="3" levelOfDetail="SYMBOL_SUMMARY""#),
        r#"<Order accountId="U1234567" symbol="SYNT" quantity="5" levelOfDetail="ORDER" />"#.to_owned(),
        r#"<Lot accountId="U1234567" symbol="SYNT" transactionID="900000002" quantity="x" levelOfDetail="CLOSED_LOT" />"#.to_owned(),
        r#"<SymbolSummary accountId="U1234567" symbol="SYNT" quantity="3" levelOfDetail="SYMBOL_SUMMARY" />"#.to_owned(),
    ];
    let rows = transactions(
        &format!("{}{TRADES}", repeats.concat()),
        r#"<CashTransaction accountId="U1234567" amount="11" type="Dividends" transactionID="7" levelOfDetail="SUMMARY" />"#,
    );
    let ids: Vec<&str> = rows.iter().map(|t| t.provider_transaction_id.as_str()).collect();
    assert_eq!(ids, ["900000001", "900000002"]);
    // Without the levelOfDetail field every Trade and CashTransaction element counts.
    let plain = transactions(
        &trade(r#"transactionID="8" quantity="1""#),
        r#"<CashTransaction amount="-3" type="Other Fees" reportDate="20260311" transactionID="9" />"#,
    );
    assert_eq!(plain.iter().map(|t| t.kind).collect::<Vec<_>>(), [T::Buy, T::Fee]);
}

#[test]
fn a_cancel_removes_its_trade_in_the_same_statement_and_is_listed_as_other_otherwise() {
    let original = trade(
        r#"tradeID="600000010" transactionID="900000010" buySell="BUY" quantity="5" netCash="-750" levelOfDetail="EXECUTION""#,
    );
    let cancel = trade(
        r#"tradeID="600000011" transactionID="900000011" origTradeID="600000010" buySell="BUY (Ca.)" transactionType="TradeCancel" quantity="-5" netCash="750" levelOfDetail="EXECUTION""#,
    );
    let by_transaction = trade(
        r#"transactionID="900000012" origTransactionID="900000001" buySell="BUY (Ca.)" quantity="-5" netCash="750""#,
    );
    let rows = transactions(&format!("{original}{TRADES}{cancel}{by_transaction}"), "");
    let ids: Vec<&str> = rows.iter().map(|t| t.provider_transaction_id.as_str()).collect();
    assert_eq!(ids, ["900000002"], "both originals and both cancels are gone");

    let late = trade(
        r#"transactionID="900000013" origTradeID="599999999" transactionType="TradeCancel" buySell="SELL (Ca.)" quantity="2" netCash="-301" tradePrice="151""#,
    );
    let rows = transactions(&late, "");
    let cancel = &rows[0];
    assert_eq!((cancel.kind, cancel.provider_type.as_str()), (T::Other, "SELL (Ca.)"));
    assert_eq!((cancel.quantity, cancel.amount), (Some(dec("2")), Some(dec("-301"))), "the reversal as sent");
}

#[test]
fn two_statements_give_two_ledgers_with_their_periods() {
    let statement = read_statement(&fixture("ok-two-accounts.xml"), "conn-1", 0).unwrap();
    let periods: Vec<_> =
        statement.ledgers.iter().map(|l| (l.account_id.as_str(), l.from, l.to, l.transactions.len())).collect();
    assert_eq!(
        periods,
        [("U1234567", day("2026-03-13"), day("2026-03-13"), 3), ("U7654321", day("2026-03-12"), day("2026-03-12"), 0)]
    );
    let position_key = &statement.holdings.positions[0].security_key;
    let trade_key = &statement.ledgers[0].transactions[0].security.as_ref().unwrap().security_key;
    assert_eq!(trade_key, position_key, "activity and holdings key the security alike");
    let compact = read_statement(&fixture("ok-compact-dates-empty-sections.xml"), "c", 0).unwrap();
    assert_eq!((compact.ledgers[0].from, compact.ledgers[0].to), (day("2026-03-01"), day("2026-03-13")));
    let bare = ledger_of(&statement_without_from());
    assert_eq!((bare.from, bare.to), (day("2026-03-13"), day("2026-03-13")), "no fromDate: toDate alone");
}

fn statement_without_from() -> String {
    statement(r#"toDate="20260313""#, "", "")
}

#[test]
fn ids_are_stable_across_reads_and_rows_without_ids_get_content_ids() {
    let body = statement(r#"toDate="2026-03-13""#, TRADES, CASH);
    let ids = |body: &str| ledger_of(body).transactions.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let (first, second) = (ids(&body), ids(&body));
    assert_eq!(first, second);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5);

    let by_trade_id = transactions(&trade(r#"tradeID="600000099" quantity="1""#), "");
    assert_eq!(by_trade_id[0].provider_transaction_id, "600000099");
    let statement = read_statement(&fixture("ok-day-first-base-summary-only.xml"), "c", 0).unwrap();
    let deposit = &statement.ledgers[0].transactions[0];
    assert_eq!(
        (deposit.kind, deposit.amount, deposit.trade_date),
        (T::Deposit, Some(dec("234.56")), day("2025-10-13"))
    );
    assert_eq!(
        deposit.provider_transaction_id,
        "CashTransaction:2025-10-13T12:00:00:EUR:234.56:Deposits/Withdrawals:#1"
    );
    let twins = format!("{0}{0}", r#"<CashTransaction amount="1" type="Other Fees" dateTime="20260312" />"#);
    let rows = transactions("", &twins);
    assert_ne!(rows[0].id, rows[1].id, "identical rows are numbered");
}

#[test]
fn cash_types_map_to_the_ledgers_vocabulary() {
    let row = |kind: &str, amount: &str| {
        format!(r#"<CashTransaction currency="USD" amount="{amount}" type="{kind}" reportDate="2026-03-11" />"#)
    };
    let cases = [
        ("Payment In Lieu Of Dividends", "3", T::Dividend),
        ("871(m) Withholding", "-0.3", T::Tax),
        ("Broker Interest Received", "0.42", T::Interest),
        ("Broker Interest Paid", "-0.85", T::Interest),
        ("Bond Interest Paid", "-4", T::Interest),
        ("Advisor Fees", "-10", T::Fee),
        ("Commission Adjustments", "0.5", T::Fee),
        ("Broker Fees", "-1", T::Fee),
        ("Deposits/Withdrawals", "-200", T::Withdrawal),
        ("deposits &amp; withdrawals", "50", T::Deposit),
        ("Carbon Credits", "1", T::Other),
        ("", "1", T::Other),
    ];
    let rows = transactions("", &cases.iter().map(|(k, a, _)| row(k, a)).collect::<String>());
    let kinds: Vec<T> = rows.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, cases.map(|(_, _, kind)| kind));
    assert_eq!(rows[3].amount, Some(dec("-0.85")), "interest paid keeps its sign");
}

#[test]
fn trades_fall_back_and_currency_conversions_are_other() {
    let fallback = trade(
        r#"transactionID="21" quantity="-4" proceeds="600" ibCommission="-1.5" taxes="-0.25" tradeDate="" dateTime="20260311;093000""#,
    );
    let foreign = trade(
        r#"transactionID="22" buySell="BUY" quantity="1" netCash="-10" ibCommission="-2" ibCommissionCurrency="EUR""#,
    );
    let fx = r#"<Trade accountId="U1234567" currency="USD" assetCategory="CASH" symbol="EUR.USD" conid="12087792" transactionID="23" buySell="BUY" quantity="1000" tradePrice="1.0862" netCash="-1086.2" tradeDate="20260312" />"#;
    let option = r#"<Trade currency="USD" assetCategory="OPT" symbol="SYNT  260619C00160000" conid="33334444" transactionID="24" buySell="SELL" quantity="-1" tradePrice="5.1" netCash="509" tradeDate="2026-03-12" />"#;
    let rows = transactions(&format!("{fallback}{foreign}{fx}{option}"), "");
    assert_eq!((rows[0].kind, rows[0].amount, rows[0].fees), (T::Sell, Some(dec("598.25")), Some(dec("1.75"))));
    assert_eq!(rows[0].trade_date, day("2026-03-11"));
    assert_eq!(rows[1].fees, None, "a commission in another currency is not the trade's fee");
    assert_eq!((rows[2].kind, rows[2].security.as_ref(), rows[2].quantity), (T::Other, None, None));
    assert_eq!(rows[2].amount, Some(dec("-1086.2")));
    assert_eq!(rows[3].security.as_ref().unwrap().security_key, "SYNT  260619C00160000");
}

#[test]
fn malformed_values_are_typed_errors_naming_the_attribute() {
    let bad_quantity = error_of(&trade(r#"transactionID="1" quantity="5 shares""#), "");
    assert!(bad_quantity.contains("Trade quantity"), "{bad_quantity}");
    for (trades, cash, says) in [
        (trade(r#"transactionID="1""#), "", "Trade has no quantity"),
        (trade(r#"transactionID="1" quantity="1" netCash="(-1)""#), "", "Trade netCash"),
        (trade(r#"transactionID="1" quantity="1" tradeDate="2026-02-30""#), "", "Trade tradeDate"),
        (r#"<Trade transactionID="1" quantity="1" conid="12a" tradeDate="20260312" />"#.to_owned(), "", "Trade conid"),
        (trade(r#"transactionID="1 2" quantity="1""#), "", "Trade transactionID"),
        (
            r#"<Trade transactionID="1" quantity="1" currency="US dollars" tradeDate="20260312" />"#.to_owned(),
            "",
            "Trade currency",
        ),
        (
            r#"<Trade accountId="U9" transactionID="1" quantity="1" tradeDate="20260312" />"#.to_owned(),
            "",
            "another account",
        ),
        (format!("{TRADES}{TRADES}"), "", "two Trades/CashTransactions rows"),
        (
            String::new(),
            r#"<CashTransaction type="Dividends" transactionID="1" reportDate="20260312" />"#,
            "CashTransaction has no amount",
        ),
        (String::new(), r#"<CashTransaction amount="1" transactionID="1" />"#, "without dateTime"),
        (
            String::new(),
            r#"<CashTransaction amount="1" transactionID="1" dateTime="2026-03-12;25:00:00" />"#,
            "CashTransaction dateTime",
        ),
    ] {
        let error = error_of(&trades, cash);
        assert!(error.contains(says), "{says}: {error}");
    }
    let backwards = statement(r#"fromDate="2026-03-14" toDate="2026-03-13""#, "", "");
    assert!(read_statement(backwards.as_bytes(), "c", 0).unwrap_err().to_string().contains("after its toDate"));
}

#[test]
fn an_account_two_statements_cover_counts_once_from_the_one_reaching_furthest() {
    use crate::ibkr::{latest_per_account, AccountLedger};
    let day = |text: &str| crate::time::Date::parse(text).unwrap();
    let ledger = |account: &str, from: &str, to: &str| AccountLedger {
        account_id: account.into(),
        from: day(from),
        to: day(to),
        transactions: Vec::new(),
    };
    let kept = latest_per_account([
        ledger("U2", "2026-03-01", "2026-03-13"),
        ledger("U1", "2026-03-13", "2026-03-13"),
        ledger("U1", "2026-03-16", "2026-03-16"),
        ledger("U2", "2026-03-10", "2026-03-13"),
    ]);
    let seen: Vec<(&str, String, String)> =
        kept.iter().map(|l| (l.account_id.as_str(), l.from.to_string(), l.to.to_string())).collect();
    assert_eq!(
        seen,
        [("U1", "2026-03-16".into(), "2026-03-16".into()), ("U2", "2026-03-01".into(), "2026-03-13".into())],
        "the latest day wins; on the same day the wider period"
    );
}
