//! Worker configuration: parses the named variables and secrets once, and says precisely which
//! are missing or invalid — by name, never by value.
//!
//! Required everywhere: `SESSION_SIGNING_KEY`, `DATA_ENCRYPTION_KEY`. A provider is *configured*
//! only when both its credentials are present; an unconfigured provider is simply unavailable.

use crate::domain::Provider;
use crate::error::ErrorCode;
use crate::session::SessionKey;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Where the worker runs. Anything but `development` is treated as production (fail closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production(String),
}

impl Environment {
    /// `development` exactly means development; a missing value means `production`.
    pub fn parse(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some("development") => Self::Development,
            Some(other) if !other.is_empty() => Self::Production(other.to_owned()),
            _ => Self::Production("production".to_owned()),
        }
    }

    pub fn is_development(&self) -> bool {
        matches!(self, Self::Development)
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Development => "development",
            Self::Production(name) => name,
        }
    }
}

/// The AES-256 key protecting per-user provider secrets at rest, with the id stored beside each
/// ciphertext so keys can be rotated. Written as `<key id>:<base64 32 bytes>` or just the base64.
#[derive(Clone)]
pub struct DataKey {
    pub id: String,
    pub bytes: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, <redacted>)", self.id)
    }
}

impl DataKey {
    /// The key id used when the variable carries no `<id>:` prefix.
    pub const DEFAULT_ID: &'static str = "k1";

    fn parse(value: &str) -> Result<Self, &'static str> {
        let (id, encoded) = match value.trim().split_once(':') {
            Some((id, encoded)) => (id.trim(), encoded.trim()),
            None => (Self::DEFAULT_ID, value.trim()),
        };
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err("the key id before ':' must be 1-32 letters, digits, '_' or '-'");
        }
        let bytes = STANDARD.decode(encoded).map_err(|_| "must be standard base64")?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "must decode to exactly 32 bytes")?;
        Ok(Self { id: id.to_owned(), bytes })
    }
}

/// How a refresh fans out to providers and, within a provider, to its per-account calls
/// (`REFRESH_FANOUT`). `Sequential` exists to measure what the parallel design buys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fanout {
    /// Independent calls run at once: a refresh costs its longest dependent chain of round trips.
    #[default]
    Parallel,
    /// One call at a time: a refresh costs the sum of its round trips.
    Sequential,
}

impl Fanout {
    /// `parallel` or `sequential` (trimmed, lower case); anything else is refused.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "parallel" => Some(Self::Parallel),
            "sequential" => Some(Self::Sequential),
            _ => None,
        }
    }
}

/// Credentials and base URL of one provider.
#[derive(Clone)]
pub struct ProviderConfig {
    pub base_url: String,
    pub client_id: String,
    pub secret: String,
    /// The OAuth callback registered with the provider, matched exactly (Schwab only).
    pub redirect_url: Option<String>,
    /// The `User-Agent` every request must carry (IBKR Flex only).
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProviderConfig({}, client_id={}, <redacted>)", self.base_url, self.client_id)
    }
}

