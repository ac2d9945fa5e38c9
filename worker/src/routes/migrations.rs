//! `POST /api/migrations` (a dry run by default; an execute with the dry run's `confirm`) and
//! `GET /api/migrations/{id}` (an executed migration's report, its owner's only). Parsing and
//! rendering only: the rules are the core's (`tributary_core::migration`), the steps the service's.

use crate::api::{json, read_json, ApiError, ApiResult};
use crate::auth::authenticate;
use crate::services::migrations::{self, Outcome};
use serde_json::json;
use tributary_core::migration::{parse_request, MigrationBody, MigrationError, MigrationStatus, MigrationStep};
use worker::{Request, RouteContext};

/// `POST /api/migrations` → 200 a dry run, 200 `{migration}` for a completed execute, or the
/// refusal (400/409) or failed step (502, 409 for `verify`) with `error.details`.
pub async fn create(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: MigrationBody = read_json(&mut req).await?;
    let request = parse_request(body)?;
    match migrations::migrate(&ctx.env, &session, request).await? {
        Outcome::DryRun(plan) => json(200, &plan),
        Outcome::Executed(report) if report.status == MigrationStatus::Completed => {
            json(200, &json!({ "migration": report }))
        }
        Outcome::Executed(report) => {
            let step = report.failed_step.unwrap_or(MigrationStep::Remove);
            let error = MigrationError::StepFailed { step, old_connection_removed: report.old_connection_removed };
            Err(ApiError::from(error).with_details(json!({ "migration": report })))
        }
    }
}

/// `GET /api/migrations/{id}` → `{migration}`; another user's or an unknown id → 404 `migration_not_found`.
pub async fn get(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let id = ctx.param("id").map(String::as_str).unwrap_or_default();
    json(200, &json!({ "migration": migrations::report(&ctx.env, &session, id).await? }))
}
