//! The simulator's IBKR memory: Flex users (each with two account ids, their transactions in a
//! [`Ledger`], its queries and its current token), tokens (a user's replaced ones are remembered, so they answer 1015 and still
//! count for their user), reference codes with their stored statements, the report date, the
//! injected Flex error codes and the per-token throttle.
//!
//! Token checks, in order: unknown → 1015; replaced by a newer token → 1015; expired → 1012;
//! bound to an IP other than the caller's (always 127.0.0.1) → 1013. Token expiry is on the wall
//! clock (Unix seconds, as the controls report it); the throttle is on the monotonic clock.
//! Everything is bounded: users, queries per user, transactions per account, remembered tokens per
//! user and stored reference codes (the oldest is forgotten first).

use super::dates::Date;
use super::flex::{FlexCode, XmlStyle};
use super::history;
use super::injected::InjectedErrors;
use super::options::QueryOptions;
use super::ratelimit::FlexRateLimiter;
use super::seed::{base_date, derived};
use super::statement::{self, Period, Statement, StatementRequest};
use crate::ledger::{Ledger, Tx};
use crate::util::random_bytes;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

/// A new token's validity unless the control says otherwise (six hours).
pub const DEFAULT_TOKEN_TTL_SECS: i64 = 21_600;
/// The longest validity a token may be given (a year).
pub const MAX_TOKEN_TTL_SECS: i64 = 31_536_000;
/// The most Flex users one simulator holds.
pub const MAX_USERS: usize = 1_000;
/// The most queries one user may have.
pub const MAX_QUERIES_PER_USER: usize = 100;
/// The most reference codes remembered (the oldest is forgotten first).
pub const MAX_REFERENCES: usize = 2_000;
/// The most transactions one account's ledger holds (default history included).
pub const MAX_LEDGER_ROWS: usize = 10_000;
/// Tokens remembered per user, the current one included.
const TOKENS_REMEMBERED: usize = 20;
/// The address every request comes from (the simulator listens on loopback only).
pub const CALLER_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// The `queryName` of every simulated query.
pub const QUERY_NAME: &str = "Activity";

/// An issued Flex token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub user: String,
    /// Unix seconds; the token answers 1012 from this second on.
    pub expires_at: i64,
    /// The only address it may be used from, if restricted.
    pub ip: Option<Ipv4Addr>,
}

#[derive(Debug)]
struct User {
    accounts: [String; 2],
    /// The current token; every other remembered token of the user is replaced.
    token: String,
    tokens: VecDeque<String>,
    queries: Vec<u64>,
    /// The user's own report date, when a test set one (otherwise the simulator-wide date).
    report_date: Option<Date>,
    /// Both accounts' transactions: the default history, then what the control posted.
    ledger: Ledger,
}

#[derive(Debug)]
struct Query {
    user: String,
    options: QueryOptions,
}

#[derive(Debug)]
struct Reference {
    user: String,
    polls_left: u32,
    style: XmlStyle,
    statement: Arc<Statement>,
}

/// What creating (or resetting) a user gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub token: String,
    pub expires_at: i64,
    pub query_id: u64,
    pub accounts: [String; 2],
}

/// A SendRequest's optional period override.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodOverride {
    /// The template's own period: the report date (`LastBusinessDay`).
    None,
    /// `fd` through `td`.
    Range(Date, Date),
    /// `p` days ending on the report date.
    Days(u32),
}

/// What a GetStatement poll finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Still "in progress" (1019), in the query's XML style.
    Pending(XmlStyle),
    /// The stored statement.
    Ready(Arc<Statement>),
}

/// The IBKR half's state (see the module docs for the rules).
#[derive(Debug)]
pub struct IbkrState {
    users: HashMap<String, User>,
    tokens: HashMap<String, Token>,
    queries: HashMap<u64, Query>,
    references: HashMap<String, Reference>,
    reference_order: VecDeque<String>,
    report_date: Date,
    /// The injected Flex codes still queued.
    pub errors: InjectedErrors,
    /// The per-token throttle.
    pub rate: FlexRateLimiter,
}

