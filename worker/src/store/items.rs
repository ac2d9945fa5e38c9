//! The `provider_items` table: a provider-side item that maps back to one of our users — a Plaid
//! Item with its access token sealed (AES-256-GCM, random nonce, key id for rotation).

use super::{db, query_all, query_first, DbResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use tributary_core::sealed::{Sealed, NONCE_LEN};
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// Our id of a provider item.
pub fn item_id(provider: Provider, external_id: &str) -> String {
    format!("{}:{external_id}", provider.as_str())
}

/// A stored item as the API may show it (never the secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemRow {
    pub id: String,
    pub external_id: String,
    pub institution_slug: Option<String>,
    pub institution_name: Option<String>,
    pub status: String,
    pub created_at: i64,
    #[serde(skip_serializing)]
    secret_ciphertext: Option<String>,
    #[serde(skip_serializing)]
    secret_nonce: Option<String>,
    #[serde(skip_serializing)]
    key_id: Option<String>,
}

impl ItemRow {
    /// The institution's name for people: its name, else its slug, else "this institution".
    pub fn display_name(&self) -> &str {
        self.institution_name.as_deref().or(self.institution_slug.as_deref()).unwrap_or("this institution")
    }

    /// The sealed access token, if the row holds a readable one.
    pub fn sealed(&self) -> Option<Sealed> {
        let nonce: [u8; NONCE_LEN] = STANDARD.decode(self.secret_nonce.as_deref()?).ok()?.try_into().ok()?;
        let ciphertext = STANDARD.decode(self.secret_ciphertext.as_deref()?).ok()?;
        Some(Sealed { ciphertext, nonce, key_id: self.key_id.clone()? })
    }
}

const COLUMNS: &str =
    "id, external_id, institution_slug, institution_name, status, created_at, secret_ciphertext, secret_nonce, key_id";

/// The user's items at `provider`, oldest first.
pub async fn list(env: &Env, user: &UserId, provider: Provider) -> DbResult<Vec<ItemRow>> {
    query_all(
        env,
        &format!("SELECT {COLUMNS} FROM provider_items WHERE user_id = ?1 AND provider = ?2 ORDER BY created_at, id"),
        &[user.as_str().into(), provider.as_str().into()],
    )
    .await
}

/// The user's item with exactly this provider id, if it is theirs.
pub async fn get(env: &Env, user: &UserId, provider: Provider, external_id: &str) -> DbResult<Option<ItemRow>> {
    query_first(
        env,
        &format!("SELECT {COLUMNS} FROM provider_items WHERE id = ?1 AND user_id = ?2"),
        &[item_id(provider, external_id).into(), user.as_str().into()],
    )
    .await
}

#[derive(Deserialize)]
struct Owner {
    user_id: String,
}

/// The user an item belongs to (webhooks name items, not users).
pub async fn owner(env: &Env, provider: Provider, external_id: &str) -> DbResult<Option<UserId>> {
    let row: Option<Owner> =
        query_first(env, "SELECT user_id FROM provider_items WHERE id = ?1", &[item_id(provider, external_id).into()])
            .await?;
    Ok(row.and_then(|r| UserId::parse(&r.user_id).ok()))
}

/// A new item to store.
pub struct NewItem<'a> {
    pub external_id: &'a str,
    pub institution_slug: Option<&'a str>,
    pub institution_name: Option<&'a str>,
    pub sealed: &'a Sealed,
}

/// The insert of a new item (its id is unique: a second insert of the same item fails).
pub fn insert_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    item: &NewItem<'_>,
    now: i64,
) -> DbResult<D1PreparedStatement> {
    let text = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from);
    let args: [JsValue; 10] = [
        item_id(provider, item.external_id).into(),
        user.as_str().into(),
        provider.as_str().into(),
        item.external_id.into(),
        text(item.institution_slug),
        text(item.institution_name),
        STANDARD.encode(&item.sealed.ciphertext).into(),
        STANDARD.encode(item.sealed.nonce).into(),
        item.sealed.key_id.as_str().into(),
        (now as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO provider_items (id, user_id, provider, external_id, institution_slug, institution_name,
                                         secret_ciphertext, secret_nonce, key_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        )
        .bind(&args)
}

/// The delete of one of the user's items.
pub fn remove_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    external_id: &str,
) -> DbResult<D1PreparedStatement> {
    db(env)?
        .prepare("DELETE FROM provider_items WHERE id = ?1 AND user_id = ?2")
        .bind(&[item_id(provider, external_id).into(), user.as_str().into()])
}
