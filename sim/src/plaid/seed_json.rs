//! JSON renderings of an Item's seeded data, shaped after the OpenAPI spec's `InvestmentAccount`
//! (with `InvestmentAccountBalance`), `Holding`, `Security` and `Item` schemas. Amounts are JSON
//! numbers, as Plaid sends them. Balances: `current` = every holding's quantity × price, CAD
//! converted at 1 USD = [`USD_CAD`] CAD; `available` = the same over cash and money-market
//! holdings; both rounded to cents. `institution_value` = quantity × price, rounded to cents.
//! Holdings include the changes of investment transactions posted with `apply_to_holdings` (see
//! [`crate::ledger`]): a holding's quantity moves by the net change (a holding at 0 is left out)
//! and a seeded security the account does not hold is added (cost basis null); balances never change.

use super::seed::{security_by_ticker, SeedAccount, SeedHolding, SeedSecurity, USD_CAD};
use super::state::Item;
use crate::util::{date, rfc3339};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A Plaid-looking 37-character id derived from `label`: the same label always gives the same id.
pub fn stable_id(label: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = Sha256::digest(label.as_bytes()).to_vec();
    bytes.extend_from_slice(&Sha256::digest(format!("{label}#").as_bytes()));
    bytes.iter().take(37).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// The `security_id` of a seeded security (keyed by ticker, else CUSIP).
pub fn security_id(security: &SeedSecurity) -> String {
    stable_id(&format!("plaid-security:{}", security.ticker.or(security.cusip).unwrap_or(security.name)))
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// A decimal as a JSON number (Plaid's amounts are doubles on the wire).
fn number(d: Decimal) -> Value {
    d.normalize().to_string().parse::<f64>().map(|f| json!(f)).unwrap_or(Value::Null)
}

/// Rounded to cents, halves away from zero.
fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn value_of(holding: &SeedHolding) -> Decimal {
    dec(holding.quantity) * dec(holding.security.price)
}

fn in_account_currency(amount: Decimal, from: &str, to: &str) -> Decimal {
    match (from, to) {
        ("CAD", "USD") => amount / dec(USD_CAD),
        ("USD", "CAD") => amount * dec(USD_CAD),
        _ => amount,
    }
}

/// An `InvestmentAccount` object.
pub fn account_json(account_id: &str, seed: &SeedAccount) -> Value {
    let total = |only_cash: bool| -> Decimal {
        let sum: Decimal = seed
            .holdings
            .iter()
            .filter(|h| !only_cash || h.security.cash_equivalent)
            .map(|h| in_account_currency(value_of(h), h.security.currency, seed.currency))
            .sum();
        cents(sum)
    };
    json!({
        "account_id": account_id,
        "balances": {
            "available": number(total(true)),
            "current": number(total(false)),
            "limit": null,
            "iso_currency_code": seed.currency,
            "unofficial_currency_code": null,
            "margin_loan_amount": null,
        },
        "mask": seed.mask,
        "name": seed.name,
        "official_name": seed.official_name,
        "type": "investment",
        "subtype": seed.subtype,
    })
}

/// A `Holding` object of account `account_id`, priced as of `as_of` (Unix seconds).
pub fn holding_json(account_id: &str, holding: &SeedHolding, as_of: i64) -> Value {
    holding_of(account_id, holding.security, dec(holding.quantity), holding.cost_basis, as_of)
}

/// A `Holding` of `quantity` units of `security`.
fn holding_of(
    account_id: &str,
    security: &SeedSecurity,
    quantity: Decimal,
    cost_basis: Option<&str>,
    as_of: i64,
) -> Value {
    json!({
        "account_id": account_id,
        "security_id": security_id(security),
        "institution_price": number(dec(security.price)),
        "institution_price_as_of": date(as_of),
        "institution_price_datetime": null,
        "institution_value": number(cents(quantity * dec(security.price))),
        "cost_basis": cost_basis.map(|c| number(dec(c))),
        "quantity": number(quantity),
        "iso_currency_code": security.currency,
        "unofficial_currency_code": null,
        "vested_quantity": null,
        "vested_value": null,
    })
}

/// A `Security` object, priced as of `as_of` (Unix seconds).
pub fn security_json(security: &SeedSecurity, as_of: i64) -> Value {
    let fixed_income = security.fixed_income.as_ref().map(|fi| {
        json!({
            "yield_rate": {"percentage": number(dec(fi.coupon_percent)), "type": "coupon"},
            "issue_date": fi.issue_date,
            "maturity_date": fi.maturity_date,
            "face_value": number(dec(fi.face_value)),
        })
    });
    let is_currency = security.ticker.is_some_and(|t| t.starts_with("CUR:"));
    json!({
        "security_id": security_id(security),
        "isin": null,
        "cusip": security.cusip,
        "sedol": null,
        "institution_security_id": null,
        "institution_id": null,
        "proxy_security_id": null,
        "name": security.name,
        "ticker_symbol": security.ticker,
        "is_cash_equivalent": security.cash_equivalent,
        "type": security.kind,
        "subtype": security.subtype,
        "close_price": number(dec(security.price)),
        "close_price_as_of": if is_currency { Value::Null } else { json!(date(as_of)) },
        "update_datetime": if is_currency { Value::Null } else { json!(rfc3339(as_of)) },
        "iso_currency_code": security.currency,
        "unofficial_currency_code": null,
        "market_identifier_code": security.market,
        "sector": security.sector,
        "industry": null,
        "cfi_code": null,
        "option_contract": null,
        "fixed_income": fixed_income,
    })
}

/// The `Item` object; `error` is the Item's current error, if any.
pub fn item_json(item: &Item, error: Option<Value>) -> Value {
    json!({
        "item_id": item.item_id,
        "institution_id": item.institution.id,
        "institution_name": item.institution.name,
        "webhook": item.webhook,
        "auth_method": null,
        "error": error,
        "available_products": ["balance"],
        "billed_products": ["investments"],
        "products": ["investments"],
        "consented_products": ["investments"],
        "consent_expiration_time": null,
        "update_type": "background",
    })
}

/// The `/investments/holdings/get` body (without `request_id`) for the Item's accounts whose
/// indices `include` accepts.
pub fn holdings_json(item: &Item, include: &dyn Fn(usize) -> bool) -> Value {
    let mut accounts = Vec::new();
    let mut holdings = Vec::new();
    let mut securities: Vec<&SeedSecurity> = Vec::new();
    // A widened Item (`POST /__sim/plaid/accounts`) repeats the seeded accounts in order.
    let seeds = item.institution.accounts.iter().cycle().zip(&item.account_ids).enumerate();
    for (_, (seed, account_id)) in seeds.filter(|(i, _)| include(*i)) {
        accounts.push(account_json(account_id, seed));
        let changes = item.transactions.holdings(account_id);
        let mut held: Vec<(&'static SeedSecurity, Decimal, Option<&str>)> = Vec::new();
        for holding in seed.holdings {
            let change = holding.security.ticker.and_then(|t| changes.and_then(|c| c.get(t)));
            let quantity = dec(holding.quantity) + change.map_or(Decimal::ZERO, |c| c.units);
            if change.is_none() || !quantity.is_zero() {
                held.push((holding.security, quantity, holding.cost_basis));
            }
        }
        for (ticker, change) in changes.into_iter().flatten() {
            let already = seed.holdings.iter().any(|h| h.security.ticker == Some(ticker.as_str()));
            if let Some(security) = security_by_ticker(Some(item.institution), ticker).filter(|_| !already) {
                if !change.units.is_zero() {
                    held.push((security, change.units, None));
                }
            }
        }
        for (security, quantity, cost_basis) in held {
            holdings.push(holding_of(account_id, security, quantity, cost_basis, item.last_update));
            if !securities.iter().any(|s| std::ptr::eq(*s, security)) {
                securities.push(security);
            }
        }
    }
    let securities: Vec<Value> = securities.into_iter().map(|s| security_json(s, item.last_update)).collect();
    json!({ "accounts": accounts, "holdings": holdings, "securities": securities, "item": item_json(item, None) })
}

#[cfg(test)]
mod tests {
    use super::super::seed::institution;
    use super::*;

    #[test]
    fn balances_and_values_follow_the_seed() {
        let chase = &institution("ins_56").unwrap().accounts[0];
        let account = account_json("acc", chase);
        // 1250.75 + 8×198.7654 + 15.5×268.4321 + 42.123×71.2345 + 10×100.125 + 300.5/1.40
        assert_eq!(account["balances"]["current"], json!(11218.07));
        assert_eq!(account["balances"]["available"], json!(1465.39));
        let holding = holding_json("acc", &chase.holdings[2], 0);
        assert_eq!((&holding["quantity"], &holding["institution_value"]), (&json!(15.5), &json!(4160.7)));
        assert_eq!(holding["cost_basis"], json!(3500.0));
        assert_eq!(holding_json("acc", &chase.holdings[3], 0)["cost_basis"], Value::Null);
        assert_eq!(stable_id("x"), stable_id("x"));
        assert_eq!(stable_id("x").len(), 37);
    }
}
