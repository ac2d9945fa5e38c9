//! A preview's figures and where each came from: the broker's own preview first, then an estimate
//! from Tributary's cached prices and cash, else unavailable (null) — never a made-up zero.

use super::{OrderAction, OrderForm, OrderSize};
use rust_decimal::Decimal;
use serde::Serialize;

/// Where a preview figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureSource {
    /// The broker's own preview (SnapTrade's order impact).
    Brokerage,
    /// Computed here from cached prices and cash.
    Estimate,
    /// Nobody knows it: the figure is null.
    Unavailable,
}

/// One figure with its source; `value` is `None` exactly when the source is `Unavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub value: Option<Decimal>,
    pub source: FigureSource,
}

impl Figure {
    fn from_broker(value: Option<Decimal>) -> Option<Self> {
        value.map(|v| Self { value: Some(v), source: FigureSource::Brokerage })
    }

    fn estimated(value: Option<Decimal>) -> Option<Self> {
        value.map(|v| Self { value: Some(v), source: FigureSource::Estimate })
    }

    const UNAVAILABLE: Self = Self { value: None, source: FigureSource::Unavailable };
}

/// What the broker's preview said (each figure nullable, as SnapTrade's impact is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerImpact {
    pub price: Option<Decimal>,
    pub commission: Option<Decimal>,
    pub fees: Option<Decimal>,
    pub remaining_cash: Option<Decimal>,
    pub currency: Option<String>,
    /// The instrument's ticker, when the broker's preview names it.
    pub symbol: Option<String>,
}

/// What Tributary's cache knows: the instrument's last price and the account's cash in that currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachedFacts {
    pub price: Option<Decimal>,
    pub cash: Option<Decimal>,
    pub currency: Option<String>,
}

/// A preview's estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub price: Figure,
    pub commission: Figure,
    pub fees: Figure,
    pub remaining_cash: Figure,
    pub currency: Option<String>,
}

impl Estimate {
    /// The wire shape: `{price, commission, fees, remaining_cash, currency, source: {...}}`, decimals as strings.
    pub fn to_json(&self) -> serde_json::Value {
        let value = |f: &Figure| f.value.map(|v| v.to_string());
        serde_json::json!({
            "price": value(&self.price),
            "commission": value(&self.commission),
            "fees": value(&self.fees),
            "remaining_cash": value(&self.remaining_cash),
            "currency": self.currency,
            "source": {
                "price": self.price.source,
                "commission": self.commission.source,
                "fees": self.fees.source,
                "remaining_cash": self.remaining_cash.source,
            },
        })
    }
}

/// The preview's figures: each from the broker when it gave one; the price otherwise from the
/// order's own limit or the cached price; the remaining cash otherwise from cached cash minus the
/// order's cost (plus for a sale) when price and cash are both known — commission and fees
/// included only when the broker gave them; commission and fees are never estimated.
pub fn estimate(order: &OrderForm, broker: Option<&BrokerImpact>, cached: &CachedFacts) -> Estimate {
    let broker_price = broker.and_then(|b| Figure::from_broker(b.price));
    let price = broker_price
        .or_else(|| Figure::estimated(order.limit_price))
        .or_else(|| Figure::estimated(cached.price))
        .unwrap_or(Figure::UNAVAILABLE);
    let commission = broker.and_then(|b| Figure::from_broker(b.commission)).unwrap_or(Figure::UNAVAILABLE);
    let fees = broker.and_then(|b| Figure::from_broker(b.fees)).unwrap_or(Figure::UNAVAILABLE);
    let cost = match order.size {
        OrderSize::Notional(amount) => Some(amount),
        OrderSize::Units(units) => price.value.and_then(|p| p.checked_mul(units)),
    };
    let charges = commission.value.unwrap_or_default() + fees.value.unwrap_or_default();
    let computed = match (cached.cash, cost) {
        (Some(cash), Some(cost)) => match order.action {
            OrderAction::Buy => cash.checked_sub(cost).and_then(|c| c.checked_sub(charges)),
            OrderAction::Sell => cash.checked_add(cost).and_then(|c| c.checked_sub(charges)),
        },
        _ => None,
    };
    let remaining_cash = broker
        .and_then(|b| Figure::from_broker(b.remaining_cash))
        .or_else(|| Figure::estimated(computed))
        .unwrap_or(Figure::UNAVAILABLE);
    let currency = broker.and_then(|b| b.currency.clone()).or_else(|| cached.currency.clone());
    Estimate { price, commission, fees, remaining_cash, currency }
}