impl Default for IbkrState {
    fn default() -> Self {
        Self {
            users: HashMap::new(),
            tokens: HashMap::new(),
            queries: HashMap::new(),
            references: HashMap::new(),
            reference_order: VecDeque::new(),
            report_date: base_date(),
            errors: InjectedErrors::default(),
            rate: FlexRateLimiter::default(),
        }
    }
}

/// `n` random decimal digits, the first not zero.
fn random_digits(n: usize) -> String {
    random_bytes(n)
        .iter()
        .enumerate()
        .map(|(i, b)| if i == 0 { char::from(b'1' + b % 9) } else { char::from(b'0' + b % 10) })
        .collect()
}

impl IbkrState {
    /// Two distinct `U` + 7-digit account ids derived from `name` (SHA-256), skipping any id
    /// another user already holds; an existing user keeps its ids.
    fn account_ids(&self, name: &str) -> [String; 2] {
        if let Some(user) = self.users.get(name) {
            return user.accounts.clone();
        }
        let taken = |id: &str| self.users.values().any(|u| u.accounts.iter().any(|a| a == id));
        let mut ids = Vec::with_capacity(2);
        for k in 1u32.. {
            let id = format!("U{}", 1_000_000 + derived(&format!("ibkr-account:{name}:{k}"), 9_000_000));
            if !ids.contains(&id) && !taken(&id) {
                ids.push(id);
            }
            if ids.len() == 2 {
                break;
            }
        }
        [ids[0].clone(), ids[1].clone()]
    }

    /// Creates `name`, or resets it: fresh default query, fresh token (`ttl_secs`, unrestricted),
    /// the default transaction history (posted rows forgotten), its earlier queries and reference
    /// codes gone and its earlier tokens replaced.
    pub fn create_user(&mut self, name: &str, now: i64) -> Result<NewUser, String> {
        if !self.users.contains_key(name) && self.users.len() >= MAX_USERS {
            return Err(format!("at most {MAX_USERS} IBKR users"));
        }
        let accounts = self.account_ids(name);
        if let Some(old) = self.users.get_mut(name) {
            for id in std::mem::take(&mut old.queries) {
                self.queries.remove(&id);
            }
        }
        self.references.retain(|_, r| r.user != name);
        let reference_codes = &self.references;
        self.reference_order.retain(|code| reference_codes.contains_key(code));
        let user = self.users.entry(name.to_owned()).or_insert_with(|| User {
            accounts: accounts.clone(),
            token: String::new(),
            tokens: VecDeque::new(),
            queries: Vec::new(),
            report_date: None,
            ledger: Ledger::default(),
        });
        user.queries.clear();
        user.report_date = None;
        user.ledger = history::seeded_ledger(&accounts);
        let query_id = self.add_query(name, QueryOptions::default())?;
        let (token, expires_at) = self.issue_token(name, DEFAULT_TOKEN_TTL_SECS, None, now)?;
        Ok(NewUser { token, expires_at, query_id, accounts })
    }

    /// A new token for `name` valid `ttl_secs` from `now`; the user's previous token stops working.
    pub fn issue_token(
        &mut self,
        name: &str,
        ttl_secs: i64,
        ip: Option<Ipv4Addr>,
        now: i64,
    ) -> Result<(String, i64), String> {
        if !self.users.contains_key(name) {
            return Err(format!("unknown IBKR user {name:?}; create it with POST /__sim/ibkr/users"));
        }
        let token = loop {
            let candidate = random_digits(24);
            if !self.tokens.contains_key(&candidate) {
                break candidate;
            }
        };
        let expires_at = now.saturating_add(ttl_secs);
        self.tokens.insert(token.clone(), Token { user: name.to_owned(), expires_at, ip });
        let user = self.users.get_mut(name).expect("checked above");
        user.token = token.clone();
        user.tokens.push_back(token.clone());
        while user.tokens.len() > TOKENS_REMEMBERED {
            if let Some(old) = user.tokens.pop_front() {
                self.tokens.remove(&old);
                self.rate.forget(&old);
            }
        }
        Ok((token, expires_at))
    }

