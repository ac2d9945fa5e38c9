//! The test-only fill (`POST /__sim/schwab/orders/fill`): executes an open order in full, books it
//! into the account ([`super::holdings`]) and its transaction history, with the time passed in.

use super::book::{Execution, Order, OrderStatus};
use super::form::Instruction;
use super::holdings::{apply_fill, Fill};
use super::money;
use super::quotes::{self, Quote};
use super::Now;
use crate::ibkr::dates::Date;
use crate::ledger::{Kind, Tx};
use crate::schwab::history::{accounts_of, activity_id, ensure_histories};
use crate::schwab::seed::account_number;
use crate::schwab::state::SchwabState;
use rust_decimal::Decimal;

/// Why a fill was refused: (HTTP status for the control, message).
pub type FillError = (u16, String);

/// Executes open order `id` of `customer` in full at `price` (default: the quote's last): the
/// order becomes FILLED, a TRADE transaction is added to the account's history, and the
/// positions and balances move as [`super::holdings`] says.
pub fn fill(
    state: &mut SchwabState,
    customer: &str,
    id: u64,
    price: Option<Decimal>,
    now: Now,
) -> Result<Order, FillError> {
    let order = state.orders.customer_order_mut(customer, id).ok_or((404, format!("no order {id} of {customer:?}")))?;
    if !order.status.is_open() {
        return Err((400, format!("order {id} is {}, not open", order.status.as_str())));
    }
    let order = order.clone();
    let account = accounts_of(state, customer).into_iter().find(|a| a.hash == order.account_hash);
    let account = account.ok_or((404, format!("the account of order {id} is gone")))?;
    let quote = quotes::quote(&order.symbol, &account.account);
    let price = price
        .or(quote.as_ref().map(|q| q.last))
        .ok_or((400, format!("price is required: no quote for {}", order.symbol)))?;
    let quote = quote.unwrap_or_else(|| Quote {
        symbol: order.symbol.clone(),
        asset_type: order.asset_type.clone(),
        instrument_type: None,
        cusip: order.cusip.clone(),
        description: None,
        bid: price,
        ask: price,
        last: price,
        mark: price,
    });
    let costs = money::costs(order.instruction, order.quantity, price);
    let unix = now.unix_ms.div_euclid(1000);
    let today = Date::from_days(unix.div_euclid(86_400));
    // The default history is made from the positions before the fill, so with the fill's own row
    // it still nets to the positions after it.
    ensure_histories(state, customer, today);
    let stored = state.accounts_mut(customer).iter_mut().find(|a| account_number(a) == Some(account.number.as_str()));
    let stored = stored.ok_or((404, format!("the account of order {id} is gone")))?;
    let fill = Fill { quote: &quote, quantity: order.quantity, price, costs };
    apply_fill(stored, order.instruction, &fill).map_err(|why| (400, format!("order {id} cannot be filled: {why}")))?;
    let tx = Tx {
        kind: if order.instruction == Instruction::Buy { Kind::Buy } else { Kind::Sell },
        symbol: Some(order.symbol.clone()),
        units: order.quantity,
        price,
        amount: costs.cash_delta(),
        fee: Some(costs.charges()),
        currency: "USD".into(),
        date: today,
        time: u32::try_from(unix.rem_euclid(86_400)).ok(),
        description: None,
        external_reference_id: Some(id.to_string()),
    };
    // Ids come from the ledger's insertion numbers, so the append cannot collide.
    let ids = state.transactions.append(&order.account_hash, vec![(None, tx)], false, &activity_id);
    let activity_id = ids.ok().and_then(|ids| ids.first().and_then(|i| i.parse().ok())).unwrap_or_default();
    let order = state.orders.customer_order_mut(customer, id).ok_or((404, format!("no order {id}")))?;
    (order.status, order.filled_quantity, order.closed_ms) = (OrderStatus::Filled, order.quantity, Some(now.unix_ms));
    order.execution = Some(Execution { activity_id, price, at_ms: now.unix_ms });
    Ok(order.clone())
}
