//! The simulator's SnapTrade memory: users and their secrets, connections (brokerage
//! authorizations), the accounts a connection holds, their activities and trading, and
//! connection-portal sessions.

use super::seed::{self, Brokerage};
use super::seed_json::AccountView;
use super::trading::book::TradingState;
use crate::ledger::Ledger;
use crate::util::{random_bytes, random_uuid};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a connection-portal link stays valid (SnapTrade: 5 minutes).
pub const PORTAL_LINK_TTL: Duration = Duration::from_secs(300);
/// Portal sessions kept at most; older ones are dropped first.
const MAX_SESSIONS: usize = 10_000;

/// The `connectionType` asked for at login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionType {
    Read,
    Trade,
    TradeIfAvailable,
}

impl ConnectionType {
    /// Parses `read`, `trade` or `trade-if-available`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "trade" => Some(Self::Trade),
            "trade-if-available" => Some(Self::TradeIfAvailable),
            _ => None,
        }
    }

    /// Whether a connection to `brokerage` made with this request is trade-enabled.
    pub fn grants_trade(self, brokerage: &Brokerage) -> bool {
        self != Self::Read && brokerage.allows_trading
    }
}

/// A registered SnapTrade user.
#[derive(Debug)]
pub struct User {
    pub secret: String,
    /// Authorization ids in creation order.
    pub authorizations: Vec<String>,
}

/// A connection to one brokerage login.
#[derive(Debug)]
pub struct Authorization {
    pub id: String,
    pub user_id: String,
    pub brokerage: &'static Brokerage,
    pub trade: bool,
    pub disabled: bool,
    pub disabled_at: Option<i64>,
    pub created: i64,
    pub updated: i64,
    /// When holdings were last "synced" from the brokerage (connect, reconnect, refresh).
    pub synced: i64,
    pub last_refresh: Option<Instant>,
    /// Account ids in seed order.
    pub accounts: Vec<String>,
}

/// A brokerage account under an authorization; its data is seed account `seed_index` of the brokerage.
#[derive(Debug)]
pub struct Account {
    pub id: String,
    pub authorization_id: String,
    pub user_id: String,
    pub seed_index: usize,
    pub created: i64,
}

/// One `POST /snapTrade/login` result waiting for the person to finish the portal.
#[derive(Debug)]
pub struct PortalSession {
    pub token: String,
    pub user_id: String,
    pub broker: Option<&'static Brokerage>,
    pub custom_redirect: Option<String>,
    pub reconnect: Option<String>,
    pub connection_type: ConnectionType,
    pub expires: Instant,
    pub used: bool,
}

/// Why a lookup of an id failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    NotFound,
    /// The id exists but belongs to another user.
    Forbidden,
}

/// Why the portal could not complete a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalError {
    UnknownSession,
    Expired,
    AlreadyUsed,
    UnknownBrokerage(String),
    TradingNotSupported(&'static str),
}

/// A completed portal connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub authorization_id: String,
    pub custom_redirect: Option<String>,
}

/// All SnapTrade state.
#[derive(Debug, Default)]
pub struct SnapState {
    pub users: HashMap<String, User>,
    pub authorizations: HashMap<String, Authorization>,
    pub accounts: HashMap<String, Account>,
    pub sessions: HashMap<String, PortalSession>,
    /// Every account's activities (each account gets its default history when it is created).
    pub activities: Ledger,
    /// Orders, placements, trading settings and cash moved by fills, per account.
    pub trading: TradingState,
}

/// A fresh user secret (32 random bytes, hex).
fn new_secret() -> String {
    random_bytes(32).iter().map(|b| format!("{b:02x}")).collect()
}

impl SnapState {
    /// Registers `user_id` and returns its new secret, or `None` when it already exists.
    pub fn register(&mut self, user_id: &str) -> Option<String> {
        if self.users.contains_key(user_id) {
            return None;
        }
        let secret = new_secret();
        self.users.insert(user_id.to_owned(), User { secret: secret.clone(), authorizations: Vec::new() });
        Some(secret)
    }

