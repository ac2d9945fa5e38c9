//! Carrying out verified webhooks: record the event once (a replayed id changes nothing), find
//! our user, and apply the core's effect (holdings or transactions pending flag, repair state,
//! removed rows) in one batch
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
/// Whether the id was seen and whose user it is are asked of D1 at once (one round trip, not two).
pub async fn apply_snaptrade(env: &Env, webhook: &SnapTradeWebhook, now: i64) -> ApiResult {
    let (seen, user) = futures_util::try_join!(
        webhooks::seen(env, Provider::SnapTrade, &webhook.webhook_id),
        provider_users::owner(env, Provider::SnapTrade, &webhook.user_id),
    )?;
    if seen {
        return duplicate(Provider::SnapTrade, &webhook.webhook_id, webhook.event_type.as_str());
    }
    let verified = Verified {
        provider: Provider::SnapTrade,
        webhook_id: &webhook.webhook_id,
        event_type: webhook.event_type.as_str(),
        user,
        effect: webhook_effect(webhook),
        payload: serde_json::to_string(webhook).unwrap_or_default(),
    };
    apply_unseen(env, verified, now).await
}

fn duplicate(provider: Provider, webhook_id: &str, event_type: &str) -> ApiResult {
    log(
        json!({"level": "info", "event": "webhook_duplicate", "provider": provider.as_str(), "event_type": event_type, "webhook_id": webhook_id}),
    );
    crate::calls::record_webhook(provider, tributary_core::ops::metrics::WebhookOutcome::Duplicate);
    json(200, &json!({ "received": true, "duplicate": true }))
}

/// Records a verified event once and applies its effect in the same batch; a duplicate id is
/// acknowledged with 200 and changes nothing.
pub async fn apply(env: &Env, event: Verified<'_>, now: i64) -> ApiResult {
    if webhooks::seen(env, event.provider, event.webhook_id).await? {
        return duplicate(event.provider, event.webhook_id, event.event_type);
    }
    apply_unseen(env, event, now).await
}

/// [`apply`] for an event whose id D1 has not seen: the effect and the event record in one batch.
/// Every effect is idempotent, so a concurrent delivery of the same id that passed the check too
/// sets the same state again (its record is dropped on the `(provider, webhook_id)` key).
async fn apply_unseen(env: &Env, event: Verified<'_>, now: i64) -> ApiResult {
    let (provider, webhook_id, event_type) = (event.provider, event.webhook_id, event.event_type);
    let mut batch = Vec::new();
    let outcome = match (&event.user, &event.effect) {
        (None, _) => "unknown_user",
        (Some(user), WebhookEffect::SetPending) => {
            batch.push(pending::raise_statement(env, user, provider, webhook_id, now)?);
            "pending_raised"
        }
        (Some(user), WebhookEffect::SetTransactionsPending) => {
            batch.push(store::transactions::raise_pending_statement(env, user, provider, webhook_id, now)?);
            "transactions_pending_raised"
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
    crate::calls::record_webhook(provider, tributary_core::ops::metrics::WebhookOutcome::Received);
    log(
        json!({"level": "info", "event": "webhook_applied", "provider": provider.as_str(), "event_type": event_type, "outcome": outcome, "webhook_id": webhook_id}),
    );
    json(200, &json!({ "received": true, "duplicate": false, "outcome": outcome }))
}
