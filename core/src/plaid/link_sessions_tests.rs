use super::*;

const NOW: i64 = 1_800_000_000;
const LINK: &str = "link-sandbox-11111111-2222-3333-4444-555555555555";

/// A `/link/token/get` answer for [`LINK`] with these sessions (shaped as Plaid's spec says).
fn answer(sessions: Value) -> Vec<u8> {
    json!({
        "link_token": LINK,
        "created_at": "2027-01-15T08:00:00Z",
        "expiration": "2027-01-15T12:00:00Z",
        "metadata": {"initial_products": ["investments"], "webhook": null, "country_codes": ["US"],
                     "language": "en", "redirect_uri": null, "client_name": "Tributary"},
        "link_sessions": sessions,
        "request_id": "abc123",
    })
    .to_string()
    .into_bytes()
}

fn finished(public_tokens: &[&str]) -> Value {
    let added: Vec<Value> = public_tokens
        .iter()
        .map(|t| json!({"public_token": t, "accounts": [], "institution": {"name": "Chase", "institution_id": "ins_56"}}))
        .collect();
    json!({
        "link_session_id": "f2b5a6f1", "started_at": "2027-01-15T08:01:00Z", "finished_at": "2027-01-15T08:02:00Z",
        "exit": null, "events": [],
        "results": {"item_add_results": added, "cra_item_add_results": [], "cra_update_results": [],
                    "bank_income_results": [], "payroll_income_results": [], "document_income_results": null},
    })
}

#[test]
fn public_tokens_are_read_from_item_add_results_and_legacy_on_success() {
    let body = answer(json!([
        finished(&["public-sandbox-a", "public-sandbox-b"]),
        {"link_session_id": "s2", "on_success": {"public_token": "public-sandbox-c", "metadata": null}},
        finished(&["public-sandbox-a"]),
        {"link_session_id": "unfinished", "results": null, "on_success": null},
    ]));
    assert_eq!(
        parse_link_token_get_response(&body, LINK).unwrap(),
        ["public-sandbox-a", "public-sandbox-b", "public-sandbox-c"]
    );
    assert_eq!(parse_link_token_get_response(&answer(json!([])), LINK).unwrap(), Vec::<String>::new());
    let no_sessions =
        json!({"link_token": LINK, "created_at": null, "expiration": null, "metadata": {}, "request_id": "x"});
    assert!(parse_link_token_get_response(no_sessions.to_string().as_bytes(), LINK).unwrap().is_empty());
}

#[test]
fn unreadable_or_foreign_link_token_details_are_malformed() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"<html>".to_vec(), "not JSON"),
        (json!({"link_sessions": []}).to_string().into_bytes(), "no link_token"),
        (json!({"link_token": "link-sandbox-other", "link_sessions": []}).to_string().into_bytes(), "another"),
        (answer(json!({"a": 1})), "link_sessions is not an array"),
        (answer(json!(["s"])), "session is not an object"),
        (answer(json!([{"link_session_id": "s", "results": []}])), "results are not an object"),
        (answer(json!([{"link_session_id": "s", "results": {"item_add_results": {}}}])), "item_add_results is not"),
        (answer(json!([{"link_session_id": "s", "results": {"item_add_results": [7]}}])), "entry is not an object"),
        (answer(json!([{"results": {"item_add_results": [{"public_token": 7}]}}])), "public_token is not a string"),
        (answer(json!([{"link_session_id": "s", "on_success": "yes"}])), "on_success is not an object"),
    ];
    for (body, expected) in cases {
        let error = parse_link_token_get_response(&body, LINK).unwrap_err();
        assert_eq!(error.code(), "provider_malformed_response", "{expected}");
        assert!(error.to_string().contains(expected), "{error} should say {expected:?}");
    }
}

#[test]
fn any_status_is_read_as_tokens_none_for_a_forgotten_link_token_or_plaids_typed_error() {
    let ok = read_link_token_get(200, &answer(json!([finished(&["public-sandbox-a"])])), LINK).unwrap();
    assert_eq!(ok, ["public-sandbox-a"]);
    let forgotten = json!({"error_type": "INVALID_INPUT", "error_code": "INVALID_LINK_TOKEN",
                           "error_message": "provided link token is invalid", "request_id": "r"});
    assert!(read_link_token_get(400, forgotten.to_string().as_bytes(), LINK).unwrap().is_empty());
    let keys = json!({"error_type": "INVALID_INPUT", "error_code": "INVALID_API_KEYS", "error_message": "invalid"});
    assert_eq!(read_link_token_get(400, keys.to_string().as_bytes(), LINK).unwrap_err().code(), "provider_auth_failed");
    let down = json!({"error_type": "API_ERROR", "error_code": "INTERNAL_SERVER_ERROR"});
    let error = read_link_token_get(500, down.to_string().as_bytes(), LINK).unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(read_link_token_get(429, b"", LINK).unwrap_err().code(), "provider_rate_limited");
}

