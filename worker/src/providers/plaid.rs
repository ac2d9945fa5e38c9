//! The Plaid client: JSON POSTs with `PLAID-CLIENT-ID`/`PLAID-SECRET` headers (never in a body we
//! log), errors mapped by the core, and only idempotent reads retried.

use super::{send, Answer, Call};
use serde_json::{json, Value};
use std::time::Duration;
use tributary_core::config::ProviderConfig;
use tributary_core::plaid::{
    item_get_request, link_token_get_request, map_error, parse_item_get, parse_link_token_response,
    parse_verification_key_response, read_link_token_get, HostedLinkSession, ItemHealth, Jwk,
};
use tributary_core::provider_error::ProviderError;
use tributary_core::{InstitutionSlug, Provider};
use worker::Method;

const P: Provider = Provider::Plaid;

/// Calls Plaid for one deployment (client id + secret).
pub struct PlaidClient<'a> {
    config: &'a ProviderConfig,
    timeout: Duration,
    /// The institution this client's calls serve, when known (see [`PlaidClient::at`]).
    institution: Option<InstitutionSlug>,
}

/// How a call may be repeated and what it costs.
#[derive(Clone, Copy)]
enum Kind {
    /// Safe to retry (reads).
    Read,
    /// Never retried (creates, exchanges, removes).
    Once,
    /// Billed per call, never retried.
    Billed,
}

impl<'a> PlaidClient<'a> {
    pub fn new(config: &'a ProviderConfig, timeout: Duration) -> Self {
        Self { config, timeout, institution: None }
    }

    /// The same client, its calls counted as serving `institution` (an Item's, a link's).
    pub fn at(&self, institution: Option<&InstitutionSlug>) -> Self {
        Self { config: self.config, timeout: self.timeout, institution: institution.cloned() }
    }

    /// The call for `path`: credentials as headers, retried only when `kind` is a read.
    fn call(&self, path: &str, operation: &'static str, body: &Value, kind: Kind) -> Call<'static> {
        Call {
            provider: P,
            operation,
            method: Method::Post,
            url: format!("{}{path}", self.config.base_url),
            headers: vec![
                ("Content-Type", "application/json".to_owned()),
                ("PLAID-CLIENT-ID", self.config.client_id.clone()),
                ("PLAID-SECRET", self.config.secret.clone()),
            ],
            body: Some(body.to_string()),
            idempotent: matches!(kind, Kind::Read),
            billed: matches!(kind, Kind::Billed),
            timeout: self.timeout,
            institution: self.institution.clone(),
        }
    }

    async fn post(
        &self,
        path: &str,
        operation: &'static str,
        body: &Value,
        kind: Kind,
    ) -> Result<Vec<u8>, ProviderError> {
        let call = self.call(path, operation, body, kind);
        let classify =
            |answer: &Answer| (!(200..300).contains(&answer.status)).then(|| map_error(answer.status, &answer.body));
        let answer = send(&call, classify).await?;
        match classify(&answer) {
            Some(error) => Err(error),
            None => Ok(answer.body),
        }
    }

    async fn post_json(
        &self,
        path: &str,
        operation: &'static str,
        body: &Value,
        kind: Kind,
    ) -> Result<Value, ProviderError> {
        let bytes = self.post(path, operation, body, kind).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::Malformed { provider: P, detail: format!("{operation}: {e}") })
    }

    /// `/link/token/create` with a body from the core's `link_token_request`.
    pub async fn create_link_token(&self, body: &Value) -> Result<HostedLinkSession, ProviderError> {
        parse_link_token_response(&self.post("/link/token/create", "link_token_create", body, Kind::Once).await?)
    }

    /// `/link/token/get` → the public tokens the Link sessions of `link_token` produced (none when
    /// Plaid no longer knows it), read by the core. A free read, retried like one.
    pub async fn link_session_public_tokens(&self, link_token: &str) -> Result<Vec<String>, ProviderError> {
        let call = self.call("/link/token/get", "link_token_get", &link_token_get_request(link_token), Kind::Read);
        let read = |answer: &Answer| read_link_token_get(answer.status, &answer.body, link_token);
        let answer = send(&call, |answer| read(answer).err()).await?;
        read(&answer)
    }

    /// `/item/public_token/exchange` → `(access_token, item_id)`. Creates the (billed) Item.
    pub async fn exchange(&self, public_token: &str) -> Result<(String, String), ProviderError> {
        let body = json!({ "public_token": public_token });
        let answer =
            self.post_json("/item/public_token/exchange", "item_public_token_exchange", &body, Kind::Once).await?;
        let field = |k: &str| answer.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        match (field("access_token"), field("item_id")) {
            (Some(token), Some(item)) => Ok((token, item)),
            _ => Err(ProviderError::Malformed { provider: P, detail: "exchange: no access_token/item_id".into() }),
        }
    }

    /// `/investments/holdings/get` for one Item.
    pub async fn holdings(&self, access_token: &str) -> Result<Value, ProviderError> {
        let body = json!({ "access_token": access_token });
        self.post_json("/investments/holdings/get", "investments_holdings_get", &body, Kind::Read).await
    }

    /// `/investments/transactions/get` for one Item: one page of `[start, end]`, `count` rows from
    /// `offset` (a free read).
    pub async fn investment_transactions(
        &self,
        access_token: &str,
        start: &str,
        end: &str,
        count: u32,
        offset: u32,
    ) -> Result<Value, ProviderError> {
        let body = json!({
            "access_token": access_token, "start_date": start, "end_date": end,
            "options": {"count": count, "offset": offset},
        });
        self.post_json("/investments/transactions/get", "investments_transactions_get", &body, Kind::Read).await
    }

    /// `/investments/refresh` for one Item (a per-call fee).
    pub async fn refresh(&self, access_token: &str) -> Result<(), ProviderError> {
        let body = json!({ "access_token": access_token });
        self.post("/investments/refresh", "investments_refresh", &body, Kind::Billed).await.map(|_| ())
    }

    /// `/item/get` for the Item `item_id` of `access_token`: whether Plaid reports an error on it
    /// (read by the core). A free read, retried like one.
    pub async fn item_health(&self, access_token: &str, item_id: &str) -> Result<ItemHealth, ProviderError> {
        let body = item_get_request(access_token);
        parse_item_get(&self.post("/item/get", "item_get", &body, Kind::Read).await?, item_id)
    }

    /// `/item/remove`: ends the Item and its monthly subscription.
    pub async fn remove(&self, access_token: &str) -> Result<(), ProviderError> {
        let body = json!({ "access_token": access_token });
        self.post("/item/remove", "item_remove", &body, Kind::Once).await.map(|_| ())
    }

    /// `/webhook_verification_key/get` for `kid`, checked by the core.
    pub async fn verification_key(&self, kid: &str) -> Result<Jwk, ProviderError> {
        let body = tributary_core::plaid::verification_key_request(kid);
        parse_verification_key_response(
            &self.post("/webhook_verification_key/get", "webhook_verification_key_get", &body, Kind::Read).await?,
            kid,
        )
    }
}
