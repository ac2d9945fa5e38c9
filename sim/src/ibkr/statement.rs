//! Renders an Activity Flex statement (`FlexQueryResponse type="AF"`) for one user, report date,
//! period and query: one `FlexStatement` per account, the query's sections in the query's order
//! (unselected ones omitted, empty ones as `<Trades />`), or the same rows as CSV (a quoted header
//! line per section, then its rows) or pipe-delimited text when the query's output says so.
//! `Trades`, `CashTransactions` and the flows of `CashReport` are the user's ledger rows dated in
//! the period ([`super::activity`]).
//!
//! Rendering is a pure function of its inputs, so a reference code's statement is generated once,
//! stored, and served byte for byte on every retrieval.

use super::activity::{self, Activity};
use super::dates::{Date, Time};
use super::flex::{XmlStyle, XML_CONTENT_TYPE};
use super::model::Account;
use super::options::{Output, QueryOptions, Section};
use super::rows::{self, Formats, Row};
use super::seed;
use crate::ledger::Ledger;

/// The content type of a CSV statement.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
/// The content type of a text statement.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The span a statement covers and the `period` name it reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    /// `LastBusinessDay` (the template's own period), `LastNCalendarDays` (a `p` override) or
    /// `""` (an `fd`/`td` override).
    pub name: &'static str,
}

/// Everything a statement depends on.
#[derive(Clone, Debug)]
pub struct StatementRequest<'a> {
    pub account_ids: &'a [String; 2],
    pub query_name: &'a str,
    pub report_date: Date,
    pub period: Period,
    pub options: &'a QueryOptions,
    /// `whenGenerated`, US Eastern wall clock.
    pub generated_at: (Date, Time),
    /// The user's transactions, by account id.
    pub ledger: &'a Ledger,
}

/// A generated statement: the exact bytes served and their content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub body: String,
    pub content_type: &'static str,
}

/// One account's holdings and what it did over the period.
type Book = (Account, Activity);

/// One section of one account: the container (none for `AccountInformation`) and its rows.
fn section_rows(section: Section, (account, activity): &Book, request: &StatementRequest) -> Vec<Row> {
    let f = Formats::of(request.options);
    let (report_date, period) = (request.report_date, (request.period.from, request.period.to));
    match section {
        Section::AccountInformation => vec![rows::account_information(account, f)],
        Section::OpenPositions => rows::open_positions(account, report_date, request.options.level_of_detail, f),
        Section::CashReport => rows::cash_report(account, period, request.options.base_summary, &activity.flows, f),
        Section::Trades => rows::trades(account, &activity.trades, f),
        Section::CashTransactions => rows::cash_transactions(account, &activity.cash, f),
    }
}

/// Renders the statement `request` describes.
pub fn render(request: &StatementRequest) -> Statement {
    let (from, to) = (request.period.from, request.period.to);
    let accounts = seed::accounts(request.account_ids, request.report_date).map(|account| {
        let activity = activity::of_period(&account, request.ledger.rows(&account.id), from, to);
        (account, activity)
    });
    match request.options.output {
        Output::Xml => Statement { body: xml(request, &accounts), content_type: XML_CONTENT_TYPE },
        Output::Csv => Statement { body: delimited(request, &accounts, csv_line), content_type: CSV_CONTENT_TYPE },
        Output::Text => Statement { body: delimited(request, &accounts, text_line), content_type: TEXT_CONTENT_TYPE },
    }
}

fn element(out: &mut String, style: XmlStyle, indent: &str, row: &Row) {
    out.push_str(indent);
    out.push('<');
    out.push_str(row.element);
    for (name, value) in &row.attrs {
        style.attr(out, name, value);
    }
    out.push_str(" />\n");
}

fn xml(request: &StatementRequest, accounts: &[Book; 2]) -> String {
    let options = request.options;
    let style = XmlStyle { single_quotes: options.single_quotes, declaration: options.xml_declaration };
    let f = Formats::of(options);
    let mut out = String::from(style.prologue());
    out.push_str("<FlexQueryResponse");
    style.attr(&mut out, "queryName", request.query_name);
    style.attr(&mut out, "type", "AF");
    out.push_str(">\n  <FlexStatements");
    style.attr(&mut out, "count", &accounts.len().to_string());
    out.push_str(">\n");
    for book in accounts {
        let account = &book.0;
        out.push_str("    <FlexStatement");
        style.attr(&mut out, "accountId", &account.id);
        style.attr(&mut out, "fromDate", &f.date(request.period.from));
        style.attr(&mut out, "toDate", &f.date(request.period.to));
        style.attr(&mut out, "period", request.period.name);
        style.attr(&mut out, "whenGenerated", &f.datetime(request.generated_at.0, request.generated_at.1));
        out.push_str(">\n");
        for section in &options.sections {
            let rows = section_rows(*section, book, request);
            if *section == Section::AccountInformation {
                rows.iter().for_each(|row| element(&mut out, style, "      ", row));
            } else if rows.is_empty() {
                out.push_str(&format!("      <{} />\n", section.name()));
            } else {
                out.push_str(&format!("      <{}>\n", section.name()));
                rows.iter().for_each(|row| element(&mut out, style, "        ", row));
                out.push_str(&format!("      </{}>\n", section.name()));
            }
        }
        out.push_str("    </FlexStatement>\n");
    }
    out.push_str("  </FlexStatements>\n</FlexQueryResponse>\n");
    out
}

