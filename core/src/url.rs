//! Query strings built exactly once: the bytes signed are the bytes sent.

/// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `a=1&b=x%20y` from ordered pairs; order is kept because signatures cover it.
pub fn encode_query(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_non_ascii_bytes_and_keeps_order() {
        assert_eq!(
            encode_query(&[("userId", "a b"), ("userSecret", "x/y+z=é"), ("clientId", "A-1_.~")]),
            "userId=a%20b&userSecret=x%2Fy%2Bz%3D%C3%A9&clientId=A-1_.~"
        );
    }
}

/// Checks where a provider flow may send the user back: an absolute http(s) URL, and plain
/// http only for loopback hosts outside development. Returns the URL unchanged when accepted.
pub fn validate_redirect(url: &str, development: bool) -> Result<&str, crate::ValidationError> {
    let field = "redirect";
    let url = url.trim();
    if url.is_empty() {
        return Err(crate::ValidationError::Empty { field });
    }
    if url.len() > 2048 {
        return Err(crate::ValidationError::TooLong { field, max: 2048 });
    }
    let bad = crate::ValidationError::BadCharacters {
        field,
        allowed: "an absolute https:// URL (http:// only for 127.0.0.1/localhost)",
    };
    let (scheme, rest) = url.split_once("://").ok_or(bad.clone())?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("").rsplit('@').next().unwrap_or("");
    let host_name = host.split(':').next().unwrap_or("");
    let loopback = matches!(host_name, "127.0.0.1" | "localhost");
    let ok = !host_name.is_empty()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && (scheme == "https" || (scheme == "http" && (loopback || development)));
    if ok {
        Ok(url)
    } else {
        Err(bad)
    }
}

#[cfg(test)]
mod redirect_tests {
    use super::validate_redirect;

    #[test]
    fn only_absolute_web_urls_are_accepted_as_redirects() {
        assert!(validate_redirect("https://app.example/return?x=1", false).is_ok());
        assert!(validate_redirect("http://127.0.0.1:8787/connected.html", false).is_ok());
        assert!(validate_redirect("http://app.example/return", false).is_err());
        assert!(validate_redirect("http://app.example/return", true).is_ok());
        for bad in ["", "/relative", "javascript:alert(1)", "https://", "https://a b.example", "ftp://x.example"] {
            assert!(validate_redirect(bad, true).is_err(), "{bad:?}");
        }
    }
}
