//! The `ibkr_flex_queries` table: one row per IBKR Flex connection — the person's sealed token and
//! query id, the latest statement read, the statement still being generated and the connection's
//! reader lease; and `ibkr_flex_pacing`: when each token (by a keyed digest) was last used, which
//! keeps every path within IBKR's one-request-a-second rule. In KV, per connection: the trades
//! and cash transactions of its latest statement, until a transactions sync stores them.

use super::connections::connection_id;
use super::{db, query_all, query_first, DbResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use tributary_core::ibkr::AccountLedger;
use tributary_core::sealed::Sealed;
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

const P: Provider = Provider::IbkrFlex;

/// A stored Flex connection.
pub struct FlexQuery {
    pub user_id: UserId,
    /// The connection's external id (`ibkr-…`).
    pub external_id: String,
    pub token: Sealed,
    pub query_id: Sealed,
    pub statement_date: Option<String>,
    pub last_statement_at: Option<i64>,
    pub reference_code: Option<String>,
    pub requested_at: Option<i64>,
    pub next_poll_at: Option<i64>,
}

#[derive(Deserialize)]
struct Row {
    user_id: String,
    external_id: String,
    token_ciphertext: String,
    token_nonce: String,
    query_ciphertext: String,
    query_nonce: String,
    key_id: String,
    statement_date: Option<String>,
    last_statement_at: Option<i64>,
    reference_code: Option<String>,
    requested_at: Option<i64>,
    next_poll_at: Option<i64>,
}

const COLUMNS: &str = "user_id, external_id, token_ciphertext, token_nonce, query_ciphertext, query_nonce, key_id,
    statement_date, last_statement_at, reference_code, requested_at, next_poll_at";

fn typed(row: Row) -> DbResult<FlexQuery> {
    let unreadable = || worker::Error::RustError("stored IBKR Flex connection has unreadable sealed parts".into());
    Ok(FlexQuery {
        user_id: UserId::parse(&row.user_id).map_err(|_| unreadable())?,
        token: super::sealed_from_columns(&row.token_ciphertext, &row.token_nonce, &row.key_id)
            .ok_or_else(unreadable)?,
        query_id: super::sealed_from_columns(&row.query_ciphertext, &row.query_nonce, &row.key_id)
            .ok_or_else(unreadable)?,
        external_id: row.external_id,
        statement_date: row.statement_date,
        last_statement_at: row.last_statement_at,
        reference_code: row.reference_code,
        requested_at: row.requested_at,
        next_poll_at: row.next_poll_at,
    })
}

/// The user's Flex connections, oldest first.
pub async fn list(env: &Env, user: &UserId) -> DbResult<Vec<FlexQuery>> {
    let rows: Vec<Row> = query_all(
        env,
        &format!("SELECT {COLUMNS} FROM ibkr_flex_queries WHERE user_id = ?1 ORDER BY created_at, connection_id"),
        &[user.as_str().into()],
    )
    .await?;
    rows.into_iter().map(typed).collect()
}

/// Up to `limit` users with a Flex connection not needing repair that has a statement to finish
/// by `now` (worker clock) or whose latest statement was read before `read_before`, most overdue
/// first. With `any_time` (development, where each user may have their own clock) every such
/// user is a candidate and the caller checks each on their own clock.
pub async fn due_users(env: &Env, now: i64, read_before: i64, any_time: bool, limit: u32) -> DbResult<Vec<UserId>> {
    #[derive(Deserialize)]
    struct Due {
        user_id: String,
    }
    let rows: Vec<Due> = query_all(
        env,
        "SELECT q.user_id FROM ibkr_flex_queries q JOIN connections c ON c.id = q.connection_id
         WHERE c.needs_repair = 0 AND (?4 = 1
            OR (q.reference_code IS NOT NULL AND q.next_poll_at <= ?1)
            OR (q.reference_code IS NULL AND (q.last_statement_at IS NULL OR q.last_statement_at < ?2)))
         GROUP BY q.user_id ORDER BY MIN(COALESCE(q.next_poll_at, q.last_statement_at, 0)) LIMIT ?3",
        &[
            (now as f64).into(),
            (read_before as f64).into(),
            f64::from(limit).into(),
            (if any_time { 1.0 } else { 0.0 }).into(),
        ],
    )
    .await?;
    Ok(rows.into_iter().filter_map(|r| UserId::parse(&r.user_id).ok()).collect())
}

/// The statement giving an existing connection a new token (the same query, reconnected; both
/// sealed afresh under the current key), with any statement in flight forgotten.
pub fn replace_secrets_statement(
    env: &Env,
    user: &UserId,
    external_id: &str,
    token: &Sealed,
    query_id: &Sealed,
) -> DbResult<D1PreparedStatement> {
    let [id, u] = key(user, external_id);
    db(env)?
        .prepare(
            "UPDATE ibkr_flex_queries SET token_ciphertext = ?3, token_nonce = ?4, query_ciphertext = ?5, query_nonce = ?6,
               key_id = ?7, reference_code = NULL, requested_at = NULL, next_poll_at = NULL
             WHERE connection_id = ?1 AND user_id = ?2",
        )
        .bind(&[
            id,
            u,
            STANDARD.encode(&token.ciphertext).into(),
            STANDARD.encode(token.nonce).into(),
            STANDARD.encode(&query_id.ciphertext).into(),
            STANDARD.encode(query_id.nonce).into(),
            token.key_id.as_str().into(),
        ])
}

/// The statement removing a connection's sealed token and query (for the removal's batch).
pub fn remove_statement(env: &Env, user: &UserId, external_id: &str) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare("DELETE FROM ibkr_flex_queries WHERE connection_id = ?1 AND user_id = ?2")
        .bind(&key(user, external_id))
}

