//! Institution names → slugs, through the core's alias table.

use tributary_core::InstitutionSlug;

/// The canonical slug of an institution name, if the alias table knows it.
pub fn resolve(name: &str) -> Option<InstitutionSlug> {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    InstitutionSlug::parse(&words.join("_")).ok()
}
