//! The ledger's tables (`transactions`, `transaction_syncs`, `pending_transactions`,
//! `previous_positions`): rows upserted by their stable id, removed only by a complete read of
//! their scope's window, read newest first by keyset, and the sync state of every scope.

use super::{db, query_all, DbResult};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use tributary_core::time::Date;
use tributary_core::transactions::query::TransactionQuery;
use tributary_core::transactions::{Transaction, TransactionSecurity, TransactionType};
use tributary_core::{Currency, InstitutionSlug, Provider, UserId};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

fn text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from)
}

fn decimal(value: Option<Decimal>) -> JsValue {
    value.map_or(JsValue::NULL, |d| JsValue::from(d.to_string()))
}

/// The statements upserting `rows` of `provider`'s `scope` for `user`, synced at `now`.
pub fn upsert_statements(
    env: &Env,
    user: &UserId,
    scope: &str,
    rows: &[Transaction],
    now: i64,
) -> DbResult<Vec<D1PreparedStatement>> {
    let database = db(env)?;
    rows.iter()
        .map(|tx| {
            let security = tx.security.as_ref();
            let args: [JsValue; 21] = [
                user.as_str().into(),
                tx.id.as_str().into(),
                tx.provider.as_str().into(),
                scope.into(),
                tx.provider_transaction_id.as_str().into(),
                tx.account_id.as_str().into(),
                text(tx.institution.as_ref().map(InstitutionSlug::as_str)),
                tx.kind.as_str().into(),
                tx.provider_type.as_str().into(),
                tx.trade_date.to_string().into(),
                tx.settlement_date.map_or(JsValue::NULL, |d| d.to_string().into()),
                text(security.map(|s| s.security_key.as_str())),
                text(security.and_then(|s| s.ticker.as_deref())),
                text(security.and_then(|s| s.name.as_deref())),
                decimal(tx.quantity),
                decimal(tx.price),
                decimal(tx.amount),
                decimal(tx.fees),
                text(tx.currency.as_ref().map(Currency::as_str)),
                text(tx.description.as_deref()),
                (now as f64).into(),
            ];
            database
                .prepare(
                    "INSERT INTO transactions (user_id, id, provider, scope, provider_transaction_id, account_id,
                       institution_slug, type, provider_type, trade_date, settlement_date, security_key, ticker,
                       security_name, quantity, price, amount, fees, currency, description, synced_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
                     ON CONFLICT (user_id, id) DO UPDATE SET scope = excluded.scope, account_id = excluded.account_id,
                       institution_slug = excluded.institution_slug, type = excluded.type,
                       provider_type = excluded.provider_type, trade_date = excluded.trade_date,
                       settlement_date = excluded.settlement_date, security_key = excluded.security_key,
                       ticker = excluded.ticker, security_name = excluded.security_name, quantity = excluded.quantity,
                       price = excluded.price, amount = excluded.amount, fees = excluded.fees,
                       currency = excluded.currency, description = excluded.description, synced_at = excluded.synced_at",
                )
                .bind(&args)
        })
        .collect()
}

/// The ids and trade dates stored for `provider`'s `scope` of `user` dated within `[from, to]`.
pub async fn scope_ids(
    env: &Env,
    user: &UserId,
    provider: Provider,
    scope: &str,
    from: Date,
    to: Date,
) -> DbResult<Vec<(String, Date)>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        trade_date: String,
    }
    let rows: Vec<Row> = query_all(
        env,
        "SELECT id, trade_date FROM transactions WHERE user_id = ?1 AND provider = ?2 AND scope = ?3
           AND trade_date >= ?4 AND trade_date <= ?5",
        &[user.as_str().into(), provider.as_str().into(), scope.into(), from.to_string().into(), to.to_string().into()],
    )
    .await?;
    Ok(rows.into_iter().filter_map(|r| Some((r.id, Date::parse(&r.trade_date)?))).collect())
}

/// The statement removing `ids` of `user` (what a complete read no longer has).
pub fn remove_statement(env: &Env, user: &UserId, ids: &[&str]) -> DbResult<D1PreparedStatement> {
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    db(env)?
        .prepare("DELETE FROM transactions WHERE user_id = ?1 AND id IN (SELECT value FROM json_each(?2))")
        .bind(&[user.as_str().into(), ids.into()])
}

