//! The IBKR Flex Web Service over HTTP: SendRequest → GetStatement (1019 first, then the same
//! statement bytes on every repeat), every token error in its documented order, the per-token
//! throttle (set so that no outcome depends on how fast the machine is), injected Flex codes,
//! faults, call counts, the query options and the statement's arithmetic. No test sleeps.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tributary_sim::{SimConfig, Simulator};

const SEND: &str = "/AccountManagement/FlexWebService/SendRequest";
const GET: &str = "/AccountManagement/FlexWebService/GetStatement";
const AGENT: &str = "Java/1.8";

/// What tests look at in a response.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
    json: Value,
}

impl Reply {
    /// The text of the first `<tag>…</tag>`.
    fn element(&self, tag: &str) -> Option<String> {
        let start = self.text.find(&format!("<{tag}>"))? + tag.len() + 2;
        let end = self.text[start..].find(&format!("</{tag}>"))?;
        Some(self.text[start..start + end].to_owned())
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, content_type, text, json }
}

/// Asserts a Flex error envelope: HTTP 200 XML with this code, its status and verbatim message.
fn assert_flex(reply: &Reply, code: u16, message: &str) {
    assert_eq!(
        (reply.status, reply.content_type.as_str()),
        (StatusCode::OK, "text/xml; charset=utf-8"),
        "{}",
        reply.text
    );
    let status = if matches!(code, 1018 | 1019) { "Warn" } else { "Fail" };
    assert_eq!(reply.element("Status").as_deref(), Some(status), "{}", reply.text);
    assert_eq!(reply.element("ErrorCode"), Some(code.to_string()), "{}", reply.text);
    assert_eq!(reply.element("ErrorMessage").as_deref(), Some(message), "{}", reply.text);
}

const TOKEN_INVALID: &str = "Token is invalid.";
const INVALID_REQUEST: &str = "Invalid request or unable to validate request.";
const IN_PROGRESS: &str = "Statement generation in progress. Please try again shortly.";
const THROTTLED: &str = "Too many requests have been made from this token. Please try again shortly.";

/// A created Flex user.
#[derive(Debug, Clone)]
struct User {
    token: String,
    query_id: String,
    accounts: Vec<String>,
}

struct Flex {
    _sim: Simulator,
    base: String,
    http: reqwest::Client,
}

impl Flex {
    /// A simulator whose throttle is out of the way (1000/s, 100000/min).
    async fn start() -> Self {
        let flex = Self::with_default_limits().await;
        flex.limits(1000, 100_000).await;
        flex
    }

    /// A simulator with IBKR's own throttle (1/s, 10/min).
    async fn with_default_limits() -> Self {
        let sim = Simulator::start(0, SimConfig::default()).await.unwrap();
        Self { base: sim.base_url(), _sim: sim, http: reqwest::Client::new() }
    }

    async fn control(&self, path: &str, body: Value) -> Reply {
        read(self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap()).await
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let reply = self.control(path, body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        reply.json
    }

    async fn limits(&self, per_second: u64, per_minute: u64) {
        let body = json!({"per_second": per_second, "per_minute": per_minute});
        assert_eq!(self.ok("/__sim/ibkr/ratelimit", body.clone()).await, body);
    }

    async fn user(&self, name: &str) -> User {
        let v = self.ok("/__sim/ibkr/users", json!({"user": name})).await;
        let accounts = v["accounts"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
        User { token: v["token"].as_str().unwrap().into(), query_id: v["query_id"].as_str().unwrap().into(), accounts }
    }

    /// A new query for `user` with `options` merged into the body; its id.
    async fn query(&self, user: &str, options: Value) -> String {
        let mut body = json!({"user": user});
        body.as_object_mut().unwrap().extend(options.as_object().unwrap().clone());
        self.ok("/__sim/ibkr/queries", body).await["query_id"].as_str().unwrap().to_owned()
    }

    /// `GET path?query` with the given User-Agent (none when `None`).
    async fn raw(&self, path: &str, query: &str, agent: Option<&str>) -> Reply {
        let mut request = self.http.get(format!("{}{path}?{query}", self.base));
        if let Some(agent) = agent {
            request = request.header("user-agent", agent);
        }
        read(request.send().await.unwrap()).await
    }

    async fn send(&self, token: &str, query_id: &str, extra: &str) -> Reply {
        self.raw(SEND, &format!("t={token}&q={query_id}&v=3{extra}"), Some(AGENT)).await
    }

    async fn get(&self, token: &str, code: &str) -> Reply {
        self.raw(GET, &format!("t={token}&q={code}&v=3"), Some(AGENT)).await
    }

    /// A successful SendRequest's reference code.
    async fn reference(&self, token: &str, query_id: &str, extra: &str) -> String {
        let reply = self.send(token, query_id, extra).await;
        assert_eq!(reply.element("Status").as_deref(), Some("Success"), "{}", reply.text);
        reply.element("ReferenceCode").unwrap()
    }

    /// SendRequest, then GetStatement until the statement comes (at most 21 polls).
    async fn statement(&self, token: &str, query_id: &str, extra: &str) -> Reply {
        let code = self.reference(token, query_id, extra).await;
        for _ in 0..21 {
            let reply = self.get(token, &code).await;
            if reply.element("ErrorCode").as_deref() != Some("1019") {
                return reply;
            }
        }
        panic!("still in progress after 21 polls");
    }
}

/// Every `<name …/>` row's attributes, in document order (either quote style).
fn rows(xml: &str, name: &str) -> Vec<HashMap<String, String>> {
    let open = format!("<{name} ");
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let end = after.find('>').unwrap();
        found.push(attrs(after[..end].trim_end_matches('/')));
        rest = &after[end..];
    }
    found
}

fn attrs(mut text: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    while let Some(eq) = text.find('=') {
        let name = text[..eq].trim().to_owned();
        let quote = text[eq + 1..].chars().next().unwrap();
        let value = &text[eq + 2..];
        let close = value.find(quote).unwrap();
        let unescaped = value[..close]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        map.insert(name, unescaped);
        text = &value[close + 1..];
    }
    map
}

/// Each `FlexStatement`'s account id and text.
fn statements(xml: &str) -> Vec<(String, &str)> {
    xml.split("<FlexStatement ").skip(1).map(|s| (attrs(&s[..s.find('>').unwrap()])["accountId"].clone(), s)).collect()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

#[tokio::test]
async fn the_two_step_flow_answers_1019_first_then_the_same_statement_bytes() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    assert_eq!(ann.token.len(), 24);
    assert!(ann.token.bytes().all(|b| b.is_ascii_digit()));
    assert!((6..=9).contains(&ann.query_id.len()));
    assert!(ann.accounts.iter().all(|a| a.len() == 8 && a.starts_with('U')) && ann.accounts[0] != ann.accounts[1]);

    let sent = flex.send(&ann.token, &ann.query_id, "").await;
    assert_eq!((sent.status, sent.content_type.as_str()), (StatusCode::OK, "text/xml; charset=utf-8"));
    assert!(sent.text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FlexStatementResponse timestamp=\""));
    let stamp = sent.text.split('"').nth(5).unwrap();
    let words: Vec<&str> = stamp.split(' ').collect();
    assert!(words.len() == 6 && words[1].ends_with(',') && ["AM", "PM"].contains(&words[4]), "{stamp}");
    assert!(["EST", "EDT"].contains(&words[5]), "{stamp}");
    assert_eq!(sent.element("Status").as_deref(), Some("Success"));
    let code = sent.element("ReferenceCode").unwrap();
    assert!(code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert_eq!(sent.element("Url"), Some(format!("{}{GET}", flex.base)));

    assert_flex(&flex.get(&ann.token, &code).await, 1019, IN_PROGRESS);
    let first = flex.get(&ann.token, &code).await;
    assert_eq!((first.status, first.content_type.as_str()), (StatusCode::OK, "text/xml; charset=utf-8"));
    assert!(first.text.contains("<FlexQueryResponse queryName=\"Activity\" type=\"AF\">"));
    assert!(first.text.contains("<FlexStatements count=\"2\">"));
    let ids: Vec<String> = statements(&first.text).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ann.accounts);
    for _ in 0..2 {
        assert_eq!(flex.get(&ann.token, &code).await.text, first.text, "the same bytes on every repeat");
    }

