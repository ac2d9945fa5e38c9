//! SnapTrade's trading calls for the shared trading service: symbol search within the account,
//! order impact, force place with the attempt's `client_order_id`, the account's recent orders
//! (open ones included) and cancel — bodies and answers are the core's (`tributary_core::snaptrade`).

use super::snaptrade::{client, ensure_registered};
use crate::auth::Authenticated;
use crate::port::{TradeAccount, TradeCallError, TradingPort};
use crate::providers::snaptrade::SnapTradeUser;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use tributary_core::snaptrade::{
    cancel_body, impact_body, parse_impact, parse_order_list, parse_order_record, parse_symbols, place_body,
    symbol_search_body,
};
use tributary_core::trading::{BrokerImpact, OrderForm, OrderState, ProviderOrder, TradableSymbol};
use tributary_core::url::encode_component;
use worker::{Env, Method};

/// The SnapTrade adapter of the trading port.
pub struct SnapTradeTrading;

/// Sends one trading call for the session user.
#[allow(clippy::too_many_arguments)]
async fn call(
    env: &Env,
    session: &Authenticated,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
    body: Option<&Value>,
    operation: &'static str,
    brokerage: &str,
) -> Result<Value, TradeCallError> {
    let (user_id, secret, _) = ensure_registered(env, session).await.map_err(TradeCallError::Platform)?;
    let user = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    let client = client(session).map_err(TradeCallError::Platform)?;
    Ok(client.trade(&user, method, path, params, body, operation, brokerage).await?)
}

fn account_path(account: &TradeAccount<'_>, rest: &str) -> String {
    format!("/accounts/{}/{rest}", encode_component(account.account_id))
}

impl TradingPort for SnapTradeTrading {
    fn search_symbols<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        query: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<TradableSymbol>, TradeCallError>> {
        Box::pin(async move {
            let body = symbol_search_body(query);
            let path = account_path(&account, "symbols");
            let answer =
                call(env, session, Method::Post, &path, &[], Some(&body), "symbols", account.brokerage).await?;
            Ok(parse_symbols(&answer)?)
        })
    }

    fn preview<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        order: &'a OrderForm,
        symbol_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<BrokerImpact, TradeCallError>> {
        Box::pin(async move {
            let body = impact_body(order, account.account_id, symbol_id);
            let answer =
                call(env, session, Method::Post, "/trade/impact", &[], Some(&body), "impact", account.brokerage)
                    .await?;
            Ok(parse_impact(&answer)?.1)
        })
    }

    fn place<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        order: &'a OrderForm,
        symbol_id: &'a str,
        client_order_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<ProviderOrder, TradeCallError>> {
        Box::pin(async move {
            let body = place_body(order, account.account_id, symbol_id, client_order_id);
            let answer =
                call(env, session, Method::Post, "/trade/place", &[], Some(&body), "place", account.brokerage).await?;
            Ok(parse_order_record(&answer)?)
        })
    }

    fn recent_orders<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
    ) -> LocalBoxFuture<'a, Result<Vec<ProviderOrder>, TradeCallError>> {
        Box::pin(async move {
            // `only_executed` defaults to true: open orders are listed only when asked for.
            let path = account_path(&account, "recentOrders");
            let params = [("only_executed", "false")];
            let answer =
                call(env, session, Method::Get, &path, &params, None, "recent_orders", account.brokerage).await?;
            Ok(parse_order_list(&answer)?)
        })
    }

    fn cancel<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        brokerage_order_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<OrderState>, TradeCallError>> {
        Box::pin(async move {
            let body = cancel_body(brokerage_order_id);
            let path = account_path(&account, "trading/cancel");
            let answer = call(env, session, Method::Post, &path, &[], Some(&body), "cancel", account.brokerage).await?;
            let status = answer.get("raw_response").and_then(|r| r.get("status")).and_then(Value::as_str);
            Ok(status.map(OrderState::from_snaptrade))
        })
    }
}
