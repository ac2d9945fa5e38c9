//! How each [`Kind`] of forgery is made from a genuine delivery: mutated locally (bit flips, keys
//! reordered, JWT parts edited) or, when the defect must carry a valid signature (a stale time, a
//! wrong client id, an oversized or non-JSON body), signed by the simulator with that defect.

use super::mutate::{
    change_one_value, decode_part, encode_part, flip_bit, flip_signature_bit, jwt_parts, mangle_text, shuffled_json,
};
use super::variants::{sign, Delivery, Hook, Kind, MAX_WEBHOOK_BYTES};
use super::Rng;
use crate::support::{now, Ctx};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// A size over the limit: mostly just over, sometimes far over (up to 1 MiB).
fn oversized_len(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0..=3 => MAX_WEBHOOK_BYTES + 1,
        4..=8 => rng.between(MAX_WEBHOOK_BYTES as i64 + 2, 256 * 1024) as usize,
        _ => 1024 * 1024,
    }
}

/// Seconds away from now that are clearly outside the 300 s window (at least `min`).
fn far_seconds(rng: &mut Rng, min: i64) -> i64 {
    match rng.below(3) {
        0 => rng.between(min, 3_600.max(min + 1)),
        1 => rng.between(3_600, 10_000_000),
        _ => rng.between(10_000_000, 1_000_000_000),
    }
}

/// `spec` with `extra`'s fields added.
fn with(spec: &Value, extra: Value) -> Value {
    let mut spec = spec.clone();
    spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    spec
}

/// Text that is not a JSON object in many ways (some of it valid JSON of another type).
fn non_json(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(base).into_owned();
    match rng.below(9) {
        0 => base[..rng.below(base.len())].to_vec(),
        1 => {
            let n = rng.between(1, 512) as usize;
            rng.bytes(n)
        }
        2 => format!("[{text}]").into_bytes(),
        3 => json!(text).to_string().into_bytes(),
        4 => format!("{text}{text}").into_bytes(),
        5 => format!("\u{feff}{text}").into_bytes(),
        6 => "[".repeat(rng.between(200, 5000) as usize).into_bytes(),
        7 => (*rng.pick(&["", "null", "42", "true", "<xml/>", "a=b&c=d", " "])).as_bytes().to_vec(),
        _ => format!("{text}x").into_bytes(),
    }
}

/// One forgery of `kind`, from genuine deliveries of `specs` (signing more through the simulator when the kind needs a
/// genuinely signed defect).
pub async fn forge(ctx: &Ctx, kind: &Kind, specs: &[Value], genuine: &[Delivery], rng: &mut Rng) -> Delivery {
    let at = rng.below(genuine.len());
    let (spec, base) = (&specs[at], &genuine[at]);
    match kind.hook {
        Hook::SnapTrade => forge_snaptrade(ctx, kind.name, spec, base, rng).await,
        Hook::Plaid => forge_plaid(ctx, kind.name, spec, base, rng).await,
    }
}

