//! Provider migration (`POST /api/migrations`, `GET /api/migrations/{id}`) end to end: Charles
//! Schwab through Plaid (`ins_11`) or SnapTrade (`SCHWAB`) moved to Schwab direct, whose simulated
//! accounts are set (`POST /__sim/schwab/accounts`) to hold the same securities in Schwab's own
//! shape. A dry run names the one connection to remove and the totals before and after; an
//! execute needs its confirm token, removes the old connection at its provider, re-reads and
//! verifies; a removal the provider refuses leaves both connections.

use crate::plaid::{link_plaid, plaid_user};
use crate::schwab::connect_schwab;
use crate::snaptrade::{connect_snaptrade, sim_fault};
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        migration_dry_run_names_the_connection_to_remove_and_the_totals_before_and_after,
        migration_dry_run_lists_every_difference_and_gives_no_confirm,
        migration_is_refused_409_when_the_target_is_unhealthy_or_missing,
        migration_with_no_connection_to_remove_is_refused_409_listing_none,
        migration_execute_is_refused_without_a_confirm_or_with_a_stale_or_foreign_one,
        migration_execute_after_the_holdings_moved_is_refused_as_changed,
        migration_execute_removes_the_plaid_item_and_verifies_equal_totals,
        migration_execute_from_snaptrade_deletes_the_authorization_at_snaptrade,
        migration_failure_at_the_removal_leaves_both_connections,
    ]
}

fn position(
    asset_type: &str,
    subtype: Option<&str>,
    symbol: Option<&str>,
    cusip: Option<&str>,
    quantity: f64,
) -> Value {
    let mut instrument = json!({"assetType": asset_type});
    if let Some(subtype) = subtype {
        instrument["type"] = json!(subtype);
    }
    if let Some(symbol) = symbol {
        instrument["symbol"] = json!(symbol);
    }
    if let Some(cusip) = cusip {
        instrument["cusip"] = json!(cusip);
    }
    json!({"longQuantity": quantity, "shortQuantity": 0.0, "averagePrice": 1.0, "marketValue": quantity,
           "instrument": instrument})
}

fn account(number: &str, positions: Vec<Value>) -> Value {
    json!({"securitiesAccount": {"type": "MARGIN", "accountNumber": number, "positions": positions,
           "currentBalances": {"cashBalance": 100.0, "buyingPower": 100.0}}})
}

/// Plaid `ins_11`'s non-cash holdings (its money-market fund is cash there), in Schwab's shape.
fn plaid_schwab_holdings() -> Vec<Value> {
    vec![
        account(
            "44821001",
            vec![
                position("EQUITY", None, Some("AAPL"), None, 10.0),
                position("COLLECTIVE_INVESTMENT", Some("EXCHANGE_TRADED_FUND"), Some("VOO"), None, 2.5),
                position("FIXED_INCOME", None, None, Some("808513AZ8"), 5.0),
            ],
        ),
        account(
            "47310001",
            vec![
                position("EQUITY", None, Some("MSFT"), None, 0.125),
                position("MUTUAL_FUND", None, Some("SWPPX"), None, 33.3333),
            ],
        ),
    ]
}

/// SnapTrade `SCHWAB`'s positions in Schwab's shape (its money-market fund as Schwab's cash).
fn snaptrade_schwab_holdings() -> Vec<Value> {
    vec![account(
        "44821002",
        vec![
            position("EQUITY", None, Some("AAPL"), None, 10.0),
            position("COLLECTIVE_INVESTMENT", Some("EXCHANGE_TRADED_FUND"), Some("VOO"), None, 2.5),
            position("OPTION", Some("VANILLA"), Some("AAPL  271217C00240000"), None, 2.0),
            position("CASH_EQUIVALENT", Some("MONEY_MARKET_FUND"), Some("SWVXX"), None, 1500.0),
            position("EQUITY", None, Some("MSFT"), None, 0.125),
            position("EQUITY", None, Some("BTC"), None, 0.05),
            position("EQUITY", None, Some("XYZQ"), None, 3.0),
        ],
    )]
}

struct Setup {
    user: String,
    token: String,
    customer: String,
}