    /// Whether `user_id` exists and `secret` is its secret.
    pub fn authenticate(&self, user_id: &str, secret: &str) -> bool {
        self.users.get(user_id).is_some_and(|u| u.secret.as_bytes() == secret.as_bytes())
    }

    /// The user's authorization `id`.
    pub fn authorization(&self, user_id: &str, id: &str) -> Result<&Authorization, Denied> {
        match self.authorizations.get(id) {
            Some(a) if a.user_id == user_id => Ok(a),
            Some(_) => Err(Denied::Forbidden),
            None => Err(Denied::NotFound),
        }
    }

    /// The user's authorization `id`, mutably.
    pub fn authorization_mut(&mut self, user_id: &str, id: &str) -> Result<&mut Authorization, Denied> {
        match self.authorizations.get_mut(id) {
            Some(a) if a.user_id == user_id => Ok(a),
            Some(_) => Err(Denied::Forbidden),
            None => Err(Denied::NotFound),
        }
    }

    /// The user's account `id` with its rendering context.
    pub fn account(&self, user_id: &str, id: &str) -> Result<AccountView<'_>, Denied> {
        match self.accounts.get(id) {
            Some(a) if a.user_id == user_id => Ok(self.view(a)),
            Some(_) => Err(Denied::Forbidden),
            None => Err(Denied::NotFound),
        }
    }

    fn view<'a>(&'a self, account: &'a Account) -> AccountView<'a> {
        let auth = &self.authorizations[&account.authorization_id];
        AccountView {
            id: &account.id,
            authorization_id: &auth.id,
            brokerage: auth.brokerage,
            seed: &auth.brokerage.accounts[account.seed_index],
            created: account.created,
            synced: auth.synced,
            first_activity: self.activities.rows(&account.id).iter().map(|r| r.tx.date).min().map(|d| d.iso()),
        }
    }

    /// The user's authorizations in creation order.
    pub fn user_authorizations(&self, user_id: &str) -> Vec<&Authorization> {
        let ids = self.users.get(user_id).map(|u| u.authorizations.as_slice()).unwrap_or_default();
        ids.iter().filter_map(|id| self.authorizations.get(id)).collect()
    }

    /// The user's accounts across all authorizations, in creation order.
    pub fn user_accounts(&self, user_id: &str) -> Vec<AccountView<'_>> {
        let auths = self.user_authorizations(user_id);
        auths
            .iter()
            .flat_map(|a| a.accounts.iter())
            .filter_map(|id| self.accounts.get(id))
            .map(|a| self.view(a))
            .collect()
    }

    /// Stores a portal session under a new id and returns the id; expired and excess sessions are dropped.
    pub fn add_session(&mut self, session: PortalSession, now: Instant) -> String {
        self.sessions.retain(|_, s| s.expires > now && !s.used);
        if self.sessions.len() >= MAX_SESSIONS {
            self.sessions.clear();
        }
        let id = random_uuid();
        self.sessions.insert(id.clone(), session);
        id
    }

    /// The live session `id` if `token` is its token.
    pub fn session(&self, id: &str, token: &str, now: Instant) -> Result<&PortalSession, PortalError> {
        let session = self.sessions.get(id).filter(|s| s.token == token).ok_or(PortalError::UnknownSession)?;
        if session.used {
            Err(PortalError::AlreadyUsed)
        } else if session.expires <= now {
            Err(PortalError::Expired)
        } else {
            Ok(session)
        }
    }

    /// Completes session `id`: reconnects its `reconnect` authorization, or connects `broker` (forced
    /// by the session's broker when set) — reusing the user's existing connection to that brokerage,
    /// as SnapTrade de-duplicates connections — or creates a new one with the seeded accounts.
    pub fn connect(
        &mut self,
        id: &str,
        token: &str,
        broker: &str,
        now: Instant,
        unix: i64,
    ) -> Result<Connected, PortalError> {
        let session = self.session(id, token, now)?;
        let brokerage = match session.broker {
            Some(b) => b,
            None => seed::brokerage(broker).ok_or_else(|| PortalError::UnknownBrokerage(broker.to_owned()))?,
        };
        if session.connection_type == ConnectionType::Trade && !brokerage.allows_trading {
            return Err(PortalError::TradingNotSupported(brokerage.name));
        }
        let (user_id, trade) = (session.user_id.clone(), session.connection_type.grants_trade(brokerage));
        let custom_redirect = session.custom_redirect.clone();
        let existing = session.reconnect.clone().or_else(|| {
            self.user_authorizations(&user_id).iter().find(|a| a.brokerage.slug == brokerage.slug).map(|a| a.id.clone())
        });
        if let Some(s) = self.sessions.get_mut(id) {
            s.used = true;
        }
        let authorization_id = match existing.and_then(|id| self.authorizations.get_mut(&id)) {
            Some(auth) => {
                auth.disabled = false;
                auth.disabled_at = None;
                auth.trade = trade;
                (auth.updated, auth.synced) = (unix, unix);
                auth.id.clone()
            }
            None => self.create_authorization(&user_id, brokerage, trade, unix),
        };
        Ok(Connected { authorization_id, custom_redirect })
    }

    fn create_authorization(&mut self, user_id: &str, brokerage: &'static Brokerage, trade: bool, unix: i64) -> String {
        let id = random_uuid();
        let mut accounts = Vec::new();
        for seed_index in 0..brokerage.accounts.len() {
            let account_id = random_uuid();
            let account = Account {
                id: account_id.clone(),
                authorization_id: id.clone(),
                user_id: user_id.to_owned(),
                seed_index,
                created: unix,
            };
            self.accounts.insert(account_id.clone(), account);
            super::activities::seed_history(&mut self.activities, &account_id, brokerage, seed_index, unix);
            accounts.push(account_id);
        }
        let auth = Authorization {
            id: id.clone(),
            user_id: user_id.to_owned(),
            brokerage,
            trade,
            disabled: false,
            disabled_at: None,
            created: unix,
            updated: unix,
            synced: unix,
            last_refresh: None,
            accounts,
        };
        self.authorizations.insert(id.clone(), auth);
        if let Some(user) = self.users.get_mut(user_id) {
            user.authorizations.push(id.clone());
        }
        id
    }

    /// Deletes the user's authorization `id` with its accounts (their activities stay in the
    /// ledger under ids no request can name again).
    pub fn delete_authorization(&mut self, user_id: &str, id: &str) -> Result<(), Denied> {
        self.authorization(user_id, id)?;
        let auth = self.authorizations.remove(id).expect("just found");
        for account in &auth.accounts {
            self.accounts.remove(account);
        }
        if let Some(user) = self.users.get_mut(user_id) {
            user.authorizations.retain(|a| a != id);
        }
        Ok(())
    }

    /// Disables every connection of `user_id` (of every user when `None`); returns how many changed.
    pub fn disable_all(&mut self, user_id: Option<&str>, unix: i64) -> usize {
        let mut changed = 0;
        for auth in self.authorizations.values_mut() {
            if user_id.is_none_or(|u| u == auth.user_id) && !auth.disabled {
                (auth.disabled, auth.disabled_at, auth.updated) = (true, Some(unix), unix);
                changed += 1;
            }
        }
        changed
    }

    /// Forgets when `user_id`'s connections were last refreshed, so the next refresh is not
    /// throttled (what waiting out SnapTrade's per-connection cooldown would do). Returns how many
    /// connections were throttled.
    pub fn end_refresh_throttle(&mut self, user_id: &str) -> usize {
        let mine = self.authorizations.values_mut().filter(|a| a.user_id == user_id);
        mine.filter_map(|a| a.last_refresh.take()).count()
    }
}
