//! The connection popup, carried out as the core decides (`tributary_core::client::connect` and
//! `::reconnect`): opened synchronously on the caller's click, sent to the chosen provider's flow
//! (or SnapTrade's portal in reconnect mode, or Plaid's Hosted Link in update mode), watched until
//! the flow posts its return or the popup closes, then finished with a Plaid exchange, a SnapTrade
//! sync, or for a Plaid repair the worker's repair check (never an exchange). [`handle_connect_redirect`] is
//! the popup's side of that conversation.

use crate::boundary::to_js;
use crate::client::{promise, rejected};
use crate::error::ClientError;
use crate::http::Api;
use crate::js::{self, get};
use js_sys::{Function, Object, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use tributary_core::client::connect::{self as rules, Completion, ConnectAnswer, FlowEnd, PopupWatch};
use tributary_core::client::reconnect::{reconnect_completion, reconnect_start, sync_request};
use tributary_core::client::requests::{PLAID_EXCHANGE_PATH, SCHWAB_CALLBACK_PATH, SNAPTRADE_SYNC_PATH};
use tributary_core::client::{ClientFailure, ConnectOptions, ConnectResult, ReturnParams};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Which flow a popup runs.
pub enum Flow {
    /// A new connection to an institution (name or slug), through the provider routing chooses.
    Connect { institution: String },
    /// The repair of one of the user's connections (its `id` from the connection lists).
    Reconnect { connection_id: String },
}

/// Starts a flow: the popup is opened before anything is awaited, to keep the click's user
/// activation; a request the core refuses is rejected before any popup opens.
pub fn start(api: Rc<Api>, flow: Flow, options: JsValue) -> Promise {
    let read = || -> Result<ConnectOptions, ClientError> {
        let options = crate::options::object(&options)?;
        Ok(ConnectOptions {
            need_trading: crate::options::boolean(options, "needTrading")?,
            redirect: crate::options::string(options, "redirect")?,
        })
    };
    let options = match read() {
        Ok(options) => options,
        Err(error) => return rejected(error),
    };
    let Some(origin) = js::page_origin() else {
        return rejected(ClientError::new(
            "popup_blocked",
            "connecting needs a browser window (there is no page here)",
        ));
    };
    let (path, body, asked, repairing) = match &flow {
        Flow::Connect { institution } => {
            ("/api/connections", rules::connect_request(institution, &options, &origin), institution.clone(), None)
        }
        Flow::Reconnect { connection_id } => match reconnect_start(connection_id, &options, &origin) {
            Ok(start) => (start.path, start.body, connection_id.clone(), Some((start.provider, start.url_field))),
            Err(error) => return rejected(ClientError::from_core(&error)),
        },
    };
    let features = [rules::POPUP_NAME, rules::POPUP_FEATURES].map(JsValue::from_str);
    let popup = js::call(&js::global(), "open", &[&JsValue::from_str(""), &features[0], &features[1]])
        .ok()
        .filter(|p| !p.is_null() && !p.is_undefined());
    let Some(popup) = popup else {
        return rejected(ClientError::new(
            "popup_blocked",
            "The browser blocked the connection window; allow pop-ups for this site and try again.",
        ));
    };
    let watch = ReturnWatch::start(&popup, &origin);
    promise(async move {
        let answer = match api.send("POST", path, Some(&body)).await {
            Ok(answer) => answer,
            Err(failure) => {
                let _ = js::call(&popup, "close", &[]);
                return Err(failure.into());
            }
        };
        let body = js::parse_json(&answer.body);
        let read = match repairing {
            None => ConnectAnswer::read(
                js::get_string(&body, "provider").as_deref(),
                js::get_string(&get(&body, "flow"), "url"),
                js::get_string(&get(&body, "decision"), "institution"),
            ),
            Some((provider, url_field)) => {
                ConnectAnswer::read(Some(provider.as_str()), js::get_string(&body, url_field), None)
            }
        };
        let chosen = read.map_err(|e| {
            let _ = js::call(&popup, "close", &[]);
            ClientError::from(ClientFailure::invalid_response(answer.status, &e))
        })?;
        js::set(&get(&popup, "location"), "href", &JsValue::from_str(&chosen.flow_url));
        let end = watch.ended().await;
        if end == FlowEnd::TimedOut {
            let _ = js::call(&popup, "close", &[]);
        }
        let (provider, institution) = (chosen.provider, chosen.institution(&asked));
        let finish = match &flow {
            Flow::Reconnect { connection_id } => reconnect_completion(provider, connection_id, &end),
            Flow::Connect { .. } => rules::completion(provider, &institution, &end),
        };
        let result = match finish {
            Completion::PlaidExchange { body } => {
                api.send("POST", PLAID_EXCHANGE_PATH, Some(&body)).await?;
                ConnectResult::Connected { provider, institution }
            }
            Completion::SnapTradeSync => {
                let reconnected = match &flow {
                    Flow::Reconnect { connection_id } => Some(connection_id.as_str()),
                    Flow::Connect { .. } => None,
                };
                api.send("POST", SNAPTRADE_SYNC_PATH, Some(&sync_request(reconnected))).await?;
                ConnectResult::Connected { provider, institution }
            }
            Completion::PlaidRepair { path } => {
                api.send("POST", &path, None).await?;
                ConnectResult::Connected { provider, institution }
            }
            Completion::SchwabCallback { body } => {
                api.send("POST", SCHWAB_CALLBACK_PATH, Some(&body)).await?;
                ConnectResult::Connected { provider, institution }
            }
            Completion::Cancelled { reason } => ConnectResult::Cancelled { provider, institution, reason },
        };
        to_js(&result)
    })
}

/// The query parameters a flow returned with (an object of strings), as the core reads them.
fn return_params(params: &JsValue) -> ReturnParams {
    ReturnParams {
        flow: js::get_string(params, "flow"),
        public_token: js::get_string(params, "public_token"),
        status: js::get_string(params, "status"),
        code: js::get_string(params, "code"),
        state: js::get_string(params, "state"),
        error: js::get_string(params, "error"),
    }
}

/// Watches `popup` from the moment it opens until it posts its return from `origin`, is closed, or
/// the flow times out. It listens before the API has even answered, so a return posted early is
/// never missed; dropping it stops listening and watching.
struct ReturnWatch {
    end: Rc<RefCell<Option<FlowEnd>>>,
    finished: Option<Promise>,
    on_message: Closure<dyn FnMut(JsValue)>,
    _on_tick: Closure<dyn FnMut()>,
    timer: JsValue,
}

impl ReturnWatch {
    /// Starts listening for `popup`'s message and checking whether it was closed.
    fn start(popup: &JsValue, origin: &str) -> Self {
        let end: Rc<RefCell<Option<FlowEnd>>> = Rc::new(RefCell::new(None));
        let mut resolve_slot = None;
        let finished = Promise::new(&mut |resolve, _| resolve_slot = Some(resolve));
        let resolve: Function = resolve_slot.expect("a promise calls its executor at once");
        let finish = {
            let (end, resolve) = (end.clone(), resolve.clone());
            move |outcome: FlowEnd| {
                if end.borrow().is_none() {
                    *end.borrow_mut() = Some(outcome);
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
        };
        let on_message = {
            let (finish, popup, origin) = (finish.clone(), popup.clone(), origin.to_owned());
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let data = get(&event, "data");
                let ours = get(&event, "origin").as_string().as_deref() == Some(origin.as_str())
                    && Object::is(&get(&event, "source"), &popup)
                    && get(&data, "type").as_string().as_deref() == Some(rules::CONNECTED_MESSAGE_TYPE);
                if ours {
                    finish(FlowEnd::Returned(return_params(&get(&data, "result"))));
                }
            })
        };
        let on_tick = {
            let (popup, mut checks, mut closed_in_a_row) = (popup.clone(), 0u32, 0u32);
            Closure::<dyn FnMut()>::new(move || {
                checks += 1;
                closed_in_a_row = if get(&popup, "closed").as_bool() == Some(true) { closed_in_a_row + 1 } else { 0 };
                match rules::watch_popup(checks, closed_in_a_row) {
                    PopupWatch::Wait => {}
                    PopupWatch::Closed => finish(FlowEnd::PopupClosed),
                    PopupWatch::TimedOut => finish(FlowEnd::TimedOut),
                }
            })
        };
        js::listen(&js::global(), "message", on_message.as_ref().unchecked_ref());
        let timer = js::set_interval(on_tick.as_ref().unchecked_ref(), rules::CLOSED_CHECK_MS);
        Self { end, finished: Some(finished), on_message, _on_tick: on_tick, timer }
    }

    /// How the flow ended (at once when it already has).
    async fn ended(mut self) -> FlowEnd {
        if let Some(finished) = self.finished.take() {
            let _ = JsFuture::from(finished).await;
        }
        let outcome = self.end.borrow_mut().take();
        outcome.unwrap_or(FlowEnd::PopupClosed)
    }
}

impl Drop for ReturnWatch {
    fn drop(&mut self) {
        js::clear_interval(&self.timer);
        js::unlisten(&js::global(), "message", self.on_message.as_ref().unchecked_ref());
    }
}

/// Call this first thing on the page your `redirect` points at (by default `/?flow=return`). In
/// the popup returning from the provider, it posts `{type: "tributary:connected", result: <the
/// query parameters>}` to the same-origin window that opened it, closes the popup and returns
/// true; anywhere else it does nothing and returns false.
#[wasm_bindgen(js_name = handleConnectRedirect)]
pub fn handle_connect_redirect() -> bool {
    let Some(params) = js::page_query() else { return false };
    if !return_params(&params).is_flow_return() {
        return false;
    }
    let window = js::global();
    let opener = get(&window, "opener");
    let origin = js::page_origin();
    // Reading a cross-origin opener's origin throws, which `get` turns into `undefined`.
    let same_origin = origin.is_some() && get(&get(&opener, "location"), "origin").as_string() == origin;
    if !same_origin {
        return false;
    }
    let message = js::object(&[("type", JsValue::from_str(rules::CONNECTED_MESSAGE_TYPE)), ("result", params)]);
    let origin = JsValue::from_str(origin.as_deref().unwrap_or_default());
    if js::call(&opener, "postMessage", &[&message, &origin]).is_err() {
        return false;
    }
    let _ = js::call(&window, "close", &[]);
    true
}