/// A user with Schwab direct holding `accounts` (and nothing else connected yet).
async fn schwab_user(ctx: &Ctx, label: &str, accounts: Vec<Value>) -> Setup {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    let customer = ctx.user("mig-cust");
    let set = ctx.sim_control("/__sim/schwab/accounts", &json!({"customer": customer, "accounts": accounts})).await;
    assert!(set["accounts"].as_u64().is_some(), "{set}");
    connect_schwab(ctx, &ctx.dev, &token, &customer).await;
    Setup { user, token, customer }
}

/// A user with Charles Schwab through Plaid and directly, holding the same; returns the Item id.
async fn plaid_and_schwab(ctx: &Ctx, label: &str) -> (Setup, String) {
    let setup = schwab_user(ctx, label, plaid_schwab_holdings()).await;
    let item = link_plaid(ctx, &setup.token, "Charles Schwab", "ins_11").await;
    (setup, item)
}

async fn migrate(ctx: &Ctx, token: &str, body: Value) -> Reply {
    ctx.post(&ctx.dev, "/api/migrations", token, body).await
}

fn plaid_to_schwab() -> Value {
    json!({"institution": "Charles Schwab", "from_provider": "plaid", "to_provider": "schwab"})
}

fn execute(mut body: Value, confirm: &Value) -> Value {
    body["dry_run"] = json!(false);
    body["confirm"] = confirm.clone();
    body
}

/// A dry run that must be ready; returns its body.
async fn ready_dry_run(ctx: &Ctx, token: &str, body: Value) -> Value {
    let reply = migrate(ctx, token, body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["ready"], true, "{}", reply.body);
    reply.body
}

async fn plaid_calls(ctx: &Ctx, user: &str, operation: &str) -> u64 {
    ctx.sim_calls().await["plaid"]["users"][plaid_user(user)]["operations"][operation].as_u64().unwrap_or(0)
}

