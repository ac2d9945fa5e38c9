//! The simulator's Schwab memory: authorization codes, access tokens, logins (one refresh token
//! each), every customer's account data, its accounts' transactions (see [`super::history`]) and
//! orders (see [`super::orders`]), with issue times on a simulated clock that
//! `POST /__sim/schwab/age` can wind back per customer.
//!
//! Times are milliseconds since this state was created (a monotonic clock); ageing a customer
//! subtracts from the issue times of everything it owns, so "now" itself never moves. Orders are
//! not aged: they keep the wall-clock times their calls were given.

use super::orders::book::OrderBook;
use super::seed;
use crate::ibkr::dates::Date;
use crate::ledger::Ledger;
use crate::util::{random_bytes, stable_uuid};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

/// How long an authorization code may be exchanged (Schwab: about 30 seconds).
pub const CODE_TTL_MS: i64 = 30_000;
/// How long an access token works (`expires_in`).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 1800;
/// How long a login's refresh token works, counted from the login (never extended by refreshing).
pub const REFRESH_TOKEN_TTL_SECS: i64 = 7 * 24 * 3600;
/// Issued items are forgotten this long after they stopped working (bounds memory).
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

/// A code issued by the consent page, waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub customer: String,
    pub issued_ms: i64,
    pub used: bool,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub client_id: String,
    pub customer: String,
    pub issued_ms: i64,
}

/// One successful code exchange: a login, identified by its refresh token.
#[derive(Debug, Clone)]
pub struct Login {
    pub client_id: String,
    pub customer: String,
    pub issued_ms: i64,
}

/// Who an accepted access token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The app (client id) the token was issued to.
    pub client_id: String,
    /// The Schwab customer who logged in.
    pub customer: String,
}

/// The tokens of a successful exchange or refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub customer: String,
}

/// Why a code exchange failed (every reason is a 400 `invalid_grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Unknown,
    Used,
    Expired,
    RedirectMismatch,
    WrongClient,
}

impl CodeError {
    /// The `error_description` for this failure.
    pub fn description(self) -> &'static str {
        match self {
            CodeError::Unknown => "Authorization code is invalid.",
            CodeError::Used => "Authorization code has already been used.",
            CodeError::Expired => "Authorization code has expired.",
            CodeError::RedirectMismatch => "redirect_uri does not match the one the code was issued for.",
            CodeError::WrongClient => "Authorization code was issued to another client.",
        }
    }
}

/// How many items of a customer an ageing moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Aged {
    pub codes: usize,
    pub access_tokens: usize,
    pub logins: usize,
}

/// All Schwab state.
#[derive(Debug)]
pub struct SchwabState {
    epoch: Instant,
    codes: HashMap<String, Code>,
    access_tokens: HashMap<String, AccessToken>,
    /// Logins by refresh token.
    logins: HashMap<String, Login>,
    /// Each customer's newest login (its refresh token): the only one whose refresh token works.
    newest_login: HashMap<String, String>,
    /// Account data replaced through the control; customers not listed see the seed.
    accounts: HashMap<String, Vec<Value>>,
    /// Every account's transactions, keyed by account hash.
    pub transactions: Ledger,
    /// The day each customer's default histories are dated back from (when they were first needed).
    history_anchors: HashMap<String, Date>,
    /// Orders, placement requests and per-account trading settings (see [`super::orders`]).
    pub orders: OrderBook,
}

impl Default for SchwabState {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            logins: HashMap::new(),
            newest_login: HashMap::new(),
            accounts: HashMap::new(),
            transactions: Ledger::default(),
            history_anchors: HashMap::new(),
            orders: OrderBook::default(),
        }
    }
}

/// `n` random bytes as unpadded base64url.
fn random_b64(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(n))
}

