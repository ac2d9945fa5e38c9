//! The ledger as CSV (`GET /api/transactions.csv`): a header row, one line per transaction, ISO
//! dates, exact decimals as the API writes them, RFC 4180 quoting — and text a provider wrote
//! that a spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`) is prefixed with `'`.

use super::Transaction;

/// The CSV header, in column order.
pub const CSV_HEADER: [&str; 17] = [
    "id",
    "trade_date",
    "settlement_date",
    "provider",
    "institution",
    "account_id",
    "type",
    "provider_type",
    "security_key",
    "ticker",
    "security_name",
    "quantity",
    "price",
    "amount",
    "fees",
    "currency",
    "description",
];

fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// Text a provider wrote, made inert for spreadsheets.
fn text(field: Option<&str>) -> String {
    let field = field.unwrap_or("");
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_owned()
    }
}

/// One CSV line (no line break) for `tx`.
pub fn csv_line(tx: &Transaction) -> String {
    let decimal = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    let security = tx.security.as_ref();
    let fields = [
        tx.id.clone(),
        tx.trade_date.to_string(),
        tx.settlement_date.map(|d| d.to_string()).unwrap_or_default(),
        tx.provider.as_str().to_owned(),
        tx.institution.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default(),
        text(Some(&tx.account_id)),
        tx.kind.as_str().to_owned(),
        text(Some(&tx.provider_type)),
        text(security.map(|s| s.security_key.as_str())),
        text(security.and_then(|s| s.ticker.as_deref())),
        text(security.and_then(|s| s.name.as_deref())),
        decimal(tx.quantity),
        decimal(tx.price),
        decimal(tx.amount),
        decimal(tx.fees),
        tx.currency.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default(),
        text(tx.description.as_deref()),
    ];
    fields.iter().map(|f| quoted(f)).collect::<Vec<_>>().join(",")
}

/// The header line followed by one line per transaction, each ended by CRLF (RFC 4180).
pub fn to_csv(transactions: &[Transaction]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for tx in transactions {
        out.push_str(&csv_line(tx));
        out.push_str("\r\n");
    }
    out
}
