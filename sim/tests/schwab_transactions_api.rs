//! Schwab's `GET /trader/v1/accounts/{accountHash}/transactions` over HTTP: the required
//! parameters and the one-year limit, the 3000-row cap, the date and type filters, the wire shape
//! (`+0000` times, the duplicated `assetType` key), default histories that agree with the
//! positions, the `/__sim/transactions*` controls with `provider: "schwab"`, faults and call counts.

mod common;
#[path = "common/schwab.rs"]
mod schwab;

use common::{read, Reply};
use reqwest::Method;
use schwab::Session;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

const ALL_TYPES: &str = "TRADE,RECEIVE_AND_DELIVER,DIVIDEND_OR_INTEREST,ACH_RECEIPT,ACH_DISBURSEMENT,CASH_RECEIPT,\
CASH_DISBURSEMENT,ELECTRONIC_FUND,WIRE_OUT,WIRE_IN,JOURNAL,MEMORANDUM,MARGIN_CALL,MONEY_MARKET,SMA_ADJUSTMENT";

/// A logged-in session with the transactions calls.
struct Schwab(Session);

impl std::ops::Deref for Schwab {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.0
    }
}

impl Schwab {
    async fn start(customer: &str) -> Self {
        Self(Session::start(customer).await)
    }

    async fn get(&self, path_and_query: &str, token: &str) -> Reply {
        read(self.http.get(format!("{}{path_and_query}", self.base)).bearer_auth(token).send().await.unwrap()).await
    }

    /// The transactions of account `number` with this raw query.
    async fn transactions(&self, number: &str, query: &str) -> Reply {
        self.get(&format!("/trader/v1/accounts/{}/transactions?{query}", self.hashes[number]), &self.access).await
    }

    /// The transactions of account `number` on the UTC days `[from, to]`, every type.
    async fn window(&self, number: &str, from: &str, to: &str) -> Reply {
        let types = ALL_TYPES.replace(',', "%2C");
        self.transactions(number, &format!("startDate={from}T00:00:00.000Z&endDate={to}T23:59:59.999Z&types={types}"))
            .await
    }

    async fn control(&self, path: &str, body: Value) -> Reply {
        self.0.control(Method::POST, path, Some(body)).await
    }
}

/// The UTC day `offset` days from today, `YYYY-MM-DD`.
fn day(offset: i64) -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 / 86_400 + offset;
    tributary_sim::ibkr::dates::Date::from_days(days).iso()
}

fn rows(reply: &Reply) -> &Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json.as_array().unwrap()
}

fn assert_message(reply: &Reply, message: &str) {
    assert_eq!((reply.status.as_u16(), &reply.json), (400, &json!({ "message": message })), "{}", reply.text);
}

/// Net security units per symbol in `rows` (the non-CURRENCY transfer items' `amount`s).
fn net_units(rows: &[Value]) -> BTreeMap<String, f64> {
    let mut units = BTreeMap::new();
    for item in rows.iter().flat_map(|r| r["transferItems"].as_array().unwrap()) {
        if item["instrument"]["assetType"] != "CURRENCY" {
            *units.entry(item["instrument"]["symbol"].as_str().unwrap().to_owned()).or_default() +=
                item["amount"].as_f64().unwrap();
        }
    }
    units
}

