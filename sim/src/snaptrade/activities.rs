//! `GET /accounts/{accountId}/activities` (`AccountInformation_getAccountActivities`), answering
//! `PaginatedUniversalActivity` `{data: [AccountUniversalActivity…], pagination: {offset, limit,
//! total}}` from the account's [`crate::ledger`] rows, and the default history each account gets.
//!
//! Query: `startDate` / `endDate` (inclusive `YYYY-MM-DD`, on the trade date; default: no bound),
//! `offset` (default 0), `limit` (default and maximum 1000; larger values are capped to 1000 and
//! `pagination.limit` says so), `type` (CSV of activity types, case-insensitive). Rows are in
//! reverse chronological order by `trade_date`, ties newest-posted first; `total` counts every row
//! that matches the dates and types. A bad date, `offset`, `limit`, or `startDate` after `endDate`
//! answers 400 `invalid_request`. A disabled connection still answers (its last cached state).
//!
//! Rendering: `amount` is SnapTrade's "+ = cash in"; `units` is the signed position change (BUY,
//! SPLIT and EXTERNAL_ASSET_TRANSFER_IN positive; SELL and EXTERNAL_ASSET_TRANSFER_OUT negative; 0
//! for cash rows); `symbol` is a `Symbol` object whose `id` is the id of the matching
//! `positions/all` instrument (null for rows without a ticker); `option_symbol` and
//! `currency_universal_symbol` are null, `option_type` is `""`, `fx_rate` null; `trade_date` is
//! `YYYY-MM-DDT00:00:00Z`, or carries the time of day when known; trades settle the next business
//! day. Kinds map to types: buy `BUY`, sell `SELL`, dividend `DIVIDEND`, interest `INTEREST`, fee
//! `FEE`, tax `TAX`, deposit `CONTRIBUTION`, withdrawal `WITHDRAWAL`, split `SPLIT`, transfer_in
//! `EXTERNAL_ASSET_TRANSFER_IN`, transfer_out `EXTERNAL_ASSET_TRANSFER_OUT`.

use super::gate::Verified;
use super::seed::{seed_position, Brokerage, Kind as SeedKind, SeedAccount, SeedPosition};
use super::seed_json::{currency_json, instrument_json};
use super::{denied, ApiError};
use crate::ibkr::dates::Date;
use crate::ledger::history::{default_rows, Lot, Profile};
use crate::ledger::{number, Kind, Ledger, Row, Tx};
use crate::util::{rfc3339, stable_uuid};
use crate::{lock, Sim};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The most rows one request returns (and the default page size).
pub const MAX_LIMIT: usize = 1000;

/// The SnapTrade activity `type` of a ledger kind.
pub fn activity_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Buy => "BUY",
        Kind::Sell => "SELL",
        Kind::Dividend => "DIVIDEND",
        Kind::Interest => "INTEREST",
        Kind::Fee => "FEE",
        Kind::Tax => "TAX",
        Kind::Deposit => "CONTRIBUTION",
        Kind::Withdrawal => "WITHDRAWAL",
        Kind::Split => "SPLIT",
        Kind::TransferIn => "EXTERNAL_ASSET_TRANSFER_IN",
        Kind::TransferOut => "EXTERNAL_ASSET_TRANSFER_OUT",
    }
}

/// The id of activity `seq` of `account` under id version `version` (bumped by a reissue).
pub fn activity_id(account: &str, seq: u64, version: u32) -> String {
    stable_uuid(&format!("snaptrade-activity:{account}:{seq}:{version}"))
}

/// The history profile of seeded account `seed_index` of `brokerage` (tradable positions: not
/// options, not cash-equivalent, with a price; the first account of a connection gets the split).
pub fn profile(account_id: &str, brokerage: &'static Brokerage, seed_index: usize) -> Profile {
    let seed = &brokerage.accounts[seed_index % brokerage.accounts.len()];
    let tradable = |p: &&SeedPosition| !matches!(p.kind, SeedKind::Option { .. } | SeedKind::CashEquivalent);
    let lots = seed
        .positions
        .iter()
        .filter(tradable)
        .filter_map(|p| {
            let price: Decimal = p.price?.parse().ok()?;
            Some(Lot {
                symbol: p.symbol.to_owned(),
                currency: p.currency.to_owned(),
                units: p.units.parse().ok()?,
                price,
            })
        })
        .collect();
    let holds_cad =
        seed.balances.iter().any(|b| b.currency == "CAD") || seed.positions.iter().any(|p| p.currency == "CAD");
    Profile {
        account_id: account_id.to_owned(),
        currency: seed.currency.to_owned(),
        lots,
        split: seed_index.is_multiple_of(brokerage.accounts.len()),
        holds_cad,
    }
}

