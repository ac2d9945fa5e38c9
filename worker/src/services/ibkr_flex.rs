//! The IBKR Flex adapter: a person's token and Activity query checked with a real request before
//! anything is saved; statements requested, waited for within one request's bound and otherwise
//! kept pending (reference code in D1) for a later read or the cron trigger; the daily pull; one
//! request a second per token, one reader per connection. Every rule is the core's
//! (`tributary_core::ibkr` for the protocol and the statement, `tributary_core::ibkr::flow` for
//! the bounds and the schedule).

use super::random_nonce;
use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::port::{Connect, ConnectRequest, DueRead, ProviderPort, ScopeRead};
use crate::providers::ibkr_flex::FlexClient;
use crate::store::connections::{self, ConnectionRecord, ConnectionRow};
use crate::store::ibkr_flex::{self as store, FlexQuery};
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tributary_core::capabilities::ConnectionType;
use tributary_core::ibkr::flow::{
    connection_due, gap_wait_ms, in_request_wait_ms, latest_publication, lease_ms, next_poll_at, query_key,
    reference_expired, send_retry_wait_ms, token_pacing_key, wait_before_poll, CRON_DEV_CANDIDATES, CRON_USERS_PER_RUN,
    MIN_POLL_DELAY_S,
};
use tributary_core::ibkr::latest_per_account;
use tributary_core::ibkr::{
    parse_credentials, parse_send_response, read_statement, FlexCredentials, FlexError, Statement,
};
use tributary_core::provider_error::ProviderError;
use tributary_core::sealed::{open, seal};
use tributary_core::time::Date;
use tributary_core::{ErrorCode, Holdings, Provider, UserId};
use worker::{Delay, Env};

const P: Provider = Provider::IbkrFlex;
/// The institution every Flex connection reaches.
const INSTITUTION_NAME: &str = "Interactive Brokers";

fn client(session: &Authenticated) -> Result<FlexClient<'_>, ApiError> {
    let config = session.config.provider(P).ok_or(ProviderError::NotConfigured { provider: P })?;
    Ok(FlexClient::new(config, Duration::from_millis(session.config.provider_timeout_ms)))
}

fn real_now_ms() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}

/// A statement in flight with one token: what it has asked IBKR so far.
#[derive(Default)]
struct Flight {
    reference: Option<String>,
    /// When the reference code was asked for (worker clock).
    requested_at: Option<i64>,
    /// When the last request with the token went out (real clock, ms).
    last_request_ms: Option<i64>,
}

/// How one read of a statement ended.
enum Outcome {
    Ready(Statement),
    /// Still being generated: look again after `wait_s` with the flight's reference code.
    Pending {
        wait_s: u64,
    },
    /// IBKR refused or could not be read; `repair` when only the person can fix it.
    Failed {
        error: ProviderError,
        repair: bool,
    },
}

impl Flight {
    /// Waits until the token may be used again, then remembers this request's time.
    async fn pace(&mut self) {
        let wait = gap_wait_ms(self.last_request_ms, real_now_ms());
        if wait > 0 {
            Delay::from(Duration::from_millis(wait)).await;
        }
        self.last_request_ms = Some(real_now_ms());
    }
}

fn failed(error: FlexError) -> Outcome {
    Outcome::Failed { repair: error.needs_repair(), error: error.to_provider_error() }
}

