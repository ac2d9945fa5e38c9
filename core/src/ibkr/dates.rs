//! Flex dates and date-times (reference §3.2) turned into ISO `YYYY-MM-DD` and
//! `YYYY-MM-DDTHH:MM:SS[±HH:MM|Z]`, exactly, real calendar dates only.
//!
//! - Dates: `yyyyMMdd`, `yyyy-MM-dd`, `dd-MMM-yy` (or `dd-MMM-yyyy`), and the slash forms
//!   `MM/dd/yyyy`, `dd/MM/yyyy`, `MM/dd/yy`, `dd/MM/yy`. Two-digit years 69–99 are 19xx, 00–68
//!   20xx (the POSIX rule).
//! - Date-times: a date, a separator (`;`, `,`, `, `, a space or none), a time `HHmmss` or
//!   `HH:mm:ss`, and an optional zone (`Z`, `UTC`, `GMT`, `EST`, `EDT`, `±HHMM`, `±HH:MM`, `±HH`).
//! - `MULTI` and the null markers are `None`.
//! - Slash dates: the order is decided once per document from every attribute value that is a
//!   slash date ([`SlashOrder::of_document`]): a first component above 12 anywhere means dd/MM, a
//!   second above 12 means MM/dd, both is `Malformed`. When neither occurs, a document whose slash
//!   dates all read the same either way (`03/03/2026`) is read; otherwise it is
//!   [`QueryProblem::AmbiguousDates`] — never a guess.

use super::error::{FlexError, QueryProblem};

/// How a document writes its slash dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlashOrder {
    /// `MM/dd/…`.
    MonthFirst,
    /// `dd/MM/…`.
    DayFirst,
    /// No slash date whose reading depends on the order (none at all, or only `03/03/…`).
    Either,
}

/// A date as written, before a slash order is applied.
enum RawDate {
    Ymd(u32, u32, u32),
    Slash { first: u32, second: u32, year: u32 },
}

/// A time of day and its zone suffix in ISO form (`""`, `Z` or `±HH:MM`).
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    zone: String,
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