    let eager = flex.query("ann", json!({"pending_polls": 0})).await;
    assert!(flex
        .get(&ann.token, &flex.reference(&ann.token, &eager, "").await)
        .await
        .text
        .contains("FlexQueryResponse"));
    let slow = flex.query("ann", json!({"pending_polls": 3})).await;
    let code = flex.reference(&ann.token, &slow, "").await;
    for _ in 0..3 {
        assert_flex(&flex.get(&ann.token, &code).await, 1019, IN_PROGRESS);
    }
    assert!(flex.get(&ann.token, &code).await.text.contains("FlexQueryResponse"));
}

#[tokio::test]
async fn token_errors_come_in_the_documented_order() {
    let flex = Flex::start().await;
    let (ann, bob) = (flex.user("ann").await, flex.user("bob").await);
    let query = format!("t={}&q={}&v=3", ann.token, ann.query_id);
    assert_flex(&flex.raw(SEND, &query, None).await, 1020, INVALID_REQUEST);
    assert_flex(&flex.raw(SEND, &query, Some(" ")).await, 1020, INVALID_REQUEST);
    assert_flex(&flex.raw(GET, "t=1&q=1&v=3", None).await, 1020, INVALID_REQUEST);
    assert_flex(
        &flex.raw(SEND, &format!("t={}&q={}&v=2", ann.token, ann.query_id), Some(AGENT)).await,
        1020,
        INVALID_REQUEST,
    );
    assert_flex(
        &flex.raw(SEND, &format!("t={}&q={}", ann.token, ann.query_id), Some(AGENT)).await,
        1020,
        INVALID_REQUEST,
    );
    assert_flex(&flex.raw(SEND, "t=1&q=1&v=2", Some(AGENT)).await, 1020, INVALID_REQUEST);
    assert_flex(&flex.send("123456789012345678901234", &ann.query_id, "").await, 1015, TOKEN_INVALID);
    assert_flex(&flex.get("", "1234567890").await, 1015, TOKEN_INVALID);

    // Another user's query, an unknown one, another user's reference code, an unknown one.
    assert_flex(&flex.send(&ann.token, &bob.query_id, "").await, 1014, "Query is invalid.");
    assert_flex(&flex.send(&ann.token, "999", "").await, 1014, "Query is invalid.");
    let bobs = flex.reference(&bob.token, &bob.query_id, "").await;
    assert_flex(&flex.get(&ann.token, &bobs).await, 1017, "Reference code is invalid.");
    assert_flex(&flex.get(&ann.token, "0000000000").await, 1017, "Reference code is invalid.");
    assert_flex(&flex.get(&bob.token, &bobs).await, 1019, IN_PROGRESS);

    // fd/td/p are checked only for a valid query.
    for bad in [
        "&fd=20260101",
        "&td=20260101",
        "&fd=20260102&td=20260101",
        "&fd=20250101&td=20260313",
        "&p=0",
        "&p=366",
        "&p=5&fd=20260101&td=20260102",
        "&fd=2026-01-01&td=20260102",
    ] {
        assert_flex(&flex.send(&ann.token, &ann.query_id, bad).await, 1020, INVALID_REQUEST);
    }
    assert_flex(&flex.send(&ann.token, &bob.query_id, "&p=0").await, 1014, "Query is invalid.");

    // A newer token replaces the old one; an expired one answers 1012; an IP-bound one 1013.
    let newer = flex.ok("/__sim/ibkr/tokens", json!({"user": "ann", "expires_in_seconds": 31_536_000})).await;
    assert!(newer["expires_at"].as_i64().unwrap() > common_now() + 31_535_000);
    let newer = newer["token"].as_str().unwrap().to_owned();
    assert_flex(&flex.send(&ann.token, &ann.query_id, "").await, 1015, TOKEN_INVALID);
    flex.reference(&newer, &ann.query_id, "").await;
    assert_eq!(flex.ok("/__sim/ibkr/expire", json!({"token": newer})).await, json!({"expired": true}));
    assert_flex(&flex.send(&newer, &ann.query_id, "").await, 1012, "Token has expired.");
    assert_flex(&flex.get(&newer, "1234567890").await, 1012, "Token has expired.");
    let bound = flex.ok("/__sim/ibkr/tokens", json!({"user": "ann", "ip": "10.1.2.3"})).await;
    assert_flex(&flex.send(bound["token"].as_str().unwrap(), &ann.query_id, "").await, 1013, "IP restriction.");
    let local = flex.ok("/__sim/ibkr/tokens", json!({"user": "ann", "ip": "127.0.0.1"})).await;
    flex.reference(local["token"].as_str().unwrap(), &ann.query_id, "").await;

    // Resetting a user replaces its token and forgets its queries and reference codes.
    let old_bob = bob.clone();
    let bob = flex.user("bob").await;
    assert_eq!(bob.accounts, old_bob.accounts, "account ids derive from the name");
    assert_flex(&flex.get(&old_bob.token, &bobs).await, 1015, TOKEN_INVALID);
    assert_flex(&flex.get(&bob.token, &bobs).await, 1017, "Reference code is invalid.");
    assert_flex(&flex.send(&bob.token, &old_bob.query_id, "").await, 1014, "Query is invalid.");
}

