//! Calendar dates, times of day and the ways a Flex query writes them: the seven date formats,
//! the two time formats and the four date/time separators of an Activity Flex template, plus the
//! US Eastern wall clock IBKR stamps its answers with (`14 March, 2026 09:15 AM EDT`).
//!
//! Dates are proleptic Gregorian day counts; nothing here knows about holidays (a "business day"
//! is Monday to Friday).

use crate::util::{civil_from_days, days_from_civil};

/// A calendar date (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i64,
}

/// The month names, January first.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Date {
    /// The date `year-month-day`, if it exists and the year is 1900..=9999.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        let valid = (1900..=9999).contains(&year) && (1..=12).contains(&month) && day >= 1;
        (valid && day <= days_in_month(year, month)).then(|| Date { days: days_from_civil(year, month, day) })
    }

    /// A `YYYY-MM-DD` date.
    pub fn parse_iso(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Self::from_digits(&text[0..4], &text[5..7], &text[8..10])
    }

    /// A `yyyymmdd` date (the Flex `fd`/`td` parameters).
    pub fn parse_compact(text: &str) -> Option<Date> {
        if text.len() != 8 {
            return None;
        }
        Self::from_digits(text.get(0..4)?, text.get(4..6)?, text.get(6..8)?)
    }

    fn from_digits(year: &str, month: &str, day: &str) -> Option<Date> {
        let all_digits = [year, month, day].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if !all_digits {
            return None;
        }
        Self::from_ymd(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
    }

    /// The date of a day count since 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        Date { days }
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date { days: self.days + n }
    }

    /// Days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days - earlier.days
    }

    /// Whether the date is a Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        // 1970-01-01 was a Thursday: 0 = Thursday, 2 = Saturday, 3 = Sunday.
        matches!(self.days.rem_euclid(7), 2 | 3)
    }

    /// The next Monday-to-Friday date after this one.
    pub fn next_business_day(self) -> Date {
        let mut next = self.add_days(1);
        while next.is_weekend() {
            next = next.add_days(1);
        }
        next
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// A time of day, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Time {
    /// `hour:minute:second` (callers pass valid values; they are not checked).
    pub const fn hms(hour: u32, minute: u32, second: u32) -> Time {
        Time { hour, minute, second }
    }
}

/// The date formats an Activity Flex template offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFormat {
    /// `yyyyMMdd` (the default).
    Compact,
    /// `yyyy-MM-dd`.
    Iso,
    /// `MM/dd/yyyy`.
    UsLong,
    /// `dd/MM/yyyy`.
    EuLong,
    /// `MM/dd/yy`.
    UsShort,
    /// `dd/MM/yy`.
    EuShort,
    /// `dd-MMM-yy` (`13-Mar-26`).
    DayMonthName,
}

impl DateFormat {
    /// Every format with the name a template (and the query control) uses for it.
    pub const ALL: [(DateFormat, &'static str); 7] = [
        (DateFormat::Compact, "yyyyMMdd"),
        (DateFormat::Iso, "yyyy-MM-dd"),
        (DateFormat::UsLong, "MM/dd/yyyy"),
        (DateFormat::EuLong, "dd/MM/yyyy"),
        (DateFormat::UsShort, "MM/dd/yy"),
        (DateFormat::EuShort, "dd/MM/yy"),
        (DateFormat::DayMonthName, "dd-MMM-yy"),
    ];

    /// The format a template name stands for.
    pub fn parse(name: &str) -> Option<DateFormat> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// `date` written in this format.
    pub fn write(self, date: Date) -> String {
        let (y, m, d) = date.ymd();
        let yy = y.rem_euclid(100);
        match self {
            DateFormat::Compact => format!("{y:04}{m:02}{d:02}"),
            DateFormat::Iso => format!("{y:04}-{m:02}-{d:02}"),
            DateFormat::UsLong => format!("{m:02}/{d:02}/{y:04}"),
            DateFormat::EuLong => format!("{d:02}/{m:02}/{y:04}"),
            DateFormat::UsShort => format!("{m:02}/{d:02}/{yy:02}"),
            DateFormat::EuShort => format!("{d:02}/{m:02}/{yy:02}"),
            DateFormat::DayMonthName => format!("{d:02}-{}-{yy:02}", &MONTHS[m as usize - 1][..3]),
        }
    }
}

/// The time formats an Activity Flex template offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// `HHmmss` (the default).
    Compact,
    /// `HH:mm:ss`.
    Colons,
}

impl TimeFormat {
    /// The format a template name (`HHmmss` or `HH:mm:ss`) stands for.
    pub fn parse(name: &str) -> Option<TimeFormat> {
        match name {
            "HHmmss" => Some(TimeFormat::Compact),
            "HH:mm:ss" => Some(TimeFormat::Colons),
            _ => None,
        }
    }

    /// `time` written in this format.
    pub fn write(self, time: Time) -> String {
        let Time { hour, minute, second } = time;
        match self {
            TimeFormat::Compact => format!("{hour:02}{minute:02}{second:02}"),
            TimeFormat::Colons => format!("{hour:02}:{minute:02}:{second:02}"),
        }
    }
}