/// A fully validated worker configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub session_key: SessionKey,
    pub data_key: DataKey,
    pub snaptrade: Option<ProviderConfig>,
    pub plaid: Option<ProviderConfig>,
    /// Schwab's Trader API: `SCHWAB_BASE_URL`, `SCHWAB_CLIENT_ID`, `SCHWAB_CLIENT_SECRET`, and the
    /// registered callback `SCHWAB_REDIRECT_URL` (all three credentials, or Schwab is unavailable).
    pub schwab: Option<ProviderConfig>,
    /// IBKR's Flex Web Service: `IBKR_FLEX_BASE_URL` (default `https://ndcdyn.interactivebrokers.com`)
    /// and `IBKR_FLEX_USER_AGENT` (default `Tributary/<version>`). It needs no app credentials (each
    /// person brings a token), so it is always available unless a variable is invalid.
    pub ibkr_flex: Option<ProviderConfig>,
    /// Per-attempt timeout of provider calls (`PROVIDER_TIMEOUT_MS`, default 10 000).
    pub provider_timeout_ms: u64,
    /// Refresh cooldown (`REFRESH_COOLDOWN_SECONDS`, default 60) and paid-refresh cap
    /// (`PAID_REFRESH_CAP_SECONDS`, default 86 400).
    pub refresh: crate::refresh::RefreshPolicy,
    /// Whether provider calls fan out in parallel (`REFRESH_FANOUT`, default `parallel`).
    pub fanout: Fanout,
    /// Whether the MCP tool `place_order` may place orders (`MCP_ALLOW_PLACE`, `true` or `false`,
    /// default `false`): assistants preview; people place, unless the deployment says otherwise.
    pub mcp_allow_place: bool,
    /// Origins besides the worker's own that may call the API from a browser and receive flow
    /// redirects (`ALLOWED_ORIGINS`, comma-separated exact origins; empty = same origin only).
    pub allowed_origins: crate::origin::AllowedOrigins,
    /// How long each provider's cached holdings stay fresh (`SNAPTRADE_CACHE_HOURS`,
    /// `PLAID_CACHE_HOURS`, `SCHWAB_CACHE_HOURS`, `IBKR_FLEX_CACHE_HOURS`; each 1 to 720, default
    /// the provider's spec).
    pub cache: crate::cache::CachePolicy,
    /// The price of each billed provider call (`PROVIDER_CALL_PRICES`, a JSON object of
    /// `"provider:operation": "decimal"`; default none, so every billed call's cost is unknown).
    pub call_prices: crate::ops::prices::CallPrices,
    /// The operator's bearer for `/api/ops/*` (`OPERATOR_TOKEN`, a secret; unset or empty means
    /// only sessions with the `operator` role get in).
    pub operator_token: Option<OperatorToken>,
}

/// The `OPERATOR_TOKEN` secret: at least 32 characters, never shown by `Debug`.
#[derive(Clone)]
pub struct OperatorToken(String);

impl OperatorToken {
    /// Shortest token accepted.
    pub const MIN_LEN: usize = 32;

    /// The secret, for the constant-time comparison only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorToken(<redacted>)")
    }
}

/// One configuration problem, named by its variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub name: &'static str,
    pub problem: String,
}

/// Why the configuration cannot be used: every problem at once, so an operator fixes them in one go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the worker is not configured: {}", .problems.iter().map(|p| format!("{} {}", p.name, p.problem)).collect::<Vec<_>>().join("; "))]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    /// The names of the variables that need attention.
    pub fn names(&self) -> Vec<&'static str> {
        self.problems.iter().map(|p| p.name).collect()
    }
}

impl ErrorCode for ConfigError {
    fn code(&self) -> &'static str {
        "config_invalid"
    }
    fn http_status(&self) -> u16 {
        503
    }
}

const SNAPTRADE_DEFAULT_URL: &str = "https://api.snaptrade.com";
const PLAID_DEFAULT_URL: &str = "https://production.plaid.com";
const SCHWAB_DEFAULT_URL: &str = "https://api.schwabapi.com";
const IBKR_FLEX_DEFAULT_URL: &str = "https://ndcdyn.interactivebrokers.com";
/// The `User-Agent` sent to IBKR unless `IBKR_FLEX_USER_AGENT` says otherwise ("Technology/Version").
pub const IBKR_FLEX_DEFAULT_USER_AGENT: &str = concat!("Tributary/", env!("CARGO_PKG_VERSION"));

/// A `User-Agent` value: 1–128 printable ASCII characters.
fn parse_user_agent(value: &str) -> Result<String, &'static str> {
    let value = value.trim();
    if value.len() > 128 || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("must be 1 to 128 printable ASCII characters");
    }
    Ok(value.to_owned())
}

/// An OAuth callback as registered with the provider: https (plain http only on a loopback host),
/// kept exactly as written — a trailing slash is part of it.
fn parse_callback_url(value: &str) -> Result<String, &'static str> {
    let value = value.trim();
    parse_base_url(value)?;
    if value.contains('#') {
        return Err("must not contain a fragment");
    }
    Ok(value.to_owned())
}

