//! Reads the worker's configuration from its vars and secrets through the core's parser.

use tributary_core::config::{Config, ConfigError};
use worker::Env;

/// Every variable the core's configuration reads, by its contract name.
const NAMES: [&str; 26] = [
    "ENVIRONMENT",
    "SESSION_SIGNING_KEY",
    "DATA_ENCRYPTION_KEY",
    "SNAPTRADE_BASE_URL",
    "SNAPTRADE_CLIENT_ID",
    "SNAPTRADE_CONSUMER_KEY",
    "PLAID_BASE_URL",
    "PLAID_CLIENT_ID",
    "PLAID_SECRET",
    "SCHWAB_BASE_URL",
    "SCHWAB_CLIENT_ID",
    "SCHWAB_CLIENT_SECRET",
    "SCHWAB_REDIRECT_URL",
    "IBKR_FLEX_BASE_URL",
    "IBKR_FLEX_USER_AGENT",
    "PROVIDER_TIMEOUT_MS",
    "REFRESH_COOLDOWN_SECONDS",
    "PAID_REFRESH_CAP_SECONDS",
    "REFRESH_FANOUT",
    "ALLOWED_ORIGINS",
    "SNAPTRADE_CACHE_HOURS",
    "PLAID_CACHE_HOURS",
    "SCHWAB_CACHE_HOURS",
    "IBKR_FLEX_CACHE_HOURS",
    "PROVIDER_CALL_PRICES",
    "OPERATOR_TOKEN",
];

/// A variable by its contract name: the secret if there is one, else the plain var.
pub(crate) fn lookup(env: &Env, name: &str) -> Option<String> {
    debug_assert!(NAMES.contains(&name), "unknown config name {name}");
    env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
}

/// Loads and validates the configuration; a problem names the variables, never their values.
pub fn load_config(env: &Env) -> Result<Config, ConfigError> {
    Config::load(|name| lookup(env, name))
}