#[test]
fn a_public_token_belongs_only_when_a_session_listed_it_exactly() {
    let listed = vec!["public-sandbox-a".to_owned(), "public-sandbox-b".to_owned()];
    assert!(public_token_belongs("public-sandbox-b", &listed));
    for stranger in ["public-sandbox-c", "public-sandbox-", "PUBLIC-SANDBOX-A", " public-sandbox-a", ""] {
        assert!(!public_token_belongs(stranger, &listed), "{stranger:?}");
    }
    assert!(!public_token_belongs("", &["".to_owned()]), "an empty token never belongs");
    assert!(!public_token_belongs("public-sandbox-a", &[]));
}

#[test]
fn remembered_link_tokens_keep_the_newest_ten_and_drop_the_useless() {
    let mut list = RememberedLinkTokens::parse(None);
    for i in 0..12 {
        list = list.remember(&format!("link-{i}"), Some(NOW + LINK_TOKEN_TTL_S), NOW + i);
    }
    let asked = list.worth_asking(NOW + 20);
    assert_eq!(asked.len(), MAX_REMEMBERED_LINK_TOKENS);
    assert_eq!((asked[0], asked[9]), ("link-11", "link-2"), "newest first");

    let stored = RememberedLinkTokens::parse(Some(&list.to_json()));
    assert_eq!(stored, list, "the stored JSON reads back the same");
    let again = stored.remember("link-5", Some(NOW + LINK_TOKEN_TTL_S + 60), NOW + 30);
    assert_eq!(again.worth_asking(NOW + 30)[..2], ["link-5", "link-11"], "a repeat moves first, once");
    assert_eq!(again.worth_asking(NOW + 30).len(), MAX_REMEMBERED_LINK_TOKENS);

    // A link token is worth asking about until its public tokens can no longer be exchanged.
    let old = RememberedLinkTokens::default().remember("link-old", Some(NOW), NOW - LINK_TOKEN_TTL_S);
    assert_eq!(old.worth_asking(NOW + PUBLIC_TOKEN_TTL_S - 1), ["link-old"]);
    assert!(old.worth_asking(NOW + PUBLIC_TOKEN_TTL_S).is_empty());
    let pruned = old.remember("link-new", None, NOW + PUBLIC_TOKEN_TTL_S);
    assert_eq!(pruned.worth_asking(NOW + PUBLIC_TOKEN_TTL_S), ["link-new"]);
    assert_eq!(
        serde_json::from_str::<Value>(&pruned.to_json()).unwrap(),
        json!([{"link_token": "link-new", "expires_at": NOW + PUBLIC_TOKEN_TTL_S + LINK_TOKEN_TTL_S}]),
        "an unknown expiration is Plaid's 4 hours"
    );
}

#[test]
fn unreadable_stored_lists_are_empty_and_store_ttls_cover_every_useful_token() {
    for text in ["", "not json", "{}", "[{\"link_token\": 3}]"] {
        assert!(RememberedLinkTokens::parse(Some(text)).worth_asking(NOW).is_empty(), "{text:?}");
    }
    let fresh = RememberedLinkTokens::default().remember("link-a", Some(NOW + LINK_TOKEN_TTL_S), NOW);
    let ttl = fresh.store_ttl_s(NOW) as i64;
    assert!(ttl > LINK_TOKEN_TTL_S + PUBLIC_TOKEN_TTL_S, "4 h + the exchange window + a margin: {ttl}");
    let long = RememberedLinkTokens::default().remember("link-b", Some(NOW + 7 * 86_400), NOW);
    assert!(long.store_ttl_s(NOW) as i64 > 7 * 86_400 + PUBLIC_TOKEN_TTL_S);
    let absurd = RememberedLinkTokens::default().remember("link-c", Some(i64::MAX), NOW);
    assert_eq!(absurd.store_ttl_s(NOW), 30 * 86_400);
    assert_eq!(absurd.worth_asking(NOW), ["link-c"], "no overflow");
}

#[test]
fn an_unknown_public_token_is_a_404_with_a_stable_code() {
    let error = LinkSessionError::PublicTokenUnknown;
    assert_eq!((error.code(), error.http_status()), ("public_token_unknown", 404));
    assert_eq!(error.to_string(), "This Plaid public token was not issued to a Link session you started.");
    assert_eq!(link_token_get_request(LINK), json!({"link_token": LINK}));
}

#[derive(Debug, PartialEq)]
enum Judged {
    Unknown,
    Failed(&'static str),
}

impl From<LinkSessionError> for Judged {
    fn from(_: LinkSessionError) -> Self {
        Judged::Unknown
    }
}

#[test]
fn a_public_token_is_judged_by_every_answer_listing_before_failures_and_failures_before_unknown() {
    let listed = |t: &[&str]| Ok::<_, Judged>(t.iter().map(|s| s.to_string()).collect());
    let failed = |why| Err::<Vec<String>, _>(Judged::Failed(why));
    assert_eq!(judge_public_token("p1", [failed("a"), listed(&["p0"]), listed(&["p1"])]), Ok(()));
    assert_eq!(judge_public_token("p1", [listed(&["p0"]), failed("a"), failed("b")]), Err(Judged::Failed("a")));
    assert_eq!(judge_public_token("p1", [listed(&["p0"]), listed(&[])]), Err(Judged::Unknown));
    assert_eq!(judge_public_token("p1", Vec::new()), Err(Judged::Unknown), "no link token: unknown");
    assert_eq!(judge_public_token("", [listed(&[""])]), Err(Judged::Unknown), "an empty token never belongs");
}