async fn connections(ctx: &Ctx, token: &str) -> Vec<Value> {
    let reply = ctx.get(&ctx.dev, "/api/connections/health", Some(token)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["connections"].as_array().unwrap().clone()
}

fn providers(connections: &[Value]) -> Vec<&str> {
    let mut list: Vec<&str> = connections.iter().filter_map(|c| c["provider"].as_str()).collect();
    list.sort_unstable();
    list
}

fn keys(totals: &Value) -> Vec<&str> {
    totals["securities"].as_array().unwrap().iter().filter_map(|s| s["security_key"].as_str()).collect()
}

async fn migration_dry_run_names_the_connection_to_remove_and_the_totals_before_and_after(ctx: Arc<Ctx>) -> TestResult {
    let (setup, item) = plaid_and_schwab(&ctx, "mig-dry").await;
    let plan = ready_dry_run(&ctx, &setup.token, plaid_to_schwab()).await;
    assert_eq!(plan["dry_run"], true, "a dry run unless told otherwise");
    assert_eq!(
        (&plan["institution"], &plan["from_provider"], &plan["to_provider"]),
        (&json!("charles_schwab"), &json!("plaid"), &json!("schwab"))
    );
    assert_eq!(plan["remove"]["external_id"], item.as_str(), "{plan}");
    assert_eq!(plan["remove"]["connection_id"], format!("plaid:{item}"));
    assert_eq!(plan["target"].as_array().unwrap().len(), 1);
    assert_eq!((&plan["target"][0]["status"], &plan["target"][0]["data_ok"]), (&json!("ok"), &json!(true)));
    let expected = ["AAPL", "CUSIP:808513AZ8", "MSFT", "SWPPX", "VOO"];
    assert_eq!(keys(&plan["totals_before"]), expected, "{plan}");
    assert_eq!(keys(&plan["totals_after"]), expected);
    assert_eq!(plan["totals_before"]["securities"][0]["quantity"], "10");
    assert_eq!((&plan["comparison"]["equal"], &plan["comparison"]["tolerance"]), (&json!(true), &json!("0.0001")));
    assert_eq!(plan["comparison"]["differences"], json!([]));
    assert!(plan["totals_before"]["cash"]["USD"].is_string(), "cash is reported, never compared: {plan}");
    assert!(plan["confirm"].as_str().unwrap().starts_with("mc1."), "{plan}");
    let expires = plan["confirm_expires_at"].as_i64().unwrap();
    assert!((expires - crate::support::now() - 600).abs() < 120, "{plan}");
    assert_eq!(plaid_calls(&ctx, &setup.user, "item_remove").await, 0, "a dry run removes nothing");
    assert_eq!(providers(&connections(&ctx, &setup.token).await), ["plaid", "schwab"]);
    Ok(())
}

async fn migration_dry_run_lists_every_difference_and_gives_no_confirm(ctx: Arc<Ctx>) -> TestResult {
    let (setup, _) = plaid_and_schwab(&ctx, "mig-diff").await;
    connect_snaptrade(&ctx, &setup.token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &setup.token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let body =
        json!({"institution": "charles_schwab", "from_provider": "plaid", "to_provider": "snaptrade", "dry_run": true});
    let reply = migrate(&ctx, &setup.token, body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let plan = &reply.body;
    assert_eq!(
        (&plan["ready"], &plan["confirm"], &plan["comparison"]["equal"]),
        (&json!(false), &Value::Null, &json!(false))
    );
    let listed: Vec<(&str, &str)> = plan["comparison"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["security_key"].as_str().unwrap(), d["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("AAPL271217C00240000", "missing_at_source"),
            ("BTC", "missing_at_source"),
            ("CUSIP:808513AZ8", "missing_at_target"),
            ("SWPPX", "missing_at_target"),
            ("XYZQ", "missing_at_source"),
        ],
        "SWVXX is cash at Plaid, so cash on both sides: {plan}"
    );
    let btc = &plan["comparison"]["differences"][1];
    assert_eq!(
        (&btc["from_quantity"], &btc["to_quantity"], &btc["difference"]),
        (&Value::Null, &json!("0.05"), &json!("0.05"))
    );
    Ok(())
}

async fn migration_is_refused_409_when_the_target_is_unhealthy_or_missing(ctx: Arc<Ctx>) -> TestResult {
    let (setup, _) = plaid_and_schwab(&ctx, "mig-gate").await;
    let missing = json!({"institution": "Charles Schwab", "from_provider": "plaid", "to_provider": "snaptrade"});
    let reply = migrate(&ctx, &setup.token, missing).await;
    assert_eq!((reply.status, reply.code()), (409, "migration_target_missing"), "{:?}", reply.body);
    // Schwab direct's holdings stay fresh for an hour: two hours on, its data is stale.
    ctx.advance_user_clock(&ctx.dev, &setup.user, 7_200).await;
    let reply = migrate(&ctx, &setup.token, plaid_to_schwab()).await;
    assert_eq!((reply.status, reply.code()), (409, "migration_target_unhealthy"), "{:?}", reply.body);
    let target = &reply.body["error"]["details"]["connections"][0];
    assert_eq!(
        (&target["provider"], &target["status"], &target["data_ok"]),
        (&json!("schwab"), &json!("degraded"), &json!(false))
    );
    assert_eq!(target["reason"], "data_stale", "{target}");
    assert_eq!(plaid_calls(&ctx, &setup.user, "item_remove").await, 0);
    Ok(())
}

async fn migration_with_no_connection_to_remove_is_refused_409_listing_none(ctx: Arc<Ctx>) -> TestResult {
    let setup = schwab_user(&ctx, "mig-none", plaid_schwab_holdings()).await;
    let reply = migrate(&ctx, &setup.token, plaid_to_schwab()).await;
    assert_eq!((reply.status, reply.code()), (409, "migration_no_candidate"), "{:?}", reply.body);
    assert_eq!(reply.body["error"]["details"]["candidates"], json!([]));
    let same = json!({"institution": "Charles Schwab", "from_provider": "schwab", "to_provider": "schwab"});
    assert_eq!(migrate(&ctx, &setup.token, same).await.code(), "migration_same_provider");
    let from_schwab = json!({"institution": "Charles Schwab", "from_provider": "schwab", "to_provider": "plaid"});
    let reply = migrate(&ctx, &setup.token, from_schwab).await;
    assert_eq!((reply.status, reply.code()), (409, "migration_removal_unsupported"), "{:?}", reply.body);
    Ok(())
}

async fn migration_execute_is_refused_without_a_confirm_or_with_a_stale_or_foreign_one(ctx: Arc<Ctx>) -> TestResult {
    let (setup, _) = plaid_and_schwab(&ctx, "mig-refuse").await;
    let without = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &Value::Null)).await;
    assert_eq!((without.status, without.code()), (400, "migration_confirm_required"), "{:?}", without.body);
    let forged = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &json!("mc1.e30.AAAA"))).await;
    assert_eq!((forged.status, forged.code()), (409, "migration_confirm_invalid"));
    let (other, _) = plaid_and_schwab(&ctx, "mig-other").await;
    let foreign = ready_dry_run(&ctx, &other.token, plaid_to_schwab()).await["confirm"].clone();
    let reply = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &foreign)).await;
    assert_eq!((reply.status, reply.code()), (409, "migration_confirm_invalid"), "another user's token");
    let confirm = ready_dry_run(&ctx, &setup.token, plaid_to_schwab()).await["confirm"].clone();
    let reversed = json!({"institution": "Charles Schwab", "from_provider": "schwab", "to_provider": "plaid"});
    let reply = migrate(&ctx, &setup.token, execute(reversed, &confirm)).await;
    assert_eq!(reply.status, 409, "{:?}", reply.body);
    ctx.advance_user_clock(&ctx.dev, &setup.user, 601).await;
    let stale = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &confirm)).await;
    assert_eq!((stale.status, stale.code()), (409, "migration_confirm_expired"), "{:?}", stale.body);
    assert_eq!(plaid_calls(&ctx, &setup.user, "item_remove").await, 0, "nothing was removed");
    assert_eq!(providers(&connections(&ctx, &setup.token).await), ["plaid", "schwab"]);
    Ok(())
}

