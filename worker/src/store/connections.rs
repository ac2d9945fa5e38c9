//! The `connections` table: one row per provider connection (SnapTrade authorization, Plaid Item).

use super::{db, query_all, query_first, DbResult};
use serde::{Deserialize, Serialize};
use tributary_core::capabilities::ConnectionType;
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// What a provider says about a connection, ready to store.
pub struct ConnectionRecord {
    pub external_id: String,
    pub institution_slug: Option<String>,
    pub institution_name: Option<String>,
    pub connection_type: &'static str,
    pub disabled: bool,
    pub disabled_date: Option<String>,
}

impl From<&tributary_core::snaptrade::Authorization> for ConnectionRecord {
    fn from(auth: &tributary_core::snaptrade::Authorization) -> Self {
        Self {
            external_id: auth.external_id.clone(),
            institution_slug: auth.institution_slug.as_ref().map(|s| s.as_str().to_owned()),
            institution_name: auth.institution_name.clone(),
            connection_type: auth.connection_type.as_str(),
            disabled: auth.disabled,
            disabled_date: auth.disabled_date.clone(),
        }
    }
}

/// A stored connection as the API shows it: read from D1 as typed values (the provider and
/// connection type parsed by the core, SQLite's 0/1 read as booleans) and answered with JSON
/// booleans.
#[derive(Debug, Serialize, Deserialize)]
pub struct ConnectionRow {
    pub id: String,
    pub provider: Provider,
    pub external_id: String,
    pub institution_slug: Option<String>,
    pub institution_name: Option<String>,
    #[serde(rename(serialize = "type"))]
    pub connection_type: ConnectionType,
    #[serde(deserialize_with = "sqlite_bool")]
    pub disabled: bool,
    pub disabled_date: Option<String>,
    #[serde(deserialize_with = "sqlite_bool")]
    pub needs_repair: bool,
    pub repair_reason: Option<String>,
    pub updated_at: i64,
}

/// SQLite's boolean (an INTEGER 0/1, or a JSON boolean) as a `bool`.
fn sqlite_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Flag(bool),
        Number(f64),
    }
    Ok(match Stored::deserialize(deserializer)? {
        Stored::Flag(flag) => flag,
        Stored::Number(n) => n != 0.0,
    })
}

/// Our id of a provider's connection.
pub fn connection_id(provider: Provider, external_id: &str) -> String {
    format!("{}:{external_id}", provider.as_str())
}

/// An upsert of `record` for `user`, to run alone or inside a batch.
pub fn upsert_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    record: &ConnectionRecord,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    let args: [JsValue; 10] = [
        connection_id(provider, &record.external_id).into(),
        user.as_str().into(),
        provider.as_str().into(),
        record.external_id.as_str().into(),
        record.institution_slug.as_deref().map_or(JsValue::NULL, JsValue::from),
        record.institution_name.as_deref().map_or(JsValue::NULL, JsValue::from),
        record.connection_type.into(),
        (if record.disabled { 1.0 } else { 0.0 }).into(),
        record.disabled_date.as_deref().map_or(JsValue::NULL, JsValue::from),
        (now as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO connections (id, user_id, provider, external_id, institution_slug, institution_name, connection_type,
                                      disabled, disabled_date, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT (id) DO UPDATE SET
               institution_slug = COALESCE(excluded.institution_slug, institution_slug),
               institution_name = COALESCE(excluded.institution_name, institution_name),
               connection_type = excluded.connection_type, disabled = excluded.disabled,
               disabled_date = excluded.disabled_date, updated_at = excluded.updated_at
             WHERE connections.user_id = excluded.user_id",
        )
        .bind(&args)
}

/// A placeholder row for a connection first seen through one of its accounts (keeps known fields).
pub fn ensure_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    external_id: &str,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    let args: [JsValue; 5] = [
        connection_id(provider, external_id).into(),
        user.as_str().into(),
        provider.as_str().into(),
        external_id.into(),
        (now as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO connections (id, user_id, provider, external_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&args)
}

/// The user's connections at `provider`, oldest first.
pub async fn list(env: &Env, user: &UserId, provider: Provider) -> DbResult<Vec<ConnectionRow>> {
    query_all(
        env,
        "SELECT id, provider, external_id, institution_slug, institution_name, connection_type, disabled, disabled_date,
                needs_repair, repair_reason, updated_at
         FROM connections WHERE user_id = ?1 AND provider = ?2 ORDER BY created_at, id",
        &[user.as_str().into(), provider.as_str().into()],
    )
    .await
}

/// Every connection of the user, at every provider, oldest first.
pub async fn list_all(env: &Env, user: &UserId) -> DbResult<Vec<ConnectionRow>> {
    query_all(
        env,
        "SELECT id, provider, external_id, institution_slug, institution_name, connection_type, disabled, disabled_date,
                needs_repair, repair_reason, updated_at
         FROM connections WHERE user_id = ?1 ORDER BY created_at, id",
        &[user.as_str().into()],
    )
    .await
}

/// One cached account of the user: the connection it came through (our id) and its provider id.
#[derive(Debug, Deserialize)]
pub struct ConnectionAccount {
    pub connection_id: String,
    pub account_id: String,
}

/// Every cached account of the user with its connection, in a stable order.
pub async fn accounts_by_connection(env: &Env, user: &UserId) -> DbResult<Vec<ConnectionAccount>> {
    query_all(
        env,
        "SELECT connection_id, external_id AS account_id FROM accounts WHERE user_id = ?1 ORDER BY connection_id, id",
        &[user.as_str().into()],
    )
    .await
}

/// Whether `external_id` is one of the user's connections at `provider`.
pub async fn belongs_to(env: &Env, user: &UserId, provider: Provider, external_id: &str) -> DbResult<bool> {
    let row: Option<serde_json::Value> = query_first(
        env,
        "SELECT 1 AS found FROM connections WHERE id = ?1 AND user_id = ?2",
        &[connection_id(provider, external_id).into(), user.as_str().into()],
    )
    .await?;
    Ok(row.is_some())
}

#[derive(Deserialize)]
struct ProviderCount {
    provider: String,
    n: i64,
    broken: Option<i64>,
}

/// How many connections a user has through one provider, and how many of them need repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderConnections {
    pub provider: Provider,
    pub connections: i64,
    pub needing_repair: i64,
}

/// Per provider through which `user` has at least one connection: how many, and how many need repair.
pub async fn provider_states(env: &Env, user: &UserId) -> DbResult<Vec<ProviderConnections>> {
    let rows: Vec<ProviderCount> = query_all(
        env,
        "SELECT provider, COUNT(*) AS n, SUM(needs_repair) AS broken FROM connections WHERE user_id = ?1 GROUP BY provider",
        &[user.as_str().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.n > 0)
        .filter_map(|r| {
            let provider = Provider::parse(&r.provider).ok()?;
            Some(ProviderConnections { provider, connections: r.n, needing_repair: r.broken.unwrap_or(0) })
        })
        .collect())
}

/// The providers through which `user` has at least one connection.
pub async fn connected_providers(env: &Env, user: &UserId) -> DbResult<Vec<Provider>> {
    Ok(provider_states(env, user).await?.into_iter().map(|s| s.provider).collect())
}

/// Marks one of the user's connections as needing repair (or repaired), with the reason.
pub fn repair_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    external_id: &str,
    needs_repair: bool,
    reason: Option<&str>,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare(
            "UPDATE connections SET needs_repair = ?3, repair_reason = ?4, updated_at = ?5 WHERE id = ?1 AND user_id = ?2",
        )
        .bind(&[
            connection_id(provider, external_id).into(),
            user.as_str().into(),
            (if needs_repair { 1.0 } else { 0.0 }).into(),
            reason.map_or(JsValue::NULL, JsValue::from),
            (now as f64).into(),
        ])
}

