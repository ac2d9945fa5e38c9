//! The deploy, proven without a network: `wrangler deploy --dry-run` accepts the repository's
//! `wrangler.toml` and the built bundle, which stays under the Workers size limit, with every
//! binding the worker reads and no secret in the file.

use crate::support::{Ctx, TestResult};
use crate::trials;
use std::sync::Arc;
use tributary_e2e::{repo_root, wrangler};

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![deploy_dry_run_accepts_the_bundle_under_the_size_limit]
}

/// The compressed size Cloudflare accepts for a Worker on the free plan (the paid plan allows 10 MiB).
const FREE_PLAN_LIMIT_KIB: f64 = 3.0 * 1024.0;

/// `(total, gzip)` KiB from wrangler's `Total Upload: 1887.11 KiB / gzip: 715.12 KiB` line.
fn upload_sizes(output: &str) -> Option<(f64, f64)> {
    let line = output.lines().find(|l| l.contains("Total Upload:"))?;
    let numbers: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|p| !p.is_empty() && p.chars().any(|c| c.is_ascii_digit()))
        .filter_map(|p| p.parse().ok())
        .collect();
    match numbers[..] {
        [total, gzip] => Some((total, gzip)),
        _ => None,
    }
}

async fn deploy_dry_run_accepts_the_bundle_under_the_size_limit(_ctx: Arc<Ctx>) -> TestResult {
    let out = repo_root().join("target/deploy-dry-run");
    let _ = std::fs::remove_dir_all(&out);
    let run = tokio::task::spawn_blocking(move || {
        wrangler().args(["deploy", "--dry-run", "--outdir"]).arg(&out).output().map(|o| (o, out))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("run wrangler deploy --dry-run: {e}"))?;
    let (output, out) = run;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "wrangler deploy --dry-run failed:\n{text}");
    let (total, gzip) = upload_sizes(&text).unwrap_or_else(|| panic!("no upload size in:\n{text}"));
    assert!(gzip > 100.0 && gzip < FREE_PLAN_LIMIT_KIB, "gzip {gzip} KiB (limit {FREE_PLAN_LIMIT_KIB} KiB)");
    assert!(total > gzip, "{total} KiB raw");
    for binding in ["env.KV", "env.DB", "env.ENVIRONMENT"] {
        assert!(text.contains(binding), "binding {binding} in:\n{text}");
    }
    let files: Vec<String> = std::fs::read_dir(&out)
        .map_err(|e| e.to_string())?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f.ends_with(".wasm")) && files.iter().any(|f| f == "shim.js"), "{files:?}");
    let config = std::fs::read_to_string(repo_root().join("wrangler.toml")).map_err(|e| e.to_string())?;
    for secret in ["SESSION_SIGNING_KEY", "DATA_ENCRYPTION_KEY", "CONSUMER_KEY", "PLAID_SECRET", "CLIENT_SECRET"] {
        assert!(!config.lines().any(|l| l.trim_start().starts_with(secret)), "{secret} is a secret, never a var");
    }
    assert!(config.contains("[triggers]") && config.contains("crons"), "the cron trigger is deployed");
    println!("deploy dry run: {total:.2} KiB, {gzip:.2} KiB gzip");
    Ok(())
}
