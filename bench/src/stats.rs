//! Summaries of repeated measurements: how many runs, the median, and the spread (min and max).

use serde::Serialize;

/// A set of runs reduced to what the results print.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises `values` (at least one); the median of an even count is the mean of the middle two.
    pub fn of(values: &[f64]) -> Self {
        assert!(!values.is_empty(), "a summary needs at least one run");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Self { runs: n, median, min: sorted[0], max: sorted[n - 1] }
    }

    /// `min–max` with `unit`, as the results table shows the spread.
    pub fn spread(&self, unit: &str) -> String {
        format!("{}–{} {unit}", round(self.min), round(self.max))
    }
}

/// A figure rounded for reading: whole numbers as they are, 3 decimals below 10, 1 decimal below
/// 1000, none above.
pub fn round(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_odd_and_even_counts() {
        let odd = Summary::of(&[5.0, 1.0, 3.0]);
        assert_eq!((odd.runs, odd.median, odd.min, odd.max), (3, 3.0, 1.0, 5.0));
        assert_eq!(Summary::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert_eq!(odd.spread("ms"), "1–5 ms");
        assert_eq!(Summary::of(&[1.5, 2.25]).spread("ms"), "1.500–2.250 ms");
        assert_eq!(round(1234.56), "1235");
        assert_eq!(round(12.345), "12.3");
    }
}
