//! One transaction's content ([`Tx`]) and kind ([`Kind`]), a stored [`Row`], and the number
//! helpers both providers render with. Amounts are + = cash into the account; `units` is a
//! magnitude whose direction the kind gives.

use crate::ibkr::dates::Date;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

/// What a transaction is, in the simulator's own words (the control's `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Buy,
    Sell,
    Dividend,
    Interest,
    Fee,
    Tax,
    Deposit,
    Withdrawal,
    Split,
    TransferIn,
    TransferOut,
}

impl Kind {
    /// Every kind, in the order the control documents them.
    pub const ALL: [Kind; 11] = [
        Kind::Buy,
        Kind::Sell,
        Kind::Dividend,
        Kind::Interest,
        Kind::Fee,
        Kind::Tax,
        Kind::Deposit,
        Kind::Withdrawal,
        Kind::Split,
        Kind::TransferIn,
        Kind::TransferOut,
    ];

    /// The control's name: `buy`, `sell`, …, `transfer_in`, `transfer_out`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Buy => "buy",
            Kind::Sell => "sell",
            Kind::Dividend => "dividend",
            Kind::Interest => "interest",
            Kind::Fee => "fee",
            Kind::Tax => "tax",
            Kind::Deposit => "deposit",
            Kind::Withdrawal => "withdrawal",
            Kind::Split => "split",
            Kind::TransferIn => "transfer_in",
            Kind::TransferOut => "transfer_out",
        }
    }

    /// The kind named `name` (exactly as [`Kind::name`] spells it).
    pub fn parse(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind moves units of a security (and so needs a symbol and a quantity).
    pub fn moves_units(self) -> bool {
        self.unit_sign() != 0
    }

    /// +1 when the kind adds units to the position, -1 when it removes them, 0 for cash kinds.
    pub fn unit_sign(self) -> i8 {
        match self {
            Kind::Buy | Kind::Split | Kind::TransferIn => 1,
            Kind::Sell | Kind::TransferOut => -1,
            _ => 0,
        }
    }

    /// Whether the kind is a trade (settles on the next business day, carries a fee).
    pub fn is_trade(self) -> bool {
        matches!(self, Kind::Buy | Kind::Sell)
    }
}

/// One transaction's content (everything but its id and position in the ledger).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    pub kind: Kind,
    /// The ticker, for rows about a security.
    pub symbol: Option<String>,
    /// Units moved (a magnitude; 0 for cash rows).
    pub units: Decimal,
    /// Price per unit (0 when not applicable).
    pub price: Decimal,
    /// Cash effect, + = into the account.
    pub amount: Decimal,
    /// The fee, when the row carries one.
    pub fee: Option<Decimal>,
    /// Currency of `price`, `amount` and `fee` (ISO code, or e.g. a crypto code).
    pub currency: String,
    /// The trade (or posting) date.
    pub date: Date,
    /// Seconds after midnight UTC, when the time of day is known.
    pub time: Option<u32>,
    /// The institution's description; a default is made from the content when absent.
    pub description: Option<String>,
    /// Groups rows of one order.
    pub external_reference_id: Option<String>,
}

impl Tx {
    /// The signed change to the position: `units` × [`Kind::unit_sign`].
    pub fn position_change(&self) -> Decimal {
        self.units * Decimal::from(self.kind.unit_sign())
    }

    /// Trades settle on the next business day; every other row on its own date.
    pub fn settlement_date(&self) -> Date {
        if self.kind.is_trade() {
            self.date.next_business_day()
        } else {
            self.date
        }
    }

    /// The given description, or one made from the content (e.g. `BOUGHT 2 AAPL @ 190.50`).
    pub fn description(&self) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        let symbol = self.symbol.as_deref().unwrap_or("");
        let (units, price) = (self.units.normalize(), self.price.normalize());
        match self.kind {
            Kind::Buy => format!("BOUGHT {units} {symbol} @ {price}"),
            Kind::Sell => format!("SOLD {units} {symbol} @ {price}"),
            Kind::Dividend if symbol.is_empty() => format!("DIVIDEND RECEIVED ({})", self.currency),
            Kind::Dividend => format!("DIVIDEND RECEIVED {symbol}"),
            Kind::Interest => "INTEREST PAYMENT".to_owned(),
            Kind::Fee => "ACCOUNT FEE".to_owned(),
            Kind::Tax => "TAX WITHHELD".to_owned(),
            Kind::Deposit => "CASH CONTRIBUTION".to_owned(),
            Kind::Withdrawal => "CASH WITHDRAWAL".to_owned(),
            Kind::Split => format!("STOCK SPLIT {symbol} +{units} SHARES"),
            Kind::TransferIn => format!("TRANSFER IN {units} {symbol}"),
            Kind::TransferOut => format!("TRANSFER OUT {units} {symbol}"),
        }
    }
}

/// A stored transaction: its id, its insertion number and its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// Insertion order within the ledger (never reused).
    pub seq: u64,
    pub tx: Tx,
}

/// Rounded to cents, halves away from zero.
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A decimal as a JSON number (both providers send doubles); zero is always `0.0`, never `-0.0`.
pub fn number(d: Decimal) -> Value {
    if d.is_zero() {
        return json!(0.0);
    }
    d.normalize().to_string().parse::<f64>().map(|f| json!(f)).unwrap_or(Value::Null)
}

/// A decimal as its shortest exact string (`10`, `0.125`).
pub fn decimal_string(d: Decimal) -> String {
    if d.is_zero() {
        return "0".to_owned();
    }
    d.normalize().to_string()
}
