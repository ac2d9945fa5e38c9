//! Chaos: at least 1,000 refresh cycles on the reliability worker (no cooldown), [`USERS`] users in
//! parallel, each with SnapTrade and Plaid connected. A cycle raises the pending flags with genuine
//! webhooks (or, for Plaid in half the cycles, asks for a paid refresh with `confirm_cost`), and in 20 % of
//! cycles injects one provider fault for that user only — 5xx, timeout, 429, malformed JSON or
//! 410 — before `POST /api/holdings/refresh`. After every cycle: every cached position is still
//! there (D1), the response names each provider's outcome and, for the faulted one, its error
//! code; a failed provider keeps its pending flag, a refreshed one clears it; after a faulted
//! cycle `GET /api/<provider>/holdings` still serves every position and says what failed.

use super::{bounded, reliability_ctx, scaled, seed_user, shared, tally, Rng, Seeded};
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![chaos_a_thousand_refreshes_with_a_fifth_faulted_lose_no_position_and_name_every_failure]
}

/// The reliability worker's per-attempt provider timeout (a `timeout` fault costs ~3 attempts of it).
/// Far above what a loopback simulator call takes on a busy machine, so only an injected timeout
/// ever reaches it (at 1 s, a slow but healthy call was reported as `provider_timeout`).
pub const PROVIDER_TIMEOUT_MS: u64 = 5_000;
/// Users refreshing in parallel.
const USERS: usize = 8;
/// Refresh cycles in all (× 10 under `make soak`).
const CYCLES: usize = 1_000;
/// Share of cycles with an injected fault.
const FAULT_PERCENT: usize = 20;

/// An injected fault: what the simulator does, and the error code the worker must report for it
/// (SnapTrade's, Plaid's — the simulator answers a Plaid 410 as Plaid does any unexpected 4xx).
struct Fault {
    name: &'static str,
    /// Weight among faulted cycles (timeouts are rare: each costs ~15 s of retries).
    weight: usize,
    spec: fn(&mut Rng) -> Value,
    codes: [&'static str; 2],
}

const FAULTS: &[Fault] = &[
    Fault {
        name: "5xx",
        weight: 30,
        spec: |rng| json!({"kind": "status", "status": *rng.pick(&[500, 502, 503, 504])}),
        codes: ["provider_unavailable", "provider_unavailable"],
    },
    Fault {
        name: "429",
        weight: 25,
        spec: |rng| json!({"kind": "rate_limit", "retry_after": *rng.pick(&[1, 5, 60])}),
        codes: ["provider_rate_limited", "provider_rate_limited"],
    },
    Fault {
        name: "malformed",
        weight: 25,
        spec: |_| json!({"kind": "malformed"}),
        codes: ["provider_malformed_response", "provider_malformed_response"],
    },
    Fault {
        name: "410",
        weight: 12,
        spec: |_| json!({"kind": "status", "status": 410}),
        codes: ["provider_endpoint_gone", "provider_rejected"],
    },
    Fault {
        name: "timeout",
        weight: 8,
        spec: |_| json!({"kind": "timeout"}),
        codes: ["provider_timeout", "provider_timeout"],
    },
];

fn pick_fault(rng: &mut Rng) -> &'static Fault {
    let mut roll = rng.below(FAULTS.iter().map(|f| f.weight).sum());
    for fault in FAULTS {
        if roll < fault.weight {
            return fault;
        }
        roll -= fault.weight;
    }
    unreachable!("the roll is below the total weight")
}

/// Every cached position of `user`: (provider, account, security, quantity), sorted.
fn positions(ctx: &Ctx, user: &str) -> Vec<Value> {
    ctx.d1(
        "SELECT p.provider, a.external_id AS account, p.security_key, p.quantity FROM positions p \
         JOIN accounts a ON a.id = p.account_id WHERE p.user_id = ?1 ORDER BY 1, 2, 3, 4",
        &[user],
    )
}

fn pending(ctx: &Ctx, user: &str, provider: &str) -> bool {
    let rows = ctx.d1("SELECT pending FROM pending_updates WHERE user_id = ?1 AND provider = ?2", &[user, provider]);
    rows.first().is_some_and(|r| r["pending"] == 1)
}

