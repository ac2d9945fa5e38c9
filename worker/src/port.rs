//! The provider port: what every provider adapter offers the shared paths (holdings fetch and
//! cache, the refresh policy, routing health, link-time connect, `/api/portfolio`). The one place
//! that names each provider's adapter is [`crate::registry`]; nothing else matches on a provider.

use crate::api::ApiError;
use crate::auth::Authenticated;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};
use tributary_core::coverage::ProviderState;
use tributary_core::provider_error::ProviderError;
use tributary_core::trading::{BrokerImpact, OrderForm, OrderState, ProviderOrder, TradableSymbol};
use tributary_core::{Holdings, InstitutionSlug, Provider};
use worker::Env;

/// What a connect request asks of the chosen provider.
pub struct ConnectRequest<'a> {
    pub institution: Option<&'a InstitutionSlug>,
    pub need_trading: bool,
    /// Where the provider's flow returns the person (already validated).
    pub redirect: &'a str,
    /// Where the provider's webhooks for this deployment go (`/webhooks/<provider>` on the
    /// request's origin).
    pub webhook_origin: &'a str,
}

/// What a transactions sync read of one scope (a SnapTrade account, a Plaid Item) found.
pub struct ScopeRead {
    /// What the provider's reads are per (the account or Item id).
    pub scope: String,
    /// The window read (the core's `sync_window`).
    pub from: tributary_core::time::Date,
    pub to: tributary_core::time::Date,
    /// Every row read, the pages before a failure included.
    pub transactions: Vec<tributary_core::transactions::Transaction>,
    /// `None` when every page was read; else why the read stopped (rows read before it are kept).
    pub failure: Option<ApiError>,
}

/// A user whose data a cron run reads, on the clock their decisions use.
pub struct DueRead {
    pub user: tributary_core::UserId,
    pub clock: crate::clock::Clock,
}

/// How a connect request is answered.
pub enum Connect {
    /// The provider's flow: `{kind, url, …}`, returned beside the routing decision.
    Flow(Value),
    /// The user already has this institution at the provider; nothing was created or billed.
    AlreadyConnected {
        /// The institution's name, for the message.
        name: String,
        /// What the user already has (e.g. the Plaid Item), shown as it is.
        existing: Value,
    },
}

/// Why a trading call produced no answer: the provider's refusal or lost answer, or a failure of
/// our own platform before anything was sent (reading the user's credentials).
#[derive(Debug)]
pub enum TradeCallError {
    Provider(ProviderError),
    /// Nothing reached the provider.
    Platform(ApiError),
}

impl From<ProviderError> for TradeCallError {
    fn from(error: ProviderError) -> Self {
        Self::Provider(error)
    }
}

/// One account a trading call is for: the provider's account id, and the brokerage it is at.
pub struct TradeAccount<'a> {
    pub account_id: &'a str,
    pub brokerage: &'a str,
}

/// A provider's trading calls, each answering the provider's own refusal as the
/// `ProviderError` its answer means (inside [`TradeCallError`]) (the shared trading service types it). Every call is sent
/// once: none is retried, a place least of all.
pub trait TradingPort: Sync {
    /// Instruments tradable in the account whose symbol or name contains `query` (at most 20).
    fn search_symbols<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        query: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<TradableSymbol>, TradeCallError>>;

    /// The broker's own preview of the order (its figures, each nullable).
    fn preview<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        order: &'a OrderForm,
        symbol_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<BrokerImpact, TradeCallError>>;

    /// Places the order once, passing `client_order_id` through to the broker.
    fn place<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        order: &'a OrderForm,
        symbol_id: &'a str,
        client_order_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<ProviderOrder, TradeCallError>>;

    /// The account's recent orders in every state, as the broker lists them now.
    fn recent_orders<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
    ) -> LocalBoxFuture<'a, Result<Vec<ProviderOrder>, TradeCallError>>;

    /// Asks the broker to cancel an open order; `Some(state)` when its answer says where the
    /// order now stands.
    fn cancel<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        brokerage_order_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<OrderState>, TradeCallError>>;
}

/// One provider, served to the shared paths. Each method states its error contract.
pub trait ProviderPort: Sync {
    /// The provider this adapter serves.
    fn provider(&self) -> Provider;

