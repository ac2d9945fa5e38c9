//! The npm package's typings, as a TypeScript app sees them: `tests/package-consumers/strict.ts`
//! (every export used with its documented types) compiles under `tsc --strict`
//! (`exactOptionalPropertyTypes` and `noUnusedLocals` too), and a misuse does not — so the check
//! can fail.

use crate::support::{Ctx, TestResult};
use crate::trials;
use std::sync::Arc;
use tributary_e2e::repo_root;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![npm_package_typings_compile_under_tsc_strict_and_refuse_a_misuse]
}

fn tsc(project: &std::path::Path) -> Result<(bool, String), String> {
    let output = std::process::Command::new(repo_root().join("node_modules/.bin/tsc"))
        .arg("-p")
        .arg(project)
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("run tsc: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Ok((output.status.success(), text))
}

async fn npm_package_typings_compile_under_tsc_strict_and_refuse_a_misuse(_ctx: Arc<Ctx>) -> TestResult {
    let consumers = repo_root().join("tests/package-consumers");
    let (ok, text) = tokio::task::spawn_blocking({
        let project = consumers.join("tsconfig.json");
        move || tsc(&project)
    })
    .await
    .map_err(|e| e.to_string())??;
    assert!(ok, "the package's typings do not compile under --strict:\n{text}");

    // The same settings on a misuse: a provider that does not exist, a result read as the wrong type.
    let work = repo_root().join("target/package-consumers");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    std::fs::write(
        work.join("misuse.ts"),
        "import { TributaryClient } from \"@tributary/client\";\n\
         export async function wrong(client: TributaryClient): Promise<number> {\n\
           const result = await client.refresh({ providers: [\"not_a_provider\"] });\n\
           return result;\n\
         }\n",
    )
    .map_err(|e| e.to_string())?;
    let config = std::fs::read_to_string(consumers.join("tsconfig.json")).map_err(|e| e.to_string())?;
    // target/package-consumers sits as deep as tests/package-consumers: the paths hold as written.
    let config = config.replace("\"files\": [\"strict.ts\"]", "\"files\": [\"misuse.ts\"]");
    std::fs::write(work.join("tsconfig.json"), config).map_err(|e| e.to_string())?;
    let (ok, text) = tokio::task::spawn_blocking({
        let project = work.join("tsconfig.json");
        move || tsc(&project)
    })
    .await
    .map_err(|e| e.to_string())??;
    assert!(!ok, "a misuse compiled:\n{text}");
    assert!(text.contains("not_a_provider") || text.contains("TS2322"), "refused for its types:\n{text}");
    Ok(())
}
