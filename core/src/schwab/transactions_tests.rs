use super::*;
use crate::domain::Provider;
use crate::test_fixtures::{account, dec};
use proptest::prelude::*;

fn schwab_account() -> Account {
    account(Provider::Schwab, "HASHA1", Some(super::super::SCHWAB_INSTITUTION))
}

fn day(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn read(text: &str) -> Result<Vec<Transaction>, ProviderError> {
    normalize_transactions(text.as_bytes(), &schwab_account()).map(|(_, rows)| rows)
}

fn is_malformed(result: Result<Vec<Transaction>, ProviderError>) -> bool {
    matches!(result, Err(ProviderError::Malformed { provider: Provider::Schwab, .. }))
}

/// The reference's real-data sample (section 4.4), verbatim.
const REFERENCE_SAMPLE: &str = r#"[
  {"activityId": 81234567890, "time": "2024-05-06T15:55:14+0000", "description": "Ordinary Dividend~SETF",
   "accountNumber": "12345678", "type": "DIVIDEND_OR_INTEREST", "status": "VALID", "subAccount": "CASH",
   "tradeDate": "2024-05-06T04:00:00+0000", "settlementDate": "2024-05-06T04:00:00+0000", "netAmount": 8.41,
   "transferItems": [{"instrument": {"assetType": "CURRENCY", "status": "ACTIVE", "symbol": "CURRENCY_USD",
       "description": "USD currency", "instrumentId": 1, "closingPrice": 0}, "amount": 8.41, "cost": 0, "price": 0}]},
  {"activityId": 81234567891, "time": "2024-03-21T12:40:17+0000", "accountNumber": "12345678", "type": "TRADE",
   "status": "VALID", "subAccount": "CASH", "tradeDate": "2024-03-21T12:40:17+0000", "positionId": 5555555,
   "orderId": 1000000000001, "netAmount": -1502.3,
   "transferItems": [
     {"instrument": {"assetType": "CURRENCY", "status": "ACTIVE", "symbol": "CURRENCY_USD", "description": "USD currency",
        "instrumentId": 1, "closingPrice": 0}, "amount": 0, "cost": 0, "feeType": "COMMISSION"},
     {"instrument": {"assetType": "CURRENCY", "status": "ACTIVE", "symbol": "CURRENCY_USD", "description": "USD currency",
        "instrumentId": 1, "closingPrice": 0}, "amount": 0, "cost": 0, "feeType": "SEC_FEE"},
     {"instrument": {"assetType": "EQUITY", "status": "ACTIVE", "symbol": "SYNT", "instrumentId": 9999999,
        "closingPrice": 150.0, "type": "COMMON_STOCK"}, "amount": 10.0, "cost": -1502.3, "price": 150.23,
        "positionEffect": "OPENING"}]}
]"#;

/// A sell of 4 SETF with a 0.65 commission, its instrument carrying `assetType` twice (as live
/// COLLECTIVE_INVESTMENT items do), then a withdrawal, a withholding, a sweep interest and a row
/// Schwab marked INVALID.
const MORE_ROWS: &str = r#"[
  {"activityId": 81234567900, "time": "2024-06-03T14:31:02+0000", "type": "TRADE", "status": "VALID",
   "tradeDate": "2024-06-03T14:31:02+0000", "settlementDate": "2024-06-04T04:00:00+0000", "netAmount": 299.35,
   "transferItems": [
     {"instrument": {"assetType": "CURRENCY", "symbol": "CURRENCY_USD"}, "amount": -0.65, "cost": 0, "feeType": "COMMISSION"},
     {"instrument": {"assetType": "COLLECTIVE_INVESTMENT", "status": "ACTIVE", "symbol": "SETF", "cusip": "000000BB2",
        "description": "SYNTH TOTAL MARKET ETF", "type": "EXCHANGE_TRADED_FUND", "assetType": "COLLECTIVE_INVESTMENT"},
      "amount": -4.0, "cost": 300.0, "price": 75.0, "positionEffect": "CLOSING"}]},
  {"activityId": "81234567901", "type": "ACH_DISBURSEMENT", "status": "VALID", "description": "ACH Disbursement",
   "tradeDate": "2024-06-05T04:00:00+0000", "netAmount": -200.0,
   "transferItems": [{"instrument": {"assetType": "CURRENCY", "symbol": "CURRENCY_USD"}, "amount": -200.0}]},
  {"activityId": 81234567902, "type": "JOURNAL", "status": "VALID", "description": "W-8 Withholding~SETF",
   "tradeDate": "2024-06-06T04:00:00Z", "netAmount": -1.26},
  {"activityId": 81234567903, "type": "DIVIDEND_OR_INTEREST", "status": "VALID",
   "description": "Free Balance Interest Adjustment", "tradeDate": "2024-06-07T04:00:00+0000", "netAmount": 0.03},
  {"activityId": 81234567904, "type": "TRADE", "status": "INVALID", "netAmount": -1.0}
]"#;

