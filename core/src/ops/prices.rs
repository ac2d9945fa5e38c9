//! Per-call prices (`PROVIDER_CALL_PRICES`): a JSON object from `"<provider>:<operation>"` to a
//! decimal string (`{"plaid:investments_refresh": "0.10"}`), exact decimals, never floats. A
//! billed call with no price has an unknown cost (`None`), never zero.

use crate::domain::Provider;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Most prices a deployment may list.
pub const MAX_PRICES: usize = 200;

/// The configured price of each billed call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPrices(BTreeMap<(Provider, String), Decimal>);

impl CallPrices {
    /// Parses the variable; the problem is described without echoing a value.
    pub fn parse(json: &str) -> Result<Self, String> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|_| "must be a JSON object of \"provider:operation\": \"price\"")?;
        if map.len() > MAX_PRICES {
            return Err(format!("may list at most {MAX_PRICES} prices"));
        }
        let mut prices = BTreeMap::new();
        for (key, value) in map {
            let (provider, operation) =
                key.split_once(':').ok_or_else(|| format!("key {key:?} must be \"provider:operation\""))?;
            let provider = Provider::parse(provider).map_err(|_| format!("key {key:?} names no provider"))?;
            if operation.is_empty()
                || operation.len() > 64
                || !operation.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!("key {key:?} must name an operation in lower case, digits and '_'"));
            }
            let text = value.as_str().ok_or_else(|| format!("the price of {key:?} must be a decimal string"))?;
            let price = Decimal::from_str(text.trim())
                .ok()
                .filter(|p| !p.is_sign_negative())
                .ok_or_else(|| format!("the price of {key:?} must be a non-negative decimal"))?;
            prices.insert((provider, operation.to_owned()), price);
        }
        Ok(Self(prices))
    }

    /// The price of one successful `operation` call at `provider`, when configured.
    pub fn price(&self, provider: Provider, operation: &str) -> Option<Decimal> {
        self.0.get(&(provider, operation.to_owned())).copied()
    }

    /// The cost of `billed` successful calls per operation: `Some(sum)` when every operation with
    /// billed calls has a price (zero billed calls cost exactly zero), else `None` with the
    /// operations that have none.
    pub fn cost(&self, provider: Provider, billed: &BTreeMap<String, u64>) -> (Option<Decimal>, Vec<String>) {
        let mut total = Decimal::ZERO;
        let mut unpriced = Vec::new();
        for (operation, calls) in billed.iter().filter(|(_, n)| **n > 0) {
            match self.price(provider, operation) {
                Some(price) => total += price * Decimal::from(*calls),
                None => unpriced.push(operation.clone()),
            }
        }
        if unpriced.is_empty() {
            (Some(total), unpriced)
        } else {
            (None, unpriced)
        }
    }
}