/// The unix second a row's date (and time of day) stands for.
fn unix_of(date: Date, time: Option<u32>) -> i64 {
    date.days_since(Date::from_days(0)) * 86_400 + i64::from(time.unwrap_or(0))
}

/// Gives `account_id` its default history once (see [`crate::ledger::history`]), dated back from
/// `created` (Unix seconds).
pub fn seed_history(
    ledger: &mut Ledger,
    account_id: &str,
    brokerage: &'static Brokerage,
    seed_index: usize,
    created: i64,
) {
    if ledger.has_account(account_id) {
        return;
    }
    ledger.open(account_id);
    let anchor = Date::from_days(created.div_euclid(86_400));
    let rows = default_rows(&profile(account_id, brokerage, seed_index), anchor);
    // Made ids are derived from the account id, so they never collide.
    let _ = ledger.append(account_id, rows.into_iter().map(|t| (None, t)).collect(), false, &activity_id);
}

/// The currency a row in `symbol` defaults to: the seeded position's, else the account's.
pub fn default_currency(seed: &'static SeedAccount, symbol: Option<&str>) -> String {
    symbol.and_then(|s| seed_position(Some(seed), s)).map_or(seed.currency, |p| p.currency).to_owned()
}

/// A `Symbol` object for `ticker` (from a seeded position when one exists, else a plain stock).
fn symbol_json(seed: &'static SeedAccount, ticker: &str, currency: &str) -> Value {
    let (kind, code, label, description, currency, mic) = match seed_position(Some(seed), ticker) {
        Some(p) => {
            let (kind, code, label) = match p.kind {
                SeedKind::Etf => ("etf", "et", "ETF"),
                SeedKind::MutualFund | SeedKind::CashEquivalent => ("mutualfund", "oef", "Open Ended Fund"),
                SeedKind::Crypto => ("crypto", "crypto", "Cryptocurrency"),
                _ => ("stock", "cs", "Common Stock"),
            };
            (kind, code, label, Some(p.description), p.currency, p.exchange)
        }
        None => ("stock", "cs", "Common Stock", None, currency, None),
    };
    let instrument = instrument_json(kind, ticker, description, currency, mic);
    let exchange = mic.map(|mic| {
        let code = match mic {
            "XNAS" => "NASDAQ",
            "ARCX" => "ARCA",
            "XTSE" => "TSX",
            other => other,
        };
        json!({"id": stable_uuid(&format!("exchange:{mic}")), "code": code, "mic_code": mic})
    });
    json!({
        "id": instrument["id"],
        "symbol": ticker,
        "raw_symbol": instrument["raw_symbol"],
        "description": description,
        "currency": currency_json(currency),
        "exchange": exchange,
        "type": {"id": stable_uuid(&format!("security-type:{code}")), "code": code, "description": label},
        "figi_code": null,
        "figi_instrument": null,
    })
}

/// One `AccountUniversalActivity` (see the module doc for the conventions).
pub fn activity_json(row: &Row, seed: &'static SeedAccount, institution: &str) -> Value {
    let tx: &Tx = &row.tx;
    json!({
        "id": row.id,
        "symbol": tx.symbol.as_deref().map(|s| symbol_json(seed, s, &tx.currency)),
        "currency_universal_symbol": null,
        "option_symbol": null,
        "price": number(tx.price),
        "units": number(tx.position_change()),
        "amount": number(tx.amount),
        "currency": currency_json(&tx.currency),
        "type": activity_type(tx.kind),
        "option_type": "",
        "description": tx.description(),
        "trade_date": rfc3339(unix_of(tx.date, tx.time)),
        "settlement_date": rfc3339(unix_of(tx.settlement_date(), None)),
        "fee": number(tx.fee.unwrap_or_default()),
        "fx_rate": null,
        "institution": institution,
        "external_reference_id": tx.external_reference_id,
    })
}

/// The checked query of one activities request.
#[derive(Debug, PartialEq, Eq)]
struct ActivityQuery {
    start: Option<Date>,
    end: Option<Date>,
    offset: usize,
    limit: usize,
    /// Upper-cased types to keep; `None` keeps every type.
    types: Option<Vec<String>>,
}

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_request", detail)
}

