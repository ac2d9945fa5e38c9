//! The Schwab Trader API client: the OAuth token endpoint (client credentials in HTTP Basic, form
//! bodies built by the core) and authenticated reads under `/trader/v1`, answers mapped to typed
//! errors by the core. Reads are retried like every idempotent call; token calls never are.

use super::{send, Answer, Call};
use std::time::Duration;
use tributary_core::config::ProviderConfig;
use tributary_core::provider_error::ProviderError;
use tributary_core::schwab::orders::map_trade_error;
use tributary_core::schwab::{basic_authorization, map_error, map_token_error, parse_token_response, TokenGrant};
use tributary_core::Provider;
use worker::Method;

const P: Provider = Provider::Schwab;

/// Calls Schwab for one deployment (app key + secret).
pub struct SchwabClient<'a> {
    config: &'a ProviderConfig,
    timeout: Duration,
}

impl<'a> SchwabClient<'a> {
    pub fn new(config: &'a ProviderConfig, timeout: Duration) -> Self {
        Self { config, timeout }
    }

    /// The callback registered with Schwab (configuration guarantees one when Schwab is configured).
    pub fn redirect_url(&self) -> &str {
        self.config.redirect_url.as_deref().unwrap_or_default()
    }

    /// The page a person is sent to to consent.
    pub fn authorize_url(&self, state: &str) -> String {
        tributary_core::schwab::authorize_url(&self.config.base_url, &self.config.client_id, self.redirect_url(), state)
    }

    /// `POST /v1/oauth/token` with a form `body` from the core; `refreshing` says which grant it is
    /// (a refused refresh token means a new login is needed; a refused code does not).
    pub async fn token(&self, body: String, refreshing: bool) -> Result<TokenGrant, ProviderError> {
        let call = Call {
            provider: P,
            operation: if refreshing { "token_refresh" } else { "token_code" },
            method: Method::Post,
            url: format!("{}/v1/oauth/token", self.config.base_url),
            headers: vec![
                ("Authorization", basic_authorization(&self.config.client_id, &self.config.secret)),
                ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
                ("Accept", "application/json".to_owned()),
            ],
            body: Some(body),
            // A code is single-use and a refresh is a state change: neither is repeated blindly.
            idempotent: false,
            billed: false,
            timeout: self.timeout,
            institution: None,
        };
        let classify = |answer: &Answer| {
            (!(200..300).contains(&answer.status))
                .then(|| map_token_error(answer.status, &answer.body, refreshing, answer.retry_after_s))
        };
        let answer = send(&call, classify).await?;
        if let Some(error) = classify(&answer) {
            return Err(error);
        }
        parse_token_response(&answer.body)
    }

    /// `GET /trader/v1{path}` with the access token; the body bytes of a 2xx answer.
    pub async fn get(&self, path: &str, access_token: &str, operation: &'static str) -> Result<Vec<u8>, ProviderError> {
        let call = Call {
            provider: P,
            operation,
            method: Method::Get,
            url: format!("{}/trader/v1{path}", self.config.base_url),
            headers: vec![
                ("Authorization", format!("Bearer {access_token}")),
                ("Accept", "application/json".to_owned()),
            ],
            body: None,
            idempotent: true,
            billed: false,
            timeout: self.timeout,
            institution: None,
        };
        let classify = |answer: &Answer| {
            (!(200..300).contains(&answer.status)).then(|| map_error(answer.status, &answer.body, answer.retry_after_s))
        };
        let answer = send(&call, classify).await?;
        match classify(&answer) {
            Some(error) => Err(error),
            None => Ok(answer.body),
        }
    }

    /// A trading call under `/trader/v1{path}` with the access token: `GET`s are retried like
    /// every read, order writes and previews are sent once. The 2xx answer (its `Location`
    /// included), or the refusal typed by the core (`map_trade_error`).
    pub async fn trade(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        access_token: &str,
        operation: &'static str,
    ) -> Result<Answer, ProviderError> {
        let mut headers =
            vec![("Authorization", format!("Bearer {access_token}")), ("Accept", "application/json".to_owned())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let idempotent = method == Method::Get;
        let call = Call {
            provider: P,
            operation,
            method,
            url: format!("{}/trader/v1{path}", self.config.base_url),
            headers,
            body: body.map(serde_json::Value::to_string),
            idempotent,
            billed: false,
            timeout: self.timeout,
            institution: None,
        };
        let classify = |answer: &Answer| {
            (!(200..300).contains(&answer.status))
                .then(|| map_trade_error(answer.status, &answer.body, answer.retry_after_s))
        };
        let answer = send(&call, classify).await?;
        match classify(&answer) {
            Some(error) => Err(error),
            None => Ok(answer),
        }
    }
}
