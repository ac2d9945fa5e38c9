//! Cache policy: how long each provider's holdings count as fresh (Plaid 72 h, SnapTrade 24 h by
//! default, configurable), whether a cached copy is missing, fresh or stale at a given `now`, and
//! the `cache_info` every response carries, and which stale copies a cron run re-reads (the
//! missed-webhook sweep). Pure: the clock is an argument; nothing is stored.

use crate::domain::Provider;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

const SECONDS_PER_HOUR: i64 = 3600;

/// Per-provider time-to-live of cached holdings, in whole hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CachePolicy {
    pub snaptrade_ttl_hours: u32,
    pub plaid_ttl_hours: u32,
    pub schwab_ttl_hours: u32,
    pub ibkr_flex_ttl_hours: u32,
}

impl Default for CachePolicy {
    fn default() -> Self {
        let ttl = |p: Provider| p.spec().cache_ttl_hours;
        Self {
            snaptrade_ttl_hours: ttl(Provider::SnapTrade),
            plaid_ttl_hours: ttl(Provider::Plaid),
            schwab_ttl_hours: ttl(Provider::Schwab),
            ibkr_flex_ttl_hours: ttl(Provider::IbkrFlex),
        }
    }
}

impl CachePolicy {
    /// The variable that configures `provider`'s TTL (`SNAPTRADE_CACHE_HOURS`, …).
    pub fn variable(provider: Provider) -> &'static str {
        match provider {
            Provider::SnapTrade => "SNAPTRADE_CACHE_HOURS",
            Provider::Plaid => "PLAID_CACHE_HOURS",
            Provider::Schwab => "SCHWAB_CACHE_HOURS",
            Provider::IbkrFlex => "IBKR_FLEX_CACHE_HOURS",
        }
    }

    /// Sets how many hours `provider`'s cached holdings stay fresh.
    pub fn set_ttl_hours(&mut self, provider: Provider, hours: u32) {
        match provider {
            Provider::SnapTrade => self.snaptrade_ttl_hours = hours,
            Provider::Plaid => self.plaid_ttl_hours = hours,
            Provider::Schwab => self.schwab_ttl_hours = hours,
            Provider::IbkrFlex => self.ibkr_flex_ttl_hours = hours,
        }
    }

    /// How many hours `provider`'s cached holdings stay fresh.
    pub fn ttl_hours(&self, provider: Provider) -> u32 {
        match provider {
            Provider::SnapTrade => self.snaptrade_ttl_hours,
            Provider::Plaid => self.plaid_ttl_hours,
            Provider::Schwab => self.schwab_ttl_hours,
            Provider::IbkrFlex => self.ibkr_flex_ttl_hours,
        }
    }

    /// What a read of `provider`'s cache does at `now` (see [`ReadPlan`]): fetch when nothing was
    /// ever fetched; serve while fresh; past the TTL re-read for free — unless a fetch failed less
    /// than [`REREAD_BACKOFF_S`] ago (`failed_at`), when the stale copy is served with that error
    /// instead of asking a failing provider on every page load.
    pub fn read_plan(&self, provider: Provider, fetched_at: Option<i64>, failed_at: Option<i64>, now: i64) -> ReadPlan {
        match self.decision(provider, fetched_at, now) {
            CacheDecision::Missing => ReadPlan::Fetch,
            CacheDecision::Fresh { .. } => ReadPlan::Serve,
            CacheDecision::Stale { .. } => match failed_at {
                Some(at) if now.saturating_sub(at) < REREAD_BACKOFF_S => ReadPlan::Serve,
                _ => ReadPlan::Reread,
            },
        }
    }

    /// [`cache_decision`] with `provider`'s TTL.
    pub fn decision(&self, provider: Provider, last_fetched_at: Option<i64>, now: i64) -> CacheDecision {
        cache_decision(last_fetched_at, now, self.ttl_hours(provider))
    }

    /// The `cache_info` for `provider`'s data fetched at `fetched_at`, served from cache or not.
    pub fn cache_info(&self, provider: Provider, fetched_at: i64, now: i64, from_cache: bool) -> CacheInfo {
        let ttl_hours = self.ttl_hours(provider);
        if from_cache {
            CacheInfo::cached(fetched_at, now, ttl_hours)
        } else {
            CacheInfo::just_fetched(ttl_hours)
        }
    }
}

