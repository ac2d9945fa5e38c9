//! Web origins the deployment trusts: which pages may call the API from a browser (CORS) and
//! where a provider flow may send a person back (pinned redirects). Pure: the shell passes the
//! request's `Origin`, its own origin and the configured list; nothing is read or stored here.
//!
//! The rules:
//! - **Origins are exact.** `ALLOWED_ORIGINS` lists `scheme://host[:port]` values (comma-separated;
//!   empty = the worker's own origin only). Matching is exact after lower-casing scheme and host:
//!   no wildcards, no suffix matching, no `null` origin.
//! - **CORS** answers an allowed cross-origin request with `Access-Control-Allow-Origin` echoing
//!   that origin (never `*`), `Vary: Origin`, no credentials mode (the API authenticates with a
//!   bearer token, not cookies), and exposes `Retry-After` so a page can read a 429's wait. A
//!   preflight from an allowed origin is answered for the API's methods and headers; any other
//!   origin gets no CORS header at all (the browser then refuses the page the answer).
//! - **Redirects are pinned:** a flow may return a person only to the worker's own origin or to
//!   an allowed origin ([`pin_redirect`]); in development any loopback origin is allowed too.
//!   Anything else is `redirect_not_allowed` — otherwise someone could have a provider deliver
//!   another person's public token to a host of their choosing.

use crate::error::{ErrorCode, ValidationError};
use crate::url::validate_redirect;

