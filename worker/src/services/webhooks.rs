//! Carrying out verified webhooks: record the event once (a replayed id changes nothing), find
//! our user, and apply the core's effect (pending flag, repair state, removed rows) in one batch
//! together with the event record.

use crate::api::{json, ApiResult};
use crate::store::{self, connections, pending, provider_users, webhooks};
use serde_json::json;
use tributary_core::snaptrade::{webhook_effect, SnapTradeWebhook, WebhookEffect};
use tributary_core::{Provider, UserId};
use worker::Env;

fn log(fields: serde_json::Value) {
    worker::console_log!("{}", fields);
}

/// A verified event, ready to be recorded and applied.
pub struct Verified<'a> {
    pub provider: Provider,
    pub webhook_id: &'a str,
    pub event_type: &'a str,
    pub user: Option<UserId>,
    pub effect: WebhookEffect,
    /// What to keep of the event (never a secret).
    pub payload: String,
}

/// Applies a verified SnapTrade webhook and answers 200 (SnapTrade retries anything else).
pub async fn apply_snaptrade(env: &Env, webhook: &SnapTradeWebhook, now: i64) -> ApiResult {
    let user = provider_users::owner(env, Provider::SnapTrade, &webhook.user_id).await?;
    let verified = Verified {
        provider: Provider::SnapTrade,
        webhook_id: &webhook.webhook_id,
        event_type: webhook.event_type.as_str(),
        user,
        effect: webhook_effect(webhook),
        payload: serde_json::to_string(webhook).unwrap_or_default(),
    };
    apply(env, verified, now).await
}

/// Records a verified event once and applies its effect in the same batch; a duplicate id is
/// acknowledged with 200 and changes nothing.
pub async fn apply(env: &Env, event: Verified<'_>, now: i64) -> ApiResult {
    let (provider, webhook_id, event_type) = (event.provider, event.webhook_id, event.event_type);
    if webhooks::seen(env, provider, webhook_id).await? {
        log(
            json!({"level": "info", "event": "webhook_duplicate", "provider": provider.as_str(), "event_type": event_type, "webhook_id": webhook_id}),
        );
        return json(200, &json!({ "received": true, "duplicate": true }));
    }
    let mut batch = Vec::new();
    let outcome = match (&event.user, &event.effect) {
        (None, _) => "unknown_user",
        (Some(user), WebhookEffect::SetPending) => {
            batch.push(pending::raise_statement(env, user, provider, webhook_id, now)?);
            "pending_raised"
        }
        (Some(user), WebhookEffect::NeedsRepair { authorization_id }) => {
            batch.push(connections::repair_statement(
                env,
                user,
                provider,
                authorization_id,
                true,
                Some(event_type),
                now,
            )?);
            "needs_repair"
        }
        (Some(user), WebhookEffect::Repaired { authorization_id }) => {
            batch.push(connections::repair_statement(env, user, provider, authorization_id, false, None, now)?);
            "repaired"
        }
        (Some(user), WebhookEffect::RemoveConnection { authorization_id }) => {
            batch.extend(connections::remove_statements(env, user, provider, authorization_id)?);
            "connection_removed"
        }
        (Some(user), WebhookEffect::RemoveAccount { account_id }) => {
            batch.extend(connections::remove_account_statements(env, user, provider, account_id)?);
            "account_removed"
        }
        (Some(_), WebhookEffect::Acknowledge { .. }) => "acknowledged",
    };
    batch.push(webhooks::record_statement(
        env,
        &webhooks::Event {
            provider,
            webhook_id,
            event_type,
            user: event.user.as_ref(),
            outcome,
            payload: event.payload,
            received_at: now,
        },
    )?);
    store::db(env)?.batch(batch).await?;
    log(
        json!({"level": "info", "event": "webhook_applied", "provider": provider.as_str(), "event_type": event_type, "outcome": outcome, "webhook_id": webhook_id}),
    );
    json(200, &json!({ "received": true, "duplicate": false, "outcome": outcome }))
}
