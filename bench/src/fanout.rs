//! Figure 1, refresh fan-out: the wall time of a full `POST /api/holdings/refresh` for a user with
//! three providers × ten accounts, with every simulator call taking 150 ms, as a multiple of the
//! two dependent round trips the parallel design needs (SnapTrade `accounts` → each account's
//! `positions`/`balances`; Plaid needs one; Schwab direct reads `accountNumbers` and `accounts`
//! at once, one). The same on a worker with `REFRESH_FANOUT=sequential` shows what the parallel
//! design buys.

use crate::client::Client;
use crate::harness::Bench;
use crate::report::{Figure, Row};
use crate::stats::Summary;
use futures_util::future::join_all;
use serde_json::{json, Value};
use tributary_e2e::{secrets, WranglerDev};
use tributary_sim::snaptrade::signature::sign;

/// Simulated round-trip latency of every provider call.
pub const LATENCY_MS: u64 = 150;
/// Accounts per provider.
pub const ACCOUNTS: usize = 10;
const RUNS_PARALLEL: usize = 7;
const RUNS_SEQUENTIAL: usize = 5;

/// The providers every timed refresh names.
const PROVIDERS: [&str; 3] = ["snaptrade", "plaid", "schwab"];

/// A user with SnapTrade (IBKR), Plaid (Chase) and Schwab direct, each [`ACCOUNTS`] accounts, cached.
pub async fn connected_user(client: &Client, label: &str) -> Result<(String, String), String> {
    let user = format!("{label}-{}", secrets::random_hex(4));
    client.connect_snaptrade(&user, "Interactive Brokers", "IBKR", ACCOUNTS).await?;
    let item = client.link_plaid(&user, "Chase", "ins_56", ACCOUNTS).await?;
    client.connect_schwab(&user, &format!("{user}-schwab"), ACCOUNTS).await?;
    // One announced (free) refresh caches every account of every provider; no paid provider refresh
    // is asked for, so SnapTrade's per-connection refresh rate limit (10 s) is untouched.
    announce(client, &user, &item).await?;
    let warm = client.post(&user, "/api/holdings/refresh", json!({"providers": PROVIDERS})).await?;
    check_refresh(&warm.body, "fetch_only")?;
    let portfolio = client.get(&user, "/api/portfolio?view=by_account").await?;
    let accounts = portfolio.body["by_account"].as_array().map_or(0, Vec::len);
    if accounts != PROVIDERS.len() * ACCOUNTS {
        return Err(format!("expected {} accounts in the portfolio, found {accounts}", PROVIDERS.len() * ACCOUNTS));
    }
    Ok((user, item))
}

/// Checks that a refresh ran every provider — SnapTrade and Plaid in `mode`, Schwab direct (free,
/// never announced by a webhook) as a provider refresh — and read all [`ACCOUNTS`] accounts.
fn check_refresh(body: &Value, mode: &str) -> Result<(), String> {
    let results = body["results"].as_array().ok_or_else(|| format!("no results: {body}"))?;
    let expected = |r: &Value| if r["provider"] == "schwab" { "provider_refresh" } else { mode };
    let fine = results.len() == PROVIDERS.len()
        && results.iter().all(|r| r["status"] == "ok" && r["mode"] == expected(r) && r["accounts"] == ACCOUNTS);
    if fine {
        Ok(())
    } else {
        Err(format!("the refresh did not read every provider's {ACCOUNTS} accounts in {mode} mode: {body}"))
    }
}

