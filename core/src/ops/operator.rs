//! Who may read the operator endpoints (`/api/ops/*`). Rules, in order:
//! 1. A bearer equal to the `OPERATOR_TOKEN` secret is the operator ([`Operator::Token`]). The
//!    comparison is constant-time over SHA-256 digests (neither content nor length leaks); a
//!    missing or empty secret matches nothing, so only role sessions work then.
//! 2. Otherwise the bearer must be a valid session; its error (401) when it is not.
//! 3. A session whose `role` claim is `operator` is the operator ([`Operator::Session`]).
//! 4. Any other session is a user: [`OperatorError::OperatorOnly`] (403).

use crate::domain::UserId;
use crate::error::ErrorCode;
use crate::session::{Role, SessionClaims, SessionError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// The deployment's `OPERATOR_TOKEN`.
    Token,
    /// A session carrying the `operator` role.
    Session(UserId),
}

/// Why an operator endpoint refused the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("this endpoint is for operators: send the OPERATOR_TOKEN or a session with the operator role")]
    OperatorOnly,
}

impl ErrorCode for OperatorError {
    fn code(&self) -> &'static str {
        match self {
            Self::Session(error) => error.code(),
            Self::OperatorOnly => "operator_only",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::Session(error) => error.http_status(),
            Self::OperatorOnly => 403,
        }
    }
}

/// Whether `presented` equals the configured operator token (rule 1).
pub fn operator_token_matches(presented: &str, configured: Option<&str>) -> bool {
    let Some(configured) = configured.map(str::trim).filter(|t| !t.is_empty()) else {
        return false;
    };
    let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(configured.as_bytes()));
    a.ct_eq(&b).into()
}

/// Applies the rules to a bearer token: `verify` checks it as a session (only asked when it is
/// not the operator token).
pub fn authorize_operator(
    bearer: &str,
    configured: Option<&str>,
    verify: impl FnOnce(&str) -> Result<SessionClaims, SessionError>,
) -> Result<Operator, OperatorError> {
    if operator_token_matches(bearer, configured) {
        return Ok(Operator::Token);
    }
    let claims = verify(bearer)?;
    match claims.role {
        Some(Role::Operator) => Ok(Operator::Session(claims.user_id)),
        None => Err(OperatorError::OperatorOnly),
    }
}
