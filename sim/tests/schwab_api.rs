//! The Schwab Trader API over HTTP: consent → code → token → accounts, code and token lifetimes on
//! the simulated clock (the age control, never sleeping), refresh-token rules, client
//! authentication, exact callback matching, positions, the per-app rate limit, faults and call counts.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use tributary_sim::{SchwabCredentials, SimConfig, Simulator};

const CLIENT_ID: &str = "SchwabTestAppKey0123456789ABCDEF";
const CLIENT_SECRET: &str = "schwab-secret-16";
const CALLBACK: &str = "https://127.0.0.1:8182";
const LOCAL_CALLBACK: &str = "http://127.0.0.1:9000/schwab/callback";
/// The 400 body for a dead refresh token, copied from the provider reference (section 2.5).
const DEAD_REFRESH_BODY: &str = r#"{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{\"error_description\":\"Exception while authenticating refresh token [tokenDigest=...]\",\"error\":\"refresh_token_authentication_error\"}\""}"#;

/// What tests look at in a response.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
    json: Value,
}

impl Reply {
    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    }

    fn correl_id(&self) -> String {
        self.header("Schwab-Client-CorrelId")
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, text, json }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
}

/// Asserts an OAuth error answer with this status and `error`.
fn assert_oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.json["error"], error, "{}", reply.text);
    assert!(reply.json["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{}", reply.text);
}

/// Asserts the Trader 401 `Client not authorized` answer.
fn assert_unauthorized(reply: &Reply) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    let error = &reply.json["errors"][0];
    assert_eq!((&error["status"], &error["title"]), (&json!(401), &json!("Unauthorized")), "{}", reply.text);
    assert_eq!(error["detail"], "Client not authorized");
    assert!(is_uuid(error["id"].as_str().unwrap()), "{}", reply.text);
    assert!(is_uuid(&reply.correl_id()));
}

/// Asserts a Trader `{"message"}` answer.
fn assert_message(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": message }), "{}", reply.text);
}

/// A login's tokens.
#[derive(Debug, Clone)]
struct Tokens {
    access: String,
    refresh: String,
}

/// A started simulator that accepts the test Schwab app, and a client that does not follow redirects.
struct Schwab {
    _sim: Simulator,
    base: String,
    http: reqwest::Client,
}

fn config() -> SimConfig {
    SimConfig {
        schwab: Some(SchwabCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![CALLBACK.into(), LOCAL_CALLBACK.into()],
        }),
        ..SimConfig::default()
    }
}

impl Schwab {
    async fn start() -> Self {
        Self::with_config(config()).await
    }

