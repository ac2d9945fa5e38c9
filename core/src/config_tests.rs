use super::*;
use std::collections::HashMap;

const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![("SESSION_SIGNING_KEY", "0123456789abcdef0123456789abcdef"), ("DATA_ENCRYPTION_KEY", KEY_B64)]
}

#[test]
fn minimal_config_defaults_to_production_and_real_provider_urls() {
    let config = Config::load(vars(&base())).unwrap();
    assert_eq!(config.environment, Environment::Production("production".into()));
    assert_eq!(config.data_key.id, DataKey::DEFAULT_ID);
    assert!(config.snaptrade.is_none() && config.plaid.is_none());
}

#[test]
fn missing_required_secrets_are_all_named_at_once() {
    let err = Config::load(vars(&[])).unwrap_err();
    assert_eq!(err.names(), vec!["SESSION_SIGNING_KEY", "DATA_ENCRYPTION_KEY"]);
    assert_eq!(err.code(), "config_invalid");
    assert!(err.to_string().contains("SESSION_SIGNING_KEY is not set"));
}

#[test]
fn invalid_values_are_named_but_never_echoed() {
    let err =
        Config::load(vars(&[("SESSION_SIGNING_KEY", "short-secret"), ("DATA_ENCRYPTION_KEY", "k9:bm90LTMyLWJ5dGVz")]))
            .unwrap_err();
    assert_eq!(err.names(), vec!["SESSION_SIGNING_KEY", "DATA_ENCRYPTION_KEY"]);
    let text = err.to_string();
    assert!(!text.contains("short-secret") && !text.contains("bm90LTMyLWJ5dGVz"), "{text}");
}

#[test]
fn key_id_prefix_is_kept_for_rotation() {
    let mut v = base();
    let prefixed = format!("2026-11:{KEY_B64}");
    v[1] = ("DATA_ENCRYPTION_KEY", &prefixed);
    assert_eq!(Config::load(vars(&v)).unwrap().data_key.id, "2026-11");
}

#[test]
fn a_provider_needs_both_credentials() {
    let mut v = base();
    v.push(("SNAPTRADE_CLIENT_ID", "client"));
    let err = Config::load(vars(&v)).unwrap_err();
    assert_eq!(err.names(), vec!["SNAPTRADE_CONSUMER_KEY"]);
    v.push(("SNAPTRADE_CONSUMER_KEY", "consumer"));
    v.push(("SNAPTRADE_BASE_URL", "http://127.0.0.1:9000/"));
    v.push(("ENVIRONMENT", "development"));
    let config = Config::load(vars(&v)).unwrap();
    assert_eq!(config.provider(Provider::SnapTrade).unwrap().base_url, "http://127.0.0.1:9000");
    assert!(config.environment.is_development());
    assert!(config.provider(Provider::Plaid).is_none());
}

#[test]
fn plain_http_is_only_for_loopback() {
    for (url, ok) in [
        ("https://api.snaptrade.com", true),
        ("http://localhost:8080", true),
        ("http://10.0.0.5", false),
        ("http://api.snaptrade.com", false),
        ("ftp://x", false),
        ("https://", false),
    ] {
        assert_eq!(parse_base_url(url).is_ok(), ok, "{url}");
    }
}

#[test]
fn debug_output_redacts_secrets() {
    let mut v = base();
    v.push(("PLAID_CLIENT_ID", "pid"));
    v.push(("PLAID_SECRET", "plaid-secret-value"));
    let shown = format!("{:?}", Config::load(vars(&v)).unwrap());
    assert!(!shown.contains("plaid-secret-value") && !shown.contains("0123456789abcdef") && !shown.contains(KEY_B64));
}

#[test]
fn refresh_fanout_defaults_to_parallel_and_refuses_unknown_modes() {
    assert_eq!(Config::load(vars(&base())).unwrap().fanout, Fanout::Parallel);
    for (value, expected) in [("parallel", Fanout::Parallel), (" sequential ", Fanout::Sequential)] {
        let mut v = base();
        v.push(("REFRESH_FANOUT", value));
        assert_eq!(Config::load(vars(&v)).unwrap().fanout, expected, "{value:?}");
    }
    let mut v = base();
    v.push(("REFRESH_FANOUT", "Serial"));
    let err = Config::load(vars(&v)).unwrap_err();
    assert_eq!(err.names(), vec!["REFRESH_FANOUT"]);
    assert!(err.to_string().contains("parallel or sequential") && !err.to_string().contains("Serial"));
}

#[test]
fn refresh_cooldown_may_be_zero_but_not_negative_or_beyond_a_day() {
    let with = |value: &str| {
        let mut v = base();
        v.push(("REFRESH_COOLDOWN_SECONDS", value));
        Config::load(vars(&v))
    };
    assert_eq!(with("0").unwrap().refresh.cooldown_s, 0, "no cooldown (the reliability suites' worker)");
    assert_eq!(with("86400").unwrap().refresh.cooldown_s, 86_400);
    for bad in ["-1", "86401", "3s"] {
        assert_eq!(with(bad).unwrap_err().names(), vec!["REFRESH_COOLDOWN_SECONDS"], "{bad}");
    }
}

