//! Per-user provider secrets (SnapTrade `userSecret`, Plaid `access_token`) sealed at rest with
//! AES-256-GCM. The shell supplies a fresh random nonce per write (the core has no randomness);
//! the associated data binds each ciphertext to its user and provider, so a row copied to
//! another user does not open.

use crate::config::DataKey;
use crate::domain::{Provider, UserId};
use crate::error::ErrorCode;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

/// Bytes of the random nonce each seal needs.
pub const NONCE_LEN: usize = 12;

/// A sealed secret as stored: ciphertext (with tag), its nonce, and the id of the key used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: [u8; NONCE_LEN],
    pub key_id: String,
}

/// Why a stored secret could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the stored secret was sealed with key {0:?}, which this deployment does not have")]
    UnknownKey(String),
    #[error("the stored secret does not open with this key and owner (tampered or moved)")]
    Corrupt,
}

impl ErrorCode for SealError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownKey(_) => "secret_key_unknown",
            Self::Corrupt => "secret_corrupt",
        }
    }
    fn http_status(&self) -> u16 {
        500
    }
}

fn associated_data(user: &UserId, provider: Provider) -> Vec<u8> {
    format!("tributary:v1:{}:{}", provider.as_str(), user.as_str()).into_bytes()
}

/// Seals `secret` for `user` at `provider` under `key` with the caller's random `nonce`.
pub fn seal(key: &DataKey, nonce: [u8; NONCE_LEN], user: &UserId, provider: Provider, secret: &str) -> Sealed {
    let cipher = Aes256Gcm::new_from_slice(&key.bytes).expect("DataKey holds exactly 32 bytes");
    let aad = associated_data(user, provider);
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: &aad })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    Sealed { ciphertext, nonce, key_id: key.id.clone() }
}

/// Opens a sealed secret; the key must match `sealed.key_id` and the owner must match the seal.
pub fn open(key: &DataKey, sealed: &Sealed, user: &UserId, provider: Provider) -> Result<String, SealError> {
    if key.id != sealed.key_id {
        return Err(SealError::UnknownKey(sealed.key_id.clone()));
    }
    let cipher = Aes256Gcm::new_from_slice(&key.bytes).expect("DataKey holds exactly 32 bytes");
    let aad = associated_data(user, provider);
    let plain = cipher
        .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: &aad })
        .map_err(|_| SealError::Corrupt)?;
    String::from_utf8(plain).map_err(|_| SealError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, byte: u8) -> DataKey {
        DataKey { id: id.into(), bytes: [byte; 32] }
    }

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_for_its_owner_and_hides_the_plaintext() {
        let sealed = seal(&key("k1", 7), [1; 12], &user("alice"), Provider::SnapTrade, "user-secret-123");
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"secret"));
        assert_eq!(open(&key("k1", 7), &sealed, &user("alice"), Provider::SnapTrade).unwrap(), "user-secret-123");
    }

    #[test]
    fn another_owner_provider_key_or_a_flipped_bit_does_not_open() {
        let sealed = seal(&key("k1", 7), [1; 12], &user("alice"), Provider::Plaid, "access-sandbox-1");
        assert_eq!(open(&key("k1", 7), &sealed, &user("bob"), Provider::Plaid), Err(SealError::Corrupt));
        assert_eq!(open(&key("k1", 7), &sealed, &user("alice"), Provider::SnapTrade), Err(SealError::Corrupt));
        assert_eq!(open(&key("k1", 8), &sealed, &user("alice"), Provider::Plaid), Err(SealError::Corrupt));
        assert_eq!(
            open(&key("k2", 7), &sealed, &user("alice"), Provider::Plaid),
            Err(SealError::UnknownKey("k1".into()))
        );
        let mut flipped = sealed.clone();
        flipped.ciphertext[0] ^= 1;
        assert_eq!(open(&key("k1", 7), &flipped, &user("alice"), Provider::Plaid), Err(SealError::Corrupt));
    }

    #[test]
    fn different_nonces_give_different_ciphertexts() {
        let a = seal(&key("k1", 7), [1; 12], &user("alice"), Provider::SnapTrade, "same");
        let b = seal(&key("k1", 7), [2; 12], &user("alice"), Provider::SnapTrade, "same");
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}
