//! One module per resource; each handler returns an [`crate::api::ApiResult`].

pub mod connected;
pub mod connection_health;
pub mod connections;
pub mod dev;
pub mod health;
pub mod holdings;
pub mod ibkr;
pub mod institutions;
pub mod mcp;
pub mod me;
pub mod migrations;
pub mod ops;
pub mod orders;
pub mod plaid;
pub mod portfolio;
pub mod refresh;
pub mod schwab;
pub mod snaptrade;
pub mod transactions;
pub mod webhooks;
