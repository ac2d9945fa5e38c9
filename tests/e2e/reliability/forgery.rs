//! Webhook forgery: at least 10,000 forged deliveries built from genuine ones the simulator signs
//! (see [`super::variants`] and [`super::forge`]) are sent to the reliability worker, 16 in flight. Every answer must be a 4xx
//! with a `webhook_*` code its kind allows, and a snapshot of every D1 table must be identical
//! before and after. Controls prove the suite could fail: the genuine deliveries themselves are
//! accepted (and a genuine body of exactly 64 KiB too), and a byte-different re-encoding of an
//! accepted delivery (SnapTrade keys reordered, the signature's ECDSA twin for Plaid) is
//! acknowledged as the duplicate it is, changing nothing.

use super::forge::forge;
use super::mutate::{ecdsa_twin, shuffled_json};
use super::variants::{sign, Delivery, Hook, Target, KINDS, MAX_WEBHOOK_BYTES};
use super::{
    bounded, d1_snapshot, exclusive, reliability_ctx, scaled, seed_user, send_raw, send_raw_unchecked, tally, Raw, Rng,
    Seeded,
};
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        webhook_forgeries_ten_thousand_variants_are_all_refused_and_change_no_d1_row,
        webhook_reencodings_of_an_accepted_delivery_are_duplicates_that_change_nothing,
    ]
}

/// Requests in flight at once.
const IN_FLIGHT: usize = 16;
/// Variants generated (and signed) per batch, so none waits long between signing and sending.
const BATCH: usize = 1_000;

/// Posts `delivery` to its webhook endpoint on `ctx`'s worker, headers and body byte for byte.
async fn deliver(ctx: &Ctx, delivery: &Delivery) -> Raw {
    send_raw(delivery_request(ctx, delivery)).await
}

fn delivery_request(ctx: &Ctx, delivery: &Delivery) -> reqwest::RequestBuilder {
    let mut request = ctx.http.post(format!("{}{}", ctx.dev, delivery.hook.path())).body(delivery.body.clone());
    for (name, value) in &delivery.headers {
        request = request.header(name, value);
    }
    request
}

/// Times a forgery is sent when wrangler dev's proxy, not the worker, answers it.
const PROXY_ATTEMPTS: u32 = 3;

/// Delivers a forgery and returns the worker's own answer and how many times wrangler dev's proxy
/// lost the connection first. Sending a forgery again is safe (a refused forgery changes nothing;
/// the D1 snapshot proves it), so a lost connection is retried, at most [`PROXY_ATTEMPTS`] times
/// in all, and counted; it is never judged as the worker's answer.
async fn deliver_forgery(ctx: &Ctx, delivery: &Delivery) -> (Raw, u32) {
    for lost in 0..PROXY_ATTEMPTS {
        let raw = send_raw_unchecked(delivery_request(ctx, delivery)).await;
        if !tributary_e2e::is_proxy_fault(raw.status, &raw.text) {
            return (raw, lost);
        }
    }
    panic!(
        "a forgery: wrangler dev's proxy lost its connection to the worker {PROXY_ATTEMPTS} times in a row \
         (its own 503 \"restarted mid-request\"): an environment fault, not the worker's answer"
    );
}

/// The forgery target: a user with SnapTrade and Plaid connected on the reliability worker.
async fn target(rel: &Ctx, label: &str) -> (Seeded, Target) {
    let seeded = seed_user(rel, label, ("Charles Schwab", "SCHWAB")).await;
    let accounts =
        rel.d1("SELECT external_id FROM accounts WHERE user_id = ?1 AND provider = 'snaptrade'", &[&seeded.user]);
    let account = accounts[0]["external_id"].as_str().expect("a synced SnapTrade account").to_owned();
    let target = Target {
        user: seeded.user.clone(),
        authorization: seeded.authorization.clone(),
        account,
        item: seeded.item.clone(),
    };
    (seeded, target)
}

/// Freshly signed genuine deliveries for every spec of `hook`.
async fn genuine(rel: &Ctx, target: &Target, hook: Hook) -> (Vec<Value>, Vec<Delivery>) {
    let specs = target.specs(hook);
    let mut deliveries = Vec::new();
    for spec in &specs {
        deliveries.push(sign(rel, hook, spec).await);
    }
    (specs, deliveries)
}

/// Which tables differ between two snapshots, with their row counts.
fn differences(before: &BTreeMap<String, Vec<Value>>, after: &BTreeMap<String, Vec<Value>>) -> Vec<String> {
    after
        .iter()
        .filter(|(table, rows)| before.get(*table) != Some(rows))
        .map(|(table, rows)| {
            format!("{table}: {} rows before, {} after", before.get(table).map_or(0, Vec::len), rows.len())
        })
        .collect()
}

