//! Figure 4, browser merge: runs `bench/browser/merge.bench.mjs` (headless Chromium through
//! playwright-core) and reads its runs: the browser module's `mergePortfolios` (JS↔Wasm
//! conversion included) against the plain-JavaScript baseline, after checking both agree.

use crate::report::{Figure, Row};
use crate::stats::Summary;
use serde_json::Value;
use tributary_e2e::repo_root;

/// Runs per side and view.
const RUNS: usize = 21;

fn runs(view: &Value, side: &str) -> Result<Summary, String> {
    let values: Vec<f64> =
        view[side].as_array().ok_or_else(|| format!("no {side} runs"))?.iter().filter_map(Value::as_f64).collect();
    if values.is_empty() {
        return Err(format!("no {side} runs"));
    }
    Ok(Summary::of(&values))
}

/// Runs the Chromium script and turns its runs into the figure.
pub async fn run() -> Result<Figure, String> {
    let output = tokio::process::Command::new("node")
        .arg(repo_root().join("bench/browser/merge.bench.mjs"))
        .env("BENCH_MERGE_RUNS", RUNS.to_string())
        .current_dir(repo_root())
        .output()
        .await
        .map_err(|e| format!("run node: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let result: Value = serde_json::from_str(line).map_err(|_| {
        format!("merge.bench.mjs printed no result:\n{stdout}{}", String::from_utf8_lossy(&output.stderr))
    })?;
    if let Some(error) = result["error"].as_str() {
        return Err(format!("browser merge: {error}"));
    }
    let mut rows = Vec::new();
    let mut notes = vec![format!(
        "Input: {} positions from {} providers (the core knows two providers, snaptrade and plaid, so the issue's \
         \"3 providers\" is 2 here), generated deterministically by `bench/browser/generate.mjs` (seed 42); \
         {} bytes as JSON. Before timing, both sides' answers are checked identical (their JSON, byte for byte) \
         for both views. Runs alternate sides after 3 warm-up runs each; headless Chromium ({}).",
        result["positions"],
        result["providers"],
        result["views"]["consolidated"]["input_bytes"],
        result["user_agent"]
            .as_str()
            .and_then(|ua| ua.split(' ').find(|w| w.starts_with("HeadlessChrome")))
            .unwrap_or("?")
    )];
    for view in ["consolidated", "by_account"] {
        let data = &result["views"][view];
        let (wasm, js) = (runs(data, "wasm")?, runs(data, "js")?);
        let (stringify, from_string) = (runs(data, "stringify")?, runs(data, "wasm_from_string")?);
        let parse_answer = runs(data, "parse_answer")?;
        rows.push(Row::new(
            format!("`mergePortfolios` wasm, `{view}` view"),
            "ms",
            wasm,
            "plain JavaScript",
            js.median,
            Some(1.0),
        ));
        let inside = (from_string.median - parse_answer.median).max(0.0);
        notes.push(format!(
            "`{view}` — where the wasm call's time goes (medians): `JSON.stringify` of the input {:.1} ms, \
             `JSON.parse` of the {} byte answer {:.1} ms, inside wasm (serde parse, merge, serialise) {:.1} ms; \
             the boundary's JavaScript half alone is {:.0} % of the plain-JavaScript merge's time.",
            stringify.median,
            data["output_bytes"],
            parse_answer.median,
            inside,
            100.0 * (stringify.median + parse_answer.median) / js.median,
        ));
    }
    Ok(Figure { id: "browser_merge", title: "4. Browser merge", rows, notes })
}