/// Provider calls per provider during `f`, from the simulator's counts.
async fn calls_during<T>(
    client: &Client,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<(T, Value), String> {
    let total = |calls: &Value, p: &str| calls[p]["total"].as_u64().unwrap_or(0);
    let before = client.sim_calls().await?;
    let out = f.await?;
    let after = client.sim_calls().await?;
    let diff = json!({"snaptrade": total(&after, "snaptrade") - total(&before, "snaptrade"),
                      "plaid": total(&after, "plaid") - total(&before, "plaid"),
                      "schwab": total(&after, "schwab") - total(&before, "schwab")});
    Ok((out, diff))
}

/// Raises both pending flags with signed holdings webhooks (not timed).
async fn announce(client: &Client, user: &str, item: &str) -> Result<(), String> {
    for (answer, what) in [
        (client.snaptrade_holdings_webhook(user).await?, "snaptrade"),
        (client.plaid_holdings_webhook(item).await?, "plaid"),
    ] {
        if answer["outcome"] != "pending_raised" {
            return Err(format!("the {what} webhook did not raise the pending flag: {answer}"));
        }
    }
    Ok(())
}

/// One `POST /api/holdings/refresh` with `body`, checked to have run in `mode`: wall ms.
async fn timed_refresh(client: &Client, user: &str, body: &Value, mode: &str) -> Result<f64, String> {
    let reply = client.post(user, "/api/holdings/refresh", body.clone()).await?;
    check_refresh(&reply.body, mode)?;
    Ok(reply.elapsed.as_secs_f64() * 1000.0)
}

struct Measured {
    announced: Summary,
    explicit: Summary,
    announced_calls: Value,
    explicit_calls: Value,
}

/// Announced refreshes of the first user, `runs` times; one explicit refresh of each other user
/// (SnapTrade refuses a connection's second refresh within 10 s, so each explicit run has its own).
async fn measure(client: &Client, users: &[(String, String)], runs: usize) -> Result<Measured, String> {
    let announced_body = json!({"providers": PROVIDERS});
    let explicit_body = json!({"providers": PROVIDERS, "confirm_cost": true});
    let (user, item) = &users[0];
    let mut announced = Vec::new();
    let mut announced_calls = Value::Null;
    for run in 0..runs {
        announce(client, user, item).await?;
        let timed = timed_refresh(client, user, &announced_body, "fetch_only");
        if run == 0 {
            let (ms, calls) = calls_during(client, timed).await?;
            announced.push(ms);
            announced_calls = calls;
        } else {
            announced.push(timed.await?);
        }
    }
    let mut explicit = Vec::new();
    let mut explicit_calls = Value::Null;
    for (run, (user, _)) in users[1..].iter().enumerate() {
        let timed = timed_refresh(client, user, &explicit_body, "provider_refresh");
        if run == 0 {
            let (ms, calls) = calls_during(client, timed).await?;
            explicit.push(ms);
            explicit_calls = calls;
        } else {
            explicit.push(timed.await?);
        }
    }
    Ok(Measured {
        announced: Summary::of(&announced),
        explicit: Summary::of(&explicit),
        announced_calls,
        explicit_calls,
    })
}

/// The SnapTrade user secret the simulator holds for `user`.
pub fn sim_secret(bench: &Bench, user: &str) -> Result<String, String> {
    let secret = tributary_sim::lock(&bench.sim.sim.snaptrade).users.get(user).map(|u| u.secret.clone());
    secret.ok_or_else(|| "the simulator does not know the user".to_owned())
}

/// `GET path` straight to the simulator's SnapTrade as `user`, signed as SnapTrade documents,
/// with `extra` (`&offset=…`) after the credentials in the query; the 200 answer's JSON.
pub async fn direct_get(
    bench: &Bench,
    client: &Client,
    (user, secret): (&str, &str),
    path: String,
    extra: &str,
) -> Result<Value, String> {
    let query = format!(
        "clientId={}&timestamp={}&userId={user}&userSecret={secret}{extra}",
        bench.snaptrade.client_id,
        crate::client::real_now()
    );
    let signature = sign(&bench.snaptrade.consumer_key, &path, &query, None);
    let request = client.http.get(format!("{}{path}?{query}", client.sim)).header("Signature", signature);
    let response = request.send().await.map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        200 => response.json::<Value>().await.map_err(|e| e.to_string()),
        status => Err(format!("the simulator answered {path} with {status}")),
    }
}

