//! What can go wrong talking to the Flex Web Service or reading what it sent, each case with a
//! stable code, an HTTP status and a message that names the fix in IBKR's Client Portal where the
//! person can make it. No variant can hold the token: nothing here is built from it.

use crate::domain::Provider;
use crate::error::ErrorCode;
use crate::provider_error::ProviderError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where the Flex settings live in Client Portal, for messages.
const FLEX_QUERIES: &str = "Performance & Reports › Flex Queries";
const TOKEN_PAGE: &str = "Performance & Reports › Flex Queries › Flex Web Service Configuration";

/// What went wrong talking to IBKR or reading what it sent. Every variant has a stable code
/// ([`ErrorCode`]) and a message a person understands (`Display`), naming what to fix in IBKR's
/// Client Portal where that is the fix. Never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FlexError {
    /// Not ready / busy / throttled (1001, 1004–1009, 1018, 1019, 1021): ask again after `wait_s`.
    Wait { code: u16, wait_s: u64 },
    /// 1017: the reference code is gone; request a new statement.
    ReferenceInvalid,
    /// The token or query cannot work until the person fixes it (1010–1016, 1020, 1003 …).
    Credentials { problem: FlexProblem, code: u16 },
    /// The statement arrived but the query is not set up as Tributary needs.
    Query(QueryProblem),
    /// A body we could not read (HTML page, truncated XML, bad numbers, count mismatch…).
    Malformed { detail: String },
}

/// Which IBKR error code refused the token or the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlexProblem {
    /// 1012: the token's validity ran out.
    TokenExpired,
    /// 1015: IBKR does not know the token (mistyped, or replaced by a newer one).
    TokenInvalid,
    /// 1013: the token is bound to another IP address.
    IpRestricted,
    /// 1014: IBKR does not know the query id.
    QueryInvalid,
    /// 1016: an account of the query is invalid.
    AccountInvalid,
    /// 1011: the Flex Web Service is not enabled.
    ServiceInactive,
    /// 1010: a legacy Flex Query, no longer served.
    LegacyQuery,
    /// 1003: no statement for the query's period.
    StatementNotAvailable,
    /// 1020: IBKR could not validate the request.
    InvalidRequest,
    /// Any other code IBKR refused with.
    Unknown,
}

/// How the Activity Flex Query differs from what Tributary reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum QueryProblem {
    /// The statement is CSV or text, not XML.
    NotXml,
    /// A section Tributary needs is not in the query (`section` is IBKR's element name).
    SectionMissing { section: &'static str },
    /// Open positions come as LOT rows only: tick "Summary" under Open Positions.
    SummaryMissing,
    /// Slash dates that do not tell dd/MM from MM/dd.
    AmbiguousDates,
    /// A Trade Confirmation Flex Query (`type="TCF"`) where an Activity Flex Query is needed.
    NotActivity,
}

/// [`QueryProblem`] as it is read back: the section as text, checked against the known ones.
#[derive(Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
enum QueryProblemWire {
    NotXml,
    SectionMissing { section: String },
    SummaryMissing,
    AmbiguousDates,
    NotActivity,
}

// Written by hand: a derived impl would only read `'static` input (the section is `&'static str`).
impl<'de> Deserialize<'de> for QueryProblem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match QueryProblemWire::deserialize(deserializer)? {
            QueryProblemWire::NotXml => Self::NotXml,
            QueryProblemWire::SectionMissing { section } => Self::SectionMissing {
                section: REQUIRED_SECTIONS
                    .iter()
                    .map(|(element, _)| *element)
                    .find(|element| *element == section)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown Flex section {section:?}")))?,
            },
            QueryProblemWire::SummaryMissing => Self::SummaryMissing,
            QueryProblemWire::AmbiguousDates => Self::AmbiguousDates,
            QueryProblemWire::NotActivity => Self::NotActivity,
        })
    }
}

/// The sections every FlexStatement must have, with the names Client Portal shows for them.
pub(crate) const REQUIRED_SECTIONS: [(&str, &str); 5] = [
    ("AccountInformation", "Account Information"),
    ("OpenPositions", "Open Positions"),
    ("CashReport", "Cash Report"),
    ("Trades", "Trades"),
    ("CashTransactions", "Cash Transactions"),
];

