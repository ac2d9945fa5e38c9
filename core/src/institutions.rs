//! Institution names → canonical slugs (`"SCHWAB & CO."` → `charles_schwab`) through an alias
//! table that is data, not code: `core/data/institutions.json` is embedded, and a deployment can
//! load its own table from a JSON string.
//!
//! Resolution is an exact match on the *normalised* name (lowercase, letters and digits only), so
//! case, spaces and punctuation never matter and no substring accident can match: "Chase" is not
//! "Purchase Bank". An unknown name resolves to nothing; guessing is left to nobody.

use crate::domain::InstitutionSlug;
use crate::tables::{bad_entry, parse_table, TableError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = "institutions";
const EMBEDDED_JSON: &str = include_str!("../data/institutions.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    institutions: BTreeMap<InstitutionSlug, EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    display_name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// One institution: its slug, the name people see, and the other names it answers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    pub slug: InstitutionSlug,
    pub display_name: String,
    pub aliases: Vec<String>,
}

/// The alias table: every institution and the normalised names that resolve to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasTable {
    institutions: BTreeMap<InstitutionSlug, Institution>,
    by_alias: BTreeMap<String, InstitutionSlug>,
}

/// Lowercases and keeps only letters and digits: the form every alias and query is compared in.
pub fn normalize_name(name: &str) -> String {
    name.chars().flat_map(char::to_lowercase).filter(|c| c.is_alphanumeric()).collect()
}

/// Resolves a name (or a slug) with the embedded table; `None` when no alias matches exactly.
pub fn resolve_institution(name: &str) -> Option<InstitutionSlug> {
    AliasTable::embedded().resolve(name)
}

impl AliasTable {
    /// Parses a table; refuses empty display names, aliases with no letters or digits, and any
    /// alias that would resolve to two institutions.
    pub fn from_json(json: &str) -> Result<Self, TableError> {
        let file: TableFile = parse_table(TABLE, json)?;
        let mut table = Self { institutions: BTreeMap::new(), by_alias: BTreeMap::new() };
        for (slug, entry) in file.institutions {
            if entry.display_name.trim().is_empty() {
                return Err(bad_entry(TABLE, slug.as_str(), "display_name is empty"));
            }
            let names = [slug.as_str(), entry.display_name.as_str()]
                .into_iter()
                .chain(entry.aliases.iter().map(String::as_str));
            for name in names {
                table.add_alias(&slug, name)?;
            }
            let institution =
                Institution { slug: slug.clone(), display_name: entry.display_name, aliases: entry.aliases };
            table.institutions.insert(slug, institution);
        }
        Ok(table)
    }

    fn add_alias(&mut self, slug: &InstitutionSlug, name: &str) -> Result<(), TableError> {
        let key = normalize_name(name);
        if key.is_empty() {
            return Err(bad_entry(TABLE, slug.as_str(), format!("alias {name:?} has no letters or digits")));
        }
        match self.by_alias.get(&key) {
            Some(owner) if owner != slug => Err(bad_entry(
                TABLE,
                slug.as_str(),
                format!("alias {name:?} already resolves to {owner}; an alias must name one institution"),
            )),
            _ => {
                self.by_alias.insert(key, slug.clone());
                Ok(())
            }
        }
    }

    /// The table shipped in `core/data/institutions.json`, parsed once per process.
    pub fn embedded() -> &'static Self {
        static TABLE_CELL: OnceLock<AliasTable> = OnceLock::new();
        TABLE_CELL.get_or_init(|| Self::from_json(EMBEDDED_JSON).expect("embedded institutions.json is valid (tested)"))
    }

    /// The slug whose alias equals `name` after normalisation; `None` for unknown or blank names.
    pub fn resolve(&self, name: &str) -> Option<InstitutionSlug> {
        self.by_alias.get(&normalize_name(name)).cloned()
    }

    /// The institution with this slug, if the table knows it.
    pub fn get(&self, slug: &InstitutionSlug) -> Option<&Institution> {
        self.institutions.get(slug)
    }

    /// The name to show for a slug, if the table knows it.
    pub fn display_name(&self, slug: &InstitutionSlug) -> Option<&str> {
        self.get(slug).map(|i| i.display_name.as_str())
    }

    /// Every institution, in slug order.
    pub fn iter(&self) -> impl Iterator<Item = &Institution> {
        self.institutions.values()
    }

    /// Institutions for a search box: an alias equal to the query first, then aliases starting with
    /// it, then aliases containing it, each group by display name. A blank query lists everything.
    /// Unlike [`AliasTable::resolve`], partial matches are the point here.
    pub fn search(&self, query: &str) -> Vec<&Institution> {
        let query = normalize_name(query);
        let mut hits: BTreeMap<InstitutionSlug, u8> = BTreeMap::new();
        for (alias, slug) in &self.by_alias {
            let rank = if alias == &query {
                0
            } else if alias.starts_with(&query) {
                1
            } else if alias.contains(&query) {
                2
            } else {
                continue;
            };
            let best = hits.entry(slug.clone()).or_insert(rank);
            *best = (*best).min(rank);
        }
        let mut found: Vec<(u8, &Institution)> =
            hits.into_iter().filter_map(|(slug, rank)| self.institutions.get(&slug).map(|i| (rank, i))).collect();
        found.sort_by(|(ra, a), (rb, b)| {
            (ra, a.display_name.to_lowercase(), &a.slug).cmp(&(rb, b.display_name.to_lowercase(), &b.slug))
        });
        found.into_iter().map(|(_, institution)| institution).collect()
    }
}

#[cfg(test)]
#[path = "institutions_tests.rs"]
mod tests;

/// An optional `institution` request field: absent or blank is `None`; a name the alias table
/// does not know is refused (never guessed), so a request cannot silently connect something else.
pub fn resolve_field(name: Option<&str>) -> Result<Option<InstitutionSlug>, crate::error::ValidationError> {
    match name.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(name) => resolve_institution(name).map(Some).ok_or(crate::error::ValidationError::BadCharacters {
            field: "institution",
            allowed: "an institution Tributary knows",
        }),
    }
}

#[cfg(test)]
mod resolve_field_tests {
    use super::*;

    #[test]
    fn blank_is_none_known_resolves_unknown_is_refused() {
        assert_eq!(resolve_field(None), Ok(None));
        assert_eq!(resolve_field(Some("  ")), Ok(None));
        assert_eq!(resolve_field(Some("Schwab")).unwrap().unwrap().as_str(), "charles_schwab");
        assert_eq!(resolve_field(Some("Purchase Bank")).unwrap_err().field(), "institution");
    }
}
