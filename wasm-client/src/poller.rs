//! `PendingUpdatesPoller`: polls `GET /api/pending-updates` on a timer and when the tab comes back
//! into view, tells the app when the flags change (and, on its own, when a provider's
//! transactions flag is raised), refreshes only the providers with new holdings and syncs only
//! those with new transactions. The rules (what counts as a change, which providers to refresh,
//! the interval bounds) are the core's; the transactions flags are read by [`crate::pending`].

use crate::boundary::{parse_js, to_js};
use crate::client::{promise, TributaryClient};
use crate::error::ClientError;
use crate::http::Api;
use crate::js::{self, get};
use crate::ledger::{sync_body, NOTHING_TO_SYNC, SYNC_PATH};
use crate::pending::read_pending;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use tributary_core::client::options::PollerOptions;
use tributary_core::client::poller::Pending;
use tributary_core::client::requests::{nothing_pending_answer, RefreshOptions, REFRESH_PATH};
use wasm_bindgen::prelude::*;

/// The timer and listeners of a started poller; dropping it removes them all.
struct Running {
    timer: JsValue,
    tick: Closure<dyn FnMut()>,
    visibility: Closure<dyn FnMut()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        js::clear_interval(&self.timer);
        js::unlisten(&js::global(), "focus", self.tick.as_ref().unchecked_ref());
        let document = get(&js::global(), "document");
        js::unlisten(&document, "visibilitychange", self.visibility.as_ref().unchecked_ref());
    }
}

struct PollerState {
    api: Rc<Api>,
    interval_ms: u32,
    on_change: Option<Function>,
    on_error: Option<Function>,
    on_transactions: Option<Function>,
    flags: RefCell<Option<Pending>>,
    /// Polls started and the latest one whose answer was applied, so an older answer arriving
    /// late never overwrites a newer one.
    started: Cell<u64>,
    applied: Cell<u64>,
    running: RefCell<Option<Running>>,
}

impl PollerState {
    async fn poll(&self) -> Result<Pending, ClientError> {
        let number = self.started.get() + 1;
        self.started.set(number);
        let flags = read_pending(&self.api).await?;
        if number > self.applied.get() {
            self.applied.set(number);
            let previous = self.flags.replace(Some(flags.clone()));
            // An exception in the app's callbacks is the app's; polling carries on.
            if let (true, Some(on_change)) = (flags.is_news_after(previous.as_ref()), &self.on_change) {
                let _ = on_change.call1(&JsValue::NULL, &to_js(&flags)?);
            }
            let raised = flags.transactions_raised(previous.as_ref());
            if let (false, Some(on_transactions)) = (raised.is_empty(), &self.on_transactions) {
                let _ = on_transactions.call2(&JsValue::NULL, &to_js(&raised)?, &to_js(&flags)?);
            }
        }
        Ok(self.current().unwrap_or(flags))
    }

    /// The latest flags applied, if any.
    fn current(&self) -> Option<Pending> {
        self.flags.borrow().clone()
    }

    /// A poll nobody awaits (timer, focus): its failure goes to `onError`, if given.
    fn poll_in_background(state: Weak<Self>) {
        let Some(state) = state.upgrade() else { return };
        wasm_bindgen_futures::spawn_local(async move {
            if let (Err(error), Some(on_error)) = (state.poll().await, &state.on_error) {
                let _ = on_error.call1(&JsValue::NULL, &JsValue::from(error));
            }
        });
    }
}

/// Watches for new data at the providers: polls `GET /api/pending-updates` every `intervalMs`
/// (default 5 minutes) and whenever the window gains focus or the tab becomes visible, exposes
/// the per-provider `flags` with a combined `any` (and the `transactions` flags with
/// `any_transactions`), refreshes only the providers with new holdings and syncs only those with
/// new transactions.
#[wasm_bindgen]
pub struct PendingUpdatesPoller {
    state: Rc<PollerState>,
}

#[wasm_bindgen]
impl PendingUpdatesPoller {
    /// A poller sending through `client`. `onChange` hears the first answer and every change
    /// (of a holdings or a transactions flag); `onTransactions` hears which providers' transactions
    /// flags were raised (on the first answer too), with the flags; `onError` hears failed
    /// background polls. Throws `invalid_input` for an interval outside 100 ms – 24 h.
    #[wasm_bindgen(constructor)]
    pub fn new(
        client: &TributaryClient,
        #[wasm_bindgen(unchecked_optional_param_type = "PollerOptions")] options: JsValue,
    ) -> Result<PendingUpdatesPoller, ClientError> {
        let options = crate::options::object(&options)?;
        let on_change = crate::options::function(options, "onChange")?;
        let on_error = crate::options::function(options, "onError")?;
        let on_transactions = crate::options::function(options, "onTransactions")?;
        let read = PollerOptions { interval_ms: crate::options::number(options, "intervalMs")? };
        let interval_ms = read.interval_ms().map_err(|e| ClientError::from_core(&e))?;
        let state = PollerState {
            api: client.api(),
            interval_ms,
            on_change,
            on_error,
            on_transactions,
            flags: RefCell::new(None),
            started: Cell::new(0),
            applied: Cell::new(0),
            running: RefCell::new(None),
        };
        Ok(Self { state: Rc::new(state) })
    }