async fn forge_snaptrade(ctx: &Ctx, name: &str, spec: &Value, base: &Delivery, rng: &mut Rng) -> Delivery {
    let signature = base.signature().to_owned();
    match name {
        "snaptrade_body_bit_flip" => base.with_body(flip_bit(&base.body, rng)),
        "snaptrade_signature_bit_flip" => base.with_signature(Some(flip_signature_bit(&signature, rng))),
        "snaptrade_signature_mangled" => base.with_signature(Some(mangle_text(&signature, rng))),
        "snaptrade_reordered_keys_changed_value_old_signature" => {
            base.with_body(shuffled_json(&change_one_value(&base.json(), rng), rng))
        }
        "snaptrade_stale_timestamp" => {
            sign(ctx, Hook::SnapTrade, &with(spec, json!({"event_timestamp": now() - far_seconds(rng, 301)}))).await
        }
        "snaptrade_future_timestamp" => {
            // At least an hour ahead, so the time between signing and sending never brings it into the window.
            sign(ctx, Hook::SnapTrade, &with(spec, json!({"event_timestamp": now() + far_seconds(rng, 3_600)}))).await
        }
        "snaptrade_missing_timestamp" => {
            sign(ctx, Hook::SnapTrade, &with(spec, json!({"tamper": "missing_timestamp"}))).await
        }
        "snaptrade_malformed_timestamp" => {
            sign(ctx, Hook::SnapTrade, &with(spec, json!({"tamper": "malformed_timestamp"}))).await
        }
        "snaptrade_wrong_client_id" => sign(ctx, Hook::SnapTrade, &with(spec, json!({"tamper": "wrong_client"}))).await,
        "snaptrade_oversized_body" => {
            let target = oversized_len(rng);
            if rng.percent(50) {
                // Genuinely signed, so only the size can stop it.
                let probe = sign(ctx, Hook::SnapTrade, &with(spec, json!({"details": {"pad": ""}}))).await;
                let pad = "x".repeat(target - probe.body.len());
                sign(ctx, Hook::SnapTrade, &with(spec, json!({"details": {"pad": pad}}))).await
            } else {
                // The genuine body padded with whitespace: same canonical form, so the signature still holds.
                let mut body = base.body.clone();
                body.splice(1..1, std::iter::repeat_n(b' ', target - body.len()));
                base.with_body(body)
            }
        }
        "snaptrade_non_json_body" => {
            if rng.percent(15) {
                sign(ctx, Hook::SnapTrade, &with(spec, json!({"tamper": "non_json"}))).await
            } else {
                base.with_body(non_json(&base.body, rng))
            }
        }
        "snaptrade_no_signature" => match rng.below(3) {
            0 => base.with_signature(None),
            1 => base.with_signature(Some(String::new())),
            _ => base.with_signature(Some("   ".into())),
        },
        other => unreachable!("unknown SnapTrade forgery {other}"),
    }
}

