//! The operator's view (`GET /api/ops/metrics`): per provider and per day, the calls recorded by
//! every request (`crate::calls`), their success rate, bucketed p50/p95 latency, billed calls and
//! their cost at the configured prices, webhooks received/rejected/duplicate; and every stored
//! connection (up to a cap) judged by the core's connection-health rule, counted per provider
//! and status with the stalest one named. Three D1 reads; no provider is called.

use crate::api::ApiError;
use crate::store::{ops, provider_calls};
use serde::Serialize;
use std::collections::BTreeMap;
use tributary_core::config::Config;
use tributary_core::connection_health::{connection_health, ConnectionFacts, ReadFacts, ReadFailure};
use tributary_core::ops::latency::LATENCY_BUCKET_BOUNDS_MS;
use tributary_core::ops::metrics::{
    provider_days, summarize_connections, ConnectionStanding, ConnectionSummary, MetricsRange, ProviderDay,
};
use tributary_core::Provider;
use worker::Env;

/// The connections part of the answer.
#[derive(Serialize)]
pub struct ConnectionsView {
    /// How many connections were read (newest first), at most `limit`.
    pub scanned: u64,
    pub limit: u32,
    /// More connections exist than were read; the counts cover the newest `limit`.
    pub truncated: bool,
    pub by_provider: BTreeMap<Provider, ConnectionSummary>,
}

/// `GET /api/ops/metrics`'s answer.
#[derive(Serialize)]
pub struct OpsMetrics {
    pub from: String,
    pub to: String,
    /// Latency percentiles are upper bounds of these buckets, not exact figures.
    pub latency_ms_bucketed: bool,
    pub latency_bucket_bounds_ms: &'static [u64],
    /// One entry per (day, provider) with any call or webhook, by day then provider.
    pub days: Vec<ProviderDay>,
    pub connections: ConnectionsView,
}

/// The metrics of `range`, with connections judged at `now`.
pub async fn metrics(env: &Env, config: &Config, range: MetricsRange, now: i64) -> Result<OpsMetrics, ApiError> {
    let (days, webhooks, connections) = futures_util::try_join!(
        provider_calls::days(env, range.from, range.to),
        provider_calls::webhook_days(env, range.from, range.to),
        ops::connection_facts(env),
    )?;
    let truncated = connections.len() > ops::MAX_CONNECTIONS_SCANNED as usize;
    let standings: Vec<ConnectionStanding> = connections
        .iter()
        .take(ops::MAX_CONNECTIONS_SCANNED as usize)
        .map(|row| {
            let facts = ConnectionFacts {
                provider: row.provider,
                disabled: row.disabled,
                needs_repair: row.needs_repair,
                repair_reason: row.repair_reason.as_deref(),
                reauth_required_at: row.reauth_required_at,
                reads: ReadFacts {
                    last_success_at: row.fetched_at,
                    last_failure: row.last_read_failed.then(|| ReadFailure {
                        code: row.error_code.as_deref().unwrap_or("provider_read_failed"),
                        message: row.error_message.as_deref(),
                        at: row.attempted_at,
                    }),
                    ttl_hours: config.cache.ttl_hours(row.provider),
                },
            };
            ConnectionStanding {
                provider: row.provider,
                connection_id: row.id.clone(),
                institution: row.institution.clone(),
                status: connection_health(&facts, now).status,
                last_success_at: row.fetched_at,
            }
        })
        .collect();
    Ok(OpsMetrics {
        from: range.from.to_string(),
        to: range.to.to_string(),
        latency_ms_bucketed: true,
        latency_bucket_bounds_ms: &LATENCY_BUCKET_BOUNDS_MS,
        days: provider_days(&days, &webhooks, &config.call_prices),
        connections: ConnectionsView {
            scanned: standings.len() as u64,
            limit: ops::MAX_CONNECTIONS_SCANNED,
            truncated,
            by_provider: summarize_connections(standings),
        },
    })
}
