//! The simulator's Plaid memory: link tokens and their hosted-Link sessions, public tokens, Items
//! (with their investment transactions, and whether their login is broken) and their access
//! tokens. An update-mode link token names an existing Item: finishing its session repairs that
//! Item's login and creates no Item and no public token. Times are Unix seconds passed in by the
//! caller.

use super::seed::{self, Institution};
use super::{random_id, PlaidError};
use crate::ledger::Ledger;
use crate::util::random_uuid;
use std::collections::HashMap;

/// How long a link token lives (Plaid: 4 hours).
pub const LINK_TOKEN_TTL_SECS: i64 = 4 * 3600;
/// How long a hosted Link URL stays usable unless `url_lifetime_seconds` says otherwise (30 minutes).
pub const HOSTED_LINK_DEFAULT_LIFETIME_SECS: i64 = 30 * 60;
/// How long an update-mode link token lives (Plaid: 30 minutes).
pub const UPDATE_LINK_TOKEN_TTL_SECS: i64 = 30 * 60;
/// How long a public token may wait to be exchanged (Plaid: 30 minutes).
pub const PUBLIC_TOKEN_TTL_SECS: i64 = 30 * 60;

/// What `/link/token/create` asked for.
#[derive(Clone, Debug)]
pub struct LinkRequest {
    pub client_user_id: String,
    pub client_name: String,
    pub language: String,
    pub country_codes: Vec<String>,
    pub products: Vec<String>,
    pub webhook: Option<String>,
    pub redirect_uri: Option<String>,
    pub completion_redirect_uri: String,
    pub url_lifetime_secs: i64,
    /// Update mode: the id of the Item (named by `access_token`) this session repairs.
    pub update_item: Option<String>,
}

/// A link token and what became of it.
#[derive(Debug)]
pub struct LinkToken {
    pub token: String,
    pub request: LinkRequest,
    pub created: i64,
    pub expires: i64,
    /// When the hosted Link URL stops working.
    pub url_expires: i64,
    /// The finished hosted-Link session, once the person picked an institution.
    pub session: Option<LinkSession>,
}

/// A finished hosted-Link session.
#[derive(Clone, Debug)]
pub struct LinkSession {
    pub id: String,
    pub started: i64,
    pub finished: i64,
    /// The new Item's public token; `None` for an update-mode session (nothing to exchange).
    pub public_token: Option<String>,
    pub item_id: String,
}

/// Where an Item is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemStatus {
    /// Linked; its public token has not been exchanged yet.
    Pending,
    /// Exchanged: the access token works.
    Active,
    /// Removed with `/item/remove`.
    Removed,
}

/// A linked login at one institution.
#[derive(Debug)]
pub struct Item {
    pub item_id: String,
    pub client_user_id: String,
    pub institution: &'static Institution,
    pub webhook: Option<String>,
    pub link_token: String,
    pub public_token: String,
    pub access_token: Option<String>,
    /// Account ids in seed order.
    pub account_ids: Vec<String>,
    pub status: ItemStatus,
    pub created: i64,
    /// When holdings were last "updated" from the institution (link, refresh).
    pub last_update: i64,
    /// The last webhook sent for this Item: (unix time, webhook_code).
    pub last_webhook: Option<(i64, String)>,
    /// The investment transactions of every account of the Item (default histories at link time).
    pub transactions: Ledger,
    /// What `/investments/transactions/get` and the `INVESTMENTS_TRANSACTIONS` webhook report.
    pub investments: InvestmentsStatus,
    /// The login is broken (`/sandbox/item/reset_login` or the break control): Item-scoped calls
    /// answer `ITEM_LOGIN_REQUIRED` and `/item/get` shows it, until an update-mode session finishes.
    pub login_required: bool,
}

/// The Item's investment-transactions status beyond its rows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InvestmentsStatus {
    /// The next this-many `/investments/transactions/get` calls answer `PRODUCT_NOT_READY`.
    pub not_ready: u32,
    /// Rows added by the controls since the last `INVESTMENTS_TRANSACTIONS` webhook was sent.
    pub new_since_webhook: u64,
    /// Rows cancelled by the control since the last `INVESTMENTS_TRANSACTIONS` webhook was sent.
    pub cancelled_since_webhook: u64,
}

/// Why the hosted Link page cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkPageError {
    /// No such link token was issued.
    UnknownToken,
    /// The link token or its hosted Link URL lifetime is over.
    Expired,
    /// The session already finished (one Item per link token).
    AlreadyCompleted,
    /// The submitted `institution_id` is not a seeded institution.
    UnknownInstitution(String),
}

/// The result of finishing a hosted-Link session.
#[derive(Debug)]
pub struct Completed {
    pub public_token: String,
    pub link_session_id: String,
    pub institution: &'static Institution,
    pub completion_redirect_uri: String,
}

