//! Every Flex date and date-time form, the slash-order decision, and the calendar check.

use super::dates::SlashOrder;
use super::error::{FlexError, QueryProblem};

fn order(values: &[&str]) -> Result<SlashOrder, FlexError> {
    SlashOrder::of_document(values.iter().copied())
}

#[test]
fn every_date_format_reads_as_iso() {
    let cases = [
        (SlashOrder::Either, "20260313"),
        (SlashOrder::Either, "2026-03-13"),
        (SlashOrder::Either, "13-Mar-26"),
        (SlashOrder::Either, "13-MAR-2026"),
        (SlashOrder::MonthFirst, "03/13/2026"),
        (SlashOrder::MonthFirst, "03/13/26"),
        (SlashOrder::DayFirst, "13/03/2026"),
        (SlashOrder::DayFirst, "13/03/26"),
        (SlashOrder::DayFirst, " 13/3/2026 "),
    ];
    for (order, text) in cases {
        assert_eq!(order.date(text), Ok(Some("2026-03-13".to_owned())), "{text}");
    }
    assert_eq!(
        SlashOrder::Either.date("11-Feb-99"),
        Ok(Some("1999-02-11".to_owned())),
        "two-digit years 69–99 are 19xx"
    );
    assert_eq!(SlashOrder::Either.date("01/01/68"), Ok(Some("2068-01-01".to_owned())));
}

#[test]
fn every_date_time_form_reads_as_iso() {
    let iso = "2026-03-13T10:31:07";
    for text in [
        "2026-03-13;10:31:07",
        "20260313;103107",
        "20260313103107",
        "2026-03-13 10:31:07",
        "2026-03-13,10:31:07",
        "2026-03-13, 10:31:07",
        "2026-03-1310:31:07",
        "13-Mar-26;103107",
    ] {
        assert_eq!(SlashOrder::Either.date_time(text), Ok(Some(iso.to_owned())), "{text}");
    }
    assert_eq!(SlashOrder::MonthFirst.date_time("03/13/2026;103107"), Ok(Some(iso.to_owned())));
    assert_eq!(SlashOrder::DayFirst.date_time("13/03/26 10:31:07"), Ok(Some(iso.to_owned())));
    assert_eq!(SlashOrder::MonthFirst.date_time("03/13/2026103107"), Ok(Some(iso.to_owned())));
    for (text, zoned) in [
        ("20250311;155900 -0400", "2025-03-11T15:59:00-04:00"),
        ("20250311;155900-0400", "2025-03-11T15:59:00-04:00"),
        ("2025-03-11;15:59:00 +05:30", "2025-03-11T15:59:00+05:30"),
        ("2025-03-11;15:59:00 EDT", "2025-03-11T15:59:00-04:00"),
        ("2025-03-11;15:59:00 EST", "2025-03-11T15:59:00-05:00"),
        ("2025-03-11 15:59:00Z", "2025-03-11T15:59:00Z"),
    ] {
        assert_eq!(SlashOrder::Either.date_time(text), Ok(Some(zoned.to_owned())), "{text}");
    }
    assert_eq!(SlashOrder::Either.date_time("2026-03-10"), Ok(Some("2026-03-10".to_owned())), "a date stays a date");
}

#[test]
fn nulls_and_multi_are_no_date() {
    for text in ["", " ", "-", "--", "N/A", "MULTI", "multi"] {
        assert_eq!(SlashOrder::Either.date_time(text), Ok(None), "{text:?}");
        assert_eq!(SlashOrder::Either.date(text), Ok(None), "{text:?}");
    }
}

#[test]
fn impossible_dates_and_odd_forms_are_refused() {
    for text in [
        "20260230",
        "2025-02-29",
        "2026-13-01",
        "2026-00-10",
        "00000101",
        "2026-3-13",
        "2026/03/13",
        "13-Foo-26",
        "13-Mar-2",
        "2026031",
        "yesterday",
        "２０２６-03-13",
        "2026-03-13;25:00:00",
        "2026-03-13;10:60:00",
        "2026-03-13;10:31",
        "2026-03-13;10:31:07 +2500",
        "2026-03-13;10:31:07 PST",
        "2026-03-13;1031:07",
    ] {
        assert!(SlashOrder::MonthFirst.date_time(text).is_err(), "{text}");
    }
    assert_eq!(SlashOrder::Either.date("2024-02-29"), Ok(Some("2024-02-29".to_owned())), "a leap day");
    assert!(SlashOrder::Either.date("1900-02-29").is_err(), "1900 was no leap year");
    assert!(SlashOrder::Either.date("2026-03-13;10:31:07").is_err(), "a date field takes no time");
    assert!(SlashOrder::Either.date("03/04/2026").is_err(), "an order-dependent date is never guessed");
    assert!(SlashOrder::MonthFirst.date("02/30/2026").is_err());
}

#[test]
fn the_slash_order_comes_from_the_whole_document() {
    assert_eq!(order(&["2026-03-13", "U1234567", "DE BUND 2.5 08/15/46"]), Ok(SlashOrder::Either));
    assert_eq!(order(&["03/04/2026", "04/13/2026;101500"]), Ok(SlashOrder::MonthFirst));
    assert_eq!(order(&["03/04/2026", "14/10/2025"]), Ok(SlashOrder::DayFirst));
    assert_eq!(order(&["03/03/2026", "12/12/26"]), Ok(SlashOrder::Either), "each reads the same either way");
    assert_eq!(order(&["03/04/2026"]), Err(FlexError::Query(QueryProblem::AmbiguousDates)));
    assert!(matches!(order(&["13/04/2026", "04/13/2026"]), Err(FlexError::Malformed { .. })));
    assert!(matches!(order(&["13/13/2026"]), Err(FlexError::Malformed { .. })));
    assert_eq!(order(&["1/2/3", "12/25"]), Ok(SlashOrder::Either), "only whole slash dates count");
}
