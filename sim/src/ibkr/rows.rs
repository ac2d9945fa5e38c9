//! The seed's typed data as Flex data rows: attribute-only elements whose values are strings,
//! every date and date-time written in the query's formats, `""` for a field with no value, and
//! decimals as plain normalised strings (`3010.5`, `-420`, `0`). Every row of one element has the
//! same attributes in the same order, so the CSV and text renderings can share one header.

use super::dates::{Date, DateFormat, Time, TimeFormat};
use super::model::{Account, CashBalance, CashFlows, CashTransaction, Instrument, Position, Trade};
use super::options::{LevelOfDetail, QueryOptions, Separator};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One data row: the element name and its attributes in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub element: &'static str,
    pub attrs: Vec<(&'static str, String)>,
}

/// How the query writes dates and date-times.
#[derive(Clone, Copy, Debug)]
pub struct Formats {
    pub date: DateFormat,
    pub time: TimeFormat,
    pub separator: Separator,
}

impl Formats {
    /// The formats of `options`.
    pub fn of(options: &QueryOptions) -> Self {
        Self { date: options.date_format, time: options.time_format, separator: options.datetime_separator }
    }

    /// A date.
    pub fn date(self, date: Date) -> String {
        self.date.write(date)
    }

    /// A date-time: date, separator, time.
    pub fn datetime(self, date: Date, time: Time) -> String {
        format!("{}{}{}", self.date.write(date), self.separator.as_str(), self.time.write(time))
    }
}

/// A decimal as IBKR writes it: normalised, `0` for zero.
pub fn number(value: Decimal) -> String {
    if value.is_zero() {
        "0".to_owned()
    } else {
        value.normalize().to_string()
    }
}

fn text(value: &str) -> String {
    value.to_owned()
}

/// The account's single `AccountInformation` element.
pub fn account_information(account: &Account, f: Formats) -> Row {
    let attrs = vec![
        ("accountId", account.id.clone()),
        ("acctAlias", String::new()),
        ("currency", text(account.currency)),
        ("name", text(account.name)),
        ("accountType", text("Individual")),
        ("customerType", text("Individual")),
        ("accountCapabilities", text(account.capabilities)),
        ("tradingPermissions", text(account.permissions)),
        ("dateOpened", f.date(account.date_opened)),
        ("dateFunded", f.date(account.date_funded)),
        ("dateClosed", String::new()),
        ("ibEntity", text(account.ib_entity)),
    ];
    Row { element: "AccountInformation", attrs }
}

