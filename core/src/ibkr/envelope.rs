//! The two answers of the Flex Web Service told apart and read: a `FlexStatementResponse`
//! envelope (SendRequest's reference code, or any error code of either endpoint) and, from
//! GetStatement, the statement itself.
//!
//! Rules, in the order they apply to a body:
//! 1. Over [`MAX_BODY_BYTES`] → `Malformed`, before any parsing.
//! 2. Not UTF-8, empty, an HTML page, or XML that does not parse (truncated, a DTD) → `Malformed`.
//!    A body that is neither XML nor HTML but reads as delimited text is a statement in CSV/Text:
//!    `Query(NotXml)` (only from GetStatement).
//! 3. `FlexStatementResponse` (element names matched case-insensitively): `Success` → the
//!    reference code (1–32 digits); `Warn`/`Fail` → the error of its `ErrorCode`
//!    ([`FlexError::from_code`]); any other status → `Malformed`.
//! 4. `FlexQueryResponse` → the statement ([`super::statement`]); any other root → `Malformed`.

use super::error::{FlexError, QueryProblem};
use super::statement::{self, Statement};
use roxmltree::{Document, Node, ParsingOptions};

/// The largest body read; anything longer is `Malformed` without being parsed.
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;
/// The most XML nodes one document may have (bounds memory on hostile input far above any
/// real statement's count at the size cap).
const MAX_NODES: u32 = 2_000_000;
const MAX_REFERENCE_DIGITS: usize = 32;

/// What a body turned out to be.
enum Body<'input> {
    Xml(Document<'input>),
    DelimitedText,
}

fn is_html(text: &str) -> bool {
    let head: String = text.chars().take(512).collect::<String>().to_ascii_lowercase();
    head.starts_with("<!doctype") || head.contains("<html") || head.contains("<head") || head.contains("<body")
}

/// Whether a non-XML body reads as a CSV or Text statement: printable lines with delimiters.
fn is_delimited_text(text: &str) -> bool {
    let printable = text.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    printable && !text.starts_with('<') && text.contains([',', '\t', '|', ';'])
}

fn open(body: &[u8]) -> Result<Body<'_>, FlexError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(FlexError::malformed(format!("the answer is larger than {MAX_BODY_BYTES} bytes")));
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| FlexError::malformed("the answer is not UTF-8 text"))?;
    let text = text.trim_start();
    if text.is_empty() {
        return Err(FlexError::malformed("the answer is empty"));
    }
    if is_html(text) {
        return Err(FlexError::malformed("an HTML page came back instead of a Flex answer (wrong URL or an outage)"));
    }
    if !text.starts_with('<') {
        return match is_delimited_text(text) {
            true => Ok(Body::DelimitedText),
            false => Err(FlexError::malformed("the answer is neither XML nor a Flex text statement")),
        };
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    Document::parse_with_options(text, options)
        .map(Body::Xml)
        .map_err(|e| FlexError::malformed(format!("the XML could not be read: {e}")))
}

fn named<'a, 'input>(parent: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    parent.children().find(|n| n.is_element() && n.tag_name().name().eq_ignore_ascii_case(name))
}

fn child_text<'a>(parent: Node<'a, '_>, name: &str) -> Option<&'a str> {
    named(parent, name).and_then(|n| n.text()).map(str::trim).filter(|t| !t.is_empty())
}

/// Reads a `FlexStatementResponse`: `Ok(reference)` for Success, the error otherwise.
fn envelope(root: Node<'_, '_>) -> Result<String, FlexError> {
    let status = child_text(root, "Status").unwrap_or_default();
    if status.eq_ignore_ascii_case("Success") {
        let reference = child_text(root, "ReferenceCode").unwrap_or_default();
        let valid =
            (1..=MAX_REFERENCE_DIGITS).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_digit());
        return match valid {
            true => Ok(reference.to_owned()),
            false => Err(FlexError::malformed("a Success answer without a numeric ReferenceCode")),
        };
    }
    if !(status.eq_ignore_ascii_case("Warn") || status.eq_ignore_ascii_case("Fail")) {
        return Err(FlexError::malformed("a FlexStatementResponse whose Status is not Success, Warn or Fail"));
    }
    let code = child_text(root, "ErrorCode").filter(|c| c.len() <= 5).and_then(|c| c.parse::<u16>().ok());
    Err(code.map_or_else(
        || FlexError::malformed(format!("a {status} answer without a numeric ErrorCode")),
        FlexError::from_code,
    ))
}

fn is_root(node: Node<'_, '_>, name: &str) -> bool {
    node.tag_name().name().eq_ignore_ascii_case(name)
}

/// Parses a SendRequest answer (a `FlexStatementResponse`; element names matched
/// case-insensitively, `Url`/`url` alike and ignored): Success → the numeric ReferenceCode
/// (1..=32 digits); Warn/Fail → the [`FlexError`] of its code; anything else (HTML, empty, CSV,
/// another document) → `Malformed`.
pub fn parse_send_response(body: &[u8]) -> Result<String, FlexError> {
    match open(body)? {
        Body::Xml(doc) if is_root(doc.root_element(), "FlexStatementResponse") => envelope(doc.root_element()),
        Body::Xml(_) => Err(FlexError::malformed("the answer to SendRequest is not a FlexStatementResponse")),
        Body::DelimitedText => Err(FlexError::malformed("the answer to SendRequest is text, not XML")),
    }
}

/// Reads a GetStatement answer fetched at `fetched_at` (unix s) for connection `connection_id`:
/// a `FlexStatementResponse` envelope → its [`FlexError`] (1019 → `Wait`); a `FlexQueryResponse`
/// → the parsed [`Statement`]; a body that is neither but looks like CSV/text →
/// `FlexError::Query(QueryProblem::NotXml)`; HTML or garbage → `Malformed`.
pub fn read_statement(body: &[u8], connection_id: &str, fetched_at: i64) -> Result<Statement, FlexError> {
    let doc = match open(body)? {
        Body::Xml(doc) => doc,
        Body::DelimitedText => return Err(FlexError::Query(QueryProblem::NotXml)),
    };
    let root = doc.root_element();
    if is_root(root, "FlexStatementResponse") {
        return Err(match envelope(root) {
            Ok(_) => FlexError::malformed("a SendRequest answer came back where a statement was expected"),
            Err(error) => error,
        });
    }
    if !is_root(root, "FlexQueryResponse") {
        return Err(FlexError::malformed(format!("the root element is <{}>, not FlexQueryResponse", short_name(root))));
    }
    statement::read(&doc, connection_id, fetched_at)
}

fn short_name(node: Node<'_, '_>) -> String {
    node.tag_name().name().chars().take(40).collect()
}