/// How long to wait before the next call after `code` (reference §2.4/§4), never below the one
/// second the rate limit asks: 1018 (throttled) → 10 s; 1001, 1004–1009, 1019, 1021 → 5 s.
/// `None` when the code is not a wait.
pub fn wait_after(code: u16) -> Option<u64> {
    match code {
        1018 => Some(10),
        1001 | 1004..=1009 | 1019 | 1021 => Some(5),
        _ => None,
    }
}

impl FlexError {
    /// The error IBKR's `ErrorCode` stands for.
    pub fn from_code(code: u16) -> Self {
        if let Some(wait_s) = wait_after(code) {
            return Self::Wait { code, wait_s };
        }
        let problem = match code {
            1017 => return Self::ReferenceInvalid,
            1003 => FlexProblem::StatementNotAvailable,
            1010 => FlexProblem::LegacyQuery,
            1011 => FlexProblem::ServiceInactive,
            1012 => FlexProblem::TokenExpired,
            1013 => FlexProblem::IpRestricted,
            1014 => FlexProblem::QueryInvalid,
            1015 => FlexProblem::TokenInvalid,
            1016 => FlexProblem::AccountInvalid,
            1020 => FlexProblem::InvalidRequest,
            _ => FlexProblem::Unknown,
        };
        Self::Credentials { problem, code }
    }

    /// A body we could not read, described by `detail` (kept short; never the token).
    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        let detail: String = detail.into();
        Self::Malformed { detail: detail.chars().take(MAX_DETAIL_CHARS).collect() }
    }

    /// Whether the connection must be marked needs_repair: a Credentials problem the person can
    /// fix (every one but an unknown code, which no setting of theirs explains) or a Query problem.
    pub fn needs_repair(&self) -> bool {
        match self {
            Self::Credentials { problem, .. } => *problem != FlexProblem::Unknown,
            Self::Query(_) => true,
            Self::Wait { .. } | Self::ReferenceInvalid | Self::Malformed { .. } => false,
        }
    }

    /// The ProviderError the shared paths see: [`ProviderError::Flex`], with this error's code,
    /// status and message.
    pub fn to_provider_error(&self) -> ProviderError {
        ProviderError::Flex { provider: Provider::IbkrFlex, error: self.clone() }
    }
}

/// Most characters of a `Malformed` detail.
const MAX_DETAIL_CHARS: usize = 240;

impl std::error::Error for FlexError {}

impl ErrorCode for FlexError {
    fn code(&self) -> &'static str {
        match self {
            Self::Wait { .. } => "statement_pending",
            Self::ReferenceInvalid => "ibkr_reference_invalid",
            Self::Credentials { problem, .. } => match problem {
                FlexProblem::TokenExpired => "ibkr_token_expired",
                FlexProblem::TokenInvalid => "ibkr_token_invalid",
                FlexProblem::IpRestricted => "ibkr_ip_restricted",
                FlexProblem::QueryInvalid => "ibkr_query_invalid",
                FlexProblem::AccountInvalid => "ibkr_account_invalid",
                FlexProblem::ServiceInactive => "ibkr_service_inactive",
                FlexProblem::LegacyQuery => "ibkr_legacy_query",
                FlexProblem::StatementNotAvailable => "ibkr_statement_not_available",
                FlexProblem::InvalidRequest => "ibkr_request_invalid",
                FlexProblem::Unknown => "ibkr_rejected",
            },
            Self::Query(problem) => match problem {
                QueryProblem::NotXml => "ibkr_query_not_xml",
                QueryProblem::SectionMissing { .. } => "ibkr_section_missing",
                QueryProblem::SummaryMissing => "ibkr_summary_missing",
                QueryProblem::AmbiguousDates => "ibkr_date_format_ambiguous",
                QueryProblem::NotActivity => "ibkr_query_not_activity",
            },
            Self::Malformed { .. } => "provider_malformed_response",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            Self::Wait { .. } => 503,
            Self::ReferenceInvalid | Self::Malformed { .. } => 502,
            Self::Credentials { .. } | Self::Query(_) => 409,
        }
    }
}

impl fmt::Display for FlexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wait { code: 1018, wait_s } => write!(
                f,
                "IBKR allows one Flex request a second and ten a minute per token (code 1018); Tributary asks \
                 again in {wait_s} s."
            ),
            Self::Wait { code, wait_s } => {
                write!(f, "IBKR is still preparing the statement (code {code}); Tributary asks again in {wait_s} s.")
            }
            Self::ReferenceInvalid => f.write_str(
                "IBKR no longer knows this statement request (code 1017); Tributary asks for a new statement.",
            ),
            Self::Credentials { problem, code } => credentials_message(f, *problem, *code),
            Self::Query(problem) => query_message(f, problem),
            Self::Malformed { detail } => write!(f, "IBKR sent an answer Tributary could not read: {detail}"),
        }
    }
}