#[tokio::test]
async fn start_end_and_types_are_required_and_a_window_is_at_most_a_year() {
    let s = Schwab::start("ann").await;
    let (start, end) = ("startDate=2024-01-01T00:00:00.000Z", "endDate=2024-03-01T00:00:00.000Z");
    assert_message(&s.transactions("12345678", &format!("{end}&types=TRADE")).await, "startDate is required");
    assert_message(&s.transactions("12345678", &format!("{start}&types=TRADE")).await, "endDate is required");
    assert_message(&s.transactions("12345678", &format!("{start}&{end}")).await, "types is required");
    assert_message(
        &s.transactions("12345678", &format!("{start}&{end}&types=GIFT")).await,
        "Invalid types value: GIFT",
    );
    let reversed = "startDate=2024-03-01T00:00:00.000Z&endDate=2024-01-01T00:00:00.000Z&types=TRADE";
    assert_message(&s.transactions("12345678", reversed).await, "endDate must not be before startDate");
    let too_long = "startDate=2023-01-01T00:00:00.000Z&endDate=2024-01-01T00:00:00.001Z&types=TRADE";
    assert_message(&s.transactions("12345678", too_long).await, "Maximum date range is 1 year");
    let bare = "startDate=2024-01-01&endDate=2024-03-01&types=TRADE";
    assert_eq!(s.transactions("12345678", bare).await.status, 400);
    let year = "startDate=2023-01-01T00:00:00.000Z&endDate=2024-01-01T00:00:00.000Z&types=TRADE";
    assert_eq!(s.transactions("12345678", year).await.status, 200);

    let plain = s.get(&format!("/trader/v1/accounts/12345678/transactions?{start}&{end}&types=TRADE"), &s.access).await;
    assert_message(&plain, "Invalid account number");
    let path = format!("/trader/v1/accounts/{}/transactions?{start}&{end}&types=TRADE", s.hashes["12345678"]);
    assert_eq!(s.get(&path, "I0.not-a-token@").await.status, 401);
}