async fn webhook_forgeries_ten_thousand_variants_are_all_refused_and_change_no_d1_row(ctx: Arc<Ctx>) -> TestResult {
    let _sole_user = exclusive().await;
    let rel = reliability_ctx(&ctx);
    let (seeded, target) = target(&rel, "forgery").await;
    let mut rng = Rng::for_suite("webhook forgery");
    let mut plan: Vec<usize> =
        KINDS.iter().enumerate().flat_map(|(i, kind)| std::iter::repeat_n(i, scaled(kind.count))).collect();
    for i in (1..plan.len()).rev() {
        plan.swap(i, rng.below(i + 1));
    }

    let before = d1_snapshot(&rel);
    let started = Instant::now();
    let mut outcomes: Vec<(usize, Raw)> = Vec::with_capacity(plan.len());
    let mut proxy_faults = 0u32;
    for batch in plan.chunks(BATCH) {
        let snaptrade = genuine(&rel, &target, Hook::SnapTrade).await;
        let plaid = genuine(&rel, &target, Hook::Plaid).await;
        let mut forged = Vec::with_capacity(batch.len());
        for &k in batch {
            let (specs, deliveries) = if KINDS[k].hook == Hook::SnapTrade { &snaptrade } else { &plaid };
            forged.push((k, forge(&rel, &KINDS[k], specs, deliveries, &mut rng).await));
        }
        let rel = &rel;
        let sends: Vec<_> = forged.iter().map(|(k, d)| async move { (*k, deliver_forgery(rel, d).await) }).collect();
        for (k, (raw, lost)) in bounded(sends, IN_FLIGHT).await {
            proxy_faults += lost;
            outcomes.push((k, raw));
        }
    }
    let elapsed = started.elapsed();
    let after = d1_snapshot(&rel);

    let labels: Vec<String> =
        outcomes.iter().map(|(k, raw)| format!("{} → {} {}", KINDS[*k].name, raw.status, raw.code)).collect();
    for (label, n) in tally(labels.iter().map(String::as_str)) {
        println!("  {n:>5} × {label}");
    }
    println!(
        "webhook forgery: {} variants of {} kinds sent in {:.1} s ({:.0}/s, {IN_FLIGHT} in flight)",
        outcomes.len(),
        KINDS.len(),
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64()
    );
    if proxy_faults > 0 {
        println!(
            "webhook forgery: wrangler dev's proxy lost {proxy_faults} connection(s); those forgeries were sent again"
        );
    }
    assert!(outcomes.len() >= 10_000, "at least 10,000 variants: {}", outcomes.len());
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|(k, raw)| {
            !(400..500).contains(&raw.status) || !KINDS[*k].codes.iter().any(|c| raw.code == format!("webhook_{c}"))
        })
        .take(5)
        .map(|(k, raw)| format!("{}: {} {} {}", KINDS[*k].name, raw.status, raw.code, raw.text))
        .collect();
    assert!(wrong.is_empty(), "forgeries not refused as their kind should be (first 5): {wrong:#?}");
    let changed = differences(&before, &after);
    assert!(changed.is_empty(), "forgeries changed D1: {changed:?}");

    // Controls: the genuine deliveries the variants came from are accepted, as is a genuine body
    // of exactly the 64 KiB limit — so every refusal above was earned by a defect.
    for hook in [Hook::SnapTrade, Hook::Plaid] {
        let delivery = sign(&rel, hook, &target.specs(hook)[0]).await;
        let answer = deliver(&rel, &delivery).await;
        assert_eq!(answer.status, 200, "the genuine {hook:?} delivery is accepted: {}", answer.text);
        assert!(answer.text.contains("pending_raised"), "{}", answer.text);
    }
    let spec = json!({"event_type": "NEW_ACCOUNT_AVAILABLE", "user_id": seeded.user});
    let at_limit = sign(&rel, Hook::SnapTrade, &spec).await;
    let mut body = at_limit.body.clone();
    body.splice(1..1, std::iter::repeat_n(b' ', MAX_WEBHOOK_BYTES - body.len()));
    let answer = deliver(&rel, &at_limit.with_body(body)).await;
    assert_eq!(answer.status, 200, "a genuine body of exactly 64 KiB is accepted: {}", answer.text);
    Ok(())
}

async fn webhook_reencodings_of_an_accepted_delivery_are_duplicates_that_change_nothing(ctx: Arc<Ctx>) -> TestResult {
    let _sole_user = exclusive().await;
    let rel = reliability_ctx(&ctx);
    let (_, target) = target(&rel, "reencoded").await;
    let mut rng = Rng::for_suite("webhook re-encodings");

    // SnapTrade signs the canonical form, so keys in any order are the same, genuine webhook:
    // the first arrival is applied, every other encoding of it is a duplicate.
    let genuine = sign(&rel, Hook::SnapTrade, &target.specs(Hook::SnapTrade)[0]).await;
    let mut reordered = || loop {
        let text = shuffled_json(&genuine.json(), &mut rng);
        if text.as_bytes() != genuine.body {
            break genuine.with_body(text);
        }
    };
    let first = deliver(&rel, &reordered()).await;
    assert_eq!(first.status, 200, "reordered keys under the canonical signature verify: {}", first.text);
    assert!(first.text.contains("\"duplicate\":false"), "{}", first.text);
    let applied = d1_snapshot(&rel);
    for again in [genuine.clone(), reordered(), reordered()] {
        let answer = deliver(&rel, &again).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(answer.text.contains("\"duplicate\":true"), "another encoding is a duplicate: {}", answer.text);
    }
    assert!(differences(&applied, &d1_snapshot(&rel)).is_empty(), "duplicates changed D1");

    // Plaid signs the raw bytes with ES256, whose signature (r, s) has a twin (r, n − s) that
    // verifies just as well: a replay with the twin is the same delivery, not a new one.
    let genuine = sign(&rel, Hook::Plaid, &target.specs(Hook::Plaid)[0]).await;
    let first = deliver(&rel, &genuine).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.text.contains("\"duplicate\":false"), "{}", first.text);
    let applied = d1_snapshot(&rel);
    let twin = genuine.with_signature(Some(ecdsa_twin(genuine.signature())));
    let answer = deliver(&rel, &twin).await;
    assert!(answer.status == 200 || (400..500).contains(&answer.status), "{}", answer.text);
    if answer.status == 200 {
        assert!(answer.text.contains("\"duplicate\":true"), "the twin is a replay, not a new event: {}", answer.text);
    }
    let changed = differences(&applied, &d1_snapshot(&rel));
    assert!(changed.is_empty(), "a replay with the twin signature changed D1: {changed:?} ({})", answer.text);
    Ok(())
}