/// Removes one of the user's connections and every cached row under it, as statements for one batch.
pub fn remove_statements(
    env: &Env,
    user: &UserId,
    provider: Provider,
    external_id: &str,
) -> DbResult<Vec<D1PreparedStatement>> {
    let database = db(env)?;
    let args = [connection_id(provider, external_id).into(), JsValue::from(user.as_str())];
    let under = "account_id IN (SELECT id FROM accounts WHERE connection_id = ?1 AND user_id = ?2)";
    Ok(vec![
        database.prepare(format!("DELETE FROM positions WHERE {under}")).bind(&args)?,
        database.prepare(format!("DELETE FROM balances WHERE {under}")).bind(&args)?,
        database.prepare("DELETE FROM accounts WHERE connection_id = ?1 AND user_id = ?2").bind(&args)?,
        database.prepare("DELETE FROM connections WHERE id = ?1 AND user_id = ?2").bind(&args)?,
    ])
}

/// Removes one of the user's accounts and its cached positions and balances, as batch statements.
pub fn remove_account_statements(
    env: &Env,
    user: &UserId,
    provider: Provider,
    account_external_id: &str,
) -> DbResult<Vec<D1PreparedStatement>> {
    let database = db(env)?;
    let args = [JsValue::from(format!("{}:{account_external_id}", provider.as_str())), JsValue::from(user.as_str())];
    Ok(vec![
        database.prepare("DELETE FROM positions WHERE account_id = ?1 AND user_id = ?2").bind(&args)?,
        database.prepare("DELETE FROM balances WHERE account_id = ?1 AND user_id = ?2").bind(&args)?,
        database.prepare("DELETE FROM accounts WHERE id = ?1 AND user_id = ?2").bind(&args)?,
    ])
}

#[derive(Deserialize)]
struct Counts {
    accounts: i64,
    positions: i64,
    balances: i64,
}

/// How many cached accounts, positions and balances sit under one of the user's connections.
pub async fn counts(env: &Env, user: &UserId, provider: Provider, external_id: &str) -> DbResult<(i64, i64, i64)> {
    let row: Option<Counts> = query_first(
        env,
        "SELECT (SELECT COUNT(*) FROM accounts WHERE connection_id = ?1 AND user_id = ?2) AS accounts,
                (SELECT COUNT(*) FROM positions WHERE user_id = ?2 AND account_id IN
                    (SELECT id FROM accounts WHERE connection_id = ?1 AND user_id = ?2)) AS positions,
                (SELECT COUNT(*) FROM balances WHERE user_id = ?2 AND account_id IN
                    (SELECT id FROM accounts WHERE connection_id = ?1 AND user_id = ?2)) AS balances",
        &[connection_id(provider, external_id).into(), user.as_str().into()],
    )
    .await?;
    Ok(row.map_or((0, 0, 0), |c| (c.accounts, c.positions, c.balances)))
}
