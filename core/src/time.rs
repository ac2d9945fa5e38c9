//! Timestamps as providers write them (RFC 3339 / ISO 8601) turned into Unix seconds, exactly.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// Parses `2026-06-02T14:30:00Z`, `…00.123+02:00` or a bare date `2026-06-02` into Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let Some(rest) = rest else { return Some(days * 86_400) };

    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let i = rest.rfind(['+', '-']).filter(|&i| i >= 8)?;
        let (clock, offset) = rest.split_at(i);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (h, m) = offset[1..].split_once(':').unwrap_or((&offset[1..], "00"));
        (clock, sign * (i64::from(number(h)?) * 3600 + i64::from(number(m)?) * 60))
    };
    let clock = clock.split('.').next()?;
    let mut hms = clock.split(':');
    let (h, m) = (number(hms.next()?)?, number(hms.next()?)?);
    let s = hms.next().map_or(Some(0), number)?;
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s) - offset_seconds)
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn parses_the_forms_providers_send() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.761390Z"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2023-11-14T17:13:20-05:00"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in ["", "yesterday", "2024-13-01", "2024-01-01T25:00:00Z", "2024-01-01T10:00", "1700000000"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