    /// Makes `token` expired as of `now`; false when it is unknown.
    pub fn expire_token(&mut self, token: &str, now: i64) -> bool {
        self.tokens.get_mut(token).map(|t| t.expires_at = t.expires_at.min(now)).is_some()
    }

    /// Adds a query with `options` for `name`; its id (6–9 digits, unique across users).
    pub fn add_query(&mut self, name: &str, options: QueryOptions) -> Result<u64, String> {
        let Some(user) = self.users.get(name) else {
            return Err(format!("unknown IBKR user {name:?}; create it with POST /__sim/ibkr/users"));
        };
        if user.queries.len() >= MAX_QUERIES_PER_USER {
            return Err(format!("at most {MAX_QUERIES_PER_USER} queries per user"));
        }
        let id = loop {
            let bytes = random_bytes(8);
            let candidate = 100_000 + u64::from_be_bytes(bytes.try_into().expect("8 bytes")) % 999_900_000;
            if !self.queries.contains_key(&candidate) {
                break candidate;
            }
        };
        self.queries.insert(id, Query { user: name.to_owned(), options });
        self.users.get_mut(name).expect("checked above").queries.push(id);
        Ok(id)
    }

    /// The user a token was issued to (replaced and expired tokens included), if remembered.
    pub fn token_user(&self, token: &str) -> Option<&str> {
        self.tokens.get(token).map(|t| t.user.as_str())
    }

    /// The user `token` acts for when it may be used from [`CALLER_IP`] at `now`, else its error code.
    pub fn authorize(&self, token: &str, now: i64) -> Result<String, FlexCode> {
        let entry = self.tokens.get(token).ok_or(FlexCode::TOKEN_INVALID)?;
        let current = self.users.get(&entry.user).is_some_and(|u| u.token == token);
        if !current {
            return Err(FlexCode::TOKEN_INVALID);
        }
        if now >= entry.expires_at {
            return Err(FlexCode::TOKEN_EXPIRED);
        }
        if entry.ip.is_some_and(|ip| ip != CALLER_IP) {
            return Err(FlexCode::IP_RESTRICTION);
        }
        Ok(entry.user.clone())
    }

    /// Counts one request of `token` against the throttle at `now`; false when it is throttled.
    pub fn admit(&mut self, token: &str, now: Instant) -> bool {
        self.rate.admit(token, now)
    }

    /// The date new statements report.
    pub fn report_date(&self) -> Date {
        self.report_date
    }

    /// Sets the date new statements report (existing reference codes keep theirs): of every user
    /// without a date of their own, or only of `user`.
    pub fn set_report_date(&mut self, date: Date, user: Option<&str>) -> Result<(), String> {
        match user {
            None => self.report_date = date,
            Some(name) => {
                let user = self.users.get_mut(name).ok_or_else(|| format!("unknown IBKR user {name:?}"))?;
                user.report_date = Some(date);
            }
        }
        Ok(())
    }

    /// Changes how many GetStatement polls of the statements `user`'s query `query_id` produces
    /// from now on are answered 1019 (reference codes already issued keep their count).
    pub fn set_pending_polls(&mut self, user: &str, query_id: u64, polls: u32) -> Result<(), String> {
        let query = self.queries.get_mut(&query_id).filter(|q| q.user == user).ok_or("unknown query of that user")?;
        query.options.pending_polls = polls;
        Ok(())
    }

    /// Makes every statement `user` asked for and has not fetched yet ready on its next poll;
    /// returns how many there were.
    pub fn finish_generating(&mut self, user: &str) -> usize {
        let mut finished = 0;
        for reference in self.references.values_mut().filter(|r| r.user == user && r.polls_left > 0) {
            reference.polls_left = 0;
            finished += 1;
        }
        finished
    }

    /// Whether `query_id` is one of `user`'s queries.
    pub fn has_query(&self, user: &str, query_id: u64) -> bool {
        self.queries.get(&query_id).is_some_and(|q| q.user == user)
    }

