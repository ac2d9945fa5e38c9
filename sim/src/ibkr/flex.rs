//! The Flex Web Service's wire vocabulary: the error codes with their verbatim messages (the
//! reference's table §2.4), XML attribute writing in either quote style, and the
//! `FlexStatementResponse` envelopes both endpoints answer with (always HTTP 200, `text/xml`).
//!
//! Status is `Warn` for 1018 (throttled) and 1019 (not ready yet) and `Fail` for every other code.

use super::dates::envelope_timestamp;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The XML declaration IBKR may put before a document, with its line break.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
/// The content type of every Flex XML answer.
pub const XML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// A Flex Web Service error code (1001 or 1003–1021; IBKR has no 1002).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlexCode(u16);

impl FlexCode {
    /// 1001: transient generation failure.
    pub const NOT_GENERATED: FlexCode = FlexCode(1001);
    /// 1003: the statement is not available.
    pub const NOT_AVAILABLE: FlexCode = FlexCode(1003);
    /// 1011: the service account is inactive.
    pub const INACTIVE: FlexCode = FlexCode(1011);
    /// 1012: the token has expired.
    pub const TOKEN_EXPIRED: FlexCode = FlexCode(1012);
    /// 1013: the token is bound to another IP address.
    pub const IP_RESTRICTION: FlexCode = FlexCode(1013);
    /// 1014: the query id is not one of the token's user's queries.
    pub const QUERY_INVALID: FlexCode = FlexCode(1014);
    /// 1015: the token is unknown or was replaced by a newer one.
    pub const TOKEN_INVALID: FlexCode = FlexCode(1015);
    /// 1017: the reference code is unknown or not the token's user's.
    pub const REFERENCE_INVALID: FlexCode = FlexCode(1017);
    /// 1018: too many requests from this token.
    pub const THROTTLED: FlexCode = FlexCode(1018);
    /// 1019: the statement is still being generated.
    pub const IN_PROGRESS: FlexCode = FlexCode(1019);
    /// 1020: the request is malformed (User-Agent, `v`, `fd`/`td`/`p`).
    pub const INVALID_REQUEST: FlexCode = FlexCode(1020);

    /// The code `n`, if IBKR defines it.
    pub fn new(n: u16) -> Option<FlexCode> {
        message(n).map(|_| FlexCode(n))
    }

    /// The numeric code.
    pub fn number(self) -> u16 {
        self.0
    }

    /// The verbatim `ErrorMessage`.
    pub fn message(self) -> &'static str {
        message(self.0).unwrap_or("")
    }

    /// `Warn` for 1018 and 1019, `Fail` otherwise.
    pub fn status(self) -> &'static str {
        if matches!(self.0, 1018 | 1019) {
            "Warn"
        } else {
            "Fail"
        }
    }
}

/// The verbatim message of Flex error code `n` (the reference's table §2.4), if IBKR defines it.
pub fn message(n: u16) -> Option<&'static str> {
    Some(match n {
        1001 => "Statement could not be generated at this time. Please try again shortly.",
        1003 => "Statement is not available.",
        1004 => "Statement is incomplete at this time. Please try again shortly.",
        1005 => "Settlement data is not ready at this time. Please try again shortly.",
        1006 => "FIFO P/L data is not ready at this time. Please try again shortly.",
        1007 => "MTM P/L data is not ready at this time. Please try again shortly.",
        1008 => "MTM and FIFO P/L data is not ready at this time. Please try again shortly.",
        1009 => {
            "The server is under heavy load. Statement could not be generated at this time. Please try again shortly."
        }
        1010 => "Legacy Flex Queries are no longer supported. Please convert over to Activity Flex.",
        1011 => "Service account is inactive.",
        1012 => "Token has expired.",
        1013 => "IP restriction.",
        1014 => "Query is invalid.",
        1015 => "Token is invalid.",
        1016 => "Account in invalid.",
        1017 => "Reference code is invalid.",
        1018 => "Too many requests have been made from this token. Please try again shortly.",
        1019 => "Statement generation in progress. Please try again shortly.",
        1020 => "Invalid request or unable to validate request.",
        1021 => "Statement could not be retrieved at this time. Please try again shortly.",
        _ => return None,
    })
}

/// How a document writes attributes and whether it starts with [`XML_DECLARATION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XmlStyle {
    /// `'…'` instead of `"…"` around attribute values.
    pub single_quotes: bool,
    /// Whether the document starts with the XML declaration.
    pub declaration: bool,
}

impl Default for XmlStyle {
    /// Double quotes, with the declaration.
    fn default() -> Self {
        Self { single_quotes: false, declaration: true }
    }
}