/// One scope's sync state.
#[derive(Debug, Clone)]
pub struct SyncState {
    pub scope: String,
    pub synced_through: Option<Date>,
    pub synced_at: Option<i64>,
    pub attempted_at: i64,
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Deserialize)]
struct SyncRow {
    provider: String,
    scope: String,
    synced_through: Option<String>,
    synced_at: Option<i64>,
    attempted_at: i64,
    status: String,
    error_code: Option<String>,
    error_message: Option<String>,
}

fn sync_state(r: SyncRow) -> Option<(Provider, SyncState)> {
    let provider = Provider::parse(&r.provider).ok()?;
    Some((
        provider,
        SyncState {
            synced_through: r.synced_through.as_deref().and_then(Date::parse),
            scope: r.scope,
            synced_at: r.synced_at,
            attempted_at: r.attempted_at,
            status: r.status,
            error_code: r.error_code,
            error_message: r.error_message,
        },
    ))
}

const SYNC_COLUMNS: &str =
    "provider, scope, synced_through, synced_at, attempted_at, status, error_code, error_message";

/// Every scope's sync state of `user` at `provider`, by scope.
pub async fn sync_states(env: &Env, user: &UserId, provider: Provider) -> DbResult<BTreeMap<String, SyncState>> {
    let rows: Vec<SyncRow> = query_all(
        env,
        &format!("SELECT {SYNC_COLUMNS} FROM transaction_syncs WHERE user_id = ?1 AND provider = ?2"),
        &[user.as_str().into(), provider.as_str().into()],
    )
    .await?;
    Ok(rows.into_iter().filter_map(sync_state).map(|(_, state)| (state.scope.clone(), state)).collect())
}

/// Every scope's sync state of `user` at every provider (one D1 read).
pub async fn all_sync_states(env: &Env, user: &UserId) -> DbResult<Vec<(Provider, SyncState)>> {
    let rows: Vec<SyncRow> = query_all(
        env,
        &format!("SELECT {SYNC_COLUMNS} FROM transaction_syncs WHERE user_id = ?1 ORDER BY provider, scope"),
        &[user.as_str().into()],
    )
    .await?;
    Ok(rows.into_iter().filter_map(sync_state).collect())
}

/// The statement recording a complete sync of `scope` through `through` at `now`.
pub fn synced_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    scope: &str,
    through: Date,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare(
            "INSERT INTO transaction_syncs (user_id, provider, scope, synced_through, synced_at, attempted_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'ok')
             ON CONFLICT (user_id, provider, scope) DO UPDATE SET synced_through = ?4, synced_at = ?5, attempted_at = ?5,
               status = 'ok', error_code = NULL, error_message = NULL",
        )
        .bind(&[
            user.as_str().into(),
            provider.as_str().into(),
            scope.into(),
            through.to_string().into(),
            (now as f64).into(),
        ])
}

/// The statement recording a failed (or not yet ready) sync of `scope`: what was synced before
/// stays, and so does the day the last complete sync reached.
#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
pub fn failed_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    scope: &str,
    status: &str,
    code: &str,
    message: &str,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare(
            "INSERT INTO transaction_syncs (user_id, provider, scope, attempted_at, status, error_code, error_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (user_id, provider, scope) DO UPDATE SET attempted_at = ?4, status = ?5, error_code = ?6,
               error_message = ?7",
        )
        .bind(&[
            user.as_str().into(),
            provider.as_str().into(),
            scope.into(),
            (now as f64).into(),
            status.into(),
            code.into(),
            message.into(),
        ])
}

#[derive(Deserialize)]
struct Row {
    id: String,
    provider: String,
    provider_transaction_id: String,
    account_id: String,
    institution_slug: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    provider_type: String,
    trade_date: String,
    settlement_date: Option<String>,
    security_key: Option<String>,
    ticker: Option<String>,
    security_name: Option<String>,
    quantity: Option<String>,
    price: Option<String>,
    amount: Option<String>,
    fees: Option<String>,
    currency: Option<String>,
    description: Option<String>,
}

