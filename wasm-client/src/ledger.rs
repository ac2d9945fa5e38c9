//! The ledger through `TributaryClient`: `transactions` reads every page of `GET
//! /api/transactions` for the filters (following `next_cursor`, at most [`MAX_PAGES`] pages) into
//! one answer with exact totals per currency; `transactionsCsv` downloads `GET
//! /api/transactions.csv` with the same filters (it needs the session's bearer token, so a plain
//! link cannot fetch it); `syncTransactions` and `reconciliation` pass the worker's answers on.
//!
//! Filters are checked by the core's own query rules before anything is sent (the worker's codes:
//! `invalid_date`, `date_range_inverted`, `date_range_too_long`, `unknown_transaction_type`,
//! `invalid_account`); what depends on the user's "today" (the default window, the five-year
//! bound when `to` is left out) is the worker's to decide. Rows are passed on exactly as the
//! worker wrote them: decimals stay strings.

use crate::boundary::parse_js;
use crate::client::{promise, rejected, TributaryClient};
use crate::error::ClientError;
use crate::http::Api;
use crate::js::{self, get};
use crate::options;
use js_sys::Promise;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeSet;
use std::future::Future;
use std::rc::Rc;
use tributary_core::client::ClientFailure;
use tributary_core::time::Date;
use tributary_core::transactions::query::{TransactionQuery, MAX_LIMIT};
use tributary_core::transactions::sync::PagingError;
use tributary_core::transactions::totals::{totals, CashEffect, CurrencyActivity};
use tributary_core::url::encode_query;
use tributary_core::{ErrorCode, Provider};
use wasm_bindgen::prelude::*;

/// The most pages `transactions` follows before it stops with `transactions_too_many_pages`
/// (500 rows a page: half a million rows).
pub const MAX_PAGES: usize = 1000;
pub const TRANSACTIONS_PATH: &str = "/api/transactions";
pub const CSV_PATH: &str = "/api/transactions.csv";
pub const SYNC_PATH: &str = "/api/transactions/sync";
pub const RECONCILIATION_PATH: &str = "/api/transactions/reconciliation";
/// What a sync of only the announced providers answers when none is announced (no request made).
pub const NOTHING_TO_SYNC: &str = r#"{"results":[]}"#;

const FILTER_KEYS: [&str; 4] = ["from", "to", "account", "type"];

/// Checked ledger filters, as the query pairs to send (only those given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pairs: Vec<(&'static str, String)>,
}

impl Filters {
    /// Reads `{from?, to?, account?, type?}` (`type`: one name, a comma-separated list or an
    /// array); an empty string counts as left out. Refuses other keys (`invalid_input`).
    pub fn read(value: &JsValue) -> Result<Self, ClientError> {
        let object = options::object(value)?;
        if object.is_object() {
            let keys = js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>());
            if let Some(other) = keys.iter().filter_map(|k| k.as_string()).find(|k| !FILTER_KEYS.contains(&k.as_str()))
            {
                return Err(ClientError::invalid_input(format!(
                    "unknown filter {other:?}; expected from, to, account, type"
                )));
            }
        }
        let types = match get(object, "type").as_string() {
            Some(text) => Some(text),
            None => options::strings(object, "type")?.map(|names| names.join(",")),
        };
        let given = [
            ("from", options::string(object, "from")?),
            ("to", options::string(object, "to")?),
            ("account", options::string(object, "account")?),
            ("type", types),
        ];
        let pairs: Vec<(&'static str, String)> = given
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?.trim().to_owned())).filter(|(_, v)| !v.is_empty()))
            .collect();
        Self::check(&pairs)?;
        Ok(Self { pairs })
    }

    /// The core's query rules on what was given. "Today" only fills in a left-out `to`: taking
    /// `from` for it, the client never refuses a window the worker (on its own clock) would take.
    fn check(pairs: &[(&'static str, String)]) -> Result<(), ClientError> {
        let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        let now = Date::from_unix((js_sys::Date::now() / 1000.0) as i64);
        let today = value("from").and_then(Date::parse).unwrap_or(now);
        TransactionQuery::parse(pairs.iter().map(|(k, v)| (*k, v.as_str())), today)
            .map(|_| ())
            .map_err(|e| ClientError::from_core(&e))
    }

    /// `base` with the filters and `extra` pairs as its query string.
    pub fn path(&self, base: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = self.pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.extend_from_slice(extra);
        match pairs.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", encode_query(&pairs)),
        }
    }
}