#[test]
fn the_reference_sample_reads_as_a_dividend_and_a_buy_with_zero_fees() {
    let rows = read(REFERENCE_SAMPLE).unwrap();
    assert_eq!(rows.len(), 2);
    let dividend = &rows[0];
    assert_eq!((dividend.kind, dividend.provider_type.as_str()), (TransactionType::Dividend, "DIVIDEND_OR_INTEREST"));
    assert_eq!((dividend.amount, dividend.quantity, dividend.fees), (Some(dec("8.41")), None, None));
    assert_eq!(dividend.trade_date, day("2024-05-06"));
    assert_eq!(dividend.settlement_date, Some(day("2024-05-06")));
    assert_eq!(dividend.security.as_ref().map(|s| s.security_key.as_str()), Some("SETF"), "from `~SETF`");
    assert_eq!(dividend.description.as_deref(), Some("Ordinary Dividend~SETF"));
    assert_eq!(dividend.currency.as_ref().map(|c| c.as_str()), Some("USD"));

    let buy = &rows[1];
    assert_eq!((buy.kind, buy.provider_type.as_str()), (TransactionType::Buy, "TRADE"));
    assert_eq!(buy.amount, Some(dec("-1502.30")), "netAmount: cash out of the account");
    assert_eq!((buy.quantity, buy.price, buy.fees), (Some(dec("10")), Some(dec("150.23")), Some(dec("0"))));
    assert_eq!((buy.trade_date, buy.settlement_date, buy.description.as_deref()), (day("2024-03-21"), None, None));
    let security = buy.security.as_ref().unwrap();
    assert_eq!((security.security_key.as_str(), security.ticker.as_deref()), ("SYNT", Some("SYNT")));
    assert_eq!((buy.provider_transaction_id.as_str(), buy.account_id.as_str()), ("81234567891", "HASHA1"));
    assert_eq!(buy.institution.as_ref().map(|i| i.as_str()), Some("charles_schwab"));
}

#[test]
fn a_sell_has_negative_units_positive_cash_and_its_commission_as_fees() {
    let rows = read(MORE_ROWS).unwrap();
    let sell = &rows[0];
    assert_eq!(sell.kind, TransactionType::Sell);
    assert_eq!((sell.quantity, sell.amount, sell.fees), (Some(dec("-4")), Some(dec("299.35")), Some(dec("0.65"))));
    assert_eq!((sell.price, sell.settlement_date), (Some(dec("75")), Some(day("2024-06-04"))));
    let security = sell.security.as_ref().unwrap();
    assert_eq!((security.security_key.as_str(), security.name.as_deref()), ("SETF", Some("SYNTH TOTAL MARKET ETF")));
}

