//! The Schwab token lifecycle: an access token lives 30 minutes and is refreshed when less than
//! five remain; the refresh token lives seven days from the ORIGINAL login and refreshing never
//! extends it; from 48 hours before that the connection "expires soon"; after it a new login is
//! the only way on. OAuth `state` values live ten minutes. Pure: `now` is an argument.

use serde::Serialize;

/// Refresh the access token when fewer than this many seconds of it remain (schwab-py's leeway).
pub const ACCESS_REFRESH_LEEWAY_S: i64 = 300;
/// A refresh token dies this long after the login that issued the first one.
pub const REFRESH_TOKEN_LIFETIME_S: i64 = 7 * 86_400;
/// From this long before the re-login deadline the connection reports `expires_soon`.
pub const EXPIRES_SOON_WINDOW_S: i64 = 48 * 3_600;
/// How long an OAuth `state` may wait for its callback.
pub const OAUTH_STATE_TTL_S: i64 = 600;

/// When a grant's tokens stop working, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GrantTimes {
    /// The access token's end.
    pub access_expires_at: i64,
    /// The original login, which the refresh token's life is counted from.
    pub login_at: i64,
    /// When a new login is needed (`login_at` + 7 days).
    pub reauth_required_at: i64,
}

/// What a data call must do first with the stored grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStep {
    /// The access token has at least the leeway left: use it.
    Use,
    /// The access token is (nearly) spent but the refresh token still lives: refresh first.
    Refresh,
    /// The refresh token is dead: nothing works until the person signs in again.
    Reauth,
}

impl GrantTimes {
    /// The step a call at `now` needs. `refused_at_expiry` names an access token (by its expiry)
    /// that Schwab just refused with a 401: while it is still the stored one, it is refreshed
    /// whatever its clock says (revoked, or the clocks disagree).
    pub fn step(&self, now: i64, refused_at_expiry: Option<i64>) -> TokenStep {
        if now >= self.reauth_required_at {
            TokenStep::Reauth
        } else if refused_at_expiry == Some(self.access_expires_at)
            || self.access_expires_at.saturating_sub(now) < ACCESS_REFRESH_LEEWAY_S
        {
            TokenStep::Refresh
        } else {
            TokenStep::Use
        }
    }
}

/// The times of a grant from a login (authorization code) at `now`.
pub fn new_grant_times(now: i64, expires_in_s: i64) -> GrantTimes {
    GrantTimes {
        access_expires_at: now.saturating_add(expires_in_s),
        login_at: now,
        reauth_required_at: now.saturating_add(REFRESH_TOKEN_LIFETIME_S),
    }
}

/// The times after a refresh at `now`: a new access-token end; the login deadline unchanged.
pub fn refreshed_times(previous: &GrantTimes, now: i64, expires_in_s: i64) -> GrantTimes {
    GrantTimes { access_expires_at: now.saturating_add(expires_in_s), ..*previous }
}

/// Whether the re-login deadline is within [`EXPIRES_SOON_WINDOW_S`] of `now` (and not yet past).
pub fn expires_soon(reauth_required_at: i64, now: i64) -> bool {
    now < reauth_required_at && reauth_required_at.saturating_sub(now) <= EXPIRES_SOON_WINDOW_S
}

/// Whether an OAuth `state` created at `created_at` is too old to accept at `now`.
pub fn state_expired(created_at: i64, now: i64) -> bool {
    now.saturating_sub(created_at) > OAUTH_STATE_TTL_S || now < created_at.saturating_sub(60)
}