/// The result of finishing an update-mode hosted-Link session.
#[derive(Debug)]
pub struct Repaired {
    pub item_id: String,
    pub link_session_id: String,
    pub institution: &'static Institution,
    pub completion_redirect_uri: String,
}

/// Everything the Plaid half remembers.
#[derive(Debug, Default)]
pub struct PlaidState {
    link_tokens: HashMap<String, LinkToken>,
    /// Public token → item id.
    public_tokens: HashMap<String, String>,
    /// Access token → item id (kept after removal so the token answers `ITEM_NOT_FOUND`).
    access_tokens: HashMap<String, String>,
    items: HashMap<String, Item>,
}

impl PlaidState {
    /// Stores a new link token for `request`; returns the token.
    pub fn create_link_token(&mut self, request: LinkRequest, now: i64) -> &LinkToken {
        let token = format!("link-sandbox-{}", random_uuid());
        let url_expires = now + request.url_lifetime_secs;
        let ttl = if request.update_item.is_some() { UPDATE_LINK_TOKEN_TTL_SECS } else { LINK_TOKEN_TTL_SECS };
        let link =
            LinkToken { token: token.clone(), request, created: now, expires: now + ttl, url_expires, session: None };
        self.link_tokens.entry(token).or_insert(link)
    }

    /// The link token `token`, if it was ever issued.
    pub fn link_token(&self, token: &str) -> Option<&LinkToken> {
        self.link_tokens.get(token)
    }

    /// The link token `token` if its hosted Link page may still be used at `now`.
    pub fn open_link(&self, token: &str, now: i64) -> Result<&LinkToken, LinkPageError> {
        let link = self.link_tokens.get(token).ok_or(LinkPageError::UnknownToken)?;
        if link.session.is_some() {
            Err(LinkPageError::AlreadyCompleted)
        } else if now >= link.url_expires.min(link.expires) {
            Err(LinkPageError::Expired)
        } else {
            Ok(link)
        }
    }

    /// Finishes the hosted-Link session of `token` at `institution_id`: creates the (pending) Item
    /// and its public token.
    pub fn complete_link(&mut self, token: &str, institution_id: &str, now: i64) -> Result<Completed, LinkPageError> {
        if self.open_link(token, now)?.request.update_item.is_some() {
            return Err(LinkPageError::UnknownToken);
        }
        let institution = seed::institution(institution_id)
            .ok_or_else(|| LinkPageError::UnknownInstitution(institution_id.to_owned()))?;
        let link = self.link_tokens.get_mut(token).ok_or(LinkPageError::UnknownToken)?;
        let item_id = random_id(37);
        let public_token = format!("public-sandbox-{}", random_uuid());
        let session = LinkSession {
            id: random_uuid(),
            started: link.created.max(now - 60),
            finished: now,
            public_token: Some(public_token.clone()),
            item_id: item_id.clone(),
        };
        let mut item = Item {
            item_id: item_id.clone(),
            client_user_id: link.request.client_user_id.clone(),
            institution,
            webhook: link.request.webhook.clone(),
            link_token: token.to_owned(),
            public_token: public_token.clone(),
            access_token: None,
            account_ids: institution.accounts.iter().map(|_| random_id(37)).collect(),
            status: ItemStatus::Pending,
            created: now,
            last_update: now,
            last_webhook: None,
            transactions: Ledger::default(),
            investments: InvestmentsStatus::default(),
            login_required: false,
        };
        super::transactions::seed_item(&mut item);
        let completed = Completed {
            public_token: public_token.clone(),
            link_session_id: session.id.clone(),
            institution,
            completion_redirect_uri: link.request.completion_redirect_uri.clone(),
        };
        link.session = Some(session);
        self.public_tokens.insert(public_token, item_id.clone());
        self.items.insert(item_id, item);
        Ok(completed)
    }

    /// Finishes the update-mode session of `token`: its Item's login works again. No Item and no
    /// public token are created; the Item's access token is unchanged.
    pub fn complete_update_link(&mut self, token: &str, now: i64) -> Result<Repaired, LinkPageError> {
        let link = self.open_link(token, now)?;
        let item_id = link.request.update_item.clone().ok_or(LinkPageError::UnknownToken)?;
        let item = self.items.get_mut(&item_id).filter(|i| i.status == ItemStatus::Active);
        let item = item.ok_or(LinkPageError::UnknownToken)?;
        item.login_required = false;
        item.last_update = now;
        let institution = item.institution;
        let link = self.link_tokens.get_mut(token).ok_or(LinkPageError::UnknownToken)?;
        let session = LinkSession {
            id: random_uuid(),
            started: link.created.max(now - 60),
            finished: now,
            public_token: None,
            item_id: item_id.clone(),
        };
        let repaired = Repaired {
            item_id,
            link_session_id: session.id.clone(),
            institution,
            completion_redirect_uri: link.request.completion_redirect_uri.clone(),
        };
        link.session = Some(session);
        Ok(repaired)
    }

