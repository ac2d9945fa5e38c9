//! Connecting an institution from a browser popup: the request that starts the chosen
//! provider's flow, how long to watch the popup, and what the flow's return means — a Plaid
//! public token to exchange, a SnapTrade success to sync, or a cancellation with its reason.
//! The shell opens the popup, listens and sends the requests; every choice is made here.

use crate::domain::Provider;
use serde::Serialize;

/// The popup's window name (one connection popup at a time, reused).
pub const POPUP_NAME: &str = "tributary-connect";
/// The popup's window features.
pub const POPUP_FEATURES: &str = "popup,width=520,height=720";
/// The `type` of the message a returning popup posts to its opener.
pub const CONNECTED_MESSAGE_TYPE: &str = "tributary:connected";
/// How often the shell checks whether the popup was closed.
pub const CLOSED_CHECK_MS: u32 = 500;
/// How long a flow may stay open before it counts as abandoned: 30 minutes.
pub const FLOW_TIMEOUT_MS: u32 = 30 * 60 * 1000;

/// `connect` options (`needTrading`, `redirect`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Whether the connection must be able to trade (default false).
    pub need_trading: Option<bool>,
    /// Where the provider sends the popup back (default `<origin>/?flow=return`).
    pub redirect: Option<String>,
}

/// Where a flow returns by default: the app's own origin with `?flow=return`.
pub fn return_url(origin: &str) -> String {
    format!("{}/?flow=return", origin.trim_end_matches('/'))
}

/// The query parameters of a page a flow returned to, as far as finishing the flow needs them
/// (the shell reads them; a parameter that is not a string counts as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnParams {
    pub flow: Option<String>,
    /// Plaid's hosted link: the token to exchange.
    pub public_token: Option<String>,
    /// SnapTrade's portal: `SUCCESS`, or why not.
    pub status: Option<String>,
    /// Schwab's OAuth callback: the authorization code (as the callback URL carried it).
    pub code: Option<String>,
    /// Schwab's OAuth callback: the `state` the flow started with.
    pub state: Option<String>,
    /// An OAuth callback that did not grant access: `access_denied`, …
    pub error: Option<String>,
}

impl ReturnParams {
    /// Whether these are a provider flow coming back (`flow=return`).
    pub fn is_flow_return(&self) -> bool {
        self.flow.as_deref() == Some("return")
    }
}

#[derive(Serialize)]
struct ConnectRequest<'a> {
    institution: &'a str,
    need_trading: bool,
    redirect: &'a str,
}

#[derive(Serialize)]
struct CallbackRequest<'a> {
    code: &'a str,
    state: &'a str,
}

#[derive(Serialize)]
struct ExchangeRequest<'a> {
    public_token: &'a str,
    institution: &'a str,
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("a request of strings and booleans always serialises")
}

/// The body of `POST /api/connections` for `institution`, returning to the page's `origin`
/// unless the options name a redirect.
pub fn connect_request(institution: &str, options: &ConnectOptions, origin: &str) -> String {
    let redirect = options.redirect.clone().unwrap_or_else(|| return_url(origin));
    to_json(&ConnectRequest { institution, need_trading: options.need_trading.unwrap_or(false), redirect: &redirect })
}

/// What `POST /api/connections` answered: the chosen provider, its flow's URL, and the
/// institution routing resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectAnswer {
    pub provider: Provider,
    pub flow_url: String,
    /// `decision.institution`: the resolved slug, when the name matched one.
    pub resolved: Option<String>,
}

impl ConnectAnswer {
    /// From the answer's `provider`, `flow.url` and `decision.institution`; an unknown provider or
    /// a missing URL is an error (the answer cannot be acted on), and for a provider connected with
    /// a pasted token (IBKR Flex) the error says where the token goes instead. A flow URL that is
    /// not https (plain http only on a loopback host) is refused before anything opens it.
    pub fn read(provider: Option<&str>, flow_url: Option<String>, resolved: Option<String>) -> Result<Self, String> {
        let provider = Provider::parse(provider.unwrap_or_default()).map_err(|e| e.to_string())?;
        let Some(flow_url) = flow_url.filter(|u| !u.is_empty()) else {
            if provider.spec().auth == crate::provider_spec::AuthKind::PersonalToken {
                return Err(format!(
                    "{} has no provider window: ask the person for their token and send it to the flow's connect_url",
                    provider.display_name()
                ));
            }
            return Err("the answer has no flow.url".into());
        };
        let loopback = ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/"];
        // `about:blank` (with or without a fragment) leads nowhere, so nothing can leak through it.
        let blank = flow_url == "about:blank" || flow_url.starts_with("about:blank#");
        if !blank && !flow_url.starts_with("https://") && !loopback.iter().any(|l| flow_url.starts_with(l)) {
            return Err(format!(
                "{}'s flow URL is not https; it is not opened (plain http only for a loopback host)",
                provider.display_name()
            ));
        }
        Ok(Self { provider, flow_url, resolved })
    }

