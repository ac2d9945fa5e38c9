//! The trading tables (`order_previews`, `orders`, `order_events`, `trade_rate`) and the account
//! facts the gate and a preview read. An order attempt's row is reserved before any broker call
//! (one per user and key, `INSERT … ON CONFLICT DO NOTHING`), so exactly one request wins it.

use super::{db, query_all, query_first, DbResult};
use serde::Deserialize;
use tributary_core::trading::OrderState;
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::Env;

fn text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from)
}

fn int(value: i64) -> JsValue {
    JsValue::from(value as f64)
}

/// One of the user's accounts with what the gate needs: its stored capability and connection.
#[derive(Debug, Clone, Deserialize)]
pub struct TradingAccountRow {
    pub provider: String,
    pub external_id: String,
    pub cap_trading: i64,
    pub institution_slug: Option<String>,
    pub institution_name: Option<String>,
    pub currency: Option<String>,
    pub connection_type: String,
    pub disabled: i64,
    pub needs_repair: i64,
}

/// The user's accounts whose provider id is `account_id` (one, unless two providers share an id).
pub async fn accounts(env: &Env, user: &UserId, account_id: &str) -> DbResult<Vec<TradingAccountRow>> {
    query_all(
        env,
        "SELECT a.provider, a.external_id, a.cap_trading, a.institution_slug, c.institution_name, a.currency,
                c.connection_type, c.disabled, c.needs_repair
         FROM accounts a JOIN connections c ON c.id = a.connection_id
         WHERE a.user_id = ?1 AND a.external_id = ?2 ORDER BY a.provider",
        &[user.as_str().into(), account_id.into()],
    )
    .await
}

/// Every account of the user, with what the gate needs (at most 500).
pub async fn all_accounts(env: &Env, user: &UserId) -> DbResult<Vec<TradingAccountRow>> {
    query_all(
        env,
        "SELECT a.provider, a.external_id, a.cap_trading, a.institution_slug, c.institution_name, a.currency,
                c.connection_type, c.disabled, c.needs_repair
         FROM accounts a JOIN connections c ON c.id = a.connection_id
         WHERE a.user_id = ?1 ORDER BY a.provider, a.external_id LIMIT 500",
        &[user.as_str().into()],
    )
    .await
}