fn common_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn the_throttle_counts_both_endpoints_per_token_and_answers_warn_1018() {
    let flex = Flex::with_default_limits().await;
    let (ann, bob) = (flex.user("ann").await, flex.user("bob").await);
    // Two per minute and a per-second limit that cannot bite: the third request is refused however slow the machine.
    flex.limits(1000, 2).await;
    for _ in 0..3 {
        assert_flex(
            &flex.raw(SEND, &format!("t={}&q={}&v=3", ann.token, ann.query_id), None).await,
            1020,
            INVALID_REQUEST,
        );
        assert_flex(&flex.send("111111111111111111111111", &ann.query_id, "").await, 1015, TOKEN_INVALID);
    }
    let code = flex.reference(&ann.token, &ann.query_id, "").await;
    assert_flex(&flex.get(&ann.token, &code).await, 1019, IN_PROGRESS);
    assert_flex(&flex.get(&ann.token, &code).await, 1018, THROTTLED);
    assert_flex(&flex.send(&ann.token, &ann.query_id, "").await, 1018, THROTTLED);
    flex.reference(&bob.token, &bob.query_id, "").await;

    // Eleven requests within a minute (ten allowed): the eleventh is refused.
    flex.limits(1000, 10).await;
    for i in 0..10 {
        let reply = flex.get(&ann.token, &code).await;
        assert_ne!(reply.element("ErrorCode").as_deref(), Some("1018"), "request {i}: {}", reply.text);
    }
    assert_flex(&flex.get(&ann.token, &code).await, 1018, THROTTLED);
    let fresh = flex.ok("/__sim/ibkr/tokens", json!({"user": "ann"})).await;
    flex.reference(fresh["token"].as_str().unwrap(), &ann.query_id, "").await;

    for bad in [
        json!({"per_second": 0, "per_minute": 10}),
        json!({"per_second": 1001, "per_minute": 10}),
        json!({"per_second": 1, "per_minute": 100_001}),
        json!({"per_minute": 10}),
    ] {
        assert_eq!(flex.control("/__sim/ibkr/ratelimit", bad.clone()).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn injected_codes_answer_after_the_token_checks_and_count_down() {
    let flex = Flex::start().await;
    let (ann, bob) = (flex.user("ann").await, flex.user("bob").await);
    let code = flex.reference(&ann.token, &ann.query_id, "").await;
    let busy =
        "The server is under heavy load. Statement could not be generated at this time. Please try again shortly.";
    let queued = flex
        .ok("/__sim/ibkr/errors", json!({"endpoint": "get_statement", "code": 1009, "times": 2, "user": "ann"}))
        .await;
    assert_eq!(queued, json!({"queued": 2}));
    assert_flex(&flex.get("", &code).await, 1015, TOKEN_INVALID);
    assert_flex(&flex.get(&bob.token, &code).await, 1017, "Reference code is invalid.");
    assert_flex(&flex.get(&ann.token, &code).await, 1009, busy);
    flex.reference(&ann.token, &ann.query_id, "").await;
    assert_flex(&flex.get(&ann.token, &code).await, 1009, busy);
    assert_flex(&flex.get(&ann.token, &code).await, 1019, IN_PROGRESS);

    flex.ok("/__sim/ibkr/errors", json!({"endpoint": "send_request", "code": 1001, "times": 1})).await;
    let transient = "Statement could not be generated at this time. Please try again shortly.";
    assert_flex(&flex.send(&bob.token, &bob.query_id, "").await, 1001, transient);
    flex.reference(&bob.token, &bob.query_id, "").await;
    flex.ok("/__sim/ibkr/errors", json!({"endpoint": "send_request", "code": 1018, "times": 1})).await;
    assert_flex(&flex.send(&bob.token, &bob.query_id, "").await, 1018, THROTTLED);
    flex.ok("/__sim/ibkr/errors", json!({"endpoint": "send_request", "code": 1016, "times": 1})).await;
    assert_flex(&flex.send(&bob.token, &bob.query_id, "").await, 1016, "Account in invalid.");

    for bad in [
        json!({"endpoint": "send_request", "code": 1002, "times": 1}),
        json!({"endpoint": "send_request", "code": 1022, "times": 1}),
        json!({"endpoint": "send_request", "code": 1001, "times": 0}),
        json!({"endpoint": "send_request", "code": 1001, "times": 101}),
        json!({"endpoint": "statements", "code": 1001, "times": 1}),
        json!({"endpoint": "send_request", "code": 1001, "times": 1, "user": "a b"}),
    ] {
        assert_eq!(flex.control("/__sim/ibkr/errors", bad.clone()).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn faults_answer_like_a_gateway_and_calls_are_counted_per_user() {
    let flex = Flex::start().await;
    let (ann, bob) = (flex.user("ann").await, flex.user("bob").await);
    let fault = |spec: Value| flex.ok("/__sim/faults", spec);
    fault(json!({"provider": "ibkr", "endpoint": "send_request", "user_id": "bob", "kind": "status", "status": 503, "times": 1})).await;
    flex.reference(&ann.token, &ann.query_id, "").await;
    let down = flex.send(&bob.token, &bob.query_id, "").await;
    assert_eq!((down.status.as_u16(), down.content_type.as_str()), (503, "text/html; charset=utf-8"));
    assert!(down.text.contains("503 Service Unavailable") && !down.text.contains("FlexStatementResponse"));

    let code = flex.reference(&bob.token, &bob.query_id, "").await;
    fault(json!({"provider": "ibkr", "endpoint": "get_statement", "kind": "malformed", "times": 1})).await;
    let html = flex.get(&bob.token, &code).await;
    assert_eq!((html.status.as_u16(), html.text.as_str()), (200, "<html><body>404 Not Found</body></html>"));
    fault(json!({"provider": "ibkr", "endpoint": "*", "kind": "rate_limit", "times": 1})).await;
    assert_flex(&flex.get(&bob.token, &code).await, 1018, THROTTLED);
    fault(json!({"provider": "ibkr", "endpoint": "get_statement", "kind": "disabled", "times": 1})).await;
    assert_flex(&flex.get(&bob.token, &code).await, 1011, "Service account is inactive.");
    assert_flex(&flex.get(&bob.token, &code).await, 1019, IN_PROGRESS);

    fault(json!({"provider": "ibkr", "endpoint": "get_statement", "kind": "latency", "ms": 200, "times": 1})).await;
    let started = Instant::now();
    assert!(flex.get(&bob.token, &code).await.text.contains("FlexQueryResponse"));
    assert!(started.elapsed() >= Duration::from_millis(200));

    fault(json!({"provider": "ibkr", "endpoint": "send_request", "kind": "timeout", "times": 1})).await;
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let url = format!("{}{SEND}?t={}&q={}&v=3", flex.base, ann.token, ann.query_id);
    assert!(impatient.get(url).header("user-agent", AGENT).send().await.is_err_and(|e| e.is_timeout()));
    assert_eq!(
        flex.control("/__sim/faults", json!({"provider": "ibkr", "endpoint": "statements", "kind": "timeout"}))
            .await
            .status,
        400
    );
    assert_eq!(
        read(flex.http.get(format!("{}/__sim/faults", flex.base)).send().await.unwrap()).await.json["faults"],
        json!([])
    );

    // Retired URLs answer 1001; other Flex paths an HTML 404.
    let legacy = flex
        .raw(
            "/Universal/servlet/FlexStatementService.SendRequest",
            &format!("t={}&q={}&v=3", ann.token, ann.query_id),
            Some(AGENT),
        )
        .await;
    assert_flex(&legacy, 1001, "Statement could not be generated at this time. Please try again shortly.");
    let missing = flex.raw("/AccountManagement/FlexWebService/Other", "", Some(AGENT)).await;
    assert_eq!((missing.status.as_u16(), missing.text.as_str()), (404, "<html><body>404 Not Found</body></html>"));
    flex.raw(GET, "t=nobody&q=1&v=3", Some(AGENT)).await;

    let calls =
        read(flex.http.request(Method::GET, format!("{}/__sim/calls", flex.base)).send().await.unwrap()).await.json;
    let ibkr = &calls["ibkr"];
    assert_eq!(ibkr["operations"], json!({"send_request": 5, "get_statement": 6}), "{ibkr}");
    assert_eq!(ibkr["users"]["ann"]["operations"], json!({"send_request": 3}));
    assert_eq!(ibkr["users"]["bob"]["operations"], json!({"send_request": 2, "get_statement": 5}));
    assert_eq!(ibkr["users"]["(none)"]["operations"], json!({"get_statement": 1}));
    assert_eq!((&ibkr["total"], &ibkr["billed"]), (&json!(11), &json!(0)));
    let mut providers: Vec<&String> = calls.as_object().unwrap().keys().collect();
    providers.sort();
    assert_eq!(providers, ["ibkr", "plaid", "schwab", "snaptrade"]);
}

#[tokio::test]
async fn query_options_shape_the_statement() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let [first, second] = [&ann.accounts[0], &ann.accounts[1]];

    let some = flex
        .query(
            "ann",
            json!({"sections": ["CashReport", "AccountInformation"], "base_summary": false, "pending_polls": 0}),
        )
        .await;
    let body = flex.statement(&ann.token, &some, "").await.text;
    assert!(!body.contains("OpenPosition") && !body.contains("<Trades") && !body.contains("CashTransaction"), "{body}");
    assert!(body.find("<CashReport>").unwrap() < body.find("<AccountInformation ").unwrap());
    assert!(!body.contains("BASE_SUMMARY"));
    assert_eq!(rows(&body, "CashReportCurrency").len(), 3 + 2);

    let full = flex.statement(&ann.token, &ann.query_id, "").await.text;
    assert!(full.contains("<Trades />"), "account 2 has no trades");
    assert!(
        full.contains("description=\"SYNTH S&amp;P/TSX 60 INDEX ETF\"")
            && full.contains("type=\"Deposits &amp; Withdrawals\"")
    );

    let lots = flex.query("ann", json!({"level_of_detail": "lot", "pending_polls": 0})).await;
    let body = flex.statement(&ann.token, &lots, "").await.text;
    let levels: Vec<String> = rows(&body, "OpenPosition").into_iter().map(|r| r["levelOfDetail"].clone()).collect();
    assert_eq!(levels, vec!["LOT"; 9]);
    let summary = flex.query("ann", json!({"level_of_detail": "summary", "pending_polls": 0})).await;
    let body = flex.statement(&ann.token, &summary, "").await.text;
    let summaries = rows(&body, "OpenPosition");
    assert_eq!(summaries.len(), 6);
    assert!(summaries.iter().all(|r| r["levelOfDetail"] == "SUMMARY" && r["openDateTime"].is_empty()));

    let single = flex.query("ann", json!({"single_quotes": true, "xml_declaration": false, "pending_polls": 0})).await;
    let body = flex.statement(&ann.token, &single, "").await.text;
    assert!(body.starts_with("<FlexQueryResponse queryName='Activity' type='AF'>"), "{body}");
    assert!(!body.contains("=\"") && body.contains("name='Jane O&apos;Example'"));
    assert_eq!(rows(&body, "AccountInformation")[0]["name"], "Jane O'Example");
    let sent = flex.send(&ann.token, &single, "").await;
    assert!(sent.text.starts_with("<FlexStatementResponse timestamp='"), "envelopes follow the query's style");

    let formats = flex.query("ann", json!({"date_format": "yyyy-MM-dd", "time_format": "HH:mm:ss", "datetime_separator": ",", "pending_polls": 0})).await;
    let body = flex.statement(&ann.token, &formats, "").await.text;
    let lot = &rows(&body, "OpenPosition")[1];
    assert_eq!((lot["reportDate"].as_str(), lot["openDateTime"].as_str()), ("2026-03-13", "2024-05-14,10:31:07"));
    assert_eq!(rows(&body, "Trade")[0]["tradeTime"], "10:31:07");
    assert!(body.contains("expiry=\"2026-06-19\""));
    let short =
        flex.query("ann", json!({"date_format": "dd-MMM-yy", "datetime_separator": "", "pending_polls": 0})).await;
    let body = flex.statement(&ann.token, &short, "").await.text;
    assert_eq!(rows(&body, "Trade")[0]["dateTime"], "13-Mar-26103107");
    assert_eq!(rows(&body, "Trade")[0]["settleDateTarget"], "16-Mar-26", "Friday's trades settle on Monday");

    let csv = flex.query("ann", json!({"output": "csv", "sections": ["OpenPositions"], "pending_polls": 0})).await;
    let reply = flex.statement(&ann.token, &csv, "").await;
    assert_eq!(reply.content_type, "text/csv; charset=utf-8");
    assert!(!reply.text.contains("FlexQueryResponse"));
    let lines: Vec<&str> = reply.text.lines().collect();
    assert!(lines[0].starts_with("\"ClientAccountID\",\"AcctAlias\",\"CurrencyPrimary\",\"FxRateToBase\",\"AssetClass\",\"SubCategory\",\"Symbol\","), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 15);
    assert!(
        lines[1].starts_with(&format!("\"{first}\",\"\",\"USD\",\"1\",\"STK\",\"COMMON\",\"SYNT\"")),
        "{}",
        lines[1]
    );
    assert!(lines[15].starts_with(&format!("\"{second}\"")));
    let text = flex.query("ann", json!({"output": "text", "pending_polls": 0})).await;
    let reply = flex.statement(&ann.token, &text, "").await;
    assert_eq!(reply.content_type, "text/plain; charset=utf-8");
    assert!(
        reply.text.starts_with("ClientAccountID|AcctAlias|CurrencyPrimary|Name|")
            && !reply.text.contains("FlexQueryResponse")
    );
}

#[tokio::test]
async fn period_overrides_set_the_statement_span() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let eager = flex.query("ann", json!({"date_format": "yyyy-MM-dd", "pending_polls": 0})).await;
    let statement = |extra: &'static str| {
        let (flex, token, eager) = (&flex, ann.token.clone(), eager.clone());
        async move { flex.statement(&token, &eager, extra).await.text }
    };
    let span = |body: &str| {
        let head = &body[body.find("<FlexStatement ").unwrap() + 15..];
        let a = attrs(&head[..head.find('>').unwrap()]);
        (a["fromDate"].clone(), a["toDate"].clone(), a["period"].clone())
    };
    let spanned = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(span(&statement("").await), spanned("2026-03-13", "2026-03-13", "LastBusinessDay"));
    assert_eq!(span(&statement("&p=5").await), spanned("2026-03-09", "2026-03-13", "LastNCalendarDays"));
    assert_eq!(span(&statement("&fd=20260101&td=20260131").await), spanned("2026-01-01", "2026-01-31", ""));
}

#[tokio::test]
async fn the_statement_adds_up() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let body = flex.statement(&ann.token, &ann.query_id, "").await.text;
    let rates = [
        HashMap::from([("USD", "1"), ("EUR", "1.0862"), ("CAD", "0.7391")]),
        HashMap::from([("CAD", "1"), ("USD", "1.353")]),
    ];
    for ((account, text), rates) in statements(&body).into_iter().zip(rates) {
        let positions = rows(text, "OpenPosition");
        assert!(positions.iter().all(|r| r["accountId"] == account));
        for row in &positions {
            let value = dec(&row["position"]) * dec(&row["markPrice"]) * dec(&row["multiplier"]);
            assert_eq!(dec(&row["positionValue"]), value, "{row:?}");
            assert_eq!(row["side"] == "Short", dec(&row["position"]).is_sign_negative());
        }
        for summary in positions.iter().filter(|r| r["levelOfDetail"] == "SUMMARY") {
            let lots: Vec<_> =
                positions.iter().filter(|r| r["levelOfDetail"] == "LOT" && r["conid"] == summary["conid"]).collect();
            assert!(!lots.is_empty());
            assert!(lots.iter().all(|l| !l["openDateTime"].is_empty()));
            for field in ["position", "costBasisMoney", "positionValue", "fifoPnlUnrealized"] {
                let sum: Decimal = lots.iter().map(|l| dec(&l[field])).sum();
                assert_eq!(dec(&summary[field]), sum, "{account} {} {field}", summary["symbol"]);
            }
        }
        let cash = rows(text, "CashReportCurrency");
        let base = cash.iter().find(|r| r["currency"] == "BASE_SUMMARY").unwrap();
        for field in ["startingCash", "endingCash", "endingSettledCash", "dividends", "brokerInterest"] {
            let converted: Decimal = cash
                .iter()
                .filter(|r| r["currency"] != "BASE_SUMMARY")
                .map(|r| dec(&r[field]) * dec(rates[r["currency"].as_str()]))
                .sum();
            assert_eq!(dec(&base[field]), converted, "{account} {field}");
        }
    }

    // Account 1: the documented seed, exactly.
    let (_, first) = statements(&body)[0];
    let summary: Vec<_> = rows(first, "OpenPosition").into_iter().filter(|r| r["levelOfDetail"] == "SUMMARY").collect();
    let brief: Vec<(&str, &str, &str, &str)> = summary
        .iter()
        .map(|r| {
            (r["symbol"].as_str(), r["position"].as_str(), r["positionValue"].as_str(), r["costBasisMoney"].as_str())
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("SYNT", "25", "3753.0864", "3010.5"),
            ("SHRT", "-30", "-1275", "-1353"),
            ("SYNT  260619C00160000", "-1", "-420", "-510"),
            ("SYNE", "40", "900", "801"),
        ]
    );
    let option = &summary[2];
    assert_eq!(
        (option["assetCategory"].as_str(), option["multiplier"].as_str(), option["putCall"].as_str()),
        ("OPT", "100", "C")
    );
    assert_eq!(
        (option["strike"].as_str(), option["expiry"].as_str(), option["underlyingConid"].as_str()),
        ("160", "20260619", "11112222")
    );
    assert_eq!(summary[3]["fxRateToBase"], "1.0862");
    let cash = rows(first, "CashReportCurrency");
    assert_eq!((cash[0]["currency"].as_str(), cash[0]["endingCash"].as_str()), ("BASE_SUMMARY", "4956.78974"));
    let trades = rows(first, "Trade");
    assert_eq!(
        (trades[0]["buySell"].as_str(), trades[0]["quantity"].as_str(), trades[0]["proceeds"].as_str()),
        ("BUY", "5", "-749")
    );
    assert_eq!(
        (trades[1]["buySell"].as_str(), trades[1]["quantity"].as_str(), trades[1]["netCash"].as_str()),
        ("SELL", "-5", "754"),
        "the day's round trip leaves the position as it was"
    );
    assert_ne!(trades[0]["tradeID"], trades[1]["tradeID"]);

    // Every execution's cash adds up, and every currency's flows lead from its starting to its ending cash.
    for (account, text) in statements(&body) {
        for trade in rows(text, "Trade") {
            assert_eq!(dec(&trade["netCash"]), dec(&trade["proceeds"]) + dec(&trade["ibCommission"]), "{trade:?}");
            assert_eq!(dec(&trade["tradeMoney"]), -dec(&trade["proceeds"]));
            assert!(dec(&trade["ibCommission"]) <= Decimal::ZERO);
            assert_eq!(dec(&trade["quantity"]).is_sign_negative(), trade["buySell"] == "SELL");
            assert_eq!(dec(&trade["proceeds"]).is_sign_positive(), trade["buySell"] == "SELL");
        }
        for row in rows(text, "CashReportCurrency") {
            let flows: Decimal = [
                "commissions",
                "depositWithdrawals",
                "dividends",
                "withholdingTax",
                "brokerInterest",
                "otherFees",
                "netTradesSales",
                "netTradesPurchases",
            ]
            .iter()
            .map(|f| dec(&row[*f]))
            .sum();
            assert_eq!(dec(&row["startingCash"]) + flows, dec(&row["endingCash"]), "{account} {}", row["currency"]);
        }
    }
    let usd = &rows(first, "CashReportCurrency")[1];
    assert_eq!((usd["startingCash"].as_str(), usd["endingSettledCash"].as_str()), ("3657.4", "3668.02"));
}

#[tokio::test]
async fn the_report_date_changes_new_statements_only() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let before = flex.reference(&ann.token, &ann.query_id, "").await;
    // One user's own date leaves everyone else's alone.
    let bob = flex.user("bob").await;
    let set = json!({"date": "2026-03-20", "user": "bob"});
    assert_eq!(flex.ok("/__sim/ibkr/report_date", set).await, json!({"date": "2026-03-20", "user": "bob"}));
    let own = flex.statement(&bob.token, &bob.query_id, "").await.text;
    assert_eq!(rows(&own, "OpenPosition")[0]["reportDate"], "20260320");
    assert_eq!(
        flex.ok("/__sim/ibkr/report_date", json!({"date": "2026-03-16"})).await,
        json!({"date": "2026-03-16", "user": null})
    );
    let after = flex.reference(&ann.token, &ann.query_id, "").await;
    let read_statement = |code: String| {
        let (flex, token) = (&flex, ann.token.clone());
        async move {
            flex.get(&token, &code).await;
            flex.get(&token, &code).await.text
        }
    };
    let (old, new) = (read_statement(before).await, read_statement(after).await);
    let synt = |body: &str| rows(body, "OpenPosition").into_iter().next().unwrap();
    assert_eq!((synt(&old)["reportDate"].as_str(), synt(&old)["markPrice"].as_str()), ("20260313", "150.123456"));
    assert_eq!((synt(&new)["reportDate"].as_str(), synt(&new)["markPrice"].as_str()), ("20260316", "150.873456"));
    assert_eq!(rows(&old, "Trade").len(), 2, "the 13th's executions");
    assert!(rows(&new, "Trade").is_empty() && new.contains("<Trades />"), "nothing was traded on the 16th");
    let back = flex.statement(&ann.token, &ann.query_id, "&fd=20260313&td=20260316").await.text;
    let ids = |body: &str| rows(body, "Trade").into_iter().map(|t| t["transactionID"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&back), ids(&old), "a transaction keeps its ids in every statement that covers it");
    for bad in ["2026-02-30", "20260316", "16/03/2026", ""] {
        assert_eq!(flex.control("/__sim/ibkr/report_date", json!({"date": bad})).await.status, 400, "{bad}");
    }
    let unknown = json!({"date": "2026-03-16", "user": "nobody"});
    assert_eq!(flex.control("/__sim/ibkr/report_date", unknown).await.status, 400);
}

#[tokio::test]
async fn a_querys_pending_polls_can_change_for_later_statements() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let set = json!({"user": "ann", "query_id": ann.query_id, "pending_polls": 0});
    assert_eq!(flex.ok("/__sim/ibkr/pending_polls", set).await["pending_polls"], 0);
    let code = flex.reference(&ann.token, &ann.query_id, "").await;
    assert!(flex.get(&ann.token, &code).await.text.contains("FlexQueryResponse"), "ready on the first poll");
    // A statement still generating is finished on demand.
    let slow = json!({"user": "ann", "query_id": ann.query_id, "pending_polls": 20});
    flex.ok("/__sim/ibkr/pending_polls", slow).await;
    let code = flex.reference(&ann.token, &ann.query_id, "").await;
    assert!(!flex.get(&ann.token, &code).await.text.contains("FlexQueryResponse"), "still generating");
    assert_eq!(flex.ok("/__sim/ibkr/finish", json!({"user": "ann"})).await["finished"], 1);
    assert!(flex.get(&ann.token, &code).await.text.contains("FlexQueryResponse"), "ready now");
    let other = json!({"user": "bob", "query_id": ann.query_id, "pending_polls": 1});
    assert_eq!(flex.control("/__sim/ibkr/pending_polls", other).await.status, 400, "another user's query");
}

