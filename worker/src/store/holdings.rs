//! The holdings cache (`accounts`, `positions`, `balances`, `provider_snapshots`). A provider's
//! rows are replaced in ONE D1 batch after a complete successful fetch; a failed fetch only
//! records the failure and never touches the cached rows.

use super::connections::{connection_id, ensure_statement};
use super::{db, query_first, DbResult};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;
use tributary_core::empty_read::CachedAccount;
use tributary_core::{
    Account, CashBalance, Currency, Holdings, InstitutionSlug, Position, Provider, Quantity, SecurityKind, Ticker,
    UserId,
};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// Capabilities stored with an account at import.
pub struct StoredCapabilities {
    pub trading: bool,
    pub realtime: bool,
    pub refresh_cost: &'static str,
}

/// How the last fetch of a provider's holdings ended (`provider_snapshots.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotStatus {
    /// Nothing was attempted yet.
    Never,
    /// The last fetch succeeded and replaced the cache.
    Ok,
    /// The last fetch failed; the cache holds what an earlier fetch found.
    Failed,
}

/// The last fetch of a provider's holdings for a user.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    pub fetched_at: Option<i64>,
    pub status: SnapshotStatus,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub attempted_at: Option<i64>,
}

fn account_key(provider: Provider, external_id: &str) -> String {
    format!("{}:{external_id}", provider.as_str())
}

fn text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from)
}

fn decimal(value: Option<Decimal>) -> JsValue {
    value.map_or(JsValue::NULL, |d| JsValue::from(d.to_string()))
}

/// Whether any of `account_ids` at `provider` is already another user's account (an account id is
/// the provider's own and unique per provider, e.g. an IBKR account number).
pub async fn linked_elsewhere(env: &Env, user: &UserId, provider: Provider, account_ids: &[&str]) -> DbResult<bool> {
    if account_ids.is_empty() {
        return Ok(false);
    }
    let keys: Vec<String> = account_ids.iter().map(|id| account_key(provider, id)).collect();
    let keys = serde_json::to_string(&keys).unwrap_or_else(|_| "[]".into());
    let row: Option<serde_json::Value> = super::query_first(
        env,
        "SELECT 1 AS found FROM accounts WHERE id IN (SELECT value FROM json_each(?1)) AND user_id != ?2 LIMIT 1",
        &[keys.into(), user.as_str().into()],
    )
    .await?;
    Ok(row.is_some())
}