/// Asks for a statement when the flight has no usable reference code, then polls for it within
/// the core's per-request bound. Touches no storage.
async fn run(
    client: &FlexClient<'_>,
    credentials: &FlexCredentials,
    flight: &mut Flight,
    external_id: &str,
    now: i64,
) -> Outcome {
    let mut polls = 0;
    if flight.reference.is_none() || reference_expired(flight.requested_at, now) {
        flight.reference = None;
        let mut sends = 0;
        loop {
            flight.pace().await;
            let body = match client.send_request(credentials).await {
                Ok(body) => body,
                Err(error) => return Outcome::Failed { error, repair: false },
            };
            sends += 1;
            match parse_send_response(&body) {
                Ok(reference) => {
                    flight.reference = Some(reference);
                    flight.requested_at = Some(now);
                    break;
                }
                Err(FlexError::Wait { wait_s, .. }) => match send_retry_wait_ms(wait_s, sends) {
                    Some(ms) => Delay::from(Duration::from_millis(ms)).await,
                    // Nothing was generated, so nothing is pending: IBKR is busy or throttling.
                    None => {
                        let error = ProviderError::RateLimited { provider: P, retry_after_s: Some(wait_s) };
                        return Outcome::Failed { error, repair: false };
                    }
                },
                Err(other) => return failed(other),
            }
        }
    }
    let reference = flight.reference.clone().unwrap_or_default();
    loop {
        flight.pace().await;
        let body = match client.get_statement(&credentials.token, &reference).await {
            Ok(body) => body,
            Err(error) => return Outcome::Failed { error, repair: false },
        };
        polls += 1;
        match read_statement(&body, external_id, now) {
            Ok(statement) => return Outcome::Ready(statement),
            Err(FlexError::Wait { wait_s, .. }) => match in_request_wait_ms(wait_s, polls) {
                Some(ms) => Delay::from(Duration::from_millis(ms)).await,
                None => return Outcome::Pending { wait_s },
            },
            Err(FlexError::ReferenceInvalid) => {
                flight.reference = None;
                return failed(FlexError::ReferenceInvalid);
            }
            Err(other) => return failed(other),
        }
    }
}

/// The error a pending statement answers with: `statement_pending`, and when to look again.
fn pending_error(wait_s: u64) -> ApiError {
    FlexError::Wait { code: 1019, wait_s: wait_s.max(MIN_POLL_DELAY_S as u64) }.to_provider_error().into()
}

fn credentials(session: &Authenticated, row: &FlexQuery) -> Result<FlexCredentials, ApiError> {
    let (user, key) = (&row.user_id, &session.config.data_key);
    let token = open(key, &row.token, user, P)?;
    let query_id = open(key, &row.query_id, user, P)?;
    Ok(parse_credentials(&token, &query_id)?)
}

/// Runs `flight` paced from the token's last use on any path, and records its last request.
async fn paced_run(
    env: &Env,
    session: &Authenticated,
    client: &FlexClient<'_>,
    credentials: &FlexCredentials,
    flight: &mut Flight,
    external_id: &str,
    now: i64,
) -> Result<Outcome, ApiError> {
    let pacing = token_pacing_key(&session.config.data_key, &credentials.token);
    flight.last_request_ms = store::last_request_ms(env, &pacing).await?;
    let outcome = run(client, credentials, flight, external_id, now).await;
    if let Some(at) = flight.last_request_ms {
        store::touch(env, &pacing, at).await?;
    }
    Ok(outcome)
}

/// Reads one stored connection's statement under its lease and stores what the read learned (the
/// reference code kept or dropped, the statement date, `needs_repair` with IBKR's reason). A
/// statement whose next look is not due yet, or a connection another request is reading, answers
/// pending without asking IBKR.
async fn read_connection(env: &Env, session: &Authenticated, row: &FlexQuery) -> Result<Statement, ApiError> {
    let client = client(session)?;
    let (user, ext) = (&row.user_id, row.external_id.as_str());
    let now = session.now();
    if row.reference_code.is_some() {
        if let Some(wait_s) = wait_before_poll(row.next_poll_at, row.requested_at, now) {
            return Err(pending_error(wait_s));
        }
    }
    let credentials = credentials(session, row)?;
    let owner = super::random_owner();
    let started_ms = real_now_ms();
    let until_ms = started_ms.saturating_add(lease_ms(session.config.provider_timeout_ms));
    if !store::claim(env, user, ext, &owner, started_ms, until_ms).await? {
        return Err(pending_error(MIN_POLL_DELAY_S as u64));
    }
    let mut flight =
        Flight { reference: row.reference_code.clone(), requested_at: row.requested_at, last_request_ms: None };
    let outcome = paced_run(env, session, &client, &credentials, &mut flight, ext, now).await;
    let kept = match &outcome {
        Ok(outcome) => keep(env, user, ext, outcome, &flight, now).await,
        Err(_) => Ok(()),
    };
    if let Err(e) = store::release(env, user, ext, &owner).await {
        crate::api::log_failure("release ibkr flex lease", e);
    }
    kept?;
    match outcome? {
        Outcome::Ready(statement) => Ok(statement),
        Outcome::Pending { wait_s } => Err(pending_error(wait_s)),
        Outcome::Failed { error, .. } => Err(error.into()),
    }
}