/// Has the simulator send a genuine holdings webhook for `provider` to the reliability worker;
/// `serial` makes each Plaid body unique (an identical body signed in the same second is,
/// rightly, the same delivery).
async fn raise(ctx: &Ctx, seeded: &Seeded, provider: &str, serial: usize) {
    let (path, spec) = match provider {
        "snaptrade" => (
            "/__sim/snaptrade/webhook",
            json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": seeded.user, "url": format!("{}/webhooks/snaptrade", ctx.dev)}),
        ),
        _ => (
            "/__sim/plaid/webhook",
            json!({"item_id": seeded.item, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE",
                   "new_holdings": serial, "url": format!("{}/webhooks/plaid", ctx.dev)}),
        ),
    };
    let (status, body, _) = ctx.sim_webhook(path, &spec).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("pending_raised")), "{provider} webhook: {body}");
}

/// What one user's cycles saw, per provider result: (the fault injected into that provider or
/// "none", provider, its error code or "ok").
type Seen = Vec<(&'static str, String, String)>;

async fn run_user(ctx: &Ctx, seeded: Seeded, cycles: usize, mut rng: Rng) -> Seen {
    let user = seeded.user.as_str();
    let plaid_user = crate::plaid::plaid_user(user);
    let baseline = positions(ctx, user);
    assert!(baseline.iter().any(|p| p["provider"] == "plaid") && baseline.iter().any(|p| p["provider"] == "snaptrade"));
    let mut seen = Seen::new();
    let offset = rng.below(100);
    for cycle in 0..cycles {
        // Exactly FAULT_PERCENT of the cycles, spread evenly from a random start.
        let faulted = (cycle + offset) * FAULT_PERCENT / 100 != (cycle + offset + 1) * FAULT_PERCENT / 100;
        let paid_plaid = rng.percent(50);
        for provider in ["snaptrade", "plaid"] {
            let paid = provider == "plaid" && paid_plaid;
            if !paid && !pending(ctx, user, provider) {
                raise(ctx, &seeded, provider, cycle).await;
            }
        }
        let before = [pending(ctx, user, "snaptrade"), pending(ctx, user, "plaid")];
        let injected = faulted.then(|| {
            let fault = pick_fault(&mut rng);
            let provider = *rng.pick(&["snaptrade", "plaid"]);
            let endpoint = match provider {
                "snaptrade" => *rng.pick(&["accounts", "positions", "balances"]),
                // `/investments/refresh` answers only `{request_id}`, which the worker rightly does not
                // read: a garbled 200 there is still a 200, so malformed bodies go to the data calls.
                _ if paid_plaid && !before[1] && fault.name != "malformed" => {
                    *rng.pick(&["investments_refresh", "investments_holdings_get"])
                }
                _ => "investments_holdings_get",
            };
            let mut spec = (fault.spec)(&mut rng);
            let who = if provider == "snaptrade" { user } else { plaid_user.as_str() };
            spec.as_object_mut().unwrap().extend(
                json!({"provider": provider, "endpoint": endpoint, "user_id": who}).as_object().unwrap().clone(),
            );
            (fault, provider, endpoint, spec)
        });
        let fault_id = match &injected {
            Some((_, _, _, spec)) => {
                let answer = ctx.sim_control("/__sim/faults", spec).await;
                Some(answer["id"].as_u64().unwrap_or_else(|| panic!("the simulator took fault {spec}: {answer}")))
            }
            None => None,
        };
        let body =
            if paid_plaid { json!({"providers": ["snaptrade", "plaid"], "confirm_cost": true}) } else { json!({}) };
        let reply = ctx.post(&ctx.dev, "/api/holdings/refresh", &seeded.token, body).await;
        if let Some(id) = fault_id {
            let removed = ctx.http.delete(format!("{}/__sim/faults/{id}", ctx.sim)).send().await.unwrap();
            assert_eq!(removed.status().as_u16(), 200, "fault {id} removed");
        }
        let context = format!("{user} cycle {cycle}, fault {:?}", injected.as_ref().map(|(f, _, _, s)| (f.name, s)));
        assert_eq!((reply.status, &reply.body["decision"]), (200, &json!("allowed")), "{context}: {:?}", reply.body);
        let results = reply.body["results"].as_array().cloned().unwrap_or_default();
        for (i, provider) in ["snaptrade", "plaid"].into_iter().enumerate() {
            let result = results.iter().find(|r| r["provider"] == provider);
            let result = result.unwrap_or_else(|| panic!("{context}: no {provider} result in {:?}", reply.body));
            let faulted = injected.as_ref().filter(|(_, p, _, _)| *p == provider).map(|(f, _, _, _)| *f);
            let code = result["error"]["code"].as_str().unwrap_or_default().to_owned();
            match faulted {
                Some(fault) => {
                    assert_eq!(result["status"], "failed", "{context}: {result}");
                    assert_eq!(code, fault.codes[i], "{context}: the code for {} on {provider}", fault.name);
                    assert!(result["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{context}: {result}");
                    assert_eq!(
                        pending(ctx, user, provider),
                        before[i],
                        "{context}: a failure keeps the {provider} flag"
                    );
                }
                None => {
                    assert_eq!(result["status"], "ok", "{context}: unfaulted {provider}: {result}");
                    assert!(!pending(ctx, user, provider), "{context}: a refresh clears the {provider} flag");
                }
            }
            seen.push((
                faulted.map_or("none", |f| f.name),
                provider.to_owned(),
                if code.is_empty() { "ok".into() } else { code },
            ));
        }
        assert_eq!(positions(ctx, user), baseline, "{context}: cached positions changed");
        // A failed fetch is remembered with the cache; a failed paid refresh never reached the fetch.
        if let Some((_, provider, _, _)) = injected.as_ref().filter(|(_, _, e, _)| *e != "investments_refresh") {
            let holdings = ctx.get(&ctx.dev, &format!("/api/{provider}/holdings"), Some(&seeded.token)).await;
            assert_eq!(holdings.status, 200, "{context}: {:?}", holdings.body);
            let served = holdings.body["positions"].as_array().map_or(0, Vec::len);
            let cached = baseline.iter().filter(|p| p["provider"] == *provider).count();
            assert_eq!(served, cached, "{context}: GET serves every cached {provider} position");
            assert!(
                holdings.body["last_error"]["code"].as_str().is_some(),
                "{context}: says what failed: {:?}",
                holdings.body
            );
        }
    }
    seen
}

async fn chaos_a_thousand_refreshes_with_a_fifth_faulted_lose_no_position_and_name_every_failure(
    ctx: Arc<Ctx>,
) -> TestResult {
    let _worker = shared().await;
    let rel = reliability_ctx(&ctx);
    let mut rng = Rng::for_suite("chaos");
    let setups: Vec<_> = (0..USERS).map(|_| seed_user(&rel, "chaos", ("Charles Schwab", "SCHWAB"))).collect();
    let seeded = bounded(setups, 4).await;
    // Thousands of SnapTrade calls in a minute: the harness lifted the simulated 250/min client limit.
    let total = scaled(CYCLES);
    let started = Instant::now();
    let rel = &rel;
    let runs: Vec<_> = seeded
        .into_iter()
        .enumerate()
        .map(|(i, s)| run_user(rel, s, total / USERS + usize::from(i < total % USERS), Rng::derived(&mut rng)))
        .collect();
    let seen: Vec<_> = bounded(runs, USERS).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();

    let labels: Vec<String> =
        seen.iter().map(|(fault, provider, code)| format!("{provider}, fault {fault} → {code}")).collect();
    for (label, n) in tally(labels.iter().map(String::as_str)) {
        println!("  {n:>5} × {label}");
    }
    let faulted = seen.iter().filter(|(fault, _, _)| *fault != "none").count();
    println!(
        "chaos: {} cycles ({USERS} users) in {:.1} s, {faulted} provider failures injected and reported, 0 positions lost",
        seen.len() / 2,
        elapsed.as_secs_f64()
    );
    assert!(seen.len() / 2 >= total, "{} cycles ran", seen.len() / 2);
    Ok(())
}