/// Methods the API answers cross-origin (a preflight's `Access-Control-Allow-Methods`).
pub const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Request headers a page may send (a preflight's `Access-Control-Allow-Headers`).
/// The MCP headers let a browser-based MCP client reach `/mcp`.
pub const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, Idempotency-Key, MCP-Protocol-Version, Mcp-Method, Mcp-Name";
/// Response headers a page may read besides the safelisted ones.
pub const EXPOSE_HEADERS: &str = "Retry-After";
/// How long a browser may reuse a preflight's answer, in seconds.
pub const PREFLIGHT_MAX_AGE_S: u32 = 600;

/// The most origins `ALLOWED_ORIGINS` may list.
const MAX_ORIGINS: usize = 32;

/// The origins a deployment trusts besides its own, each as `scheme://host[:port]` in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Parses `ALLOWED_ORIGINS`: comma-separated exact origins (`https://app.example`,
    /// `http://localhost:5173`); blanks between commas are ignored; http only for loopback hosts
    /// outside development. The error says which entry (by position) is not an origin.
    pub fn parse(list: &str, development: bool) -> Result<Self, String> {
        let mut origins: Vec<String> = Vec::new();
        for (n, raw) in list.split(',').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
            let origin = bare_origin(raw)
                .filter(|o| o.starts_with("https://") || development || is_loopback_origin(o))
                .ok_or_else(|| {
                    format!(
                        "entry {} is not an origin: write scheme://host[:port] (https, or http for a loopback host)",
                        n + 1
                    )
                })?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.len() > MAX_ORIGINS {
            return Err(format!("lists {} origins; at most {MAX_ORIGINS}", origins.len()));
        }
        Ok(Self(origins))
    }

    /// Whether `origin` (already normalised) is listed.
    fn lists(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// The listed origins.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// `scheme://host[:port]` of an origin or URL, scheme and host lower-cased, a default port
/// (`:443` for https, `:80` for http) dropped; `None` when it has user info, is not http(s), or
/// its host is not a plain DNS name or IPv4 address.
pub fn normalise_origin(value: &str) -> Option<String> {
    let (scheme, rest) = value.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    // Validated with the redirect rule: the same hosts and ports as a redirect may have.
    validate_redirect(&format!("{scheme}://{authority}"), true).ok()?;
    let authority = authority.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("https", Some((host, "443"))) | ("http", Some((host, "80"))) => host.to_owned(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

/// [`normalise_origin`] of a value that is an origin and nothing more (no path, query or fragment).
fn bare_origin(value: &str) -> Option<String> {
    let rest = value.split_once("://")?.1;
    if rest.contains(['/', '?', '#']) {
        return None;
    }
    normalise_origin(value)
}

fn is_loopback_origin(origin: &str) -> bool {
    let host = origin.split_once("://").map_or("", |(_, rest)| rest);
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost")
}

/// How a request's `Origin` stands with the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// No `Origin`, or the worker's own: not a cross-origin request, nothing to add.
    SameOrigin,
    /// An allowed cross-origin request: answer with CORS headers for this origin.
    Allowed { origin: String },
    /// A cross-origin request from an origin the deployment does not trust: no CORS headers.
    Refused,
}

/// Whether cross-origin answers exist for `path` at all: the API under `/api/` and the MCP
/// endpoint `/mcp` (browser-based MCP clients) — webhooks and static files are never answered
/// cross-origin.
pub fn cors_applies(path: &str) -> bool {
    path.starts_with("/api/") || path == "/mcp"
}

/// Whether `origin_header` is absent or the worker's own origin (no deployment list needed).
pub fn is_same_origin(origin_header: Option<&str>, own_origin: &str) -> bool {
    match origin_header.map(str::trim).filter(|o| !o.is_empty()) {
        None => true,
        Some(raw) => bare_origin(raw).is_some_and(|o| normalise_origin(own_origin).is_some_and(|own| own == o)),
    }
}

/// Decides a request's CORS standing from its `Origin` header, the worker's own origin and the
/// deployment's list.
pub fn cors_for(origin_header: Option<&str>, own_origin: &str, allowed: &AllowedOrigins) -> Cors {
    let Some(raw) = origin_header.map(str::trim).filter(|o| !o.is_empty()) else { return Cors::SameOrigin };
    let Some(origin) = bare_origin(raw) else { return Cors::Refused };
    if normalise_origin(own_origin).is_some_and(|own| own == origin) {
        Cors::SameOrigin
    } else if allowed.lists(&origin) {
        Cors::Allowed { origin }
    } else {
        Cors::Refused
    }
}

impl Cors {
    /// The headers an actual (non-preflight) answer carries: for an allowed origin its echo,
    /// `Vary: Origin` and the exposed headers; `Vary: Origin` alone whenever an `Origin` was sent
    /// (a cache must not hand one origin's answer to another).
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Cors::SameOrigin => Vec::new(),
            Cors::Refused => vec![("Vary", "Origin".to_owned())],
            Cors::Allowed { origin } => vec![
                ("Access-Control-Allow-Origin", origin.clone()),
                ("Vary", "Origin".to_owned()),
                ("Access-Control-Expose-Headers", EXPOSE_HEADERS.to_owned()),
            ],
        }
    }

    /// The status and headers of a preflight (`OPTIONS`) answer: 204 with the API's methods and
    /// headers for an allowed origin, 403 with no CORS header otherwise.
    pub fn preflight(&self) -> (u16, Vec<(&'static str, String)>) {
        match self {
            Cors::Allowed { .. } => {
                let mut headers = self.response_headers();
                headers.push(("Access-Control-Allow-Methods", ALLOW_METHODS.to_owned()));
                headers.push(("Access-Control-Allow-Headers", ALLOW_HEADERS.to_owned()));
                headers.push(("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_S.to_string()));
                (204, headers)
            }
            Cors::SameOrigin | Cors::Refused => (403, self.response_headers()),
        }
    }
}

/// Why a flow's `redirect` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("redirect must return to this app ({own}) or an origin listed in ALLOWED_ORIGINS; {origin} is neither")]
    NotAllowed { origin: String, own: String },
}

impl ErrorCode for RedirectError {
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(inner) => inner.code(),
            Self::NotAllowed { .. } => "redirect_not_allowed",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// Checks a flow's `redirect`: a well-formed URL ([`validate_redirect`]) whose origin is the
/// worker's own, an allowed one, or (in development) a loopback one. Returns it unchanged.
pub fn pin_redirect<'a>(
    url: &'a str,
    own_origin: &str,
    allowed: &AllowedOrigins,
    development: bool,
) -> Result<&'a str, RedirectError> {
    let url = validate_redirect(url, development)?;
    let origin = normalise_origin(url).ok_or(ValidationError::BadCharacters {
        field: "redirect",
        allowed: "an absolute https:// URL of this app or an allowed origin",
    })?;
    let own = normalise_origin(own_origin).unwrap_or_default();
    if origin == own || allowed.lists(&origin) || (development && is_loopback_origin(&origin)) {
        Ok(url)
    } else {
        Err(RedirectError::NotAllowed { origin, own })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &str) -> AllowedOrigins {
        AllowedOrigins::parse(list, false).unwrap()
    }

    #[test]
    fn allowed_origins_are_exact_normalised_and_https_outside_loopback() {
        let list = allowed(" https://App.Example , https://app.example:443,http://localhost:5173,, ");
        assert_eq!(list.as_slice(), ["https://app.example", "http://localhost:5173"]);
        for bad in
            ["app.example", "https://app.example/path", "https://user@app.example", "*", "null", "ftp://x.example"]
        {
            assert!(AllowedOrigins::parse(bad, true).is_err(), "{bad}");
        }
        assert!(AllowedOrigins::parse("http://app.example", false).is_err(), "plain http only for loopback");
        assert!(AllowedOrigins::parse("http://app.example", true).is_ok(), "or in development");
        assert_eq!(AllowedOrigins::parse("", false), Ok(AllowedOrigins::default()));
    }

    #[test]
    fn cors_echoes_only_a_listed_origin_and_never_a_wildcard() {
        let list = allowed("https://app.example");
        let own = "https://api.example";
        assert_eq!(cors_for(None, own, &list), Cors::SameOrigin);
        assert_eq!(cors_for(Some("https://api.example"), own, &list), Cors::SameOrigin);
        let ok = cors_for(Some("https://APP.example"), own, &list);
        assert_eq!(ok, Cors::Allowed { origin: "https://app.example".into() });
        for other in [
            "https://evil.example",
            "https://app.example.evil.example",
            "null",
            "https://app.example:8443",
            "http://app.example",
            "https://app.example/",
        ] {
            assert_eq!(cors_for(Some(other), own, &list), Cors::Refused, "{other}");
        }
        let headers = ok.response_headers();
        assert!(headers.contains(&("Access-Control-Allow-Origin", "https://app.example".into())));
        assert!(headers.contains(&("Access-Control-Expose-Headers", "Retry-After".into())));
        assert!(headers.iter().all(|(name, value)| *name != "Access-Control-Allow-Credentials" && value != "*"));
        assert_eq!(Cors::Refused.response_headers(), vec![("Vary", "Origin".to_owned())]);
    }

    #[test]
    fn only_the_api_is_answered_cross_origin_and_the_own_origin_needs_no_list() {
        assert!(cors_applies("/api/me") && cors_applies("/mcp") && !cors_applies("/mcp/x"));
        assert!(!cors_applies("/webhooks/plaid") && !cors_applies("/app.js"));
        assert!(is_same_origin(None, "https://api.example"));
        assert!(is_same_origin(Some("https://API.example:443"), "https://api.example"));
        assert!(!is_same_origin(Some("https://app.example"), "https://api.example"));
        assert!(!is_same_origin(Some("null"), "https://api.example"));
    }

    #[test]
    fn a_preflight_is_answered_for_allowed_origins_only() {
        let (status, headers) = Cors::Allowed { origin: "https://app.example".into() }.preflight();
        assert_eq!(status, 204);
        let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(
            get("Access-Control-Allow-Headers"),
            Some("Authorization, Content-Type, Idempotency-Key, MCP-Protocol-Version, Mcp-Method, Mcp-Name")
        );
        assert!(get("Access-Control-Allow-Methods").is_some_and(|m| m.contains("DELETE")));
        let (status, headers) = Cors::Refused.preflight();
        assert_eq!(status, 403);
        assert!(headers.iter().all(|(n, _)| !n.starts_with("Access-Control")));
    }

    #[test]
    fn redirects_return_only_to_this_app_an_allowed_origin_or_loopback_in_development() {
        let list = allowed("https://app.example");
        let own = "https://api.example";
        assert!(pin_redirect("https://api.example/?flow=return", own, &list, false).is_ok());
        assert!(pin_redirect("https://app.example/connected", own, &list, false).is_ok());
        let refused = pin_redirect("https://evil.example/steal", own, &list, false).unwrap_err();
        assert_eq!((refused.code(), refused.http_status()), ("redirect_not_allowed", 400));
        assert!(refused.to_string().contains("https://evil.example"), "{refused}");
        assert!(
            pin_redirect("http://127.0.0.1:9/connected", own, &list, false).is_err(),
            "loopback only in development"
        );
        assert!(pin_redirect("http://127.0.0.1:9/connected", own, &list, true).is_ok());
        assert_eq!(pin_redirect("javascript:alert(1)", own, &list, true).unwrap_err().code(), "invalid_input");
        assert!(pin_redirect("https://app.example.evil.example/", own, &list, false).is_err(), "no suffix matching");
    }
}
