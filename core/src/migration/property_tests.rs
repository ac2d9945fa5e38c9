//! Properties of the comparison over the providers' own wire shapes: the same holdings reported
//! by Plaid (one account, JSON numbers, a cash line) and by SnapTrade (split over accounts, decimal
//! strings) compare equal; any single quantity moved beyond the tolerance is the one difference.

use super::*;
use crate::institutions::resolve_institution;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const TICKERS: [&str; 6] = ["AAPL", "VOO", "MSFT", "NVDA", "VTI", "JPM"];
const NOW: i64 = 1_800_000_000;

/// A holding: ticker index, quantity (ten-thousandths) and the share of it SnapTrade's first
/// account holds (percent).
type Held = (usize, u32, u8);

fn quantity(units: u32) -> Decimal {
    Decimal::new(i64::from(units), 4)
}

fn plaid_shape(held: &[(usize, Decimal)]) -> Holdings {
    let security = |i: usize| {
        json!({"security_id": format!("sec-{i}"), "ticker_symbol": TICKERS[i], "type": "equity",
               "subtype": "common stock", "name": TICKERS[i], "cusip": null, "isin": null, "sedol": null,
               "institution_security_id": null, "institution_id": null, "proxy_security_id": null,
               "is_cash_equivalent": false, "close_price": null, "close_price_as_of": null,
               "iso_currency_code": "USD", "unofficial_currency_code": null, "market_identifier_code": null,
               "sector": null, "industry": null, "cfi_code": null, "option_contract": null, "fixed_income": null})
    };
    let holding = |id: String, q: &str| -> Value {
        serde_json::from_str(&format!(
            r#"{{"account_id": "acc-p", "security_id": "{id}", "quantity": {q}, "institution_price": 1,
                "institution_price_as_of": null, "institution_value": {q}, "cost_basis": null,
                "iso_currency_code": "USD", "unofficial_currency_code": null}}"#
        ))
        .unwrap()
    };
    let mut securities: Vec<Value> = held.iter().map(|(i, _)| security(*i)).collect();
    let mut cash = security(99 % TICKERS.len());
    (cash["security_id"], cash["ticker_symbol"], cash["type"]) = (json!("sec-usd"), json!("CUR:USD"), json!("cash"));
    securities.push(cash);
    let mut holdings: Vec<Value> = held.iter().map(|(i, q)| holding(format!("sec-{i}"), &q.to_string())).collect();
    holdings.push(holding("sec-usd".into(), "1250.75"));
    let raw = json!({
        "accounts": [{"account_id": "acc-p", "balances": {"available": null, "current": 1, "iso_currency_code": "USD",
            "limit": null, "unofficial_currency_code": null}, "mask": "4821", "name": "Brokerage",
            "official_name": null, "subtype": "brokerage", "type": "investment"}],
        "holdings": holdings, "securities": securities,
        "item": {"item_id": "item-1", "institution_id": "ins_11", "institution_name": "Charles Schwab", "webhook": null,
                 "error": null, "available_products": [], "billed_products": ["investments"],
                 "consent_expiration_time": null, "update_type": "background"},
        "request_id": "r"
    });
    crate::plaid::normalize_holdings(&raw, None, NOW).unwrap()
}

fn snaptrade_shape(held: &[(usize, Decimal, u8)]) -> Holdings {
    let mut holdings = Holdings::default();
    let mut results: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
    for (i, q, share) in held {
        let first = (*q * Decimal::from(*share) / Decimal::from(100)).round_dp(4);
        for (side, part) in [(0, first), (1, *q - first)] {
            if !part.is_zero() {
                results[side].push(json!({
                    "instrument": {"kind": "stock", "id": format!("i{i}"), "symbol": TICKERS[*i], "raw_symbol": TICKERS[*i]},
                    "units": part.to_string(), "price": "1", "cost_basis": null, "currency": "USD"
                }));
            }
        }
    }
    for (n, rows) in results.into_iter().enumerate() {
        let raw = json!({"id": format!("acc-s{n}"), "brokerage_authorization": "auth-1", "name": "Schwab",
                         "number": format!("****48{n}1"), "institution_name": "Charles Schwab", "raw_type": "Margin"});
        let account = crate::snaptrade::normalize_account(&raw, &resolve_institution).unwrap();
        let positions = crate::snaptrade::normalize_positions(&json!({"results": rows}), &account, NOW).unwrap();
        holdings.positions.extend(positions);
        holdings.accounts.push(account);
    }
    holdings
}

fn portfolio() -> impl Strategy<Value = Vec<Held>> {
    proptest::collection::btree_map(0..TICKERS.len(), (1u32..100_000_000, 0u8..=100), 1..=TICKERS.len())
        .prop_map(|m| m.into_iter().map(|(i, (q, share))| (i, q, share)).collect())
}

fn schwab() -> InstitutionSlug {
    InstitutionSlug::parse("charles_schwab").unwrap()
}

proptest! {
    #[test]
    fn the_same_holdings_in_plaid_and_snaptrade_shapes_compare_equal(held in portfolio()) {
        let plaid = plaid_shape(&held.iter().map(|(i, q, _)| (*i, quantity(*q))).collect::<Vec<_>>());
        let snaptrade = snaptrade_shape(&held.iter().map(|(i, q, s)| (*i, quantity(*q), *s)).collect::<Vec<_>>());
        let compared = compare(&plaid, &snaptrade, &schwab(), "item-1");
        prop_assert!(compared.comparison.equal, "{:?}", compared.comparison.differences);
        prop_assert_eq!(compared.totals_before.securities.len(), held.len());
        let reversed = compare(&snaptrade, &plaid, &schwab(), "item-1");
        prop_assert!(reversed.comparison.equal);
    }

    #[test]
    fn any_single_quantity_moved_beyond_the_tolerance_is_the_one_difference_listed(
        held in portfolio(),
        pick in any::<prop::sample::Index>(),
        delta in 2i64..50_000_000,
        down in any::<bool>(),
    ) {
        let changed = pick.index(held.len());
        let delta = Decimal::new(if down { -delta } else { delta }, 4);
        let plaid = plaid_shape(&held.iter().map(|(i, q, _)| (*i, quantity(*q))).collect::<Vec<_>>());
        let moved: Vec<(usize, Decimal, u8)> = held
            .iter()
            .enumerate()
            .map(|(n, (i, q, s))| (*i, quantity(*q) + if n == changed { delta } else { Decimal::ZERO }, *s))
            .collect();
        let snaptrade = snaptrade_shape(&moved);
        let compared = compare(&plaid, &snaptrade, &schwab(), "item-1");
        prop_assert!(!compared.comparison.equal);
        prop_assert_eq!(compared.comparison.differences.len(), 1);
        let difference = &compared.comparison.differences[0];
        prop_assert_eq!(difference.security_key.as_str(), TICKERS[held[changed].0]);
        prop_assert_eq!(difference.difference, delta);
        let equal_before = compare(&plaid, &plaid, &schwab(), "item-1");
        prop_assert!(equal_before.fingerprint != compared.fingerprint);
    }
}
