//! The options objects a client is given, read by the shell field by field (numbers, booleans,
//! strings, callbacks) and checked here: a number must be whole and within its bounds, else
//! [`OptionError`] (`invalid_input`) naming the option. Fields left out take their defaults.

use super::retry::{RetryPolicy, MAX_ATTEMPTS_LIMIT, MAX_DELAY_LIMIT_MS};
use crate::error::ErrorCode;

/// The default `PendingUpdatesPoller` interval: five minutes.
pub const DEFAULT_POLL_INTERVAL_MS: u32 = 300_000;
/// The shortest poll interval accepted (tests poll fast; people never need faster).
pub const MIN_POLL_INTERVAL_MS: u32 = 100;
/// The longest poll interval accepted: one day.
pub const MAX_POLL_INTERVAL_MS: u32 = 86_400_000;

/// An option or argument the client cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("{option} must be a whole number from {min} to {max}")]
    OutOfRange { option: &'static str, min: u32, max: u32 },
    #[error("{argument} is not valid: {detail}")]
    Invalid { argument: &'static str, detail: String },
}

impl OptionError {
    /// `Ok` when `min <= value <= max`, else [`OptionError::OutOfRange`] naming `option`.
    pub fn check_range(option: &'static str, value: u32, min: u32, max: u32) -> Result<(), Self> {
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(Self::OutOfRange { option, min, max })
        }
    }
}

impl ErrorCode for OptionError {
    fn code(&self) -> &'static str {
        "invalid_input"
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// A JavaScript number as a whole `u32` within `min..=max`, else [`OptionError::OutOfRange`].
pub fn whole_number(option: &'static str, value: f64, min: u32, max: u32) -> Result<u32, OptionError> {
    let whole = value.fract() == 0.0 && value >= f64::from(min) && value <= f64::from(max);
    if whole {
        Ok(value as u32)
    } else {
        Err(OptionError::OutOfRange { option, min, max })
    }
}

fn whole(option: &'static str, value: Option<f64>, min: u32, max: u32) -> Result<Option<u32>, OptionError> {
    value.map(|v| whole_number(option, v, min, max)).transpose()
}

/// `TributaryClient` options (`maxAttempts`, `baseDelayMs`, `maxDelayMs`): how often and how
/// patiently to retry transient failures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClientOptions {
    pub max_attempts: Option<f64>,
    pub base_delay_ms: Option<f64>,
    pub max_delay_ms: Option<f64>,
}

impl ClientOptions {
    /// The retry policy these options describe (defaults for what is left out).
    pub fn retry_policy(&self) -> Result<RetryPolicy, OptionError> {
        RetryPolicy::with(
            whole("maxAttempts", self.max_attempts, 1, MAX_ATTEMPTS_LIMIT)?,
            whole("baseDelayMs", self.base_delay_ms, 0, MAX_DELAY_LIMIT_MS)?,
            whole("maxDelayMs", self.max_delay_ms, 0, MAX_DELAY_LIMIT_MS)?,
        )
    }
}

/// `PendingUpdatesPoller` options besides its callbacks (`intervalMs`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PollerOptions {
    pub interval_ms: Option<f64>,
}

impl PollerOptions {
    /// Milliseconds between polls: the default five minutes, or the given interval within bounds.
    pub fn interval_ms(&self) -> Result<u32, OptionError> {
        let interval = self.interval_ms.unwrap_or(f64::from(DEFAULT_POLL_INTERVAL_MS));
        whole_number("intervalMs", interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_out_options_are_defaults() {
        assert_eq!(ClientOptions::default().retry_policy(), Ok(RetryPolicy::default()));
        let options = ClientOptions { max_attempts: Some(5.0), ..ClientOptions::default() };
        assert_eq!(options.retry_policy().unwrap().max_attempts, 5);
    }

    #[test]
    fn numbers_must_be_whole_and_in_range_and_the_error_names_the_option() {
        for bad in [2.5, -1.0, f64::NAN, f64::INFINITY] {
            let error =
                ClientOptions { max_attempts: Some(bad), ..ClientOptions::default() }.retry_policy().unwrap_err();
            assert_eq!(error.code(), "invalid_input");
            assert!(error.to_string().starts_with("maxAttempts must be a whole number"), "{bad}: {error}");
        }
        assert_eq!(whole_number("x", 7.0, 0, 10), Ok(7));
        assert!(whole_number("x", 11.0, 0, 10).is_err());
    }

    #[test]
    fn the_poll_interval_defaults_to_five_minutes_and_is_bounded() {
        assert_eq!(PollerOptions::default().interval_ms(), Ok(300_000));
        assert_eq!(PollerOptions { interval_ms: Some(250.0) }.interval_ms(), Ok(250));
        for bad in [0.0, 99.0, 86_400_001.0, 150.5] {
            assert!(PollerOptions { interval_ms: Some(bad) }.interval_ms().is_err(), "{bad}");
        }
    }
}
