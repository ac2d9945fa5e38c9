//! Bounded HTTP load with `wrk` (one thread, a few connections, a fixed duration) and the
//! figures read back from its report: latency percentiles, completed requests, bad answers.

use std::path::Path;
use std::process::Command;
use tributary_e2e::repo_root;

/// Connections kept open (closed loop: each waits for its answer before the next request).
pub const CONNECTIONS: u32 = 4;

/// What one `wrk` run measured.
#[derive(Debug, Clone, Copy)]
pub struct WrkRun {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub requests_per_s: f64,
}

/// A `wrk --latency` duration such as `812.00us`, `1.23ms`, `2.01s` in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        _ => return None,
    };
    Some(value * factor)
}

/// Reads `wrk --latency` output; an error when any answer was not 2xx/3xx or a socket failed.
pub fn parse(output: &str) -> Result<WrkRun, String> {
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut per_s = None;
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => p50 = millis(value),
            ["99%", value] => p99 = millis(value),
            [count, "requests", "in", ..] => requests = count.parse().ok(),
            ["Requests/sec:", value] => per_s = value.parse().ok(),
            ["Non-2xx", ..] | ["Socket", "errors:", ..] => return Err(format!("wrk saw failures: {line}")),
            _ => {}
        }
    }
    match (p50, p99, requests, per_s) {
        (Some(p50_ms), Some(p99_ms), Some(requests), Some(requests_per_s)) => {
            Ok(WrkRun { p50_ms, p99_ms, requests, requests_per_s })
        }
        _ => Err(format!("could not read wrk's report:\n{output}")),
    }
}

/// Runs `wrk` for `seconds` against `url` with `script` (under `bench/wrk/`) and its argument.
pub fn run(url: &str, seconds: u32, script: &str, argument: &Path) -> Result<WrkRun, String> {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s"), "--latency", "--timeout", "10s", "-s"])
        .arg(repo_root().join("bench/wrk").join(script))
        .arg(url)
        .arg("--")
        .arg(argument)
        .output()
        .map_err(|e| format!("run wrk (scripts/setup installs it): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr)));
    }
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_latency_reports_and_refuses_failed_runs() {
        let report = "Running 8s test @ http://127.0.0.1:1/api/portfolio\n  1 threads and 4 connections\n\
            \x20 Latency Distribution\n     50%  812.00us\n     75%    1.02ms\n     90%    1.50ms\n     99%    2.50s\n\
            \x20 4000 requests in 8.00s, 1.00MB read\nRequests/sec:    500.00\nTransfer/sec:    128.00KB\n";
        let run = parse(report).unwrap();
        assert_eq!((run.p50_ms, run.p99_ms, run.requests, run.requests_per_s), (0.812, 2500.0, 4000, 500.0));
        let failed = format!("{report}  Non-2xx or 3xx responses: 3\n");
        assert!(parse(&failed).is_err());
        assert!(parse("nothing").is_err());
    }
}