async fn migration_execute_after_the_holdings_moved_is_refused_as_changed(ctx: Arc<Ctx>) -> TestResult {
    let (setup, item) = plaid_and_schwab(&ctx, "mig-moved").await;
    let confirm = ready_dry_run(&ctx, &setup.token, plaid_to_schwab()).await["confirm"].clone();
    let plaid_accounts = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&setup.token)).await;
    let account = plaid_accounts.body["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let moved = ctx
        .sim_control(
            "/__sim/transactions",
            &json!({"provider": "plaid", "item_id": item, "account_id": account, "apply_to_holdings": true,
                    "rows": [{"kind": "buy", "symbol": "AAPL", "quantity": "1", "price": "189.25",
                              "amount": "-189.25", "date": "2026-01-05"}]}),
        )
        .await;
    assert!(moved["ids"].is_array(), "{moved}");
    let reply = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &confirm)).await;
    assert_eq!((reply.status, reply.code()), (409, "migration_changed"), "{:?}", reply.body);
    assert_eq!(plaid_calls(&ctx, &setup.user, "item_remove").await, 0);
    Ok(())
}

async fn migration_execute_removes_the_plaid_item_and_verifies_equal_totals(ctx: Arc<Ctx>) -> TestResult {
    let (setup, item) = plaid_and_schwab(&ctx, "mig-exec").await;
    let plan = ready_dry_run(&ctx, &setup.token, plaid_to_schwab()).await;
    let reply = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &plan["confirm"])).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let report = &reply.body["migration"];
    assert_eq!(
        (&report["status"], &report["failed_step"], &report["old_connection_removed"]),
        (&json!("completed"), &Value::Null, &json!(true))
    );
    assert_eq!(report["removed_external_id"], item.as_str());
    assert_eq!(report["totals_before"]["securities"], plan["totals_before"]["securities"]);
    assert_eq!(report["totals_after"]["securities"], plan["totals_after"]["securities"], "{report}");
    assert_eq!((&report["verification"]["equal"], &report["verification"]["differences"]), (&json!(true), &json!([])));
    assert_eq!(plaid_calls(&ctx, &setup.user, "item_remove").await, 1, "the Item ended at Plaid");
    let items = ctx.get(&ctx.dev, "/api/plaid/items", Some(&setup.token)).await;
    assert_eq!(items.body["items"], json!([]), "{:?}", items.body);
    assert_eq!(providers(&connections(&ctx, &setup.token).await), ["schwab"]);
    let id = report["id"].as_str().unwrap();
    let read = ctx.get(&ctx.dev, &format!("/api/migrations/{id}"), Some(&setup.token)).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(&read.body["migration"], report, "the stored report is the one answered");
    let stranger = ctx.token(&ctx.user("mig-stranger"));
    let hidden = ctx.get(&ctx.dev, &format!("/api/migrations/{id}"), Some(&stranger)).await;
    assert_eq!((hidden.status, hidden.code()), (404, "migration_not_found"));
    let again = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &plan["confirm"])).await;
    assert_eq!(
        (again.status, again.code()),
        (409, "migration_no_candidate"),
        "a token replayed finds nothing to remove"
    );
    let _ = &setup.customer;
    Ok(())
}

