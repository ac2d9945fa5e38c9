//! `GET /api/pending-updates` read into the flags the package hands out: the core's holdings
//! flags (`snaptrade`, `plaid`, `schwab`, `any`) and, beside them, which providers a webhook
//! announced new transactions for (`transactions`, with `any_transactions`). An answer without a
//! `transactions` object (a worker from before the ledger) has none pending; a provider name this
//! package does not know is left out (a newer worker); a flag that is not a boolean is
//! `invalid_response`. Holdings flags keep their meaning: `any` never counts transactions, so a
//! holdings refresh is never asked for because of new activity.

use crate::error::ClientError;
use crate::http::Api;
use serde::Serialize;
use std::collections::BTreeMap;
use tributary_core::client::poller::should_notify;
use tributary_core::client::requests::PENDING_UPDATES_PATH;
use tributary_core::client::{ClientFailure, PendingFlags};
use tributary_core::Provider;
use wasm_bindgen::{JsCast, JsValue};

/// Everything `GET /api/pending-updates` says is waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// Holdings: per provider, and `any`.
    #[serde(flatten)]
    pub holdings: PendingFlags,
    /// New transactions announced, per provider the answer named.
    pub transactions: BTreeMap<Provider, bool>,
    /// Whether any provider has new transactions announced.
    pub any_transactions: bool,
}

impl Pending {
    /// The flags from the holdings flags and the per-provider transactions flags.
    pub fn new(holdings: PendingFlags, transactions: BTreeMap<Provider, bool>) -> Self {
        let any_transactions = transactions.values().any(|pending| *pending);
        Self { holdings, transactions, any_transactions }
    }

    /// The providers with new transactions announced, in the core's provider order.
    pub fn transactions_pending(&self) -> Vec<Provider> {
        self.transactions.iter().filter(|(_, pending)| **pending).map(|(provider, _)| *provider).collect()
    }

    /// The providers whose transactions flag is raised in `self` and was not in `previous` (every
    /// raised one on the first answer).
    pub fn transactions_raised(&self, previous: Option<&Pending>) -> Vec<Provider> {
        let was = |provider: &Provider| previous.and_then(|p| p.transactions.get(provider)).copied().unwrap_or(false);
        self.transactions_pending().into_iter().filter(|provider| !was(provider)).collect()
    }

    /// Whether the app hears about `self` after `previous`: the core's rule for holdings, and any
    /// change of a transactions flag.
    pub fn is_news_after(&self, previous: Option<&Pending>) -> bool {
        match previous {
            None => true,
            Some(before) => {
                should_notify(Some(&before.holdings), &self.holdings) || before.transactions != self.transactions
            }
        }
    }
}

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