#[tokio::test]
async fn controls_reject_bad_input() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    flex.user("bob").await;
    let first = &ann.accounts[0];
    let deposit = json!({"kind": "deposit", "amount": "5", "date": "2026-03-12", "id": "77"});
    let cases = [
        ("/__sim/ibkr/users", json!({"user": ""})),
        ("/__sim/ibkr/users", json!({"user": "a.b"})),
        ("/__sim/ibkr/users", json!({"user": "x".repeat(65)})),
        ("/__sim/ibkr/users", json!({"name": "ann"})),
        ("/__sim/ibkr/tokens", json!({"user": "nobody"})),
        ("/__sim/ibkr/tokens", json!({"user": "ann", "expires_in_seconds": 21_599})),
        ("/__sim/ibkr/tokens", json!({"user": "ann", "expires_in_seconds": 31_536_001})),
        ("/__sim/ibkr/tokens", json!({"user": "ann", "ip": "localhost"})),
        ("/__sim/ibkr/expire", json!({"token": "1"})),
        ("/__sim/ibkr/queries", json!({"user": "nobody"})),
        ("/__sim/ibkr/queries", json!({"user": "ann", "output": "pdf"})),
        ("/__sim/ibkr/queries", json!({"user": "ann", "sections": ["Trades", "Nope"]})),
        ("/__sim/ibkr/queries", json!({"user": "ann", "pending_polls": 21})),
        ("/__sim/ibkr/queries", json!({"user": "ann", "date_format": "yyyy/MM/dd"})),
        ("/__sim/ibkr/transactions", json!({"account_id": "U0000000", "rows": [deposit.clone()]})),
        ("/__sim/ibkr/transactions", json!({"account_id": first, "rows": []})),
        ("/__sim/ibkr/transactions", json!({"account_id": first, "user": "bob", "rows": [deposit.clone()]})),
        ("/__sim/ibkr/transactions", json!({"account_id": first, "token": "123", "rows": [deposit.clone()]})),
        (
            "/__sim/ibkr/transactions",
            json!({"account_id": first, "rows": [deposit.clone()], "apply_to_holdings": true}),
        ),
        (
            "/__sim/ibkr/transactions",
            json!({"account_id": first, "rows": [{"kind": "split", "symbol": "SYNT", "quantity": "25", "date": "2026-03-12"}]}),
        ),
        (
            "/__sim/ibkr/transactions",
            json!({"account_id": first, "rows": [{"kind": "deposit", "amount": "5", "currency": "GBP", "date": "2026-03-12"}]}),
        ),
        (
            "/__sim/ibkr/transactions",
            json!({"account_id": first, "rows": [{"kind": "deposit", "amount": "5", "date": "2026-03-12", "id": "tx-1"}]}),
        ),
        (
            "/__sim/ibkr/transactions",
            json!({"account_id": first, "rows": [{"kind": "buy", "symbol": "SYNT", "quantity": "-1", "price": "1", "date": "2026-03-12"}]}),
        ),
        ("/__sim/ibkr/transactions", json!({"account_id": first, "rows": [deposit.clone(), deposit.clone()]})),
    ];
    for (path, body) in cases {
        let reply = flex.control(path, body.clone()).await;
        assert_eq!(reply.status, 400, "{path} {body}: {}", reply.text);
        assert!(reply.json["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", reply.text);
    }
}

