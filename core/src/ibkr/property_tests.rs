//! Properties over generated statements: lots always add up to the position they are under, no
//! cash currency is lost or counted twice, every execution and cash transaction is one ledger row
//! (orders and closed lots never), and no input makes the reader panic.

use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

const CURRENCIES: [&str; 7] = ["USD", "EUR", "CAD", "GBP", "CHF", "JPY", "HKD"];

fn amount() -> impl Strategy<Value = Decimal> {
    (-1_000_000_000_000i64..1_000_000_000_000, 0u32..7).prop_map(|(m, scale)| Decimal::new(m, scale))
}

#[derive(Debug, Clone)]
struct GeneratedPosition {
    conid: u32,
    quantity: Decimal,
    cost: Option<Decimal>,
    lots: Vec<(Decimal, Decimal)>,
}

fn position() -> impl Strategy<Value = GeneratedPosition> {
    (amount(), proptest::option::of(amount()), prop::collection::vec((amount(), amount()), 0..4)).prop_map(
        |(quantity, cost, lots)| {
            let (quantity, cost) = match lots.is_empty() {
                true => (quantity, cost),
                false => (lots.iter().map(|l| l.0).sum(), Some(lots.iter().map(|l| l.1).sum())),
            };
            GeneratedPosition { conid: 0, quantity, cost, lots }
        },
    )
}

