//! Social login through the API: a server with the fake OpenID provider (`oidc_fake`) and the GitHub
//! stand-in (`github_fake`) configured, and the steps of a sign-in as a browser takes them: ask for
//! the authorization URL, follow it at the provider, bring the provider's answer to the callback,
//! read where the callback sends the browser, and spend what it carries.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use latchkey_server::social::{ProviderEntry, Providers};
use latchkey_server::AppState;
use serde_json::{json, Value};

use super::{call, request, send, Callback, FakeGithub, FakeOp};

/// The id of the fake OpenID provider in the servers these helpers configure.
pub const OIDC: &str = "test-oidc";
/// The id of the GitHub stand-in.
pub const GITHUB: &str = "github";

/// Where the tests' flows come back to: a page on the server's own public URL.
pub fn return_to(state: &AppState) -> String {
    format!("{}/app/", state.config.public_base())
}

/// `state` with `entries` (provider-file entries) as its providers.
pub fn with_providers(mut state: AppState, entries: &[Value]) -> AppState {
    let entries: Vec<ProviderEntry> = entries.iter().map(|e| serde_json::from_value(e.clone()).unwrap()).collect();
    let providers = Providers::from_entries(entries, &state.config.public_base()).unwrap();
    state.social = Arc::new(providers);
    state
}

/// `state` with a fresh fake OpenID provider as [`OIDC`] and a fresh GitHub stand-in as [`GITHUB`].
pub async fn with_social(state: AppState) -> (AppState, FakeOp, FakeGithub) {
    let (op, github) = (FakeOp::start().await, FakeGithub::start().await);
    let base = state.config.public_base();
    let state = with_providers(state, &[op.entry(OIDC, &base), github.entry(GITHUB, &base)]);
    (state, op, github)
}

/// `POST /api/auth/social/{provider}/authorize/` with `body`, as the owner of `access` when given.
pub async fn authorize(state: &AppState, provider: &str, body: Value, access: Option<&str>) -> (StatusCode, Value) {
    call(state, "POST", &format!("/api/auth/social/{provider}/authorize/"), Some(body), access).await
}

/// The authorization URL of a new `login` flow with `provider` (no binding).
pub async fn login_url(state: &AppState, provider: &str) -> String {
    let body = json!({ "process": "login", "return_to": return_to(state) });
    let (status, answer) = authorize(state, provider, body, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["authorization_url"].as_str().unwrap().to_owned()
}

/// Where the callback sent the browser.
#[derive(Debug)]
pub struct Landing {
    pub status: StatusCode,
    /// The whole `Location` (empty when the callback did not redirect).
    pub location: String,
    /// Its query.
    pub params: HashMap<String, String>,
    /// The answer's JSON body (when it did not redirect).
    pub body: Value,
}

impl Landing {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Brings the provider's redirect (`?code&state`, or `?error&state`) to the server's callback.
pub async fn land(state: &AppState, callback: &Callback) -> Landing {
    land_at(state, &callback.path_and_query()).await
}

/// `GET` of the callback path and query `uri`.
pub async fn land_at(state: &AppState, uri: &str) -> Landing {
    let (status, body, response) = send(state, request("GET", uri, None, None)).await;
    let location = response.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    let params = match url::Url::parse(&location) {
        Ok(url) => url.query_pairs().into_owned().collect(),
        Err(_) => HashMap::new(),
    };
    Landing { status, location, params, body }
}

/// A whole `login` flow with the fake OpenID provider as it is scripted: where the callback sent
/// the browser.
pub async fn oidc_login(state: &AppState, op: &FakeOp) -> Landing {
    let url = login_url(state, OIDC).await;
    let callback = op.authorize(&url).await.unwrap();
    land(state, &callback).await
}

/// `POST /api/token/social/` with `body`.
pub async fn exchange(state: &AppState, body: Value) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/social/", Some(body), None).await
}

/// A `login` flow with the fake provider that must end in a session: its tokens.
pub async fn oidc_sign_in(state: &AppState, op: &FakeOp) -> Value {
    let landing = oidc_login(state, op).await;
    let code = landing.get("login_code").unwrap_or_else(|| panic!("{landing:?}"));
    let (status, tokens) = exchange(state, json!({ "login_code": code })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

/// `POST /api/auth/social/link/confirm/` with `body`.
pub async fn confirm_link(state: &AppState, body: Value) -> (StatusCode, Value) {
    call(state, "POST", "/api/auth/social/link/confirm/", Some(body), None).await
}

/// The linked accounts of the owner of `access`.
pub async fn linked_accounts(state: &AppState, access: &str) -> Vec<Value> {
    let (status, list) = call(state, "GET", "/api/auth/social/accounts/", None, Some(access)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}
