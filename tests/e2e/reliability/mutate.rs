//! Byte- and JSON-level mutations of genuine webhook deliveries: bit flips, keys in a random order,
//! one changed value, JWT parts re-encoded, and the ECDSA signature's twin `(r, n − s)`.
//! Pure functions of their input and the [`Rng`]; they never sign anything.

use super::Rng;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};

/// `bytes` with one random bit flipped.
pub fn flip_bit(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = rng.below(out.len());
    out[at] ^= 1 << rng.below(8);
    out
}

/// A standard-base64 signature with one random bit of its decoded bytes flipped.
pub fn flip_signature_bit(signature: &str, rng: &mut Rng) -> String {
    let bytes = STANDARD.decode(signature).expect("the simulator's signature is base64");
    STANDARD.encode(flip_bit(&bytes, rng))
}

/// `value` serialised compactly with object keys in a random order at every level.
pub fn shuffled_json(value: &Value, rng: &mut Rng) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, rng.below(i + 1));
            }
            let parts: Vec<String> =
                entries.iter().map(|(k, v)| format!("{}:{}", json!(k), shuffled_json(v, rng))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            format!("[{}]", items.iter().map(|v| shuffled_json(v, rng)).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

/// `payload` (a JSON object) with exactly one semantic change: a string value altered, a key
/// added or removed, or a nested value changed. Never equal to the input.
pub fn change_one_value(payload: &Value, rng: &mut Rng) -> Value {
    let mut map: Map<String, Value> = payload.as_object().expect("webhook payloads are objects").clone();
    let strings: Vec<String> = map.iter().filter(|(_, v)| v.is_string()).map(|(k, _)| k.clone()).collect();
    match rng.below(4) {
        0 | 1 if !strings.is_empty() => {
            let key = rng.pick(&strings).clone();
            let old = map[&key].as_str().unwrap_or_default().to_owned();
            let new = match rng.below(3) {
                0 => format!("{old}x"),
                1 if old.len() > 1 => old[..old.len() - 1].to_owned(),
                _ => format!("forged-{:08x}", rng.next_u64() as u32),
            };
            map.insert(key, json!(if new == old { format!("{old}-forged") } else { new }));
        }
        2 => {
            map.insert(format!("forged{}", rng.below(1000)), json!(rng.next_u64() % 100));
        }
        _ => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match map.remove(&key) {
                Some(Value::Object(mut inner)) => {
                    inner.insert("forged".into(), json!(true));
                    map.insert(key, Value::Object(inner));
                }
                Some(Value::Number(n)) => {
                    map.insert(key, json!(n.as_i64().unwrap_or(0) + 1));
                }
                _ => {}
            }
        }
    }
    let changed = Value::Object(map);
    assert_ne!(&changed, payload, "a changed payload differs");
    changed
}

/// A JWT's three base64url parts.
pub fn jwt_parts(jwt: &str) -> [String; 3] {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "the simulator's JWT has three parts: {jwt}");
    [parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned()]
}

/// The decoded JSON of a base64url JWT part.
pub fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("a JSON part")
}

/// `value` as a base64url JWT part.
pub fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The P-256 group order n, big-endian.
const P256_ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA,
    0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// The other valid encoding of an ES256 JWT's signature: `(r, n − s)` verifies whenever `(r, s)`
/// does, so the token differs while saying exactly the same thing.
pub fn ecdsa_twin(jwt: &str) -> String {
    let [header, payload, signature] = jwt_parts(jwt);
    let mut bytes = URL_SAFE_NO_PAD.decode(&signature).expect("base64url signature");
    assert_eq!(bytes.len(), 64, "ES256 signatures are r || s");
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let difference = i16::from(P256_ORDER[i]) - i16::from(bytes[32 + i]) - borrow;
        borrow = i16::from(difference < 0);
        bytes[32 + i] = difference.rem_euclid(256) as u8;
    }
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Printable ASCII that base64url and JWTs never contain, plus their own alphabet's edge cases. No
/// whitespace: receivers rightly trim it, so it would not make a different token.
const ODD_CHARS: &[u8] = b"=+/!*.~-_0AZaz";

/// `text` with one character replaced, removed or inserted (printable ASCII only).
pub fn mangle_text(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = rng.below(bytes.len().max(1));
    let odd = *rng.pick(ODD_CHARS);
    match rng.below(4) {
        0 if !bytes.is_empty() => {
            bytes.remove(at);
        }
        1 => bytes.insert(at.min(bytes.len()), odd),
        2 => bytes.truncate(at),
        _ if !bytes.is_empty() && bytes[at] != odd => bytes[at] = odd,
        _ => bytes.push(odd),
    }
    String::from_utf8(bytes).expect("ASCII in, ASCII out")
}