#[test]
fn withdrawals_withholdings_and_interest_are_cash_rows() {
    let rows = read(MORE_ROWS).unwrap();
    let kinds: Vec<TransactionType> = rows.iter().map(|t| t.kind).collect();
    use TransactionType as T;
    assert_eq!(kinds, [T::Sell, T::Withdrawal, T::Tax, T::Interest], "the INVALID row is left out");
    let withdrawal = &rows[1];
    assert_eq!((withdrawal.amount, withdrawal.quantity, withdrawal.security.as_ref()), (Some(dec("-200")), None, None));
    assert_eq!(withdrawal.provider_transaction_id, "81234567901", "a string activityId is taken as it is");
    let tax = &rows[2];
    assert_eq!((tax.amount, tax.trade_date), (Some(dec("-1.26")), day("2024-06-06")), "RFC 3339 `Z` dates too");
    assert_eq!(tax.security.as_ref().map(|s| s.security_key.as_str()), Some("SETF"));
    assert_eq!(rows[3].amount, Some(dec("0.03")));
}

#[test]
fn a_duplicated_asset_type_key_in_an_instrument_parses() {
    let text = r#"[{"activityId": 1, "type": "TRADE", "tradeDate": "2024-06-03T14:31:02+0000", "netAmount": -72.1,
        "transferItems": [{"instrument": {"assetType": "COLLECTIVE_INVESTMENT", "symbol": "SETF",
          "assetType": "COLLECTIVE_INVESTMENT"}, "amount": 1.0, "price": 72.1}]}]"#;
    assert_eq!(text.matches("\"assetType\"").count(), 2);
    let rows = read(text).expect("a duplicated key is not an error");
    assert_eq!((rows[0].kind, rows[0].quantity), (TransactionType::Buy, Some(dec("1"))));
    assert_eq!(rows[0].security.as_ref().unwrap().security_key, "SETF");
}

#[test]
fn numbers_are_read_exactly_from_their_text() {
    // 20 significant digits each: f64 keeps ~15-17, so going through it would change them.
    let (quantity, price, net) = ("12345.678901234567890", "0.12345678901234567891", "-1524.1578753238836751");
    let text = format!(
        r#"[{{"activityId": 1, "type": "TRADE", "tradeDate": "2024-06-03", "netAmount": {net},
            "transferItems": [{{"instrument": {{"assetType": "MUTUAL_FUND", "symbol": "SFUND"}},
              "amount": {quantity}, "price": {price}, "cost": -1524.1578753238836751}}]}}]"#
    );
    let rows = read(&text).unwrap();
    let written = |d: Option<Decimal>| d.map(|d| d.to_string());
    assert_eq!(written(rows[0].quantity).as_deref(), Some(quantity));
    assert_eq!(written(rows[0].price).as_deref(), Some(price));
    assert_eq!(written(rows[0].amount).as_deref(), Some(net));
    assert_ne!(format!("{}", quantity.parse::<f64>().unwrap()), quantity, "f64 would not have kept it");

    let rows = read(REFERENCE_SAMPLE).unwrap();
    assert_eq!(written(rows[1].quantity).as_deref(), Some("10.0"), "`10.0` stays `10.0`");
    assert_eq!(written(rows[1].amount).as_deref(), Some("-1502.3"));
    let tiny =
        r#"[{"activityId": 1, "type": "JOURNAL", "tradeDate": "2024-06-03", "netAmount": 0.1234567890123456789}]"#;
    assert_eq!(written(read(tiny).unwrap()[0].amount).as_deref(), Some("0.1234567890123456789"));
    let scientific = r#"[{"activityId": 1, "type": "JOURNAL", "tradeDate": "2024-06-03", "netAmount": -1.25E+2}]"#;
    assert_eq!(read(scientific).unwrap()[0].amount, Some(dec("-125")));
}