/// One page as the worker answers it; rows and provider reports stay the worker's exact text.
#[derive(Deserialize)]
struct Page {
    from: String,
    to: String,
    transactions: Vec<Box<RawValue>>,
    next_cursor: Option<String>,
    providers: Box<RawValue>,
}

/// Every page's rows in one answer.
#[derive(Serialize)]
struct Ledger {
    from: String,
    to: String,
    transactions: Vec<Box<RawValue>>,
    providers: Box<RawValue>,
    totals: Vec<CurrencyActivity>,
}

fn not_a_page(status: u16, detail: impl std::fmt::Display) -> ClientError {
    ClientFailure::invalid_response(status, &format!("not a page of transactions: {detail}")).into()
}

/// Reads every page for `filters` (500 rows each) and answers the ledger's JSON text: the first
/// page's window and provider reports, every row in order, and the totals per currency.
pub async fn read_ledger(api: &Api, filters: &Filters) -> Result<String, ClientError> {
    let limit = MAX_LIMIT.to_string();
    let (mut rows, mut cursors, mut cursor) = (Vec::new(), BTreeSet::new(), None::<String>);
    let mut first: Option<(String, String, Box<RawValue>)> = None;
    for _ in 0..MAX_PAGES {
        let mut extra = vec![("limit", limit.as_str())];
        if let Some(cursor) = &cursor {
            extra.push(("cursor", cursor.as_str()));
        }
        let answer = api.send("GET", &filters.path(TRANSACTIONS_PATH, &extra), None).await?;
        let page: Page = serde_json::from_str(&answer.body).map_err(|e| not_a_page(answer.status, e))?;
        rows.extend(page.transactions);
        let (from, to, providers) = first.get_or_insert((page.from, page.to, page.providers)).clone();
        let Some(next) = page.next_cursor else {
            let effects = rows.iter().map(|row| serde_json::from_str::<CashEffect>(row.get()));
            let effects = effects.collect::<Result<Vec<_>, _>>().map_err(|e| not_a_page(answer.status, e))?;
            let totals = totals(effects).map_err(|e| not_a_page(answer.status, e))?;
            let ledger = Ledger { from, to, transactions: rows, providers, totals };
            return serde_json::to_string(&ledger).map_err(|e| ClientError::internal(format!("the ledger: {e}")));
        };
        if !cursors.insert(next.clone()) {
            return Err(not_a_page(answer.status, "the same next_cursor came twice"));
        }
        cursor = Some(next);
    }
    Err(ClientError::new(
        PagingError::TooManyPages.code(),
        format!("more than {MAX_PAGES} pages of transactions for these filters; narrow the dates, account or type"),
    ))
}

/// The body of `POST /api/transactions/sync`: the named providers, or every connected one.
pub fn sync_body(providers: Option<&[Provider]>) -> String {
    match providers {
        Some(providers) => serde_json::json!({ "providers": providers }).to_string(),
        None => "{}".to_owned(),
    }
}

/// The file name of `attachment; filename="…"`, when it is a plain one.
fn attachment_name(disposition: &str) -> Option<String> {
    let (_, rest) = disposition.split_once("filename=\"")?;
    let (name, _) = rest.split_once('"')?;
    let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    plain.then(|| name.to_owned())
}

