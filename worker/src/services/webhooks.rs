//! Carrying out verified webhooks: record the event once (a replayed id changes nothing), find
//! our user, and apply the core's effect (pending flag, repair state, removed rows) in one batch
//! together with the event record.

use crate::api::{json, ApiResult};
use crate::store::{self, connections, pending, provider_users, webhooks};
use serde_json::json;
use tributary_core::snaptrade::{webhook_effect, SnapTradeWebhook, WebhookEffect};
use tributary_core::Provider;
use worker::Env;

const P: Provider = Provider::SnapTrade;

fn log(fields: serde_json::Value) {
    worker::console_log!("{}", fields);
}

/// Applies a verified SnapTrade webhook and answers 200 (SnapTrade retries anything else).
pub async fn apply_snaptrade(env: &Env, webhook: &SnapTradeWebhook, now: i64) -> ApiResult {
    let event_type = webhook.event_type.as_str().to_owned();
    if webhooks::seen(env, P, &webhook.webhook_id).await? {
        log(
            json!({"level": "info", "event": "webhook_duplicate", "provider": "snaptrade", "event_type": event_type, "webhook_id": webhook.webhook_id}),
        );
        return json(200, &json!({ "received": true, "duplicate": true }));
    }
    let user = provider_users::owner(env, P, &webhook.user_id).await?;
    let effect = webhook_effect(webhook);
    let mut batch = Vec::new();
    let outcome = match (&user, &effect) {
        (None, _) => "unknown_user",
        (Some(user), WebhookEffect::SetPending) => {
            batch.push(pending::raise_statement(env, user, P, &webhook.webhook_id, now)?);
            "pending_raised"
        }
        (Some(user), WebhookEffect::NeedsRepair { authorization_id }) => {
            batch.push(connections::repair_statement(env, user, P, authorization_id, true, Some(&event_type), now)?);
            "needs_repair"
        }
        (Some(user), WebhookEffect::Repaired { authorization_id }) => {
            batch.push(connections::repair_statement(env, user, P, authorization_id, false, None, now)?);
            "repaired"
        }
        (Some(user), WebhookEffect::RemoveConnection { authorization_id }) => {
            batch.extend(connections::remove_statements(env, user, P, authorization_id)?);
            "connection_removed"
        }
        (Some(user), WebhookEffect::RemoveAccount { account_id }) => {
            batch.extend(connections::remove_account_statements(env, user, P, account_id)?);
            "account_removed"
        }
        (Some(_), WebhookEffect::Acknowledge { .. }) => "acknowledged",
    };
    let payload = serde_json::to_string(webhook).unwrap_or_default();
    batch.push(webhooks::record_statement(
        env,
        &webhooks::Event {
            provider: P,
            webhook_id: &webhook.webhook_id,
            event_type: &event_type,
            user: user.as_ref(),
            outcome,
            payload,
            received_at: now,
        },
    )?);
    store::db(env)?.batch(batch).await?;
    log(
        json!({"level": "info", "event": "webhook_applied", "provider": "snaptrade", "event_type": event_type, "outcome": outcome, "webhook_id": webhook.webhook_id}),
    );
    json(200, &json!({ "received": true, "duplicate": false, "outcome": outcome }))
}