#[test]
fn ibkr_flex_is_available_without_credentials_with_its_default_url_and_user_agent() {
    let config = Config::load(vars(&base())).unwrap();
    let flex = config.provider(Provider::IbkrFlex).expect("always configured");
    assert_eq!(flex.base_url, "https://ndcdyn.interactivebrokers.com");
    assert_eq!(flex.user_agent.as_deref(), Some(IBKR_FLEX_DEFAULT_USER_AGENT));
    let mut custom = base();
    custom.extend([("IBKR_FLEX_BASE_URL", "http://127.0.0.1:9/"), ("IBKR_FLEX_USER_AGENT", "Acme/2.1")]);
    let config = Config::load(vars(&custom)).unwrap();
    let flex = config.provider(Provider::IbkrFlex).unwrap();
    assert_eq!((flex.base_url.as_str(), flex.user_agent.as_deref()), ("http://127.0.0.1:9", Some("Acme/2.1")));
    let mut bad = base();
    bad.extend([("IBKR_FLEX_BASE_URL", "http://ibkr.example"), ("IBKR_FLEX_USER_AGENT", "bad\u{7}agent")]);
    let err = Config::load(vars(&bad)).unwrap_err();
    assert_eq!(err.names(), ["IBKR_FLEX_BASE_URL", "IBKR_FLEX_USER_AGENT"]);
}

#[test]
fn allowed_origins_and_cache_hours_are_validated_at_start_up() {
    let config = Config::load(vars(&base())).unwrap();
    assert!(config.allowed_origins.as_slice().is_empty(), "same origin only by default");
    assert_eq!(config.cache, crate::cache::CachePolicy::default());
    let mut custom = base();
    custom.extend([
        ("ALLOWED_ORIGINS", "https://app.example, https://admin.example"),
        ("SNAPTRADE_CACHE_HOURS", "6"),
        ("PLAID_CACHE_HOURS", "48"),
    ]);
    let config = Config::load(vars(&custom)).unwrap();
    assert_eq!(config.allowed_origins.as_slice(), ["https://app.example", "https://admin.example"]);
    assert_eq!((config.cache.ttl_hours(Provider::SnapTrade), config.cache.ttl_hours(Provider::Plaid)), (6, 48));
    assert_eq!(config.cache.ttl_hours(Provider::IbkrFlex), 26, "unset: the spec's");
    let mut bad = base();
    bad.extend([
        ("ALLOWED_ORIGINS", "https://app.example/path"),
        ("PLAID_CACHE_HOURS", "0"),
        ("SCHWAB_CACHE_HOURS", "1h"),
    ]);
    let err = Config::load(vars(&bad)).unwrap_err();
    assert_eq!(err.names(), ["ALLOWED_ORIGINS", "PLAID_CACHE_HOURS", "SCHWAB_CACHE_HOURS"]);
    assert!(!err.to_string().contains("1h"), "values are never echoed: {err}");
}

#[test]
fn placing_orders_through_mcp_is_off_unless_the_deployment_says_true() {
    assert!(!Config::load(vars(&base())).unwrap().mcp_allow_place);
    let with = |value: &str| {
        let mut v = base();
        v.push(("MCP_ALLOW_PLACE", value));
        Config::load(vars(&v))
    };
    assert!(with("true").unwrap().mcp_allow_place);
    assert!(!with("false").unwrap().mcp_allow_place);
    assert!(with("yes").unwrap_err().to_string().contains("MCP_ALLOW_PLACE"));
}

#[test]
fn call_prices_and_the_operator_token_are_read_and_checked_by_name() {
    let config = Config::load(vars(&base())).unwrap();
    assert_eq!(config.call_prices, crate::ops::prices::CallPrices::default());
    assert!(config.operator_token.is_none());
    let mut pairs = base();
    pairs.push(("PROVIDER_CALL_PRICES", r#"{"plaid:investments_refresh": "0.10"}"#));
    pairs.push(("OPERATOR_TOKEN", "an-operator-token-of-at-least-32-chars"));
    let config = Config::load(vars(&pairs)).unwrap();
    assert_eq!(config.call_prices.price(Provider::Plaid, "investments_refresh").unwrap().to_string(), "0.10");
    assert_eq!(config.operator_token.as_ref().unwrap().expose(), "an-operator-token-of-at-least-32-chars");
    assert!(!format!("{config:?}").contains("an-operator-token"), "never shown by Debug");
    let mut bad = base();
    bad.push(("PROVIDER_CALL_PRICES", r#"{"plaid:investments_refresh": 0.1}"#));
    bad.push(("OPERATOR_TOKEN", "short"));
    let error = Config::load(vars(&bad)).unwrap_err();
    assert_eq!(error.names(), vec!["PROVIDER_CALL_PRICES", "OPERATOR_TOKEN"]);
    assert!(!error.to_string().contains("short"), "never the value");
}
