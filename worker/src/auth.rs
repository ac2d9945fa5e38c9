//! Session middleware: every user endpoint starts here and gets the verified user, or a 401.

use crate::api::{now_unix, ApiError};
use crate::env::load_config;
use tributary_core::config::Config;
use tributary_core::session::{bearer_token, verify_session_token, SessionClaims};
use worker::{Env, Request};

/// A request that passed the session check, with the configuration it was checked against.
pub struct Authenticated {
    pub claims: SessionClaims,
    pub config: Config,
}

/// Verifies the request's `Authorization: Bearer` HS256 token against `SESSION_SIGNING_KEY`.
pub fn authenticate(req: &Request, env: &Env) -> Result<Authenticated, ApiError> {
    let config = load_config(env)?;
    let header = req.headers().get("authorization").ok().flatten();
    let token = bearer_token(header.as_deref())?;
    let claims = verify_session_token(token, &config.session_key, now_unix())?;
    Ok(Authenticated { claims, config })
}
