//! Shared loading of Tributary's data tables (institution aliases, coverage map, dedup routing):
//! each table ships embedded in the binary and can be replaced per deployment by a JSON string.
//! This module only parses and reports; what a table means lives in the module that owns it.

use crate::error::ErrorCode;
use serde::de::DeserializeOwned;

/// Why a data table could not be loaded; names the table so an operator knows which file to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("the {table} table is not valid JSON of the expected shape: {detail}")]
    InvalidJson { table: &'static str, detail: String },
    #[error("the {table} table has a bad entry {key:?}: {problem}")]
    InvalidEntry { table: &'static str, key: String, problem: String },
}

impl ErrorCode for TableError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_table_json",
            Self::InvalidEntry { .. } => "invalid_table_entry",
        }
    }
    fn http_status(&self) -> u16 {
        500
    }
}

/// Parses `json` into a table of type `T`, or says which table is malformed and where.
pub(crate) fn parse_table<T: DeserializeOwned>(table: &'static str, json: &str) -> Result<T, TableError> {
    serde_json::from_str(json).map_err(|err| TableError::InvalidJson { table, detail: err.to_string() })
}

/// Builds an `InvalidEntry` error for `table` about `key`.
pub(crate) fn bad_entry(table: &'static str, key: impl Into<String>, problem: impl Into<String>) -> TableError {
    TableError::InvalidEntry { table, key: key.into(), problem: problem.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn malformed_json_names_the_table_and_has_a_stable_code() {
        let err = parse_table::<BTreeMap<String, String>>("coverage", "{not json").unwrap_err();
        assert_eq!(err.code(), "invalid_table_json");
        assert_eq!(err.http_status(), 500);
        assert!(err.to_string().starts_with("the coverage table is not valid JSON"));
    }

    #[test]
    fn bad_entry_names_the_key_and_the_problem() {
        let err = bad_entry("aliases", "chase", "alias is empty");
        assert_eq!(err.code(), "invalid_table_entry");
        assert_eq!(err.to_string(), "the aliases table has a bad entry \"chase\": alias is empty");
    }
}
