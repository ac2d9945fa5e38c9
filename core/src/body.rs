//! How a request body is read against its size limit: what to keep, what to read and discard, and
//! when to stop. A body over the limit is still read (and thrown away) up to [`DRAIN_LIMIT_BYTES`]
//! before the refusal is sent, so the sender is never cut off mid-upload: a proxy in front of the
//! worker (wrangler dev's among them) may otherwise see the connection reset and report it as a
//! failure of its own instead of the 413.

/// How much more than the limit is read and discarded before answering anyway.
pub const DRAIN_LIMIT_BYTES: usize = 1024 * 1024;

/// What to do after a chunk arrives, `seen` bytes of body having arrived so far (that chunk
/// included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStep {
    /// Keep the chunk: the body is within the limit so far.
    Keep,
    /// The body is too large: discard the chunk and read on.
    Discard,
    /// The body is too large and enough of it was read: stop reading and refuse it now.
    Stop,
}

/// The step for a body of `declared` length (the `Content-Length`, if any) after `seen` bytes,
/// against `max_bytes`.
///
/// - MUST keep nothing once `seen` or `declared` exceeds `max_bytes`;
/// - MUST stop once more than `max_bytes + DRAIN_LIMIT_BYTES` were read.
pub fn body_step(seen: usize, declared: Option<usize>, max_bytes: usize) -> BodyStep {
    if seen > max_bytes.saturating_add(DRAIN_LIMIT_BYTES) {
        BodyStep::Stop
    } else if too_large(seen, declared, max_bytes) {
        BodyStep::Discard
    } else {
        BodyStep::Keep
    }
}

/// Whether a body of `declared` length, of which `seen` bytes arrived, is over `max_bytes`.
pub fn too_large(seen: usize, declared: Option<usize>, max_bytes: usize) -> bool {
    seen > max_bytes || declared.is_some_and(|n| n > max_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    #[test]
    fn a_body_within_the_limit_is_kept() {
        assert_eq!(body_step(0, None, MAX), BodyStep::Keep);
        assert_eq!(body_step(MAX, Some(MAX), MAX), BodyStep::Keep);
        assert!(!too_large(MAX, Some(MAX), MAX));
    }

    #[test]
    fn a_body_over_the_limit_is_read_and_discarded_up_to_the_drain_limit() {
        assert_eq!(body_step(10, Some(MAX + 1), MAX), BodyStep::Discard, "declared too large: keep nothing");
        assert_eq!(body_step(MAX + 1, None, MAX), BodyStep::Discard, "grown too large");
        assert_eq!(body_step(MAX + DRAIN_LIMIT_BYTES, None, MAX), BodyStep::Discard);
        assert_eq!(body_step(MAX + DRAIN_LIMIT_BYTES + 1, None, MAX), BodyStep::Stop);
        assert_eq!(body_step(usize::MAX, None, usize::MAX), BodyStep::Keep, "no overflow");
        assert!(too_large(10, Some(MAX + 1), MAX));
        assert!(too_large(MAX + 1, None, MAX));
    }
}
