//! One module per resource; each handler returns an [`crate::api::ApiResult`].

pub mod dev;
pub mod health;
pub mod me;
pub mod snaptrade;
