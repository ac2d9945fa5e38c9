//! Trading through `TributaryClient`: `searchSymbols` (`GET /api/accounts/{id}/symbols?q=`),
//! `previewOrder` (`POST /api/orders/preview`), `placeOrder` (`POST /api/orders` with an
//! `Idempotency-Key` kept per order, [`tributary_core::client::order_keys`]), `orders`, `order` and `cancelOrder`.
//!
//! The order itself is checked by the worker (its codes: `invalid_order` naming the field,
//! `symbol_not_found`, `trading_not_allowed`, …); this module only refuses arguments that cannot
//! make a request (an empty id: `invalid_input`). Answers are passed on as the worker wrote them:
//! decimals stay strings, a figure nobody knows stays `null`. Refusals are the package's
//! `TributaryError` with the worker's `code`, `message`, `status` and `retryAfter`.

use crate::boundary::json_text;
use crate::client::{promise, rejected, TributaryClient};
use crate::error::ClientError;
use crate::http::Api;
use crate::js::{self, get};
use crate::options;
use js_sys::Promise;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use tributary_core::client::order_keys::{fate_of_answer, fate_of_refusal, uuid_v4, KeyBook, PreviewedOrder};
use tributary_core::client::ClientFailure;
use tributary_core::url::{encode_component, encode_query};
use wasm_bindgen::prelude::*;

pub const ORDERS_PATH: &str = "/api/orders";
pub const PREVIEW_PATH: &str = "/api/orders/preview";
/// The header `placeOrder` sends its key in.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// `GET /api/accounts/{account}/symbols?q=`.
pub fn symbols_path(account_id: &str, q: &str) -> String {
    format!("/api/accounts/{}/symbols?{}", encode_component(account_id), encode_query(&[("q", q)]))
}

/// `/api/orders/{id}` plus `tail` (`""` or `"/cancel"`).
pub fn order_path(id: &str, tail: &str) -> String {
    format!("{ORDERS_PATH}/{}{tail}", encode_component(id))
}

/// `GET /api/orders` with the filters given.
pub fn orders_path(account_id: Option<&str>, state: Option<&str>) -> String {
    let pairs: Vec<(&str, &str)> =
        [("account_id", account_id), ("state", state)].into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
    match pairs.is_empty() {
        true => ORDERS_PATH.to_owned(),
        false => format!("{ORDERS_PATH}?{}", encode_query(&pairs)),
    }
}

/// A decimal the API wrote as a string (or a number), as text.
fn decimal_text(order: &JsValue, key: &str) -> Option<String> {
    let value = get(order, key);
    value.as_string().or_else(|| value.as_f64().map(|n| n.to_string()))
}

/// The preview id of a preview's answer and the order it names, `None` when it is no preview.
fn read_preview(answer: &JsValue) -> Option<(String, PreviewedOrder)> {
    let order = get(answer, "order");
    let text = |key: &str| js::get_string(&order, key);
    let previewed = PreviewedOrder {
        account_id: js::get_string(answer, "account_id")?,
        instrument: text("symbol_id").or_else(|| text("symbol"))?,
        action: text("action")?,
        order_type: text("order_type")?,
        time_in_force: text("time_in_force")?,
        units: decimal_text(&order, "units"),
        notional: decimal_text(&order, "notional"),
        limit_price: decimal_text(&order, "limit_price"),
        stop_price: decimal_text(&order, "stop_price"),
    };
    Some((js::get_string(answer, "preview_id")?, previewed))
}

/// `value` trimmed, or `invalid_input` naming `what` when nothing is left.
fn required(value: &str, what: &str) -> Result<String, ClientError> {
    let value = value.trim();
    match value.is_empty() {
        true => Err(ClientError::invalid_input(format!("{what} is required"))),
        false => Ok(value.to_owned()),
    }
}

/// The success body as a plain object that has `field` as an object, else `invalid_response`.
async fn answer_with(
    api: &Api,
    method: &str,
    path: &str,
    body: Option<&str>,
    field: &str,
) -> Result<JsValue, ClientError> {
    let answer = api.send_json(method, path, body).await?;
    match get(&answer, field).is_object() {
        true => Ok(answer),
        false => Err(ClientFailure::invalid_response(200, &format!("no {field} in the answer")).into()),
    }
}