fn typed(row: Row) -> Option<Transaction> {
    let dec = |v: Option<String>| v.and_then(|t| Decimal::from_str(&t).ok());
    Some(Transaction {
        id: row.id,
        provider: Provider::parse(&row.provider).ok()?,
        provider_transaction_id: row.provider_transaction_id,
        account_id: row.account_id,
        institution: row.institution_slug.and_then(|s| InstitutionSlug::parse(&s).ok()),
        kind: TransactionType::parse(&row.kind)?,
        provider_type: row.provider_type,
        trade_date: Date::parse(&row.trade_date)?,
        settlement_date: row.settlement_date.as_deref().and_then(Date::parse),
        security: row.security_key.map(|security_key| TransactionSecurity {
            security_key,
            ticker: row.ticker,
            name: row.security_name,
        }),
        quantity: dec(row.quantity),
        price: dec(row.price),
        amount: dec(row.amount),
        fees: dec(row.fees),
        currency: row.currency.and_then(|c| Currency::parse(&c).ok()),
        description: row.description,
    })
}

const COLUMNS: &str = "t.id, t.provider, t.provider_transaction_id, t.account_id, t.institution_slug, t.type,
  t.provider_type, t.trade_date, t.settlement_date, t.security_key, t.ticker, t.security_name, t.quantity, t.price,
  t.amount, t.fees, t.currency, t.description";

/// Up to `limit` of `user`'s transactions matching `query`, newest first (by trade date, then
/// id), after its cursor, of accounts still connected, leaving out the `(provider, institution)`
/// copies in `skipped` (the routing's decision).
pub async fn page(
    env: &Env,
    user: &UserId,
    query: &TransactionQuery,
    skipped: &[(Provider, InstitutionSlug)],
    limit: u32,
) -> DbResult<Vec<Transaction>> {
    let types: Vec<&str> = query.types.iter().map(TransactionType::as_str).collect();
    let skipped: Vec<String> = skipped.iter().map(|(p, s)| format!("{}|{}", p.as_str(), s.as_str())).collect();
    let (cursor_date, cursor_id) = query
        .cursor
        .as_ref()
        .map_or((JsValue::NULL, JsValue::NULL), |c| (c.trade_date.to_string().into(), c.id.as_str().into()));
    let sql = format!(
        "SELECT {COLUMNS} FROM transactions t
         WHERE t.user_id = ?1 AND t.trade_date >= ?2 AND t.trade_date <= ?3
           AND (?4 IS NULL OR t.account_id = ?4)
           AND (?5 = '[]' OR t.type IN (SELECT value FROM json_each(?5)))
           AND (?6 = '[]' OR (t.provider || '|' || COALESCE(t.institution_slug, '')) NOT IN (SELECT value FROM json_each(?6)))
           AND (?7 IS NULL OR t.trade_date < ?7 OR (t.trade_date = ?7 AND t.id < ?8))
           AND EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = t.user_id AND a.provider = t.provider AND a.external_id = t.account_id)
         ORDER BY t.trade_date DESC, t.id DESC LIMIT ?9"
    );
    let rows: Vec<Row> = query_all(
        env,
        &sql,
        &[
            user.as_str().into(),
            query.from.to_string().into(),
            query.to.to_string().into(),
            text(query.account.as_deref()),
            serde_json::to_string(&types).unwrap_or_else(|_| "[]".into()).into(),
            serde_json::to_string(&skipped).unwrap_or_else(|_| "[]".into()).into(),
            cursor_date,
            cursor_id,
            f64::from(limit).into(),
        ],
    )
    .await?;
    Ok(rows.into_iter().filter_map(typed).collect())
}

/// Every `(provider, institution)` `user`'s stored transactions come from, with how many rows each.
pub async fn sources(env: &Env, user: &UserId) -> DbResult<Vec<(Provider, Option<InstitutionSlug>, u64)>> {
    #[derive(Deserialize)]
    struct Source {
        provider: String,
        institution_slug: Option<String>,
        n: u64,
    }
    let rows: Vec<Source> = query_all(
        env,
        "SELECT provider, institution_slug, COUNT(*) AS n FROM transactions WHERE user_id = ?1 GROUP BY provider, institution_slug",
        &[user.as_str().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                Provider::parse(&r.provider).ok()?,
                r.institution_slug.and_then(|s| InstitutionSlug::parse(&s).ok()),
                r.n,
            ))
        })
        .collect())
}