#[test]
fn quoted_numbers_are_read_as_the_decimals_they_write() {
    let text = r#"[{"activityId": 1, "type": "TRADE", "tradeDate": "2024-06-03", "netAmount": " -72.100000000000000001 ",
        "transferItems": [
          {"instrument": {"assetType": "CURRENCY", "symbol": "CURRENCY_USD"}, "amount": "-0.65", "feeType": "COMMISSION"},
          {"instrument": {"assetType": "EQUITY", "symbol": "SYNT"}, "amount": "1.0", "price": "7\u0032.1"},
          {"instrument": {"assetType": "CURRENCY", "symbol": "CURRENCY_USD"}, "amount": "", "feeType": "SEC_FEE"}]}]"#;
    let rows = read(text).unwrap();
    let buy = &rows[0];
    assert_eq!(buy.amount.map(|a| a.to_string()).as_deref(), Some("-72.100000000000000001"));
    assert_eq!(buy.quantity.map(|q| q.to_string()).as_deref(), Some("1.0"));
    assert_eq!((buy.kind, buy.price, buy.fees), (TransactionType::Buy, Some(dec("72.1")), Some(dec("0.65"))));
}

#[test]
fn the_count_is_every_row_sent_invalid_ones_included() {
    let account = schwab_account();
    let (sent, rows) = normalize_transactions(MORE_ROWS.as_bytes(), &account).unwrap();
    assert_eq!((sent, rows.len()), (5, 4), "the INVALID row counts as sent, not as kept");
    let (sent, rows) = normalize_transactions(REFERENCE_SAMPLE.as_bytes(), &account).unwrap();
    assert_eq!((sent, rows.len()), (2, 2));
    assert_eq!(normalize_transactions(b" [ ] ", &account).unwrap(), (0, Vec::new()));
    let invalid = format!("[{}]", vec![r#"{"status":"INVALID"}"#; MAX_ROWS].join(","));
    let (sent, rows) = normalize_transactions(invalid.as_bytes(), &account).unwrap();
    assert_eq!((sent, rows.len()), (MAX_ROWS, 0));
    assert!(split_if_full(day("2024-01-01"), day("2024-01-02"), sent).unwrap().is_some(), "a full answer splits");
}

#[test]
fn types_follow_the_description_and_the_signs() {
    use TransactionType as T;
    let row = |kind: &str, description: &str, net: &str, units: Option<&str>| {
        let items = units.map_or(String::new(), |u| {
            format!(r#","transferItems":[{{"instrument":{{"assetType":"EQUITY","symbol":"SYNT"}},"amount":{u}}}]"#)
        });
        format!(
            r#"{{"activityId":7,"type":"{kind}","description":"{description}","tradeDate":"2024-01-02","netAmount":{net}{items}}}"#
        )
    };
    for (text, expected) in [
        (row("TRADE", "Dividend Reinvest", "-8.41", Some("0.05")), T::Buy),
        (row("ELECTRONIC_FUND", "ACH Credit Received", "500", None), T::Deposit),
        (row("ELECTRONIC_FUND", "ACH Debit", "-500", None), T::Withdrawal),
        (row("WIRE_IN", "Wire Received", "1000", None), T::Deposit),
        (row("WIRE_OUT", "Wire Sent", "-1000", None), T::Withdrawal),
        (row("CASH_RECEIPT", "", "5", None), T::Deposit),
        (row("JOURNAL", "ADR Mgmt Fee~SYNT", "-0.5", None), T::Fee),
        (row("JOURNAL", "Journal", "10", None), T::Other),
        (row("RECEIVE_AND_DELIVER", "Transfer In", "0", Some("5")), T::TransferIn),
        (row("RECEIVE_AND_DELIVER", "Transfer Out", "0", Some("-5")), T::TransferOut),
        (row("RECEIVE_AND_DELIVER", "Stock Split~SYNT", "0", Some("10")), T::Split),
        (row("MEMORANDUM", "", "0", None), T::Other),
        (row("SOMETHING_NEW", "", "1", None), T::Other),
    ] {
        let rows = read(&format!("[{text}]")).unwrap();
        assert_eq!(rows[0].kind, expected, "{text}");
    }
    let transfer = read(&format!("[{}]", row("RECEIVE_AND_DELIVER", "", "0", Some("-5")))).unwrap();
    assert_eq!(transfer[0].quantity, Some(dec("-5")));
}

#[test]
fn malformed_bodies_are_refused_whole() {
    for bad in [
        r#"{"transactions": []}"#,
        r#""[]""#,
        r#"[{"type": "TRADE", "tradeDate": "2024-01-02", "netAmount": 1}]"#,
        r#"[{"activityId": 1.5, "type": "TRADE", "tradeDate": "2024-01-02"}]"#,
        r#"[{"activityId": 1, "type": "TRADE"}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "netAmount": "lots"}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "netAmount": true}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "transferItems": {}}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "transferItems": [3]}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02"}, 7]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "netAmount": [1]}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "netAmount": {"value": 1}}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "netAmount": 1e400}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "transferItems": [{"amount": false}]}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02", "transferItems": [{"price": "n/a"}]}]"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02"}"#,
        r#"[{"activityId": 1, "tradeDate": "2024-01-02"}] trailing"#,
        "",
    ] {
        assert!(is_malformed(read(bad)), "{bad}");
    }
    assert_eq!(read("[]").unwrap(), []);
    let invalid = r#"[{"status": "INVALID"}, {"activityId": 2, "status": "PENDING", "tradeDate": "2024-01-02"}]"#;
    assert_eq!(read(invalid).unwrap().len(), 1, "INVALID rows are skipped before anything is required of them");
}

#[test]
fn ids_are_stable_across_reads_and_distinct_per_activity() {
    let (first, again) = (read(REFERENCE_SAMPLE).unwrap(), read(REFERENCE_SAMPLE).unwrap());
    assert_eq!(first, again);
    assert_eq!(first[1].id, transaction_id(Provider::Schwab, "81234567891"));
    assert_ne!(first[0].id, first[1].id);
    assert!(first[0].id.starts_with("tx_"));
}

#[test]
fn request_params_ask_for_whole_utc_days_and_every_type() {
    let params = request_params(day("2024-03-01"), day("2024-03-31"));
    assert_eq!(
        params[..2],
        [("startDate", "2024-03-01T00:00:00.000Z".to_owned()), ("endDate", "2024-03-31T23:59:59.999Z".to_owned())]
    );
    assert_eq!(params[2], ("types", TYPES.to_owned()));
    assert_eq!(TYPES.split(',').count(), 15);
    assert!(TYPES.split(',').all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')));
}

#[test]
fn windows_are_oldest_first_and_at_most_a_year() {
    let (from, to) = (day("2021-01-01"), day("2024-06-30"));
    let windows = request_windows(from, to);
    assert_eq!(windows.first(), Some(&(from, day("2021-12-31"))));
    assert_eq!(windows.last().map(|w| w.1), Some(to));
    assert_eq!(windows.len(), 4);
    assert_eq!(request_windows(to, to), [(to, to)]);
    assert_eq!(request_windows(to, from), []);
}

#[test]
fn a_full_window_splits_in_halves_until_a_single_day_is_refused() {
    let (from, to) = (day("2024-01-01"), day("2024-12-30"));
    assert_eq!(split_if_full(from, to, MAX_ROWS - 1).unwrap(), None);
    let (older, newer) = split_if_full(from, to, MAX_ROWS).unwrap().unwrap();
    assert_eq!((older, newer), ((from, day("2024-07-01")), (day("2024-07-02"), to)));
    assert_eq!(
        split_if_full(from, from.add_days(1), MAX_ROWS).unwrap(),
        Some(((from, from), (from.add_days(1), from.add_days(1))))
    );
    let refused = split_if_full(from, from, MAX_ROWS).unwrap_err();
    assert!(
        matches!(&refused, ProviderError::Malformed { provider: Provider::Schwab, detail } if detail.contains("one-day"))
    );
    assert_eq!(refused, split_if_full(to, to, MAX_ROWS + 5).unwrap_err(), "the message is stable");
}

proptest! {
    #[test]
    fn windows_cover_every_day_once_each_at_most_365_days(start in 0i64..20_000, len in -3i64..3_000) {
        let from = Date::from_unix(start * 86_400);
        let to = from.add_days(len);
        let windows = request_windows(from, to);
        let mut next = from;
        for (a, b) in &windows {
            prop_assert_eq!(*a, next);
            prop_assert!(a <= b && b.days_since(*a) < MAX_WINDOW_DAYS);
            next = b.add_days(1);
        }
        if from <= to {
            prop_assert_eq!(next, to.add_days(1));
        } else {
            prop_assert!(windows.is_empty());
        }
    }

    #[test]
    fn halves_of_a_full_window_cover_it_exactly(start in 0i64..20_000, len in 1i64..400) {
        let from = Date::from_unix(start * 86_400);
        let to = from.add_days(len);
        let ((a, b), (c, d)) = split_if_full(from, to, MAX_ROWS).unwrap().unwrap();
        prop_assert_eq!((a, d, b.add_days(1)), (from, to, c));
        prop_assert!(a <= b && c <= d);
    }

    #[test]
    fn any_row_is_read_or_refused_without_panicking(rows in proptest::collection::vec(row(), 0..6)) {
        let body = serde_json::to_vec(&Value::Array(rows)).unwrap();
        let _ = normalize_transactions(&body, &schwab_account());
    }

    #[test]
    fn any_bytes_are_read_or_refused_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = normalize_transactions(&body, &schwab_account());
    }

    #[test]
    fn every_decimal_literal_is_read_as_it_is_written(mantissa in any::<i64>(), scale in 0u32..=18, quoted: bool) {
        let written = Decimal::new(mantissa, scale).to_string();
        let literal = if quoted { format!("\"{written}\"") } else { written.clone() };
        let body = format!(
            r#"[{{"activityId":1,"type":"TRADE","tradeDate":"2024-01-02","netAmount":{literal},
                "transferItems":[{{"instrument":{{"assetType":"EQUITY","symbol":"SYNT"}},"amount":{literal},"price":{literal}}}]}}]"#
        );
        let rows = read(&body).unwrap();
        let text = |d: Option<Decimal>| d.map(|d| d.to_string());
        prop_assert_eq!(text(rows[0].amount), Some(written.clone()));
        if mantissa != 0 {
            prop_assert_eq!(text(rows[0].quantity), Some(written.clone()));
            prop_assert_eq!(text(rows[0].price), Some(written));
        }
    }
}