impl SchwabState {
    /// Milliseconds on the simulated clock, now.
    pub fn now_ms(&self) -> i64 {
        i64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Issues a new authorization code (`C0.<b64url>.<b64url>@`, decoded form) for `customer`.
    pub fn issue_code(&mut self, client_id: &str, redirect_uri: &str, customer: &str) -> String {
        let now = self.now_ms();
        self.codes.retain(|_, c| now - c.issued_ms < CODE_TTL_MS + FORGET_AFTER_MS);
        let code = format!("C0.{}.{}@", random_b64(48), random_b64(24));
        let entry = Code {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            customer: customer.to_owned(),
            issued_ms: now,
            used: false,
        };
        self.codes.insert(code.clone(), entry);
        code
    }

    /// The customer a code (decoded form) was issued for, if it exists.
    pub fn code_customer(&self, code: &str) -> Option<&str> {
        self.codes.get(code).map(|c| c.customer.as_str())
    }

    /// The customer a refresh token belongs to, if it was ever issued (and not yet forgotten).
    pub fn refresh_customer(&self, refresh_token: &str) -> Option<&str> {
        self.logins.get(refresh_token).map(|l| l.customer.as_str())
    }

    fn issue_access_token(&mut self, client_id: &str, customer: &str, now: i64) -> String {
        let ttl_ms = ACCESS_TOKEN_TTL_SECS * 1000;
        self.access_tokens.retain(|_, t| now - t.issued_ms < ttl_ms + FORGET_AFTER_MS);
        let token = format!("I0.{}@", random_b64(96));
        let entry = AccessToken { client_id: client_id.to_owned(), customer: customer.to_owned(), issued_ms: now };
        self.access_tokens.insert(token.clone(), entry);
        token
    }

    /// Exchanges an unused, fresh code issued to `client_id` for `redirect_uri`: a new login for
    /// its customer (which retires the customer's older refresh tokens) and a new access token.
    /// A failed attempt leaves the code as it was.
    pub fn exchange_code(&mut self, client_id: &str, code: &str, redirect_uri: &str) -> Result<Tokens, CodeError> {
        let now = self.now_ms();
        let entry = self.codes.get_mut(code).ok_or(CodeError::Unknown)?;
        if entry.used {
            return Err(CodeError::Used);
        }
        if now - entry.issued_ms >= CODE_TTL_MS {
            return Err(CodeError::Expired);
        }
        if entry.client_id != client_id {
            return Err(CodeError::WrongClient);
        }
        if entry.redirect_uri != redirect_uri {
            return Err(CodeError::RedirectMismatch);
        }
        entry.used = true;
        let customer = entry.customer.clone();
        let refresh_ttl_ms = REFRESH_TOKEN_TTL_SECS * 1000;
        self.logins.retain(|_, l| now - l.issued_ms < refresh_ttl_ms + FORGET_AFTER_MS);
        let refresh_token = format!("{}@", random_b64(48));
        let login = Login { client_id: client_id.to_owned(), customer: customer.clone(), issued_ms: now };
        self.logins.insert(refresh_token.clone(), login);
        self.newest_login.insert(customer.clone(), refresh_token.clone());
        let access_token = self.issue_access_token(client_id, &customer, now);
        Ok(Tokens { access_token, refresh_token, customer })
    }

    /// A new access token for the refresh token of `client_id`'s customer, if it belongs to the
    /// customer's newest login and that login is younger than seven days; the refresh token stays the same.
    pub fn refresh(&mut self, client_id: &str, refresh_token: &str) -> Option<Tokens> {
        let now = self.now_ms();
        let login = self.logins.get(refresh_token)?;
        let newest = self.newest_login.get(&login.customer).is_some_and(|t| t == refresh_token);
        if !newest || login.client_id != client_id || now - login.issued_ms >= REFRESH_TOKEN_TTL_SECS * 1000 {
            return None;
        }
        let customer = login.customer.clone();
        let access_token = self.issue_access_token(client_id, &customer, now);
        Some(Tokens { access_token, refresh_token: refresh_token.to_owned(), customer })
    }

    /// Who `access_token` acts for, and whether it still works (issued at most 1800 s ago).
    pub fn caller(&self, access_token: &str) -> Option<(Caller, bool)> {
        let token = self.access_tokens.get(access_token)?;
        let valid = self.now_ms() - token.issued_ms <= ACCESS_TOKEN_TTL_SECS * 1000;
        Some((Caller { client_id: token.client_id.clone(), customer: token.customer.clone() }, valid))
    }

    /// Makes every code, access token and login of `customer` `seconds` older.
    pub fn age(&mut self, customer: &str, seconds: i64) -> Aged {
        let ms = seconds.saturating_mul(1000);
        let mut aged = Aged::default();
        for code in self.codes.values_mut().filter(|c| c.customer == customer) {
            code.issued_ms -= ms;
            aged.codes += 1;
        }
        for token in self.access_tokens.values_mut().filter(|t| t.customer == customer) {
            token.issued_ms -= ms;
            aged.access_tokens += 1;
        }
        for login in self.logins.values_mut().filter(|l| l.customer == customer) {
            login.issued_ms -= ms;
            aged.logins += 1;
        }
        aged
    }

    /// The customer's accounts as stored (positions included): replaced data, else the seed.
    pub fn accounts(&self, customer: &str) -> Vec<Value> {
        self.accounts.get(customer).cloned().unwrap_or_else(seed::default_accounts)
    }

    /// The customer's accounts for changing in place (a fill): the seed is copied in on first use,
    /// and nothing else (histories, orders) is touched.
    pub fn accounts_mut(&mut self, customer: &str) -> &mut Vec<Value> {
        self.accounts.entry(customer.to_owned()).or_insert_with(seed::default_accounts)
    }

    /// Replaces the customer's account data (already validated) and drops the transactions of its
    /// accounts as they were, so the next read makes default histories from the new positions.
    pub fn set_accounts(&mut self, customer: &str, accounts: Vec<Value>) {
        for old in self.accounts(customer) {
            if let Some(number) = seed::account_number(&old) {
                self.transactions.forget(&seed::account_hash(customer, number));
            }
        }
        self.accounts.insert(customer.to_owned(), accounts);
    }

    /// The day `customer`'s default histories are dated back from: fixed to `today` on first use.
    pub fn history_anchor(&mut self, customer: &str, today: Date) -> Date {
        *self.history_anchors.entry(customer.to_owned()).or_insert(today)
    }
}

/// A JWT-looking (but unsigned, fake) `id_token` for `customer` of `client_id`.
pub fn id_token(client_id: &str, customer: &str, unix: i64) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let claims = json!({
        "iss": "https://api.schwabapi.com",
        "sub": stable_uuid(&format!("schwab-customer:{customer}")),
        "aud": client_id,
        "iat": unix,
        "exp": unix + ACCESS_TOKEN_TTL_SECS,
    });
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{}", part(&header), part(&claims), random_b64(64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_single_use_and_bound_to_client_and_redirect() {
        let mut state = SchwabState::default();
        let code = state.issue_code("app", "https://127.0.0.1:8182", "ann");
        assert!(code.starts_with("C0.") && code.ends_with('@') && code.matches('.').count() == 2, "{code}");
        assert_eq!(state.exchange_code("app", &code, "https://127.0.0.1:8182/"), Err(CodeError::RedirectMismatch));
        assert_eq!(state.exchange_code("other", &code, "https://127.0.0.1:8182"), Err(CodeError::WrongClient));
        let tokens = state.exchange_code("app", &code, "https://127.0.0.1:8182").unwrap();
        assert!(tokens.access_token.starts_with("I0.") && tokens.refresh_token.ends_with('@'));
        assert_eq!(state.exchange_code("app", &code, "https://127.0.0.1:8182"), Err(CodeError::Used));
        assert_eq!(state.exchange_code("app", "C0.x.y@", "https://127.0.0.1:8182"), Err(CodeError::Unknown));
        let late = state.issue_code("app", "r", "ann");
        assert_eq!(state.age("ann", 30).codes, 2);
        assert_eq!(state.exchange_code("app", &late, "r"), Err(CodeError::Expired));
    }

    #[test]
    fn only_the_newest_login_refreshes_and_only_for_seven_days() {
        let mut state = SchwabState::default();
        let first = state.issue_code("app", "r", "ann");
        let first = state.exchange_code("app", &first, "r").unwrap();
        let refreshed = state.refresh("app", &first.refresh_token).unwrap();
        assert_eq!(refreshed.refresh_token, first.refresh_token);
        assert_ne!(refreshed.access_token, first.access_token);
        assert!(state.refresh("other", &first.refresh_token).is_none());
        let second = state.issue_code("app", "r", "ann");
        let second = state.exchange_code("app", &second, "r").unwrap();
        assert!(state.refresh("app", &first.refresh_token).is_none(), "a newer login retires the old token");
        assert!(state.refresh("app", &second.refresh_token).is_some());
        state.age("ann", REFRESH_TOKEN_TTL_SECS - 1);
        assert!(state.refresh("app", &second.refresh_token).is_some());
        state.age("ann", 1);
        assert!(state.refresh("app", &second.refresh_token).is_none());
    }

    #[test]
    fn access_tokens_last_1800_seconds() {
        let mut state = SchwabState::default();
        let code = state.issue_code("app", "r", "bob");
        let tokens = state.exchange_code("app", &code, "r").unwrap();
        let caller = Caller { client_id: "app".into(), customer: "bob".into() };
        assert_eq!(state.caller(&tokens.access_token), Some((caller.clone(), true)));
        assert_eq!(state.age("bob", ACCESS_TOKEN_TTL_SECS - 1).access_tokens, 1);
        assert_eq!(state.caller(&tokens.access_token), Some((caller.clone(), true)));
        state.age("bob", 2);
        assert_eq!(state.caller(&tokens.access_token), Some((caller, false)));
        assert_eq!(state.age("nobody", 5), Aged::default());
    }

    #[test]
    fn id_tokens_look_like_jwts() {
        let token = id_token("app", "ann", 1_700_000_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!((claims["aud"].as_str(), claims["exp"].as_i64()), (Some("app"), Some(1_700_001_800)));
    }
}
