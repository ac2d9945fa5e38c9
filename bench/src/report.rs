//! The results: every figure as rows of (measured, baseline, ratio, target, runs, spread), written
//! to `bench/results.md` for people and `bench/results.json` for tools.

use crate::stats::{round, Summary};
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Write;

/// One measured quantity against its baseline from the same run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub label: String,
    pub unit: &'static str,
    pub measured: Summary,
    pub baseline_label: String,
    pub baseline: f64,
    /// `measured.median / baseline`; `None` when both are zero (equal, no ratio).
    pub ratio: Option<f64>,
    /// The ratio this row must stay at or under, when the issue sets one.
    pub target: Option<f64>,
}

impl Row {
    /// A row; the ratio is computed here so every figure computes it the same way.
    pub fn new(
        label: impl Into<String>,
        unit: &'static str,
        measured: Summary,
        baseline_label: impl Into<String>,
        baseline: f64,
        target: Option<f64>,
    ) -> Self {
        let ratio = if baseline == 0.0 && measured.median == 0.0 {
            None
        } else if baseline == 0.0 {
            Some(f64::INFINITY)
        } else {
            Some(measured.median / baseline)
        };
        Self { label: label.into(), unit, measured, baseline_label: baseline_label.into(), baseline, ratio, target }
    }

    /// Whether the row meets its target (`None` without a target).
    pub fn meets_target(&self) -> Option<bool> {
        let target = self.target?;
        Some(self.ratio.is_none_or(|r| r <= target))
    }

    fn ratio_text(&self) -> String {
        match self.ratio {
            None => "equal (both 0)".into(),
            Some(r) if r.is_infinite() => "∞ (baseline 0)".into(),
            Some(r) => format!("{r:.2}×"),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "label": self.label, "unit": self.unit, "measured": self.measured,
            "baseline_label": self.baseline_label, "baseline": self.baseline,
            "ratio": self.ratio.filter(|r| r.is_finite()), "ratio_text": self.ratio_text(),
            "target": self.target, "meets_target": self.meets_target(),
        })
    }
}

/// One of the five figures: its rows and what a reader needs to know to trust them.
#[derive(Debug, Clone)]
pub struct Figure {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

fn markdown_row(out: &mut String, row: &Row) {
    let target = match (row.target, row.meets_target()) {
        (Some(t), Some(true)) => format!("≤ {t}× ✓"),
        (Some(t), _) => format!("≤ {t}× ✗"),
        (None, _) => "—".into(),
    };
    let m = &row.measured;
    let spread = if m.runs > 1 { m.spread(row.unit) } else { "—".into() };
    let _ = writeln!(
        out,
        "| {} | {} {} | {} = {} {} | {} | {} | {} | {} |",
        row.label,
        round(m.median),
        row.unit,
        row.baseline_label,
        round(row.baseline),
        row.unit,
        row.ratio_text(),
        target,
        m.runs,
        spread
    );
}

/// The Markdown results page.
pub fn markdown(figures: &[Figure], context: &[String]) -> String {
    let mut out = String::from("# Tributary benchmark results\n\n");
    out.push_str("Written by `make bench` (see `bench/README.md` for how to read it). Every figure is a ratio ");
    out.push_str("against a baseline measured in the same run, on loopback, under bounded load.\n\n");
    for line in context {
        let _ = writeln!(out, "- {line}");
    }
    let worst = worst_row(figures);
    if let Some((figure, row)) = worst {
        let _ = writeln!(out, "- Worst against its target: **{} — {}** at {}.", figure, row.label, row.ratio_text());
    }
    for figure in figures {
        let _ = writeln!(out, "\n## {}\n", figure.title);
        out.push_str("| measured | median | baseline | ratio | target | runs | spread (min–max) |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for row in &figure.rows {
            markdown_row(&mut out, row);
        }
        if !figure.notes.is_empty() {
            out.push('\n');
            for note in &figure.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
    }
    out
}

/// The row furthest over (or closest to) its target, by ratio ÷ target.
pub fn worst_row(figures: &[Figure]) -> Option<(&'static str, &Row)> {
    figures
        .iter()
        .flat_map(|f| f.rows.iter().map(move |r| (f.title, r)))
        .filter_map(|(title, row)| {
            let score = row.ratio.unwrap_or(0.0) / row.target?;
            Some((score, title, row))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, title, row)| (title, row))
}

/// The JSON results document.
pub fn json_document(figures: &[Figure], context: &[String]) -> Value {
    let figures: Vec<Value> = figures
        .iter()
        .map(|f| {
            json!({"id": f.id, "title": f.title, "rows": f.rows.iter().map(Row::to_json).collect::<Vec<_>>(),
                   "notes": f.notes})
        })
        .collect();
    json!({ "context": context, "figures": figures })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_targets_and_the_worst_row() {
        let row =
            |median: f64, baseline: f64, target| Row::new("x", "ms", Summary::of(&[median]), "b", baseline, target);
        assert_eq!(row(330.0, 300.0, Some(1.2)).meets_target(), Some(true));
        assert_eq!(row(400.0, 300.0, Some(1.2)).meets_target(), Some(false));
        assert_eq!(row(0.0, 0.0, Some(1.0)).ratio, None);
        assert_eq!(row(0.0, 0.0, Some(1.0)).meets_target(), Some(true));
        assert_eq!(row(2.0, 0.0, Some(1.0)).meets_target(), Some(false));
        let figures = vec![
            Figure { id: "a", title: "A", rows: vec![row(330.0, 300.0, Some(1.2))], notes: vec![] },
            Figure { id: "b", title: "B", rows: vec![row(2.0, 1.0, Some(1.5)), row(9.0, 1.0, None)], notes: vec![] },
        ];
        assert_eq!(worst_row(&figures).map(|(title, _)| title), Some("B"));
        let md = markdown(&figures, &["context".into()]);
        assert!(md.contains("| x | 330 ms | b = 300 ms | 1.10× | ≤ 1.2× ✓ | 1 | — |"), "{md}");
    }
}