/// The same dependent chain made directly against the simulator, without any worker: `/accounts`,
/// then every account's positions and balances at once, signed as SnapTrade documents. Wall ms.
async fn direct_chain(bench: &Bench, client: &Client, user: &str) -> Result<f64, String> {
    let secret = sim_secret(bench, user)?;
    let get = |path: String| direct_get(bench, client, (user, &secret), path, "");
    let started = std::time::Instant::now();
    let accounts = get("/accounts".into()).await?;
    let ids: Vec<&str> = accounts.as_array().into_iter().flatten().filter_map(|a| a["id"].as_str()).collect();
    let calls = ids.iter().flat_map(|id| [format!("/accounts/{id}/positions/all"), format!("/accounts/{id}/balances")]);
    for answer in join_all(calls.map(get)).await {
        answer?;
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// `1 + runs` connected users on `client`'s worker.
async fn users(client: &Client, label: &str, runs: usize) -> Result<Vec<(String, String)>, String> {
    let mut users = Vec::new();
    for _ in 0..=runs {
        users.push(connected_user(client, label).await?);
    }
    Ok(users)
}

/// Runs the figure on a parallel and a sequential worker (both with a 0 s refresh cooldown).
pub async fn run(bench: &Bench, parallel: &WranglerDev, sequential: &WranglerDev) -> Result<Figure, String> {
    let sim = bench.sim_url();
    let par = Client::new(&parallel.base_url, &sim, &bench.session_key)?;
    let seq = Client::new(&sequential.base_url, &sim, &bench.session_key)?;
    par.sim_control("/__sim/latency", json!({"ms": 0})).await?;
    // SnapTrade allows 250 requests a minute per client id; this figure makes more (a 10-account
    // read is 21 calls), so the simulator's limit is lifted for the whole run.
    par.sim_control("/__sim/ratelimit", json!({"per_minute": 100_000})).await?;
    par.sim_control("/__sim/schwab/ratelimit", json!({"per_minute": 100_000})).await?;
    let par_users = users(&par, "bench-fan-par", RUNS_PARALLEL).await?;
    let seq_users = users(&seq, "bench-fan-seq", RUNS_SEQUENTIAL).await?;
    par.sim_control("/__sim/latency", json!({"ms": LATENCY_MS})).await?;
    let measured = async {
        let p = measure(&par, &par_users, RUNS_PARALLEL).await?;
        let s = measure(&seq, &seq_users, RUNS_SEQUENTIAL).await?;
        let mut direct = Vec::new();
        for _ in 0..RUNS_PARALLEL {
            direct.push(direct_chain(bench, &par, &par_users[0].0).await?);
        }
        Ok::<_, String>((p, s, Summary::of(&direct)))
    }
    .await;
    par.sim_control("/__sim/latency", json!({"ms": 0})).await?;
    let (p, s, direct) = measured?;

    let chain = 2.0 * LATENCY_MS as f64;
    let baseline = format!("2 round trips × {LATENCY_MS} ms");
    let rows = vec![
        Row::new(
            "webhook-announced refresh of three providers, parallel",
            "ms",
            p.announced,
            &baseline,
            chain,
            Some(1.2),
        ),
        Row::new("webhook-announced refresh of three providers, sequential", "ms", s.announced, &baseline, chain, None),
        Row::new(
            "diagnostic: the same chain sent straight to the simulator (no worker)",
            "ms",
            direct,
            &baseline,
            chain,
            None,
        ),
        Row::new("explicit paid refresh (`confirm_cost`), parallel", "ms", p.explicit, &baseline, chain, Some(1.2)),
        Row::new("explicit paid refresh (`confirm_cost`), sequential", "ms", s.explicit, &baseline, chain, None),
    ];
    let buys = |seq: &Summary, par: &Summary| seq.median / par.median;
    let notes = vec![
        format!(
            "User: SnapTrade (IBKR), Plaid (Chase) and Schwab direct, each {ACCOUNTS} accounts in the simulator \
             (`POST /__sim/*/accounts`); every provider call held {LATENCY_MS} ms (`POST /__sim/latency`); \
             workers with `REFRESH_COOLDOWN_SECONDS=0`, `REFRESH_FANOUT=parallel` vs `sequential`; the \
             simulator's SnapTrade and Schwab rate limits (250 and 120 requests/min, as theirs) lifted, since one \
             10-account SnapTrade read is 21 calls."
        ),
        format!(
            "Provider calls per refresh — webhook-announced: {} (parallel) / {} (sequential); explicit: {} / {}.",
            p.announced_calls, s.announced_calls, p.explicit_calls, s.explicit_calls
        ),
        format!(
            "The diagnostic row sends SnapTrade's chain (accounts, then 20 positions/balances calls at once) from \
             the bench straight to the simulator: the simulator's own time beyond 2 × {LATENCY_MS} ms is {:.0} ms, \
             so the worker's own share of the parallel announced refresh is about {:.0} ms (D1 reads and writes, \
             decryption, normalising, the response).",
            direct.median - chain,
            p.announced.median - direct.median
        ),
        format!(
            "The parallel design is {:.1}× faster than sequential for the announced refresh and {:.1}× for the explicit one.",
            buys(&s.announced, &p.announced),
            buys(&s.explicit, &p.explicit)
        ),
        "Webhook-announced: SnapTrade's and Plaid's pending flags raised by signed webhooks, then a refresh \
         naming all three providers: SnapTrade and Plaid `fetch_only`, Schwab direct (no webhooks, free) read \
         live; nothing billed; its dependent chain is SnapTrade accounts → positions/balances (2 round trips; \
         Plaid's one read and Schwab's accountNumbers + accounts pair run beside it)."
            .into(),
        "Explicit paid refresh: the worker asks each provider to refresh (`POST /authorizations/{id}/refresh`, \
         `/investments/refresh`) and only then reads, so its dependent chain is 3 round trips (refresh → \
         accounts → positions): 1.5× is its floor against this baseline, by design."
            .into(),
    ];
    Ok(Figure { id: "refresh_fanout", title: "1. Refresh fan-out", rows, notes })
}
