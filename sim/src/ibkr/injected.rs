//! Flex error codes a test queues for the next requests to one endpoint (optionally of one user):
//! each matching request that passed the token checks and the throttle answers the first queued
//! code instead of the endpoint's own logic, and counts it down.

use super::flex::FlexCode;

/// The most injected error codes queued at once.
pub const MAX_QUEUED_ERRORS: usize = 100;

/// The two Flex Web Service endpoints (operation names in call counts, faults and injected errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    SendRequest,
    GetStatement,
}

impl Endpoint {
    /// `send_request` or `get_statement`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::SendRequest => "send_request",
            Endpoint::GetStatement => "get_statement",
        }
    }

    /// The endpoint called `name`.
    pub fn parse(name: &str) -> Option<Endpoint> {
        [Endpoint::SendRequest, Endpoint::GetStatement].into_iter().find(|e| e.name() == name)
    }
}

#[derive(Debug)]
struct QueuedError {
    endpoint: Endpoint,
    code: FlexCode,
    user: Option<String>,
    remaining: u32,
}

/// The queue of injected codes.
#[derive(Debug, Default)]
pub struct InjectedErrors {
    queued: Vec<QueuedError>,
}

impl InjectedErrors {
    /// Queues `code` for the next `times` requests to `endpoint` (of `user` only, if given).
    pub fn queue(
        &mut self,
        endpoint: Endpoint,
        code: FlexCode,
        times: u32,
        user: Option<String>,
    ) -> Result<(), String> {
        if self.queued.len() >= MAX_QUEUED_ERRORS {
            return Err(format!("at most {MAX_QUEUED_ERRORS} queued error codes"));
        }
        self.queued.push(QueuedError { endpoint, code, user, remaining: times });
        Ok(())
    }

    /// The first queued code matching (`endpoint`, `user`), counted down, if any.
    pub fn take(&mut self, endpoint: Endpoint, user: &str) -> Option<FlexCode> {
        let queued =
            self.queued.iter_mut().find(|e| e.endpoint == endpoint && e.user.as_deref().is_none_or(|u| u == user))?;
        queued.remaining = queued.remaining.saturating_sub(1);
        let code = queued.code;
        self.queued.retain(|e| e.remaining > 0);
        Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_codes_count_down_per_endpoint_and_user() {
        let mut errors = InjectedErrors::default();
        let code = FlexCode::new(1009).unwrap();
        errors.queue(Endpoint::GetStatement, code, 2, Some("ann".into())).unwrap();
        assert_eq!(errors.take(Endpoint::SendRequest, "ann"), None);
        assert_eq!(errors.take(Endpoint::GetStatement, "bob"), None);
        assert_eq!(errors.take(Endpoint::GetStatement, "ann"), Some(code));
        assert_eq!(errors.take(Endpoint::GetStatement, "ann"), Some(code));
        assert_eq!(errors.take(Endpoint::GetStatement, "ann"), None);
        assert_eq!(Endpoint::parse("send_request"), Some(Endpoint::SendRequest));
        for _ in 0..MAX_QUEUED_ERRORS {
            errors.queue(Endpoint::SendRequest, code, 1, None).unwrap();
        }
        assert!(errors.queue(Endpoint::SendRequest, code, 1, None).is_err(), "bounded");
    }
}
