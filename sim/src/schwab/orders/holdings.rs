//! What a fill does to the `Account` JSON that `GET /trader/v1/accounts` serves.
//!
//! Positions (the account's first non-option position whose `instrument.symbol` is the order's):
//! a BUY adds to its `longQuantity`, or appends a new position shaped like the seed's (all
//! quantities floats, `settledLongQuantity` and `previousSessionLongQuantity` 0.0 since it was
//! bought today, the quote's instrument facts); `averagePrice`, `averageLongPrice` and
//! `taxLotAverageLongPrice` become the quantity-weighted mean of the old average and the fill
//! price (4 places), and `currentDayCost` grows by the order value. A SELL lowers `longQuantity`
//! (`settledLongQuantity` is kept at most `longQuantity`) and removes the position at zero. A
//! touched position is revalued at the quote's `last`: `marketValue` = `longQuantity` × last,
//! `maintenanceRequirement` = 30 % of it in a MARGIN account (0 in a CASH account and for
//! money-market funds), `longOpenProfitLoss` = `marketValue` − `averageLongPrice` × `longQuantity`
//! (all to the cent).
//!
//! Balances: with D the cash move ([`super::money`] rule 5), M the change of the position's
//! `marketValue` and R that of its maintenance requirement, every field below that exists in
//! `initialBalances`, `currentBalances` or `projectedBalances` moves, to the cent (the simulator has
//! no trading days, so the start-of-day `initialBalances` move too, as if the day began after the
//! fill):
//! - by D: MARGIN `cashBalance`, `availableFunds`, `availableFundsNonMarginableTrade`,
//!   `buyingPower`, `buyingPowerNonMarginableTrade`, `stockBuyingPower`, `optionBuyingPower`, `sma`;
//!   CASH `cashBalance`, `totalCash`, `cashAvailableForTrading`, `cashAvailableForWithdrawal`;
//! - by M: `moneyMarketFund` for a money-market fund, else `longMarketValue`, `longStockValue`,
//!   `longMarginValue`, `longNonMarginableMarketValue`;
//! - by D + M: `liquidationValue`, `equity`, `marginEquity`, `accountValue`, and
//!   `aggregatedBalance.currentLiquidationValue` / `liquidationValue`;
//! - by R: `maintenanceRequirement`.

use super::form::Instruction;
use super::money::Costs;
use super::quotes::Quote;
use crate::ledger::{cents, number};
use crate::schwab::history::decimal_of;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The maintenance requirement on long securities in a MARGIN account (30 %).
pub const MAINTENANCE_RATE: Decimal = Decimal::from_parts(30, 0, 0, false, 2);

const MARGIN_CASH: [&str; 8] = [
    "cashBalance",
    "availableFunds",
    "availableFundsNonMarginableTrade",
    "buyingPower",
    "buyingPowerNonMarginableTrade",
    "stockBuyingPower",
    "optionBuyingPower",
    "sma",
];
const CASH_CASH: [&str; 4] = ["cashBalance", "totalCash", "cashAvailableForTrading", "cashAvailableForWithdrawal"];
const SECURITY_VALUE: [&str; 4] =
    ["longMarketValue", "longStockValue", "longMarginValue", "longNonMarginableMarketValue"];
const TOTALS: [&str; 4] = ["liquidationValue", "equity", "marginEquity", "accountValue"];
const BALANCES: [&str; 3] = ["initialBalances", "currentBalances", "projectedBalances"];

/// One execution to book into an account.
#[derive(Clone, Copy, Debug)]
pub struct Fill<'a> {
    pub quote: &'a Quote,
    pub quantity: Decimal,
    pub price: Decimal,
    pub costs: Costs,
}

fn is_position_in(position: &Value, symbol: &str) -> bool {
    let instrument = position.get("instrument");
    instrument.and_then(|i| i.get("symbol")).and_then(Value::as_str) == Some(symbol)
        && instrument.and_then(|i| i.get("assetType")).and_then(Value::as_str) != Some("OPTION")
}

/// The account's position in `symbol` (see the module doc), if it has one.
pub fn position_of<'a>(account: &'a Value, symbol: &str) -> Option<&'a Value> {
    let positions = account.pointer("/securitiesAccount/positions")?.as_array()?;
    positions.iter().find(|p| is_position_in(p, symbol))
}

/// The quantity of `symbol` the account holds long (0 when none).
pub fn long_quantity(account: &Value, symbol: &str) -> Decimal {
    position_of(account, symbol).and_then(|p| decimal_of(p.get("longQuantity"))).unwrap_or_default()
}

/// Whether `account` is a MARGIN account.
pub fn is_margin(account: &Value) -> bool {
    account.pointer("/securitiesAccount/type").and_then(Value::as_str) == Some("MARGIN")
}

fn get(position: &Map<String, Value>, key: &str) -> Decimal {
    decimal_of(position.get(key)).unwrap_or_default()
}

/// Sets `marketValue`, `maintenanceRequirement` and `longOpenProfitLoss` from the quote; returns
/// (market value, maintenance requirement).
fn revalue(position: &mut Map<String, Value>, quote: &Quote, margin: bool) -> (Decimal, Decimal) {
    let long = get(position, "longQuantity");
    let value = cents(long * quote.last);
    let maintenance =
        if margin && !quote.is_cash_equivalent() { cents(value * MAINTENANCE_RATE) } else { Decimal::ZERO };
    let open_pl = cents(value - get(position, "averageLongPrice") * long);
    position.insert("marketValue".into(), number(value));
    position.insert("maintenanceRequirement".into(), number(maintenance));
    position.insert("longOpenProfitLoss".into(), number(open_pl));
    (value, maintenance)
}