/// Any JSON scalar, including the strings Schwab's fields hold.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec!["TRADE", "JOURNAL", "INVALID", "CURRENCY", "EQUITY", "2024-01-02", "x~"])
            .prop_map(Value::from),
        "[A-Za-z0-9_~ :+.-]{0,24}".prop_map(Value::from),
    ]
}

/// A transaction-shaped object whose every field may hold anything.
fn row() -> impl Strategy<Value = Value> {
    let keys = ["activityId", "type", "status", "description", "tradeDate", "time", "settlementDate", "netAmount"];
    let item = (leaf(), leaf(), leaf(), leaf(), leaf()).prop_map(|(asset, symbol, amount, price, fee)| {
        serde_json::json!({"instrument": {"assetType": asset, "symbol": symbol, "cusip": fee.clone()},
                           "amount": amount, "price": price, "feeType": fee})
    });
    let items = prop_oneof![leaf(), proptest::collection::vec(item, 0..4).prop_map(Value::Array)];
    (proptest::collection::vec(leaf(), keys.len()), items).prop_map(move |(values, items)| {
        let mut row: serde_json::Map<String, Value> =
            keys.iter().map(|k| k.to_string()).zip(values).filter(|(_, v)| !v.is_null()).collect();
        row.insert("transferItems".into(), items);
        Value::Object(row)
    })
}