/// A statement for `positions` (conids numbered in order), the per-currency `cash` rows and a
/// BASE_SUMMARY row at `base_at` (when some), with the LOT rows beside their SUMMARY row or all
/// at the end.
fn statement_xml(
    positions: &[GeneratedPosition],
    lots_at_end: bool,
    cash: &[(&str, Decimal)],
    base_at: Option<usize>,
) -> String {
    let with_lots = positions.iter().any(|p| !p.lots.is_empty());
    let level = |l: &str| if with_lots { format!(r#" levelOfDetail="{l}""#) } else { String::new() };
    let (mut rows, mut lot_rows) = (String::new(), String::new());
    for p in positions {
        let cost = p.cost.map_or(String::new(), |c| c.to_string());
        rows += &format!(
            r#"<OpenPosition accountId="U1" currency="USD" assetCategory="STK" symbol="S{0}" conid="{0}" position="{1}" costBasisMoney="{cost}"{2} />"#,
            p.conid,
            p.quantity,
            level("SUMMARY")
        );
        let target = if lots_at_end { &mut lot_rows } else { &mut rows };
        for (quantity, cost) in &p.lots {
            *target += &format!(
                r#"<OpenPosition accountId="U1" currency="USD" assetCategory="STK" symbol="S{0}" conid="{0}" position="{quantity}" costBasisMoney="{cost}" levelOfDetail="LOT" openDateTime="20260102;030405" />"#,
                p.conid
            );
        }
    }
    let mut cash_rows: Vec<String> = cash
        .iter()
        .map(|(c, a)| format!(r#"<CashReportCurrency accountId="U1" currency="{c}" endingCash="{a}" />"#))
        .collect();
    if let Some(at) = base_at {
        cash_rows.insert(
            at.min(cash_rows.len()),
            r#"<CashReportCurrency currency="BASE_SUMMARY" endingCash="99999" />"#.into(),
        );
    }
    format!(
        r#"<?xml version="1.0"?><FlexQueryResponse type="AF"><FlexStatements count="1"><FlexStatement accountId="U1" toDate="20260313">
        <AccountInformation accountId="U1" currency="CHF" accountType="Individual" /><OpenPositions>{rows}{lot_rows}</OpenPositions>
        <CashReport>{}</CashReport><Trades /><CashTransactions /></FlexStatement></FlexStatements></FlexQueryResponse>"#,
        cash_rows.concat()
    )
}

fn positions() -> impl Strategy<Value = Vec<GeneratedPosition>> {
    prop::collection::vec(position(), 0..6).prop_map(|mut ps| {
        ps.iter_mut().enumerate().for_each(|(i, p)| p.conid = 1000 + i as u32);
        ps
    })
}

fn cash() -> impl Strategy<Value = (Vec<(&'static str, Decimal)>, Option<usize>)> {
    (
        prop::sample::subsequence(CURRENCIES.to_vec(), 0..=CURRENCIES.len()),
        prop::collection::vec(amount(), 7),
        proptest::option::of(0usize..8),
    )
        .prop_map(|(currencies, amounts, base_at)| (currencies.into_iter().zip(amounts).collect(), base_at))
}

fn valid_statement() -> impl Strategy<Value = String> {
    (positions(), any::<bool>(), cash())
        .prop_map(|(ps, at_end, (cash, base_at))| statement_xml(&ps, at_end, &cash, base_at))
}

/// Attribute text near what Flex writes: dates, numbers, codes, and noise.
fn odd_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}([;, ]?[0-9:]{4,8})?",
        "[0-9]{8}([;, ]?[0-9]{6})?( ?[+-][0-9]{2,4})?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[;T ]?[0-9:]{0,8}[A-Z]{0,3}",
        "[0-9]{1,2}-[A-Za-z]{3}-[0-9]{2,4}",
        "[(]?[+-]?[0-9,]{0,20}([.][0-9]{0,30})?([eE][+-]?[0-9]{1,3})?[)]?",
        "(STK|OPT|BOND|FUT|CRYPTO|CASH|FUND|BASE_SUMMARY|USD|MULTI|N/A|--|-)",
        ".{0,24}",
    ]
}

proptest! {
    #[test]
    fn positions_equal_their_summary_rows_and_their_lots_sum_to_them(ps in positions(), at_end in any::<bool>()) {
        let statement = read_statement(statement_xml(&ps, at_end, &[], None).as_bytes(), "c", 1).unwrap();
        prop_assert_eq!(statement.holdings.positions.len(), ps.len());
        for (generated, parsed) in ps.iter().zip(&statement.holdings.positions) {
            prop_assert_eq!(parsed.quantity.0, generated.quantity);
            prop_assert_eq!(parsed.cost_basis, generated.cost);
            let lots = &parsed.detail.as_deref().unwrap().lots;
            prop_assert_eq!(lots.len(), generated.lots.len());
            if !lots.is_empty() {
                prop_assert_eq!(lots.iter().map(|l| l.quantity.0).sum::<Decimal>(), parsed.quantity.0);
                prop_assert_eq!(lots.iter().filter_map(|l| l.cost_basis).sum::<Decimal>(), generated.cost.unwrap());
            }
        }
    }

    #[test]
    fn every_currency_row_appears_once_and_the_base_summary_never(cash in cash()) {
        let (rows, base_at) = cash;
        let statement = read_statement(statement_xml(&[], false, &rows, base_at).as_bytes(), "c", 1).unwrap();
        let balances: Vec<(&str, Decimal)> =
            statement.holdings.balances.iter().map(|b| (b.currency.as_str(), b.amount)).collect();
        match (rows.is_empty(), base_at) {
            (true, Some(_)) => prop_assert_eq!(balances, vec![("CHF", Decimal::from(99_999))]),
            _ => prop_assert_eq!(balances, rows),
        }
    }

    #[test]
    fn odd_attribute_values_are_typed_errors_never_panics(values in prop::collection::vec(odd_value(), 16)) {
        let v = |i: usize| values[i].replace(['"', '<', '&'], "");
        let body = format!(
            r#"<FlexQueryResponse type="AF"><FlexStatements count="1"><FlexStatement accountId="U1" toDate="{0}" whenGenerated="{1}">
            <AccountInformation currency="{2}" /><OpenPositions>
            <OpenPosition currency="USD" assetCategory="{3}" symbol="{4}" conid="1" position="{5}" levelOfDetail="SUMMARY" />
            <OpenPosition currency="USD" conid="1" position="{5}" levelOfDetail="LOT" openDateTime="{6}" />
            </OpenPositions><CashReport><CashReportCurrency currency="{2}" endingCash="{7}" /></CashReport>
            <Trades><Trade currency="{2}" assetCategory="{3}" symbol="{4}" conid="{8}" transactionID="{9}" buySell="{10}"
            quantity="{5}" tradePrice="{11}" netCash="{7}" ibCommission="{12}" tradeDate="{13}" settleDateTarget="{6}"
            origTradeID="{9}" levelOfDetail="EXECUTION" /></Trades>
            <CashTransactions><CashTransaction currency="{2}" assetCategory="{3}" symbol="{4}" amount="{14}" type="{10}"
            dateTime="{15}" reportDate="{13}" transactionID="{8}" /></CashTransactions>
            </FlexStatement></FlexStatements></FlexQueryResponse>"#,
            v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8), v(9), v(10), v(11), v(12), v(13), v(14), v(15)
        );
        if let Ok(statement) = read_statement(body.as_bytes(), "c", 0) {
            let ledger = &statement.ledgers[0];
            prop_assert!(ledger.from <= ledger.to && ledger.transactions.len() <= 2);
        }
    }

    #[test]
    fn every_counted_row_is_one_transaction_with_its_exact_cash(rows in prop::collection::vec((amount(), amount(), any::<bool>()), 0..8)) {
        let mut trades = String::new();
        let mut cash = String::new();
        for (i, (quantity, money, detail)) in rows.iter().enumerate() {
            let level = if *detail { "EXECUTION" } else { "ORDER" };
            trades += &format!(r#"<Trade currency="USD" assetCategory="STK" symbol="S" conid="7" transactionID="{i}" quantity="{quantity}" netCash="{money}" tradeDate="20260312" levelOfDetail="{level}" />"#);
            trades += &format!(r#"<Lot currency="USD" symbol="S" conid="7" transactionID="{i}" quantity="{quantity}" levelOfDetail="CLOSED_LOT" />"#);
            cash += &format!(r#"<CashTransaction currency="EUR" amount="{money}" type="Deposits/Withdrawals" transactionID="c{i}" reportDate="20260312" />"#);
        }
        let body = format!(
            r#"<FlexQueryResponse type="AF"><FlexStatements count="1"><FlexStatement accountId="U1" fromDate="20260301" toDate="20260313">
            <AccountInformation currency="USD" /><OpenPositions /><CashReport /><Trades>{trades}</Trades>
            <CashTransactions>{cash}</CashTransactions></FlexStatement></FlexStatements></FlexQueryResponse>"#
        );
        let statement = read_statement(body.as_bytes(), "c", 0).unwrap();
        let transactions = &statement.ledgers[0].transactions;
        let executions = rows.iter().filter(|r| r.2).count();
        prop_assert_eq!(transactions.len(), executions + rows.len());
        let cash_in: Decimal = transactions.iter().filter_map(|t| t.amount).sum();
        let expected: Decimal = rows.iter().map(|r| if r.2 { r.1 + r.1 } else { r.1 }).sum();
        prop_assert_eq!(cash_in, expected);
        let units: Decimal = transactions.iter().filter_map(|t| t.quantity).sum();
        prop_assert_eq!(units, rows.iter().filter(|r| r.2).map(|r| r.0).sum::<Decimal>());
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_statement(&body, "c", 0);
        let _ = parse_send_response(&body);
    }

    #[test]
    fn truncated_and_flipped_statements_never_panic(
        body in valid_statement(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let bytes = body.as_bytes();
        prop_assert!(read_statement(bytes, "c", 0).is_ok());
        let _ = read_statement(&bytes[..cut.index(bytes.len() + 1)], "c", 0);
        let mut flipped = bytes.to_vec();
        for (at, xor) in flips {
            let at = at.index(flipped.len());
            flipped[at] ^= xor;
        }
        let _ = read_statement(&flipped, "c", 0);
        let _ = parse_send_response(&flipped);
    }
}
