//! The `Idempotency-Key` that `placeOrder` sends, kept per order so that asking again for the same
//! order is the same request to the API, which then places it at most once.
//!
//! Rules, in the order they apply:
//! 1. An order is named by its fingerprint — account, instrument, side, type, duration, size and
//!    prices, decimals normalised — read from its preview's answer (the worker's own notion of
//!    "the same order"). A preview this client did not make is named by its id alone.
//! 2. Placing asks for the key of that name: the caller's own key when given (it replaces the one
//!    kept), else the one kept, else a new UUID v4 from `crypto.getRandomValues`. A new preview
//!    of an order whose first place went unanswered therefore reuses its key, and the worker
//!    settles the first attempt with the broker instead of placing again.
//! 3. A definitive outcome forgets the key ([`KeyFate::Forget`]): an order answered 201/200 in a
//!    state other than `sending`/`unknown`, or a refusal in [`FINAL_REFUSALS`]. Anything else —
//!    no answer, a 5xx, a 202 `unknown`, a 409 `order_in_progress` or `order_outcome_unknown`, a
//!    429 — keeps it ([`KeyFate::Keep`]), so the retry is safe.
//! 4. At most [`MAX_KEPT`] previews and keys are remembered (the oldest go first).
//!
//! It does not survive a page reload: `placeOrder` answers the key it sent, for an app that wants
//! to keep it longer and pass it back as `idempotencyKey`.

use crate::Quantity;

/// How many previews (and keys) are remembered at most.
pub const MAX_KEPT: usize = 64;

/// The API's codes for a place refusal that settles the order for good: another attempt with
/// the same key would only answer it again (or can never succeed).
pub const FINAL_REFUSALS: [&str; 5] =
    ["order_rejected", "idempotency_key_reused", "preview_expired", "preview_not_found", "invalid_idempotency_key"];

/// What a placement's outcome means for its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFate {
    /// The outcome is not known for good: a retry must send the same key.
    Keep,
    /// The order's fate is settled: the next order of the same kind is a new one.
    Forget,
}

/// [`KeyFate`] of an answered place: `status` and the answered order's `state`.
pub fn fate_of_answer(status: u16, state: Option<&str>) -> KeyFate {
    let settled = matches!(status, 200 | 201) && !matches!(state, None | Some("sending" | "unknown"));
    if settled {
        KeyFate::Forget
    } else {
        KeyFate::Keep
    }
}

/// [`KeyFate`] of a refused or unanswered place, by the error's code.
pub fn fate_of_refusal(code: &str) -> KeyFate {
    if FINAL_REFUSALS.contains(&code) {
        KeyFate::Forget
    } else {
        KeyFate::Keep
    }
}

/// The fields of a preview's answer that name its order (decimals as the answer wrote them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviewedOrder {
    pub account_id: String,
    /// The instrument id, else the ticker.
    pub instrument: String,
    pub action: String,
    pub order_type: String,
    pub time_in_force: String,
    pub units: Option<String>,
    pub notional: Option<String>,
    pub limit_price: Option<String>,
    pub stop_price: Option<String>,
}

/// A decimal normalised (`"10.0"` and `10` agree); text that is no decimal is kept as it is.
fn decimal(value: &Option<String>) -> String {
    let Some(text) = value else { return String::new() };
    Quantity::parse(text).map(|q| q.0.normalize().to_string()).unwrap_or_else(|_| text.clone())
}

impl PreviewedOrder {
    /// One text naming exactly this order: equal orders (however their decimals are written),
    /// equal fingerprints.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|units={}|notional={}|limit={}|stop={}",
            self.account_id,
            self.instrument,
            self.action.to_ascii_uppercase(),
            self.order_type,
            self.time_in_force,
            decimal(&self.units),
            decimal(&self.notional),
            decimal(&self.limit_price),
            decimal(&self.stop_price)
        )
    }
}

/// A UUID v4 (RFC 9562) from 16 random bytes.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The previews seen and the keys kept, per order name (rules 1, 2 and 4).
#[derive(Debug, Default)]
pub struct KeyBook {
    previews: Vec<(String, String)>,
    keys: Vec<(String, String)>,
}

fn put(list: &mut Vec<(String, String)>, name: String, value: String) {
    list.retain(|(n, _)| *n != name);
    if list.len() >= MAX_KEPT {
        list.remove(0);
    }
    list.push((name, value));
}

impl KeyBook {
    /// Remembers which order a preview names.
    pub fn remember_preview(&mut self, preview_id: String, fingerprint: String) {
        put(&mut self.previews, preview_id, fingerprint);
    }

    /// The name the key of `preview_id`'s order is kept under.
    pub fn order_name(&self, preview_id: &str) -> String {
        match self.previews.iter().find(|(id, _)| id == preview_id) {
            Some((_, fingerprint)) => format!("order:{fingerprint}"),
            None => format!("preview:{preview_id}"),
        }
    }

    /// The key to send for the order `name`: `supplied`, else the one kept, else `fresh()` (`None`
    /// when it gives none); it is kept under `name` until [`KeyBook::settle`] forgets it.
    pub fn key_for(
        &mut self,
        name: &str,
        supplied: Option<String>,
        fresh: impl FnOnce() -> Option<String>,
    ) -> Option<String> {
        let key = supplied.or_else(|| self.kept(name).map(str::to_owned)).or_else(fresh)?;
        put(&mut self.keys, name.to_owned(), key.clone());
        Some(key)
    }

    /// Applies a placement's [`KeyFate`] to `key` (a newer key kept under `name` stays).
    pub fn settle(&mut self, name: &str, key: &str, fate: KeyFate) {
        if fate == KeyFate::Forget {
            self.keys.retain(|(n, k)| !(n == name && k == key));
        }
    }

    /// The key kept for the order `name`, if any.
    pub fn kept(&self, name: &str) -> Option<&str> {
        self.keys.iter().find(|(n, _)| n == name).map(|(_, key)| key.as_str())
    }
}