    /// Reads the session user's complete holdings from the provider now, normalised by the core.
    ///
    /// - MUST return empty holdings (not an error) when the user has nothing connected there.
    /// - MUST return `ProviderError::Auth` when the provider rejects our credentials, and
    ///   `ProviderError::ReauthRequired` when only a new login at the provider can help (after
    ///   marking the connection `needs_repair` with that code).
    /// - MUST fail whole rather than return a partial read (a missing account is an error).
    /// - MUST NOT write the holdings cache: the shared path replaces it after a complete read.
    fn fetch_holdings<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        now: i64,
    ) -> LocalBoxFuture<'a, Result<Holdings, ApiError>>;

    /// Asks the provider to re-read the institution (a billed call where its spec says so).
    /// Returns how many such calls succeeded and the first failure; MUST attempt every
    /// connection even after one fails. The default, `(0, None)`, is for a provider with no such
    /// call (its reads are live, or a read asks for new data itself).
    fn provider_refresh<'a>(
        &'a self,
        _env: &'a Env,
        _session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<(usize, Option<ApiError>), ApiError>> {
        Box::pin(async { Ok((0, None)) })
    }

    /// The provider's routing health for this deployment, given that it is configured. MUST NOT
    /// fail: a health source that cannot be read counts as healthy (fail-open routing).
    fn health<'a>(&'a self, _env: &'a Env, _session: &'a Authenticated) -> LocalBoxFuture<'a, ProviderState> {
        Box::pin(async { ProviderState::healthy() })
    }

    /// When the provider was last asked for new data for the session user by any path (a
    /// refresh, a scheduled pull, a connect), for the refresh policy's provider throttle. MUST
    /// be `None` for a provider without one (only its refresh log counts then).
    fn last_data_request<'a>(
        &'a self,
        _env: &'a Env,
        _session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<Option<i64>, ApiError>> {
        Box::pin(async { Ok(None) })
    }

    /// Fields the provider adds to its `GET /api/<provider>/holdings` body beside the shared ones
    /// (IBKR Flex: `statement_date`). MUST NOT name a shared field.
    fn holdings_fields<'a>(
        &'a self,
        _env: &'a Env,
        _session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<Map<String, Value>, ApiError>> {
        Box::pin(async { Ok(Map::new()) })
    }

    /// The users whose data a cron run should read now through the shared fetch path, each with
    /// the clock their decisions use (IBKR Flex: a pending statement whose next look is due, or a
    /// published daily statement not read yet). MUST return a bounded list; MUST NOT call the
    /// provider. The default is nobody.
    fn due_reads<'a>(&'a self, _env: &'a Env) -> LocalBoxFuture<'a, Result<Vec<DueRead>, ApiError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Reads the session user's transactions for a sync (fetch-only, never a billed call): for each
    /// scope (account or Item) the window `tributary_core::transactions::sync::sync_window` gives
    /// from `synced` (the day each scope's last complete sync reached) to `today`, every page.
    ///
    /// - MUST return `Ok(None)` when the provider offers no transactions (yet); `Ok(Some(vec![]))`
    ///   when the user has nothing connected there.
    /// - A page that fails ends that scope's read with its `failure` (other scopes still read);
    ///   a failure before any scope can be read (credentials) is the `Err`.
    /// - MUST NOT write the ledger: the shared sync stores what the reads found.
    fn read_transactions<'a>(
        &'a self,
        _env: &'a Env,
        _session: &'a Authenticated,
        _synced: &'a std::collections::BTreeMap<String, tributary_core::time::Date>,
        _today: tributary_core::time::Date,
    ) -> LocalBoxFuture<'a, Result<Option<Vec<ScopeRead>>, ApiError>> {
        Box::pin(async { Ok(None) })
    }

    /// The provider's trading calls, when Tributary can place orders through it (SnapTrade).
    /// The default, `None`, is a provider that cannot trade; the core's gate refuses its accounts
    /// before this is asked.
    fn trading(&self) -> Option<&dyn TradingPort> {
        None
    }

    /// Whether [`Self::remove_connection`] can end a connection at this provider (a migration
    /// away from a provider that cannot is refused before anything is read).
    fn removes_connections(&self) -> bool {
        false
    }

    /// Ends one of the session user's connections at the provider (`connection_external_id`: the
    /// provider's id — the Plaid Item, the SnapTrade authorization), then deletes its stored rows
    /// (the connection, its accounts and their cached positions and balances) in one batch.
    ///
    /// - MUST return `ProviderError::NotFound` when the user has no such stored connection, before
    ///   any provider call.
    /// - MUST count a connection the provider no longer knows (its 404) as ended.
    /// - MUST leave every stored row in place when the provider refused or did not answer (the
    ///   connection is still there): the provider's error is returned as it is.
    /// - MUST send the provider's removal call once (never retried).
    /// - The default (a provider Tributary cannot end connections at, `removes_connections` false)
    ///   returns `migration_removal_unsupported` and calls nothing.
    fn remove_connection<'a>(
        &'a self,
        _env: &'a Env,
        _session: &'a Authenticated,
        _connection_external_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), ApiError>> {
        let provider = self.provider();
        Box::pin(async move { Err(tributary_core::migration::MigrationError::RemovalUnsupported { provider }.into()) })
    }

    /// Starts the provider's connection flow for a routed institution. MUST create nothing billed
    /// before the person completes the flow.
    fn connect<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        request: ConnectRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<Connect, ApiError>>;
}
