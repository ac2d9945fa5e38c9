//! SnapTrade request signing: `Signature = base64(HMAC-SHA256(consumer key, canonical JSON of
//! {"content", "path", "query"}))`, exactly the bytes of the path and query that are sent.

use super::canonical::canonical_json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The `Signature` header for a request to `path?query` with an optional JSON body.
///
/// `content` is `null` when there is no body or the body is `{}`; `query` is the exact query
/// string sent, without `?`.
pub fn signature(consumer_key: &str, path: &str, query: &str, body: Option<&Value>) -> String {
    let content = match body {
        None => Value::Null,
        Some(Value::Object(map)) if map.is_empty() => Value::Null,
        Some(value) => value.clone(),
    };
    let message = canonical_json(&json!({ "content": content, "path": path, "query": query }));
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::signature;
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    #[test]
    fn matches_the_published_vector() {
        assert_eq!(
            signature("consumer_key", "/accounts", "timestamp=1700000000", None),
            "3VkE1AkN6sr1yxWbl8JA7v9O9MFXfMFDVgzhC9GhptU="
        );
    }

    #[test]
    fn an_empty_object_body_signs_like_no_body() {
        let empty = json!({});
        assert_eq!(signature("k", "/p", "q=1", Some(&empty)), signature("k", "/p", "q=1", None));
        assert_ne!(signature("k", "/p", "q=1", Some(&json!([]))), signature("k", "/p", "q=1", None));
    }

    fn body_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec(("[a-z]{1,6}", "[ -~é€]{0,8}"), 1..6)
    }

    proptest! {
        #[test]
        fn key_order_of_the_body_never_changes_the_signature(pairs in body_strategy()) {
            let forward: Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let text_forward = serde_json::to_string(&forward).unwrap();
            let mut reversed_text = String::from("{");
            for (i, (k, v)) in forward.iter().rev().enumerate() {
                if i > 0 { reversed_text.push(','); }
                reversed_text.push_str(&format!("{}:{}", json!(k), v));
            }
            reversed_text.push('}');
            let a: Value = serde_json::from_str(&text_forward).unwrap();
            let b: Value = serde_json::from_str(&reversed_text).unwrap();
            prop_assert_eq!(signature("key", "/trade/impact", "clientId=X&timestamp=1", Some(&a)),
                            signature("key", "/trade/impact", "clientId=X&timestamp=1", Some(&b)));
        }

        #[test]
        fn any_change_of_path_query_or_body_changes_the_signature(
            path in "/[a-z]{1,10}", query in "[a-z]{1,5}=[0-9]{1,5}", value in "[a-z0-9]{1,8}", extra in "[a-z]{1,3}"
        ) {
            let body = json!({ "units": value });
            let base = signature("key", &path, &query, Some(&body));
            prop_assert_ne!(&base, &signature("key", &format!("{path}{extra}"), &query, Some(&body)));
            prop_assert_ne!(&base, &signature("key", &path, &format!("{query}{extra}"), Some(&body)));
            prop_assert_ne!(&base, &signature("key", &path, &query, Some(&json!({ "units": format!("{value}{extra}") }))));
            prop_assert_ne!(&base, &signature("other-key", &path, &query, Some(&body)));
        }
    }
}