/// The missed-webhook sweep's bound: at most this many re-reads in one cron run, all providers
/// together.
pub const SWEEP_READS_PER_RUN: usize = 25;

/// The most re-reads of one provider in one cron run, whatever its limit allows.
const SWEEP_READS_PER_PROVIDER: u32 = 10;

/// How many of `provider`'s stale copies one cron run may re-read: half of what its documented
/// limit allows in a minute (the rest stays for people's own reads), at least one, at most
/// [`SWEEP_READS_PER_PROVIDER`]. Reads within a run go one after another.
pub fn sweep_reads_per_provider(provider: Provider) -> usize {
    let limit = provider.spec().rate_limit;
    let per_minute = u64::from(limit.requests) * 60 / u64::from(limit.per_seconds.max(1));
    (per_minute / 2).clamp(1, u64::from(SWEEP_READS_PER_PROVIDER)) as usize
}

/// One cached copy the sweep may re-read: whose, which provider's, and how long past its TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepCandidate<U> {
    pub user: U,
    pub provider: Provider,
    /// Seconds since the copy's TTL ran out (on the user's clock).
    pub overdue_s: i64,
    /// When the copy was fetched, which the re-read must supersede.
    pub fetched_at: i64,
}

impl CachePolicy {
    /// The sweep's candidate for a copy of `provider` fetched at `fetched_at`, when a page load at
    /// `now` would re-read it ([`ReadPlan::Reread`]: past its TTL and not failing right now).
    pub fn sweep_candidate<U>(
        &self,
        user: U,
        provider: Provider,
        fetched_at: i64,
        failed_at: Option<i64>,
        now: i64,
    ) -> Option<SweepCandidate<U>> {
        if self.read_plan(provider, Some(fetched_at), failed_at, now) != ReadPlan::Reread {
            return None;
        }
        let ttl_s = i64::from(self.ttl_hours(provider)) * SECONDS_PER_HOUR;
        let overdue_s = age_seconds(fetched_at, now).saturating_sub(ttl_s);
        Some(SweepCandidate { user, provider, overdue_s, fetched_at })
    }
}

/// What one cron run re-reads of `candidates`: most overdue first, at most
/// [`sweep_reads_per_provider`] of each provider and [`SWEEP_READS_PER_RUN`] in all.
pub fn sweep_plan<U>(mut candidates: Vec<SweepCandidate<U>>) -> Vec<SweepCandidate<U>> {
    candidates.sort_by(|a, b| b.overdue_s.cmp(&a.overdue_s).then(a.fetched_at.cmp(&b.fetched_at)));
    let mut taken = [0usize; Provider::ALL.len()];
    let mut plan = Vec::new();
    for candidate in candidates {
        let index = Provider::ALL.iter().position(|p| *p == candidate.provider).unwrap_or(0);
        if plan.len() == SWEEP_READS_PER_RUN {
            break;
        }
        if taken[index] < sweep_reads_per_provider(candidate.provider) {
            taken[index] += 1;
            plan.push(candidate);
        }
    }
    plan
}

/// After a failed fetch, how long a stale copy is served before the provider is asked again.
pub const REREAD_BACKOFF_S: i64 = 300;

/// What one read of a provider's cached holdings does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadPlan {
    /// Nothing was ever fetched: fetch now (the read fails if the fetch does).
    Fetch,
    /// Serve the cache as it is.
    Serve,
    /// Past the TTL: re-read the provider for free (fetch-only, never a billed refresh) and serve
    /// the stale copy, with the error, if that fails.
    Reread,
}

/// Whether cached data can be served as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CacheDecision {
    /// Nothing was ever fetched: fetch now.
    Missing,
    /// Younger than the TTL: serve it.
    Fresh { age_seconds: i64 },
    /// At least as old as the TTL: fetch again (and serve it, marked stale, if the fetch fails).
    Stale { age_seconds: i64 },
}