async fn migration_execute_from_snaptrade_deletes_the_authorization_at_snaptrade(ctx: Arc<Ctx>) -> TestResult {
    let setup = schwab_user(&ctx, "mig-snap", snaptrade_schwab_holdings()).await;
    let authorization = connect_snaptrade(&ctx, &setup.token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &setup.token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let body = json!({"institution": "Charles Schwab", "from_provider": "snaptrade", "to_provider": "schwab"});
    let plan = ready_dry_run(&ctx, &setup.token, body.clone()).await;
    assert_eq!(plan["remove"]["external_id"], authorization.as_str());
    let reply = migrate(&ctx, &setup.token, execute(body, &plan["confirm"])).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["migration"]["status"], "completed");
    let calls = ctx.sim_calls().await;
    let deleted = calls["snaptrade"]["users"][&setup.user]["operations"]["delete_connection"].as_u64();
    assert_eq!(deleted, Some(1), "{}", calls["snaptrade"]["users"][&setup.user]);
    let at_snaptrade = tributary_sim::lock(&ctx.sim_state.snaptrade).authorizations.contains_key(&authorization);
    assert!(!at_snaptrade, "the authorization is gone at SnapTrade");
    assert_eq!(providers(&connections(&ctx, &setup.token).await), ["schwab"]);
    Ok(())
}

async fn migration_failure_at_the_removal_leaves_both_connections(ctx: Arc<Ctx>) -> TestResult {
    let (setup, item) = plaid_and_schwab(&ctx, "mig-fail").await;
    let plan = ready_dry_run(&ctx, &setup.token, plaid_to_schwab()).await;
    sim_fault(
        &ctx,
        json!({"provider": "plaid", "endpoint": "item_remove", "user_id": plaid_user(&setup.user),
               "kind": "status", "status": 500, "times": 1}),
    )
    .await;
    let reply = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &plan["confirm"])).await;
    assert_eq!((reply.status, reply.code()), (502, "migration_step_failed"), "{:?}", reply.body);
    let report = &reply.body["error"]["details"]["migration"];
    assert_eq!(
        (&report["status"], &report["failed_step"], &report["old_connection_removed"]),
        (&json!("failed"), &json!("remove"), &json!(false))
    );
    assert!(report["state"].as_str().unwrap().contains("both connections are in place"), "{report}");
    assert!(report["error"]["code"].as_str().is_some(), "{report}");
    assert_eq!(providers(&connections(&ctx, &setup.token).await), ["plaid", "schwab"]);
    let items = ctx.get(&ctx.dev, "/api/plaid/items", Some(&setup.token)).await;
    assert_eq!(items.body["items"][0]["external_id"], item.as_str(), "{:?}", items.body);
    let id = report["id"].as_str().unwrap();
    let read = ctx.get(&ctx.dev, &format!("/api/migrations/{id}"), Some(&setup.token)).await;
    assert_eq!((read.status, &read.body["migration"]["failed_step"]), (200, &json!("remove")));
    // The fault was one call: the same confirm now completes the migration.
    let retried = migrate(&ctx, &setup.token, execute(plaid_to_schwab(), &plan["confirm"])).await;
    assert_eq!(
        (retried.status, &retried.body["migration"]["status"]),
        (200, &json!("completed")),
        "{:?}",
        retried.body
    );
    Ok(())
}
