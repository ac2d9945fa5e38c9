//! `TributaryClient`: the app's handle on the Tributary API. Each method sends its requests
//! through [`crate::http::Api`] (core-classified answers, core-bounded retries) and returns a
//! promise; `holdings` merges the providers' answers with the same core merge as
//! `mergePortfolios`, entirely in Rust. A failed provider is reported, never thrown.

use crate::boundary::parse_js;
use crate::error::ClientError;
use crate::http::Api;
use crate::merge::merge_portfolios_json;
use crate::options;
use js_sys::{Array, Function, Promise};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use tributary_core::client::order_keys::KeyBook;
use tributary_core::client::requests::{self, ProviderRead, RefreshOptions};
use tributary_core::client::{ClientFailure, ClientOptions};
use tributary_core::merge::MergeView;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Work for a promise, boxed so one promise adapter serves every method (smaller module).
type Work = Pin<Box<dyn Future<Output = Result<JsValue, ClientError>>>>;

fn boxed_promise(work: Work) -> Promise {
    future_to_promise(async move { work.await.map_err(JsValue::from) })
}

/// A promise of `work`'s answer, rejected with a `TributaryError` when it fails.
pub fn promise(work: impl Future<Output = Result<JsValue, ClientError>> + 'static) -> Promise {
    boxed_promise(Box::pin(work))
}

/// A promise already rejected with `error`.
pub fn rejected(error: ClientError) -> Promise {
    Promise::reject(&JsValue::from(error))
}

/// Talks to the Tributary API for one signed-in user: institution search, connecting through the
/// provider Tributary chooses, merged holdings, pending updates and refreshes, the ledger, and
/// trading (symbol search, previews, places under a kept `Idempotency-Key`, orders, cancels).
///
/// Network failures and 5xx answers (except 501) are retried with bounded exponential backoff;
/// 429 (`retryAfter`), 402 cost caps (`nextAllowedAt`, `reason`) and other 4xx are thrown at once.
/// Every failure is thrown as a `TributaryError` carrying `code` and the HTTP `status`.
#[wasm_bindgen]
pub struct TributaryClient {
    api: Rc<Api>,
    /// The previews seen and the `Idempotency-Key`s kept per order ([`tributary_core::client::order_keys`]).
    order_keys: Rc<RefCell<KeyBook>>,
}

impl TributaryClient {
    /// The shared request machinery (the poller sends through it too).
    pub(crate) fn api(&self) -> Rc<Api> {
        self.api.clone()
    }

    /// The keys `placeOrder` keeps per order.
    pub(crate) fn order_keys(&self) -> Rc<RefCell<KeyBook>> {
        self.order_keys.clone()
    }
}