/// Every `<name …/>` row of one FlexStatement, by account id.
fn rows_of(xml: &str, account: &str, name: &str) -> Vec<HashMap<String, String>> {
    let (_, text) = statements(xml).into_iter().find(|(id, _)| id == account).unwrap();
    rows(text, name)
}

#[tokio::test]
async fn trades_and_cash_transactions_are_the_periods_rows_with_stable_ids() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let iso = flex.query("ann", json!({"date_format": "yyyy-MM-dd", "pending_polls": 0})).await;
    let day = flex.statement(&ann.token, &iso, "").await.text;
    let first = &ann.accounts[0];

    // The report date: two executions, each after its order's roll-up, the sale's closed lot, and
    // the dividend with its tax beside a EUR deposit.
    let trades = rows_of(&day, first, "Trade");
    assert!(trades.iter().all(|t| t["levelOfDetail"] == "EXECUTION" && t["tradeDate"] == "2026-03-13"));
    let orders = rows_of(&day, first, "Order");
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o["levelOfDetail"] == "ORDER" && o["transactionID"].is_empty()));
    assert_eq!(orders[1]["ibOrderID"], trades[1]["ibOrderID"]);
    let lots = rows_of(&day, first, "Lot");
    assert_eq!(lots.len(), 1);
    let lot = &lots[0];
    assert_eq!((lot["levelOfDetail"].as_str(), lot["openDateTime"].as_str()), ("CLOSED_LOT", "2026-03-13;103107"));
    assert_eq!((&lot["transactionID"], &lot["quantity"]), (&trades[1]["transactionID"], &trades[1]["quantity"]));
    assert_eq!((trades[1]["openCloseIndicator"].as_str(), trades[1]["fifoPnlRealized"].as_str()), ("C", "5"));
    let body_order: Vec<usize> = ["<Order ", "<Trade ", "<Lot "].iter().map(|s| day.find(s).unwrap()).collect();
    assert!(body_order[0] < body_order[1] && body_order[1] < body_order[2]);
    let cash = rows_of(&day, first, "CashTransaction");
    let brief: Vec<(&str, &str, &str)> =
        cash.iter().map(|c| (c["type"].as_str(), c["currency"].as_str(), c["amount"].as_str())).collect();
    assert_eq!(
        brief,
        [("Deposits & Withdrawals", "EUR", "1000"), ("Dividends", "USD", "12.5"), ("Withholding Tax", "USD", "-1.88")]
    );
    assert!(cash.iter().all(|c| c["levelOfDetail"] == "DETAIL" && c["transactionID"].len() == 10));
    assert_eq!((cash[0]["assetCategory"].as_str(), cash[0]["dateTime"].as_str()), ("CASH", "2026-03-13"));
    assert_eq!((cash[1]["conid"].as_str(), cash[2]["conid"].as_str()), ("11112222", "11112222"));
    assert_eq!(cash[1]["dateTime"], "2026-03-13;202000");
    let second = rows_of(&day, &ann.accounts[1], "CashTransaction");
    assert_eq!(second[1]["type"], "Broker Interest Paid");

    // A year: the older rows too, every one inside the period, the day's rows under the same ids.
    let year = flex.statement(&ann.token, &iso, "&p=365").await.text;
    let span = |body: &str| {
        let head = &body[body.find("<FlexStatement ").unwrap() + 15..];
        let a = attrs(&head[..head.find('>').unwrap()]);
        (a["fromDate"].clone(), a["toDate"].clone())
    };
    let (from, to) = span(&year);
    assert_eq!((from.as_str(), to.as_str()), ("2025-03-14", "2026-03-13"));
    let year_trades = rows_of(&year, first, "Trade");
    let dates: Vec<&str> = year_trades.iter().map(|t| t["tradeDate"].as_str()).collect();
    assert_eq!(dates, ["2025-11-03", "2026-02-02", "2026-03-13", "2026-03-13"], "the short sale, the call, the day");
    let year_cash = rows_of(&year, first, "CashTransaction");
    assert!(year_cash.iter().all(|c| (from.as_str()..=to.as_str()).contains(&&c["reportDate"][..])));
    assert!(
        year_cash.iter().any(|c| c["type"] == "Other Fees")
            && year_cash.iter().any(|c| c["type"] == "Broker Interest Received")
    );
    let ids = |rows: &[HashMap<String, String>]| rows.iter().map(|r| r["transactionID"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&year_trades[2..]), ids(&trades));
    assert_eq!(ids(&year_cash[year_cash.len() - 3..]), ids(&cash));

    // Early March only: the interest of the 4th, no trade.
    let early = flex.statement(&ann.token, &iso, "&fd=20260301&td=20260312").await.text;
    assert!(rows_of(&early, first, "Trade").is_empty() && rows_of(&early, first, "Order").is_empty());
    let interest = rows_of(&early, first, "CashTransaction");
    assert_eq!(interest.len(), 1);
    assert_eq!((interest[0]["type"].as_str(), interest[0]["amount"].as_str()), ("Broker Interest Received", "0.42"));
    // Another user's transactions never share an id with ann's.
    let bob = flex.user("bob").await;
    let bobs = flex.statement(&bob.token, &bob.query_id, "").await.text;
    assert!(rows(&bobs, "Trade").iter().all(|t| !ids(&trades).contains(&t["transactionID"])));
}