/// The statement inserting a new Flex connection (its `connections` row must be in the same batch, first).
pub fn insert_statement(
    env: &Env,
    user: &UserId,
    external_id: &str,
    token: &Sealed,
    query_id: &Sealed,
    query_key: &str,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    let args: [JsValue; 10] = [
        connection_id(P, external_id).into(),
        user.as_str().into(),
        external_id.into(),
        STANDARD.encode(&token.ciphertext).into(),
        STANDARD.encode(token.nonce).into(),
        STANDARD.encode(&query_id.ciphertext).into(),
        STANDARD.encode(query_id.nonce).into(),
        token.key_id.as_str().into(),
        query_key.into(),
        (now as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO ibkr_flex_queries (connection_id, user_id, external_id, token_ciphertext, token_nonce,
                                            query_ciphertext, query_nonce, key_id, query_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(&args)
}

fn key(user: &UserId, external_id: &str) -> [JsValue; 2] {
    [connection_id(P, external_id).into(), user.as_str().into()]
}

/// Takes the connection's lease for `owner` until `until_ms` (real clock) when nobody holds it or
/// its holder's time ran out; true when won.
pub async fn claim(
    env: &Env,
    user: &UserId,
    external_id: &str,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> DbResult<bool> {
    let [id, u] = key(user, external_id);
    let result = db(env)?
        .prepare(
            "UPDATE ibkr_flex_queries SET lease_owner = ?3, lease_until_ms = ?4
             WHERE connection_id = ?1 AND user_id = ?2 AND (lease_until_ms IS NULL OR lease_until_ms <= ?5)",
        )
        .bind(&[id, u, owner.into(), (until_ms as f64).into(), (now_ms as f64).into()])?
        .run()
        .await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// Gives the lease back, if `owner` still holds it (a holder whose time ran out never frees the
/// lease of the reader that took it over).
pub async fn release(env: &Env, user: &UserId, external_id: &str, owner: &str) -> DbResult<()> {
    let [id, u] = key(user, external_id);
    db(env)?
        .prepare(
            "UPDATE ibkr_flex_queries SET lease_owner = NULL, lease_until_ms = NULL
             WHERE connection_id = ?1 AND user_id = ?2 AND lease_owner = ?3",
        )
        .bind(&[id, u, owner.into()])?
        .run()
        .await?;
    Ok(())
}

/// The external id of the user's connection for the query with key `query_key`, if any.
pub async fn find_by_query(env: &Env, user: &UserId, query_key: &str) -> DbResult<Option<String>> {
    #[derive(Deserialize)]
    struct Found {
        external_id: String,
    }
    let row: Option<Found> = query_first(
        env,
        "SELECT external_id FROM ibkr_flex_queries WHERE user_id = ?1 AND query_key = ?2",
        &[user.as_str().into(), query_key.into()],
    )
    .await?;
    Ok(row.map(|r| r.external_id))
}

/// When the token with pacing key `token_key` was last used (real clock, ms), if ever.
pub async fn last_request_ms(env: &Env, token_key: &str) -> DbResult<Option<i64>> {
    #[derive(Deserialize)]
    struct Last {
        last_request_ms: i64,
    }
    let row: Option<Last> =
        query_first(env, "SELECT last_request_ms FROM ibkr_flex_pacing WHERE token_key = ?1", &[token_key.into()])
            .await?;
    Ok(row.map(|r| r.last_request_ms))
}

/// Remembers that the token with pacing key `token_key` was last used at `at_ms` (never earlier
/// than what is stored).
pub async fn touch(env: &Env, token_key: &str, at_ms: i64) -> DbResult<()> {
    db(env)?
        .prepare(
            "INSERT INTO ibkr_flex_pacing (token_key, last_request_ms) VALUES (?1, ?2)
             ON CONFLICT (token_key) DO UPDATE SET last_request_ms = MAX(last_request_ms, excluded.last_request_ms)",
        )
        .bind(&[token_key.into(), (at_ms as f64).into()])?
        .run()
        .await?;
    Ok(())
}

/// Keeps a statement in flight: its reference code, when it was asked for and when to look again.
pub async fn set_pending(
    env: &Env,
    user: &UserId,
    external_id: &str,
    reference_code: &str,
    requested_at: i64,
    next_poll_at: i64,
) -> DbResult<()> {
    let [id, u] = key(user, external_id);
    db(env)?
        .prepare(
            "UPDATE ibkr_flex_queries SET reference_code = ?3, requested_at = ?4, next_poll_at = ?5
             WHERE connection_id = ?1 AND user_id = ?2",
        )
        .bind(&[id, u, reference_code.into(), (requested_at as f64).into(), (next_poll_at as f64).into()])?
        .run()
        .await?;
    Ok(())
}

/// Forgets the statement in flight (finished, or its reference code is no longer valid); when
/// `read` names a statement date, records it as the latest read at `at`.
pub fn finish_statement(
    env: &Env,
    user: &UserId,
    external_id: &str,
    read: Option<&str>,
    at: i64,
) -> DbResult<D1PreparedStatement> {
    let [id, u] = key(user, external_id);
    let (date, at) = match read {
        Some(date) => (JsValue::from(date), JsValue::from(at as f64)),
        None => (JsValue::NULL, JsValue::NULL),
    };
    db(env)?
        .prepare(
            "UPDATE ibkr_flex_queries SET reference_code = NULL, requested_at = NULL, next_poll_at = NULL,
               statement_date = COALESCE(?3, statement_date), last_statement_at = COALESCE(?4, last_statement_at)
             WHERE connection_id = ?1 AND user_id = ?2",
        )
        .bind(&[id, u, date, at])
}

/// The KV key of what one connection's latest statement said about activity.
fn ledger_key(user: &UserId, external_id: &str) -> String {
    format!("ibkr-flex-ledger:v1:{}:{}", user.as_str(), connection_id(P, external_id))
}

/// Keeps the trades and cash transactions of the connection's latest statement (one ledger per
/// account, with the period the statement covers) for the next transactions sync to store.
pub async fn put_ledgers(env: &Env, user: &UserId, external_id: &str, ledgers: &[AccountLedger]) -> DbResult<()> {
    let body = serde_json::to_string(ledgers).map_err(|e| worker::Error::RustError(format!("ledgers: {e}")))?;
    env.kv(super::KV)?.put(&ledger_key(user, external_id), body)?.execute().await?;
    Ok(())
}

/// The activity the connection's latest statement held; `None` before any statement was read.
pub async fn ledgers(env: &Env, user: &UserId, external_id: &str) -> DbResult<Option<Vec<AccountLedger>>> {
    let Some(text) = env.kv(super::KV)?.get(&ledger_key(user, external_id)).text().await? else {
        return Ok(None);
    };
    serde_json::from_str(&text).map(Some).map_err(|e| worker::Error::RustError(format!("stored Flex ledgers: {e}")))
}

/// Forgets the connection's kept activity (the connection is being removed).
pub async fn remove_ledgers(env: &Env, user: &UserId, external_id: &str) -> DbResult<()> {
    env.kv(super::KV)?.delete(&ledger_key(user, external_id)).await?;
    Ok(())
}
