//! The operator's figures (`GET /api/ops/metrics`): per provider and per day, built from the daily
//! aggregates the shells keep ([`day_increments`] is what one request adds to them). Latency
//! percentiles are bucket bounds ([`super::latency`]); cost is exact decimals from the configured
//! prices, or unknown (`null`) when a billed operation has no price.

use super::latency::{bucket_of, percentile_ms, LATENCY_BUCKETS};
use super::prices::CallPrices;
use super::{CallOutcome, CallResult};
use crate::connection_health::HealthStatus;
use crate::domain::{InstitutionSlug, Provider};
use crate::error::ErrorCode;
use crate::time::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// The longest range one metrics request may ask for, in days (both ends included).
pub const MAX_RANGE_DAYS: i64 = 92;
/// The days a request without `from` covers, ending at `to` (today by default).
pub const DEFAULT_RANGE_DAYS: i64 = 7;

/// One day's counts for one (provider, institution, operation), as stored and as a request adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub day: Date,
    pub provider: Provider,
    pub institution: Option<InstitutionSlug>,
    pub operation: String,
    pub calls: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub billed: u64,
    pub latency: [u64; LATENCY_BUCKETS],
}

/// What a request's outcomes add to the daily aggregates, one per (day, provider, institution,
/// operation).
pub fn day_increments(outcomes: &[CallOutcome]) -> Vec<DayCount> {
    let mut counts: BTreeMap<(Date, Provider, Option<InstitutionSlug>, String), DayCount> = BTreeMap::new();
    for outcome in outcomes {
        let day = Date::from_unix(outcome.at);
        let key = (day, outcome.provider, outcome.institution.clone(), outcome.operation.clone());
        let entry = counts.entry(key).or_insert_with(|| DayCount {
            day,
            provider: outcome.provider,
            institution: outcome.institution.clone(),
            operation: outcome.operation.clone(),
            calls: 0,
            succeeded: 0,
            failed: 0,
            billed: 0,
            latency: [0; LATENCY_BUCKETS],
        });
        entry.calls += 1;
        entry.succeeded += u64::from(outcome.result == CallResult::Succeeded);
        entry.failed += u64::from(outcome.result == CallResult::Failed);
        entry.billed += u64::from(outcome.was_billed());
        entry.latency[bucket_of(outcome.latency_ms)] += 1;
    }
    counts.into_values().collect()
}

/// How a received webhook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WebhookOutcome {
    /// Verified and recorded for the first time.
    Received,
    /// Refused (bad signature, too large, not configured, malformed).
    Rejected,
    /// Verified, but its id was already recorded.
    Duplicate,
}

/// One day's webhook counts for one provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WebhookCounts {
    pub received: u64,
    pub rejected: u64,
    pub duplicate: u64,
}

impl WebhookCounts {
    /// The counts after one more webhook of `outcome`.
    pub fn with(mut self, outcome: WebhookOutcome) -> Self {
        match outcome {
            WebhookOutcome::Received => self.received += 1,
            WebhookOutcome::Rejected => self.rejected += 1,
            WebhookOutcome::Duplicate => self.duplicate += 1,
        }
        self
    }
}

/// The days a metrics request covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsRange {
    pub from: Date,
    pub to: Date,
}

/// Why `from`/`to` were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsQueryError {
    #[error("{field} must be a date written YYYY-MM-DD, got {value:?}")]
    BadDate { field: &'static str, value: String },
    #[error("from ({from}) must not be after to ({to})")]
    Reversed { from: Date, to: Date },
    #[error("the range may cover at most {MAX_RANGE_DAYS} days")]
    TooLong,
}

impl ErrorCode for MetricsQueryError {
    fn code(&self) -> &'static str {
        "invalid_metrics_range"
    }
    fn http_status(&self) -> u16 {
        400
    }
}

impl MetricsRange {
    /// `from`/`to` (`YYYY-MM-DD`, both included): `to` defaults to `today`, `from` to the
    /// [`DEFAULT_RANGE_DAYS`] ending at `to`; at most [`MAX_RANGE_DAYS`] days.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Self, MetricsQueryError> {
        let date = |field: &'static str, value: &str| {
            Date::parse(value.trim()).ok_or_else(|| MetricsQueryError::BadDate { field, value: value.to_owned() })
        };
        let to = to.map(|v| date("to", v)).transpose()?.unwrap_or(today);
        let from = from.map(|v| date("from", v)).transpose()?.unwrap_or_else(|| to.add_days(1 - DEFAULT_RANGE_DAYS));
        if from > to {
            return Err(MetricsQueryError::Reversed { from, to });
        }
        if to.days_since(from) + 1 > MAX_RANGE_DAYS {
            return Err(MetricsQueryError::TooLong);
        }
        Ok(Self { from, to })
    }
}