/// Replaces every cached row of `provider` for `user` with `holdings`, atomically (the replaced
/// position quantities are kept in `previous_positions`).
pub async fn replace(
    env: &Env,
    user: &UserId,
    provider: Provider,
    holdings: &Holdings,
    capabilities: &dyn Fn(&Account) -> StoredCapabilities,
    fetched_at: i64,
) -> DbResult<()> {
    let database = db(env)?;
    let (u, p, now) =
        (JsValue::from(user.as_str()), JsValue::from(provider.as_str()), JsValue::from(fetched_at as f64));
    // The quantities being replaced are kept as the previous read, for reconciling the ledger.
    let mut batch: Vec<D1PreparedStatement> = vec![
        database
            .prepare("DELETE FROM previous_positions WHERE user_id = ?1 AND provider = ?2")
            .bind(&[u.clone(), p.clone()])?,
        database
            .prepare(
                "INSERT INTO previous_positions (user_id, provider, account_id, security_key, quantity, taken_at)
                 SELECT p.user_id, p.provider, a.external_id, p.security_key, p.quantity, s.fetched_at
                 FROM positions p JOIN accounts a ON a.id = p.account_id
                 JOIN provider_snapshots s ON s.user_id = p.user_id AND s.provider = p.provider
                 WHERE p.user_id = ?1 AND p.provider = ?2 AND s.fetched_at IS NOT NULL",
            )
            .bind(&[u.clone(), p.clone()])?,
        database.prepare("DELETE FROM positions WHERE user_id = ?1 AND provider = ?2").bind(&[u.clone(), p.clone()])?,
        database.prepare("DELETE FROM balances WHERE user_id = ?1 AND provider = ?2").bind(&[u.clone(), p.clone()])?,
    ];
    let keep: Vec<String> = holdings.accounts.iter().map(|a| account_key(provider, &a.account_id)).collect();
    let keep_json = serde_json::to_string(&keep).unwrap_or_else(|_| "[]".into());
    batch.push(
        database
            .prepare("DELETE FROM accounts WHERE user_id = ?1 AND provider = ?2 AND id NOT IN (SELECT value FROM json_each(?3))")
            .bind(&[u.clone(), p.clone(), keep_json.into()])?,
    );
    for account in &holdings.accounts {
        let connection = account.connection_id.clone().unwrap_or_else(|| format!("account-{}", account.account_id));
        batch.push(ensure_statement(env, user, provider, &connection, fetched_at)?);
        let caps = capabilities(account);
        let args: [JsValue; 16] = [
            account_key(provider, &account.account_id).into(),
            u.clone(),
            p.clone(),
            connection_id(provider, &connection).into(),
            account.account_id.as_str().into(),
            text(account.institution.as_ref().map(InstitutionSlug::as_str)),
            text(account.name.as_deref()),
            text(account.number_mask.as_deref()),
            text(account.account_type.as_deref()),
            text(account.currency.as_ref().map(Currency::as_str)),
            (if caps.trading { 1.0 } else { 0.0 }).into(),
            (if caps.realtime { 1.0 } else { 0.0 }).into(),
            caps.refresh_cost.into(),
            now.clone(),
            text(account.institution_name.as_deref()),
            JsValue::NULL,
        ];
        batch.push(database.prepare(
            "INSERT INTO accounts (id, user_id, provider, connection_id, external_id, institution_slug, name, number_mask,
                                   account_type, currency, cap_trading, cap_realtime, refresh_cost, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
             ON CONFLICT (id) DO UPDATE SET connection_id = excluded.connection_id, institution_slug = excluded.institution_slug,
               name = excluded.name, number_mask = excluded.number_mask, account_type = excluded.account_type,
               currency = excluded.currency, cap_trading = excluded.cap_trading, cap_realtime = excluded.cap_realtime,
               refresh_cost = excluded.refresh_cost, updated_at = excluded.updated_at
             WHERE accounts.user_id = excluded.user_id",
        ).bind(&args[..14])?);
        if let Some(name) = &account.institution_name {
            batch.push(database.prepare(
                "UPDATE connections SET institution_name = COALESCE(institution_name, ?1), institution_slug = COALESCE(institution_slug, ?2) WHERE id = ?3",
            ).bind(&[name.as_str().into(), text(account.institution.as_ref().map(InstitutionSlug::as_str)), connection_id(provider, &connection).into()])?);
        }
    }
    for position in &holdings.positions {
        let args: [JsValue; 14] = [
            u.clone(),
            p.clone(),
            account_key(provider, &position.account_id).into(),
            position.security_key.as_str().into(),
            text(position.ticker.as_ref().map(Ticker::as_str)),
            text(position.name.as_deref()),
            position.kind.as_str().into(),
            position.quantity.0.to_string().into(),
            decimal(position.price),
            decimal(position.market_value),
            decimal(position.cost_basis),
            position.currency.as_str().into(),
            (position.as_of as f64).into(),
            match &position.detail {
                None => JsValue::NULL,
                Some(detail) => {
                    serde_json::to_string(detail).map_err(|e| worker::Error::RustError(e.to_string()))?.into()
                }
            },
        ];
        batch.push(database.prepare(
            "INSERT INTO positions (user_id, provider, account_id, security_key, ticker, name, kind, quantity, price,
                                    market_value, cost_basis, currency, as_of, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        ).bind(&args)?);
    }
    for balance in &holdings.balances {
        batch.push(database.prepare(
            "INSERT INTO balances (account_id, user_id, provider, currency, cash, buying_power, as_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (account_id, currency) DO UPDATE SET cash = excluded.cash, buying_power = excluded.buying_power, as_of = excluded.as_of",
        ).bind(&[
            account_key(provider, &balance.account_id).into(), u.clone(), p.clone(), balance.currency.as_str().into(),
            balance.amount.to_string().into(), decimal(balance.buying_power), (balance.as_of as f64).into(),
        ])?);
    }
    batch.push(database.prepare(
        "INSERT INTO provider_snapshots (user_id, provider, fetched_at, status, error_code, error_message, attempted_at)
         VALUES (?1, ?2, ?3, 'ok', NULL, NULL, ?3)
         ON CONFLICT (user_id, provider) DO UPDATE SET fetched_at = ?3, status = 'ok', error_code = NULL, error_message = NULL, attempted_at = ?3",
    ).bind(&[u, p, now])?);
    database.batch(batch).await?;
    Ok(())
}

