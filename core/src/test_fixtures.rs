//! Builders for holdings in tests: short to write, every field explicit where it matters.

use crate::domain::{
    Account, CashBalance, Currency, InstitutionSlug, Position, Provider, Quantity, SecurityKind, Ticker,
};
use rust_decimal::Decimal;
use std::str::FromStr;

pub const AS_OF: i64 = 1_800_000_000;

pub fn slug(s: &str) -> InstitutionSlug {
    InstitutionSlug::parse(s).unwrap()
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn account(provider: Provider, account_id: &str, institution: Option<&str>) -> Account {
    Account {
        provider,
        account_id: account_id.to_owned(),
        connection_id: Some(format!("conn-{account_id}")),
        institution: institution.map(slug),
        institution_name: None,
        name: Some(format!("Account {account_id}")),
        number_mask: None,
        account_type: Some("brokerage".to_owned()),
        currency: Some(Currency::parse("USD").unwrap()),
    }
}

pub fn position(
    provider: Provider,
    account_id: &str,
    institution: Option<&str>,
    ticker: &str,
    quantity: &str,
) -> Position {
    Position {
        provider,
        account_id: account_id.to_owned(),
        institution: institution.map(slug),
        security_key: ticker.to_owned(),
        ticker: Some(Ticker::parse(ticker).unwrap()),
        name: Some(format!("{ticker} Inc.")),
        kind: SecurityKind::Equity,
        quantity: Quantity(dec(quantity)),
        price: None,
        market_value: None,
        cost_basis: None,
        currency: Currency::parse("USD").unwrap(),
        as_of: AS_OF,
        detail: None,
    }
}

pub fn valued(mut position: Position, market_value: &str, cost_basis: Option<&str>) -> Position {
    position.market_value = Some(dec(market_value));
    position.cost_basis = cost_basis.map(dec);
    position
}

pub fn cash(
    provider: Provider,
    account_id: &str,
    institution: Option<&str>,
    currency: &str,
    amount: &str,
) -> CashBalance {
    CashBalance {
        provider,
        account_id: account_id.to_owned(),
        institution: institution.map(slug),
        currency: Currency::parse(currency).unwrap(),
        amount: dec(amount),
        buying_power: None,
        as_of: AS_OF,
    }
}