/// Missing without a fetch time; fresh while younger than `ttl_hours`; stale from then on.
/// A fetch time in the future (clock skew) counts as age zero.
pub fn cache_decision(last_fetched_at: Option<i64>, now: i64, ttl_hours: u32) -> CacheDecision {
    let Some(fetched_at) = last_fetched_at else { return CacheDecision::Missing };
    let age_seconds = age_seconds(fetched_at, now);
    if age_seconds >= i64::from(ttl_hours) * SECONDS_PER_HOUR {
        CacheDecision::Stale { age_seconds }
    } else {
        CacheDecision::Fresh { age_seconds }
    }
}

fn age_seconds(fetched_at: i64, now: i64) -> i64 {
    now.saturating_sub(fetched_at).max(0)
}

/// How old a provider's data in a response is, against its TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheInfo {
    /// Hours since the data was fetched, truncated to two decimals; `null` when just fetched.
    pub age_hours: Option<Decimal>,
    pub ttl_hours: u32,
    pub from_cache: bool,
}

impl CacheInfo {
    /// Data fetched by this very request: no age, not from cache.
    pub fn just_fetched(ttl_hours: u32) -> Self {
        Self { age_hours: None, ttl_hours, from_cache: false }
    }

    /// Data served from cache, fetched at `fetched_at`.
    pub fn cached(fetched_at: i64, now: i64, ttl_hours: u32) -> Self {
        // Truncating to hundredths of an hour (36 s) keeps `is_stale` equal to `cache_decision`.
        let hundredths = age_seconds(fetched_at, now) / 36;
        Self { age_hours: Some(Decimal::new(hundredths, 2)), ttl_hours, from_cache: true }
    }