/// Records a failed fetch; cached rows stay as they were.
pub async fn record_failure(
    env: &Env,
    user: &UserId,
    provider: Provider,
    code: &str,
    message: &str,
    now: i64,
) -> DbResult<()> {
    db(env)?
        .prepare(
            "INSERT INTO provider_snapshots (user_id, provider, fetched_at, status, error_code, error_message, attempted_at)
             VALUES (?1, ?2, NULL, 'failed', ?3, ?4, ?5)
             ON CONFLICT (user_id, provider) DO UPDATE SET status = 'failed', error_code = ?3, error_message = ?4, attempted_at = ?5",
        )
        .bind(&[user.as_str().into(), provider.as_str().into(), code.into(), message.into(), (now as f64).into()])?
        .run()
        .await?;
    Ok(())
}

/// The last fetch of `provider` for `user`, if any was attempted.
pub async fn snapshot(env: &Env, user: &UserId, provider: Provider) -> DbResult<Option<Snapshot>> {
    query_first(
        env,
        "SELECT fetched_at, status, error_code, error_message, attempted_at FROM provider_snapshots WHERE user_id = ?1 AND provider = ?2",
        &[user.as_str().into(), provider.as_str().into()],
    )
    .await
}

/// The last fetch of one provider for a user, with the provider it is of.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderSnapshot {
    pub provider: Provider,
    #[serde(flatten)]
    pub snapshot: Snapshot,
}

/// The last fetch of every provider attempted for `user`.
pub async fn snapshots(env: &Env, user: &UserId) -> DbResult<Vec<ProviderSnapshot>> {
    super::query_all(
        env,
        "SELECT provider, fetched_at, status, error_code, error_message, attempted_at FROM provider_snapshots
         WHERE user_id = ?1 ORDER BY provider",
        &[user.as_str().into()],
    )
    .await
}