/// `user`'s transactions of `provider` dated after `since` up to `until` (for reconciliation).
pub async fn between(
    env: &Env,
    user: &UserId,
    provider: Provider,
    since: Date,
    until: Date,
) -> DbResult<Vec<Transaction>> {
    let rows: Vec<Row> = query_all(
        env,
        &format!(
            "SELECT {COLUMNS} FROM transactions t WHERE t.user_id = ?1 AND t.provider = ?2 AND t.trade_date > ?3 AND t.trade_date <= ?4"
        ),
        &[user.as_str().into(), provider.as_str().into(), since.to_string().into(), until.to_string().into()],
    )
    .await?;
    Ok(rows.into_iter().filter_map(typed).collect())
}

/// The quantities of `user`'s `provider` positions now and at the read before (each with its
/// fetch time), by (account id, security key), summed over rows of the same security.
pub async fn quantity_snapshots(
    env: &Env,
    user: &UserId,
    provider: Provider,
) -> DbResult<
    Option<(
        tributary_core::transactions::reconcile::QuantitySnapshot,
        tributary_core::transactions::reconcile::QuantitySnapshot,
    )>,
> {
    use tributary_core::transactions::reconcile::QuantitySnapshot;
    #[derive(Deserialize)]
    struct Q {
        account_id: String,
        security_key: String,
        quantity: String,
        taken_at: i64,
    }
    let args = [JsValue::from(user.as_str()), JsValue::from(provider.as_str())];
    let (earlier, later): (Vec<Q>, Vec<Q>) = futures_util::try_join!(
        query_all(
            env,
            "SELECT account_id, security_key, quantity, taken_at FROM previous_positions WHERE user_id = ?1 AND provider = ?2",
            &args,
        ),
        query_all(
            env,
            "SELECT a.external_id AS account_id, p.security_key, p.quantity, s.fetched_at AS taken_at
             FROM positions p JOIN accounts a ON a.id = p.account_id
             JOIN provider_snapshots s ON s.user_id = p.user_id AND s.provider = p.provider
             WHERE p.user_id = ?1 AND p.provider = ?2 AND s.fetched_at IS NOT NULL",
            &args,
        ),
    )?;
    let fold = |rows: Vec<Q>| -> Option<QuantitySnapshot> {
        let taken_at = rows.first()?.taken_at;
        let mut quantities: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        for row in rows {
            let q = Decimal::from_str(&row.quantity).unwrap_or_default();
            let sum = quantities.entry((row.account_id, row.security_key)).or_default();
            *sum = sum.saturating_add(q);
        }
        Some(QuantitySnapshot { taken_at, quantities })
    };
    Ok(fold(earlier).zip(fold(later)))
}

/// The `(user, provider)` transactions pending flag raised for the verified event `event_id`.
pub fn raise_pending_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    event_id: &str,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare(
            "INSERT INTO pending_transactions (user_id, provider, pending, raised_at, last_event_id) VALUES (?1, ?2, 1, ?3, ?4)
             ON CONFLICT (user_id, provider) DO UPDATE SET pending = 1, raised_at = ?3, last_event_id = ?4",
        )
        .bind(&[user.as_str().into(), provider.as_str().into(), (now as f64).into(), event_id.into()])
}

/// Each provider's transactions pending flag of `user` with the event that last raised it.
pub async fn pending_flags(env: &Env, user: &UserId) -> DbResult<Vec<(Provider, bool, Option<String>)>> {
    #[derive(Deserialize)]
    struct Flag {
        provider: String,
        pending: i64,
        last_event_id: Option<String>,
    }
    let rows: Vec<Flag> = query_all(
        env,
        "SELECT provider, pending, last_event_id FROM pending_transactions WHERE user_id = ?1",
        &[user.as_str().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((Provider::parse(&r.provider).ok()?, r.pending != 0, r.last_event_id)))
        .collect())
}

/// The statement clearing the flag after a complete sync, only if no newer event raised it again
/// while the sync ran (`seen_event` is the flag's event when the sync started).
pub fn clear_pending_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    seen_event: Option<&str>,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare(
            "UPDATE pending_transactions SET pending = 0, cleared_at = ?4
             WHERE user_id = ?1 AND provider = ?2 AND pending = 1 AND last_event_id IS ?3",
        )
        .bind(&[user.as_str().into(), provider.as_str().into(), text(seen_event), (now as f64).into()])
}