#[derive(Deserialize)]
struct PriceRow {
    price: Option<String>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct CashRow {
    cash: Option<String>,
}

/// The cached price of `ticker` in the account (else in any of the user's accounts), with its currency.
pub async fn cached_price(
    env: &Env,
    user: &UserId,
    account_key: &str,
    ticker: &str,
) -> DbResult<(Option<String>, Option<String>)> {
    let row: Option<PriceRow> = query_first(
        env,
        "SELECT price, currency FROM positions WHERE user_id = ?1 AND UPPER(ticker) = UPPER(?3) AND price IS NOT NULL
         ORDER BY (account_id = ?2) DESC, as_of DESC LIMIT 1",
        &[user.as_str().into(), account_key.into(), ticker.into()],
    )
    .await?;
    Ok(row.map_or((None, None), |r| (r.price, r.currency)))
}

/// The account's cached cash in `currency`.
pub async fn cached_cash(env: &Env, user: &UserId, account_key: &str, currency: &str) -> DbResult<Option<String>> {
    let row: Option<CashRow> = query_first(
        env,
        "SELECT cash FROM balances WHERE user_id = ?1 AND account_id = ?2 AND currency = ?3 LIMIT 1",
        &[user.as_str().into(), account_key.into(), currency.into()],
    )
    .await?;
    Ok(row.and_then(|r| r.cash))
}

/// A stored preview.
#[derive(Debug, Clone, Deserialize)]
pub struct PreviewRow {
    pub id: String,
    pub provider: String,
    pub account_id: String,
    pub symbol_id: String,
    pub symbol: String,
    pub order_json: String,
    pub estimate_json: String,
    pub fingerprint: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Stores a preview.
pub async fn insert_preview(env: &Env, user: &UserId, row: &PreviewRow) -> DbResult<()> {
    db(env)?
        .prepare(
            "INSERT INTO order_previews (id, user_id, provider, account_id, symbol_id, symbol, order_json, estimate_json,
                                         fingerprint, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(&[
            row.id.as_str().into(),
            user.as_str().into(),
            row.provider.as_str().into(),
            row.account_id.as_str().into(),
            row.symbol_id.as_str().into(),
            row.symbol.as_str().into(),
            row.order_json.as_str().into(),
            row.estimate_json.as_str().into(),
            row.fingerprint.as_str().into(),
            int(row.created_at),
            int(row.expires_at),
        ])?
        .run()
        .await?;
    Ok(())
}

/// The user's preview `id` (another user's is not found).
pub async fn preview(env: &Env, user: &UserId, id: &str) -> DbResult<Option<PreviewRow>> {
    query_first(
        env,
        "SELECT id, provider, account_id, symbol_id, symbol, order_json, estimate_json, fingerprint, created_at, expires_at
         FROM order_previews WHERE user_id = ?1 AND id = ?2",
        &[user.as_str().into(), id.into()],
    )
    .await
}

/// One order attempt as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub preview_id: String,
    pub provider: String,
    pub account_id: String,
    pub client_order_id: String,
    pub brokerage_order_id: Option<String>,
    pub symbol_id: String,
    pub symbol: String,
    pub action: String,
    pub order_type: String,
    pub time_in_force: String,
    pub units: Option<String>,
    pub notional: Option<String>,
    pub limit_price: Option<String>,
    pub stop_price: Option<String>,
    pub state: String,
    pub status: Option<String>,
    pub filled_units: Option<String>,
    pub execution_price: Option<String>,
    pub error_code: Option<String>,
    pub error_status: Option<i64>,
    pub message: Option<String>,
    pub sent_at: i64,
    pub placed_at: Option<i64>,
    pub updated_at: i64,
}

impl OrderRow {
    /// The stored state (an unreadable one reads as unknown: never as placed or failed).
    pub fn order_state(&self) -> OrderState {
        OrderState::parse(&self.state).unwrap_or(OrderState::Unknown)
    }
}

const ORDER_COLUMNS: &str = "id, idempotency_key, fingerprint, preview_id, provider, account_id, client_order_id,
    brokerage_order_id, symbol_id, symbol, action, order_type, time_in_force, units, notional, limit_price, stop_price,
    state, status, filled_units, execution_price, error_code, error_status, message, sent_at, placed_at, updated_at";

/// The user's attempt holding `key`, if any.
pub async fn order_by_key(env: &Env, user: &UserId, key: &str) -> DbResult<Option<OrderRow>> {
    query_first(
        env,
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND idempotency_key = ?2"),
        &[user.as_str().into(), key.into()],
    )
    .await
}

/// The user's order `id`, if any.
pub async fn order(env: &Env, user: &UserId, id: &str) -> DbResult<Option<OrderRow>> {
    query_first(
        env,
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND id = ?2"),
        &[user.as_str().into(), id.into()],
    )
    .await
}

/// The user's orders, newest first, in one account or all (at most `limit`).
pub async fn orders(env: &Env, user: &UserId, account_id: Option<&str>, limit: u32) -> DbResult<Vec<OrderRow>> {
    query_all(
        env,
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND (?2 IS NULL OR account_id = ?2)
             ORDER BY sent_at DESC, id DESC LIMIT ?3"
        ),
        &[user.as_str().into(), text(account_id), f64::from(limit).into()],
    )
    .await
}

/// Another attempt of the same order in the account whose outcome is still unknown (a place
/// under a new key must not race one that may already be at the broker).
pub async fn unknown_twin(env: &Env, user: &UserId, fingerprint: &str, key: &str) -> DbResult<Option<OrderRow>> {
    query_first(
        env,
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND fingerprint = ?2 AND idempotency_key != ?3
             AND state IN ('sending', 'unknown') LIMIT 1"
        ),
        &[user.as_str().into(), fingerprint.into(), key.into()],
    )
    .await
}