fn digit_run(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

fn full_year(digits: &str) -> Option<u32> {
    let year = number(digits)?;
    Some(match digits.len() {
        4 => year,
        2 if year >= 69 => 1900 + year,
        2 => 2000 + year,
        _ => return None,
    })
}

/// The year at the start of `text`: 4 or 2 digits, possibly followed at once by `HHmmss`.
fn year_then_rest(text: &str) -> Option<(u32, &str)> {
    let width = match digit_run(text) {
        4 | 10 => 4,
        2 | 8 => 2,
        _ => return None,
    };
    Some((full_year(&text[..width])?, &text[width..]))
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// The date at the start of `text` and what follows it.
fn split_date(text: &str) -> Option<(RawDate, &str)> {
    if !text.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    if bytes.len() >= 10 && digit_run(text) == 4 && bytes[4] == b'-' && bytes[7] == b'-' {
        let (y, m, d) = (number(&text[..4])?, number(&text[5..7])?, number(&text[8..10])?);
        return Some((RawDate::Ymd(y, m, d), &text[10..]));
    }
    let lead = digit_run(text);
    if lead == 8 || lead == 14 {
        let (y, m, d) = (number(&text[..4])?, number(&text[4..6])?, number(&text[6..8])?);
        return Some((RawDate::Ymd(y, m, d), &text[8..]));
    }
    if !(1..=2).contains(&lead) {
        return None;
    }
    let first = number(&text[..lead])?;
    let rest = &text[lead..];
    if let Some(rest) = rest.strip_prefix('/') {
        let mid = digit_run(rest);
        if !(1..=2).contains(&mid) {
            return None;
        }
        let second = number(&rest[..mid])?;
        let (year, rest) = year_then_rest(rest[mid..].strip_prefix('/')?)?;
        return Some((RawDate::Slash { first, second, year }, rest));
    }
    let rest = rest.strip_prefix('-')?;
    let month_name = rest.get(..3)?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
    let (year, rest) = year_then_rest(rest[3..].strip_prefix('-')?)?;
    Some((RawDate::Ymd(year, month, first), rest))
}

fn zone(text: &str) -> Option<String> {
    let text = text.trim();
    match text.to_ascii_uppercase().as_str() {
        "" => return Some(String::new()),
        "Z" | "UTC" | "GMT" => return Some("Z".to_owned()),
        "EST" => return Some("-05:00".to_owned()),
        "EDT" => return Some("-04:00".to_owned()),
        _ => {}
    }
    let sign = text.chars().next().filter(|c| *c == '+' || *c == '-')?;
    let digits = text[1..].replacen(':', "", 1);
    let (hours, minutes) = match digits.len() {
        2 => (number(&digits)?, 0),
        4 => (number(&digits[..2])?, number(&digits[2..])?),
        _ => return None,
    };
    (hours <= 23 && minutes <= 59).then(|| format!("{sign}{hours:02}:{minutes:02}"))
}

/// What follows a date: nothing (`Ok(None)`), or a separator, a time and a zone.
fn clock(rest: &str) -> Option<Option<Clock>> {
    if rest.trim().is_empty() {
        return Some(None);
    }
    let rest = rest.strip_prefix(", ").or_else(|| rest.strip_prefix([';', ',', ' '])).unwrap_or(rest);
    let (h, m, s, after) = match rest.as_bytes().get(2) {
        Some(b':') => {
            let text = rest.get(..8)?;
            (text.get(..2)?, text.get(3..5)?, text.get(6..8)?, &rest[8..])
        }
        _ => (rest.get(..2)?, rest.get(2..4)?, rest.get(4..6)?, rest.get(6..)?),
    };
    if rest.as_bytes().get(2) == Some(&b':') && rest.as_bytes().get(5) != Some(&b':') {
        return None;
    }
    let (hour, minute, second) = (number(h)?, number(m)?, number(s)?);
    if h.len() != 2 || m.len() != 2 || s.len() != 2 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(Some(Clock { hour, minute, second, zone: zone(after)? }))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

impl SlashOrder {
    /// The order of every slash date among `values` (all attribute values of one document).
    pub(crate) fn of_document<'v>(values: impl Iterator<Item = &'v str>) -> Result<Self, FlexError> {
        let (mut day_first, mut month_first, mut order_matters) = (false, false, false);
        for value in values {
            let value = value.trim();
            let Some((RawDate::Slash { first, second, .. }, rest)) = split_date(value) else { continue };
            if clock(rest).is_none() {
                continue;
            }
            day_first |= first > 12;
            month_first |= second > 12;
            order_matters |= first != second;
        }
        match (day_first, month_first) {
            (true, true) => Err(FlexError::malformed("slash dates are written both as dd/MM and as MM/dd")),
            (true, false) => Ok(Self::DayFirst),
            (false, true) => Ok(Self::MonthFirst),
            (false, false) if order_matters => Err(FlexError::Query(QueryProblem::AmbiguousDates)),
            (false, false) => Ok(Self::Either),
        }
    }

    fn resolve(self, raw: RawDate) -> Option<(u32, u32, u32)> {
        let (year, month, day) = match (raw, self) {
            (RawDate::Ymd(y, m, d), _) => (y, m, d),
            (RawDate::Slash { first, second, year }, Self::MonthFirst) => (year, first, second),
            (RawDate::Slash { first, second, year }, Self::DayFirst) => (year, second, first),
            (RawDate::Slash { first, second, year }, Self::Either) if first == second => (year, first, second),
            (RawDate::Slash { .. }, Self::Either) => return None,
        };
        let valid =
            (1..=9999).contains(&year) && (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day);
        valid.then_some((year, month, day))
    }

    fn parse(self, text: &str, with_time: bool) -> Result<Option<String>, ()> {
        let text = text.trim();
        if is_null(text) || text.eq_ignore_ascii_case("MULTI") {
            return Ok(None);
        }
        let (raw, rest) = split_date(text).ok_or(())?;
        let (year, month, day) = self.resolve(raw).ok_or(())?;
        let date = format!("{year:04}-{month:02}-{day:02}");
        match clock(rest).ok_or(())? {
            None => Ok(Some(date)),
            Some(_) if !with_time => Err(()),
            Some(c) => Ok(Some(format!("{date}T{:02}:{:02}:{:02}{}", c.hour, c.minute, c.second, c.zone))),
        }
    }

    /// A date attribute as ISO `YYYY-MM-DD`; `Ok(None)` for null markers and `MULTI`, `Err` when it
    /// is not a real date in an accepted form.
    pub(crate) fn date(self, text: &str) -> Result<Option<String>, ()> {
        self.parse(text, false)
    }

    /// A date or date-time attribute in ISO form (a date alone stays a date).
    pub(crate) fn date_time(self, text: &str) -> Result<Option<String>, ()> {
        self.parse(text, true)
    }
}

/// Whether a value is one of Flex's null markers: empty, `-`, `--` or `N/A`.
pub(crate) fn is_null(text: &str) -> bool {
    matches!(text, "" | "-" | "--") || text.eq_ignore_ascii_case("N/A")
}