    /// True when the data is at least as old as its TTL (never for just-fetched data); agrees with
    /// [`cache_decision`] for the same fetch time, `now` and TTL.
    pub fn is_stale(&self) -> bool {
        self.age_hours.is_some_and(|age| age >= Decimal::from(self.ttl_hours))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const HOUR: i64 = 3600;

    #[test]
    fn default_ttls_are_plaid_72_hours_and_snaptrade_24_hours() {
        let policy = CachePolicy::default();
        assert_eq!((policy.ttl_hours(Provider::Plaid), policy.ttl_hours(Provider::SnapTrade)), (72, 24));
        let custom: CachePolicy = serde_json::from_value(json!({"plaid_ttl_hours": 12})).unwrap();
        assert_eq!((custom.ttl_hours(Provider::Plaid), custom.ttl_hours(Provider::SnapTrade)), (12, 24));
    }

    #[test]
    fn never_fetched_data_is_missing() {
        assert_eq!(cache_decision(None, NOW, 24), CacheDecision::Missing);
    }

    #[test]
    fn snaptrade_data_is_fresh_for_24_hours_then_stale() {
        let policy = CachePolicy::default();
        let at = |age| policy.decision(Provider::SnapTrade, Some(NOW - age), NOW);
        assert_eq!(at(23 * HOUR), CacheDecision::Fresh { age_seconds: 23 * HOUR });
        assert_eq!(at(24 * HOUR - 1), CacheDecision::Fresh { age_seconds: 24 * HOUR - 1 });
        assert_eq!(at(24 * HOUR), CacheDecision::Stale { age_seconds: 24 * HOUR });
        assert!(matches!(policy.decision(Provider::Plaid, Some(NOW - 48 * HOUR), NOW), CacheDecision::Fresh { .. }));
    }

    #[test]
    fn a_fetch_time_in_the_future_counts_as_just_fetched() {
        assert_eq!(cache_decision(Some(NOW + 60), NOW, 1), CacheDecision::Fresh { age_seconds: 0 });
        assert_eq!(cache_decision(Some(i64::MIN), i64::MAX, 1), CacheDecision::Stale { age_seconds: i64::MAX });
    }

    #[test]
    fn just_fetched_data_has_a_null_age_and_cached_data_an_hours_age() {
        let policy = CachePolicy::default();
        let fresh = policy.cache_info(Provider::Plaid, NOW, NOW, false);
        assert_eq!(
            serde_json::to_value(&fresh).unwrap(),
            json!({"age_hours": null, "ttl_hours": 72, "from_cache": false})
        );
        let cached = policy.cache_info(Provider::SnapTrade, NOW - 5400, NOW, true);
        assert_eq!(
            serde_json::to_value(&cached).unwrap(),
            json!({"age_hours": "1.50", "ttl_hours": 24, "from_cache": true})
        );
        assert!(!fresh.is_stale() && !cached.is_stale());
        assert!(policy.cache_info(Provider::SnapTrade, NOW - 25 * HOUR, NOW, true).is_stale());
    }

    proptest! {
        #[test]
        fn cache_info_staleness_agrees_with_cache_decision(age in 0i64..400 * HOUR, ttl in 0u32..200) {
            let info = CacheInfo::cached(NOW - age, NOW, ttl);
            let decision = cache_decision(Some(NOW - age), NOW, ttl);
            prop_assert_eq!(info.is_stale(), matches!(decision, CacheDecision::Stale { .. }));
        }
    }

    #[test]
    fn past_its_ttl_a_read_rereads_for_free_but_never_hammers_a_failing_provider() {
        let policy = CachePolicy::default();
        let p = Provider::SnapTrade;
        let day = 86_400;
        assert_eq!(policy.read_plan(p, None, None, NOW), ReadPlan::Fetch);
        assert_eq!(policy.read_plan(p, Some(NOW - 3_600), None, NOW), ReadPlan::Serve);
        assert_eq!(policy.read_plan(p, Some(NOW - day), None, NOW), ReadPlan::Reread, "24 h is stale");
        assert_eq!(policy.read_plan(p, Some(NOW - day), Some(NOW - 60), NOW), ReadPlan::Serve, "failed a minute ago");
        assert_eq!(policy.read_plan(p, Some(NOW - day), Some(NOW - REREAD_BACKOFF_S), NOW), ReadPlan::Reread);
        assert_eq!(policy.read_plan(Provider::Plaid, Some(NOW - day), None, NOW), ReadPlan::Serve, "Plaid keeps 72 h");
    }

    #[test]
    fn the_sweep_takes_the_most_overdue_first_within_each_providers_limit() {
        assert_eq!(
            Provider::ALL.map(sweep_reads_per_provider),
            [10, 7, 10, 5],
            "SnapTrade 250/min, Plaid 15/min, Schwab 120/min, IBKR Flex 10/min: half, at most 10"
        );
        let policy = CachePolicy::default();
        let day = 86_400;
        // Fresh, failing a minute ago, or never fetched: not the sweep's.
        assert_eq!(policy.sweep_candidate("a", Provider::SnapTrade, NOW - 3_600, None, NOW), None);
        assert_eq!(policy.sweep_candidate("a", Provider::SnapTrade, NOW - day, Some(NOW - 60), NOW), None);
        let stale = policy.sweep_candidate("a", Provider::SnapTrade, NOW - day - 90, None, NOW).unwrap();
        assert_eq!(stale.overdue_s, 90);

        let plaid: Vec<_> = (0..9)
            .map(|i| policy.sweep_candidate(i, Provider::Plaid, NOW - 3 * day - i64::from(i) * 60, None, NOW).unwrap())
            .collect();
        let plan = sweep_plan(plaid);
        assert_eq!(plan.iter().map(|c| c.user).collect::<Vec<_>>(), [8, 7, 6, 5, 4, 3, 2], "seven, oldest first");

        let many: Vec<_> = Provider::ALL
            .into_iter()
            .flat_map(|p| {
                (0..20).map(move |i| SweepCandidate { user: i, provider: p, overdue_s: i64::from(i), fetched_at: 0 })
            })
            .collect();
        let plan = sweep_plan(many);
        assert_eq!(plan.len(), SWEEP_READS_PER_RUN);
        assert!(plan.windows(2).all(|w| w[0].overdue_s >= w[1].overdue_s));
        for p in Provider::ALL {
            assert!(plan.iter().filter(|c| c.provider == p).count() <= sweep_reads_per_provider(p));
        }
    }
}
