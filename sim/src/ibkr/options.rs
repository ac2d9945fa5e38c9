//! A Flex query's template settings — what the user ticked in Client Portal and what the statement
//! honours: output format, sections and their order, date/time formats, the open-positions level of
//! detail, the cash report's `BASE_SUMMARY` row, quote style, XML declaration — plus the simulator's
//! own `pending_polls` (how many GetStatement polls answer 1019 before the statement is ready).

use super::dates::{DateFormat, TimeFormat};
use serde::Deserialize;

/// The most polls a query may keep a statement "in progress".
pub const MAX_PENDING_POLLS: u32 = 20;

/// The report format of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Xml,
    Csv,
    Text,
}

/// The sections the simulated Activity statement can contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    AccountInformation,
    OpenPositions,
    CashReport,
    Trades,
    CashTransactions,
}

impl Section {
    /// Every section, in the default order.
    pub const ALL: [Section; 5] = [
        Section::AccountInformation,
        Section::OpenPositions,
        Section::CashReport,
        Section::Trades,
        Section::CashTransactions,
    ];

    /// The element (and template) name: `AccountInformation`, `OpenPositions`, ….
    pub fn name(self) -> &'static str {
        match self {
            Section::AccountInformation => "AccountInformation",
            Section::OpenPositions => "OpenPositions",
            Section::CashReport => "CashReport",
            Section::Trades => "Trades",
            Section::CashTransactions => "CashTransactions",
        }
    }
}

/// Which open-position rows the statement carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelOfDetail {
    /// One `SUMMARY` row per instrument.
    Summary,
    /// Only `LOT` rows.
    Lot,
    /// Each `SUMMARY` row followed by its `LOT` rows (summing every row double counts).
    Both,
}

/// The separator between the date and the time of a date-time value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Separator(&'static str);

impl Separator {
    /// The separator a template offers: `;` (default), `,`, a space, or none.
    pub fn parse(text: &str) -> Option<Separator> {
        [";", ",", " ", ""].into_iter().find(|s| *s == text).map(Separator)
    }

    /// The separator text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// One query's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOptions {
    pub output: Output,
    /// The sections, in the order the statement writes them (never empty, no repeats).
    pub sections: Vec<Section>,
    pub date_format: DateFormat,
    pub time_format: TimeFormat,
    pub datetime_separator: Separator,
    pub level_of_detail: LevelOfDetail,
    /// Whether the cash report has a `BASE_SUMMARY` row.
    pub base_summary: bool,
    /// Attributes in `'…'` instead of `"…"`.
    pub single_quotes: bool,
    /// Whether XML documents start with `<?xml …?>`.
    pub xml_declaration: bool,
    /// GetStatement polls answered 1019 before the statement is served.
    pub pending_polls: u32,
}

impl Default for QueryOptions {
    /// XML, all five sections, `yyyyMMdd`, `HHmmss`, `;`, SUMMARY and LOT rows, `BASE_SUMMARY`,
    /// double quotes, with the declaration, one pending poll.
    fn default() -> Self {
        Self {
            output: Output::Xml,
            sections: Section::ALL.to_vec(),
            date_format: DateFormat::Compact,
            time_format: TimeFormat::Compact,
            datetime_separator: Separator(";"),
            level_of_detail: LevelOfDetail::Both,
            base_summary: true,
            single_quotes: false,
            xml_declaration: true,
            pending_polls: 1,
        }
    }
}

/// The body of `POST /__sim/ibkr/queries`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    pub user: String,
    pub output: Option<String>,
    pub sections: Option<Vec<String>>,
    pub date_format: Option<String>,
    pub time_format: Option<String>,
    pub datetime_separator: Option<String>,
    pub level_of_detail: Option<String>,
    pub base_summary: Option<bool>,
    pub single_quotes: Option<bool>,
    pub xml_declaration: Option<bool>,
    pub pending_polls: Option<u32>,
}