    async fn with_config(config: SimConfig) -> Self {
        let sim = Simulator::start(0, config).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: sim.base_url(), _sim: sim, http }
    }

    async fn authorize_page(&self, client_id: &str, redirect_uri: &str, state: Option<&str>) -> Reply {
        let mut query = vec![("client_id", client_id), ("redirect_uri", redirect_uri), ("response_type", "code")];
        query.extend(state.map(|s| ("state", s)));
        read(self.http.get(format!("{}/v1/oauth/authorize", self.base)).query(&query).send().await.unwrap()).await
    }

    /// Submits the consent form.
    async fn decide(&self, redirect_uri: &str, state: Option<&str>, customer: &str, decision: &str) -> Reply {
        let mut form = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("customer", customer),
            ("decision", decision),
        ];
        form.extend(state.map(|s| ("state", s)));
        let url = format!("{}/v1/oauth/authorize/decision", self.base);
        read(self.http.post(url).form(&form).send().await.unwrap()).await
    }

    /// Logs `customer` in through the consent form for `redirect_uri`; returns the decoded code.
    async fn code_for(&self, customer: &str, redirect_uri: &str) -> String {
        let reply = self.decide(redirect_uri, None, customer, "allow").await;
        assert_eq!(reply.status, 302, "{}", reply.text);
        let location = reqwest::Url::parse(&reply.header("location")).unwrap();
        let query: HashMap<_, _> = location.query_pairs().into_owned().collect();
        query["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)], auth: Option<(&str, &str)>) -> Reply {
        let mut request = self.http.post(format!("{}/v1/oauth/token", self.base)).form(form);
        if let Some((user, password)) = auth {
            request = request.basic_auth(user, Some(password));
        }
        read(request.send().await.unwrap()).await
    }

    async fn exchange(&self, code: &str, redirect_uri: &str) -> Reply {
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)];
        self.token(&form, Some((CLIENT_ID, CLIENT_SECRET))).await
    }

    async fn refresh(&self, refresh_token: &str) -> Reply {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        self.token(&form, Some((CLIENT_ID, CLIENT_SECRET))).await
    }

    /// A full login of `customer`: consent, then code exchange.
    async fn connect(&self, customer: &str) -> Tokens {
        let code = self.code_for(customer, CALLBACK).await;
        let reply = self.exchange(&code, CALLBACK).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        Tokens {
            access: reply.json["access_token"].as_str().unwrap().to_owned(),
            refresh: reply.json["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn get(&self, path: &str, access_token: Option<&str>) -> Reply {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = access_token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.unwrap()).await
    }

    async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    async fn age(&self, customer: &str, seconds: u64) -> Value {
        let reply = self
            .control(Method::POST, "/__sim/schwab/age", Some(json!({"customer": customer, "seconds": seconds})))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json
    }

    async fn fault(&self, spec: Value) {
        let reply = self.control(Method::POST, "/__sim/faults", Some(spec)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    /// The account hashes of the token's customer, by account number.
    async fn hashes(&self, access_token: &str) -> HashMap<String, String> {
        let reply = self.get("/trader/v1/accounts/accountNumbers", Some(access_token)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let pairs = reply.json.as_array().unwrap().iter();
        pairs.map(|p| (p["accountNumber"].as_str().unwrap().into(), p["hashValue"].as_str().unwrap().into())).collect()
    }
}

#[tokio::test]
async fn consent_then_code_then_token_then_accounts() {
    let s = Schwab::start().await;
    let page = s.authorize_page(CLIENT_ID, CALLBACK, Some("csrf-1")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(is_uuid(&page.correl_id()));
    for needle in [
        "<form method=\"post\" action=\"/v1/oauth/authorize/decision\">",
        &format!("<input type=\"hidden\" name=\"client_id\" value=\"{CLIENT_ID}\">"),
        "<input type=\"hidden\" name=\"redirect_uri\" value=\"https://127.0.0.1:8182\">",
        "<input type=\"hidden\" name=\"state\" value=\"csrf-1\">",
        "name=\"customer\" value=\"schwab-customer\"",
        "name=\"decision\" value=\"allow\">Allow</button>",
        "name=\"decision\" value=\"deny\">",
    ] {
        assert!(page.text.contains(needle), "{needle} missing from {}", page.text);
    }

    let decided = s.decide(CALLBACK, Some("csrf-1"), "schwab-customer", "allow").await;
    assert_eq!(decided.status, 302, "{}", decided.text);
    assert!(is_uuid(&decided.correl_id()));
    let raw = decided.header("location");
    assert!(raw.starts_with("https://127.0.0.1:8182?code=C0."), "{raw}");
    assert!(raw.contains("%40&session=") && raw.ends_with("&state=csrf-1"), "{raw}");
    let raw_code = raw.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let query: HashMap<_, _> = reqwest::Url::parse(&raw).unwrap().query_pairs().into_owned().collect();
    let code = query["code"].clone();
    assert!(code.starts_with("C0.") && code.ends_with('@') && code.split('.').count() == 3, "{code}");
    assert_eq!(raw_code, code.replace('@', "%40"), "the code is URL-encoded exactly once");
    assert!(is_uuid(&query["session"]));
    assert_eq!(query["state"], "csrf-1");

    // The still-encoded form is not the code; the attempt does not use the code up.
    assert_oauth_error(&s.exchange(&raw_code, CALLBACK).await, 400, "invalid_grant");
    let token = s.exchange(&code, CALLBACK).await;
    assert_eq!(token.status, 200, "{}", token.text);
    assert!(is_uuid(&token.correl_id()));
    let t = &token.json;
    assert_eq!((&t["expires_in"], &t["token_type"], &t["scope"]), (&json!(1800), &json!("Bearer"), &json!("api")));
    let (access, refresh) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());
    assert!(access.starts_with("I0.") && access.ends_with('@'), "{access}");
    assert!(refresh.ends_with('@') && refresh.len() > 20, "{refresh}");
    assert_eq!(t["id_token"].as_str().unwrap().split('.').count(), 3);

    let numbers = s.get("/trader/v1/accounts/accountNumbers", Some(access)).await;
    assert_eq!(numbers.status, 200, "{}", numbers.text);
    assert!(is_uuid(&numbers.correl_id()));
    let pairs = numbers.json.as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!((&pairs[0]["accountNumber"], &pairs[1]["accountNumber"]), (&json!("12345678"), &json!("87654321")));
    for pair in pairs {
        let hash = pair["hashValue"].as_str().unwrap();
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{hash}");
    }
    let (margin_hash, cash_hash) = (pairs[0]["hashValue"].as_str().unwrap(), pairs[1]["hashValue"].as_str().unwrap());
    assert_ne!(margin_hash, cash_hash);

    let with = s.get("/trader/v1/accounts?fields=positions", Some(access)).await;
    assert_eq!(with.status, 200, "{}", with.text);
    for needle in [r#""longQuantity":10.0"#, r#""marketValue":1550.0"#, r#""isInCall":false"#] {
        assert!(with.text.contains(needle), "{needle} missing: numbers are floats, isInCall a boolean");
    }
    let margin = &with.json[0]["securitiesAccount"];
    assert_eq!((&margin["type"], &margin["accountNumber"]), (&json!("MARGIN"), &json!("12345678")));
    let positions = margin["positions"].as_array().unwrap();
    let by_symbol = |symbol: &str| positions.iter().find(|p| p["instrument"]["symbol"] == symbol).unwrap().clone();
    let synt = by_symbol("SYNT");
    assert_eq!(
        (&synt["longQuantity"], &synt["averagePrice"], &synt["marketValue"]),
        (&json!(10.0), &json!(150.25), &json!(1550.0))
    );
    let call = by_symbol("SYNT  260605C00121000");
    assert_eq!(
        (&call["shortQuantity"], &call["settledShortQuantity"], &call["longQuantity"]),
        (&json!(1.0), &json!(-1.0), &json!(0.0))
    );
    assert_eq!((&call["marketValue"], &call["averagePrice"]), (&json!(-3.5), &json!(0.9434)));
    let option = &call["instrument"];
    assert_eq!(
        (&option["assetType"], &option["putCall"], &option["optionMultiplier"]),
        (&json!("OPTION"), &json!("CALL"), &json!(100))
    );
    let etf = by_symbol("SETF");
    assert_eq!(
        (&etf["instrument"]["assetType"], &etf["instrument"]["type"]),
        (&json!("COLLECTIVE_INVESTMENT"), &json!("EXCHANGE_TRADED_FUND"))
    );
    assert_eq!(
        (&etf["longQuantity"], &etf["averagePrice"], &etf["marketValue"]),
        (&json!(25.0), &json!(72.1), &json!(1802.5))
    );
    let mmf = by_symbol("SWVXX");
    assert_eq!(
        (&mmf["instrument"]["assetType"], &mmf["instrument"]["type"]),
        (&json!("CASH_EQUIVALENT"), &json!("MONEY_MARKET_FUND"))
    );
    assert_eq!(
        (&mmf["longQuantity"], &mmf["averagePrice"], &mmf["marketValue"]),
        (&json!(2500.0), &json!(1.0), &json!(2500.0))
    );
    let current = &margin["currentBalances"];
    assert_eq!(
        (&current["cashBalance"], &current["moneyMarketFund"], &current["buyingPower"]),
        (&json!(1000.5), &json!(2500.0), &json!(5000.5))
    );
    assert_eq!(current["isInCall"], json!(false));
    assert!(margin["initialBalances"].is_object() && margin["projectedBalances"].is_object());
    assert!(with.json[0]["aggregatedBalance"]["liquidationValue"].is_f64());
    let cash = &with.json[1]["securitiesAccount"];
    assert_eq!((&cash["type"], &cash["accountNumber"]), (&json!("CASH"), &json!("87654321")));
    let fund = &cash["positions"][0];
    assert_eq!(
        (&fund["instrument"]["symbol"], &fund["instrument"]["assetType"]),
        (&json!("SWTSX"), &json!("MUTUAL_FUND"))
    );
    assert_eq!(
        (&fund["longQuantity"], &fund["averagePrice"], &fund["marketValue"]),
        (&json!(40.0), &json!(15.5), &json!(620.0))
    );
    let cash_balances = &cash["currentBalances"];
    assert_eq!((&cash_balances["cashBalance"], &cash_balances["moneyMarketFund"]), (&json!(1500.25), &json!(0.0)));
    assert_eq!(
        (&cash_balances["cashAvailableForTrading"], &cash_balances["totalCash"]),
        (&json!(1500.25), &json!(1500.25))
    );

    let one = s.get(&format!("/trader/v1/accounts/{cash_hash}?fields=positions"), Some(access)).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json["securitiesAccount"]["positions"][0]["instrument"]["symbol"], "SWTSX");
    let margin_only = s.get(&format!("/trader/v1/accounts/{margin_hash}"), Some(access)).await;
    assert_eq!(margin_only.json["securitiesAccount"]["accountNumber"], "12345678");
    assert!(margin_only.json["securitiesAccount"].get("positions").is_none());

    // Paths take hashes only, and the 404 of unknown paths has the gateway's string status.
    assert_message(&s.get("/trader/v1/accounts/12345678", Some(access)).await, 400, "Invalid account number");
    let missing = s.get("/trader/v1/orders", Some(access)).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        (&missing.json["errors"][0]["status"], &missing.json["errors"][0]["title"]),
        (&json!("404"), &json!("Not Found"))
    );
    assert!(is_uuid(missing.json["errors"][0]["id"].as_str().unwrap()) && is_uuid(&missing.correl_id()));
    let posted =
        read(s.http.post(format!("{}/trader/v1/accounts", s.base)).bearer_auth(access).send().await.unwrap()).await;
    assert_eq!((posted.status.as_u16(), &posted.json["errors"][0]["status"]), (404, &json!("404")));
    // Elsewhere the usual 404 is unchanged.
    assert_eq!(s.get("/nowhere", None).await.json["code"], "1011");

    // Another customer: other hashes, and none of this customer's.
    let other = s.connect("second.customer").await;
    let other_hashes = s.hashes(&other.access).await;
    assert_ne!(other_hashes["12345678"], margin_hash);
    assert_message(
        &s.get(&format!("/trader/v1/accounts/{margin_hash}"), Some(&other.access)).await,
        400,
        "Invalid account number",
    );
}

#[tokio::test]
async fn codes_are_single_use_short_lived_and_bound_to_their_callback() {
    let s = Schwab::start().await;
    let code = s.code_for("ann", CALLBACK).await;
    assert_oauth_error(&s.exchange(&code, "https://127.0.0.1:8182/").await, 400, "invalid_grant");
    assert_eq!(s.exchange(&code, CALLBACK).await.status, 200, "a failed attempt leaves the code usable");
    assert_oauth_error(&s.exchange(&code, CALLBACK).await, 400, "invalid_grant");

    let late = s.code_for("ann", CALLBACK).await;
    let aged = s.age("ann", 30).await;
    assert_eq!(aged["customer"], "ann");
    assert_eq!(
        (&aged["aged"]["codes"], &aged["aged"]["logins"], &aged["aged"]["access_tokens"]),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_oauth_error(&s.exchange(&late, CALLBACK).await, 400, "invalid_grant");
    let fresh = s.code_for("ann", CALLBACK).await;
    assert_eq!(s.age("ann", 25).await["aged"]["codes"], 3);
    assert_eq!(s.exchange(&fresh, CALLBACK).await.status, 200, "25 s old is still in time");

    // A plain-http loopback callback is accepted too.
    let local = s.code_for("ann", LOCAL_CALLBACK).await;
    assert_eq!(s.exchange(&local, LOCAL_CALLBACK).await.status, 200);

    // Deny, and no state given: none echoed.
    let denied = s.decide(CALLBACK, Some("s1"), "ann", "deny").await;
    assert_eq!(
        (denied.status.as_u16(), denied.header("location")),
        (302, format!("{CALLBACK}?error=access_denied&state=s1"))
    );
    let denied = s.decide(CALLBACK, None, "ann", "deny").await;
    assert_eq!(denied.header("location"), format!("{CALLBACK}?error=access_denied"));
    let allowed = s.decide(LOCAL_CALLBACK, None, "ann", "allow").await.header("location");
    assert!(allowed.starts_with(&format!("{LOCAL_CALLBACK}?code=C0.")) && !allowed.contains("state="), "{allowed}");
    let encoded_state = s.decide(CALLBACK, Some("a b&c"), "ann", "deny").await.header("location");
    assert!(encoded_state.ends_with("&state=a%20b%26c"), "{encoded_state}");
}

#[tokio::test]
async fn client_authentication_and_exact_callback_matching() {
    let s = Schwab::start().await;
    let code = s.code_for("bob", CALLBACK).await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
    let wrong = s.token(&form, Some((CLIENT_ID, "not-the-secret"))).await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(is_uuid(&wrong.correl_id()));
    assert_oauth_error(&s.token(&form, Some(("other-app", CLIENT_SECRET))).await, 401, "invalid_client");
    assert_oauth_error(&s.token(&form, None).await, 401, "invalid_client");
    let bearer = s.http.post(format!("{}/v1/oauth/token", s.base)).bearer_auth(CLIENT_SECRET).form(&form);
    assert_oauth_error(&read(bearer.send().await.unwrap()).await, 401, "invalid_client");
    assert_eq!(s.token(&form, Some((CLIENT_ID, CLIENT_SECRET))).await.status, 200, "refused attempts left the code");
    let other = s.token(&[("grant_type", "client_credentials")], Some((CLIENT_ID, CLIENT_SECRET))).await;
    assert_eq!((other.status.as_u16(), other.json.clone()), (400, json!({"error": "unsupported_grant_type"})));

    // The registered callback is matched exactly: a trailing slash is another URL.
    for (client_id, redirect_uri) in
        [(CLIENT_ID, "https://127.0.0.1:8182/"), (CLIENT_ID, "https://127.0.0.1:8183"), ("unknown", CALLBACK)]
    {
        let page = s.authorize_page(client_id, redirect_uri, None).await;
        assert_eq!(page.status, 400, "{redirect_uri}");
        assert!(page.text.contains("Access Denied"), "{}", page.text);
    }
    let sneaky = s.decide("https://127.0.0.1:8182/", None, "bob", "allow").await;
    assert_eq!(sneaky.status, 400);
    assert!(sneaky.text.contains("Access Denied") && sneaky.header("location").is_empty());
    let long = "x".repeat(65);
    for customer in ["", "has space", long.as_str(), "ümlaut"] {
        assert_eq!(s.decide(CALLBACK, None, customer, "allow").await.status, 400, "{customer:?}");
    }
    assert_eq!(s.decide(CALLBACK, None, "bob", "maybe").await.status, 400);

    // Without Schwab settings every call is refused.
    let bare = Schwab::with_config(SimConfig::default()).await;
    assert!(bare.authorize_page(CLIENT_ID, CALLBACK, None).await.text.contains("Access Denied"));
    assert_oauth_error(&bare.exchange(&code, CALLBACK).await, 401, "invalid_client");
    assert_unauthorized(&bare.get("/trader/v1/accounts", Some("I0.x@")).await);
}

#[tokio::test]
async fn access_tokens_expire_after_1800_seconds_and_refresh_keeps_the_refresh_token() {
    let s = Schwab::start().await;
    let tokens = s.connect("carol").await;
    assert_eq!(s.get("/trader/v1/accounts", Some(&tokens.access)).await.status, 200);
    assert_eq!(s.age("carol", 1790).await["aged"]["access_tokens"], 1);
    assert_eq!(s.get("/trader/v1/accounts", Some(&tokens.access)).await.status, 200, "1790 s old still works");
    s.age("carol", 11).await;
    assert_unauthorized(&s.get("/trader/v1/accounts", Some(&tokens.access)).await);
    assert_unauthorized(&s.get("/trader/v1/accounts/accountNumbers", None).await);
    assert_unauthorized(&s.get("/trader/v1/accounts", Some("I0.never-issued@")).await);

    let refreshed = s.refresh(&tokens.refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert!(is_uuid(&refreshed.correl_id()));
    assert_eq!((&refreshed.json["expires_in"], &refreshed.json["token_type"]), (&json!(1800), &json!("Bearer")));
    assert_eq!(refreshed.json["refresh_token"], tokens.refresh.as_str(), "the refresh token stays the same");
    let access = refreshed.json["access_token"].as_str().unwrap();
    assert!(access.starts_with("I0.") && access != tokens.access);
    assert_eq!(s.get("/trader/v1/accounts", Some(access)).await.status, 200);
    assert_unauthorized(&s.get("/trader/v1/accounts", Some(&tokens.access)).await);
}

#[tokio::test]
async fn refresh_tokens_die_seven_days_after_login_or_when_a_newer_login_happens() {
    let s = Schwab::start().await;
    let tokens = s.connect("dave").await;
    s.age("dave", 604_790).await;
    let refreshed = s.refresh(&tokens.refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    s.age("dave", 10).await;
    let dead = s.refresh(&tokens.refresh).await;
    assert_eq!((dead.status.as_u16(), dead.text.as_str()), (400, DEAD_REFRESH_BODY));
    let inner = dead.json["error_description"].as_str().unwrap();
    let inner: Value =
        serde_json::from_str(inner.strip_prefix("400 Bad Request: \"").unwrap().strip_suffix('"').unwrap()).unwrap();
    assert_eq!(inner["error"], "refresh_token_authentication_error");
    assert!(is_uuid(&dead.correl_id()));
    // Refreshing never extended the window: the access token it gave is now old too, and a new login is the fix.
    let again = s.connect("dave").await;
    assert_eq!(s.refresh(&again.refresh).await.status, 200);

    let first = s.connect("erin").await;
    assert_eq!(s.refresh(&first.refresh).await.status, 200);
    let second = s.connect("erin").await;
    assert_ne!(first.refresh, second.refresh);
    assert_eq!(s.refresh(&first.refresh).await.text, DEAD_REFRESH_BODY, "a newer login retires the older token");
    assert_eq!(s.refresh(&second.refresh).await.status, 200);
    assert_eq!(s.refresh(&tokens.refresh).await.text, DEAD_REFRESH_BODY, "another customer's login changes nothing");
    assert_eq!(s.refresh("never-issued@").await.text, DEAD_REFRESH_BODY);
}

#[tokio::test]
async fn positions_only_with_fields_positions_and_account_data_can_be_replaced() {
    let s = Schwab::start().await;
    let tokens = s.connect("fay").await;
    let plain = s.get("/trader/v1/accounts", Some(&tokens.access)).await;
    assert_eq!(plain.status, 200);
    for account in plain.json.as_array().unwrap() {
        assert!(account["securitiesAccount"].get("positions").is_none(), "{account}");
        assert!(account["securitiesAccount"]["currentBalances"].is_object());
    }
    assert_message(
        &s.get("/trader/v1/accounts?fields=orders", Some(&tokens.access)).await,
        400,
        "Invalid fields value",
    );
    let hash = s.hashes(&tokens.access).await["12345678"].clone();
    assert_message(
        &s.get(&format!("/trader/v1/accounts/{hash}?fields=balances"), Some(&tokens.access)).await,
        400,
        "Invalid fields value",
    );

    let mut margin = s.get("/trader/v1/accounts?fields=positions", Some(&tokens.access)).await.json[0].clone();
    margin["securitiesAccount"]["positions"].as_array_mut().unwrap().truncate(1);
    margin["securitiesAccount"]["positions"][0]["longQuantity"] = json!(12.0);
    let empty = json!({"securitiesAccount": {"type": "CASH", "accountNumber": "55555555", "positions": [],
                                             "currentBalances": {"cashBalance": 10.0}},
                       "aggregatedBalance": {"liquidationValue": 10.0}});
    let replaced = s
        .control(Method::POST, "/__sim/schwab/accounts", Some(json!({"customer": "fay", "accounts": [margin, empty]})))
        .await;
    assert_eq!((replaced.status.as_u16(), replaced.json.clone()), (200, json!({"accounts": 2})));
    let hashes = s.hashes(&tokens.access).await;
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes["12345678"], hash, "hashes derive from (customer, number)");
    let read_back = s.get("/trader/v1/accounts?fields=positions", Some(&tokens.access)).await.json;
    assert_eq!(read_back[0]["securitiesAccount"]["positions"].as_array().unwrap().len(), 1);
    assert_eq!(read_back[0]["securitiesAccount"]["positions"][0]["longQuantity"], 12.0);
    assert!(read_back[1]["securitiesAccount"].get("positions").is_none(), "no empty positions array");
    let one =
        s.get(&format!("/trader/v1/accounts/{}?fields=positions", hashes["55555555"]), Some(&tokens.access)).await;
    assert_eq!(one.json["securitiesAccount"]["currentBalances"]["cashBalance"], 10.0);
    assert!(one.json["securitiesAccount"].get("positions").is_none());
    // Other customers keep the seed.
    let other = s.connect("gus").await;
    assert_eq!(s.hashes(&other.access).await.len(), 2);
    assert!(s.hashes(&other.access).await.contains_key("87654321"));

    for bad in [
        json!({"customer": "fay", "accounts": [{"securitiesAccount": {"accountNumber": 12345678}}]}),
        json!({"customer": "fay", "accounts": [{"securitiesAccount": {"accountNumber": "12-34"}}]}),
        json!({"customer": "fay", "accounts": [{"accountNumber": "1"}]}),
        json!({"customer": "no spaces", "accounts": []}),
        json!({"customer": "fay"}),
    ] {
        let reply = s.control(Method::POST, "/__sim/schwab/accounts", Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
    }
    for bad in [
        json!({"customer": "fay", "seconds": 0}),
        json!({"customer": "fay", "seconds": 31_536_001}),
        json!({"customer": "", "seconds": 5}),
        json!({"seconds": 5}),
    ] {
        let reply = s.control(Method::POST, "/__sim/schwab/age", Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
    }
    assert_eq!(s.age("nobody-here", 31_536_000).await["aged"], json!({"codes": 0, "access_tokens": 0, "logins": 0}));
}

#[tokio::test]
async fn the_rate_limit_counts_token_and_trader_calls_per_app() {
    let s = Schwab::start().await;
    let tokens = s.connect("hal").await;
    for bad in [json!({"per_minute": 0}), json!({"per_minute": 100_001}), json!({"per": 5})] {
        assert_eq!(s.control(Method::POST, "/__sim/schwab/ratelimit", Some(bad)).await.status, 400);
    }
    let set = s.control(Method::POST, "/__sim/schwab/ratelimit", Some(json!({"per_minute": 5}))).await;
    assert_eq!((set.status.as_u16(), set.json.clone()), (200, json!({"per_minute": 5})));
    assert_eq!(s.refresh(&tokens.refresh).await.status, 200, "token calls count");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(s.get("/trader/v1/accounts/accountNumbers", Some(&tokens.access)).await);
    }
    assert!(
        statuses[..4].iter().all(|r| r.status == 200),
        "{:?}",
        statuses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for limited in &statuses[4..] {
        assert_eq!(limited.status, 429, "{}", limited.text);
        assert_eq!(limited.json, json!({"errors": [{"status": 429, "title": "Too Many Requests"}]}));
        let retry_after: u64 = limited.header("retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert!(is_uuid(&limited.correl_id()));
    }
    assert_eq!(s.refresh(&tokens.refresh).await.status, 429, "the token endpoint shares the limit");
    assert_unauthorized(&s.get("/trader/v1/accounts", None).await);
    // Setting the limit again opens a new window.
    s.control(Method::POST, "/__sim/schwab/ratelimit", Some(json!({"per_minute": 120}))).await;
    assert_eq!(s.get("/trader/v1/accounts", Some(&tokens.access)).await.status, 200);
}

#[tokio::test]
async fn faults_answer_in_schwabs_shapes_and_calls_are_counted_per_customer() {
    let s = Schwab::start().await;
    assert_eq!(s.control(Method::POST, "/__sim/calls/reset", None).await.status, 200);
    let (ida, ivan) = (s.connect("ida").await, s.connect("ivan").await);

    s.fault(json!({"provider": "schwab", "endpoint": "accounts", "user_id": "ida", "kind": "status", "status": 503, "times": 1})).await;
    assert_eq!(s.get("/trader/v1/accounts", Some(&ivan.access)).await.status, 200, "other customers are unaffected");
    let faulted = s.get("/trader/v1/accounts", Some(&ida.access)).await;
    assert_message(&faulted, 503, "Service Unavailable");
    assert!(is_uuid(&faulted.correl_id()));
    assert_eq!(s.get("/trader/v1/accounts", Some(&ida.access)).await.status, 200, "times ran out");

    s.fault(json!({"provider": "schwab", "endpoint": "token", "kind": "status", "status": 500, "times": 1})).await;
    assert_oauth_error(&s.refresh(&ida.refresh).await, 500, "server_error");
    assert_eq!(s.refresh(&ida.refresh).await.status, 200);

    s.fault(json!({"provider": "schwab", "endpoint": "account_numbers", "kind": "rate_limit", "retry_after": 7, "times": 1})).await;
    let limited = s.get("/trader/v1/accounts/accountNumbers", Some(&ida.access)).await;
    assert_eq!((limited.status.as_u16(), limited.header("retry-after")), (429, "7".to_owned()));

    let hash = s.hashes(&ida.access).await["12345678"].clone();
    s.fault(json!({"provider": "schwab", "endpoint": "account", "kind": "malformed", "times": 1})).await;
    let malformed = s.get(&format!("/trader/v1/accounts/{hash}"), Some(&ida.access)).await;
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_str::<Value>(&malformed.text).is_err(), "{}", malformed.text);

    s.fault(json!({"provider": "schwab", "endpoint": "*", "user_id": "ivan", "kind": "disabled", "times": 2})).await;
    assert_unauthorized(&s.get(&format!("/trader/v1/accounts/{hash}"), Some(&ivan.access)).await);
    assert_eq!(s.refresh(&ivan.refresh).await.text, DEAD_REFRESH_BODY);
    assert_eq!(s.refresh(&ivan.refresh).await.status, 200, "the grant is back once the fault is used up");

    let listed = s.control(Method::GET, "/__sim/faults", None).await;
    assert_eq!(listed.json["faults"], json!([]), "every fault was used up");
    let unknown = s
        .control(
            Method::POST,
            "/__sim/faults",
            Some(json!({"provider": "schwab", "endpoint": "user_preference", "kind": "timeout"})),
        )
        .await;
    assert_eq!(unknown.status, 400);

    let calls = s.control(Method::GET, "/__sim/calls", None).await.json;
    let schwab = &calls["schwab"];
    assert_eq!(schwab["billed"], 0);
    assert_eq!(
        schwab["operations"],
        json!({"token_code": 2, "token_refresh": 4, "accounts": 3, "account_numbers": 2, "account": 2})
    );
    assert_eq!(schwab["total"], 13);
    assert_eq!(
        schwab["users"]["ida"]["operations"],
        json!({"token_code": 1, "token_refresh": 2, "accounts": 2, "account_numbers": 2, "account": 1})
    );
    assert_eq!(
        schwab["users"]["ivan"],
        json!({"total": 5, "billed": 0, "operations": {"token_code": 1, "token_refresh": 2, "accounts": 1, "account": 1}})
    );
    assert_eq!(calls["snaptrade"]["total"], 0);
}
