//! Flows that span a provider client and the store: carried out here, decided in the core.

pub mod cache;
pub mod connections;
pub mod health;
pub mod holdings;
pub mod ibkr_flex;
pub mod plaid;
pub mod plaid_link_sessions;
pub mod refresh;
pub mod schwab;
pub mod snaptrade;
pub mod snaptrade_trading;
pub mod trading;
pub mod transactions;
pub mod webhooks;

use tributary_core::sealed::NONCE_LEN;

/// A fresh random nonce for sealing a secret.
pub fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the runtime provides crypto.getRandomValues");
    nonce
}

/// A fresh random name for the holder of a lease (hex), so only it can release the lease.
pub fn random_owner() -> String {
    random_nonce().iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random UUID (version 4, RFC 9562), for ids a provider or a client may see.
pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the runtime provides crypto.getRandomValues");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