/// What the cache holds per account of `provider` for `user` — how many positions, which cash —
/// for judging a read that empties one ([`tributary_core::empty_read`]). One D1 batch.
pub async fn cached_accounts(env: &Env, user: &UserId, provider: Provider) -> DbResult<Vec<CachedAccount>> {
    #[derive(Deserialize)]
    struct Counted {
        account_id: String,
        positions: i64,
    }
    #[derive(Deserialize)]
    struct Cash {
        account_id: String,
        currency: String,
        cash: String,
    }
    let args = [JsValue::from(user.as_str()), JsValue::from(provider.as_str())];
    let database = db(env)?;
    let statements = vec![
        database
            .prepare(
                "SELECT a.external_id AS account_id, (SELECT COUNT(*) FROM positions p WHERE p.account_id = a.id) AS positions
                 FROM accounts a WHERE a.user_id = ?1 AND a.provider = ?2 ORDER BY a.id",
            )
            .bind(&args)?,
        database
            .prepare(
                "SELECT a.external_id AS account_id, b.currency, b.cash FROM balances b JOIN accounts a ON a.id = b.account_id
                 WHERE b.user_id = ?1 AND b.provider = ?2",
            )
            .bind(&args)?,
    ];
    let mut answers = database.batch(statements).await?.into_iter();
    let mut next =
        || answers.next().ok_or_else(|| worker::Error::RustError("D1 batch answered too few results".into()));
    let counted: Vec<Counted> = next()?.results()?;
    let cash: Vec<Cash> = next()?.results()?;
    counted
        .into_iter()
        .map(|row| {
            let held = cash.iter().filter(|c| c.account_id == row.account_id).map(|c| {
                let corrupt = |what: &str| corrupt_row("balance", &c.account_id, what);
                let currency = Currency::parse(&c.currency).map_err(|_| corrupt("currency"))?;
                Ok((currency, Decimal::from_str(&c.cash).map_err(|_| corrupt("cash"))?))
            });
            Ok(CachedAccount {
                positions: usize::try_from(row.positions).unwrap_or(0),
                cash: held.collect::<DbResult<_>>()?,
                account_id: row.account_id,
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct AccountRow {
    external_id: String,
    connection_external_id: Option<String>,
    institution_slug: Option<String>,
    institution_name: Option<String>,
    name: Option<String>,
    number_mask: Option<String>,
    account_type: Option<String>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct PositionRow {
    account_external_id: String,
    institution_slug: Option<String>,
    security_key: String,
    ticker: Option<String>,
    name: Option<String>,
    kind: String,
    quantity: String,
    price: Option<String>,
    market_value: Option<String>,
    cost_basis: Option<String>,
    currency: String,
    as_of: i64,
    /// JSON of the position's [`tributary_core::domain::PositionDetail`], when the provider sent one.
    detail: Option<String>,
}

#[derive(Deserialize)]
struct BalanceRow {
    account_external_id: String,
    institution_slug: Option<String>,
    currency: String,
    cash: String,
    buying_power: Option<String>,
    as_of: i64,
}

fn dec(text: Option<&str>) -> Option<Decimal> {
    text.and_then(|t| Decimal::from_str(t).ok())
}

fn slug(text: Option<String>) -> Option<InstitutionSlug> {
    text.and_then(|s| InstitutionSlug::parse(&s).ok())
}

/// A cached row that no longer parses: a loud storage error, never a silently smaller portfolio.
fn corrupt_row(kind: &str, key: &str, field: &str) -> worker::Error {
    worker::Error::RustError(format!("cached {kind} {key} has an unreadable {field}"))
}

/// Reads the cached holdings of `provider` for `user`; an unreadable row fails the read.
/// The three SELECTs run as one D1 batch: one round trip, and (a batch being a transaction) one
/// consistent view even while a refresh replaces the rows.
pub async fn read(env: &Env, user: &UserId, provider: Provider) -> DbResult<Holdings> {
    let args = [JsValue::from(user.as_str()), JsValue::from(provider.as_str())];
    let database = db(env)?;
    let statements = vec![
        database.prepare(
            "SELECT a.external_id, c.external_id AS connection_external_id, a.institution_slug, c.institution_name, a.name,
                    a.number_mask, a.account_type, a.currency
             FROM accounts a JOIN connections c ON c.id = a.connection_id
             WHERE a.user_id = ?1 AND a.provider = ?2 ORDER BY a.id",
        ).bind(&args)?,
        database.prepare(
            "SELECT a.external_id AS account_external_id, a.institution_slug, p.security_key, p.ticker, p.name, p.kind, p.quantity,
                    p.price, p.market_value, p.cost_basis, p.currency, p.as_of, p.detail
             FROM positions p JOIN accounts a ON a.id = p.account_id
             WHERE p.user_id = ?1 AND p.provider = ?2 ORDER BY p.id",
        ).bind(&args)?,
        database.prepare(
            "SELECT a.external_id AS account_external_id, a.institution_slug, b.currency, b.cash, b.buying_power, b.as_of
             FROM balances b JOIN accounts a ON a.id = b.account_id
             WHERE b.user_id = ?1 AND b.provider = ?2 ORDER BY b.account_id, b.currency",
        ).bind(&args)?,
    ];
    let mut answers = database.batch(statements).await?.into_iter();
    let mut next =
        || answers.next().ok_or_else(|| worker::Error::RustError("D1 batch answered too few results".into()));
    let accounts: Vec<AccountRow> = next()?.results()?;
    let positions: Vec<PositionRow> = next()?.results()?;
    let balances: Vec<BalanceRow> = next()?.results()?;
    Ok(Holdings {
        accounts: accounts
            .into_iter()
            .map(|r| Account {
                provider,
                account_id: r.external_id,
                connection_id: r.connection_external_id,
                institution: slug(r.institution_slug),
                institution_name: r.institution_name,
                name: r.name,
                number_mask: r.number_mask,
                account_type: r.account_type,
                currency: r.currency.and_then(|c| Currency::parse(&c).ok()),
            })
            .collect(),
        positions: positions
            .into_iter()
            .map(|r| {
                let corrupt = |what: &str| corrupt_row("position", &r.security_key, what);
                let quantity = Quantity(Decimal::from_str(&r.quantity).map_err(|_| corrupt("quantity"))?);
                let currency = Currency::parse(&r.currency).map_err(|_| corrupt("currency"))?;
                let detail = match r.detail.as_deref() {
                    None => None,
                    Some(json) => Some(serde_json::from_str(json).map_err(|_| corrupt("detail"))?),
                };
                Ok(Position {
                    provider,
                    account_id: r.account_external_id,
                    institution: slug(r.institution_slug),
                    ticker: r.ticker.and_then(|t| Ticker::parse(&t).ok()),
                    security_key: r.security_key,
                    name: r.name,
                    kind: SecurityKind::from_name(&r.kind),
                    quantity,
                    price: dec(r.price.as_deref()),
                    market_value: dec(r.market_value.as_deref()),
                    cost_basis: dec(r.cost_basis.as_deref()),
                    currency,
                    as_of: r.as_of,
                    detail,
                })
            })
            .collect::<DbResult<_>>()?,
        balances: balances
            .into_iter()
            .map(|r| {
                let corrupt = |what: &str| corrupt_row("balance", &r.account_external_id, what);
                let currency = Currency::parse(&r.currency).map_err(|_| corrupt("currency"))?;
                let amount = Decimal::from_str(&r.cash).map_err(|_| corrupt("cash"))?;
                Ok(CashBalance {
                    provider,
                    account_id: r.account_external_id,
                    institution: slug(r.institution_slug),
                    currency,
                    amount,
                    buying_power: dec(r.buying_power.as_deref()),
                    as_of: r.as_of,
                })
            })
            .collect::<DbResult<_>>()?,
    })
}

/// A cached copy the missed-webhook sweep may re-read: whose it is, when it was fetched, and when
/// a fetch last failed (if the last one did).
#[derive(Debug, Clone)]
pub struct SweepRow {
    pub user: UserId,
    pub fetched_at: i64,
    pub failed_at: Option<i64>,
}

/// Up to `limit` of `user`s' cached copies of `provider`, oldest first, each with at least one
/// connection there that does not need repair: fetched before `fetched_before` and not failed
/// since `failed_since` when those are given (the caller decides on each user's own clock when
/// they are not, as in development).
pub async fn sweep_rows(
    env: &Env,
    provider: Provider,
    fetched_before: Option<i64>,
    failed_since: Option<i64>,
    limit: u32,
) -> DbResult<Vec<SweepRow>> {
    #[derive(Deserialize)]
    struct Row {
        user_id: String,
        fetched_at: i64,
        status: SnapshotStatus,
        attempted_at: Option<i64>,
    }
    let bound = |at: Option<i64>| at.map_or(JsValue::NULL, |at| JsValue::from(at as f64));
    let rows: Vec<Row> = super::query_all(
        env,
        "SELECT s.user_id, s.fetched_at, s.status, s.attempted_at FROM provider_snapshots s
         WHERE s.provider = ?1 AND s.fetched_at IS NOT NULL
           AND (?2 IS NULL OR s.fetched_at < ?2)
           AND (?3 IS NULL OR s.status != 'failed' OR s.attempted_at IS NULL OR s.attempted_at < ?3)
           AND EXISTS (SELECT 1 FROM connections c WHERE c.user_id = s.user_id AND c.provider = s.provider AND c.needs_repair = 0)
         ORDER BY s.fetched_at LIMIT ?4",
        &[provider.as_str().into(), bound(fetched_before), bound(failed_since), f64::from(limit).into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let user = UserId::parse(&r.user_id).ok()?;
            let failed_at = (r.status == SnapshotStatus::Failed).then_some(r.attempted_at).flatten();
            Some(SweepRow { user, fetched_at: r.fetched_at, failed_at })
        })
        .collect())
}

/// Takes the re-read lease of `user`'s `provider` cache for `owner` until `until_ms` (real clock)
/// when nobody holds it or its holder's time ran out; true when won.
pub async fn claim_reread(
    env: &Env,
    user: &UserId,
    provider: Provider,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> DbResult<bool> {
    let row: Option<serde_json::Value> = super::query_first(
        env,
        "INSERT INTO fetch_leases (user_id, provider, owner, until_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, provider) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
           WHERE fetch_leases.until_ms <= ?5
         RETURNING owner",
        &[
            user.as_str().into(),
            provider.as_str().into(),
            owner.into(),
            (until_ms as f64).into(),
            (now_ms as f64).into(),
        ],
    )
    .await?;
    Ok(row.and_then(|r| r.get("owner").and_then(|o| o.as_str()).map(|o| o == owner)).unwrap_or(false))
}

/// Gives the re-read lease back, if `owner` still holds it.
pub async fn release_reread(env: &Env, user: &UserId, provider: Provider, owner: &str) -> DbResult<()> {
    db(env)?
        .prepare("DELETE FROM fetch_leases WHERE user_id = ?1 AND provider = ?2 AND owner = ?3")
        .bind(&[user.as_str().into(), provider.as_str().into(), owner.into()])?
        .run()
        .await?;
    Ok(())
}