    /// Breaks the login of the Item behind `access_token` (`/sandbox/item/reset_login`).
    pub fn reset_login(&mut self, access_token: &str) -> Result<(), PlaidError> {
        self.item_mut(access_token)?.login_required = true;
        Ok(())
    }

    /// Breaks the login of the active Item `item_id` (the loopback control); `false` when there is none.
    pub fn break_login(&mut self, item_id: &str) -> bool {
        match self.items.get_mut(item_id).filter(|i| i.status == ItemStatus::Active) {
            Some(item) => {
                item.login_required = true;
                true
            }
            None => false,
        }
    }

    /// Exchanges a public token (once, within [`PUBLIC_TOKEN_TTL_SECS`]) for an access token:
    /// returns (access token, item id, client user id).
    pub fn exchange(&mut self, public_token: &str, now: i64) -> Result<(String, String, String), PlaidError> {
        let invalid = |m: &str| PlaidError::invalid_input("INVALID_PUBLIC_TOKEN", m);
        let item_id = self.public_tokens.get(public_token).ok_or_else(|| {
            invalid("provided public token is in an invalid format. expected format: public-<environment>-<identifier>")
        })?;
        let item = self.items.get_mut(item_id).ok_or_else(|| invalid("provided public token is invalid"))?;
        if item.status != ItemStatus::Pending {
            return Err(invalid("provided public token has already been exchanged"));
        }
        if now - item.created > PUBLIC_TOKEN_TTL_SECS {
            return Err(invalid("provided public token is expired. Public tokens expire 30 minutes after creation at which point they can no longer be exchanged"));
        }
        let access_token = format!("access-sandbox-{}", random_uuid());
        item.access_token = Some(access_token.clone());
        item.status = ItemStatus::Active;
        self.access_tokens.insert(access_token.clone(), item.item_id.clone());
        Ok((access_token, item.item_id.clone(), item.client_user_id.clone()))
    }

    /// The active Item behind `access_token`: `INVALID_ACCESS_TOKEN` if it was never issued,
    /// `ITEM_NOT_FOUND` if its Item was removed.
    pub fn item(&self, access_token: &str) -> Result<&Item, PlaidError> {
        let item = self.access_tokens.get(access_token).and_then(|id| self.items.get(id));
        match item {
            None => Err(invalid_access_token()),
            Some(item) if item.status == ItemStatus::Removed => Err(item_not_found()),
            Some(item) => Ok(item),
        }
    }

    /// Like [`PlaidState::item`], mutably.
    pub fn item_mut(&mut self, access_token: &str) -> Result<&mut Item, PlaidError> {
        self.item(access_token)?;
        let id = self.access_tokens.get(access_token).ok_or_else(invalid_access_token)?;
        self.items.get_mut(id).ok_or_else(invalid_access_token)
    }

    /// Any Item (pending, active or removed) by id.
    pub fn item_by_id(&self, item_id: &str) -> Option<&Item> {
        self.items.get(item_id)
    }

    /// The ids of every Item (pending, active or removed) created for `client_user_id`, sorted.
    pub fn items_of(&self, client_user_id: &str) -> Vec<String> {
        let mut ids: Vec<String> =
            self.items.values().filter(|i| i.client_user_id == client_user_id).map(|i| i.item_id.clone()).collect();
        ids.sort();
        ids
    }

    /// Any Item by id, mutably.
    pub fn item_by_id_mut(&mut self, item_id: &str) -> Option<&mut Item> {
        self.items.get_mut(item_id)
    }

    /// Removes the Item behind `access_token`; its token then answers `ITEM_NOT_FOUND`.
    pub fn remove(&mut self, access_token: &str) -> Result<(), PlaidError> {
        self.item_mut(access_token)?.status = ItemStatus::Removed;
        Ok(())
    }

    /// The `client_user_id` a link token was created for.
    pub fn link_token_user(&self, token: &str) -> Option<String> {
        self.link_tokens.get(token).map(|l| l.request.client_user_id.clone())
    }

    /// The `client_user_id` of the Item a public token belongs to.
    pub fn public_token_user(&self, token: &str) -> Option<String> {
        self.public_tokens.get(token).and_then(|id| self.items.get(id)).map(|i| i.client_user_id.clone())
    }

