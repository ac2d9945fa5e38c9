//! What a ledger read asks for (`GET /api/transactions` and `.csv`): a date window (the last 90
//! days unless given, at most 5 years), an optional account and types, a page size (at most 500)
//! and a cursor — parsed from the query string into a typed [`TransactionQuery`] or refused with a
//! typed [`TransactionQueryError`]. Pages run newest first; the cursor is the last row a page showed.

use super::TransactionType;
use crate::error::ErrorCode;
use crate::time::Date;

/// The window a read covers when it names none: the 90 days up to today.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;
/// The longest window one read may cover: five years (of 366 days, so any five calendar years fit).
pub const MAX_WINDOW_DAYS: i64 = 5 * 366;
/// Rows per page unless `limit` says otherwise, and the most `limit` may ask for.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 500;

/// Where a page starts: just after the row (`trade_date`, `id`) the previous page ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub trade_date: Date,
    pub id: String,
}

impl Cursor {
    /// The opaque text a client sends back (`2026-03-22~tx_…`).
    pub fn encode(&self) -> String {
        format!("{}~{}", self.trade_date, self.id)
    }

    /// The cursor `text` encodes, if it is one [`Cursor::encode`] wrote.
    pub fn decode(text: &str) -> Option<Self> {
        let (date, id) = text.split_once('~')?;
        let hex = id.strip_prefix("tx_")?;
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            .then(|| Some(Self { trade_date: Date::parse(date)?, id: id.to_owned() }))
            .flatten()
    }
}

/// A validated ledger read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionQuery {
    pub from: Date,
    pub to: Date,
    pub account: Option<String>,
    /// Empty = every type.
    pub types: Vec<TransactionType>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

/// Why a ledger read was refused (400 each).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionQueryError {
    #[error("{field} must be a date written YYYY-MM-DD, got {value:?}")]
    InvalidDate { field: &'static str, value: String },
    #[error("from ({from}) is after to ({to})")]
    InvertedRange { from: Date, to: Date },
    #[error("the window from {from} to {to} is longer than five years; ask for it in parts")]
    RangeTooLong { from: Date, to: Date },
    #[error("unknown transaction type {0:?}; expected one of: buy, sell, dividend, interest, fee, tax, deposit, withdrawal, transfer_in, transfer_out, split, other")]
    UnknownType(String),
    #[error("limit must be a whole number from 1 to 500, got {0:?}")]
    InvalidLimit(String),
    #[error("cursor is not one this API returned: {0:?}")]
    InvalidCursor(String),
    #[error("account must be 1 to 128 characters")]
    InvalidAccount,
    #[error("unknown query parameter {0:?}; expected from, to, account, type, cursor, limit")]
    UnknownParameter(String),
}

impl ErrorCode for TransactionQueryError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidDate { .. } => "invalid_date",
            Self::InvertedRange { .. } => "date_range_inverted",
            Self::RangeTooLong { .. } => "date_range_too_long",
            Self::UnknownType(_) => "unknown_transaction_type",
            Self::InvalidLimit(_) => "invalid_limit",
            Self::InvalidCursor(_) => "invalid_cursor",
            Self::InvalidAccount => "invalid_account",
            Self::UnknownParameter(_) => "unknown_parameter",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

