//! The confirm token a dry run hands out and an execute must bring back: an HMAC-SHA256 over what
//! it binds — the user, the institution, both providers, the compared holdings' fingerprint and
//! an expiry [`CONFIRM_TTL_S`] after the dry run — keyed by a key derived from the deployment's
//! data key (domain-separated, so it signs nothing else).
//!
//! Why an HMAC and not a random token in D1: a dry run stays read-only (no row for a plan never
//! executed, nothing to expire or sweep), and checking a token is this pure function. A token is
//! not single-use; a second execute with it is harmless because every check runs again (once the
//! old connection is gone there is no candidate to remove, and any change of holdings changes the
//! fingerprint).
//!
//! [`check_confirm`] applies, in order: absent → [`MigrationError::ConfirmRequired`]; not
//! well-formed or a wrong MAC → [`MigrationError::ConfirmInvalid`]; another user, institution or
//! provider pair → `ConfirmInvalid`; expired at `now` → [`MigrationError::ConfirmExpired`]. The
//! fingerprint is compared later, against a comparison made right before the removal
//! ([`MigrationError::Changed`]).

use super::{MigrationError, MigrationRequest};
use crate::config::DataKey;
use crate::domain::UserId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a dry run's confirm token stays valid: ten minutes.
pub const CONFIRM_TTL_S: i64 = 600;
const PREFIX: &str = "mc1";
const MAX_TOKEN_LEN: usize = 2_048;

/// What a confirm token binds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmClaims {
    pub user: String,
    pub institution: String,
    pub from: String,
    pub to: String,
    pub fingerprint: String,
    pub expires_at: i64,
}

fn mac(key: &DataKey) -> HmacSha256 {
    let mut derive = HmacSha256::new_from_slice(&key.bytes).expect("HMAC accepts keys of any length");
    derive.update(b"tributary migration confirm v1");
    let subkey = derive.finalize().into_bytes();
    HmacSha256::new_from_slice(&subkey).expect("HMAC accepts keys of any length")
}

/// The token for `request` by `user` over `fingerprint`, valid until `now + CONFIRM_TTL_S`.
pub fn issue_confirm(key: &DataKey, user: &UserId, request: &MigrationRequest, fingerprint: &str, now: i64) -> String {
    let claims = ConfirmClaims {
        user: user.as_str().to_owned(),
        institution: request.institution.as_str().to_owned(),
        from: request.from_provider.as_str().to_owned(),
        to: request.to_provider.as_str().to_owned(),
        fingerprint: fingerprint.to_owned(),
        expires_at: now + CONFIRM_TTL_S,
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialise"));
    let mut signer = mac(key);
    signer.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(signer.finalize().into_bytes());
    format!("{PREFIX}.{payload}.{signature}")
}

/// The claims of `token` when it is this deployment's, for this `user` and `request`, and
/// unexpired at `now` (the order of checks is in the module doc).
pub fn check_confirm(
    key: &DataKey,
    token: Option<&str>,
    user: &UserId,
    request: &MigrationRequest,
    now: i64,
) -> Result<ConfirmClaims, MigrationError> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(MigrationError::ConfirmRequired)?;
    let invalid = || MigrationError::ConfirmInvalid;
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let mut parts = token.split('.');
    let (Some(PREFIX), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
    let mut verifier = mac(key);
    verifier.update(payload.as_bytes());
    verifier.verify_slice(&signature).map_err(|_| invalid())?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    let claims: ConfirmClaims = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let same = claims.user == user.as_str()
        && claims.institution == request.institution.as_str()
        && claims.from == request.from_provider.as_str()
        && claims.to == request.to_provider.as_str();
    if !same {
        return Err(invalid());
    }
    if claims.expires_at <= now {
        return Err(MigrationError::ConfirmExpired { expired_at: claims.expires_at });
    }
    Ok(claims)
}
