//! Concurrency, on the development worker (its long cooldown, `REFRESH_COOLDOWN_S`): 50 simultaneous refreshes of one user
//! with SnapTrade and Plaid connected make exactly the provider calls of ONE refresh — measured
//! on a twin user who refreshes once — and are answered 1 × 200 and 49 × 429 with `Retry-After`.
//! (All 50 land within the cooldown however slowly they are sent: the losers only read D1.)

use super::seed_user;
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![concurrency_fifty_refreshes_of_one_user_make_one_call_per_provider]
}

/// Concurrent refreshes of the one user.
const BURST: usize = 50;

/// `(status, Retry-After, body)` of one `POST /api/holdings/refresh`.
async fn refresh(ctx: &Ctx, token: &str) -> (u16, Option<String>, Value) {
    let body = json!({"providers": ["snaptrade", "plaid"], "confirm_cost": true});
    let response =
        ctx.http.post(format!("{}/api/holdings/refresh", ctx.dev)).bearer_auth(token).json(&body).send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    tributary_e2e::refuse_proxy_fault("POST /api/holdings/refresh", status, &text);
    (status, retry_after, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The simulator's per-operation call counts for one user: `{"snaptrade": {op: n}, "plaid": {op: n}}`.
async fn operations(ctx: &Ctx, user: &str) -> Value {
    let calls = ctx.sim_calls().await;
    let plaid_user = crate::plaid::plaid_user(user);
    let ops = |provider: &str, who: &str| calls[provider]["users"][who]["operations"].clone();
    json!({"snaptrade": ops("snaptrade", user), "plaid": ops("plaid", &plaid_user)})
}

/// `after − before`, per provider and operation, keeping only operations that were called.
fn delta(before: &Value, after: &Value) -> Value {
    let mut out = Map::new();
    for provider in ["snaptrade", "plaid"] {
        let mut ops = Map::new();
        for (op, n) in after[provider].as_object().into_iter().flatten() {
            let grew = n.as_u64().unwrap_or(0) - before[provider][op].as_u64().unwrap_or(0);
            if grew > 0 {
                ops.insert(op.clone(), json!(grew));
            }
        }
        out.insert(provider.to_owned(), Value::Object(ops));
    }
    Value::Object(out)
}

async fn concurrency_fifty_refreshes_of_one_user_make_one_call_per_provider(ctx: Arc<Ctx>) -> TestResult {
    let (one, burst) = futures_util::join!(
        seed_user(&ctx, "once", ("Charles Schwab", "SCHWAB")),
        seed_user(&ctx, "burst", ("Charles Schwab", "SCHWAB"))
    );

    let before = operations(&ctx, &one.user).await;
    let (status, _, body) = refresh(&ctx, &one.token).await;
    assert_eq!(status, 200, "{body}");
    let one_refresh = delta(&before, &operations(&ctx, &one.user).await);
    for (provider, paid) in [("snaptrade", "refresh"), ("plaid", "investments_refresh")] {
        assert_eq!(one_refresh[provider][paid], 1, "one refresh asks {provider} once: {one_refresh}");
    }

    let before = operations(&ctx, &burst.user).await;
    let replies = futures_util::future::join_all((0..BURST).map(|_| refresh(&ctx, &burst.token))).await;
    let burst_calls = delta(&before, &operations(&ctx, &burst.user).await);
    let statuses: Vec<u16> = replies.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "exactly one refresh ran: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), BURST - 1, "{statuses:?}");
    for (status, retry_after, body) in &replies {
        if *status == 429 {
            assert_eq!(body["error"]["code"], "refresh_cooling_down", "{body}");
            let seconds: u64 = retry_after.as_deref().expect("Retry-After").parse().unwrap();
            assert!((1..=crate::REFRESH_COOLDOWN_S).contains(&seconds), "Retry-After {seconds}");
        } else {
            let results = body["results"].as_array().unwrap();
            assert!(results.iter().all(|r| r["status"] == "ok") && results.len() == 2, "{body}");
        }
    }
    assert_eq!(burst_calls, one_refresh, "{BURST} concurrent refreshes cost the provider calls of one");
    let billed = ctx.d1(
        "SELECT provider, COUNT(*) AS n FROM refresh_log WHERE user_id = ?1 AND billed = 1 GROUP BY provider ORDER BY provider",
        &[&burst.user],
    );
    assert_eq!(billed, vec![json!({"provider": "plaid", "n": 1}), json!({"provider": "snaptrade", "n": 1})]);
    println!("concurrency: {BURST} refreshes → 1 × 200, {} × 429; provider calls {burst_calls}", BURST - 1);
    Ok(())
}