    /// The institution to name in the exchange and the result: the slug routing resolved, else
    /// the name as asked.
    pub fn institution(&self, asked: &str) -> String {
        self.resolved.clone().unwrap_or_else(|| asked.to_owned())
    }
}

/// How a flow's popup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEnd {
    /// The provider sent the popup back with these query parameters.
    Returned(ReturnParams),
    /// The person closed the popup before it came back.
    PopupClosed,
    /// Nothing happened for [`FLOW_TIMEOUT_MS`].
    TimedOut,
}

/// What the popup watcher does after one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopupWatch {
    /// Keep waiting.
    Wait,
    /// The popup is gone: the flow was cancelled.
    Closed,
    /// The flow was abandoned.
    TimedOut,
}

/// After `checks` checks, the last `closed_in_a_row` of which found the popup closed. A popup is
/// taken as closed on the second check in a row, so a message it posted while closing arrives first.
pub fn watch_popup(checks: u32, closed_in_a_row: u32) -> PopupWatch {
    if closed_in_a_row >= 2 {
        PopupWatch::Closed
    } else if u64::from(checks) * u64::from(CLOSED_CHECK_MS) >= u64::from(FLOW_TIMEOUT_MS) {
        PopupWatch::TimedOut
    } else {
        PopupWatch::Wait
    }
}

/// The step that finishes a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// `POST /api/plaid/exchange` with this body.
    PlaidExchange { body: String },
    /// `POST /api/snaptrade/connections/sync {}`.
    SnapTradeSync,
    /// `POST` to this path (`/api/plaid/items/{id}/repair`): Plaid's update mode came back; the
    /// worker asks Plaid whether the Item is healthy (nothing is exchanged).
    PlaidRepair { path: String },
    /// `POST /api/schwab/callback` with this body (`{code, state}`).
    SchwabCallback { body: String },
    /// Nothing to finish; `reason` is stable and machine-readable.
    Cancelled { reason: String },
}

/// How to finish `provider`'s flow for `institution` after it ended as `end`: a Plaid return with
/// a public token is exchanged, a SnapTrade return with `status=SUCCESS` is synced, a Schwab return
/// with `code` and `state` completes the OAuth callback (its `error`, if any, is the reason); anything else
/// is cancelled with the returned `status` (ASCII lower-cased) or `not_completed` as the reason.
pub fn completion(provider: Provider, institution: &str, end: &FlowEnd) -> Completion {
    let params = match end {
        FlowEnd::PopupClosed => return Completion::Cancelled { reason: "popup_closed".into() },
        FlowEnd::TimedOut => return Completion::Cancelled { reason: "timed_out".into() },
        FlowEnd::Returned(params) => params,
    };
    let public_token = params.public_token.as_deref().filter(|t| !t.is_empty());
    let present = |value: &Option<String>| value.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    if provider == Provider::Schwab {
        return match (present(&params.code), present(&params.state)) {
            (Some(code), Some(state)) => {
                Completion::SchwabCallback { body: to_json(&CallbackRequest { code: &code, state: &state }) }
            }
            _ => Completion::Cancelled {
                reason: present(&params.error).map_or_else(|| "not_completed".to_owned(), |e| e.to_ascii_lowercase()),
            },
        };
    }
    match (provider, public_token, params.status.as_deref()) {
        (Provider::Plaid, Some(public_token), _) => {
            Completion::PlaidExchange { body: to_json(&ExchangeRequest { public_token, institution }) }
        }
        (Provider::SnapTrade, _, Some("SUCCESS")) => Completion::SnapTradeSync,
        (_, _, Some(status)) if !status.is_empty() => Completion::Cancelled { reason: status.to_ascii_lowercase() },
        _ => Completion::Cancelled { reason: "not_completed".into() },
    }
}

/// What `connect` resolves with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConnectResult {
    Connected { provider: Provider, institution: String },
    Cancelled { provider: Provider, institution: String, reason: String },
}