/// Stores what one read of a connection learned: the statement's date, the reference code to look
/// at again (kept through a transient failure — a timeout does not cost the statement), or a
/// repair the person must make.
async fn keep(env: &Env, user: &UserId, ext: &str, outcome: &Outcome, flight: &Flight, now: i64) -> worker::Result<()> {
    let pending = |wait_s| {
        let reference = flight.reference.as_deref().unwrap_or_default();
        store::set_pending(env, user, ext, reference, flight.requested_at.unwrap_or(now), next_poll_at(now, wait_s))
    };
    match outcome {
        Outcome::Ready(statement) => {
            store::finish_statement(env, user, ext, Some(&statement.statement_date), now)?.run().await?;
            store::put_ledgers(env, user, ext, &statement.ledgers).await?;
        }
        Outcome::Pending { wait_s } => pending(*wait_s).await?,
        Outcome::Failed { error, repair } => {
            if *repair {
                store::finish_statement(env, user, ext, None, now)?.run().await?;
                connections::repair_statement(env, user, P, ext, true, Some(error.code()), now)?.run().await?;
            } else if flight.reference.is_some() {
                pending(MIN_POLL_DELAY_S as u64).await?;
            } else {
                store::finish_statement(env, user, ext, None, now)?.run().await?;
            }
        }
    }
    Ok(())
}

/// Every stored connection of the session user read now, their holdings together, each account
/// once (two queries covering one account count it once). A connection that needs the person's
/// repair is not asked again: its cached rows are carried as they are. Any other connection that
/// is pending or failing fails the whole read (the cached rows stay as they were).
async fn read_all(env: &Env, session: &Authenticated) -> Result<Holdings, ApiError> {
    let user = &session.claims.user_id;
    let (rows, stored) = futures_util::try_join!(store::list(env, user), connections::list(env, user, P))?;
    let repairing: Vec<&str> = stored.iter().filter(|c| c.needs_repair).map(|c| c.external_id.as_str()).collect();
    let mut holdings = Holdings::default();
    if !repairing.is_empty() {
        holdings = crate::store::holdings::read(env, user, P).await?.of_connections(&repairing);
    }
    // One after another: each read paces its own token, and most people have one query.
    for row in rows.iter().filter(|r| !repairing.contains(&r.external_id.as_str())) {
        holdings.add_new_accounts(read_connection(env, session, row).await?.holdings);
    }
    Ok(holdings)
}

/// What `POST /api/ibkr/connect` did.
pub struct Connected {
    pub connection: Option<ConnectionRow>,
    /// `None` while the first statement is still being generated.
    pub statement: Option<StatementSummary>,
    /// Seconds until the pending statement is looked at again.
    pub retry_after_s: Option<u64>,
    /// A connection for the same query existed and took the new token (repaired in place).
    pub repaired: bool,
}

/// The figures of a statement just read.
pub struct StatementSummary {
    pub statement_date: String,
    pub accounts: usize,
    pub positions: usize,
}

