//! Reading the fields of an options object passed from JavaScript, by type; the values are then
//! checked by the core (`tributary_core::client::options`). A field of the wrong type is
//! `invalid_input` naming it; a field left out (or `null`) is `None`.

use crate::error::ClientError;
use crate::js::get;
use js_sys::{Array, Function};
use tributary_core::client::OptionError;
use wasm_bindgen::{JsCast, JsValue};

fn wrong(key: &'static str, expected: &str) -> ClientError {
    ClientError::from_core(&OptionError::Invalid { argument: key, detail: format!("expected {expected}") })
}

/// The options object itself: `undefined`, `null` or an object.
pub fn object(options: &JsValue) -> Result<&JsValue, ClientError> {
    if options.is_undefined() || options.is_null() || options.is_object() {
        Ok(options)
    } else {
        Err(wrong("options", "an object"))
    }
}

fn field(options: &JsValue, key: &'static str) -> Option<JsValue> {
    Some(get(options, key)).filter(|v| !v.is_undefined() && !v.is_null())
}

/// A number field.
pub fn number(options: &JsValue, key: &'static str) -> Result<Option<f64>, ClientError> {
    field(options, key).map(|v| v.as_f64().ok_or_else(|| wrong(key, "a number"))).transpose()
}

/// A boolean field.
pub fn boolean(options: &JsValue, key: &'static str) -> Result<Option<bool>, ClientError> {
    field(options, key).map(|v| v.as_bool().ok_or_else(|| wrong(key, "true or false"))).transpose()
}

/// A string field.
pub fn string(options: &JsValue, key: &'static str) -> Result<Option<String>, ClientError> {
    field(options, key).map(|v| v.as_string().ok_or_else(|| wrong(key, "a string"))).transpose()
}

/// An array-of-strings field.
pub fn strings(options: &JsValue, key: &'static str) -> Result<Option<Vec<String>>, ClientError> {
    let Some(value) = field(options, key) else { return Ok(None) };
    let list = value.dyn_into::<Array>().map_err(|_| wrong(key, "an array of strings"))?;
    list.iter()
        .map(|v| v.as_string().ok_or_else(|| wrong(key, "an array of strings")))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A function field.
pub fn function(options: &JsValue, key: &'static str) -> Result<Option<Function>, ClientError> {
    field(options, key).map(|v| v.dyn_into::<Function>().map_err(|_| wrong(key, "a function"))).transpose()
}
