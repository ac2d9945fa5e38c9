//! The few JavaScript runtime features the client uses, bound by hand instead of through web-sys
//! (smaller, and reached through `globalThis`, so the module also loads in workers and Node where
//! windows, popups and documents do not exist): `fetch`, timers, property access, listeners and
//! `crypto.getRandomValues`. Nothing is decided here.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = setInterval)]
    pub fn set_interval(handler: &Function, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearInterval)]
    pub fn clear_interval(id: &JsValue);

    #[wasm_bindgen(js_name = URLSearchParams)]
    type UrlSearchParams;
    #[wasm_bindgen(constructor, catch, js_class = "URLSearchParams")]
    fn new(init: &str) -> Result<UrlSearchParams, JsValue>;
}

/// `target[key]`, or `undefined` when it cannot be read (e.g. a cross-origin property).
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if target.is_undefined() || target.is_null() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` when it is a string.
pub fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// `target[key]` when it is a number.
pub fn get_number(target: &JsValue, key: &str) -> Option<f64> {
    get(target, key).as_f64()
}

/// JSON text parsed by the engine, or `undefined` when it is not JSON.
pub fn parse_json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::UNDEFINED)
}

/// Sets `target[key]`; false when it cannot be set.
pub fn set(target: &JsValue, key: &str, value: &JsValue) -> bool {
    Reflect::set(target, &JsValue::from_str(key), value).unwrap_or(false)
}

/// `target[key]` when it is a function.
pub fn method(target: &JsValue, key: &str) -> Option<Function> {
    get(target, key).dyn_into::<Function>().ok()
}

/// Calls `target[key](...args)`; `Err` when it is missing or throws.
pub fn call(target: &JsValue, key: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let function = method(target, key).ok_or_else(|| JsValue::from_str(&format!("{key} is not available here")))?;
    let args: js_sys::Array = args.iter().map(|a| (*a).clone()).collect();
    function.apply(target, &args)
}

/// `globalThis`.
pub fn global() -> JsValue {
    js_sys::global().into()
}

/// A plain object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object: JsValue = Object::new().into();
    for (key, value) in pairs {
        set(&object, key, value);
    }
    object
}

/// The message of a thrown value, for people.
pub fn error_message(error: &JsValue) -> String {
    if let Some(text) = get(error, "message").as_string().filter(|m| !m.is_empty()) {
        return text;
    }
    error.as_string().unwrap_or_else(|| "an unknown error".to_owned())
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Awaits `value` if it is a promise (or any thenable), else takes it as it is.
pub async fn settle(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&value)).await
}

/// `fetch(url, init)` through `custom` when given, else the global `fetch`.
pub async fn fetch(custom: Option<&Function>, url: &str, init: &JsValue) -> Result<JsValue, JsValue> {
    let started = match custom {
        Some(fetch) => fetch.call2(&JsValue::NULL, &JsValue::from_str(url), init),
        None => global_fetch(url, init),
    };
    settle(started?).await
}

/// What the client reads of a `Response`.
pub struct RawAnswer {
    pub status: u16,
    pub retry_after: Option<String>,
    /// `Content-Disposition`, when the answer has one (and CORS lets the page read it).
    pub disposition: Option<String>,
    pub body: String,
}

/// Reads a `Response` (or anything shaped like one): status, `Retry-After`, `Content-Disposition`,
/// body text.
pub async fn read_response(response: &JsValue) -> Result<RawAnswer, JsValue> {
    let status = get(response, "status")
        .as_f64()
        .filter(|s| (0.0..=999.0).contains(s))
        .ok_or_else(|| JsValue::from_str("fetch did not give a Response"))? as u16;
    let headers = get(response, "headers");
    let header = |name: &str| call(&headers, "get", &[&JsValue::from_str(name)]).ok().and_then(|v| v.as_string());
    let (retry_after, disposition) = (header("retry-after"), header("content-disposition"));
    let body = settle(call(response, "text", &[])?).await?.as_string().unwrap_or_default();
    Ok(RawAnswer { status, retry_after, disposition, body })
}

/// `N` bytes from `crypto.getRandomValues` (the platform's CSPRNG); `None` where there is none.
pub fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let array = js_sys::Uint8Array::new_with_length(N as u32);
    call(&get(&global(), "crypto"), "getRandomValues", &[&array]).ok()?;
    let mut bytes = [0u8; N];
    array.copy_to(&mut bytes);
    Some(bytes)
}

/// `location.origin` of this page, when there is one.
pub fn page_origin() -> Option<String> {
    get(&get(&global(), "location"), "origin").as_string()
}

/// This page's query parameters as a plain object, when there is a page.
pub fn page_query() -> Option<JsValue> {
    let search = get(&get(&global(), "location"), "search").as_string()?;
    let params = UrlSearchParams::new(&search).ok()?;
    Object::from_entries(&params).ok().map(Into::into)
}

/// `target.addEventListener(event, listener)`; false where there is no such target.
pub fn listen(target: &JsValue, event: &str, listener: &Function) -> bool {
    call(target, "addEventListener", &[&JsValue::from_str(event), listener]).is_ok()
}

/// `target.removeEventListener(event, listener)`.
pub fn unlisten(target: &JsValue, event: &str, listener: &Function) {
    let _ = call(target, "removeEventListener", &[&JsValue::from_str(event), listener]);
}
