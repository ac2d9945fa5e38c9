//! Schwab direct's trading calls for the shared trading service, through the Trader API's order
//! endpoints with the connection's access token: symbols from the account's cached holdings (the
//! Trader API has no instrument search), `previewOrder`, a place sent once (its order id read
//! from `Location`, then the order read back), the account's orders of the last 60 days, and
//! cancel. Bodies and answers are the core's (`tributary_core::schwab::orders`).

use super::schwab::{client, usable_token};
use crate::auth::Authenticated;
use crate::port::{TradeAccount, TradeCallError, TradingPort};
use crate::providers::schwab::SchwabClient;
use crate::providers::Answer;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use tributary_core::provider_error::ProviderError;
use tributary_core::schwab::orders::{
    order_body, order_id_from_location, orders_query, parse_order, parse_orders, parse_preview, symbol_candidates,
};
use tributary_core::trading::{BrokerImpact, OrderForm, OrderState, ProviderOrder, TradableSymbol};
use tributary_core::url::encode_component;
use tributary_core::Provider;
use worker::{Env, Method};

const P: Provider = Provider::Schwab;

/// The Schwab direct adapter of the trading port.
pub struct SchwabTrading;

/// `/accounts/{hash}{rest}`.
fn account_path(account: &TradeAccount<'_>, rest: &str) -> String {
    format!("/accounts/{}{rest}", encode_component(account.account_id))
}

/// Sends one trading call with a usable access token. A call that changes nothing at the broker
/// (`repeatable`: a read or a preview) refused with 401 gets a refreshed token and is sent once
/// more; an order write never is (the refusal is its answer).
async fn call(
    env: &Env,
    session: &Authenticated,
    method: Method,
    path: &str,
    body: Option<&Value>,
    operation: &'static str,
    repeatable: bool,
) -> Result<Answer, TradeCallError> {
    let client: SchwabClient<'_> = client(session).map_err(TradeCallError::Platform)?;
    let (access, expires_at) = token(env, session, &client, None).await?;
    match client.trade(method.clone(), path, body, &access, operation).await {
        Err(ProviderError::Auth { .. }) if repeatable => {
            let (access, _) = token(env, session, &client, Some(expires_at)).await?;
            Ok(client.trade(method, path, body, &access, operation).await?)
        }
        answer => Ok(answer?),
    }
}

/// A usable access token and its expiry; a user without a Schwab grant must connect (again).
async fn token(
    env: &Env,
    session: &Authenticated,
    client: &SchwabClient<'_>,
    spent: Option<i64>,
) -> Result<(String, i64), TradeCallError> {
    let (access, _, expires_at) = usable_token(env, session, client, spent)
        .await
        .map_err(TradeCallError::Platform)?
        .ok_or(TradeCallError::Provider(ProviderError::ReauthRequired { provider: P }))?;
    Ok((access, expires_at))
}

impl TradingPort for SchwabTrading {
    fn search_symbols<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        query: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<TradableSymbol>, TradeCallError>> {
        Box::pin(async move {
            let held = crate::store::holdings::read(env, &session.claims.user_id, P)
                .await
                .map_err(|e| TradeCallError::Platform(crate::api::ApiError::internal("read schwab holdings", e)))?;
            let positions: Vec<_> = held.positions.iter().filter(|p| p.account_id == account.account_id).collect();
            Ok(symbol_candidates(query, &positions))
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
            let body = order_body(order, symbol_id);
            let path = account_path(&account, "/previewOrder");
            let answer = call(env, session, Method::Post, &path, Some(&body), "preview_order", true).await?;
            Ok(parse_preview(&answer.body)?)
        })
    }

    fn place<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
        order: &'a OrderForm,
        symbol_id: &'a str,
        _client_order_id: &'a str,
    ) -> LocalBoxFuture<'a, Result<ProviderOrder, TradeCallError>> {
        Box::pin(async move {
            // Schwab takes no client order id: an unknown outcome is matched by instrument, side,
            // quantity and time (the core's `find_placed`).
            let body = order_body(order, symbol_id);
            let path = account_path(&account, "/orders");
            let answer = call(env, session, Method::Post, &path, Some(&body), "place_order", false).await?;
            let order_id = order_id_from_location(answer.location.as_deref())?;
            // The order exists: reading it back only adds its status. A failed read leaves it
            // open under its id, and the next refresh of orders brings its state.
            let detail = account_path(&account, &format!("/orders/{order_id}"));
            let read = call(env, session, Method::Get, &detail, None, "order", true).await;
            let read = read.ok().and_then(|a| parse_order(&a.body).ok());
            Ok(read.filter(|o| o.brokerage_order_id == order_id).unwrap_or_else(|| ProviderOrder {
                brokerage_order_id: order_id,
                client_order_id: None,
                symbol: Some(symbol_id.to_owned()),
                symbol_id: Some(symbol_id.to_owned()),
                action: Some(order.action),
                state: OrderState::Open,
                status: None,
                total_units: order.size.units(),
                filled_units: None,
                execution_price: None,
                placed_at: Some(session.now()),
            }))
        })
    }

    fn recent_orders<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        account: TradeAccount<'a>,
    ) -> LocalBoxFuture<'a, Result<Vec<ProviderOrder>, TradeCallError>> {
        Box::pin(async move {
            let query: Vec<String> =
                orders_query(session.now()).iter().map(|(k, v)| format!("{k}={}", encode_component(v))).collect();
            let path = account_path(&account, &format!("/orders?{}", query.join("&")));
            let answer = call(env, session, Method::Get, &path, None, "orders", true).await?;
            Ok(parse_orders(&answer.body)?)
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
            let path = account_path(&account, &format!("/orders/{}", encode_component(brokerage_order_id)));
            call(env, session, Method::Delete, &path, None, "cancel_order", false).await?;
            // A 200 says the cancel was accepted; the order itself says whether it is cancelled yet.
            let read = call(env, session, Method::Get, &path, None, "order", true).await;
            Ok(read.ok().and_then(|a| parse_order(&a.body).ok()).map(|o| o.state))
        })
    }
}
