//! The provider-call tables (`migrations/0010_provider_calls.sql`): the rolling window routing
//! reads, the daily aggregates and webhook counts the operator's metrics read. Each request's
//! outcomes go in as ONE batch of upserts that also prunes old rows (the core's retention rule);
//! each read is one query. Rows come back typed (core providers, slugs, dates).

use super::{db, query_all, DbResult};
use crate::calls::Recorded;
use serde::Deserialize;
use std::collections::BTreeMap;
use tributary_core::ops::latency::LATENCY_BUCKETS;
use tributary_core::ops::metrics::{day_increments, DayCount, WebhookCounts};
use tributary_core::ops::window::{prune_days_before, prune_minutes_before, window_increments, WindowCount};
use tributary_core::time::Date;
use tributary_core::{InstitutionSlug, Provider};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// Most daily rows one metrics read returns (a range of at most 92 days is far below it).
const MAX_DAY_ROWS: u32 = 20_000;

fn institution_column(slug: Option<&InstitutionSlug>) -> JsValue {
    slug.map_or("", InstitutionSlug::as_str).into()
}

fn institution_of(column: &str) -> Option<InstitutionSlug> {
    (!column.is_empty()).then(|| InstitutionSlug::parse(column).ok()).flatten()
}

fn n(value: u64) -> JsValue {
    (value as f64).into()
}

/// Writes one request's outcomes (each counted at its own time, on the request's clock) and
/// prunes rows older than the retention at the wall clock, in one batch.
pub async fn write(env: &Env, recorded: &Recorded) -> DbResult<()> {
    let database = db(env)?;
    let mut batch: Vec<D1PreparedStatement> = Vec::new();
    for row in window_increments(&recorded.calls) {
        batch.push(
            database
                .prepare(
                    "INSERT INTO provider_call_window (minute, provider, institution, attempts, failures)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (minute, provider, institution) DO UPDATE SET
                       attempts = attempts + excluded.attempts, failures = failures + excluded.failures",
                )
                .bind(&[
                    (row.minute as f64).into(),
                    row.provider.as_str().into(),
                    institution_column(row.institution.as_ref()),
                    n(u64::from(row.attempts)),
                    n(u64::from(row.failures)),
                ])?,
        );
    }
    for row in day_increments(&recorded.calls) {
        let mut args: Vec<JsValue> = vec![
            row.day.to_string().into(),
            row.provider.as_str().into(),
            institution_column(row.institution.as_ref()),
            row.operation.as_str().into(),
            n(row.calls),
            n(row.succeeded),
            n(row.failed),
            n(row.billed),
        ];
        args.extend(row.latency.iter().map(|c| n(*c)));
        batch.push(
            database
                .prepare(
                    "INSERT INTO provider_call_days (day, provider, institution, operation, calls, succeeded, failed, billed,
                       l0, l1, l2, l3, l4, l5, l6, l7, l8, l9)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                     ON CONFLICT (day, provider, institution, operation) DO UPDATE SET
                       calls = calls + excluded.calls, succeeded = succeeded + excluded.succeeded,
                       failed = failed + excluded.failed, billed = billed + excluded.billed,
                       l0 = l0 + excluded.l0, l1 = l1 + excluded.l1, l2 = l2 + excluded.l2, l3 = l3 + excluded.l3,
                       l4 = l4 + excluded.l4, l5 = l5 + excluded.l5, l6 = l6 + excluded.l6, l7 = l7 + excluded.l7,
                       l8 = l8 + excluded.l8, l9 = l9 + excluded.l9",
                )
                .bind(&args)?,
        );
    }
    let mut webhooks: BTreeMap<(Date, Provider), WebhookCounts> = BTreeMap::new();
    for (at, provider, outcome) in &recorded.webhooks {
        let entry = webhooks.entry((Date::from_unix(*at), *provider)).or_default();
        *entry = entry.with(*outcome);
    }
    for ((day, provider), counts) in webhooks {
        batch.push(
            database
                .prepare(
                    "INSERT INTO webhook_days (day, provider, received, rejected, duplicate) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (day, provider) DO UPDATE SET received = received + excluded.received,
                       rejected = rejected + excluded.rejected, duplicate = duplicate + excluded.duplicate",
                )
                .bind(&[
                    day.to_string().into(),
                    provider.as_str().into(),
                    n(counts.received),
                    n(counts.rejected),
                    n(counts.duplicate),
                ])?,
        );
    }
    // Pruning follows the wall clock, never the request's (a development user's advanced) clock:
    // one user's clock far ahead must not delete the rows another request is still counting.
    let wall = crate::clock::real_now_unix();
    let oldest_day: JsValue = prune_days_before(wall).to_string().into();
    batch.push(
        database
            .prepare("DELETE FROM provider_call_window WHERE minute < ?1")
            .bind(&[(prune_minutes_before(wall) as f64).into()])?,
    );
    batch.push(
        database.prepare("DELETE FROM provider_call_days WHERE day < ?1").bind(std::slice::from_ref(&oldest_day))?,
    );
    batch.push(database.prepare("DELETE FROM webhook_days WHERE day < ?1").bind(&[oldest_day])?);
    database.batch(batch).await?;
    Ok(())
}

