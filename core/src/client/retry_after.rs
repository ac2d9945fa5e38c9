//! `Retry-After` as HTTP defines it (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, turned
//! into the whole seconds left from `now`. A date in the past means "now" (0); anything else that
//! is not one of the two forms is `None`, never a guess.

use crate::time::days_from_civil;

/// Delta-seconds larger than this are read as this (RFC 9111's rule for overflowing deltas).
pub const MAX_DELTA_SECONDS: u64 = 1 << 31;

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Seconds to wait from `now_unix` for a `Retry-After` value: `"120"` → 120, an HTTP-date
/// (IMF-fixdate, RFC 850 or asctime) → the seconds until it (0 when it has passed); `None` for
/// anything else.
pub fn parse_retry_after(header: &str, now_unix: u64) -> Option<u64> {
    let value = header.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().map_or(MAX_DELTA_SECONDS, |s| s.min(MAX_DELTA_SECONDS)));
    }
    let at = parse_http_date(value, now_unix)?;
    Some(u64::try_from(at.saturating_sub(now_unix as i64)).unwrap_or(0))
}

fn digits(text: &str, len: usize) -> Option<u32> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

fn month(name: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// `08:49:37` → seconds into the day.
fn clock(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let (h, m, s) = (digits(parts.next()?, 2)?, digits(parts.next()?, 2)?, digits(parts.next()?, 2)?);
    (parts.next().is_none() && h < 24 && m < 60 && s <= 60).then(|| i64::from(h * 3600 + m * 60 + s))
}

fn unix(year: i64, month: u32, day: u32, seconds: i64) -> Option<i64> {
    (1..=31).contains(&day).then(|| days_from_civil(year, month, day) * 86_400 + seconds)
}

/// A two-digit RFC 850 year: the most recent year with those digits that is not more than 50
/// years after `now` (RFC 9110 §5.6.7).
fn full_year(two_digits: u32, now_unix: u64) -> i64 {
    let this_year = 1970 + (now_unix / 31_556_952) as i64;
    let year = this_year - this_year.rem_euclid(100) + i64::from(two_digits);
    if year > this_year + 50 {
        year - 100
    } else {
        year
    }
}

/// An HTTP-date in Unix seconds: `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`
/// or `Sun Nov  6 08:49:37 1994`.
fn parse_http_date(text: &str, now_unix: u64) -> Option<i64> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    match tokens.as_slice() {
        [day_name, day, mon, year, time, "GMT"] if DAY_NAMES.contains(&day_name.strip_suffix(',')?) => {
            unix(i64::from(digits(year, 4)?), month(mon)?, digits(day, 2)?, clock(time)?)
        }
        [day_name, date, time, "GMT"] if LONG_DAY_NAMES.contains(&day_name.strip_suffix(',')?) => {
            let mut parts = date.split('-');
            let (day, mon, year) = (digits(parts.next()?, 2)?, month(parts.next()?)?, digits(parts.next()?, 2)?);
            parts.next().is_none().then_some(())?;
            unix(full_year(year, now_unix), mon, day, clock(time)?)
        }
        [day_name, mon, day, time, year] if DAY_NAMES.contains(day_name) => {
            let day = if day.len() == 1 { digits(day, 1)? } else { digits(day, 2)? };
            unix(i64::from(digits(year, 4)?), month(mon)?, day, clock(time)?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1994-11-06T08:49:37Z, the date RFC 9110 uses in its examples.
    const RFC_EXAMPLE: u64 = 784_111_777;

    #[test]
    fn delta_seconds_are_read_as_they_are() {
        assert_eq!(parse_retry_after("120", 5), Some(120));
        assert_eq!(parse_retry_after(" 0 ", 5), Some(0));
        assert_eq!(parse_retry_after("99999999999999999999999", 5), Some(MAX_DELTA_SECONDS));
    }

    #[test]
    fn all_three_http_date_forms_give_the_seconds_left() {
        let now = RFC_EXAMPLE - 90;
        for form in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(parse_retry_after(form, now), Some(90), "{form}");
        }
    }

    #[test]
    fn a_date_in_the_past_means_now() {
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE + 3600), Some(0));
    }

    #[test]
    fn rfc850_years_never_land_more_than_50_years_ahead() {
        // 2026: "94" is 1994 (2094 would be 68 years ahead); "30" is 2030.
        let now_2026 = 1_780_000_000;
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now_2026), Some(0));
        let in_2030 = parse_retry_after("Friday, 01-Feb-30 00:00:00 GMT", now_2026).unwrap();
        assert!(in_2030 > 3 * 365 * 86_400 && in_2030 < 4 * 365 * 86_400, "{in_2030}");
    }

    #[test]
    fn anything_else_is_none() {
        for bad in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "2026-06-02T14:30:00Z",
        ] {
            assert_eq!(parse_retry_after(bad, RFC_EXAMPLE), None, "{bad:?}");
        }
    }
}
