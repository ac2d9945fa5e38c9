use super::*;
use crate::ErrorCode;
use proptest::prelude::*;

fn slug(s: &str) -> InstitutionSlug {
    InstitutionSlug::parse(s).unwrap()
}

#[test]
fn alias_resolution_table() {
    let cases = [
        ("Charles Schwab", Some("charles_schwab")),
        ("Schwab", Some("charles_schwab")),
        ("SCHWAB & CO.", Some("charles_schwab")),
        ("schwab & co", Some("charles_schwab")),
        ("  charles   schwab ", Some("charles_schwab")),
        ("charles_schwab", Some("charles_schwab")),
        ("E*TRADE", Some("etrade")),
        ("etrade", Some("etrade")),
        ("E-Trade", Some("etrade")),
        ("Interactive Brokers", Some("interactive_brokers")),
        ("IBKR", Some("interactive_brokers")),
        ("Fidelity", Some("fidelity")),
        ("Fidelity Investments", Some("fidelity")),
        ("Chase", Some("chase")),
        ("J.P. Morgan Self-Directed Investing", Some("chase")),
        ("Public.com", Some("public")),
        ("U.S. Bank", Some("us_bank")),
        ("Wealthsimple Trade", Some("wealthsimple")),
        ("Purchase Bank", None),
        ("Chase Manhattan Purchasing", None),
        ("Schwabb", None),
        ("Bank", None),
        ("", None),
        ("  &*.  ", None),
    ];
    for (name, expected) in cases {
        assert_eq!(resolve_institution(name), expected.map(slug), "resolving {name:?}");
    }
}

#[test]
fn embedded_table_lists_the_popular_brokerages_with_display_names() {
    let table = AliasTable::embedded();
    assert!(table.iter().count() >= 25);
    for (s, name) in [
        ("charles_schwab", "Charles Schwab"),
        ("fidelity", "Fidelity Investments"),
        ("vanguard", "Vanguard"),
        ("robinhood", "Robinhood"),
        ("td_ameritrade", "TD Ameritrade"),
        ("merrill", "Merrill"),
        ("wells_fargo", "Wells Fargo"),
        ("webull", "Webull"),
        ("questrade", "Questrade"),
        ("coinbase", "Coinbase"),
        ("kraken", "Kraken"),
        ("sofi", "SoFi"),
    ] {
        assert_eq!(table.display_name(&slug(s)), Some(name));
    }
}

#[test]
fn every_display_name_and_slug_resolves_to_its_own_institution() {
    let table = AliasTable::embedded();
    for institution in table.iter() {
        assert_eq!(table.resolve(&institution.display_name).as_ref(), Some(&institution.slug));
        assert_eq!(table.resolve(institution.slug.as_str()).as_ref(), Some(&institution.slug));
        for alias in &institution.aliases {
            assert_eq!(table.resolve(alias).as_ref(), Some(&institution.slug), "alias {alias:?}");
        }
    }
}

#[test]
fn deployment_table_replaces_the_embedded_one() {
    let table =
        AliasTable::from_json(r#"{"institutions":{"e2e_bank":{"display_name":"E2E Bank","aliases":["Test Bank"]}}}"#)
            .unwrap();
    assert_eq!(table.resolve("test-bank"), Some(slug("e2e_bank")));
    assert_eq!(table.resolve("Schwab"), None);
}

#[test]
fn an_alias_naming_two_institutions_is_refused() {
    let json = r#"{"institutions":{
        "alpha":{"display_name":"Alpha","aliases":["Shared Name"]},
        "beta":{"display_name":"Beta","aliases":["shared-name"]}}}"#;
    let err = AliasTable::from_json(json).unwrap_err();
    assert_eq!(err.code(), "invalid_table_entry");
    assert!(err.to_string().contains("already resolves to alpha"), "{err}");
}

#[test]
fn malformed_tables_are_refused_with_typed_errors() {
    for (json, code) in [
        ("[]", "invalid_table_json"),
        (r#"{"institutions":{"Bad Slug":{"display_name":"X"}}}"#, "invalid_table_json"),
        (r#"{"institutions":{"x":{"display_name":"X","typo":1}}}"#, "invalid_table_json"),
        (r#"{"institutions":{"x":{"display_name":"  "}}}"#, "invalid_table_entry"),
        (r#"{"institutions":{"x":{"display_name":"X","aliases":["&&"]}}}"#, "invalid_table_entry"),
    ] {
        assert_eq!(AliasTable::from_json(json).unwrap_err().code(), code, "{json}");
    }
}

#[test]
fn search_ranks_exact_then_prefix_then_substring_matches() {
    let table = AliasTable::embedded();
    let hits: Vec<&str> = table.search("schwab").iter().map(|i| i.slug.as_str()).collect();
    assert_eq!(hits, ["charles_schwab"]);
    let hits: Vec<&str> = table.search("td").iter().map(|i| i.slug.as_str()).collect();
    assert!(hits.contains(&"td_ameritrade") && hits.contains(&"td_direct_investing"));
    let hits: Vec<&str> = table.search("bank").iter().map(|i| i.slug.as_str()).collect();
    assert!(hits.contains(&"bank_of_america") && hits.contains(&"us_bank"));
    assert_eq!(hits[0], "bank_of_america", "a prefix match ranks before substring matches");
    assert_eq!(table.search("").len(), table.iter().count());
    assert!(table.search("zzz-no-such").is_empty());
}

proptest! {
    #[test]
    fn case_spacing_and_punctuation_never_change_the_answer(
        upper in proptest::collection::vec(any::<bool>(), 0..40),
        noise in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("."), Just("&"), Just("-")], 0..40),
    ) {
        for institution in AliasTable::embedded().iter() {
            let mangled: String = institution.display_name.chars().enumerate().map(|(i, c)| {
                let c = if upper.get(i).copied().unwrap_or(false) { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
                format!("{}{c}", noise.get(i).copied().unwrap_or(""))
            }).collect();
            prop_assert_eq!(resolve_institution(&mangled), Some(institution.slug.clone()));
        }
    }

    #[test]
    fn resolving_a_normalised_name_gives_the_same_answer(name in "\\PC{0,30}") {
        prop_assert_eq!(normalize_name(&normalize_name(&name)), normalize_name(&name));
        prop_assert_eq!(resolve_institution(&normalize_name(&name)), resolve_institution(&name));
    }
}
