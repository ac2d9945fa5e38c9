//! `POST /webhooks/*`: provider webhooks. Verification fails closed: without the provider's
//! verification key the endpoint answers 503 and changes nothing; an invalid webhook is refused
//! with a JSON error and changes nothing.

use crate::api::{now_unix, read_bytes, ApiError, ApiResult};
use crate::env::load_config;
use crate::providers::plaid::PlaidClient;
use crate::services::webhooks::{apply, apply_snaptrade, Verified};
use serde_json::json;
use tributary_core::plaid::{
    parse_webhook, verify_webhook, webhook_delivery_id, webhook_effect as plaid_effect, webhook_key_id, Jwk,
};
use tributary_core::snaptrade::verify_webhook_for_client;
use tributary_core::webhook::WebhookError;
use tributary_core::{ErrorCode, Provider};
use worker::{Request, RouteContext};

/// Largest webhook body accepted (SnapTrade and Plaid events are a few hundred bytes).
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

fn rejected(provider: Provider, error: WebhookError) -> ApiError {
    crate::calls::record_webhook(provider, tributary_core::ops::metrics::WebhookOutcome::Rejected);
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

/// How long a Plaid verification key without `expired_at` is cached in KV.
const JWK_CACHE_TTL_S: u64 = 24 * 3600;

/// The JWK for `kid`: from KV while cached (never past its `expired_at`), else from Plaid.
async fn plaid_key(env: &worker::Env, client: &PlaidClient<'_>, kid: &str, now: i64) -> Result<Jwk, WebhookError> {
    let key = format!("plaid:jwk:{kid}");
    let kv = env.kv(crate::store::KV).ok();
    if let Some(kv) = &kv {
        if let Ok(Some(text)) = kv.get(&key).text().await {
            if let Ok(jwk) = serde_json::from_str::<Jwk>(&text) {
                if jwk.expired_at.is_none_or(|at| at > now) {
                    return Ok(jwk);
                }
            }
        }
    }
    let jwk = client.verification_key(kid).await.map_err(|_| WebhookError::UnknownKey(kid.to_owned()))?;
    let ttl = match jwk.expired_at {
        Some(at) if at <= now => return Err(WebhookError::KeyExpired),
        Some(at) => ((at - now) as u64).clamp(60, JWK_CACHE_TTL_S),
        None => JWK_CACHE_TTL_S,
    };
    if let (Some(kv), Ok(text)) = (kv, serde_json::to_string(&jwk)) {
        if let Ok(put) = kv.put(&key, text) {
            let _ = put.expiration_ttl(ttl).execute().await;
        }
    }
    Ok(jwk)
}

/// `POST /webhooks/plaid`: verifies the `Plaid-Verification` ES256 JWT against Plaid's key for its
/// `kid`, then records and applies the event.
pub async fn plaid(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    const P: Provider = Provider::Plaid;
    let raw = read_bytes(&mut req, MAX_WEBHOOK_BYTES)
        .await
        .map_err(|_| rejected(P, WebhookError::TooLarge { max_bytes: MAX_WEBHOOK_BYTES }))?;
    let config = load_config(&ctx.env).map_err(|_| rejected(P, WebhookError::NotConfigured))?;
    let provider = config.provider(P).ok_or_else(|| rejected(P, WebhookError::NotConfigured))?;
    let client = PlaidClient::new(provider, std::time::Duration::from_millis(config.provider_timeout_ms));
    let token = req.headers().get("Plaid-Verification").ok().flatten().unwrap_or_default();
    if token.trim().is_empty() {
        return Err(rejected(P, WebhookError::MissingSignature));
    }
    let now = now_unix();
    let kid = webhook_key_id(&token).map_err(|e| rejected(P, e))?;
    let jwk = plaid_key(&ctx.env, &client, &kid, now).await.map_err(|e| rejected(P, e))?;
    verify_webhook(&token, &jwk, &raw, now).map_err(|e| rejected(P, e))?;
    let webhook = parse_webhook(&raw).map_err(|e| rejected(P, e))?;
    let user = match &webhook.item_id {
        Some(item) => crate::store::items::owner(&ctx.env, P, item).await?,
        None => None,
    };
    let event_type = webhook.event.name();
    let delivery = webhook_delivery_id(&token);
    let payload = json!({"event": event_type, "item_id": webhook.item_id}).to_string();
    let verified = Verified {
        provider: P,
        webhook_id: &delivery,
        event_type: &event_type,
        user,
        effect: plaid_effect(&webhook),
        payload,
    };
    apply(&ctx.env, verified, now).await
}
