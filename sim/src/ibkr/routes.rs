//! The two Flex Web Service endpoints. Every request goes through the same door, in this order:
//! call accounting (user = the token's username, whether or not the token still works), global
//! latency, `User-Agent` present and not blank (else 1020), `v=3` (else 1020), the token (1015
//! unknown or replaced, 1012 expired, 1013 IP-restricted), the per-token throttle (Warn 1018),
//! injected faults, injected Flex codes; only then the endpoint's own checks.
//!
//! SendRequest: `q` must be one of the token's user's query ids (else 1014); `fd`+`td`
//! (`yyyymmdd`, both or neither, `td` not before `fd`, at most 365 days counting both ends) or
//! `p` (1..=365), never both (else 1020). GetStatement: `q` must be one of the user's reference
//! codes (else 1017). Parameters are read once each; a repeated one counts as its first value.

use super::flex::{error_response, ok, FlexCode, XmlStyle, XML_CONTENT_TYPE};
use super::injected::Endpoint;
use super::state::{PeriodOverride, Poll};
use super::{apply_faults, dates::Date};
use crate::faults::Provider;
use crate::util::now_unix;
use crate::{lock, Sim};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// SendRequest's path.
pub const SEND_REQUEST_PATH: &str = "/AccountManagement/FlexWebService/SendRequest";
/// GetStatement's path (also the `<Url>` a successful SendRequest returns).
pub const GET_STATEMENT_PATH: &str = "/AccountManagement/FlexWebService/GetStatement";
/// The retired SendRequest path: answers 1001 to everything, as IBKR's has since May 2026.
pub const LEGACY_SEND_REQUEST_PATH: &str = "/Universal/servlet/FlexStatementService.SendRequest";
/// The retired GetStatement path: answers 1001 to everything.
pub const LEGACY_GET_STATEMENT_PATH: &str = "/Universal/servlet/FlexStatementService.GetStatement";

/// The longest period a SendRequest override may cover, in days.
pub const MAX_PERIOD_DAYS: u32 = 365;

/// The query parameters of `uri`, the first value of each name.
pub fn params(uri: &Uri) -> HashMap<String, String> {
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(uri).map(|Query(p)| p).unwrap_or_default();
    let mut params = HashMap::new();
    for (name, value) in pairs {
        params.entry(name).or_insert(value);
    }
    params
}

/// Why a SendRequest's `fd`/`td`/`p` were refused (answered 1020).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPeriod;

/// The period override of a SendRequest, or [`BadPeriod`] when `fd`/`td`/`p` are malformed.
pub fn period_override(params: &HashMap<String, String>) -> Result<PeriodOverride, BadPeriod> {
    let (fd, td, p) = (params.get("fd"), params.get("td"), params.get("p"));
    match (fd, td, p) {
        (None, None, None) => Ok(PeriodOverride::None),
        (Some(fd), Some(td), None) => {
            let from = Date::parse_compact(fd).ok_or(BadPeriod)?;
            let to = Date::parse_compact(td).ok_or(BadPeriod)?;
            let days = to.days_since(from) + 1;
            if (1..=i64::from(MAX_PERIOD_DAYS)).contains(&days) {
                Ok(PeriodOverride::Range(from, to))
            } else {
                Err(BadPeriod)
            }
        }
        (None, None, Some(p)) => {
            let digits = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
            let days: u32 = if digits { p.parse().map_err(|_| BadPeriod)? } else { return Err(BadPeriod) };
            if (1..=MAX_PERIOD_DAYS).contains(&days) {
                Ok(PeriodOverride::Days(days))
            } else {
                Err(BadPeriod)
            }
        }
        _ => Err(BadPeriod),
    }
}

