//! `GET /api/pending-updates` read into the flags the package hands out (the core's [`Pending`]): the holdings
//! flags (`snaptrade`, `plaid`, `schwab`, `any`) and, beside them, which providers a webhook
//! announced new transactions for (`transactions`, with `any_transactions`). An answer without a
//! `transactions` object (a worker from before the ledger) has none pending; a provider name this
//! package does not know is left out (a newer worker); a flag that is not a boolean is
//! `invalid_response`. Holdings flags keep their meaning: `any` never counts transactions, so a
//! holdings refresh is never asked for because of new activity.

use crate::error::ClientError;
use crate::http::Api;
use std::collections::BTreeMap;
use tributary_core::client::poller::Pending;
use tributary_core::client::requests::PENDING_UPDATES_PATH;
use tributary_core::client::{ClientFailure, PendingFlags};
use tributary_core::Provider;
use wasm_bindgen::{JsCast, JsValue};

fn not_a_flag(name: &str) -> ClientError {
    ClientFailure::invalid_response(200, &format!("{name} is not true or false")).into()
}

/// A holdings flag of the answer: `None` when left out.
fn holdings_flag(answer: &JsValue, provider: &str) -> Result<Option<bool>, ClientError> {
    let value = crate::js::get(answer, provider);
    match (value.is_undefined(), value.as_bool()) {
        (true, _) => Ok(None),
        (false, Some(flag)) => Ok(Some(flag)),
        (false, None) => Err(not_a_flag(provider)),
    }
}

/// The answer's `transactions` object as flags of known providers (absent: none).
fn transactions_flags(answer: &JsValue) -> Result<BTreeMap<Provider, bool>, ClientError> {
    let object = crate::js::get(answer, "transactions");
    if object.is_undefined() || object.is_null() {
        return Ok(BTreeMap::new());
    }
    if !object.is_object() || js_sys::Array::is_array(&object) {
        return Err(ClientFailure::invalid_response(200, "transactions is not an object of flags").into());
    }
    let mut flags = BTreeMap::new();
    for name in js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()) {
        let Ok(provider) = Provider::parse(&name) else { continue };
        let flag =
            crate::js::get(&object, &name).as_bool().ok_or_else(|| not_a_flag(&format!("transactions.{name}")))?;
        flags.insert(provider, flag);
    }
    Ok(flags)
}

/// `GET /api/pending-updates` read into [`Pending`].
pub async fn read_pending(api: &Api) -> Result<Pending, ClientError> {
    let answer = api.send_json("GET", PENDING_UPDATES_PATH, None).await?;
    let holdings = PendingFlags::from_answer(holdings_flag(&answer, "snaptrade")?, holdings_flag(&answer, "plaid")?);
    Ok(Pending::new(holdings, transactions_flags(&answer)?))
}