    /// The `client_user_id` of the Item an access token belongs to (removed Items included).
    pub fn access_token_user(&self, token: &str) -> Option<String> {
        self.access_tokens.get(token).and_then(|id| self.items.get(id)).map(|i| i.client_user_id.clone())
    }
}

fn invalid_access_token() -> PlaidError {
    PlaidError::invalid_input(
        "INVALID_ACCESS_TOKEN",
        "provided access token is in an invalid format. expected format: access-<environment>-<identifier>",
    )
}

fn item_not_found() -> PlaidError {
    PlaidError::new(400, "ITEM_ERROR", "ITEM_NOT_FOUND", "the requested item was not found")
}

/// A hosted-link request as tests make it (user `u1`, investments, completion to `app.test`).
#[cfg(test)]
pub(crate) fn sample_link_request() -> LinkRequest {
    LinkRequest {
        client_user_id: "u1".into(),
        client_name: "App".into(),
        language: "en".into(),
        country_codes: vec!["US".into()],
        products: vec!["investments".into()],
        webhook: None,
        redirect_uri: None,
        completion_redirect_uri: "http://app.test/done".into(),
        url_lifetime_secs: HOSTED_LINK_DEFAULT_LIFETIME_SECS,
        update_item: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> LinkRequest {
        sample_link_request()
    }

    #[test]
    fn a_link_completes_once_and_its_public_token_exchanges_once() {
        let mut state = PlaidState::default();
        let token = state.create_link_token(request(), 1000).token.clone();
        assert!(state.complete_link(&token, "ins_nope", 1001).is_err());
        let done = state.complete_link(&token, "ins_56", 1001).unwrap();
        assert_eq!(state.complete_link(&token, "ins_56", 1002).unwrap_err(), LinkPageError::AlreadyCompleted);
        let (access, item_id, user) = state.exchange(&done.public_token, 1003).unwrap();
        assert_eq!(user, "u1");
        assert_eq!(state.item(&access).unwrap().item_id, item_id);
        assert_eq!(state.exchange(&done.public_token, 1004).unwrap_err().error_code, "INVALID_PUBLIC_TOKEN");
        state.remove(&access).unwrap();
        assert_eq!(state.item(&access).unwrap_err().error_code, "ITEM_NOT_FOUND");
        assert_eq!(state.item("access-sandbox-x").unwrap_err().error_code, "INVALID_ACCESS_TOKEN");
    }

    #[test]
    fn an_update_mode_session_repairs_its_item_and_creates_nothing() {
        let mut state = PlaidState::default();
        let token = state.create_link_token(request(), 1000).token.clone();
        let done = state.complete_link(&token, "ins_56", 1001).unwrap();
        let (access, item_id, _) = state.exchange(&done.public_token, 1002).unwrap();
        assert!(!state.break_login("no-such-item"));
        state.reset_login(&access).unwrap();
        assert!(state.item(&access).unwrap().login_required);
        let update = LinkRequest { products: vec![], update_item: Some(item_id.clone()), ..request() };
        let link = state.create_link_token(update, 2000);
        assert_eq!(link.expires, 2000 + UPDATE_LINK_TOKEN_TTL_SECS, "update-mode tokens live 30 minutes");
        let update_token = link.token.clone();
        assert_eq!(state.complete_link(&update_token, "ins_56", 2001).unwrap_err(), LinkPageError::UnknownToken);
        let repaired = state.complete_update_link(&update_token, 2001).unwrap();
        assert_eq!((repaired.item_id.as_str(), repaired.institution.id), (item_id.as_str(), "ins_56"));
        assert!(!state.item(&access).unwrap().login_required, "the same access token works again");
        assert_eq!(state.items_of("u1"), vec![item_id.clone()], "no new Item");
        assert_eq!(state.public_tokens.len(), 1, "no new public token");
        let session = state.link_token(&update_token).unwrap().session.clone().unwrap();
        assert_eq!((session.public_token, session.item_id), (None, item_id));
        let again = state.complete_update_link(&update_token, 2002).unwrap_err();
        assert_eq!(again, LinkPageError::AlreadyCompleted);
        assert!(state.complete_update_link(&token, 2002).is_err(), "a create session is not an update");
    }

    #[test]
    fn hosted_links_and_public_tokens_expire() {
        let mut state = PlaidState::default();
        let token = state.create_link_token(request(), 0).token.clone();
        assert_eq!(state.open_link(&token, HOSTED_LINK_DEFAULT_LIFETIME_SECS).unwrap_err(), LinkPageError::Expired);
        let token = state.create_link_token(request(), 0).token.clone();
        let done = state.complete_link(&token, "ins_11", 10).unwrap();
        assert!(state.exchange(&done.public_token, 10 + PUBLIC_TOKEN_TTL_SECS + 1).is_err());
    }
}
