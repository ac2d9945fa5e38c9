//! Identifiers: providers, institutions, users and tickers, each parsed once at the boundary.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A provider Tributary connects through: an aggregator or an institution's own feed. What each
/// one is — names, costs, auth, limits — is data in [`crate::provider_spec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    #[serde(rename = "snaptrade")]
    SnapTrade,
    Plaid,
    /// Charles Schwab's own Trader API ("Schwab direct").
    Schwab,
    /// Interactive Brokers' own Flex Web Service: daily statements, read with a person's token.
    #[serde(rename = "ibkr_flex")]
    IbkrFlex,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 4] = [Provider::SnapTrade, Provider::Plaid, Provider::Schwab, Provider::IbkrFlex];

    /// The wire and storage name (`snaptrade`, `plaid`, `schwab`, `ibkr_flex`).
    pub fn as_str(self) -> &'static str {
        self.spec().wire_name
    }

    /// The provider's name as people write it (`SnapTrade`, `Plaid`, `Schwab direct`, `IBKR Flex`).
    pub fn display_name(self) -> &'static str {
        self.spec().display_name
    }

    /// Parses a wire name exactly (lowercase, as [`Provider::as_str`] writes it); anything else is `UnknownProvider`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| ValidationError::UnknownProvider(name.to_owned()))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if value.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    Ok(())
}

/// A canonical institution key such as `charles_schwab`: lowercase ASCII words joined by `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstitutionSlug(String);

impl InstitutionSlug {
    const MAX: usize = 64;

    /// Accepts only the canonical form; use the alias table to turn a name into a slug.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_len("institution", value, Self::MAX)?;
        let well_formed = value
            .split('_')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !well_formed {
            return Err(ValidationError::BadCharacters {
                field: "institution",
                allowed: "lowercase letters and digits in words joined by '_'",
            });
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of a Tributary user, as issued by the host app in the session token's `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    const MAX: usize = 128;

    /// Accepts 1–128 characters from `A-Z a-z 0-9 . _ : @ -`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        check_len("user_id", value, Self::MAX)?;
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:@-".contains(&b)) {
            return Err(ValidationError::BadCharacters { field: "user_id", allowed: "letters, digits and . _ : @ -" });
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A security's trading symbol as the provider reports it (option symbols may contain spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ticker(String);

impl Ticker {
    const MAX: usize = 64;

    /// Trims surrounding whitespace; refuses empty values and control characters.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        check_len("ticker", value, Self::MAX)?;
        if value.chars().any(char::is_control) {
            return Err(ValidationError::BadCharacters { field: "ticker", allowed: "printable characters" });
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_newtype_conversions!(InstitutionSlug, UserId, Ticker);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_round_trips_through_its_wire_name() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        assert_eq!(Provider::parse("SnapTrade").unwrap_err().code(), "unknown_provider");
    }

    #[test]
    fn institution_slug_accepts_only_canonical_form() {
        assert!(InstitutionSlug::parse("charles_schwab").is_ok());
        assert!(InstitutionSlug::parse("e2e_bank_3").is_ok());
        for bad in ["", "Charles_Schwab", "charles schwab", "_schwab", "schwab_", "a__b", "é"] {
            assert!(InstitutionSlug::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn user_id_refuses_empty_long_and_odd_characters() {
        assert!(UserId::parse("user-42@host.app").is_ok());
        assert_eq!(UserId::parse(""), Err(ValidationError::Empty { field: "user_id" }));
        assert!(matches!(UserId::parse(&"a".repeat(129)), Err(ValidationError::TooLong { .. })));
        assert!(matches!(UserId::parse("a b"), Err(ValidationError::BadCharacters { .. })));
        assert!(serde_json::from_str::<UserId>("\"<script>\"").is_err());
    }

    #[test]
    fn ticker_keeps_inner_spaces_of_option_symbols_but_trims_edges() {
        assert_eq!(Ticker::parse(" AAPL  240119C00150000 ").unwrap().as_str(), "AAPL  240119C00150000");
        assert!(Ticker::parse("   ").is_err());
        assert!(Ticker::parse("AB\u{0}C").is_err());
    }

    use crate::ErrorCode;
}