#[wasm_bindgen]
impl TributaryClient {
    /// A client for the API at `baseUrl` (`""` for the page's own origin). `getToken` returns the
    /// session token (or a promise of it) and is asked before every call, so a rotated token is
    /// picked up. Throws `invalid_input` for options out of range or a `getToken` that is not a
    /// function.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = baseUrl)] base_url: String,
        #[wasm_bindgen(js_name = getToken, unchecked_param_type = "() => string | Promise<string>")] get_token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ClientOptions")] options: JsValue,
    ) -> Result<TributaryClient, ClientError> {
        let get_token = get_token
            .dyn_into::<Function>()
            .map_err(|_| ClientError::invalid_input("getToken must be a function returning the session token"))?;
        let options = options::object(&options)?;
        let fetch = options::function(options, "fetch")?;
        let read = ClientOptions {
            max_attempts: options::number(options, "maxAttempts")?,
            base_delay_ms: options::number(options, "baseDelayMs")?,
            max_delay_ms: options::number(options, "maxDelayMs")?,
        };
        let retry = read.retry_policy().map_err(|e| ClientError::from_core(&e))?;
        Ok(Self { api: Rc::new(Api::new(base_url, get_token, fetch, retry)), order_keys: Rc::default() })
    }

    /// Institutions matching `query` (blank: the popular ones), each with the provider a read-only
    /// and a trading connection would use right now, why, and the resulting capabilities.
    #[wasm_bindgen(unchecked_return_type = "Promise<InstitutionEntry[]>")]
    pub fn institutions(&self, query: String) -> Promise {
        let api = self.api();
        promise(async move {
            let body = api.send_json("GET", &requests::institutions_path(&query), None).await?;
            let list = crate::js::get(&body, "institutions");
            match list.is_array() {
                true => Ok(list),
                false => Err(ClientFailure::invalid_response(200, "no institutions list").into()),
            }
        })
    }

    /// Connects `institution` through the provider Tributary chooses, in a popup opened at once
    /// (call this from a click handler so the popup is allowed). Resolves when the provider sends
    /// the popup back (`connected`) or the popup is closed (`cancelled`). Throws `popup_blocked`
    /// when no popup could be opened, and e.g. `already_connected` (status 409) from the API.
    #[wasm_bindgen(unchecked_return_type = "Promise<ConnectResult>")]
    pub fn connect(
        &self,
        institution: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ConnectOptions")] options: JsValue,
    ) -> Promise {
        crate::connect::start(self.api(), crate::connect::Flow::Connect { institution }, options)
    }

    /// Repairs one of the user's connections (`connectionId`: the `id` from the connection lists,
    /// e.g. `"snaptrade:…"`) through the provider's own reconnect flow, in a popup opened at once.
    /// A Plaid Item opens Link's update mode and, once the popup comes back, is checked by the
    /// worker (no token exchange): `plaid_item_still_broken` (409) when Plaid still reports an
    /// error on it. Resolves like `connect` (`institution` is then the connection id). Throws
    /// `reconnect_not_supported` for other providers (Schwab: `connect` again).
    #[wasm_bindgen(unchecked_return_type = "Promise<ConnectResult>")]
    pub fn reconnect(
        &self,
        #[wasm_bindgen(js_name = connectionId)] connection_id: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ConnectOptions")] options: JsValue,
    ) -> Promise {
        crate::connect::start(self.api(), crate::connect::Flow::Reconnect { connection_id }, options)
    }

    /// Every connected provider's holdings, fetched in parallel and merged by the core (the same
    /// answer as `GET /api/portfolio?view=`). A provider that fails is reported in `providers`
    /// with `status: "failed"` and its error; only a failure to learn which providers are
    /// connected is thrown. `view` defaults to `"consolidated"`.
    #[wasm_bindgen(unchecked_return_type = "Promise<MergedPortfolio>")]
    pub fn holdings(&self, #[wasm_bindgen(unchecked_optional_param_type = "MergeView")] view: JsValue) -> Promise {
        let view = match view.as_string() {
            Some(name) => match MergeView::parse(&name) {
                Ok(view) => view,
                Err(e) => return rejected(ClientError::invalid_input(e.to_string())),
            },
            None if view.is_undefined() || view.is_null() => MergeView::default(),
            None => return rejected(ClientError::invalid_input("view must be \"by_account\" or \"consolidated\"")),
        };
        let api = self.api();
        promise(async move {
            let answer = api.send_json("GET", requests::CONNECTIONS_PATH, None).await?;
            let entries = crate::js::get(&answer, "providers")
                .dyn_into::<Array>()
                .map_err(|_| ClientError::from(ClientFailure::invalid_response(200, "no providers list")))?;
            let entries: Vec<(String, bool)> = entries
                .iter()
                .filter_map(|e| {
                    Some((crate::js::get_string(&e, "provider")?, crate::js::get(&e, "connected").as_bool()?))
                })
                .collect();
            let connected = requests::connected_providers(&entries);
            let reads: Array = requests::holdings_plan(&connected)
                .into_iter()
                .map(|read| -> JsValue {
                    let api = api.clone();
                    promise(async move {
                        let entry = match read {
                            ProviderRead::Fetch { provider, path } => {
                                let answer = api.send("GET", path, None).await.map(|a| (a.status, a.body));
                                requests::merge_entry(provider, answer)
                            }
                            ProviderRead::NotConnected { provider } => requests::not_connected_entry(provider),
                        };
                        Ok(JsValue::from_str(&entry))
                    })
                    .into()
                })
                .collect();
            let entries = JsFuture::from(Promise::all(&reads)).await.map_err(|e| {
                ClientError::internal(format!("reading holdings failed: {}", crate::js::error_message(&e)))
            })?;
            let entries: Vec<String> = Array::from(&entries).iter().filter_map(|e| e.as_string()).collect();
            parse_js(&merge_portfolios_json(&format!("[{}]", entries.join(",")), view)?)
        })
    }

    /// Which providers have new data waiting (`GET /api/pending-updates`), plus `any`, and which
    /// have new transactions announced (`transactions`, `any_transactions`).
    #[wasm_bindgen(js_name = pendingUpdates, unchecked_return_type = "Promise<PendingFlags>")]
    pub fn pending_updates(&self) -> Promise {
        let api = self.api();
        promise(async move { crate::boundary::to_js(&crate::pending::read_pending(&api).await?) })
    }

    /// Refreshes holdings (`POST /api/holdings/refresh`): the named `providers`, or whatever is
    /// pending. Throws status 429 with `retryAfter` within the cooldown, and status 402
    /// `refresh_cost_capped` with `nextAllowedAt` and `reason` when a billed refresh would repeat
    /// within the cap (pass `confirmCost: true` to accept the charge). Neither is retried.
    #[wasm_bindgen(unchecked_return_type = "Promise<RefreshResult>")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "RefreshOptions")] options: JsValue,
    ) -> Promise {
        let read = || -> Result<RefreshOptions, ClientError> {
            let options = options::object(&options)?;
            let (providers, confirm_cost) =
                (options::strings(options, "providers")?, options::boolean(options, "confirmCost")?);
            RefreshOptions::new(providers, confirm_cost).map_err(|e| ClientError::from_core(&e))
        };
        let options = match read() {
            Ok(options) => options,
            Err(error) => return rejected(error),
        };
        let api = self.api();
        promise(async move { Ok(api.send_json("POST", requests::REFRESH_PATH, Some(&options.request_body())).await?) })
    }
}