#[derive(Deserialize)]
struct WindowRow {
    provider: String,
    institution: String,
    attempts: f64,
    failures: f64,
}

/// The window's attempts and failures in minutes `first..=last`, summed per provider and
/// institution (one query; `minute` of each row is `last`).
pub async fn window(env: &Env, first: i64, last: i64) -> DbResult<Vec<WindowCount>> {
    let rows: Vec<WindowRow> = query_all(
        env,
        "SELECT provider, institution, SUM(attempts) AS attempts, SUM(failures) AS failures
         FROM provider_call_window WHERE minute BETWEEN ?1 AND ?2 GROUP BY provider, institution",
        &[(first as f64).into(), (last as f64).into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(WindowCount {
                minute: last,
                provider: Provider::parse(&row.provider).ok()?,
                institution: institution_of(&row.institution),
                attempts: row.attempts as u32,
                failures: row.failures as u32,
            })
        })
        .collect())
}

#[derive(Deserialize)]
struct DayRow {
    day: String,
    provider: String,
    institution: String,
    operation: String,
    calls: f64,
    succeeded: f64,
    failed: f64,
    billed: f64,
    l0: f64,
    l1: f64,
    l2: f64,
    l3: f64,
    l4: f64,
    l5: f64,
    l6: f64,
    l7: f64,
    l8: f64,
    l9: f64,
}

/// The daily aggregates of days `from..=to` (one query).
pub async fn days(env: &Env, from: Date, to: Date) -> DbResult<Vec<DayCount>> {
    let rows: Vec<DayRow> = query_all(
        env,
        "SELECT * FROM provider_call_days WHERE day BETWEEN ?1 AND ?2 ORDER BY day, provider LIMIT ?3",
        &[from.to_string().into(), to.to_string().into(), f64::from(MAX_DAY_ROWS).into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let latency: [f64; LATENCY_BUCKETS] = [r.l0, r.l1, r.l2, r.l3, r.l4, r.l5, r.l6, r.l7, r.l8, r.l9];
            Some(DayCount {
                day: Date::parse(&r.day)?,
                provider: Provider::parse(&r.provider).ok()?,
                institution: institution_of(&r.institution),
                operation: r.operation,
                calls: r.calls as u64,
                succeeded: r.succeeded as u64,
                failed: r.failed as u64,
                billed: r.billed as u64,
                latency: latency.map(|c| c as u64),
            })
        })
        .collect())
}

#[derive(Deserialize)]
struct WebhookRow {
    day: String,
    provider: String,
    received: f64,
    rejected: f64,
    duplicate: f64,
}

/// Webhook counts of days `from..=to` (one query).
pub async fn webhook_days(env: &Env, from: Date, to: Date) -> DbResult<Vec<(Date, Provider, WebhookCounts)>> {
    let rows: Vec<WebhookRow> = query_all(
        env,
        "SELECT day, provider, received, rejected, duplicate FROM webhook_days WHERE day BETWEEN ?1 AND ?2",
        &[from.to_string().into(), to.to_string().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let counts = WebhookCounts {
                received: r.received as u64,
                rejected: r.rejected as u64,
                duplicate: r.duplicate as u64,
            };
            Some((Date::parse(&r.day)?, Provider::parse(&r.provider).ok()?, counts))
        })
        .collect())
}
