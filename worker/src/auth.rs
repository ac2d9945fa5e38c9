//! Session middleware: every user endpoint starts here and gets the verified user, or a 401.

use crate::api::{now_unix, ApiError};
use crate::clock::{self, Clock};
use crate::env::load_config;
use tributary_core::config::Config;
use tributary_core::session::{bearer_token, verify_session_token, SessionClaims};
use worker::{Env, Request};

/// A request that passed the session check, with the configuration it was checked against and
/// the clock its user's decisions read.
pub struct Authenticated {
    pub claims: SessionClaims,
    pub config: Config,
    pub clock: Clock,
}

impl Authenticated {
    /// Unix seconds now for this user's decisions (the development clock included, see [`clock`]).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Verifies the request's `Authorization: Bearer` HS256 token against `SESSION_SIGNING_KEY`
/// (on the worker's clock: a user's own development clock never expires their session).
pub async fn authenticate(req: &Request, env: &Env) -> Result<Authenticated, ApiError> {
    let config = load_config(env)?;
    let header = req.headers().get("authorization").ok().flatten();
    let token = bearer_token(header.as_deref())?;
    let claims = verify_session_token(token, &config.session_key, now_unix())?;
    let clock = clock::for_user(env, &claims.user_id).await;
    crate::calls::use_clock(clock);
    Ok(Authenticated { claims, config, clock })
}