    /// SendRequest for `user`: a new reference code for query `query_id` (1014 unless it is one of
    /// the user's) over the current report date, with its statement generated now (`now`: Unix
    /// seconds) and stored; also the query's XML style for the answer.
    pub fn send_request(
        &mut self,
        user: &str,
        query_id: u64,
        period: PeriodOverride,
        now: i64,
    ) -> Result<(String, XmlStyle), FlexCode> {
        let query = self.queries.get(&query_id).filter(|q| q.user == user).ok_or(FlexCode::QUERY_INVALID)?;
        let owner = self.users.get(user).ok_or(FlexCode::QUERY_INVALID)?;
        let accounts = &owner.accounts;
        let report_date = self.users.get(user).and_then(|u| u.report_date).unwrap_or(self.report_date);
        let period = match period {
            PeriodOverride::None => Period { from: report_date, to: report_date, name: "LastBusinessDay" },
            PeriodOverride::Range(from, to) => Period { from, to, name: "" },
            PeriodOverride::Days(days) => {
                Period { from: report_date.add_days(1 - i64::from(days)), to: report_date, name: "LastNCalendarDays" }
            }
        };
        let (date, time, _) = super::dates::eastern(now);
        let request = StatementRequest {
            account_ids: accounts,
            query_name: QUERY_NAME,
            report_date,
            period,
            options: &query.options,
            generated_at: (date, time),
            ledger: &owner.ledger,
        };
        let statement = Arc::new(statement::render(&request));
        let options = &query.options;
        let style = XmlStyle { single_quotes: options.single_quotes, declaration: options.xml_declaration };
        let polls_left = options.pending_polls;
        let code = loop {
            let candidate = random_digits(10);
            if !self.references.contains_key(&candidate) {
                break candidate;
            }
        };
        while self.reference_order.len() >= MAX_REFERENCES {
            if let Some(oldest) = self.reference_order.pop_front() {
                self.references.remove(&oldest);
            }
        }
        self.references.insert(code.clone(), Reference { user: user.to_owned(), polls_left, style, statement });
        self.reference_order.push_back(code.clone());
        Ok((code, style))
    }

    /// The user holding account `account_id`, if any.
    pub fn account_owner(&self, account_id: &str) -> Option<&str> {
        self.users.iter().find(|(_, u)| u.accounts.iter().any(|a| a == account_id)).map(|(name, _)| name.as_str())
    }

    /// The seeded account `account_id` of `user` on the current report date (for a posted row's
    /// default currency and instrument).
    pub fn account(&self, user: &str, account_id: &str) -> Option<super::model::Account> {
        let owner = self.users.get(user)?;
        let index = owner.accounts.iter().position(|a| a == account_id)?;
        let [first, second] = super::seed::accounts(&owner.accounts, base_date());
        Some(if index == 0 { first } else { second })
    }

    /// Appends `drafts` to `account_id` of `user`, all or none (ids not given are made by
    /// [`history::transaction_id`]); statements requested from now on whose period covers a row's
    /// date show it. Returns the `transactionID`s in order, or why nothing was appended.
    pub fn post_transactions(
        &mut self,
        user: &str,
        account_id: &str,
        drafts: Vec<(Option<String>, Tx)>,
    ) -> Result<Vec<String>, String> {
        let owner = self.users.get_mut(user).ok_or_else(|| format!("unknown IBKR user {user:?}"))?;
        if !owner.accounts.iter().any(|a| a == account_id) {
            return Err(format!("account {account_id:?} is not one of {user:?}'s"));
        }
        if owner.ledger.len(account_id) + drafts.len() > MAX_LEDGER_ROWS {
            return Err(format!("an account holds at most {MAX_LEDGER_ROWS} transactions"));
        }
        owner.ledger.append(account_id, drafts, false, &history::transaction_id).map_err(|e| e.to_string())
    }