impl QuerySpec {
    /// The settings this spec asks for (defaults for what it leaves out), or what is wrong with it.
    pub fn options(&self) -> Result<QueryOptions, String> {
        let mut options = QueryOptions::default();
        if let Some(output) = &self.output {
            options.output = match output.as_str() {
                "xml" => Output::Xml,
                "csv" => Output::Csv,
                "text" => Output::Text,
                other => return Err(format!("output must be \"xml\", \"csv\" or \"text\", not {other:?}")),
            };
        }
        if let Some(names) = &self.sections {
            let mut sections = Vec::new();
            for name in names {
                let Some(section) = Section::ALL.into_iter().find(|s| s.name() == name) else {
                    return Err(format!(
                        "unknown section {name:?}; sections are {:?}",
                        Section::ALL.map(Section::name)
                    ));
                };
                if sections.contains(&section) {
                    return Err(format!("section {name:?} appears twice"));
                }
                sections.push(section);
            }
            if sections.is_empty() {
                return Err("sections must name at least one section".into());
            }
            options.sections = sections;
        }
        if let Some(name) = &self.date_format {
            let known = DateFormat::ALL.map(|(_, n)| n);
            options.date_format =
                DateFormat::parse(name).ok_or_else(|| format!("date_format must be one of {known:?}, not {name:?}"))?;
        }
        if let Some(name) = &self.time_format {
            options.time_format = TimeFormat::parse(name)
                .ok_or_else(|| format!("time_format must be \"HHmmss\" or \"HH:mm:ss\", not {name:?}"))?;
        }
        if let Some(text) = &self.datetime_separator {
            options.datetime_separator = Separator::parse(text)
                .ok_or_else(|| format!("datetime_separator must be \";\", \",\", \" \" or \"\", not {text:?}"))?;
        }
        if let Some(level) = &self.level_of_detail {
            options.level_of_detail = match level.as_str() {
                "summary" => LevelOfDetail::Summary,
                "lot" => LevelOfDetail::Lot,
                "both" => LevelOfDetail::Both,
                other => {
                    return Err(format!("level_of_detail must be \"summary\", \"lot\" or \"both\", not {other:?}"))
                }
            };
        }
        if let Some(polls) = self.pending_polls {
            if polls > MAX_PENDING_POLLS {
                return Err(format!("pending_polls must be between 0 and {MAX_PENDING_POLLS}"));
            }
            options.pending_polls = polls;
        }
        options.base_summary = self.base_summary.unwrap_or(options.base_summary);
        options.single_quotes = self.single_quotes.unwrap_or(options.single_quotes);
        options.xml_declaration = self.xml_declaration.unwrap_or(options.xml_declaration);
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(v: serde_json::Value) -> Result<QueryOptions, String> {
        serde_json::from_value::<QuerySpec>(v).map_err(|e| e.to_string())?.options()
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(options(json!({"user": "u"})).unwrap(), QueryOptions::default());
        let custom = options(json!({"user": "u", "output": "csv", "sections": ["Trades", "CashReport"],
            "date_format": "dd-MMM-yy", "time_format": "HH:mm:ss", "datetime_separator": "",
            "level_of_detail": "lot", "base_summary": false, "single_quotes": true, "xml_declaration": false,
            "pending_polls": 0}))
        .unwrap();
        assert_eq!(custom.output, Output::Csv);
        assert_eq!(custom.sections, [Section::Trades, Section::CashReport]);
        assert_eq!((custom.date_format, custom.time_format), (DateFormat::DayMonthName, TimeFormat::Colons));
        assert_eq!((custom.datetime_separator.as_str(), custom.level_of_detail), ("", LevelOfDetail::Lot));
        assert!(!custom.base_summary && custom.single_quotes && !custom.xml_declaration);
        assert_eq!(custom.pending_polls, 0);
    }

    #[test]
    fn rejects_what_a_template_cannot_say() {
        for bad in [
            json!({"user": "u", "output": "pdf"}),
            json!({"user": "u", "sections": []}),
            json!({"user": "u", "sections": ["Trades", "Trades"]}),
            json!({"user": "u", "sections": ["ChangeInNAV"]}),
            json!({"user": "u", "date_format": "yyyy/MM/dd"}),
            json!({"user": "u", "time_format": "HH:mm"}),
            json!({"user": "u", "datetime_separator": "T"}),
            json!({"user": "u", "level_of_detail": "execution"}),
            json!({"user": "u", "pending_polls": 21}),
            json!({"user": "u", "colour": "blue"}),
        ] {
            assert!(options(bad.clone()).is_err(), "{bad}");
        }
    }
}