impl XmlStyle {
    /// Appends ` name="value"` (or `'value'`) to `out`, escaping `& < >` and the quote in use.
    pub fn attr(self, out: &mut String, name: &str, value: &str) {
        let quote = if self.single_quotes { '\'' } else { '"' };
        out.push(' ');
        out.push_str(name);
        out.push('=');
        out.push(quote);
        for c in value.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if !self.single_quotes => out.push_str("&quot;"),
                '\'' if self.single_quotes => out.push_str("&apos;"),
                c => out.push(c),
            }
        }
        out.push(quote);
    }

    /// The declaration line (with its newline) when this style has one, else nothing.
    pub fn prologue(self) -> &'static str {
        if self.declaration {
            XML_DECLARATION
        } else {
            ""
        }
    }

    fn envelope(self, unix: i64, children: &str) -> String {
        let mut out = String::from(self.prologue());
        out.push_str("<FlexStatementResponse");
        self.attr(&mut out, "timestamp", &envelope_timestamp(unix));
        out.push_str(">\n");
        out.push_str(children);
        out.push_str("</FlexStatementResponse>\n");
        out
    }

    /// A `FlexStatementResponse` for `code`: `<Status>`, `<ErrorCode>`, `<ErrorMessage>`.
    pub fn error_envelope(self, code: FlexCode, unix: i64) -> String {
        let children = format!(
            "<Status>{}</Status>\n<ErrorCode>{}</ErrorCode>\n<ErrorMessage>{}</ErrorMessage>\n",
            code.status(),
            code.number(),
            code.message()
        );
        self.envelope(unix, &children)
    }

    /// A successful SendRequest answer: `<Status>Success</Status>`, `<ReferenceCode>`, `<Url>`.
    pub fn success_envelope(self, reference_code: &str, url: &str, unix: i64) -> String {
        let url = url.replace('&', "&amp;").replace('<', "&lt;");
        let children =
            format!("<Status>Success</Status>\n<ReferenceCode>{reference_code}</ReferenceCode>\n<Url>{url}</Url>\n");
        self.envelope(unix, &children)
    }
}

/// An HTTP 200 answer with `body` as `content_type`.
pub fn ok(content_type: &'static str, body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The HTTP 200 `text/xml` error envelope for `code` in `style`, stamped now.
pub fn error_response(code: FlexCode, style: XmlStyle) -> Response {
    ok(XML_CONTENT_TYPE, style.error_envelope(code, crate::util::now_unix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_1001_and_1003_to_1021_with_warn_only_for_1018_and_1019() {
        let defined: Vec<u16> = (1000..=1022).filter(|n| FlexCode::new(*n).is_some()).collect();
        let expected: Vec<u16> = std::iter::once(1001).chain(1003..=1021).collect();
        assert_eq!(defined, expected);
        let warns: Vec<u16> = expected.iter().copied().filter(|n| FlexCode(*n).status() == "Warn").collect();
        assert_eq!(warns, [1018, 1019]);
        assert_eq!(FlexCode::TOKEN_EXPIRED.message(), "Token has expired.");
        assert_eq!(FlexCode::new(1016).unwrap().message(), "Account in invalid.", "IBKR's own typo");
    }

    #[test]
    fn envelopes_match_the_documented_shape() {
        let unix = crate::util::days_from_civil(2026, 3, 14) * 86_400 + 13 * 3600 + 15 * 60;
        let fail = XmlStyle::default().error_envelope(FlexCode::TOKEN_EXPIRED, unix);
        assert_eq!(
            fail,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <FlexStatementResponse timestamp=\"14 March, 2026 09:15 AM EDT\">\n<Status>Fail</Status>\n\
             <ErrorCode>1012</ErrorCode>\n<ErrorMessage>Token has expired.</ErrorMessage>\n</FlexStatementResponse>\n"
        );
        let single = XmlStyle { single_quotes: true, declaration: false };
        let warn = single.error_envelope(FlexCode::IN_PROGRESS, unix);
        assert!(
            warn.starts_with("<FlexStatementResponse timestamp='14 March, 2026 09:15 AM EDT'>\n<Status>Warn</Status>")
        );
        let ok = XmlStyle::default().success_envelope("1234567890", "http://127.0.0.1:1/x", unix);
        assert!(ok.contains(
            "<Status>Success</Status>\n<ReferenceCode>1234567890</ReferenceCode>\n<Url>http://127.0.0.1:1/x</Url>"
        ));
    }

    #[test]
    fn attributes_escape_markup_and_the_quote_in_use() {
        let mut double = String::new();
        XmlStyle::default().attr(&mut double, "d", "S&P <\"O'Neil\">");
        assert_eq!(double, " d=\"S&amp;P &lt;&quot;O'Neil&quot;&gt;\"");
        let mut single = String::new();
        XmlStyle { single_quotes: true, declaration: true }.attr(&mut single, "d", "O'Neil \"x\"");
        assert_eq!(single, " d='O&apos;Neil \"x\"'");
    }
}
