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

/// Checks where a provider flow may send the user back: `http(s)://host[:port][/?#…]` exactly as
/// `openapi.yaml`'s `RedirectUrl` pattern says, plain http only for loopback hosts outside
/// development. Returns the URL unchanged when accepted.
///
/// The host is a DNS name whose last label starts with a letter (so it never reads as an IPv4
/// number) or a dotted-quad IPv4 address; the port is at most 65535; the rest is printable ASCII.
/// No user info, no IPv6 literals, no surrounding whitespace: whatever passes here, the providers'
/// URL parsers accept too, so a bad redirect is our 400 and never their rejection.
pub fn validate_redirect(url: &str, development: bool) -> Result<&str, crate::ValidationError> {
    let field = "redirect";
    if url.is_empty() {
        return Err(crate::ValidationError::Empty { field });
    }
    if url.len() > 2048 {
        return Err(crate::ValidationError::TooLong { field, max: 2048 });
    }
    let bad = crate::ValidationError::BadCharacters {
        field,
        allowed: "an absolute https:// URL in printable ASCII, host and optional port only \
                  (http:// only for 127.0.0.1/localhost)",
    };
    let (scheme, rest) = url.split_once("://").ok_or(bad.clone())?;
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let (host, port) = authority.split_once(':').map_or((authority, None), |(h, p)| (h, Some(p)));
    let well_formed = matches!(scheme, "http" | "https")
        && (is_dns_name(host) || is_ipv4(host))
        && port.is_none_or(is_port)
        && tail.bytes().all(|b| (b'!'..=b'~').contains(&b));
    let loopback = matches!(host, "127.0.0.1" | "localhost");
    if well_formed && (scheme == "https" || loopback || development) {
        Ok(url)
    } else {
        Err(bad)
    }
}

/// Labels of letters, digits, `-` and `_`; the last one starts with a letter.
fn is_dns_name(host: &str) -> bool {
    let label = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    host.split('.').all(label)
        && host.rsplit('.').next().is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// Four decimal parts from 0 to 255, without leading zeros.
fn is_ipv4(host: &str) -> bool {
    let octet = |p: &str| {
        (1..=3).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
            && p.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    host.split('.').count() == 4 && host.split('.').all(octet)
}

/// One to four digits, or five digits not starting with 0, at most 65535.
fn is_port(port: &str) -> bool {
    (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
        && (port.len() < 5 || !port.starts_with('0'))
        && port.parse::<u32>().is_ok_and(|n| n <= 65_535)
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

    /// Found by the API contract check (tests/e2e/contract.rs): a redirect Plaid's URL parser
    /// refuses (port 80891) was accepted here, so the user got a 502 from Plaid instead of our 400.
    #[test]
    fn redirects_a_provider_would_refuse_are_ours_to_refuse() {
        for good in [
            "https://app.example:443/x?y=1#z",
            "http://localhost:65535",
            "https://a-b_c.example.com",
            "https://1password.com/",
            "http://10.0.0.255:0/",
        ] {
            assert_eq!(validate_redirect(good, true), Ok(good));
        }
        for bad in [
            "https://rGD3fkugjw0t:80891",
            "https://app.example:65536/",
            "https://app.example:08080/",
            "https://app.example:x/",
            "https://app.example:/",
            "https://1.2.3.999/",
            "https://1.2.3.04/",
            "https://example.123/",
            "https://0x7f/",
            "https://user@app.example/",
            "https://[::1]/",
            "https://app..example/",
            "https://app.example/é",
            " https://app.example/",
            "https://app.example/\u{7f}",
        ] {
            assert!(validate_redirect(bad, true).is_err(), "{bad:?}");
        }
    }
}
