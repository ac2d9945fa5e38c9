//! Institution names → slugs, through the core's alias table (data, not code).

use tributary_core::InstitutionSlug;

/// The canonical slug of an institution name, if the alias table knows it.
pub fn resolve(name: &str) -> Option<InstitutionSlug> {
    tributary_core::institutions::resolve_institution(name)
}
