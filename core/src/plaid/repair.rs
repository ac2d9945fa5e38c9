//! Repairing a Plaid Item in place with Link's update mode. The rules, in the order they apply:
//!
//! 1. **When.** A read that fails with one of Plaid's login-required errors
//!    (`ITEM_LOGIN_REQUIRED` and its family, [`ProviderError::LoginRequired`]) means only the user
//!    can fix the Item: [`needs_update_mode`] says so, and the shell marks the connection
//!    `needs_repair` with Plaid's re-login code (`plaid_reauth_required`).
//! 2. **How a repair is asked for.** `POST /api/plaid/link` with `repair` names the Item; it may
//!    not also name an `institution` ([`link_intent`] → [`RepairError::RepairWithInstitution`]).
//! 3. **The session.** [`update_link_token_request`]: the Item's `access_token` (what makes it
//!    update mode), no `products`, `update.account_selection_enabled: false`, and a Hosted Link
//!    returning to the app. No `webhook` (it has no effect in update mode).
//! 4. **After the popup.** Nothing is exchanged — the Item's access token does not change.
//!    `/item/get` is the authoritative check ([`item_get_request`], [`parse_item_get`]): a null
//!    `item.error` is [`ItemHealth::Healthy`] (clear the flag and read again); any error is
//!    [`ItemHealth::Broken`] with Plaid's `error_code`, answered as
//!    [`RepairError::ItemStillBroken`] (409 `plaid_item_still_broken`) and the flag stays.
//!
//! Nothing here performs I/O. The update-mode body carries the Item's access token: the shell
//! sends it to Plaid and never logs it.

use super::link::{hosted_link_base, LinkLocale};
use crate::error::{ErrorCode, ValidationError};
use crate::provider_error::ProviderError;
use crate::Provider;
use serde_json::{json, Value};

/// The longest Plaid `error_code` kept from an `/item/get` answer.
const MAX_ERROR_CODE: usize = 64;

/// Whether a failed Plaid call means the Item must go through Link's update mode.
pub fn needs_update_mode(error: &ProviderError) -> bool {
    matches!(error, ProviderError::LoginRequired { provider: Provider::Plaid })
}

/// What a `POST /api/plaid/link` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkIntent<'a> {
    /// A new Item, at this institution when the app knows it.
    Create { institution: Option<&'a str> },
    /// Update mode for the user's Item with this id.
    Repair { item_id: &'a str },
}

/// Why a repair could not be asked for or did not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairError {
    /// `repair` and `institution` were both given (a repair keeps the Item's institution).
    #[error("repair reconnects the Item it names; leave out institution")]
    RepairWithInstitution,
    /// `/item/get` still reports an error on the Item after the update-mode session.
    #[error("Plaid still reports {error_code} for this Item; finish reconnecting in the Plaid window, then try again")]
    ItemStillBroken {
        /// Plaid's `item.error.error_code`, e.g. `ITEM_LOGIN_REQUIRED`.
        error_code: String,
    },
}

impl ErrorCode for RepairError {
    fn code(&self) -> &'static str {
        match self {
            Self::RepairWithInstitution => "invalid_input",
            Self::ItemStillBroken { .. } => "plaid_item_still_broken",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::RepairWithInstitution => 400,
            Self::ItemStillBroken { .. } => 409,
        }
    }
}

/// Reads the `institution` and `repair` fields of a link request (blank counts as absent).
pub fn link_intent<'a>(institution: Option<&'a str>, repair: Option<&'a str>) -> Result<LinkIntent<'a>, RepairError> {
    let present = |v: Option<&'a str>| v.map(str::trim).filter(|s| !s.is_empty());
    match (present(institution), present(repair)) {
        (Some(_), Some(_)) => Err(RepairError::RepairWithInstitution),
        (institution, None) => Ok(LinkIntent::Create { institution }),
        (None, Some(item_id)) => Ok(LinkIntent::Repair { item_id }),
    }
}

/// The `/link/token/create` body opening update mode for the Item of `access_token` in a Hosted
/// Link that returns to `completion_redirect_uri` (checked like every redirect).
pub fn update_link_token_request(
    client_user_id: &str,
    access_token: &str,
    completion_redirect_uri: &str,
    locale: &LinkLocale,
    development: bool,
) -> Result<Value, ValidationError> {
    let access_token = access_token.trim();
    if access_token.is_empty() {
        return Err(ValidationError::Empty { field: "access_token" });
    }
    let mut body = hosted_link_base(client_user_id, completion_redirect_uri, locale, development)?;
    body["access_token"] = json!(access_token);
    body["update"] = json!({ "account_selection_enabled": false });
    Ok(body)
}

/// The `/item/get` body for the Item of `access_token`.
pub fn item_get_request(access_token: &str) -> Value {
    json!({ "access_token": access_token })
}

/// How Plaid says an Item stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemHealth {
    /// `item.error` is null: the Item works.
    Healthy,
    /// `item.error` names this `error_code`.
    Broken { error_code: String },
}

impl ItemHealth {
    /// `Ok` when healthy, else [`RepairError::ItemStillBroken`] naming Plaid's code.
    pub fn into_repaired(self) -> Result<(), RepairError> {
        match self {
            Self::Healthy => Ok(()),
            Self::Broken { error_code } => Err(RepairError::ItemStillBroken { error_code }),
        }
    }
}

/// Reads a 200 `/item/get` answer for `item_id`: `Malformed` unless it has an `item` of that id
/// whose `error` is null, absent, or an object with a readable `error_code` (capital letters,
/// digits and `_`, at most 64).
pub fn parse_item_get(body: &[u8], item_id: &str) -> Result<ItemHealth, ProviderError> {
    let malformed = |detail: &str| ProviderError::Malformed { provider: Provider::Plaid, detail: detail.to_owned() };
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed("item/get answer is not JSON"))?;
    let item = value.get("item").filter(|i| i.is_object()).ok_or_else(|| malformed("item/get answer has no item"))?;
    if item.get("item_id").and_then(Value::as_str) != Some(item_id) {
        return Err(malformed("item/get answered for another Item"));
    }
    match item.get("error") {
        None | Some(Value::Null) => Ok(ItemHealth::Healthy),
        Some(error) => {
            let code = error.get("error_code").and_then(Value::as_str).unwrap_or_default();
            let readable = !code.is_empty()
                && code.len() <= MAX_ERROR_CODE
                && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !readable {
                return Err(malformed("item/get error has no readable error_code"));
            }
            Ok(ItemHealth::Broken { error_code: code.to_owned() })
        }
    }
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;
