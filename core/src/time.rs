//! Timestamps as providers write them (RFC 3339 / ISO 8601) turned into Unix seconds, exactly, and
//! calendar dates ([`Date`], `YYYY-MM-DD`) for what happens on a day rather than at an instant.

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
        // `+02:00`, `+0200` (Schwab writes `+0000`) or `+02`.
        let digits = &offset[1..];
        let (h, m) = match digits.split_once(':') {
            Some(pair) => pair,
            None if digits.len() == 4 => digits.split_at(2),
            None => (digits, "00"),
        };
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

/// Unix seconds as `2026-06-02T14:30:00.000Z` (UTC, milliseconds always zero): the request
/// timestamp form Schwab documents.
pub fn format_utc_millis(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.000Z")
}

/// Days from 1970-01-01 back to the civil date (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A calendar day (proleptic Gregorian, years 1–9999), written `YYYY-MM-DD` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i64,
}

impl Date {
    /// The day `text` names: exactly `YYYY-MM-DD`, a real date (no 2026-02-30).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let (year, month, day) = (number(&text[..4])?, number(&text[5..7])?, number(&text[8..])?);
        if year == 0 || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let date = Self { days: days_from_civil(i64::from(year), month, day) };
        (date.civil() == (i64::from(year), month, day)).then_some(date)
    }

    /// The UTC day of the Unix time `seconds`.
    pub fn from_unix(seconds: i64) -> Self {
        Self { days: seconds.div_euclid(86_400) }
    }

    /// The leading `YYYY-MM-DD` of an RFC 3339 date-time or a bare date (`2026-03-22T16:27:55Z`
    /// → 2026-03-22: the day the provider wrote, whatever its zone).
    pub fn of_timestamp(text: &str) -> Option<Self> {
        Self::parse(text.trim().get(..10)?)
    }

    /// Unix seconds at the start of the day (UTC).
    pub fn unix(&self) -> i64 {
        self.days * 86_400
    }

    /// The day `days` later (earlier when negative).
    pub fn add_days(&self, days: i64) -> Self {
        Self { days: self.days.saturating_add(days) }
    }

    /// Days from `other` to this day (negative when this one is earlier).
    pub fn days_since(&self, other: Date) -> i64 {
        self.days - other.days
    }

    fn civil(&self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (year, month, day) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text:?}")))
    }
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
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20+0000"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2023-11-15T00:13:20+0200"), Some(1_700_000_000));
        assert_eq!(super::format_utc_millis(1_700_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(parse_rfc3339(&super::format_utc_millis(1_709_164_800)), Some(1_709_164_800));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in ["", "yesterday", "2024-13-01", "2024-01-01T25:00:00Z", "2024-01-01T10:00", "1700000000"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_are_real_calendar_days_written_iso() {
        use super::Date;
        let leap = Date::parse("2024-02-29").unwrap();
        assert_eq!((leap.to_string(), leap.unix()), ("2024-02-29".to_owned(), 1_709_164_800));
        assert_eq!(leap.add_days(1).to_string(), "2024-03-01");
        assert_eq!(Date::from_unix(1_700_000_000).to_string(), "2023-11-14");
        assert_eq!(Date::of_timestamp("2026-03-22T16:27:55Z").unwrap().to_string(), "2026-03-22");
        for bad in ["2023-02-29", "2026-13-01", "2026-1-01", "20260101", "0000-01-01", "2026-04-31", "", "2026-01-01x"]
        {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        for days in [-800_000i64, -1, 0, 1, 19_000, 2_000_000] {
            let date = Date::from_unix(days * 86_400);
            if let Some(back) = Date::parse(&date.to_string()) {
                assert_eq!(back, date);
            }
        }
    }
}