/// Checks `token` and `query_id` with a real request and, only when IBKR accepts them, stores
/// the connection (the token and query id sealed) and what the statement holds. The same query
/// connected again takes the new token in place (a person whose token expired pastes a new one).
/// A statement still being generated after the request's bound is kept pending; a refusal, a
/// query that is not XML or lacks a section stores nothing and names what to fix.
pub async fn connect(env: &Env, session: &Authenticated, token: &str, query_id: &str) -> Result<Connected, ApiError> {
    let credentials = parse_credentials(token, query_id)?;
    let client = client(session)?;
    let user = &session.claims.user_id;
    crate::store::users::ensure(env, user, session.now()).await?;
    let query = query_key(&session.config.data_key, &credentials.query_id);
    let same = store::find_by_query(env, user, &query).await?;
    let external_id = same.clone().unwrap_or_else(new_external_id);
    let now = session.now();
    let mut flight = Flight::default();
    let outcome = paced_run(env, session, &client, &credentials, &mut flight, &external_id, now).await?;
    let wait_s = match &outcome {
        Outcome::Failed { error, .. } => return Err(error.clone().into()),
        Outcome::Pending { wait_s } => Some(*wait_s),
        Outcome::Ready(statement) => {
            let ids: Vec<&str> = statement.holdings.accounts.iter().map(|a| a.account_id.as_str()).collect();
            if crate::store::holdings::linked_elsewhere(env, user, P, &ids).await? {
                return Err(ProviderError::AccountLinkedElsewhere { provider: P }.into());
            }
            None
        }
    };
    let key = &session.config.data_key;
    let sealed_token = seal(key, random_nonce(), user, P, &credentials.token);
    let sealed_query = seal(key, random_nonce(), user, P, &credentials.query_id);
    let mut batch = Vec::new();
    if same.is_some() {
        batch.push(store::replace_secrets_statement(env, user, &external_id, &sealed_token, &sealed_query)?);
    } else {
        let record = ConnectionRecord {
            external_id: external_id.clone(),
            institution_slug: Some(tributary_core::ibkr::IBKR_INSTITUTION.to_owned()),
            institution_name: Some(INSTITUTION_NAME.to_owned()),
            connection_type: ConnectionType::Read.as_str(),
            disabled: false,
            disabled_date: None,
        };
        batch.push(connections::upsert_statement(env, user, P, &record, now)?);
        batch.push(store::insert_statement(env, user, &external_id, &sealed_token, &sealed_query, &query, now)?);
    }
    batch.push(connections::repair_statement(env, user, P, &external_id, false, None, now)?);
    crate::store::db(env)?.batch(batch).await?;
    let (statement, retry_after_s) = match outcome {
        Outcome::Ready(statement) => {
            store::finish_statement(env, user, &external_id, Some(&statement.statement_date), now)?.run().await?;
            store::put_ledgers(env, user, &external_id, &statement.ledgers).await?;
            let summary = StatementSummary {
                statement_date: statement.statement_date.clone(),
                accounts: statement.holdings.accounts.len(),
                positions: statement.holdings.positions.len(),
            };
            cache_after_connect(env, session, statement.holdings, now).await?;
            (Some(summary), None)
        }
        _ => {
            let wait_s = wait_s.unwrap_or(MIN_POLL_DELAY_S as u64);
            let reference = flight.reference.as_deref().unwrap_or_default();
            store::set_pending(
                env,
                user,
                &external_id,
                reference,
                flight.requested_at.unwrap_or(now),
                next_poll_at(now, wait_s),
            )
            .await?;
            (None, Some(u64::try_from(next_poll_at(now, wait_s) - now).unwrap_or(0)))
        }
    };
    let connection = connections::list(env, user, P).await?.into_iter().find(|c| c.external_id == external_id);
    Ok(Connected { connection, statement, retry_after_s, repaired: same.is_some() })
}

/// Caches a new connection's first statement beside the user's other Flex connections' cached
/// rows (a connect reads one query; the others' rows are kept as they are).
async fn cache_after_connect(env: &Env, session: &Authenticated, fresh: Holdings, now: i64) -> Result<(), ApiError> {
    let user = &session.claims.user_id;
    let (cached, stored) =
        futures_util::try_join!(crate::store::holdings::read(env, user, P), connections::list(env, user, P))?;
    let mut all = fresh;
    all.add_new_accounts(cached);
    super::cache::record(env, session, P, Ok(all), &stored, now).await.map(|_| ())
}