async fn forge_plaid(ctx: &Ctx, name: &str, spec: &Value, base: &Delivery, rng: &mut Rng) -> Delivery {
    let token = base.signature().to_owned();
    let [header, claims, signature] = jwt_parts(&token);
    match name {
        "plaid_body_bit_flip" => base.with_body(flip_bit(&base.body, rng)),
        "plaid_reordered_keys_old_token" => {
            let body = base.json();
            let text = if rng.percent(50) { shuffled_json(&body, rng) } else { serde_json::to_string(&body).unwrap() };
            base.with_body(if text.as_bytes() == base.body { format!("{text} ") } else { text })
        }
        "plaid_changed_value_old_token" => {
            base.with_body(serde_json::to_vec_pretty(&change_one_value(&base.json(), rng)).unwrap())
        }
        "plaid_signature_bit_flip" => {
            let bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
            let flipped = URL_SAFE_NO_PAD.encode(flip_bit(&bytes, rng));
            base.with_signature(Some(format!("{header}.{claims}.{flipped}")))
        }
        "plaid_token_mangled" => base.with_signature(Some(mangle_text(&token, rng))),
        "plaid_claims_edited_old_signature" => {
            let mut edited = decode_part(&claims);
            match rng.below(3) {
                0 => edited["iat"] = json!(edited["iat"].as_i64().unwrap() + rng.between(1, 200)),
                1 => edited["request_body_sha256"] = json!(format!("{:064x}", rng.next_u64())),
                _ => edited["extra"] = json!(true),
            }
            base.with_signature(Some(format!("{header}.{}.{signature}", encode_part(&edited))))
        }
        "plaid_wrong_alg" => {
            if rng.percent(15) {
                let tamper = *rng.pick(&["alg_none", "alg_hs256"]);
                return sign(ctx, Hook::Plaid, &with(spec, json!({"tamper": tamper}))).await;
            }
            let mut edited = decode_part(&header);
            let algs = [
                json!("none"),
                json!("None"),
                json!("HS256"),
                json!("HS384"),
                json!("HS512"),
                json!("RS256"),
                json!("ES384"),
                json!("ES512"),
                json!("PS256"),
                json!("EdDSA"),
                json!("es256"),
                json!("ES256 "),
                json!(""),
                json!(null),
                json!(256),
                json!(["ES256"]),
            ];
            match rng.below(algs.len() + 1) {
                i if i < algs.len() => edited["alg"] = algs[i].clone(),
                _ => {
                    edited.as_object_mut().unwrap().remove("alg");
                }
            }
            let forged_signature = match rng.below(3) {
                0 => signature.clone(),
                1 => String::new(),
                _ => URL_SAFE_NO_PAD.encode(rng.bytes(32)),
            };
            base.with_signature(Some(format!("{}.{claims}.{forged_signature}", encode_part(&edited))))
        }
        "plaid_wrong_kid" => {
            if rng.percent(25) {
                return sign(ctx, Hook::Plaid, &with(spec, json!({"tamper": "unknown_kid"}))).await;
            }
            let mut edited = decode_part(&header);
            let kid = edited["kid"].as_str().unwrap_or_default().to_owned();
            match rng.below(6) {
                0 => edited["kid"] = json!(format!("{:032x}", rng.next_u64())),
                1 => edited["kid"] = json!(""),
                2 => edited["kid"] = json!(rng.next_u64()),
                3 => edited["kid"] = json!(format!("{kid}x")),
                4 => edited["kid"] = json!("k".repeat(6_500)),
                _ => {
                    edited.as_object_mut().unwrap().remove("kid");
                }
            }
            base.with_signature(Some(format!("{}.{claims}.{signature}", encode_part(&edited))))
        }
        "plaid_signed_by_another_key" => sign(ctx, Hook::Plaid, &with(spec, json!({"tamper": "other_key"}))).await,
        "plaid_stale_iat" => {
            if rng.percent(20) {
                return sign(ctx, Hook::Plaid, &with(spec, json!({"tamper": "stale_iat"}))).await;
            }
            sign(ctx, Hook::Plaid, &with(spec, json!({"iat": now() - far_seconds(rng, 301)}))).await
        }
        "plaid_future_iat" => {
            sign(ctx, Hook::Plaid, &with(spec, json!({"iat": now() + far_seconds(rng, 3_600)}))).await
        }
        "plaid_missing_body_hash" => sign(ctx, Hook::Plaid, &with(spec, json!({"tamper": "missing_hash"}))).await,
        "plaid_oversized_body" => {
            let target = oversized_len(rng);
            if rng.percent(50) {
                let probe = sign(ctx, Hook::Plaid, &with(spec, json!({"error": {"pad": ""}}))).await;
                let pad = "x".repeat(target - probe.body.len());
                sign(ctx, Hook::Plaid, &with(spec, json!({"error": {"pad": pad}}))).await
            } else {
                let raw = format!("{}{}", String::from_utf8_lossy(&base.body), " ".repeat(target - base.body.len()));
                let webhook = with(spec, json!({"raw_body": raw}));
                sign(ctx, Hook::Plaid, &webhook).await
            }
        }
        "plaid_non_json_body" => {
            let garbage = non_json(&base.body, rng);
            match String::from_utf8(garbage) {
                // Genuinely signed garbage: only parsing can stop it.
                Ok(text) if rng.percent(50) => sign(ctx, Hook::Plaid, &with(spec, json!({"raw_body": text}))).await,
                Ok(text) => base.with_body(text),
                Err(bytes) => base.with_body(bytes.into_bytes()),
            }
        }
        "plaid_no_token" => match rng.below(3) {
            0 => base.with_signature(None),
            1 => base.with_signature(Some(String::new())),
            _ => base.with_signature(Some("  ".into())),
        },
        other => unreachable!("unknown Plaid forgery {other}"),
    }
}
