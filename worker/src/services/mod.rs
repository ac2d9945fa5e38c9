//! Flows that span a provider client and the store: carried out here, decided in the core.

pub mod cache;
pub mod connection_health;
pub mod connections;
pub mod health;
pub mod holdings;
pub mod ibkr_flex;
pub mod migrations;
pub mod ops;
pub mod plaid;
pub mod plaid_link_sessions;
pub mod plaid_repair;
pub mod refresh;
pub mod schwab;
pub mod schwab_trading;
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
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the runtime provides crypto.getRandomValues");
    tributary_core::client::order_keys::uuid_v4(bytes)
}
