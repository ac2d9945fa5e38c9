//! A person's Flex token and query id, checked once, and the two request URLs built from them.
//! Only `t`, `q` and `v=3` are ever sent: no `fd`/`td`/`p`, so the query's own period governs
//! (forcing a period makes IBKR answer 1003 for queries set up with another one).

use super::{GET_STATEMENT_PATH, SEND_REQUEST_PATH};
use crate::error::ValidationError;
use crate::url::encode_query;
use std::fmt;

/// A person's Flex token and Activity query id, validated. `Debug` redacts both.
#[derive(Clone, PartialEq, Eq)]
pub struct FlexCredentials {
    /// The "Current Token" of Flex Web Service Configuration: 10–64 digits.
    pub token: String,
    /// The Activity Flex Query's id: 1–12 digits.
    pub query_id: String,
}

impl fmt::Debug for FlexCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlexCredentials { token: <redacted>, query_id: <redacted> }")
    }
}

fn digits(field: &'static str, value: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if value.len() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    if value.len() < min || !value.bytes().all(|b| b.is_ascii_digit()) {
        let allowed = if field == "token" { "10 to 64 digits" } else { "1 to 12 digits" };
        return Err(ValidationError::BadCharacters { field, allowed });
    }
    Ok(value.to_owned())
}

/// Trims both; the token must be 10..=64 ASCII digits and the query id 1..=12, else a
/// [`ValidationError`] about field `token` or `query_id` (which never repeats the value).
pub fn parse_credentials(token: &str, query_id: &str) -> Result<FlexCredentials, ValidationError> {
    Ok(FlexCredentials { token: digits("token", token, 10, 64)?, query_id: digits("query_id", query_id, 1, 12)? })
}

fn url(base_url: &str, path: &str, token: &str, q: &str) -> String {
    format!("{}{path}?{}", base_url.trim_end_matches('/'), encode_query(&[("t", token), ("q", q), ("v", "3")]))
}

/// `{base}{SEND_REQUEST_PATH}?t=…&q=…&v=3`, values percent-encoded where needed; never
/// `fd`/`td`/`p` (the query's own period governs).
pub fn send_request_url(base_url: &str, credentials: &FlexCredentials) -> String {
    url(base_url, SEND_REQUEST_PATH, &credentials.token, &credentials.query_id)
}

/// `{base}{GET_STATEMENT_PATH}?t=…&q=<reference>&v=3`. Always our configured base: the `<Url>`
/// a SendRequest answer carries is legacy and ignored.
pub fn get_statement_url(base_url: &str, token: &str, reference_code: &str) -> String {
    url(base_url, GET_STATEMENT_PATH, token, reference_code)
}
