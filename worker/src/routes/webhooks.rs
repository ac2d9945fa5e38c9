//! `POST /webhooks/*`: provider webhooks. Verification fails closed: without the provider's
//! verification key the endpoint answers 503 and changes nothing; an invalid webhook is refused
//! with a JSON error and changes nothing.

use crate::api::{now_unix, read_bytes, ApiError, ApiResult};
use crate::env::load_config;
use crate::services::webhooks::apply_snaptrade;
use serde_json::json;
use tributary_core::snaptrade::verify_webhook_for_client;
use tributary_core::webhook::WebhookError;
use tributary_core::{ErrorCode, Provider};
use worker::{Request, RouteContext};

/// Largest webhook body accepted (SnapTrade and Plaid events are a few hundred bytes).
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

fn rejected(provider: Provider, error: WebhookError) -> ApiError {
    worker::console_warn!(
        "{}",
        json!({"level": "warn", "event": "webhook_rejected", "provider": provider.as_str(), "code": error.code()})
    );
    error.into()
}

/// `POST /webhooks/snaptrade`: verifies `Signature`, then records and applies the event.
pub async fn snaptrade(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    const P: Provider = Provider::SnapTrade;
    let raw = read_bytes(&mut req, MAX_WEBHOOK_BYTES)
        .await
        .map_err(|_| rejected(P, WebhookError::TooLarge { max_bytes: MAX_WEBHOOK_BYTES }))?;
    let config = load_config(&ctx.env).map_err(|_| rejected(P, WebhookError::NotConfigured))?;
    let provider = config.provider(P).ok_or_else(|| rejected(P, WebhookError::NotConfigured))?;
    let signature = req.headers().get("Signature").ok().flatten().unwrap_or_default();
    let now = now_unix();
    let webhook = verify_webhook_for_client(&provider.secret, &provider.client_id, &raw, &signature, now)
        .map_err(|e| rejected(P, e))?;
    apply_snaptrade(&ctx.env, &webhook, now).await
}
