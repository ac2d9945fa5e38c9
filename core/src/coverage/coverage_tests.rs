use super::*;
use crate::institutions::AliasTable;
use crate::ErrorCode;

fn slug(s: &str) -> InstitutionSlug {
    InstitutionSlug::parse(s).unwrap()
}

#[test]
fn embedded_map_has_a_rule_for_every_seed_institution() {
    let map = CoverageMap::embedded();
    let schwab = map.rule(&slug("charles_schwab")).unwrap();
    assert_eq!(
        (schwab.preferred, schwab.fallback, schwab.trading_allowed),
        (Provider::Schwab, Some(Provider::SnapTrade), true)
    );
    let fidelity = map.rule(&slug("fidelity")).unwrap();
    assert_eq!((fidelity.preferred, fidelity.trading_allowed), (Provider::SnapTrade, false));
    let chase = map.rule(&slug("chase")).unwrap();
    assert_eq!((chase.preferred, chase.trading_allowed), (Provider::Plaid, false));
    assert!(map.iter().count() >= 25);
    assert!(map.iter().filter(|(_, r)| r.popular).count() >= 10);
}

#[test]
fn every_covered_institution_is_in_the_alias_table_under_the_same_name() {
    let aliases = AliasTable::embedded();
    for (slug, rule) in CoverageMap::embedded().iter() {
        assert_eq!(aliases.display_name(slug), Some(rule.display_name.as_str()), "{slug}");
    }
    for institution in aliases.iter() {
        assert!(CoverageMap::embedded().rule(&institution.slug).is_some(), "{} has no coverage rule", institution.slug);
    }
}

#[test]
fn deployment_map_overrides_the_embedded_one() {
    let map =
        CoverageMap::from_json(r#"{"institutions":{"charles_schwab":{"display_name":"Schwab","preferred":"plaid"}}}"#)
            .unwrap();
    let rule = map.rule(&slug("charles_schwab")).unwrap();
    assert_eq!(
        (rule.preferred, rule.fallback, rule.trading_allowed, rule.popular),
        (Provider::Plaid, None, false, false)
    );
    assert!(map.rule(&slug("fidelity")).is_none());
}

#[test]
fn invalid_maps_are_refused_with_typed_errors() {
    for (json, code) in [
        ("{", "invalid_table_json"),
        (r#"{"institutions":{"x":{"display_name":"X","preferred":"ibkr_web"}}}"#, "invalid_table_json"),
        (r#"{"institutions":{"x":{"display_name":"X","preferred":"plaid","trading":true}}}"#, "invalid_table_json"),
        (r#"{"institutions":{"x":{"display_name":"X"}}}"#, "invalid_table_json"),
        (
            r#"{"institutions":{"x":{"display_name":"X","preferred":"plaid","fallback":"plaid"}}}"#,
            "invalid_table_entry",
        ),
        (r#"{"institutions":{"x":{"display_name":"","preferred":"plaid"}}}"#, "invalid_table_entry"),
    ] {
        let err = CoverageMap::from_json(json).unwrap_err();
        assert_eq!(err.code(), code, "{json}: {err}");
        assert_eq!(err.http_status(), 500);
    }
}

#[test]
fn rule_lists_preferred_then_fallback() {
    let schwab = CoverageMap::embedded().rule(&slug("charles_schwab")).unwrap();
    assert_eq!(schwab.providers().collect::<Vec<_>>(), [Provider::Schwab, Provider::SnapTrade]);
    let citi = CoverageMap::embedded().rule(&slug("citi")).unwrap();
    assert_eq!(citi.providers().collect::<Vec<_>>(), [Provider::Plaid]);
}