/// The body of `POST /api/orders`.
#[derive(Serialize)]
struct PlaceBody<'a> {
    preview_id: &'a str,
}

/// Places `preview_id` under the key kept for its order, and keeps or forgets the key by the outcome.
async fn place(
    api: Rc<Api>,
    book: Rc<RefCell<KeyBook>>,
    preview_id: String,
    supplied: Option<String>,
) -> Result<JsValue, ClientError> {
    let name = book.borrow().order_name(&preview_id);
    let fresh = || js::random_bytes::<16>().map(uuid_v4);
    let key = book.borrow_mut().key_for(&name, supplied, fresh).ok_or_else(|| {
        ClientError::internal("no crypto.getRandomValues here to make an Idempotency-Key: pass {idempotencyKey}")
    })?;
    let body = serde_json::to_string(&PlaceBody { preview_id: &preview_id })
        .map_err(|e| ClientError::internal(format!("the place body: {e}")))?;
    let sent = api.send_with("POST", ORDERS_PATH, Some(&body), &[(IDEMPOTENCY_HEADER, &key)]).await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(failure) => {
            book.borrow_mut().settle(&name, &key, fate_of_refusal(&failure.code));
            return Err(failure.into());
        }
    };
    let placed = js::parse_json(&answer.body);
    let order = get(&placed, "order");
    if !order.is_object() {
        // Unreadable: whether it was placed is unknown, so the key stays for the retry.
        return Err(ClientFailure::invalid_response(answer.status, "no order in the answer").into());
    }
    let fate = fate_of_answer(answer.status, js::get_string(&order, "state").as_deref());
    book.borrow_mut().settle(&name, &key, fate);
    js::set(&placed, "idempotency_key", &JsValue::from_str(&key));
    Ok(placed)
}

#[wasm_bindgen]
impl TributaryClient {
    /// Instruments `accountId` can trade that match `q` (1–32 characters; `GET
    /// /api/accounts/{id}/symbols`): `{account_id, provider, symbols}`, at most 20. Throws
    /// `invalid_query` for a blank or too long `q`, `account_not_found` (404) and
    /// `trading_not_allowed` (403, the message says why: e.g. reconnect with trading).
    #[wasm_bindgen(js_name = searchSymbols, unchecked_return_type = "Promise<SymbolSearch>")]
    pub fn search_symbols(&self, #[wasm_bindgen(js_name = accountId)] account_id: String, q: String) -> Promise {
        let account = match required(&account_id, "accountId") {
            Ok(account) => account,
            Err(error) => return rejected(error),
        };
        let api = self.api();
        promise(async move { answer_with(&api, "GET", &symbols_path(&account, &q), None, "symbols").await })
    }

    /// Asks the broker what `order` would do (`POST /api/orders/preview`; the API's field names,
    /// decimals as strings): `{preview_id, expires_at, order, estimate, …}`, each estimate figure
    /// with its `source` (`brokerage`, `estimate` or `unavailable`, then `null`). The preview can
    /// be placed for 5 minutes. Throws `invalid_order` (the message starts with the field),
    /// `symbol_not_found` (422), `trading_not_allowed` / `trading_not_enabled` (403).
    #[wasm_bindgen(js_name = previewOrder, unchecked_return_type = "Promise<OrderPreview>")]
    pub fn preview_order(&self, #[wasm_bindgen(unchecked_param_type = "OrderInput")] order: JsValue) -> Promise {
        let body = match json_text(&order, "order") {
            Ok(Some(body)) => body,
            Ok(None) => return rejected(ClientError::invalid_input("order is required")),
            Err(error) => return rejected(error),
        };
        let (api, book) = (self.api(), self.order_keys());
        promise(async move {
            let answer = api.send_json("POST", PREVIEW_PATH, Some(&body)).await?;
            let (preview_id, order) =
                read_preview(&answer).ok_or_else(|| ClientFailure::invalid_response(200, "not an order preview"))?;
            book.borrow_mut().remember_preview(preview_id, order.fingerprint());
            Ok(answer)
        })
    }