fn has_user_agent(headers: &HeaderMap) -> bool {
    headers.get(header::USER_AGENT).is_some_and(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
}

/// The door (see the module docs): the token's user, or the answer that refuses the request.
async fn admit(
    sim: &Sim,
    endpoint: Endpoint,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<String, Response> {
    let token = params.get("t").map_or("", String::as_str);
    let known = lock(&sim.ibkr.state).token_user(token).map(str::to_owned);
    lock(&sim.calls).record(Provider::Ibkr, endpoint.name(), known.as_deref());
    let global = sim.latency_ms.load(Ordering::Relaxed);
    if global > 0 {
        tokio::time::sleep(Duration::from_millis(global)).await;
    }
    let plain = XmlStyle::default();
    if !has_user_agent(headers) || params.get("v").map(String::as_str) != Some("3") {
        return Err(error_response(FlexCode::INVALID_REQUEST, plain));
    }
    let user = {
        let mut state = lock(&sim.ibkr.state);
        let user = state.authorize(token, now_unix()).map_err(|code| error_response(code, plain))?;
        if !state.admit(token, Instant::now()) {
            return Err(error_response(FlexCode::THROTTLED, plain));
        }
        user
    };
    if let Some(answer) = apply_faults(sim, endpoint, &user).await {
        return Err(answer);
    }
    if let Some(code) = lock(&sim.ibkr.state).errors.take(endpoint, &user) {
        return Err(error_response(code, plain));
    }
    Ok(user)
}

/// `q` as a query id: 1–18 digits.
fn query_id(params: &HashMap<String, String>) -> Option<u64> {
    let q = params.get("q")?;
    let digits = (1..=18).contains(&q.len()) && q.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| q.parse().ok()).flatten()
}

/// `GET /AccountManagement/FlexWebService/SendRequest?t&q&v=3[&fd&td | &p]` → Success with a
/// `ReferenceCode` and the GetStatement `Url`, or a Fail/Warn envelope.
pub async fn send_request(State(sim): State<Arc<Sim>>, headers: HeaderMap, uri: Uri) -> Response {
    let params = params(&uri);
    let user = match admit(&sim, Endpoint::SendRequest, &headers, &params).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let period = period_override(&params);
    let now = now_unix();
    let created = {
        let mut state = lock(&sim.ibkr.state);
        match (query_id(&params), period) {
            (None, _) => Err(FlexCode::QUERY_INVALID),
            (Some(id), Err(BadPeriod)) if state.has_query(&user, id) => Err(FlexCode::INVALID_REQUEST),
            (Some(id), period) => state.send_request(&user, id, period.unwrap_or(PeriodOverride::None), now),
        }
    };
    match created {
        Ok((code, style)) => {
            let url = format!("{}{GET_STATEMENT_PATH}", sim.base_url);
            ok(XML_CONTENT_TYPE, style.success_envelope(&code, &url, now))
        }
        Err(code) => error_response(code, XmlStyle::default()),
    }
}

/// `GET /AccountManagement/FlexWebService/GetStatement?t&q=<ReferenceCode>&v=3` → Warn 1019 while
/// the statement is "in progress", then the stored statement (the same bytes on every repeat).
pub async fn get_statement(State(sim): State<Arc<Sim>>, headers: HeaderMap, uri: Uri) -> Response {
    let params = params(&uri);
    let user = match admit(&sim, Endpoint::GetStatement, &headers, &params).await {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let code = params.get("q").map_or("", String::as_str);
    let polled = lock(&sim.ibkr.state).poll(&user, code);
    match polled {
        Ok(Poll::Ready(statement)) => ok(statement.content_type, statement.body.clone()),
        Ok(Poll::Pending(style)) => error_response(FlexCode::IN_PROGRESS, style),
        Err(code) => error_response(code, XmlStyle::default()),
    }
}

async fn legacy(sim: &Sim, endpoint: Endpoint, uri: &Uri) -> Response {
    let params = params(uri);
    let token = params.get("t").map_or("", String::as_str);
    let known = lock(&sim.ibkr.state).token_user(token).map(str::to_owned);
    lock(&sim.calls).record(Provider::Ibkr, endpoint.name(), known.as_deref());
    error_response(FlexCode::NOT_GENERATED, XmlStyle::default())
}

/// The retired `…FlexStatementService.SendRequest`: always Fail 1001 (counted as `send_request`).
pub async fn legacy_send_request(State(sim): State<Arc<Sim>>, uri: Uri) -> Response {
    legacy(&sim, Endpoint::SendRequest, &uri).await
}

/// The retired `…FlexStatementService.GetStatement`: always Fail 1001 (counted as `get_statement`).
pub async fn legacy_get_statement(State(sim): State<Arc<Sim>>, uri: Uri) -> Response {
    legacy(&sim, Endpoint::GetStatement, &uri).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(query: &str) -> Result<PeriodOverride, BadPeriod> {
        period_override(&params(&format!("/x?{query}").parse().unwrap()))
    }

    #[test]
    fn period_overrides_are_both_dates_or_a_day_count() {
        let day = |s: &str| Date::parse_compact(s).unwrap();
        assert_eq!(period("t=1&q=2"), Ok(PeriodOverride::None));
        assert_eq!(period("fd=20260101&td=20260313"), Ok(PeriodOverride::Range(day("20260101"), day("20260313"))));
        assert_eq!(period("fd=20250314&td=20260313"), Ok(PeriodOverride::Range(day("20250314"), day("20260313"))));
        assert_eq!(period("fd=20250313&td=20260313"), Err(BadPeriod), "366 days");
        assert_eq!(period("fd=20260313&td=20260312"), Err(BadPeriod), "td before fd");
        assert_eq!(period("fd=20260313"), Err(BadPeriod));
        assert_eq!(period("td=20260313"), Err(BadPeriod));
        assert_eq!(period("fd=2026-03-01&td=20260313"), Err(BadPeriod));
        assert_eq!(period("p=1"), Ok(PeriodOverride::Days(1)));
        assert_eq!(period("p=365"), Ok(PeriodOverride::Days(365)));
        for bad in ["p=0", "p=366", "p=", "p=-5", "p=1e2", "p=5&fd=20260101&td=20260102"] {
            assert_eq!(period(bad), Err(BadPeriod), "{bad}");
        }
    }

    #[test]
    fn the_first_value_of_a_repeated_parameter_counts() {
        let p = params(&"/x?v=3&v=2&q=12".parse().unwrap());
        assert_eq!((p["v"].as_str(), query_id(&p)), ("3", Some(12)));
        assert_eq!(query_id(&params(&"/x?q=12a".parse().unwrap())), None);
    }
}