/// The US Eastern wall clock at Unix second `unix`: (date, time, `"EST"` or `"EDT"`). Daylight time
/// runs from the second Sunday of March, 02:00 EST, to the first Sunday of November, 02:00 EDT.
pub fn eastern(unix: i64) -> (Date, Time, &'static str) {
    let (year, _, _) = civil_from_days(unix.div_euclid(86_400));
    let sunday_on_or_after = |month: u32, day: u32| {
        let date = Date::from_days(days_from_civil(year, month, day));
        // 1970-01-01 was a Thursday, so a Sunday has days ≡ 3 (mod 7).
        date.add_days((3 - date.days.rem_euclid(7)).rem_euclid(7))
    };
    let dst_start = sunday_on_or_after(3, 8).days * 86_400 + 7 * 3600;
    let dst_end = sunday_on_or_after(11, 1).days * 86_400 + 6 * 3600;
    let (offset, zone) = if (dst_start..dst_end).contains(&unix) { (-4, "EDT") } else { (-5, "EST") };
    let local = unix + offset * 3600;
    let secs = local.rem_euclid(86_400) as u32;
    (Date::from_days(local.div_euclid(86_400)), Time::hms(secs / 3600, secs % 3600 / 60, secs % 60), zone)
}

/// The `timestamp` of a `FlexStatementResponse` at Unix second `unix`: `dd MMMM, yyyy hh:mm AM|PM EST|EDT`.
pub fn envelope_timestamp(unix: i64) -> String {
    let (date, time, zone) = eastern(unix);
    let (y, m, d) = date.ymd();
    let (hour12, half) = match time.hour {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!("{d:02} {}, {y:04} {hour12:02}:{:02} {half} {zone}", MONTHS[m as usize - 1], time.minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i64, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(Date::parse_iso("2026-03-13"), Some(date(2026, 3, 13)));
        assert_eq!(Date::parse_compact("20240229"), Some(date(2024, 2, 29)));
        for bad in ["2026-02-29", "2026-13-01", "2026-3-13", "20260313", "2026-03-1x", "+026-03-13"] {
            assert_eq!(Date::parse_iso(bad), None, "{bad}");
        }
        for bad in ["20250229", "2026031", "2026-0313", "2026031a", "00000101"] {
            assert_eq!(Date::parse_compact(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_every_template_format() {
        let d = date(2026, 3, 5);
        let written: Vec<String> = DateFormat::ALL.iter().map(|(f, _)| f.write(d)).collect();
        assert_eq!(
            written,
            ["20260305", "2026-03-05", "03/05/2026", "05/03/2026", "03/05/26", "05/03/26", "05-Mar-26"]
        );
        assert_eq!(DateFormat::parse("dd-MMM-yy"), Some(DateFormat::DayMonthName));
        assert_eq!(DateFormat::parse("yyyy/MM/dd"), None);
        assert_eq!(TimeFormat::Compact.write(Time::hms(9, 5, 7)), "090507");
        assert_eq!(TimeFormat::Colons.write(Time::hms(16, 0, 0)), "16:00:00");
    }

    #[test]
    fn business_days_skip_weekends() {
        assert!(date(2026, 3, 14).is_weekend() && date(2026, 3, 15).is_weekend());
        assert_eq!(date(2026, 3, 13).next_business_day(), date(2026, 3, 16), "Friday → Monday");
        assert_eq!(date(2026, 3, 10).next_business_day(), date(2026, 3, 11));
        assert_eq!(date(2026, 3, 16).days_since(date(2026, 3, 13)), 3);
        assert_eq!(date(2026, 3, 13).iso(), "2026-03-13");
    }

    #[test]
    fn eastern_time_switches_at_the_us_dst_boundaries() {
        // 2026-03-08 07:00 UTC is 03:00 EDT (DST starts); one second earlier is 01:59:59 EST.
        let start = days_from_civil(2026, 3, 8) * 86_400 + 7 * 3600;
        assert_eq!(eastern(start), (date(2026, 3, 8), Time::hms(3, 0, 0), "EDT"));
        assert_eq!(eastern(start - 1), (date(2026, 3, 8), Time::hms(1, 59, 59), "EST"));
        let end = days_from_civil(2026, 11, 1) * 86_400 + 6 * 3600;
        assert_eq!(eastern(end).2, "EST");
        assert_eq!(eastern(end - 1).2, "EDT");
        let morning = days_from_civil(2026, 3, 14) * 86_400 + 13 * 3600 + 15 * 60;
        assert_eq!(envelope_timestamp(morning), "14 March, 2026 09:15 AM EDT");
        let evening = days_from_civil(2026, 1, 2) * 86_400 + 17 * 3600 + 4 * 60;
        assert_eq!(envelope_timestamp(evening), "02 January, 2026 12:04 PM EST");
        assert_eq!(
            envelope_timestamp(days_from_civil(2026, 1, 2) * 86_400 + 5 * 3600),
            "02 January, 2026 12:00 AM EST"
        );
    }
}
