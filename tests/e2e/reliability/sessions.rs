//! Bad sessions, built by hand: every way a bearer token can be missing, expired, tampered with,
//! unsigned (`alg: none`), signed with the wrong algorithm (HS512) or key, or malformed.

use crate::support::{now, Ctx};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// A JWT signed with HMAC-SHA256 or -SHA512 (by `alg`) under `key`, or unsigned for other algs.
fn jwt(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = match header["alg"].as_str() {
        Some("HS256") => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Some("HS512") => {
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => Vec::new(),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// `(name, Authorization header)` of every bad session; each tries to act as `victim`.
pub fn bad_sessions(ctx: &Ctx, me: &str, victim: &str) -> Vec<(&'static str, Option<String>)> {
    let key = ctx.session_key_raw.as_bytes();
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let claims = |sub: &str, exp: i64| json!({"sub": sub, "iat": now() - 10, "exp": exp});
    let live = claims(victim, now() + 600);
    let valid_mine = ctx.token(me);
    let [header, _, signature]: [&str; 3] = valid_mine.split('.').collect::<Vec<_>>().try_into().unwrap();
    let bearer = |token: String| Some(format!("Bearer {token}"));
    let mut flipped = valid_mine.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    vec![
        ("no_token", None),
        ("empty_bearer", Some("Bearer ".into())),
        ("basic_scheme", Some(format!("Basic {}", URL_SAFE_NO_PAD.encode(format!("{victim}:x"))))),
        ("expired", bearer(jwt(&hs256, &claims(victim, now() - 60), key))),
        ("expired_own", bearer(jwt(&hs256, &claims(me, now() - 1), key))),
        ("tampered_subject", bearer(format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(live.to_string())))),
        ("tampered_signature", bearer(String::from_utf8(flipped).unwrap())),
        ("alg_none", bearer(jwt(&json!({"alg": "none", "typ": "JWT"}), &live, key))),
        ("alg_none_lowercase_header", bearer(jwt(&json!({"alg": "None"}), &live, key))),
        ("alg_missing", bearer(jwt(&json!({"typ": "JWT"}), &live, key))),
        ("hs512_right_key", bearer(jwt(&json!({"alg": "HS512", "typ": "JWT"}), &live, key))),
        ("hs256_wrong_key", bearer(jwt(&hs256, &live, b"not-the-session-signing-key-0123456789"))),
        ("exp_missing", bearer(jwt(&hs256, &json!({"sub": victim}), key))),
        ("not_yet_valid", bearer(jwt(&hs256, &json!({"sub": victim, "exp": now() + 600, "nbf": now() + 300}), key))),
        ("two_parts", bearer(format!("{header}.{}", URL_SAFE_NO_PAD.encode(live.to_string())))),
        ("garbage", bearer("not.a.jwt".into())),
    ]
}

/// The session error codes a refused session may carry.
pub const SESSION_CODES: &[&str] = &[
    "missing_token",
    "malformed_token",
    "unsupported_token_algorithm",
    "bad_token_signature",
    "token_expired",
    "token_not_yet_valid",
    "invalid_token_subject",
];