#[tokio::test]
async fn posted_transactions_appear_in_the_next_statement() {
    let flex = Flex::start().await;
    let ann = flex.user("ann").await;
    let first = ann.accounts[0].clone();
    let iso = flex.query("ann", json!({"date_format": "yyyy-MM-dd", "pending_polls": 0})).await;
    let earlier = flex.reference(&ann.token, &iso, "&fd=20260316&td=20260316").await;
    let body = json!({"account_id": first, "token": ann.token, "rows": [
        {"kind": "buy", "symbol": "SYNT", "quantity": "2", "price": "150.25", "fee": "1", "date": "2026-03-16"},
        {"kind": "sell", "symbol": "AAPL", "quantity": "3", "price": "190", "date": "2026-03-16", "id": "555000111"},
        {"kind": "dividend", "symbol": "SYNE", "amount": "4.40", "date": "2026-03-16"},
        {"kind": "withdrawal", "amount": "-100", "currency": "EUR", "date": "2026-03-16", "description": "TO BANK"},
        {"kind": "interest", "amount": "-0.12", "date": "2026-03-17"}
    ]});
    let posted = flex.ok("/__sim/ibkr/transactions", body).await;
    assert_eq!((posted["account_id"].as_str(), posted["user"].as_str()), (Some(first.as_str()), Some("ann")));
    let ids: Vec<String> = posted["ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_owned()).collect();
    assert_eq!((ids.len(), ids[1].as_str()), (5, "555000111"));

    let stored = flex.get(&ann.token, &earlier).await.text;
    assert!(rows(&stored, "Trade").is_empty(), "a statement made before the post keeps its bytes");
    let next = flex.statement(&ann.token, &iso, "&fd=20260316&td=20260316").await.text;
    let trades = rows_of(&next, &first, "Trade");
    let brief: Vec<(&str, &str, &str, &str)> = trades
        .iter()
        .map(|t| (t["symbol"].as_str(), t["quantity"].as_str(), t["netCash"].as_str(), t["transactionID"].as_str()))
        .collect();
    assert_eq!(brief, [("SYNT", "2", "-301.5", ids[0].as_str()), ("AAPL", "-3", "570", "555000111")]);
    assert_eq!((trades[0]["conid"].as_str(), trades[0]["ibCommission"].as_str()), ("11112222", "-1"));
    assert!(trades[1]["conid"].len() == 8 && trades[1]["assetCategory"] == "STK", "a plain stock for an unheld symbol");
    assert_eq!(trades[0]["settleDateTarget"], "2026-03-17");
    let cash = rows_of(&next, &first, "CashTransaction");
    let brief: Vec<(&str, &str, &str, &str)> = cash
        .iter()
        .map(|c| (c["type"].as_str(), c["currency"].as_str(), c["amount"].as_str(), c["symbol"].as_str()))
        .collect();
    assert_eq!(brief, [("Dividends", "EUR", "4.4", "SYNE"), ("Deposits & Withdrawals", "EUR", "-100", "")]);
    assert_eq!(cash[1]["description"], "TO BANK");
    let eur = rows_of(&next, &first, "CashReportCurrency").into_iter().find(|r| r["currency"] == "EUR").unwrap();
    assert_eq!(
        (eur["dividends"].as_str(), eur["withdrawals"].as_str(), eur["endingCash"].as_str()),
        ("4.4", "-100", "1012.7")
    );
    let later = flex.statement(&ann.token, &iso, "&fd=20260317&td=20260317").await.text;
    assert_eq!(rows_of(&later, &first, "CashTransaction")[0]["type"], "Broker Interest Paid");

    let again = json!({"account_id": first, "rows": [{"kind": "fee", "amount": "-1", "date": "2026-03-16", "id": "555000111"}]});
    assert_eq!(flex.control("/__sim/ibkr/transactions", again).await.status, 400, "an id is used once");
    let reset = flex.user("ann").await;
    let fresh = flex.statement(&reset.token, &reset.query_id, "&fd=20260316&td=20260317").await.text;
    assert!(rows(&fresh, "Trade").is_empty() && rows(&fresh, "CashTransaction").is_empty(), "a reset forgets posts");
}