fn cash_row(
    account: &Account,
    currency: &str,
    amounts: &[(&'static str, Decimal)],
    period: (Date, Date),
    f: Formats,
) -> Row {
    let mut attrs = vec![
        ("accountId", account.id.clone()),
        ("currency", text(currency)),
        ("fromDate", f.date(period.0)),
        ("toDate", f.date(period.1)),
    ];
    attrs.extend(amounts.iter().map(|(name, value)| (*name, number(*value))));
    Row { element: "CashReportCurrency", attrs }
}

/// Each currency's amounts over the period: its balance with the period's `flows` in it.
fn currency_amounts(cash: &[CashBalance], flows: &BTreeMap<String, CashFlows>) -> Vec<[(&'static str, Decimal); 13]> {
    let none = CashFlows::default();
    cash.iter().map(|balance| balance.amounts(flows.get(balance.currency).unwrap_or(&none))).collect()
}

/// The `BASE_SUMMARY` amounts: every currency's amount converted with its `fxRateToBase`, summed.
pub fn base_summary(cash: &[CashBalance], flows: &BTreeMap<String, CashFlows>) -> Vec<(&'static str, Decimal)> {
    let mut total: Vec<(&'static str, Decimal)> = Vec::new();
    for (balance, amounts) in cash.iter().zip(currency_amounts(cash, flows)) {
        for (i, (name, value)) in amounts.into_iter().enumerate() {
            let converted = value * balance.fx_rate_to_base;
            match total.get_mut(i) {
                Some((_, sum)) => *sum += converted,
                None => total.push((name, converted)),
            }
        }
    }
    total
}

/// The `CashReport` rows: `BASE_SUMMARY` first (when asked for), then one per currency, with the
/// period's `flows` (each currency's ending cash is fixed, its starting cash follows).
pub fn cash_report(
    account: &Account,
    period: (Date, Date),
    base: bool,
    flows: &BTreeMap<String, CashFlows>,
    f: Formats,
) -> Vec<Row> {
    let mut rows = Vec::new();
    if base {
        rows.push(cash_row(account, "BASE_SUMMARY", &base_summary(&account.cash, flows), period, f));
    }
    for (balance, amounts) in account.cash.iter().zip(currency_amounts(&account.cash, flows)) {
        rows.push(cash_row(account, balance.currency, &amounts, period, f));
    }
    rows
}

/// The identifying attributes every row about a security starts with.
fn security(account: &Account, instrument: &Instrument, fx: Decimal, f: Formats) -> Vec<(&'static str, String)> {
    let option = instrument.option.as_ref();
    let id_type = if instrument.isin.is_empty() { "" } else { "ISIN" };
    vec![
        ("accountId", account.id.clone()),
        ("acctAlias", String::new()),
        ("currency", text(&instrument.currency)),
        ("fxRateToBase", number(fx)),
        ("assetCategory", text(instrument.asset_category)),
        ("subCategory", text(instrument.sub_category)),
        ("symbol", text(&instrument.symbol)),
        ("description", text(&instrument.description)),
        ("conid", text(&instrument.conid)),
        ("securityID", text(&instrument.isin)),
        ("securityIDType", text(id_type)),
        ("cusip", text(&instrument.cusip)),
        ("isin", text(&instrument.isin)),
        ("listingExchange", text(&instrument.listing_exchange)),
        ("underlyingConid", option.map_or(String::new(), |o| text(o.underlying_conid))),
        ("underlyingSymbol", option.map_or(String::new(), |o| text(o.underlying_symbol))),
        ("multiplier", number(instrument.multiplier)),
        ("strike", option.map_or(String::new(), |o| number(o.strike))),
        ("expiry", option.map_or(String::new(), |o| f.date(o.expiry))),
        ("putCall", option.map_or(String::new(), |o| text(o.put_call))),
    ]
}

struct Holding {
    quantity: Decimal,
    cost_price: Decimal,
    cost_money: Decimal,
    opened: String,
    level: &'static str,
}

fn position_row(account: &Account, position: &Position, report_date: Date, held: Holding, f: Formats) -> Row {
    let value = position.value_of(held.quantity);
    let mut attrs = security(account, &position.instrument, position.fx_rate_to_base, f);
    attrs.extend([
        ("reportDate", f.date(report_date)),
        ("position", number(held.quantity)),
        ("markPrice", number(position.mark_price)),
        ("positionValue", number(value)),
        ("openPrice", number(held.cost_price)),
        ("costBasisPrice", number(held.cost_price)),
        ("costBasisMoney", number(held.cost_money)),
        ("fifoPnlUnrealized", number(value - held.cost_money)),
        ("side", text(if held.quantity.is_sign_negative() { "Short" } else { "Long" })),
        ("levelOfDetail", text(held.level)),
        ("openDateTime", held.opened.clone()),
        ("holdingPeriodDateTime", held.opened),
        ("code", String::new()),
    ]);
    Row { element: "OpenPosition", attrs }
}

/// The `OpenPositions` rows: per position its `SUMMARY` row and/or its `LOT` rows.
pub fn open_positions(account: &Account, report_date: Date, level: LevelOfDetail, f: Formats) -> Vec<Row> {
    let mut rows = Vec::new();
    for position in &account.positions {
        if level != LevelOfDetail::Lot {
            let summary = Holding {
                quantity: position.quantity(),
                cost_price: position.cost_basis_price(),
                cost_money: position.cost_basis_money(),
                opened: String::new(),
                level: "SUMMARY",
            };
            rows.push(position_row(account, position, report_date, summary, f));
        }
        if level != LevelOfDetail::Summary {
            for lot in &position.lots {
                let held = Holding {
                    quantity: lot.quantity,
                    cost_price: lot.cost_price,
                    cost_money: position.lot_cost(lot),
                    opened: f.datetime(lot.opened.0, lot.opened.1),
                    level: "LOT",
                };
                rows.push(position_row(account, position, report_date, held, f));
            }
        }
    }
    rows
}

/// Which row of the Trades section a [`Trade`] is written as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TradeLevel {
    /// The order's roll-up (`<Order levelOfDetail="ORDER">`): no execution ids of its own.
    Order,
    /// The execution itself (`<Trade levelOfDetail="EXECUTION">`).
    Execution,
    /// The lot a closing execution closed (`<Lot levelOfDetail="CLOSED_LOT">`), under the
    /// execution's ids.
    ClosedLot,
}

fn trade_row(account: &Account, trade: &Trade, level: TradeLevel, f: Formats) -> Row {
    let (element, detail) = match level {
        TradeLevel::Order => ("Order", "ORDER"),
        TradeLevel::Execution => ("Trade", "EXECUTION"),
        TradeLevel::ClosedLot => ("Lot", "CLOSED_LOT"),
    };
    let order = level == TradeLevel::Order;
    let own = |value: &String| if order { String::new() } else { value.clone() };
    let opened = match (level, trade.closed_lot) {
        (TradeLevel::ClosedLot, Some(((day, time), _))) => f.datetime(day, time),
        _ => String::new(),
    };
    let money = -trade.proceeds();
    let mut attrs = security(account, &trade.instrument, trade.fx_rate_to_base, f);
    attrs.extend([
        ("tradeID", own(&trade.trade_id)),
        ("transactionID", own(&trade.transaction_id)),
        ("ibExecID", if level == TradeLevel::Execution { trade.exec_id.clone() } else { String::new() }),
        ("ibOrderID", trade.order_id.clone()),
        ("reportDate", f.date(trade.date)),
        ("tradeDate", f.date(trade.date)),
        ("tradeTime", f.time.write(trade.time)),
        ("dateTime", f.datetime(trade.date, trade.time)),
        ("settleDateTarget", f.date(trade.settle)),
        ("transactionType", text("ExchTrade")),
        ("exchange", text(&trade.instrument.listing_exchange)),
        ("buySell", text(if trade.quantity.is_sign_negative() { "SELL" } else { "BUY" })),
        ("quantity", number(trade.quantity)),
        ("tradePrice", number(trade.price)),
        ("tradeMoney", number(money)),
        ("proceeds", number(trade.proceeds())),
        ("taxes", number(Decimal::ZERO)),
        ("ibCommission", number(trade.commission)),
        ("ibCommissionCurrency", text(&trade.instrument.currency)),
        ("netCash", number(trade.net_cash)),
        ("closePrice", number(trade.close_price)),
        ("openCloseIndicator", text(trade.open_close)),
        ("notes", String::new()),
        ("fifoPnlRealized", number(trade.fifo_pnl_realized)),
        ("openDateTime", opened),
        ("levelOfDetail", text(detail)),
        ("orderType", text(if trade.closed_lot.is_some() { "MKT" } else { "LMT" })),
        ("isAPIOrder", text("N")),
        ("orderTime", f.datetime(trade.date, trade.time)),
    ]);
    Row { element, attrs }
}

/// The `Trades` rows: per execution its order's `ORDER` roll-up, the `EXECUTION` itself and, when
/// it closed a lot, that `CLOSED_LOT` — all with the same attributes, so only executions count.
pub fn trades(account: &Account, trades: &[Trade], f: Formats) -> Vec<Row> {
    let mut rows = Vec::new();
    for trade in trades {
        rows.push(trade_row(account, trade, TradeLevel::Order, f));
        rows.push(trade_row(account, trade, TradeLevel::Execution, f));
        if trade.closed_lot.is_some() {
            rows.push(trade_row(account, trade, TradeLevel::ClosedLot, f));
        }
    }
    rows
}

/// The `CashTransactions` rows (level of detail `DETAIL`).
pub fn cash_transactions(account: &Account, cash: &[CashTransaction], f: Formats) -> Vec<Row> {
    cash.iter()
        .map(|cash| {
            let security = cash.instrument.as_ref();
            let field = |pick: fn(&Instrument) -> &String| security.map_or(String::new(), |i| pick(i).clone());
            let attrs = vec![
                ("accountId", account.id.clone()),
                ("acctAlias", String::new()),
                ("currency", text(&cash.currency)),
                ("fxRateToBase", number(cash.fx_rate_to_base)),
                ("assetCategory", text(security.map_or("CASH", |i| i.asset_category))),
                ("symbol", field(|i| &i.symbol)),
                ("description", text(&cash.description)),
                ("conid", field(|i| &i.conid)),
                ("securityID", field(|i| &i.isin)),
                ("securityIDType", security.filter(|i| !i.isin.is_empty()).map_or(String::new(), |_| text("ISIN"))),
                ("cusip", field(|i| &i.cusip)),
                ("isin", field(|i| &i.isin)),
                ("dateTime", cash.time.map_or_else(|| f.date(cash.date), |t| f.datetime(cash.date, t))),
                ("settleDate", f.date(cash.date)),
                ("reportDate", f.date(cash.date)),
                ("amount", number(cash.amount)),
                ("type", text(cash.kind)),
                ("tradeID", String::new()),
                ("code", String::new()),
                ("transactionID", cash.transaction_id.clone()),
                ("levelOfDetail", text("DETAIL")),
            ];
            Row { element: "CashTransaction", attrs }
        })
        .collect()
}