/// Accepts https URLs, and plain http only for loopback hosts (the local simulator).
fn parse_base_url(value: &str) -> Result<String, &'static str> {
    let value = value.trim().trim_end_matches('/');
    let rest = if let Some(rest) = value.strip_prefix("https://") {
        rest
    } else if let Some(rest) = value.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err("may use plain http only for a loopback host");
        }
        rest
    } else {
        return Err("must start with https://");
    };
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err("must name a host");
    }
    Ok(value.to_owned())
}

impl Config {
    /// Builds the configuration from a variable lookup (`vars` and secrets merged by the shell).
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();
        let mut problem =
            |name: &'static str, text: &str| problems.push(ConfigProblem { name, problem: text.to_owned() });

        let environment = Environment::parse(get("ENVIRONMENT").as_deref());
        let session_key = match get("SESSION_SIGNING_KEY") {
            None => {
                problem("SESSION_SIGNING_KEY", "is not set");
                None
            }
            Some(v) => {
                SessionKey::new(&v).map_err(|_| problem("SESSION_SIGNING_KEY", "must be at least 32 bytes")).ok()
            }
        };
        let data_key = match get("DATA_ENCRYPTION_KEY") {
            None => {
                problem("DATA_ENCRYPTION_KEY", "is not set");
                None
            }
            Some(v) => DataKey::parse(&v).map_err(|why| problem("DATA_ENCRYPTION_KEY", why)).ok(),
        };