impl TransactionQuery {
    /// Parses the query's `(name, value)` pairs as of `today` (the user's clock): `from`/`to`
    /// default to the last [`DEFAULT_WINDOW_DAYS`] days, `type` is a comma-separated list, and a
    /// parameter given twice takes its last value. An empty `account`, `type` or `cursor` counts
    /// as absent; an empty `from`, `to` or `limit` is refused.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        today: Date,
    ) -> Result<Self, TransactionQueryError> {
        let (mut from, mut to, mut account, mut types, mut limit, mut cursor) = (None, None, None, None, None, None);
        for (name, value) in pairs {
            let value = value.trim();
            let slot = match name {
                "from" => &mut from,
                "to" => &mut to,
                "account" => &mut account,
                "type" => &mut types,
                "limit" => &mut limit,
                "cursor" => &mut cursor,
                other => return Err(TransactionQueryError::UnknownParameter(other.chars().take(64).collect())),
            };
            // An empty text parameter is absent; an empty date or number is not a date or number.
            let kept_empty = matches!(name, "from" | "to" | "limit");
            *slot = (kept_empty || !value.is_empty()).then_some(value);
        }
        let date = |field: &'static str, value: &str| {
            Date::parse(value).ok_or_else(|| TransactionQueryError::InvalidDate { field, value: clip(value) })
        };
        let to = to.map(|v| date("to", v)).transpose()?.unwrap_or(today);
        let from = from.map(|v| date("from", v)).transpose()?.unwrap_or(to.add_days(-DEFAULT_WINDOW_DAYS));
        if from > to {
            return Err(TransactionQueryError::InvertedRange { from, to });
        }
        if to.days_since(from) > MAX_WINDOW_DAYS {
            return Err(TransactionQueryError::RangeTooLong { from, to });
        }
        let types = types
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| TransactionType::parse(t).ok_or_else(|| TransactionQueryError::UnknownType(clip(t))))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| TransactionQueryError::InvalidLimit(clip(text)))?,
        };
        let cursor = cursor
            .map(|text| Cursor::decode(text).ok_or_else(|| TransactionQueryError::InvalidCursor(clip(text))))
            .transpose()?;
        if account.is_some_and(|a| a.chars().count() > 128) {
            return Err(TransactionQueryError::InvalidAccount);
        }
        Ok(Self { from, to, account: account.map(str::to_owned), types, limit, cursor })
    }
}

fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::parse("2026-12-03").unwrap()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<TransactionQuery, TransactionQueryError> {
        TransactionQuery::parse(pairs.iter().copied(), today())
    }

    #[test]
    fn an_empty_query_is_the_last_90_days_a_hundred_at_a_time() {
        let query = parse(&[]).unwrap();
        assert_eq!((query.from.to_string(), query.to.to_string()), ("2026-09-04".into(), "2026-12-03".into()));
        assert_eq!((query.limit, query.types.len(), query.account, query.cursor), (100, 0, None, None));
    }

    #[test]
    fn every_parameter_is_read_and_checked() {
        let cursor = Cursor { trade_date: Date::parse("2026-03-01").unwrap(), id: format!("tx_{}", "ab".repeat(16)) };
        let encoded = cursor.encode();
        let query = parse(&[
            ("from", "2022-01-01"),
            ("to", "2026-06-30"),
            ("account", "acc-1"),
            ("type", "buy, dividend"),
            ("limit", "500"),
            ("cursor", &encoded),
        ])
        .unwrap();
        assert_eq!(query.types, [TransactionType::Buy, TransactionType::Dividend]);
        assert_eq!((query.limit, query.account.as_deref(), query.cursor), (500, Some("acc-1"), Some(cursor)));
    }

    #[test]
    fn bad_input_is_refused_with_a_stable_code() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("from", "2026-02-30")], "invalid_date"),
            (&[("to", "yesterday")], "invalid_date"),
            (&[("from", "2026-12-02"), ("to", "2026-12-01")], "date_range_inverted"),
            (&[("from", "2020-01-01"), ("to", "2026-01-01")], "date_range_too_long"),
            (&[("type", "buy,purchase")], "unknown_transaction_type"),
            (&[("limit", "0")], "invalid_limit"),
            (&[("limit", "501")], "invalid_limit"),
            (&[("limit", "ten")], "invalid_limit"),
            (&[("cursor", "2026-01-01~tx_zz")], "invalid_cursor"),
            (&[("cursor", "garbage")], "invalid_cursor"),
            (&[("sort", "asc")], "unknown_parameter"),
            (&[("to", "")], "invalid_date"),
            (&[("limit", "")], "invalid_limit"),
        ];
        for (pairs, code) in cases {
            let error = parse(pairs).unwrap_err();
            assert_eq!((error.code(), error.http_status()), (*code, 400), "{pairs:?}: {error}");
        }
        // Exactly five years (with a leap day) is allowed.
        assert!(parse(&[("from", "2021-12-03"), ("to", "2026-12-03")]).is_ok());
    }
}