#[tokio::test]
async fn default_histories_agree_with_the_positions_in_schwabs_wire_shape() {
    let s = Schwab::start("ann").await;
    let (older, newer) =
        (s.window("12345678", &day(-729), &day(-365)).await, s.window("12345678", &day(-364), &day(0)).await);
    let all: Vec<Value> = rows(&older).iter().chain(rows(&newer)).cloned().collect();
    let units = net_units(&all);
    assert_eq!(units, BTreeMap::from([("SETF".to_owned(), 25.0), ("SYNT".to_owned(), 10.0)]), "the positions' units");
    let cash = s.window("87654321", &day(-729), &day(-365)).await;
    let cash_rest = s.window("87654321", &day(-364), &day(0)).await;
    let cash_rows: Vec<Value> = rows(&cash).iter().chain(rows(&cash_rest)).cloned().collect();
    assert_eq!(net_units(&cash_rows), BTreeMap::from([("SWTSX".to_owned(), 40.0)]));

    assert!(newer.text.contains(r#""assetType":"COLLECTIVE_INVESTMENT""#), "{}", newer.text);
    let setf_items = newer.text.matches(r#""assetType":"COLLECTIVE_INVESTMENT""#).count();
    assert_eq!(setf_items % 2, 0, "every COLLECTIVE_INVESTMENT instrument has the key twice");
    for row in &all {
        let trade_date = row["tradeDate"].as_str().unwrap();
        assert!(trade_date.len() == 24 && trade_date.ends_with("+0000"), "{trade_date}");
        assert!(row["activityId"].is_u64() && row["accountNumber"] == "12345678", "{row}");
        assert_eq!(row["status"], "VALID");
    }
    let buy = all.iter().find(|r| r["type"] == "TRADE" && r["netAmount"].as_f64().unwrap() < 0.0).unwrap();
    let fee_types: Vec<&str> =
        buy["transferItems"].as_array().unwrap().iter().filter_map(|i| i["feeType"].as_str()).collect();
    assert_eq!(fee_types, ["COMMISSION", "SEC_FEE"]);
    assert!(buy["orderId"].is_u64() && buy.get("description").is_none(), "{buy}");
    let dividend = all.iter().find(|r| r["type"] == "DIVIDEND_OR_INTEREST" && r["description"] != "Credit Interest");
    assert_eq!(dividend.unwrap()["description"], "Ordinary Dividend~SYNT");
    let dates: Vec<&str> = rows(&newer).iter().map(|r| r["tradeDate"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");

    let again = s.window("12345678", &day(-364), &day(0)).await;
    let ids = |r: &Reply| rows(r).iter().map(|t| t["activityId"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&newer), "ids are stable across reads");
}

#[tokio::test]
async fn dates_and_types_filter_and_control_rows_are_read_back() {
    let s = Schwab::start("bea").await;
    let rows_body = json!({"provider": "schwab", "customer": "bea", "account_id": "12345678", "rows": [
        {"kind": "sell", "symbol": "SETF", "quantity": "4", "price": "75", "fee": "0.65", "date": day(-3), "id": "555001"},
        {"kind": "withdrawal", "amount": "-200.00", "date": day(-2)},
        {"kind": "tax", "symbol": "SETF", "amount": "-1.26", "date": day(-1)},
        {"kind": "buy", "symbol": "SYNT", "quantity": "0.05", "amount": "-8.41", "date": day(-1), "description": "Dividend Reinvest"}
    ]});
    let appended = s.control("/__sim/transactions", rows_body).await;
    assert_eq!(appended.status, 200, "{}", appended.text);
    assert_eq!(
        (&appended.json["provider"], &appended.json["account_id"]),
        (&json!("schwab"), &json!(s.hashes["12345678"]))
    );
    assert_eq!(appended.json["ids"][0], "555001");

    let recent = s.window("12345678", &day(-3), &day(0)).await;
    let recent = rows(&recent);
    assert_eq!(recent.len(), 4, "only the rows dated in the window: {recent:?}");
    let sell = recent.iter().find(|r| r["activityId"] == 555001).unwrap();
    assert_eq!((&sell["type"], &sell["netAmount"]), (&json!("TRADE"), &json!(299.35)));
    let items = sell["transferItems"].as_array().unwrap();
    assert_eq!(items.iter().find(|i| i["feeType"] == "COMMISSION").unwrap()["amount"], json!(-0.65));
    assert_eq!(items.iter().find(|i| i["instrument"]["symbol"] == "SETF").unwrap()["amount"], json!(-4.0));
    let kinds: Vec<&str> = recent.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["TRADE", "JOURNAL", "ACH_DISBURSEMENT", "TRADE"]);
    let reinvest = &recent[0];
    assert_eq!((&reinvest["description"], &reinvest["netAmount"]), (&json!("Dividend Reinvest"), &json!(-8.41)));

    let only_trades = format!("startDate={}T00:00:00.000Z&endDate={}T23:59:59.999Z&types=TRADE", day(-3), day(0));
    assert_eq!(rows(&s.transactions("12345678", &only_trades).await).len(), 2);
    let one_day = s.window("12345678", &day(-2), &day(-2)).await;
    assert_eq!(rows(&one_day).len(), 1);
    let by_symbol = s.transactions("12345678", &format!("{only_trades}&symbol=SETF")).await;
    assert_eq!(rows(&by_symbol).len(), 1);

    let history = s
        .control("/__sim/transactions/history", json!({"provider": "schwab", "customer": "bea", "account_id": s.hashes["87654321"], "count": 8, "end_date": day(-10)}))
        .await;
    assert_eq!((history.status.as_u16(), &history.json["count"]), (200, &json!(8)), "{}", history.text);
    let generated = s.window("87654321", &day(-11), &day(-10)).await;
    assert_eq!(rows(&generated).len(), 8);
}

#[tokio::test]
async fn a_response_holds_at_most_3000_rows_newest_first() {
    let s = Schwab::start("cal").await;
    let rows_spec: Vec<Value> = (0..3005)
        .map(|i| json!({"kind": "dividend", "symbol": "SYNT", "amount": "1.00", "date": day(-1 - i % 5)}))
        .collect();
    let appended = s
        .control(
            "/__sim/transactions",
            json!({"provider": "schwab", "customer": "cal", "account_id": "12345678", "rows": rows_spec}),
        )
        .await;
    assert_eq!(appended.status, 200, "{}", appended.text);
    let full = s.window("12345678", &day(-5), &day(0)).await;
    let full = rows(&full);
    assert_eq!(full.len(), 3000, "capped");
    let dates: Vec<&str> = full.iter().map(|r| r["tradeDate"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(dates[2999].starts_with(&day(-5)), "the cap leaves out only the oldest rows");
    let halves = (s.window("12345678", &day(-5), &day(-3)).await, s.window("12345678", &day(-2), &day(0)).await);
    assert_eq!(rows(&halves.0).len() + rows(&halves.1).len(), 3005, "split windows read everything");
}

#[tokio::test]
async fn controls_refuse_what_they_cannot_do_and_replaced_accounts_get_new_histories() {
    let s = Schwab::start("dan").await;
    let row = json!({"kind": "deposit", "amount": "5", "date": day(-1)});
    for (body, status) in [
        (json!({"provider": "schwab", "account_id": "12345678", "rows": [row]}), 400),
        (json!({"provider": "schwab", "customer": "dan", "user": "x", "account_id": "12345678", "rows": [row]}), 400),
        (json!({"provider": "schwab", "customer": "bad name!", "account_id": "12345678", "rows": [row]}), 400),
        (json!({"provider": "schwab", "customer": "dan", "account_id": "999", "rows": [row]}), 404),
        (
            json!({"provider": "schwab", "customer": "dan", "account_id": "12345678", "rows": [row], "apply_to_holdings": true}),
            400,
        ),
        (
            json!({"provider": "schwab", "customer": "dan", "account_id": "12345678", "rows": [{"kind": "deposit", "amount": "5", "date": day(-1), "id": "abc"}]}),
            400,
        ),
    ] {
        let reply = s.control("/__sim/transactions", body.clone()).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
    }

    let fund = json!({"longQuantity": 3.0, "shortQuantity": 0.0, "averagePrice": 100.0, "marketValue": 330.0,
                      "instrument": {"assetType": "EQUITY", "symbol": "NEWCO", "cusip": "000000ZZ9"}});
    let accounts = json!([{"securitiesAccount": {"type": "CASH", "accountNumber": "12345678", "positions": [fund]}}]);
    let _ = s.window("12345678", &day(-364), &day(0)).await;
    let replaced = s.control("/__sim/schwab/accounts", json!({"customer": "dan", "accounts": accounts})).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let (older, newer) =
        (s.window("12345678", &day(-729), &day(-365)).await, s.window("12345678", &day(-364), &day(0)).await);
    let all: Vec<Value> = rows(&older).iter().chain(rows(&newer)).cloned().collect();
    assert_eq!(net_units(&all), BTreeMap::from([("NEWCO".to_owned(), 3.0)]));
}

#[tokio::test]
async fn faults_apply_and_calls_are_counted() {
    let s = Schwab::start("eve").await;
    let fault = json!({"provider": "schwab", "endpoint": "transactions", "kind": "status", "status": 503, "times": 1});
    assert_eq!(s.control("/__sim/faults", fault).await.status, 200);
    let faulted = s.window("12345678", &day(-10), &day(0)).await;
    assert_eq!((faulted.status.as_u16(), &faulted.json), (503, &json!({"message": "Service Unavailable"})));
    let malformed = json!({"provider": "schwab", "endpoint": "transactions", "kind": "malformed", "times": 1});
    assert_eq!(s.control("/__sim/faults", malformed).await.status, 200);
    let broken = s.window("12345678", &day(-10), &day(0)).await;
    assert!(broken.status == 200 && serde_json::from_str::<Value>(&broken.text).is_err());
    assert_eq!(s.window("12345678", &day(-10), &day(0)).await.status, 200);
    let calls = read(s.http.get(format!("{}/__sim/calls", s.base)).send().await.unwrap()).await;
    assert_eq!(calls.json["schwab"]["users"]["eve"]["operations"]["transactions"], 3, "{}", calls.text);
}