    /// GetStatement for `user`: 1017 unless `code` is one of the user's reference codes; then
    /// `Pending` for the query's first `pending_polls` polls, the stored statement afterwards.
    pub fn poll(&mut self, user: &str, code: &str) -> Result<Poll, FlexCode> {
        let reference = self.references.get_mut(code).filter(|r| r.user == user).ok_or(FlexCode::REFERENCE_INVALID)?;
        if reference.polls_left > 0 {
            reference.polls_left -= 1;
            return Ok(Poll::Pending(reference.style));
        }
        Ok(Poll::Ready(reference.statement.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_773_400_000;

    #[test]
    fn a_new_token_replaces_the_old_and_expiry_and_ip_are_checked_in_order() {
        let mut state = IbkrState::default();
        let ann = state.create_user("ann", NOW).unwrap();
        assert_eq!((ann.token.len(), ann.expires_at), (24, NOW + DEFAULT_TOKEN_TTL_SECS));
        assert!(ann.accounts.iter().all(|a| a.len() == 8 && a.starts_with('U')) && ann.accounts[0] != ann.accounts[1]);
        assert_eq!(state.authorize(&ann.token, NOW), Ok("ann".to_owned()));
        assert_eq!(state.authorize("123", NOW), Err(FlexCode::TOKEN_INVALID));
        let (newer, _) = state.issue_token("ann", MAX_TOKEN_TTL_SECS, Some(Ipv4Addr::new(10, 0, 0, 1)), NOW).unwrap();
        assert_eq!(state.authorize(&ann.token, NOW), Err(FlexCode::TOKEN_INVALID), "replaced");
        assert_eq!(state.token_user(&ann.token), Some("ann"), "still attributed for call counts");
        assert_eq!(state.authorize(&newer, NOW), Err(FlexCode::IP_RESTRICTION));
        assert!(state.expire_token(&newer, NOW));
        assert_eq!(state.authorize(&newer, NOW), Err(FlexCode::TOKEN_EXPIRED), "expiry is checked before the IP");
        let (local, _) = state.issue_token("ann", DEFAULT_TOKEN_TTL_SECS, Some(CALLER_IP), NOW).unwrap();
        assert!(state.authorize(&local, NOW + DEFAULT_TOKEN_TTL_SECS - 1).is_ok());
        assert_eq!(state.authorize(&local, NOW + DEFAULT_TOKEN_TTL_SECS), Err(FlexCode::TOKEN_EXPIRED));
        assert!(state.issue_token("nobody", DEFAULT_TOKEN_TTL_SECS, None, NOW).is_err());
    }

    #[test]
    fn queries_and_reference_codes_belong_to_their_user() {
        let mut state = IbkrState::default();
        let ann = state.create_user("ann", NOW).unwrap();
        let bob = state.create_user("bob", NOW).unwrap();
        assert_ne!(ann.query_id, bob.query_id);
        assert!((100_000..=999_999_999).contains(&ann.query_id));
        assert!(ann.accounts.iter().all(|a| !bob.accounts.contains(a)));
        assert_eq!(state.send_request("ann", bob.query_id, PeriodOverride::None, NOW), Err(FlexCode::QUERY_INVALID));
        let (code, _) = state.send_request("ann", ann.query_id, PeriodOverride::None, NOW).unwrap();
        assert_eq!(code.len(), 10);
        assert_eq!(state.poll("bob", &code), Err(FlexCode::REFERENCE_INVALID));
        assert!(matches!(state.poll("ann", &code), Ok(Poll::Pending(_))));
        let Ok(Poll::Ready(first)) = state.poll("ann", &code) else { panic!("ready after one poll") };
        let Ok(Poll::Ready(again)) = state.poll("ann", &code) else { panic!("still ready") };
        assert_eq!(first, again);
        let reset = state.create_user("ann", NOW).unwrap();
        assert_eq!(reset.accounts, ann.accounts, "account ids are derived from the name");
        assert_eq!(state.poll("ann", &code), Err(FlexCode::REFERENCE_INVALID), "a reset forgets reference codes");
        assert_eq!(state.send_request("ann", ann.query_id, PeriodOverride::None, NOW), Err(FlexCode::QUERY_INVALID));
    }
}
