//! The hosted Link page a `/link/token/create` `hosted_link_url` opens: a plain HTML form where a
//! person picks one of the seeded institutions (preselected by `?institution_id=ins_…`) and
//! presses "Continue". Submitting it (`POST`, form field `institution_id`) finishes the session —
//! a pending Item and its public token — and answers 302 to the link token's
//! `completion_redirect_uri` with `public_token`, `institution_id` and `link_session_id` appended
//! to its query. Errors are HTML pages: 404 unknown token, 410 expired or already completed, 400
//! unknown institution.
//!
//! An update-mode link token's page names the Item's institution instead of offering a choice;
//! submitting it (no form fields needed) repairs that Item's login — no new Item, no public
//! token — and answers 302 to `completion_redirect_uri` with `institution_id` and
//! `link_session_id` appended.

use super::seed::{Institution, INSTITUTIONS};
use super::state::LinkPageError;
use crate::util::{escape_html, now_unix};
use crate::{lock, Sim};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use std::collections::HashMap;
use std::sync::Arc;

/// Where hosted Link pages live: `/plaid/link/<link_token>`.
pub const PATH_PREFIX: &str = "/plaid/link";
/// The route pattern of a hosted Link page.
pub const PATH: &str = "/plaid/link/{link_token}";

fn page_html(title: &str, body: &str) -> String {
    crate::util::page_html("Plaid Link", title, body)
}

fn error_page(error: &LinkPageError) -> Response {
    let (status, message) = match error {
        LinkPageError::UnknownToken => (StatusCode::NOT_FOUND, "This Link session is not valid.".to_owned()),
        LinkPageError::Expired => (StatusCode::GONE, "This Link session has expired.".to_owned()),
        LinkPageError::AlreadyCompleted => {
            (StatusCode::GONE, "This Link session has already been completed.".to_owned())
        }
        LinkPageError::UnknownInstitution(id) => (StatusCode::BAD_REQUEST, format!("Unknown institution {id:?}.")),
    };
    let body = format!("<p role=\"alert\">{}</p>", escape_html(&message));
    (status, Html(page_html("Cannot connect", &body))).into_response()
}

fn institution_row(institution: &Institution, selected: bool) -> String {
    format!(
        "<div class=\"row\"><input type=\"radio\" id=\"{id}\" name=\"institution_id\" value=\"{id}\" required{checked}>\
         <label for=\"{id}\">{name}</label></div>",
        id = escape_html(institution.id),
        name = escape_html(institution.name),
        checked = if selected { " checked" } else { "" },
    )
}

/// `GET /plaid/link/{link_token}[?institution_id=…]`: the institution picker.
pub async fn page(
    State(sim): State<Arc<Sim>>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let state = lock(&sim.plaid.state);
    let link = match state.open_link(&token, now_unix()) {
        Ok(link) => link,
        Err(e) => return error_page(&e),
    };
    if let Some(item) = link.request.update_item.as_deref().and_then(|id| state.item_by_id(id)) {
        let body = format!(
            "<p>{client} asks you to reconnect your account at <strong>{institution}</strong>.</p>\
             <form method=\"post\" action=\"{PATH_PREFIX}/{token}\"><button type=\"submit\">Continue</button></form>\
             <p class=\"note\">This is the Tributary provider simulator; no real credentials are asked for.</p>",
            client = escape_html(&link.request.client_name),
            institution = escape_html(item.institution.name),
            token = escape_html(&token),
        );
        return Html(page_html("Reconnect an account", &body)).into_response();
    }
    let preselected = query.get("institution_id").map(String::as_str);
    let rows: String = INSTITUTIONS.iter().map(|i| institution_row(i, Some(i.id) == preselected)).collect();
    let body = format!(
        "<p>{client} uses Plaid to connect your investment accounts.</p>\
         <form method=\"post\" action=\"{PATH_PREFIX}/{token}\">\
         <fieldset><legend>Select your institution</legend>{rows}</fieldset>\
         <button type=\"submit\">Continue</button></form>\
         <p class=\"note\">This is the Tributary provider simulator; no real credentials are asked for.</p>",
        client = escape_html(&link.request.client_name),
        token = escape_html(&token),
    );
    Html(page_html("Connect an account", &body)).into_response()
}

/// `target` with `pairs` appended to its query (before any fragment).
pub fn append_query(target: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match target.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (target, String::new()),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{base}{separator}{}{fragment}", query.join("&"))
}

/// `POST /plaid/link/{link_token}` (form `institution_id`; none in update mode): links or
/// repairs, then redirects.
pub async fn complete(
    State(sim): State<Arc<Sim>>,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let institution_id = form.get("institution_id").map_or("", String::as_str);
    let mut state = lock(&sim.plaid.state);
    let update_mode = state.link_token(&token).is_some_and(|l| l.request.update_item.is_some());
    if update_mode {
        return match state.complete_update_link(&token, now_unix()) {
            Err(e) => error_page(&e),
            Ok(done) => {
                let pairs = [("institution_id", done.institution.id), ("link_session_id", &done.link_session_id)];
                let location = append_query(&done.completion_redirect_uri, &pairs);
                (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
            }
        };
    }
    let completed = state.complete_link(&token, institution_id, now_unix());
    drop(state);
    match completed {
        Err(e) => error_page(&e),
        Ok(done) => {
            let location = append_query(
                &done.completion_redirect_uri,
                &[
                    ("public_token", &done.public_token),
                    ("institution_id", done.institution.id),
                    ("link_session_id", &done.link_session_id),
                ],
            );
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_result_to_any_redirect() {
        assert_eq!(append_query("http://a/b", &[("x", "1"), ("y", "2")]), "http://a/b?x=1&y=2");
        assert_eq!(append_query("http://a/b?z=0#f", &[("x", "1")]), "http://a/b?z=0&x=1#f");
        assert_eq!(append_query("http://a/b?", &[("x", "1")]), "http://a/b?x=1");
    }
}