impl ActivityQuery {
    fn parse(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        let param = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let date = |k: &str| match param(k) {
            None => Ok(None),
            Some(v) => Date::parse_iso(v)
                .map(Some)
                .ok_or_else(|| bad_request(format!("{k} must be a date in YYYY-MM-DD format, not {v:?}."))),
        };
        let (start, end) = (date("startDate")?, date("endDate")?);
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                return Err(bad_request("startDate must not be after endDate."));
            }
        }
        let offset = match param("offset") {
            None => 0,
            Some(v) => v.parse::<usize>().map_err(|_| bad_request("offset must be an integer of at least 0."))?,
        };
        let limit = match param("limit") {
            None => MAX_LIMIT,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n >= 1 => (n.min(MAX_LIMIT as u64)) as usize,
                _ => return Err(bad_request("limit must be an integer of at least 1.")),
            },
        };
        let types = param("type").map(|csv| {
            csv.split(',').map(|t| t.trim().to_ascii_uppercase()).filter(|t| !t.is_empty()).collect::<Vec<_>>()
        });
        Ok(Self { start, end, offset, limit, types: types.filter(|t| !t.is_empty()) })
    }

    fn keeps(&self, tx: &Tx) -> bool {
        self.types.as_ref().is_none_or(|types| types.iter().any(|t| t == activity_type(tx.kind)))
    }
}

/// `GET /accounts/{accountId}/activities` → `PaginatedUniversalActivity` (see the module doc).
pub async fn activities(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let query = match ActivityQuery::parse(&params) {
        Ok(query) => query,
        Err(refusal) => return refusal.into_response(),
    };
    let state = lock(&sim.snaptrade);
    let view = match state.account(&v.user_id, &account_id) {
        Ok(view) => view,
        Err(why) => return denied(why),
    };
    let rows = state.activities.query(&[account_id.as_str()], query.start, query.end, &|tx| query.keeps(tx));
    let data: Vec<Value> = rows
        .iter()
        .skip(query.offset)
        .take(query.limit)
        .map(|(_, row)| activity_json(row, view.seed, view.brokerage.name))
        .collect();
    let pagination = json!({"offset": query.offset, "limit": query.limit, "total": rows.len()});
    Json(json!({ "data": data, "pagination": pagination })).into_response()
}

#[cfg(test)]
mod tests {
    use super::super::seed::brokerage;
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn queries_default_cap_and_refuse() {
        let q = ActivityQuery::parse(&params(&[])).unwrap();
        assert_eq!((q.offset, q.limit, q.types), (0, 1000, None));
        let q = ActivityQuery::parse(&params(&[("limit", "5000"), ("type", "buy, SELL,")])).unwrap();
        assert_eq!((q.limit, q.types), (1000, Some(vec!["BUY".to_owned(), "SELL".to_owned()])));
        for bad in [[("startDate", "2026-13-01")], [("endDate", "yesterday")], [("offset", "-1")], [("limit", "0")]] {
            assert_eq!(ActivityQuery::parse(&params(&bad)).unwrap_err().code, "invalid_request", "{bad:?}");
        }
        assert!(ActivityQuery::parse(&params(&[("startDate", "2026-02-02"), ("endDate", "2026-02-01")])).is_err());
    }

    #[test]
    fn every_seeded_account_gets_a_small_history_and_the_cad_dividend_is_in_cad() {
        let mut ledger = Ledger::default();
        let created = 1_780_000_000; // 2026-05-28
        for b in super::super::seed::BROKERAGES {
            for (i, _) in b.accounts.iter().enumerate() {
                let id = format!("{}-{i}", b.slug);
                seed_history(&mut ledger, &id, b, i, created);
                assert!((5..=12).contains(&ledger.len(&id)), "{id}: {}", ledger.len(&id));
            }
        }
        let ibkr = brokerage("IBKR").unwrap();
        let rows = ledger.query(&["IBKR-0"], None, None, &|_| true);
        let dividend = rows.iter().find(|(_, r)| r.tx.kind == Kind::Dividend).unwrap().1;
        let json = activity_json(dividend, &ibkr.accounts[0], ibkr.name);
        assert_eq!(
            (&json["currency"]["code"], &json["symbol"]["symbol"], &json["amount"]),
            (&json!("CAD"), &json!("SHOP.TO"), &json!(8.42))
        );
        let buy = rows.iter().find(|(_, r)| r.tx.kind == Kind::Buy).unwrap().1;
        let json = activity_json(buy, &ibkr.accounts[0], ibkr.name);
        assert!(json["amount"].as_f64().unwrap() < 0.0 && json["units"].as_f64().unwrap() > 0.0);
        assert_eq!(json["type"], "BUY");
        assert!(rows.iter().any(|(_, r)| r.tx.kind == Kind::Split));
    }
}