/// A new long position bought today.
fn new_position(fill: &Fill<'_>) -> Map<String, Value> {
    let quote = fill.quote;
    let mut instrument = Map::new();
    instrument.insert("assetType".into(), json!(quote.asset_type));
    if let Some(cusip) = &quote.cusip {
        instrument.insert("cusip".into(), json!(cusip));
    }
    instrument.insert("symbol".into(), json!(quote.symbol));
    if let Some(description) = &quote.description {
        instrument.insert("description".into(), json!(description));
    }
    if let Some(kind) = &quote.instrument_type {
        instrument.insert("type".into(), json!(kind));
    }
    instrument.insert("netChange".into(), json!(0.0));
    let price = number(fill.price);
    let position = json!({
        "shortQuantity": 0.0, "averagePrice": price, "currentDayProfitLoss": 0.0,
        "currentDayProfitLossPercentage": 0.0, "longQuantity": number(fill.quantity), "settledLongQuantity": 0.0,
        "settledShortQuantity": 0.0, "instrument": instrument, "averageLongPrice": price,
        "taxLotAverageLongPrice": price, "previousSessionLongQuantity": 0.0,
        "currentDayCost": number(fill.costs.value),
    });
    position.as_object().cloned().unwrap_or_default()
}

/// Adds a BUY to an existing position.
fn add_to(position: &mut Map<String, Value>, fill: &Fill<'_>) {
    let old = get(position, "longQuantity");
    let total = old + fill.quantity;
    let average = get(position, "averageLongPrice");
    let average = if average.is_zero() { get(position, "averagePrice") } else { average };
    let mean = ((average * old + fill.price * fill.quantity) / total).round_dp(4);
    for key in ["averagePrice", "averageLongPrice", "taxLotAverageLongPrice"] {
        position.insert(key.into(), number(mean));
    }
    position.insert("longQuantity".into(), number(total));
    let day_cost = get(position, "currentDayCost") + fill.costs.value;
    position.insert("currentDayCost".into(), number(day_cost));
}

/// Moves each of `keys` present in `object` by `delta`, to the cent.
fn shift(object: Option<&mut Value>, keys: &[&str], delta: Decimal) {
    let Some(Value::Object(object)) = object else { return };
    for key in keys {
        if let Some(old) = decimal_of(object.get(*key)) {
            object.insert((*key).to_owned(), number(cents(old + delta)));
        }
    }
}

/// Books `fill` of `instruction` into `account` (see the module doc). A SELL of more than the
/// long quantity, or of a symbol not held, is refused with the reason and changes nothing.
pub fn apply_fill(account: &mut Value, instruction: Instruction, fill: &Fill<'_>) -> Result<(), String> {
    let margin = is_margin(account);
    let symbol = fill.quote.symbol.as_str();
    let held = long_quantity(account, symbol);
    if instruction == Instruction::Sell && fill.quantity > held {
        return Err(format!(
            "the account holds {} {symbol}, fewer than the {} to sell",
            held.normalize(),
            fill.quantity
        ));
    }
    let Some(Value::Object(securities)) = account.get_mut("securitiesAccount") else {
        return Err("the account has no securitiesAccount".into());
    };
    let positions = securities.entry("positions").or_insert_with(|| json!([]));
    if !positions.is_array() {
        *positions = json!([]);
    }
    let Value::Array(positions) = positions else { return Err("positions is not a list".into()) };
    let index = positions.iter().position(|p| is_position_in(p, symbol));
    let before = index
        .and_then(|i| positions[i].as_object())
        .map_or((Decimal::ZERO, Decimal::ZERO), |p| (get(p, "marketValue"), get(p, "maintenanceRequirement")));
    let after = match (instruction, index) {
        (Instruction::Buy, None) => {
            let mut position = new_position(fill);
            let after = revalue(&mut position, fill.quote, margin);
            positions.push(Value::Object(position));
            after
        }
        (_, Some(i)) if instruction == Instruction::Sell && held == fill.quantity => {
            positions.remove(i);
            (Decimal::ZERO, Decimal::ZERO)
        }
        (_, Some(i)) => {
            let Some(position) = positions[i].as_object_mut() else { return Err("a position is not an object".into()) };
            if instruction == Instruction::Buy {
                add_to(position, fill);
            } else {
                let left = held - fill.quantity;
                position.insert("longQuantity".into(), number(left));
                let settled = get(position, "settledLongQuantity").min(left);
                position.insert("settledLongQuantity".into(), number(settled));
            }
            revalue(position, fill.quote, margin)
        }
        (Instruction::Sell, None) => return Err(format!("the account holds no {symbol}")),
    };
    let (cash, value, maintenance) = (fill.costs.cash_delta(), after.0 - before.0, after.1 - before.1);
    let cash_keys: &[&str] = if margin { &MARGIN_CASH } else { &CASH_CASH };
    let value_keys: &[&str] = if fill.quote.is_cash_equivalent() { &["moneyMarketFund"] } else { &SECURITY_VALUE };
    for balances in BALANCES {
        shift(securities.get_mut(balances), cash_keys, cash);
        shift(securities.get_mut(balances), value_keys, value);
        shift(securities.get_mut(balances), &TOTALS, cash + value);
        shift(securities.get_mut(balances), &["maintenanceRequirement"], maintenance);
    }
    shift(account.get_mut("aggregatedBalance"), &["currentLiquidationValue", "liquidationValue"], cash + value);
    Ok(())
}
