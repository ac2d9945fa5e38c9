//! `/api/plaid/*`: hosted link (new Items, or update mode to repair one), the public-token
//! exchange, holdings, the repair check after update mode, and Item removal. Every route needs a
//! session and only ever touches the session user's Items.

use crate::api::{json, read_json, ApiError, ApiResult};
use crate::auth::authenticate;
use crate::services::plaid::{create_link, exchange as exchange_token, remove_item, Linked};
use crate::services::plaid_repair::{create_repair_link, repair as repair_item, ReadAfterRepair, RepairOutcome};
use crate::store::items::ItemRow;
use serde::Deserialize;
use serde_json::json;
use tributary_core::institutions::resolve_field;
use tributary_core::plaid::{link_intent, LinkIntent, RepairError};
use tributary_core::{ErrorCode, Provider, ValidationError};
use worker::{Request, RouteContext};

const P: Provider = Provider::Plaid;

/// 409 with the Item the user already has for this institution (nothing new was created or billed).
pub fn already_linked(item: &ItemRow) -> ApiResult {
    let existing = serde_json::to_value(item).map_err(|e| ApiError::internal("serialise item", e))?;
    crate::routes::connections::already_connected(P, item.display_name(), &existing)
}

/// Where Plaid should send this deployment's webhooks: `/webhooks/plaid` on the request's origin.
pub fn webhook_url(req: &Request) -> Result<String, ApiError> {
    Ok(format!("{}/webhooks/plaid", crate::api::origin(req)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    institution: Option<String>,
    redirect: Option<String>,
    /// The id of the user's Item to repair in update mode (never with `institution`).
    repair: Option<String>,
}

/// `POST /api/plaid/link {institution?, redirect}` → `{hosted_link_url, link_token}`;
/// `{repair: "<item id>", redirect}` → `{hosted_link_url, link_token, mode: "update"}`.
pub async fn link(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: LinkRequest = read_json(&mut req).await?;
    let intent = link_intent(body.institution.as_deref(), body.repair.as_deref())?;
    let redirect = body.redirect.as_deref().ok_or(ValidationError::Empty { field: "redirect" })?;
    let redirect = crate::api::pinned_redirect(&req, &session.config, redirect)?;
    let institution = match intent {
        LinkIntent::Repair { item_id } => {
            let link = create_repair_link(&ctx.env, &session, item_id, &redirect).await?;
            let body =
                json!({ "hosted_link_url": link.hosted_link_url, "link_token": link.link_token, "mode": "update" });
            return json(200, &body);
        }
        LinkIntent::Create { institution } => institution,
    };
    let slug = resolve_field(institution)?;
    let webhook = webhook_url(&req)?;
    match create_link(&ctx.env, &session, slug.as_ref(), &redirect, Some(&webhook)).await? {
        Linked::Done(link) => {
            json(200, &json!({ "hosted_link_url": link.hosted_link_url, "link_token": link.link_token }))
        }
        Linked::AlreadyLinked(item) => already_linked(&item),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeRequest {
    public_token: Option<String>,
    /// The institution the user picked, when the app knows it: lets a duplicate be refused before
    /// an Item is created.
    institution: Option<String>,
}

/// `POST /api/plaid/exchange {public_token, institution?}` → the stored Item (201), 409 with the existing
/// one, or 404 `public_token_unknown` when no Link session the user started produced the token.
pub async fn exchange(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: ExchangeRequest = read_json(&mut req).await?;
    let token = body.public_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let token = token.ok_or(ValidationError::Empty { field: "public_token" })?;
    if token.len() > 200 {
        return Err(ValidationError::TooLong { field: "public_token", max: 200 }.into());
    }
    let slug = resolve_field(body.institution.as_deref())?;
    match exchange_token(&ctx.env, &session, token, slug.as_ref()).await? {
        Linked::Done(stored) => {
            json(201, &json!({ "item": stored.item, "accounts": stored.accounts, "positions": stored.positions }))
        }
        Linked::AlreadyLinked(item) => already_linked(&item),
    }
}

/// `POST /api/plaid/items/{id}/repair` (after the update-mode popup): no exchange; Plaid's
/// `/item/get` decides. 200 `{item, repaired: true, accounts, positions}` (or `holdings_error`
/// when the read after the repair failed), 409 `plaid_item_still_broken` naming Plaid's
/// `plaid_error_code` (the flag stays), 404 for an Item that is not the user's.
pub async fn repair(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let id = ctx.param("id").map(String::as_str).unwrap_or_default().to_owned();
    match repair_item(&ctx.env, &session, &id).await? {
        RepairOutcome::Repaired { item, read } => {
            let mut body = json!({ "item": item, "repaired": true });
            match read {
                ReadAfterRepair::Read { accounts, positions } => {
                    body["accounts"] = json!(accounts);
                    body["positions"] = json!(positions);
                }
                ReadAfterRepair::Failed(error) => body["holdings_error"] = json!(error.failure()),
            }
            json(200, &body)
        }
        RepairOutcome::StillBroken { error_code } => {
            let refusal = RepairError::ItemStillBroken { error_code: error_code.clone() };
            let error =
                json!({ "code": refusal.code(), "message": refusal.to_string(), "plaid_error_code": error_code });
            json(refusal.http_status(), &json!({ "error": error }))
        }
    }
}

/// `GET /api/plaid/items`: the user's Items (never their tokens).
pub async fn list_items(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let items = crate::store::items::list(&ctx.env, &session.claims.user_id, P).await?;
    let connections = crate::store::connections::list(&ctx.env, &session.claims.user_id, P).await?;
    json(200, &json!({ "items": items, "connections": connections }))
}

/// `DELETE /api/plaid/items/{id}?dry_run=true|false`: exact Item id of the user; `dry_run` is required.
pub async fn remove(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let id = ctx.param("id").map(String::as_str).unwrap_or_default().to_owned();
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    let dry_run = match url.query_pairs().find(|(k, _)| k == "dry_run").map(|(_, v)| v.into_owned()).as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(ValidationError::BadCharacters { field: "dry_run", allowed: "true or false (required)" }.into())
        }
    };
    let removal = remove_item(&ctx.env, &session, &id, dry_run).await?;
    json(
        200,
        &json!({
            "dry_run": dry_run,
            "removed": !dry_run,
            "item": removal.item,
            "accounts": removal.accounts,
            "positions": removal.positions,
            "balances": removal.balances,
        }),
    )
}
