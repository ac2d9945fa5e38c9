//! `GET /api/ops/metrics?from&to`: the operator's view. Operator only: the `OPERATOR_TOKEN`
//! secret as the bearer, or a session whose `role` claim is `operator` (the core's
//! `ops::operator` rules); a user's session is refused with 403 `operator_only`.

use crate::api::{json, now_unix, ApiError, ApiResult};
use crate::clock;
use crate::env::load_config;
use crate::services::ops;
use tributary_core::ops::metrics::MetricsRange;
use tributary_core::ops::operator::{authorize_operator, Operator};
use tributary_core::session::{bearer_token, verify_session_token};
use tributary_core::time::Date;
use worker::{Request, RouteContext};

/// `GET /api/ops/metrics` → [`ops::OpsMetrics`]; `from`/`to` are `YYYY-MM-DD` (UTC, both
/// included; `to` defaults to today on the operator's clock, `from` to six days before `to`).
pub async fn metrics(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let config = load_config(&ctx.env)?;
    let header = req.headers().get("authorization").ok().flatten();
    let token = bearer_token(header.as_deref())?;
    let configured = config.operator_token.as_ref().map(|t| t.expose());
    let operator = authorize_operator(token, configured, |t| verify_session_token(t, &config.session_key, now_unix()))?;
    let now = match &operator {
        Operator::Token => now_unix(),
        Operator::Session(user) => clock::for_user(&ctx.env, user).await.now(),
    };
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let range = MetricsRange::parse(param("from").as_deref(), param("to").as_deref(), Date::from_unix(now))?;
    let metrics = ops::metrics(&ctx.env, &config, range, now).await?;
    json(200, &metrics)
}