    /// Polls now, then every `intervalMs`, on window focus and when the tab becomes visible.
    /// Calling it again while started does nothing.
    pub fn start(&self) {
        if self.state.running.borrow().is_some() {
            return;
        }
        let weak = Rc::downgrade(&self.state);
        let tick = {
            let weak = weak.clone();
            Closure::<dyn FnMut()>::new(move || PollerState::poll_in_background(weak.clone()))
        };
        let visibility = {
            let weak = weak.clone();
            Closure::<dyn FnMut()>::new(move || {
                let document = get(&js::global(), "document");
                if get(&document, "visibilityState").as_string().as_deref() == Some("visible") {
                    PollerState::poll_in_background(weak.clone());
                }
            })
        };
        let timer = js::set_interval(tick.as_ref().unchecked_ref(), self.state.interval_ms);
        js::listen(&js::global(), "focus", tick.as_ref().unchecked_ref());
        js::listen(&get(&js::global(), "document"), "visibilitychange", visibility.as_ref().unchecked_ref());
        *self.state.running.borrow_mut() = Some(Running { timer, tick, visibility });
        PollerState::poll_in_background(weak);
    }

    /// Stops polling: clears the timer and removes the listeners.
    pub fn stop(&self) {
        self.state.running.borrow_mut().take();
    }

    /// Polls now and resolves with the flags.
    #[wasm_bindgen(unchecked_return_type = "Promise<PendingFlags>")]
    pub fn poll(&self) -> js_sys::Promise {
        let state = self.state.clone();
        promise(async move { to_js(&state.poll().await?) })
    }

    /// The latest flags (all false before the first answer).
    #[wasm_bindgen(getter, unchecked_return_type = "PendingFlags")]
    pub fn flags(&self) -> JsValue {
        to_js(&self.state.current().unwrap_or_default()).unwrap_or(JsValue::NULL)
    }

    /// Refreshes only the flagged providers (polling first if it never has), then polls again.
    /// With nothing flagged it makes no request and resolves `{decision: "nothing_pending",
    /// results: []}`. Throws like `TributaryClient.refresh` (429 with `retryAfter`, 402 cost cap).
    #[wasm_bindgen(unchecked_return_type = "Promise<RefreshResult>")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ confirmCost?: boolean }")] options: JsValue,
    ) -> js_sys::Promise {
        let state = self.state.clone();
        let confirm_cost =
            match crate::options::object(&options).and_then(|o| crate::options::boolean(o, "confirmCost")) {
                Ok(confirm) => confirm.unwrap_or(false),
                Err(error) => return crate::client::rejected(error),
            };
        promise(async move {
            let flags = match state.current() {
                Some(flags) => flags,
                None => state.poll().await?,
            };
            let providers = flags.holdings.providers_to_refresh();
            if providers.is_empty() {
                return parse_js(nothing_pending_answer());
            }
            let body = RefreshOptions { providers: Some(providers), confirm_cost }.request_body();
            let answer = state.api.send_json("POST", REFRESH_PATH, Some(&body)).await?;
            if let (Err(error), Some(on_error)) = (state.poll().await, &state.on_error) {
                let _ = on_error.call1(&JsValue::NULL, &JsValue::from(error));
            }
            Ok(answer)
        })
    }

    /// Syncs the transactions of only the providers whose transactions flag is raised (polling
    /// first if it never has), then polls again. With none raised it makes no request and
    /// resolves `{results: []}`. Throws like `TributaryClient.syncTransactions` (429 with
    /// `retryAfter`).
    #[wasm_bindgen(js_name = syncTransactions, unchecked_return_type = "Promise<SyncResult>")]
    pub fn sync_transactions(&self) -> js_sys::Promise {
        let state = self.state.clone();
        promise(async move {
            let flags = match state.current() {
                Some(flags) => flags,
                None => state.poll().await?,
            };
            let providers = flags.transactions_pending();
            if providers.is_empty() {
                return parse_js(NOTHING_TO_SYNC);
            }
            let answer = state.api.send_json("POST", SYNC_PATH, Some(&sync_body(Some(&providers)))).await?;
            if let (Err(error), Some(on_error)) = (state.poll().await, &state.on_error) {
                let _ = on_error.call1(&JsValue::NULL, &JsValue::from(error));
            }
            Ok(answer)
        })
    }
}
