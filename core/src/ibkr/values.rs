//! Attribute values as Flex writes them (reference §3.2): null markers, exact decimals with
//! thousands separators and accounting-style negatives, and the row reader that names the
//! attribute in every error.

pub(crate) use super::dates::is_null;
use super::dates::SlashOrder;
use super::error::FlexError;
use roxmltree::Node;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Most characters of a bad value repeated in an error.
const MAX_VALUE_CHARS: usize = 40;

/// `1,234,567.5` without its separators, when they group the whole part in threes.
fn without_grouping(text: &str) -> Option<String> {
    if !text.contains(',') {
        return Some(text.to_owned());
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    let whole_end = unsigned.find(['.', 'e', 'E']).unwrap_or(unsigned.len());
    let mut groups = unsigned[..whole_end].split(',');
    let first = groups.next()?;
    let first_ok = (1..=3).contains(&first.len());
    (first_ok && groups.all(|g| g.len() == 3) && !unsigned[whole_end..].contains(',')).then(|| text.replace(',', ""))
}

/// An exact decimal from Flex text: `Ok(None)` for a null marker, `Err` when it is not a number.
/// `(12.50)` is −12.50; `1,234.5` is 1234.5; scientific notation is read exactly too.
pub(crate) fn parse_amount(raw: &str) -> Result<Option<Decimal>, ()> {
    let text = raw.trim();
    if is_null(text) {
        return Ok(None);
    }
    let (negated, inner) = match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, text),
    };
    let plain = without_grouping(inner).ok_or(())?;
    let well_formed = !plain.is_empty()
        && plain.bytes().any(|b| b.is_ascii_digit())
        && plain.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'));
    if !well_formed {
        return Err(());
    }
    let value = Decimal::from_str(&plain).or_else(|_| Decimal::from_scientific(&plain)).map_err(|_| ())?;
    match negated {
        false => Ok(Some(value)),
        true if value.is_sign_negative() => Err(()),
        true => Ok(Some(-value)),
    }
}

/// A value, shortened for an error message.
pub(crate) fn shown(value: &str) -> String {
    let short: String = value.chars().filter(|c| !c.is_control()).take(MAX_VALUE_CHARS).collect();
    if value.chars().count() > MAX_VALUE_CHARS {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

/// One data row (an element whose values are attributes), read with errors that name the row
/// kind and the attribute.
#[derive(Clone, Copy)]
pub(crate) struct Row<'a, 'input> {
    pub node: Node<'a, 'input>,
    /// The element name, for messages (`OpenPosition`).
    pub kind: &'static str,
    pub dates: SlashOrder,
}

impl<'a, 'input> Row<'a, 'input> {
    /// The attribute's trimmed text; `None` when absent or a null marker.
    pub fn text(&self, attribute: &str) -> Option<&'a str> {
        self.node.attribute(attribute).map(str::trim).filter(|t| !is_null(t))
    }

    fn bad(&self, attribute: &str, what: &str, value: &str) -> FlexError {
        FlexError::malformed(format!("{} {attribute} is not {what}: {}", self.kind, shown(value)))
    }

    /// A required attribute's text, or `Malformed` naming it.
    pub fn required_text(&self, attribute: &str) -> Result<&'a str, FlexError> {
        self.text(attribute).ok_or_else(|| FlexError::malformed(format!("{} has no {attribute}", self.kind)))
    }

    /// An optional exact decimal.
    pub fn decimal(&self, attribute: &str) -> Result<Option<Decimal>, FlexError> {
        let Some(raw) = self.node.attribute(attribute) else { return Ok(None) };
        parse_amount(raw).map_err(|()| self.bad(attribute, "a decimal number", raw))
    }

    /// A required exact decimal, or `Malformed` naming the attribute.
    pub fn required_decimal(&self, attribute: &str) -> Result<Decimal, FlexError> {
        self.decimal(attribute)?.ok_or_else(|| FlexError::malformed(format!("{} has no {attribute}", self.kind)))
    }

    /// An optional date (`yyyy-MM-dd` out).
    pub fn date(&self, attribute: &str) -> Result<Option<String>, FlexError> {
        let Some(raw) = self.node.attribute(attribute) else { return Ok(None) };
        self.dates.date(raw).map_err(|()| self.bad(attribute, "a date", raw))
    }

    /// An optional date or date-time (ISO out).
    pub fn date_time(&self, attribute: &str) -> Result<Option<String>, FlexError> {
        let Some(raw) = self.node.attribute(attribute) else { return Ok(None) };
        self.dates.date_time(raw).map_err(|()| self.bad(attribute, "a date-time", raw))
    }
}

/// The element children of `node` called `name` (exactly).
pub(crate) fn elements<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children().filter(move |n| n.is_element() && n.tag_name().name() == name)
}
