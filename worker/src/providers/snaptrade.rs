//! The SnapTrade client: adds `clientId`/`timestamp` (and `userId`/`userSecret`), signs with the
//! core's SDK-exact signature over the exact path and query sent, and maps answers to typed errors.

use super::{send, Answer, Call};
use crate::clock::real_now_unix;
use serde_json::Value;
use std::time::Duration;
use tributary_core::config::ProviderConfig;
use tributary_core::provider_error::ProviderError;
use tributary_core::snaptrade::{map_error, signature, Operation};
use tributary_core::url::encode_query;
use tributary_core::Provider;
use worker::Method;

/// A SnapTrade user's credentials as SnapTrade issued them (the secret decrypted only for the call).
pub struct SnapTradeUser<'a> {
    pub user_id: &'a str,
    pub user_secret: &'a str,
}

/// Calls SnapTrade on behalf of one deployment (client id + consumer key).
pub struct SnapTradeClient<'a> {
    config: &'a ProviderConfig,
    timeout: Duration,
}

impl<'a> SnapTradeClient<'a> {
    pub fn new(config: &'a ProviderConfig, timeout: Duration) -> Self {
        Self { config, timeout }
    }

    /// Sends one signed request and returns its JSON body, or the typed error its answer means.
    async fn call(
        &self,
        method: Method,
        path: &str,
        user: Option<&SnapTradeUser<'_>>,
        body: Option<&Value>,
        operation: Operation,
    ) -> Result<Value, ProviderError> {
        self.call_with(method, path, &[], user, body, operation).await
    }

    /// [`Self::call`] with `params` added to the signed query.
    async fn call_with(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        user: Option<&SnapTradeUser<'_>>,
        body: Option<&Value>,
        operation: Operation,
    ) -> Result<Value, ProviderError> {
        // The provider checks this against its own clock: never the development clock.
        let timestamp = real_now_unix().to_string();
        let mut pairs = vec![("clientId", self.config.client_id.as_str()), ("timestamp", timestamp.as_str())];
        if let Some(user) = user {
            pairs.push(("userId", user.user_id));
            pairs.push(("userSecret", user.user_secret));
        }
        pairs.extend_from_slice(params);
        let query = encode_query(&pairs);
        let base_path = self.config.base_url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]));
        let signed_path = format!("{}{path}", base_path.unwrap_or(""));
        let sig = signature(&self.config.secret, &signed_path, &query, body);
        let (name, idempotent, billed) = match &operation {
            Operation::Read(name) | Operation::User(name) => (*name, matches!(operation, Operation::Read(_)), false),
            Operation::Refresh => ("refresh", false, true),
            Operation::Trading { operation, .. } => (*operation, false, false),
        };
        let mut headers = vec![("Signature", sig), ("Accept", "application/json".to_owned())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        let call = Call {
            provider: Provider::SnapTrade,
            operation: name,
            method,
            url: format!("{}{path}?{query}", self.config.base_url),
            headers,
            body: body.map(|b| b.to_string()),
            idempotent,
            billed,
            timeout: self.timeout,
            institution: None,
        };
        let classify = |answer: &Answer| {
            (!(200..300).contains(&answer.status))
                .then(|| map_error(answer.status, &answer.body, &operation, answer.retry_after_s))
        };
        let answer = send(&call, classify).await?;
        if let Some(error) = classify(&answer) {
            return Err(error);
        }
        serde_json::from_slice(&answer.body)
            .map_err(|e| ProviderError::Malformed { provider: Provider::SnapTrade, detail: format!("{name}: {e}") })
    }

    /// `POST /snapTrade/registerUser` → `(userId, userSecret)`.
    pub async fn register_user(&self, user_id: &str) -> Result<(String, String), ProviderError> {
        let body = serde_json::json!({ "userId": user_id });
        let answer =
            self.call(Method::Post, "/snapTrade/registerUser", None, Some(&body), Operation::User("register")).await?;
        let field = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_owned);
        match (field("userId"), field("userSecret")) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => Err(ProviderError::Malformed {
                provider: Provider::SnapTrade,
                detail: "registerUser: missing userId/userSecret".into(),
            }),
        }
    }

    /// `POST /snapTrade/login` → the connection portal URL.
    pub async fn login(&self, user: &SnapTradeUser<'_>, body: &Value) -> Result<String, ProviderError> {
        let answer =
            self.call(Method::Post, "/snapTrade/login", Some(user), Some(body), Operation::User("login")).await?;
        answer.get("redirectURI").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| ProviderError::Malformed {
            provider: Provider::SnapTrade,
            detail: "login: no redirectURI".into(),
        })
    }

    /// `GET <path>` for a user, returning the JSON body.
    pub async fn get(
        &self,
        user: &SnapTradeUser<'_>,
        path: &str,
        operation: &'static str,
    ) -> Result<Value, ProviderError> {
        self.call(Method::Get, path, Some(user), None, Operation::Read(operation)).await
    }

    /// `GET <path>?<params>` for a user (the parameters signed with the rest), returning the JSON body.
    pub async fn get_with(
        &self,
        user: &SnapTradeUser<'_>,
        path: &str,
        params: &[(&str, &str)],
        operation: &'static str,
    ) -> Result<Value, ProviderError> {
        self.call_with(Method::Get, path, params, Some(user), None, Operation::Read(operation)).await
    }

    /// A trading call for a user (`Operation::Trading`: never retried, a 403 typed as trading
    /// not permitted at `brokerage`), returning the JSON body.
    #[allow(clippy::too_many_arguments)]
    pub async fn trade(
        &self,
        user: &SnapTradeUser<'_>,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        body: Option<&Value>,
        operation: &'static str,
        brokerage: &str,
    ) -> Result<Value, ProviderError> {
        let operation = Operation::Trading { operation, brokerage: Some(brokerage.to_owned()) };
        self.call_with(method, path, params, Some(user), body, operation).await
    }

    /// `GET /brokerages`: every brokerage SnapTrade serves, with its maintenance state.
    pub async fn brokerages(&self) -> Result<Value, ProviderError> {
        self.call(Method::Get, "/brokerages", None, None, Operation::Read("brokerages")).await
    }

    /// `DELETE /connection/{connectionId}`: queues the deletion of a connection and its accounts'
    /// data at SnapTrade (irreversible; sent once, never retried).
    pub async fn delete_connection(&self, user: &SnapTradeUser<'_>, connection_id: &str) -> Result<(), ProviderError> {
        let path = format!("/connection/{}", tributary_core::url::encode_component(connection_id));
        self.call(Method::Delete, &path, Some(user), None, Operation::User("delete_connection")).await.map(|_| ())
    }

    /// `POST /authorizations/{id}/refresh`: asks the brokerage for fresh data (billed per call).
    pub async fn refresh_authorization(
        &self,
        user: &SnapTradeUser<'_>,
        authorization_id: &str,
    ) -> Result<Value, ProviderError> {
        let path = format!("/authorizations/{}/refresh", tributary_core::url::encode_component(authorization_id));
        self.call(Method::Post, &path, Some(user), None, Operation::Refresh).await
    }
}
