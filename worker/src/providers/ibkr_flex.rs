//! The IBKR Flex Web Service client: SendRequest and GetStatement, both `GET` with the person's
//! token in the query and the configured `User-Agent` (IBKR refuses requests without one). Neither
//! is retried here: the Flex flow (`services::ibkr_flex`) paces every request itself, within
//! IBKR's one-a-second rule. URLs carry the token, so they are never logged (the shared call log
//! names only the operation).

use super::{send, Answer, Call};
use std::time::Duration;
use tributary_core::config::{ProviderConfig, IBKR_FLEX_DEFAULT_USER_AGENT};
use tributary_core::ibkr::flow::map_http_status;
use tributary_core::ibkr::{get_statement_url, send_request_url, FlexCredentials};
use tributary_core::provider_error::ProviderError;
use tributary_core::Provider;
use worker::Method;

const P: Provider = Provider::IbkrFlex;

/// Calls the Flex Web Service of one deployment.
pub struct FlexClient<'a> {
    config: &'a ProviderConfig,
    timeout: Duration,
}

impl<'a> FlexClient<'a> {
    pub fn new(config: &'a ProviderConfig, timeout: Duration) -> Self {
        Self { config, timeout }
    }

    async fn get(&self, url: String, operation: &'static str) -> Result<Vec<u8>, ProviderError> {
        let agent = self.config.user_agent.clone().unwrap_or_else(|| IBKR_FLEX_DEFAULT_USER_AGENT.to_owned());
        let call = Call {
            provider: P,
            operation,
            method: Method::Get,
            url,
            headers: vec![("User-Agent", agent), ("Accept", "application/xml, text/xml".to_owned())],
            body: None,
            // Paced by the Flex flow, never repeated blindly: a repeat counts against the token's limit.
            idempotent: false,
            billed: false,
            timeout: self.timeout,
            institution: None,
        };
        let classify = |answer: &Answer| (!(200..300).contains(&answer.status)).then(|| map_http_status(answer.status));
        // A transport error's text may quote the URL, and the URL carries the token: say only what failed.
        let answer = send(&call, classify).await.map_err(|error| match error {
            ProviderError::Network { provider, .. } => {
                ProviderError::Network { provider, detail: "the Flex Web Service could not be reached".into() }
            }
            other => other,
        })?;
        match classify(&answer) {
            Some(error) => Err(error),
            None => Ok(answer.body),
        }
    }

    /// `SendRequest?t&q&v=3`: the body of IBKR's answer (a reference code or an error envelope).
    pub async fn send_request(&self, credentials: &FlexCredentials) -> Result<Vec<u8>, ProviderError> {
        self.get(send_request_url(&self.config.base_url, credentials), "send_request").await
    }

    /// `GetStatement?t&q=<reference>&v=3`: the body of IBKR's answer (the statement, or an envelope).
    pub async fn get_statement(&self, token: &str, reference_code: &str) -> Result<Vec<u8>, ProviderError> {
        self.get(get_statement_url(&self.config.base_url, token, reference_code), "get_statement").await
    }
}