fn credentials_message(f: &mut fmt::Formatter<'_>, problem: FlexProblem, code: u16) -> fmt::Result {
    let new_token = format!("In Client Portal open {TOKEN_PAGE}, generate a new token");
    match problem {
        FlexProblem::TokenExpired => write!(
            f,
            "Your IBKR Flex token has expired. {new_token} (choose a longer validity, up to a year) and paste it here."
        ),
        FlexProblem::TokenInvalid => write!(
            f,
            "IBKR does not accept this Flex token (code 1015): it was mistyped or a newer token replaced it. \
             {new_token} (or copy the Current Token) and paste it here."
        ),
        FlexProblem::IpRestricted => write!(
            f,
            "This IBKR Flex token is bound to an IP address (code 1013), so Tributary's servers cannot use it. \
             {new_token} with \"Valid For IP Address\" left blank and paste it here."
        ),
        FlexProblem::QueryInvalid => write!(
            f,
            "IBKR does not know this Flex Query ID (code 1014). In Client Portal open {FLEX_QUERIES}, copy the \
             Query ID of your Activity Flex Query and paste it here."
        ),
        FlexProblem::AccountInvalid => write!(
            f,
            "IBKR says an account in this Flex Query is invalid (code 1016). In Client Portal open {FLEX_QUERIES}, \
             edit the Activity Flex Query, check the accounts it covers and save it."
        ),
        FlexProblem::ServiceInactive => write!(
            f,
            "The Flex Web Service is not active for this IBKR login (code 1011). In Client Portal open \
             {TOKEN_PAGE}, enable the Flex Web Service, generate a token and paste it here."
        ),
        FlexProblem::LegacyQuery => write!(
            f,
            "This is a legacy Flex Query, which IBKR no longer serves (code 1010). In Client Portal open \
             {FLEX_QUERIES}, create an Activity Flex Query and paste its Query ID here."
        ),
        FlexProblem::StatementNotAvailable => write!(
            f,
            "IBKR has no statement for this Flex Query's period (code 1003). In Client Portal open \
             {FLEX_QUERIES}, edit the Activity Flex Query and set its Period to Last Business Day."
        ),
        FlexProblem::InvalidRequest => write!(
            f,
            "IBKR could not validate the request (code 1020). Check that the token and the Query ID were pasted \
             completely; if they were, generate a new token in Client Portal ({TOKEN_PAGE}) and paste it here."
        ),
        FlexProblem::Unknown => write!(
            f,
            "IBKR refused the Flex request with code {code}. Check the Flex Web Service and the Activity Flex \
             Query in Client Portal ({FLEX_QUERIES}); if both look right, try again later."
        ),
    }
}

fn query_message(f: &mut fmt::Formatter<'_>, problem: &QueryProblem) -> fmt::Result {
    let edit = format!("In Client Portal open {FLEX_QUERIES} and edit the Activity Flex Query:");
    match problem {
        QueryProblem::NotXml => {
            write!(f, "IBKR sent the statement as CSV or text, but Tributary reads XML. {edit} set its Format to XML.")
        }
        QueryProblem::SectionMissing { section } => {
            let shown = REQUIRED_SECTIONS.iter().find(|(element, _)| element == section).map_or(*section, |s| s.1);
            let element = if shown == *section { String::new() } else { format!(" ({section})") };
            write!(f, "The Activity Flex Query has no {shown} section{element}. {edit} add the {shown} section.")
        }
        QueryProblem::SummaryMissing => write!(
            f,
            "The Activity Flex Query lists open positions by lot only. {edit} under Open Positions tick \"Summary\" \
             (\"Lot\" may stay ticked)."
        ),
        QueryProblem::AmbiguousDates => write!(
            f,
            "The Activity Flex Query writes dates with slashes that do not tell the day from the month. {edit} set \
             its Date Format to yyyyMMdd or yyyy-MM-dd."
        ),
        QueryProblem::NotActivity => write!(
            f,
            "This is a Trade Confirmation Flex Query; Tributary reads an Activity Flex Query. In Client Portal \
             open {FLEX_QUERIES}, create an Activity Flex Query and paste its Query ID here."
        ),
    }
}