/// Brokerage order ids in the account that attempts already became (a reconciliation never
/// assigns one order to two attempts).
pub async fn claimed_brokerage_ids(env: &Env, provider: Provider, account_id: &str) -> DbResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        brokerage_order_id: String,
    }
    let rows: Vec<Id> = query_all(
        env,
        "SELECT brokerage_order_id FROM orders WHERE provider = ?1 AND account_id = ?2 AND brokerage_order_id IS NOT NULL",
        &[provider.as_str().into(), account_id.into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.brokerage_order_id).collect())
}

/// Reserves `row`'s key for it (state `sending`) and records the reservation; returns whether
/// this request won the key. A concurrent request holding it makes this a no-op; an attempt of
/// the same order that `failed` (nothing reached the broker) is taken over, keeping its id and
/// `client_order_id`.
pub async fn reserve(env: &Env, user: &UserId, row: &OrderRow, request_id: &str) -> DbResult<bool> {
    let args = [
        row.id.as_str().into(),
        user.as_str().into(),
        row.idempotency_key.as_str().into(),
        row.fingerprint.as_str().into(),
        row.preview_id.as_str().into(),
        row.provider.as_str().into(),
        row.account_id.as_str().into(),
        row.client_order_id.as_str().into(),
        row.symbol_id.as_str().into(),
        row.symbol.as_str().into(),
        row.action.as_str().into(),
        row.order_type.as_str().into(),
        row.time_in_force.as_str().into(),
        text(row.units.as_deref()),
        text(row.notional.as_deref()),
        text(row.limit_price.as_deref()),
        text(row.stop_price.as_deref()),
        int(row.sent_at),
    ];
    let inserted: Option<serde_json::Value> = query_first(
        env,
        "INSERT INTO orders (id, user_id, idempotency_key, fingerprint, preview_id, provider, account_id, client_order_id,
                             symbol_id, symbol, action, order_type, time_in_force, units, notional, limit_price, stop_price,
                             state, sent_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 'sending', ?18, ?18)
         ON CONFLICT (user_id, idempotency_key) DO UPDATE SET state = 'sending', preview_id = excluded.preview_id,
           sent_at = excluded.sent_at, updated_at = excluded.updated_at, error_code = NULL, error_status = NULL, message = NULL
         WHERE orders.state = 'failed' AND orders.fingerprint = excluded.fingerprint
         RETURNING id",
        &args,
    )
    .await?;
    if inserted.is_some() {
        event(env, user, &row.id, row.sent_at, "reserved", OrderState::Sending, None, request_id).await?;
    }
    Ok(inserted.is_some())
}

/// What a broker answer or reconciliation changed on an attempt.
#[derive(Debug, Default)]
pub struct OrderUpdate<'a> {
    pub brokerage_order_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub filled_units: Option<String>,
    pub execution_price: Option<String>,
    pub placed_at: Option<i64>,
    pub error: Option<(&'a str, u16, String)>,
    pub message: Option<String>,
}

/// Moves an attempt to `state` with `update` (fields given replace, others stay) and records the
/// change in the audit trail (`kind`, `detail`, the request that made it).
#[allow(clippy::too_many_arguments)]
pub async fn update(
    env: &Env,
    user: &UserId,
    order_id: &str,
    state: OrderState,
    update: &OrderUpdate<'_>,
    now: i64,
    kind: &str,
    detail: Option<&serde_json::Value>,
    request_id: &str,
) -> DbResult<()> {
    let (code, status, error_message) = match &update.error {
        Some((code, status, message)) => (Some(*code), Some(f64::from(*status)), Some(message.as_str())),
        None => (None, None, None),
    };
    db(env)?
        .prepare(
            "UPDATE orders SET state = ?3, brokerage_order_id = COALESCE(?4, brokerage_order_id), status = COALESCE(?5, status),
               filled_units = COALESCE(?6, filled_units), execution_price = COALESCE(?7, execution_price),
               placed_at = COALESCE(?8, placed_at), error_code = COALESCE(?9, error_code),
               error_status = COALESCE(?10, error_status), message = COALESCE(?11, ?12, message), updated_at = ?13
             WHERE user_id = ?1 AND id = ?2",
        )
        .bind(&[
            user.as_str().into(),
            order_id.into(),
            state.as_str().into(),
            text(update.brokerage_order_id),
            text(update.status),
            text(update.filled_units.as_deref()),
            text(update.execution_price.as_deref()),
            update.placed_at.map_or(JsValue::NULL, int),
            text(code),
            status.map_or(JsValue::NULL, JsValue::from),
            text(error_message),
            text(update.message.as_deref()),
            int(now),
        ])?
        .run()
        .await?;
    event(env, user, order_id, now, kind, state, detail, request_id).await
}

