//! SnapTrade request signatures, written from SnapTrade's documentation (not from our client):
//! `Signature` = base64(HMAC-SHA256(consumer key, canonical JSON of
//! `{"content": body-or-null, "path": path, "query": query}`)).
//!
//! The canonical JSON is what Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"))`
//! produces (SnapTrade's server and reference SDK): keys sorted at every level, no whitespace,
//! everything outside printable ASCII escaped as lowercase `\uXXXX` (UTF-16 surrogate pairs above
//! U+FFFF), floats in Python's `repr` form (`1.0`, `1e+16`, `1.5e-05`).
//! Limitation: integers beyond the 64-bit range are read as floats by `serde_json` and so differ.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::fmt::Write as _;

/// `value` as sorted-key, compact, ASCII-only JSON (Python `json.dumps` with `sort_keys=True`).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&python_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// `f` the way Python's `repr(float)` writes it: shortest round-trip digits, positional for
/// decimal exponents -4..16, otherwise `d.ddde±XX`.
pub fn python_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let n = digits.len() as i32;
        let body = if exponent >= 0 {
            let int_len = exponent + 1;
            if n <= int_len {
                format!("{digits}{}.0", "0".repeat((int_len - n) as usize))
            } else {
                format!("{}.{}", &digits[..int_len as usize], &digits[int_len as usize..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exponent - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() == 1 { digits.clone() } else { format!("{}.{}", &digits[..1], &digits[1..]) };
        format!("{sign}{m}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }
}

/// The exact bytes SnapTrade signs: canonical JSON of `{content, path, query}`, where `content`
/// is null for no body or an empty object.
pub fn signing_message(path: &str, query: &str, content: Option<&Value>) -> String {
    let content = match content {
        Some(Value::Object(map)) if map.is_empty() => Value::Null,
        Some(value) => value.clone(),
        None => Value::Null,
    };
    let mut message = serde_json::Map::new();
    message.insert("content".into(), content);
    message.insert("path".into(), Value::String(path.to_owned()));
    message.insert("query".into(), Value::String(query.to_owned()));
    canonical_json(&Value::Object(message))
}

fn mac(consumer_key: &str, path: &str, query: &str, content: Option<&Value>) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(signing_message(path, query, content).as_bytes());
    mac
}

/// The `Signature` header value for a request (standard base64 with padding).
pub fn sign(consumer_key: &str, path: &str, query: &str, content: Option<&Value>) -> String {
    STANDARD.encode(mac(consumer_key, path, query, content).finalize().into_bytes())
}

/// Whether `signature` is the right one for this request (constant-time comparison).
pub fn verify(consumer_key: &str, path: &str, query: &str, content: Option<&Value>, signature: &str) -> bool {
    match STANDARD.decode(signature.trim()) {
        Ok(bytes) => mac(consumer_key, path, query, content).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_the_published_vector() {
        assert_eq!(
            sign("consumer_key", "/accounts", "timestamp=1700000000", None),
            "3VkE1AkN6sr1yxWbl8JA7v9O9MFXfMFDVgzhC9GhptU="
        );
        let empty = json!({});
        assert_eq!(
            sign("consumer_key", "/accounts", "timestamp=1700000000", Some(&empty)),
            "3VkE1AkN6sr1yxWbl8JA7v9O9MFXfMFDVgzhC9GhptU="
        );
    }

    /// Expected values computed with CPython's `json.dumps(..., sort_keys=True, separators=(",", ":"))`.
    #[test]
    fn matches_python_for_bodies_with_non_ascii_and_nesting() {
        let body = json!({"userId": "josé 😀", "n": [1, 2.5, {"z": null, "a": true}]});
        let query = "clientId=ABC&timestamp=1700000000";
        assert_eq!(
            signing_message("/snapTrade/registerUser", query, Some(&body)),
            r#"{"content":{"n":[1,2.5,{"a":true,"z":null}],"userId":"jos\u00e9 \ud83d\ude00"},"path":"/snapTrade/registerUser","query":"clientId=ABC&timestamp=1700000000"}"#
        );
        assert_eq!(
            sign("consumer_key", "/snapTrade/registerUser", query, Some(&body)),
            "z/T3BR/s6+g2t3bqwrWjqIv73SW2V4wPJIVEu7bg8pI="
        );
        let odd = json!({"a": "é😀\u{7f}\u{1}\n", "b": 1e16, "c": 1.5e-5, "d": 0.0001, "e": 12345678901234567890u64,
                         "f": 1.0, "g": -0.0, "h": 1e22});
        assert_eq!(
            canonical_json(&odd),
            r#"{"a":"\u00e9\ud83d\ude00\u007f\u0001\n","b":1e+16,"c":1.5e-05,"d":0.0001,"e":12345678901234567890,"f":1.0,"g":-0.0,"h":1e+22}"#
        );
    }

    #[test]
    fn python_float_forms() {
        for (f, s) in [
            (100.0, "100.0"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (-2.5e-7, "-2.5e-07"),
            (0.00012, "0.00012"),
        ] {
            assert_eq!(python_float(f), s, "{f}");
        }
    }

    #[test]
    fn key_order_does_not_matter_but_every_byte_does() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":3}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":3,"y":2},"b":1}"#).unwrap();
        let base = sign("k", "/accounts", "q=1", Some(&a));
        assert_eq!(base, sign("k", "/accounts", "q=1", Some(&b)));
        assert_ne!(base, sign("k", "/accountz", "q=1", Some(&a)));
        assert_ne!(base, sign("k", "/accounts", "q=2", Some(&a)));
        assert_ne!(base, sign("k2", "/accounts", "q=1", Some(&a)));
        assert_ne!(base, sign("k", "/accounts", "q=1", Some(&json!({"b": 2, "a": {"y": 2, "x": 3}}))));
        assert!(verify("k", "/accounts", "q=1", Some(&b), &base));
        assert!(!verify("k", "/accounts", "q=1", None, &base));
        assert!(!verify("k", "/accounts", "q=1", Some(&a), "not base64!"));
    }
}
