//! The canonical JSON SnapTrade signs: keys sorted at every level, no whitespace, and every
//! non-ASCII character written as a `\uXXXX` escape (as Python's `json.dumps(sort_keys=True,
//! separators=(",", ":"))` writes it), so every party derives the same bytes.

use serde_json::Value;
use std::fmt::Write;

/// Serialises `value` canonically.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
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

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::canonical_json;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_level_without_whitespace() {
        let value = json!({"b": 1, "a": {"z": [true, null], "c": "x"}});
        assert_eq!(canonical_json(&value), r#"{"a":{"c":"x","z":[true,null]},"b":1}"#);
    }

    #[test]
    fn escapes_non_ascii_like_python_ensure_ascii() {
        assert_eq!(canonical_json(&json!("café €")), r#""caf\u00e9 \u20ac""#);
        assert_eq!(canonical_json(&json!("📈")), r#""\ud83d\udcc8""#);
        assert_eq!(canonical_json(&json!("a\"b\\c\n\u{1}\u{7f}")), r#""a\"b\\c\n\u0001\u007f""#);
    }
}