/// Appends one entry to an order's audit trail.
#[allow(clippy::too_many_arguments)]
pub async fn event(
    env: &Env,
    user: &UserId,
    order_id: &str,
    at: i64,
    kind: &str,
    state: OrderState,
    detail: Option<&serde_json::Value>,
    request_id: &str,
) -> DbResult<()> {
    let detail = detail.map(serde_json::Value::to_string);
    db(env)?
        .prepare(
            "INSERT INTO order_events (order_id, user_id, at, kind, state, detail, request_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&[
            order_id.into(),
            user.as_str().into(),
            int(at),
            kind.into(),
            state.as_str().into(),
            text(detail.as_deref()),
            request_id.into(),
        ])?
        .run()
        .await?;
    Ok(())
}

/// One audit-trail entry.
#[derive(Debug, Clone, Deserialize)]
pub struct EventRow {
    pub at: i64,
    pub kind: String,
    pub state: Option<String>,
    pub detail: Option<String>,
    pub request_id: Option<String>,
}

/// An order's audit trail, oldest first (at most 200 entries).
pub async fn events(env: &Env, user: &UserId, order_id: &str) -> DbResult<Vec<EventRow>> {
    query_all(
        env,
        "SELECT at, kind, state, detail, request_id FROM order_events WHERE user_id = ?1 AND order_id = ?2
         ORDER BY id LIMIT 200",
        &[user.as_str().into(), order_id.into()],
    )
    .await
}

/// Lets one more order of the account through its local window at `now`, by the core's
/// `admit_order` rule given as `rule` (a window begun at or before `rule.restart_at_or_before`
/// restarts at `now`; a current one admits while it holds fewer than `rule.max_orders`), in one
/// statement so exactly as many concurrent claims win as the window has room for. `Ok(None)` when
/// admitted, else `Ok(Some(window_start))` of the full window.
pub async fn claim_order_slot(
    env: &Env,
    account_key: &str,
    now: i64,
    rule: tributary_core::trading::OrderWindowRule,
) -> DbResult<Option<i64>> {
    if rule.max_orders == 0 {
        return Ok(Some(now));
    }
    let admitted: Option<serde_json::Value> = query_first(
        env,
        "INSERT INTO trade_rate (account_key, last_place_at, window_start, window_orders) VALUES (?1, ?2, ?2, 1)
         ON CONFLICT (account_key) DO UPDATE SET
           last_place_at = excluded.last_place_at,
           window_orders = CASE WHEN trade_rate.window_start <= ?3 THEN 1 ELSE trade_rate.window_orders + 1 END,
           window_start = CASE WHEN trade_rate.window_start <= ?3 THEN excluded.window_start ELSE trade_rate.window_start END
         WHERE trade_rate.window_start <= ?3 OR trade_rate.window_orders < ?4
         RETURNING window_start",
        &[account_key.into(), int(now), int(rule.restart_at_or_before), int(i64::from(rule.max_orders))],
    )
    .await?;
    if admitted.is_some() {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Window {
        window_start: i64,
    }
    let full: Option<Window> =
        query_first(env, "SELECT window_start FROM trade_rate WHERE account_key = ?1", &[account_key.into()]).await?;
    Ok(Some(full.map_or(now, |w| w.window_start)))
}