    /// Places a preview (`POST /api/orders` with `Idempotency-Key`): `{order, replayed,
    /// idempotency_key}`. The key is made here (UUID v4) or taken from
    /// `options.idempotencyKey`, and kept for this order until its outcome is definitive, so
    /// calling again after a network failure, a 5xx, a 409 `order_in_progress` /
    /// `order_outcome_unknown` or a 202 (`order.state` `"unknown"`) — even with a new preview of
    /// the same order — can never place it twice. Throws
    /// `preview_expired` (410), `order_rejected` (422, the broker's reason), `trade_rate_limited`
    /// (429, `retryAfter`), `order_in_progress` (409, `retryAfter`), …
    #[wasm_bindgen(js_name = placeOrder, unchecked_return_type = "Promise<PlacedOrder>")]
    pub fn place_order(
        &self,
        #[wasm_bindgen(js_name = previewId)] preview_id: String,
        #[wasm_bindgen(unchecked_optional_param_type = "PlaceOrderOptions")] options: JsValue,
    ) -> Promise {
        let read = || -> Result<(String, Option<String>), ClientError> {
            let supplied = options::string(options::object(&options)?, "idempotencyKey")?;
            let supplied = supplied.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
            Ok((required(&preview_id, "previewId")?, supplied))
        };
        match read() {
            Ok((preview_id, supplied)) => promise(place(self.api(), self.order_keys(), preview_id, supplied)),
            Err(error) => rejected(error),
        }
    }

    /// The user's orders (`GET /api/orders`), refreshed from the broker: `{orders, warnings}`,
    /// newest first; `state` `"open"` (which includes `sending` and `unknown`), `"executed"` or
    /// `"all"` (the default), `accountId` one account's.
    #[wasm_bindgen(unchecked_return_type = "Promise<OrderList>")]
    pub fn orders(&self, #[wasm_bindgen(unchecked_optional_param_type = "OrderFilters")] filters: JsValue) -> Promise {
        let read = || -> Result<String, ClientError> {
            let filters = options::object(&filters)?;
            let (account, state) = (options::string(filters, "accountId")?, options::string(filters, "state")?);
            let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
            Ok(orders_path(given(&account).as_deref(), given(&state).as_deref()))
        };
        let path = match read() {
            Ok(path) => path,
            Err(error) => return rejected(error),
        };
        let api = self.api();
        promise(async move {
            let answer = api.send_json("GET", &path, None).await?;
            match js_sys::Array::is_array(&get(&answer, "orders")) {
                true => Ok(answer),
                false => Err(ClientFailure::invalid_response(200, "no orders list").into()),
            }
        })
    }

    /// One order, re-checked with the broker (`GET /api/orders/{id}`): `{order, events, warnings}`
    /// — `events` its audit trail. An `unknown` order is settled here once the broker lists it.
    #[wasm_bindgen(unchecked_return_type = "Promise<OrderDetail>")]
    pub fn order(&self, id: String) -> Promise {
        let id = match required(&id, "id") {
            Ok(id) => id,
            Err(error) => return rejected(error),
        };
        let api = self.api();
        promise(async move { answer_with(&api, "GET", &order_path(&id, ""), None, "order").await })
    }

    /// Cancels an open order (`POST /api/orders/{id}/cancel`): `{order}`, whose `state` is
    /// `cancelled`, or unchanged with the broker's `message`. Throws `order_not_cancellable` (409).
    #[wasm_bindgen(js_name = cancelOrder, unchecked_return_type = "Promise<CancelledOrder>")]
    pub fn cancel_order(&self, id: String) -> Promise {
        let id = match required(&id, "id") {
            Ok(id) => id,
            Err(error) => return rejected(error),
        };
        let api = self.api();
        promise(async move { answer_with(&api, "POST", &order_path(&id, "/cancel"), None, "order").await })
    }
}