        let mut provider =
            |url_name: &'static str, default_url: &str, id_name: &'static str, secret_name: &'static str| {
                let base_url = parse_base_url(&get(url_name).unwrap_or_else(|| default_url.to_owned()))
                    .map_err(|why| problem(url_name, why))
                    .ok()?;
                match (get(id_name), get(secret_name)) {
                    (Some(client_id), Some(secret)) => {
                        Some(ProviderConfig { base_url, client_id, secret, redirect_url: None, user_agent: None })
                    }
                    (None, None) => None,
                    (Some(_), None) => {
                        problem(secret_name, &format!("is not set but {id_name} is"));
                        None
                    }
                    (None, Some(_)) => {
                        problem(id_name, &format!("is not set but {secret_name} is"));
                        None
                    }
                }
            };
        let snaptrade =
            provider("SNAPTRADE_BASE_URL", SNAPTRADE_DEFAULT_URL, "SNAPTRADE_CLIENT_ID", "SNAPTRADE_CONSUMER_KEY");
        let plaid = provider("PLAID_BASE_URL", PLAID_DEFAULT_URL, "PLAID_CLIENT_ID", "PLAID_SECRET");
        let schwab = provider("SCHWAB_BASE_URL", SCHWAB_DEFAULT_URL, "SCHWAB_CLIENT_ID", "SCHWAB_CLIENT_SECRET");
        let schwab = match (schwab, get("SCHWAB_REDIRECT_URL")) {
            (Some(config), Some(url)) => match parse_callback_url(&url) {
                Ok(url) => Some(ProviderConfig { redirect_url: Some(url), ..config }),
                Err(why) => {
                    problem("SCHWAB_REDIRECT_URL", why);
                    None
                }
            },
            (Some(_), None) => {
                problem("SCHWAB_REDIRECT_URL", "is not set but SCHWAB_CLIENT_ID is");
                None
            }
            (None, _) => None,
        };
        let ibkr_url = parse_base_url(&get("IBKR_FLEX_BASE_URL").unwrap_or_else(|| IBKR_FLEX_DEFAULT_URL.to_owned()))
            .map_err(|why| problem("IBKR_FLEX_BASE_URL", why))
            .ok();
        let ibkr_agent =
            parse_user_agent(&get("IBKR_FLEX_USER_AGENT").unwrap_or_else(|| IBKR_FLEX_DEFAULT_USER_AGENT.to_owned()))
                .map_err(|why| problem("IBKR_FLEX_USER_AGENT", why))
                .ok();
        let ibkr_flex = match (ibkr_url, ibkr_agent) {
            (Some(base_url), Some(agent)) => Some(ProviderConfig {
                base_url,
                client_id: String::new(),
                secret: String::new(),
                redirect_url: None,
                user_agent: Some(agent),
            }),
            _ => None,
        };
        let provider_timeout_ms = match get("PROVIDER_TIMEOUT_MS").map(|v| v.trim().parse::<u64>()) {
            None => 10_000,
            Some(Ok(ms)) if (100..=60_000).contains(&ms) => ms,
            Some(_) => {
                problem("PROVIDER_TIMEOUT_MS", "must be a whole number of milliseconds from 100 to 60000");
                10_000
            }
        };

        let defaults = crate::refresh::RefreshPolicy::default();
        let mut seconds = |name: &'static str, default: i64, max: i64| match get(name).map(|v| v.trim().parse::<i64>())
        {
            None => default,
            Some(Ok(s)) if (0..=max).contains(&s) => s,
            Some(_) => {
                problem(name, "must be a whole number of seconds within the documented range");
                default
            }
        };
        let refresh = crate::refresh::RefreshPolicy {
            cooldown_s: seconds("REFRESH_COOLDOWN_SECONDS", defaults.cooldown_s, 86_400),
            paid_cap_s: seconds("PAID_REFRESH_CAP_SECONDS", defaults.paid_cap_s, 31 * 86_400),
        };

        let allowed_origins = match get("ALLOWED_ORIGINS") {
            None => crate::origin::AllowedOrigins::default(),
            Some(list) => {
                crate::origin::AllowedOrigins::parse(&list, environment.is_development()).unwrap_or_else(|why| {
                    problem("ALLOWED_ORIGINS", &why);
                    crate::origin::AllowedOrigins::default()
                })
            }
        };
        let mut cache = crate::cache::CachePolicy::default();
        for provider in Provider::ALL {
            let name = crate::cache::CachePolicy::variable(provider);
            match get(name).map(|v| v.trim().parse::<u32>()) {
                None => {}
                Some(Ok(hours)) if (1..=720).contains(&hours) => cache.set_ttl_hours(provider, hours),
                Some(_) => problem(name, "must be a whole number of hours from 1 to 720"),
            }
        }
        let fanout = match get("REFRESH_FANOUT").map(|v| Fanout::parse(&v)) {
            None => Fanout::default(),
            Some(Some(fanout)) => fanout,
            Some(None) => {
                problem("REFRESH_FANOUT", "must be parallel or sequential");
                Fanout::default()
            }
        };
        let mcp_allow_place = match get("MCP_ALLOW_PLACE").as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                problem("MCP_ALLOW_PLACE", "must be true or false");
                false
            }
        };

        let call_prices = match get("PROVIDER_CALL_PRICES") {
            None => crate::ops::prices::CallPrices::default(),
            Some(json) => crate::ops::prices::CallPrices::parse(&json).unwrap_or_else(|why| {
                problem("PROVIDER_CALL_PRICES", &why);
                crate::ops::prices::CallPrices::default()
            }),
        };
        let operator_token = match get("OPERATOR_TOKEN").map(|t| t.trim().to_owned()) {
            None => None,
            Some(token) if token.len() >= OperatorToken::MIN_LEN => Some(OperatorToken(token)),
            Some(_) => {
                problem("OPERATOR_TOKEN", "must be at least 32 characters");
                None
            }
        };

        match (session_key, data_key) {
            (Some(session_key), Some(data_key)) if problems.is_empty() => Ok(Self {
                environment,
                session_key,
                data_key,
                snaptrade,
                plaid,
                schwab,
                ibkr_flex,
                provider_timeout_ms,
                refresh,
                fanout,
                mcp_allow_place,
                allowed_origins,
                cache,
                call_prices,
                operator_token,
            }),
            _ => Err(ConfigError { problems }),
        }
    }

    /// The configuration of `provider`, if its credentials are set.
    pub fn provider(&self, provider: Provider) -> Option<&ProviderConfig> {
        match provider {
            Provider::SnapTrade => self.snaptrade.as_ref(),
            Provider::Plaid => self.plaid.as_ref(),
            Provider::Schwab => self.schwab.as_ref(),
            Provider::IbkrFlex => self.ibkr_flex.as_ref(),
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
