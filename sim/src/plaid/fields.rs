//! Readers for fields of a Plaid request body that answer Plaid's validation errors:
//! `MISSING_FIELDS` for an absent, null or empty required field, `INVALID_FIELD` for a wrong type
//! or value.

use super::PlaidError;
use serde_json::{Map, Value};

/// A required non-empty string field (`path` names it in errors, e.g. `user.client_user_id`).
pub fn required_str<'a>(body: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a str, PlaidError> {
    match body.get(key) {
        None | Some(Value::Null) => Err(PlaidError::missing_fields(&[path])),
        Some(Value::String(s)) if s.is_empty() => Err(PlaidError::missing_fields(&[path])),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(PlaidError::invalid_field(format!("{path} must be a string"))),
    }
}

/// An optional string field; `Err` when present with another type.
pub fn optional_str<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, PlaidError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(PlaidError::invalid_field(format!("{key} must be a string"))),
    }
}

/// A required object field.
pub fn required_object<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a Map<String, Value>, PlaidError> {
    match body.get(key) {
        None | Some(Value::Null) => Err(PlaidError::missing_fields(&[key])),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(PlaidError::invalid_field(format!("{key} must be an object"))),
    }
}

/// A required non-empty array of strings, each accepted by `valid`.
pub fn string_list(body: &Map<String, Value>, key: &str, valid: &[&str]) -> Result<Vec<String>, PlaidError> {
    let items = match body.get(key) {
        None | Some(Value::Null) => return Err(PlaidError::missing_fields(&[key])),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(PlaidError::invalid_field(format!("{key} must contain at least one item")))
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(PlaidError::invalid_field(format!("{key} must be an array of strings"))),
    };
    items
        .iter()
        .map(|v| match v.as_str() {
            Some(s) if valid.contains(&s) => Ok(s.to_owned()),
            _ => Err(PlaidError::invalid_field(format!("{key} contains an invalid value: {v}"))),
        })
        .collect()
}

/// Whether `url` is an absolute http(s) URL.
pub fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}
