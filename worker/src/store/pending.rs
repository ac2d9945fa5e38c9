//! The `pending_updates` table: per (user, provider), whether a verified webhook announced new
//! data that has not been refreshed yet. Reading it is one D1 query, never a provider call.

use super::{query_all, DbResult};
use serde::Deserialize;
use tributary_core::{Provider, UserId};
use worker::Env;

#[derive(Deserialize)]
struct Row {
    provider: String,
    pending: i64,
}

/// The providers with an update pending for `user`.
pub async fn pending_providers(env: &Env, user: &UserId) -> DbResult<Vec<Provider>> {
    let rows: Vec<Row> =
        query_all(env, "SELECT provider, pending FROM pending_updates WHERE user_id = ?1", &[user.as_str().into()])
            .await?;
    Ok(rows.into_iter().filter(|r| r.pending != 0).filter_map(|r| Provider::parse(&r.provider).ok()).collect())
}
