//! `transactionTotals`: the core's exact per-currency totals of ledger rows
//! (`tributary_core::transactions::totals`), across the JS boundary.

use crate::boundary::{json_text, to_js};
use crate::error::ClientError;
use tributary_core::transactions::totals::{totals, CashEffect};
use wasm_bindgen::prelude::*;

/// Totals per currency of ledger rows (`Transaction[]`, or their JSON text), exact:
/// `{currency, amount, fees, count}` each, `amount` being the net cash effect (+ = into the
/// accounts). Throws `invalid_json` for something that is not a list of transactions and
/// `invalid_input` naming the row whose amount or fees is not a decimal.
#[wasm_bindgen(js_name = transactionTotals, unchecked_return_type = "TransactionTotal[]")]
pub fn transaction_totals(
    #[wasm_bindgen(unchecked_param_type = "Transaction[] | string")] transactions: JsValue,
) -> Result<JsValue, ClientError> {
    let text = json_text(&transactions, "transactions")?
        .ok_or_else(|| ClientError::invalid_input("transactions must be a list of transactions"))?;
    let rows: Vec<CashEffect> = serde_json::from_str(&text)
        .map_err(|e| ClientError::invalid_json(format!("transactions is not a list of transactions: {e}")))?;
    to_js(&totals(rows).map_err(ClientError::invalid_input)?)
}
