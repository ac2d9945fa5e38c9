//! Latency is counted in fixed buckets, so a day's calls are a handful of counters rather than a
//! row per call. A percentile read from them is the upper bound of the bucket holding that rank:
//! an approximation to the bucket bounds, never an exact figure (the API says so).

/// The upper bound (inclusive, milliseconds) of each bucket. The last one also holds anything
/// slower: no attempt may run longer than `PROVIDER_TIMEOUT_MS` allows (at most 60 000).
pub const LATENCY_BUCKET_BOUNDS_MS: [u64; 10] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000];

/// How many buckets there are.
pub const LATENCY_BUCKETS: usize = LATENCY_BUCKET_BOUNDS_MS.len();

/// The bucket a latency is counted in.
pub fn bucket_of(latency_ms: u64) -> usize {
    LATENCY_BUCKET_BOUNDS_MS.iter().position(|bound| latency_ms <= *bound).unwrap_or(LATENCY_BUCKETS - 1)
}

/// The `percent`-th percentile (1–100) of the counted latencies, as the upper bound of the bucket
/// holding that rank (nearest-rank); `None` when nothing was counted.
pub fn percentile_ms(counts: &[u64; LATENCY_BUCKETS], percent: u32) -> Option<u64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let percent = u64::from(percent.clamp(1, 100));
    // Nearest rank: the smallest rank r with r >= percent% of total (1-based).
    let rank = (total * percent).div_ceil(100).max(1);
    let mut seen = 0;
    for (i, count) in counts.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return Some(LATENCY_BUCKET_BOUNDS_MS[i]);
        }
    }
    Some(LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKETS - 1])
}