fn new_external_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the runtime provides crypto.getRandomValues");
    format!("ibkr-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The session user's Flex connections as the API shows them: the connection row plus its latest
/// statement date, when it was read, and whether a statement is still being generated (never the
/// token or the query id).
pub async fn list_connections(env: &Env, session: &Authenticated) -> Result<Vec<Value>, ApiError> {
    let user = &session.claims.user_id;
    let (rows, queries) = futures_util::try_join!(connections::list(env, user, P), store::list(env, user))?;
    rows.into_iter()
        .map(|row| {
            let query = queries.iter().find(|q| q.external_id == row.external_id);
            let mut value = serde_json::to_value(&row).map_err(|e| ApiError::internal("serialise connection", e))?;
            value["statement_date"] = json!(query.and_then(|q| q.statement_date.clone()));
            value["last_statement_at"] = json!(query.and_then(|q| q.last_statement_at));
            value["statement_pending"] = json!(query.is_some_and(|q| q.reference_code.is_some()));
            value["next_poll_at"] = json!(query.and_then(|q| q.next_poll_at));
            Ok(value)
        })
        .collect()
}

/// What removing a connection took away.
pub struct Removed {
    pub connection: ConnectionRow,
    pub accounts: i64,
    pub positions: i64,
    pub balances: i64,
}

/// Removes one of the session user's Flex connections, its sealed token and query and every
/// cached row under it; `None` when it is not theirs. Nothing is asked of IBKR.
pub async fn remove(env: &Env, session: &Authenticated, external_id: &str) -> Result<Option<Removed>, ApiError> {
    let user = &session.claims.user_id;
    let Some(connection) = connections::list(env, user, P).await?.into_iter().find(|c| c.external_id == external_id)
    else {
        return Ok(None);
    };
    let (accounts, positions, balances) = connections::counts(env, user, P, external_id).await?;
    let mut batch = vec![store::remove_statement(env, user, external_id)?];
    batch.extend(connections::remove_statements(env, user, P, external_id)?);
    crate::store::db(env)?.batch(batch).await?;
    store::remove_ledgers(env, user, external_id).await?;
    Ok(Some(Removed { connection, accounts, positions, balances }))
}

/// The latest statement date over the user's Flex connections (the oldest of them, when there are
/// several: the portfolio is only as recent as its oldest statement).
async fn statement_fields(env: &Env, session: &Authenticated) -> Result<Map<String, Value>, ApiError> {
    let queries = store::list(env, &session.claims.user_id).await?;
    let oldest = queries.iter().filter_map(|q| q.statement_date.clone()).min();
    let mut fields = Map::new();
    fields.insert("statement_date".into(), json!(oldest));
    fields.insert("statement_pending".into(), json!(queries.iter().any(|q| q.reference_code.is_some())));
    Ok(fields)
}

/// The users whose Flex statements are due now (a pending statement's next look has come, or the
/// day's statement is published and not yet read), each checked on their own clock and never for
/// a connection that needs the person's repair; at most [`CRON_USERS_PER_RUN`].
async fn due_now(env: &Env) -> Result<Vec<DueRead>, ApiError> {
    let config = crate::env::load_config(env)?;
    let now = crate::api::now_unix();
    let development = config.environment.is_development();
    // In development each user may run on their own clock, so every candidate is checked on it.
    let limit = if development { CRON_DEV_CANDIDATES } else { CRON_USERS_PER_RUN };
    let candidates = store::due_users(env, now, latest_publication(now), development, limit).await?;
    let mut due = Vec::new();
    for user in candidates {
        if due.len() >= CRON_USERS_PER_RUN as usize {
            break;
        }
        let clock = crate::clock::for_user(env, &user).await;
        let user_now = clock.now();
        // One user's unreadable rows never stop the run for the others.
        let (rows, stored) = match futures_util::try_join!(store::list(env, &user), connections::list(env, &user, P)) {
            Ok(found) => found,
            Err(e) => {
                crate::api::log_failure("ibkr flex scheduled: read connections", e);
                continue;
            }
        };
        let repairing = |row: &FlexQuery| stored.iter().any(|c| c.external_id == row.external_id && c.needs_repair);
        let is_due = rows
            .iter()
            .filter(|row| !repairing(row))
            .any(|row| connection_due(row.reference_code.is_some(), row.next_poll_at, row.last_statement_at, user_now));
        if is_due {
            due.push(DueRead { user, clock });
        }
    }
    Ok(due)
}

/// The activity of each account from the latest statement read of each Flex connection (see
/// `ProviderPort::read_transactions`): nothing is asked of IBKR — a statement is read once a day
/// by the holdings path, and its period, which it covers completely, is the window. An account
/// two queries cover counts once (the core's `latest_per_account`). A connection whose first
/// statement is still being generated is `statement_pending`, not a failure.
async fn read_transactions(
    env: &Env,
    session: &Authenticated,
    today: Date,
) -> Result<Option<Vec<ScopeRead>>, ApiError> {
    let user = &session.claims.user_id;
    let mut statements = Vec::new();
    let mut reads = Vec::new();
    for row in store::list(env, user).await? {
        let Some(ledgers) = store::ledgers(env, user, &row.external_id).await? else {
            let failure = Some(ProviderError::NotReady { provider: P }.into());
            reads.push(ScopeRead { scope: row.external_id, from: today, to: today, transactions: Vec::new(), failure });
            continue;
        };
        statements.extend(ledgers);
    }
    reads.extend(latest_per_account(statements).into_iter().map(|ledger| ScopeRead {
        scope: ledger.account_id,
        from: ledger.from,
        to: ledger.to,
        transactions: ledger.transactions,
        failure: None,
    }));
    Ok(Some(reads))
}

/// The IBKR Flex adapter of the provider port. A read asks for a new statement itself, so it keeps
/// the port's default `provider_refresh` (no separate refresh call, nothing billed).
pub struct IbkrFlexPort;

impl ProviderPort for IbkrFlexPort {
    fn provider(&self) -> Provider {
        P
    }

    fn removes_connections(&self) -> bool {
        true
    }

    /// [`remove`]: the Flex connection ends on our side (IBKR has no call to end a Flex token).
    fn remove_connection<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        connection_external_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            match remove(env, session, connection_external_id).await? {
                Some(_) => Ok(()),
                None => Err(ProviderError::NotFound { provider: P, what: "that IBKR Flex connection".into() }.into()),
            }
        })
    }

    fn fetch_holdings<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        _now: i64,
    ) -> LocalBoxFuture<'a, Result<Holdings, ApiError>> {
        Box::pin(read_all(env, session))
    }

    fn connect<'a>(
        &'a self,
        _env: &'a Env,
        _session: &'a Authenticated,
        _request: ConnectRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<Connect, ApiError>> {
        Box::pin(async {
            Ok(Connect::Flow(json!({
                "kind": "ibkr_flex_token",
                "connect_url": "/api/ibkr/connect",
                "fields": ["token", "query_id"],
                "instructions": {
                    "token": "In IBKR's Client Portal open Performance & Reports › Flex Queries, then Flex Web Service \
                              Configuration: enable the service and copy the Current Token (choose a validity of up to a year).",
                    "query_id": "Under Activity Flex Query create a query with the sections Account Information, Open \
                                 Positions (options Summary and Lot), Cash Report, Trades (option Execution) and Cash \
                                 Transactions (option Detail), Format XML and Date Format yyyyMMdd or yyyy-MM-dd; its Query ID is shown beside its name.",
                },
            })))
        })
    }

    fn last_data_request<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<Option<i64>, ApiError>> {
        Box::pin(async move {
            let queries = store::list(env, &session.claims.user_id).await?;
            Ok(queries.iter().flat_map(|q| [q.requested_at, q.last_statement_at]).flatten().max())
        })
    }

    fn holdings_fields<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<Map<String, Value>, ApiError>> {
        Box::pin(statement_fields(env, session))
    }

    fn due_reads<'a>(&'a self, env: &'a Env) -> LocalBoxFuture<'a, Result<Vec<DueRead>, ApiError>> {
        Box::pin(due_now(env))
    }

    fn read_transactions<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        _synced: &'a BTreeMap<String, Date>,
        today: Date,
    ) -> LocalBoxFuture<'a, Result<Option<Vec<ScopeRead>>, ApiError>> {
        Box::pin(read_transactions(env, session, today))
    }
}