/// One provider's figures for one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderDay {
    /// `YYYY-MM-DD` (UTC, on the clock of the requests that made the calls).
    pub day: String,
    pub provider: Provider,
    /// Attempts sent (each retry is an attempt).
    pub calls: u64,
    pub succeeded: u64,
    /// Attempts the provider failed (5xx, timeout, unreachable, malformed, rate limited).
    pub failed: u64,
    /// `succeeded / calls`, rounded to 4 places; `None` without calls.
    pub success_rate: Option<f64>,
    /// Bucket upper bounds (see `latency_ms_bucketed`); `None` without calls.
    pub p50_latency_ms: Option<u64>,
    pub p95_latency_ms: Option<u64>,
    /// Successful attempts of billed calls.
    pub billed_calls: u64,
    /// Exact decimal string; `None` when a billed operation has no configured price.
    pub cost: Option<String>,
    /// Billed operations with no configured price (why `cost` is `None`).
    pub unpriced_operations: Vec<String>,
    pub webhooks: WebhookCounts,
}

/// Per (day, provider) figures from stored day counts and webhook counts, ordered by day then
/// provider; a pair with no calls and no webhooks is left out.
pub fn provider_days(
    rows: &[DayCount],
    webhooks: &[(Date, Provider, WebhookCounts)],
    prices: &CallPrices,
) -> Vec<ProviderDay> {
    #[derive(Default)]
    struct Acc {
        calls: u64,
        succeeded: u64,
        failed: u64,
        billed: BTreeMap<String, u64>,
        latency: [u64; LATENCY_BUCKETS],
        webhooks: WebhookCounts,
    }
    let mut acc: BTreeMap<(Date, Provider), Acc> = BTreeMap::new();
    for row in rows {
        let a = acc.entry((row.day, row.provider)).or_default();
        a.calls += row.calls;
        a.succeeded += row.succeeded;
        a.failed += row.failed;
        *a.billed.entry(row.operation.clone()).or_default() += row.billed;
        for (total, n) in a.latency.iter_mut().zip(row.latency) {
            *total += n;
        }
    }
    for (day, provider, counts) in webhooks {
        let a = acc.entry((*day, *provider)).or_default();
        a.webhooks.received += counts.received;
        a.webhooks.rejected += counts.rejected;
        a.webhooks.duplicate += counts.duplicate;
    }
    acc.into_iter()
        .map(|((day, provider), a)| {
            let (cost, unpriced_operations) = prices.cost(provider, &a.billed);
            ProviderDay {
                day: day.to_string(),
                provider,
                calls: a.calls,
                succeeded: a.succeeded,
                failed: a.failed,
                success_rate: rate(a.succeeded, a.calls),
                p50_latency_ms: percentile_ms(&a.latency, 50),
                p95_latency_ms: percentile_ms(&a.latency, 95),
                billed_calls: a.billed.values().sum(),
                cost: cost.map(|c| c.normalize().to_string()),
                unpriced_operations,
                webhooks: a.webhooks,
            }
        })
        .collect()
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0)
}

/// One stored connection as the core's connection-health rule judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionStanding {
    pub provider: Provider,
    pub connection_id: String,
    pub institution: Option<String>,
    pub status: HealthStatus,
    /// When its provider's holdings were last read successfully for its user.
    pub last_success_at: Option<i64>,
}

/// The connection least recently read successfully (never read counts as stalest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StalestConnection {
    pub connection_id: String,
    pub institution: Option<String>,
    pub last_success_at: Option<i64>,
}

/// One provider's connections by health status, and its stalest one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionSummary {
    pub total: u64,
    /// Count per status (`ok`, `degraded`, `needs_repair`, `expires_soon`), every status listed.
    pub by_status: BTreeMap<&'static str, u64>,
    pub stalest: Option<StalestConnection>,
}

fn status_name(status: HealthStatus) -> &'static str {
    match status {
        HealthStatus::Ok => "ok",
        HealthStatus::Degraded => "degraded",
        HealthStatus::NeedsRepair => "needs_repair",
        HealthStatus::ExpiresSoon => "expires_soon",
    }
}

/// Every provider's connection summary (every provider listed, even with none).
pub fn summarize_connections(
    standings: impl IntoIterator<Item = ConnectionStanding>,
) -> BTreeMap<Provider, ConnectionSummary> {
    let statuses = [HealthStatus::Ok, HealthStatus::Degraded, HealthStatus::NeedsRepair, HealthStatus::ExpiresSoon];
    let empty = || ConnectionSummary {
        total: 0,
        by_status: statuses.iter().map(|s| (status_name(*s), 0)).collect(),
        stalest: None,
    };
    let mut out: BTreeMap<Provider, ConnectionSummary> = Provider::ALL.into_iter().map(|p| (p, empty())).collect();
    for standing in standings {
        let summary = out.entry(standing.provider).or_insert_with(empty);
        summary.total += 1;
        *summary.by_status.entry(status_name(standing.status)).or_default() += 1;
        let staler = match &summary.stalest {
            None => true,
            Some(current) => match (standing.last_success_at, current.last_success_at) {
                (None, Some(_)) => true,
                (Some(at), Some(current)) => at < current,
                _ => false,
            },
        };
        if staler {
            summary.stalest = Some(StalestConnection {
                connection_id: standing.connection_id,
                institution: standing.institution,
                last_success_at: standing.last_success_at,
            });
        }
    }
    out
}
