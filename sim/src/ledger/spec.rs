//! The rows `POST /__sim/transactions` accepts, checked and turned into [`Tx`] content. Amounts
//! are given in one convention (+ = cash into the account); quantities are positive and the kind
//! gives the direction. Every refusal is a message naming the row and the field.

use super::{cents, Kind, Tx};
use crate::ibkr::dates::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

/// One row of the control's `rows` array.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowSpec {
    pub kind: String,
    #[serde(default)]
    pub symbol: Option<String>,
    /// Decimal string (or JSON number): units, positive.
    #[serde(default)]
    pub quantity: Option<Value>,
    #[serde(default)]
    pub price: Option<Value>,
    /// Cash effect, + = into the account.
    #[serde(default)]
    pub amount: Option<Value>,
    #[serde(default)]
    pub fee: Option<Value>,
    #[serde(default)]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The provider id to use (else the simulator makes one).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub external_reference_id: Option<String>,
}

/// A decimal from a string or a JSON number.
fn decimal(value: &Option<Value>, field: &str) -> Result<Option<Decimal>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("{field} must be a decimal string, not {other}")),
    };
    text.parse::<Decimal>().map(Some).map_err(|_| format!("{field} {text:?} is not a decimal"))
}

/// Whether `code` looks like a currency code: 3 to 5 uppercase letters or digits.
pub fn is_currency_code(code: &str) -> bool {
    (3..=5).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl RowSpec {
    /// The row's id (if given) and content. `default_currency` picks the currency when the row
    /// names none (from its symbol, else the account's).
    pub fn into_tx(self, default_currency: &dyn Fn(Option<&str>) -> String) -> Result<(Option<String>, Tx), String> {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        let kind = Kind::parse(&self.kind)
            .ok_or_else(|| format!("kind {:?} is not one of {}", self.kind, names.join(", ")))?;
        let date = Date::parse_iso(&self.date).ok_or_else(|| format!("date {:?} is not YYYY-MM-DD", self.date))?;
        let symbol = self.symbol.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let quantity = decimal(&self.quantity, "quantity")?;
        let price = decimal(&self.price, "price")?;
        let amount = decimal(&self.amount, "amount")?;
        let fee = decimal(&self.fee, "fee")?;
        if price.is_some_and(|p| p.is_sign_negative() && !p.is_zero()) {
            return Err("price must not be negative".into());
        }
        if fee.is_some_and(|f| f.is_sign_negative() && !f.is_zero()) {
            return Err("fee must not be negative (it is a cost; the amount carries the cash effect)".into());
        }
        let units = if kind.moves_units() {
            if symbol.is_none() {
                return Err(format!("a {} row needs a symbol", kind.name()));
            }
            match quantity {
                Some(q) if q > Decimal::ZERO => q,
                Some(_) => return Err("quantity must be positive (the kind gives the direction)".into()),
                None => return Err(format!("a {} row needs a quantity", kind.name())),
            }
        } else if quantity.is_some() {
            return Err(format!("quantity is only for buy, sell, split and transfer rows, not {}", kind.name()));
        } else {
            Decimal::ZERO
        };
        let fee = if kind.is_trade() { Some(fee.unwrap_or_default()) } else { fee };
        let amount = match (amount, kind) {
            (Some(a), _) => a,
            (None, Kind::Buy | Kind::Sell) => {
                let price = price.ok_or_else(|| format!("a {} row needs a price or an amount", kind.name()))?;
                let gross = cents(units * price);
                let fee = fee.unwrap_or_default();
                if kind == Kind::Buy {
                    -gross - fee
                } else {
                    gross - fee
                }
            }
            (None, Kind::Split | Kind::TransferIn | Kind::TransferOut) => Decimal::ZERO,
            (None, _) => return Err(format!("a {} row needs an amount (+ = into the account)", kind.name())),
        };
        let currency = match self.currency.map(|c| c.trim().to_owned()) {
            Some(c) if is_currency_code(&c) => c,
            Some(c) => return Err(format!("currency {c:?} is not a currency code such as \"USD\"")),
            None => default_currency(symbol.as_deref()),
        };
        let id = match self.id.map(|i| i.trim().to_owned()) {
            Some(id) if id.is_empty() => return Err("id must not be empty".into()),
            other => other,
        };
        let tx = Tx {
            kind,
            symbol,
            units,
            price: price.unwrap_or_default(),
            amount,
            fee,
            currency,
            date,
            time: None,
            description: self.description.filter(|d| !d.trim().is_empty()),
            external_reference_id: self.external_reference_id.filter(|r| !r.trim().is_empty()),
        };
        Ok((id, tx))
    }
}

/// Parses every row of `rows`, naming the first bad one (`rows[i]: …`).
pub fn parse_rows(
    rows: Vec<RowSpec>,
    default_currency: &dyn Fn(Option<&str>) -> String,
) -> Result<Vec<(Option<String>, Tx)>, String> {
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| row.into_tx(default_currency).map_err(|e| format!("rows[{i}]: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<(Option<String>, Tx), String> {
        let spec: RowSpec = serde_json::from_value(v).map_err(|e| e.to_string())?;
        spec.into_tx(&|symbol| if symbol == Some("SHOP.TO") { "CAD".into() } else { "USD".into() })
    }

    #[test]
    fn buys_and_sells_get_their_cash_effect_and_currency_from_the_symbol() {
        let (_, buy) = parse(json!({"kind": "buy", "symbol": "AAPL", "quantity": "2", "price": "190.50",
                                    "fee": "1", "date": "2026-03-22"}))
        .unwrap();
        assert_eq!(
            (buy.amount, buy.currency.as_str(), buy.fee),
            ("-382.00".parse().unwrap(), "USD", Some(Decimal::ONE))
        );
        let (_, sell) =
            parse(json!({"kind": "sell", "symbol": "SHOP.TO", "quantity": 3, "price": "100", "date": "2026-03-22"}))
                .unwrap();
        assert_eq!(
            (sell.amount, sell.currency.as_str(), sell.position_change()),
            (Decimal::from(300), "CAD", Decimal::from(-3))
        );
        let (id, div) =
            parse(json!({"kind": "dividend", "amount": "8.72", "date": "2026-01-26", "id": "d-1"})).unwrap();
        assert_eq!((id.as_deref(), div.fee, div.units), (Some("d-1"), None, Decimal::ZERO));
    }

    #[test]
    fn refuses_rows_that_do_not_make_sense() {
        for bad in [
            json!({"kind": "gift", "amount": "1", "date": "2026-01-01"}),
            json!({"kind": "buy", "quantity": "1", "price": "1", "date": "2026-01-01"}),
            json!({"kind": "buy", "symbol": "A", "quantity": "-1", "price": "1", "date": "2026-01-01"}),
            json!({"kind": "buy", "symbol": "A", "quantity": "1", "date": "2026-01-01"}),
            json!({"kind": "fee", "date": "2026-01-01"}),
            json!({"kind": "fee", "amount": "-1", "quantity": "1", "date": "2026-01-01"}),
            json!({"kind": "fee", "amount": "x", "date": "2026-01-01"}),
            json!({"kind": "fee", "amount": "-1", "date": "2026-02-30"}),
            json!({"kind": "fee", "amount": "-1", "date": "2026-01-01", "currency": "usd"}),
            json!({"kind": "fee", "amount": "-1", "date": "2026-01-01", "id": ""}),
            json!({"kind": "fee", "amount": "-1", "date": "2026-01-01", "color": "red"}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
