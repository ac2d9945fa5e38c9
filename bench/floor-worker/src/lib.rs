//! The floor Tributary's worker overhead is measured against: the least a workers-rs worker can do
//! to answer the same requests from the same kind of D1.
//!
//! - `GET /api/portfolio` → one `SELECT` of a stored blob (the real worker's portfolio body), served
//!   as `application/json` — no session check, no merge.
//! - `POST /webhooks/snaptrade` → the body written as one row — no signature check, no dedup.
//! - `PUT /blob` → stores the blob the first route serves (set-up, not measured).

use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router};

const DB: &str = "DB";

async fn portfolio(_req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let row = ctx.env.d1(DB)?.prepare("SELECT body FROM blobs WHERE id = 1").first::<String>(Some("body")).await?;
    match row {
        Some(body) => {
            let mut response = Response::ok(body)?;
            response.headers_mut().set("content-type", "application/json")?;
            Ok(response)
        }
        None => Response::error("no blob stored", 404),
    }
}

async fn webhook(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let body = req.text().await?;
    let now = (worker::Date::now().as_millis() / 1000) as i64;
    ctx.env
        .d1(DB)?
        .prepare("INSERT INTO events (body, received_at) VALUES (?1, ?2)")
        .bind(&[body.into(), (now as f64).into()])?
        .run()
        .await?;
    let mut response = Response::ok(r#"{"received":true}"#)?;
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}

async fn store_blob(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let body = req.text().await?;
    ctx.env
        .d1(DB)?
        .prepare("INSERT INTO blobs (id, body) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET body = excluded.body")
        .bind(&[body.into()])?
        .run()
        .await?;
    Response::ok("stored")
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .get_async("/api/portfolio", portfolio)
        .post_async("/webhooks/snaptrade", webhook)
        .put_async("/blob", store_blob)
        .run(req, env)
        .await
}