/// A promise of `work` on the checked `filters`, rejected at once (nothing sent) when they are refused.
fn filtered<F>(api: Rc<Api>, filters: &JsValue, work: impl FnOnce(Rc<Api>, Filters) -> F) -> Promise
where
    F: Future<Output = Result<JsValue, ClientError>> + 'static,
{
    match Filters::read(filters) {
        Ok(filters) => promise(work(api, filters)),
        Err(error) => rejected(error),
    }
}

#[wasm_bindgen]
impl TributaryClient {
    /// Every transaction matching `filters` (`GET /api/transactions`, newest first, every page
    /// followed): `{from, to, transactions, providers, totals}` — `from`/`to` the window the API
    /// read (by default the last 90 days), `providers` each provider's sync and routing state as
    /// of the first page, `totals` the exact sums per currency. Decimals are strings. Throws the
    /// API's codes for bad filters before any request, and `transactions_too_many_pages` after
    /// 1,000 pages (500,000 rows).
    #[wasm_bindgen(unchecked_return_type = "Promise<TransactionList>")]
    pub fn transactions(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TransactionFilters")] filters: JsValue,
    ) -> Promise {
        filtered(self.api(), &filters, |api, filters| async move { parse_js(&read_ledger(&api, &filters).await?) })
    }

    /// The same filters as CSV (`GET /api/transactions.csv`, every row, at most 50,000):
    /// `{filename, csv}` — the file name the API gave (or `transactions.csv` when it cannot be
    /// read) and the RFC 4180 text, header first. Fetched with the session token, so an app offers
    /// it as a download itself (`new Blob([csv], {type: "text/csv"})`).
    #[wasm_bindgen(js_name = transactionsCsv, unchecked_return_type = "Promise<TransactionsCsv>")]
    pub fn transactions_csv(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TransactionFilters")] filters: JsValue,
    ) -> Promise {
        filtered(self.api(), &filters, |api, filters| async move {
            let answer = api.send("GET", &filters.path(CSV_PATH, &[]), None).await?;
            let filename =
                answer.disposition.as_deref().and_then(attachment_name).unwrap_or_else(|| "transactions.csv".into());
            Ok(js::object(&[("filename", JsValue::from_str(&filename)), ("csv", JsValue::from_str(&answer.body))]))
        })
    }

    /// Reads new activity from the providers (`POST /api/transactions/sync`; fetch-only, never
    /// billed): the named `providers`, or every connected one. Resolves each provider's result
    /// (`ok`, `partial`, `failed`, `not_ready`, …); throws status 429 with `retryAfter` within
    /// the sync cooldown, never retried.
    #[wasm_bindgen(js_name = syncTransactions, unchecked_return_type = "Promise<SyncResult>")]
    pub fn sync_transactions(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SyncOptions")] options: JsValue,
    ) -> Promise {
        let read = || -> Result<Option<Vec<Provider>>, ClientError> {
            let names = options::strings(options::object(&options)?, "providers")?;
            let parse = |names: Vec<String>| names.iter().map(|n| Provider::parse(n)).collect::<Result<Vec<_>, _>>();
            names.map(parse).transpose().map_err(|e| ClientError::from_core(&e))
        };
        let providers = match read() {
            Ok(providers) => providers,
            Err(error) => return rejected(error),
        };
        let api = self.api();
        promise(async move { Ok(api.send_json("POST", SYNC_PATH, Some(&sync_body(providers.as_deref()))).await?) })
    }

    /// Where holdings and activity disagree (`GET /api/transactions/reconciliation`):
    /// `{mismatches}`, one per account and security whose quantity changed otherwise than its
    /// transactions say between the provider's last two holdings reads. Never fixed, only said.
    #[wasm_bindgen(unchecked_return_type = "Promise<Reconciliation>")]
    pub fn reconciliation(&self) -> Promise {
        let api = self.api();
        promise(async move {
            let answer = api.send_json("GET", RECONCILIATION_PATH, None).await?;
            match js_sys::Array::is_array(&get(&answer, "mismatches")) {
                true => Ok(answer),
                false => Err(ClientFailure::invalid_response(200, "no mismatches list").into()),
            }
        })
    }
}