/// The CSV column name of an attribute: IBKR's names for the account, currency and asset class
/// columns, the attribute with a capital first letter otherwise (`symbol` → `Symbol`).
pub fn column_name(attr: &str) -> String {
    match attr {
        "accountId" => "ClientAccountID".to_owned(),
        "currency" => "CurrencyPrimary".to_owned(),
        "assetCategory" => "AssetClass".to_owned(),
        other => {
            let mut chars = other.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        }
    }
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
    quoted.join(",") + "\n"
}

fn text_line(fields: &[String]) -> String {
    fields.join("|") + "\n"
}

/// Each selected section: one header line, then that section's rows of every account.
fn delimited(request: &StatementRequest, accounts: &[Book; 2], line: fn(&[String]) -> String) -> String {
    let mut out = String::new();
    for section in &request.options.sections {
        let rows: Vec<Row> = accounts.iter().flat_map(|a| section_rows(*section, a, request)).collect();
        let header = rows.first().map(|r| r.attrs.iter().map(|(name, _)| column_name(name)).collect::<Vec<_>>());
        if let Some(header) = header {
            out.push_str(&line(&header));
        }
        for row in &rows {
            out.push_str(&line(&row.attrs.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ibkr::history::seeded_ledger;
    use crate::ibkr::options::LevelOfDetail;

    fn request<'a>(options: &'a QueryOptions, ids: &'a [String; 2], ledger: &'a Ledger) -> StatementRequest<'a> {
        let day = seed::base_date();
        StatementRequest {
            account_ids: ids,
            query_name: "Activity",
            report_date: day,
            period: Period { from: day, to: day, name: "LastBusinessDay" },
            options,
            generated_at: (day.add_days(1), Time::hms(9, 15, 42)),
            ledger,
        }
    }

    #[test]
    fn xml_has_one_statement_per_account_and_the_selected_sections_in_order() {
        let ids = ["U1000001".to_owned(), "U1000002".to_owned()];
        let ledger = seeded_ledger(&ids);
        let options = QueryOptions::default();
        let body = render(&request(&options, &ids, &ledger)).body;
        assert!(body.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FlexQueryResponse queryName=\"Activity\" type=\"AF\">"
        ));
        assert!(body.contains("<FlexStatements count=\"2\">"));
        assert!(body.contains("<FlexStatement accountId=\"U1000001\" fromDate=\"20260313\" toDate=\"20260313\" period=\"LastBusinessDay\" whenGenerated=\"20260314;091542\">"));
        assert!(body.contains("      <Trades />\n"), "account 2 has no trades");
        assert!(body.contains("SYNTH S&amp;P/TSX 60 INDEX ETF") && body.contains("Deposits &amp; Withdrawals"));
        let order: Vec<usize> =
            ["<AccountInformation ", "<OpenPositions>", "<CashReport>", "<Trades>", "<CashTransactions>"]
                .iter()
                .map(|s| body.find(s).unwrap())
                .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

        let only = QueryOptions {
            sections: vec![Section::CashReport, Section::AccountInformation],
            level_of_detail: LevelOfDetail::Lot,
            ..QueryOptions::default()
        };
        let body = render(&request(&only, &ids, &ledger)).body;
        assert!(!body.contains("OpenPosition") && !body.contains("<Trades"));
        assert!(body.find("<CashReport>").unwrap() < body.find("<AccountInformation ").unwrap());
    }

    #[test]
    fn csv_and_text_carry_the_rows_without_xml() {
        let ids = ["U1000001".to_owned(), "U1000002".to_owned()];
        let ledger = seeded_ledger(&ids);
        let csv =
            QueryOptions { output: Output::Csv, sections: vec![Section::OpenPositions], ..QueryOptions::default() };
        let statement = render(&request(&csv, &ids, &ledger));
        assert_eq!(statement.content_type, CSV_CONTENT_TYPE);
        let mut lines = statement.body.lines();
        assert!(lines.next().unwrap().starts_with("\"ClientAccountID\",\"AcctAlias\",\"CurrencyPrimary\",\"FxRateToBase\",\"AssetClass\",\"SubCategory\",\"Symbol\""));
        assert_eq!(lines.count(), (4 + 6) + (2 + 3), "SUMMARY and LOT rows of both accounts");
        assert!(!statement.body.contains("FlexQueryResponse"));
        let text = QueryOptions { output: Output::Text, ..QueryOptions::default() };
        let statement = render(&request(&text, &ids, &ledger));
        assert!(statement.body.lines().next().unwrap().starts_with("ClientAccountID|AcctAlias|CurrencyPrimary|Name|"));
        assert!(!statement.body.contains("FlexQueryResponse"));
    }
}
