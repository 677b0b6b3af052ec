//! A GitHub stand-in for the social-login tests, on GitHub's real paths (reached through the
//! provider entry's `github_url` and `api_url`): an OAuth App with PKCE (S256, which GitHub accepts
//! since 2025-07-14), the token endpoint's dialect (a form in, JSON only with `Accept:
//! application/json`, errors as HTTP 200), and the REST API's `/user` and `/user/emails`, which need
//! a token and a `User-Agent`. The subject is the numeric `id`; the e-mail is what `/user/emails`
//! says, scripted through [`GithubScript`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::oidc_fake::{
    bind, check_pkce_and_state, code_and_state, follow, random_hex, redirect_with, verifier_matches, Authorization,
    Callback, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET,
};

/// One entry of `GET /user/emails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubEmail {
    pub email: String,
    pub primary: bool,
    pub verified: bool,
    /// "public", "private" or null (GitHub gives null for all but the primary address).
    pub visibility: Option<String>,
}

impl GithubEmail {
    pub fn new(email: &str, primary: bool, verified: bool) -> Self {
        Self { email: email.into(), primary, verified, visibility: primary.then(|| "private".into()) }
    }
}

/// An endpoint of the stand-in that can be made to answer 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GithubEndpoint {
    Token,
    User,
    Emails,
}

/// What the stand-in does; changed through [`FakeGithub::script`].
#[derive(Debug, Clone)]
pub struct GithubScript {
    /// `/user`'s numeric `id`, the subject.
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    /// `/user`'s public `email` (null unless the user made one public).
    pub email: Option<String>,
    pub emails: Vec<GithubEmail>,
    /// The user refuses: the callback gets `error=access_denied`.
    pub refuse: bool,
    /// The token endpoint answers HTTP 200 `{"error": this}`.
    pub token_error: Option<String>,
    /// These endpoints answer 503.
    pub unavailable: Vec<GithubEndpoint>,
}

impl Default for GithubScript {
    /// Mona Lisa (octocat, id 1234): a verified primary `octocat@github.com` and a verified
    /// non-primary noreply address.
    fn default() -> Self {
        Self {
            id: 1234,
            login: "octocat".into(),
            name: Some("Mona Lisa".into()),
            email: None,
            emails: vec![
                GithubEmail::new("octocat@github.com", true, true),
                GithubEmail::new("1234+octocat@users.noreply.github.com", false, true),
            ],
            refuse: false,
            token_error: None,
            unavailable: Vec::new(),
        }
    }
}

/// How many requests each endpoint has had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GithubCalls {
    pub authorize: u32,
    pub token: u32,
    pub user: u32,
    pub emails: u32,
}

/// The GitHub stand-in, running until the test's runtime ends.
#[derive(Debug, Clone)]
pub struct FakeGithub {
    shared: Arc<Shared>,
}

impl FakeGithub {
    /// Binds `127.0.0.1:0` and serves the stand-in from a task of the current runtime.
    pub async fn start() -> Self {
        let (listener, base) = bind().await;
        let shared =
            Arc::new(Shared { base, script: Mutex::new(GithubScript::default()), inner: Mutex::new(Inner::default()) });
        let router = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/user", get(user))
            .route("/user/emails", get(emails))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { shared }
    }

    /// `http://127.0.0.1:PORT`: both `github_url` and `api_url`.
    pub fn base(&self) -> &str {
        &self.shared.base
    }

    /// The provider entry for `id` (a `"kind":"github"` provider) of a server at `public_base`,
    /// whose redirect URI the stand-in registers.
    pub fn entry(&self, id: &str, public_base: &str) -> Value {
        let redirect_uri = format!("{}/api/auth/social/{id}/callback/", public_base.trim_end_matches('/'));
        self.shared.inner().redirect_uris.push(redirect_uri);
        json!({"id": id, "name": "GitHub", "kind": "github", "client_id": FAKE_CLIENT_ID,
               "client_secret": FAKE_CLIENT_SECRET, "github_url": self.base(), "api_url": self.base()})
    }

    /// The script, to read or change; do not hold the guard across an `.await`.
    pub fn script(&self) -> MutexGuard<'_, GithubScript> {
        self.shared.script.lock().unwrap()
    }

    pub fn calls(&self) -> GithubCalls {
        self.shared.inner().calls
    }

    /// The last accepted authorization request (no nonce: GitHub has none).
    pub fn last_authorization(&self) -> Option<Authorization> {
        self.shared.inner().last_authorization.clone()
    }

    /// Follows `authorization_url` as the browser would: the callback GitHub redirected to.
    pub async fn authorize(&self, authorization_url: &str) -> Result<Callback, String> {
        follow(authorization_url).await
    }

    /// [`authorize`](Self::authorize) that must end with a code: `(code, state)`.
    pub async fn approve(&self, authorization_url: &str) -> Result<(String, String), String> {
        code_and_state(follow(authorization_url).await?)
    }
}

#[derive(Debug)]
struct Shared {
    base: String,
    script: Mutex<GithubScript>,
    inner: Mutex<Inner>,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }
    fn script(&self) -> GithubScript {
        self.script.lock().unwrap().clone()
    }
}

#[derive(Debug, Default)]
struct Inner {
    redirect_uris: Vec<String>,
    /// code → (redirect_uri, challenge, scope).
    grants: HashMap<String, (String, String, String)>,
    /// access token → its scope.
    tokens: HashMap<String, String>,
    calls: GithubCalls,
    last_authorization: Option<Authorization>,
}

async fn authorize(State(gh): State<Arc<Shared>>, Query(p): Query<HashMap<String, String>>) -> Response {
    gh.inner().calls.authorize += 1;
    let get = |name: &str| p.get(name).map_or("", String::as_str);
    let redirect_uri = get("redirect_uri");
    let refusal = if get("client_id") != FAKE_CLIENT_ID {
        Some("unknown client_id".to_owned())
    } else if !gh.inner().redirect_uris.iter().any(|uri| uri == redirect_uri) {
        Some(format!("redirect_uri {redirect_uri:?} is not registered"))
    } else {
        check_pkce_and_state(&p).err()
    };
    if let Some(refusal) = refusal {
        return (StatusCode::BAD_REQUEST, refusal).into_response();
    }
    let (state, challenge, scope) = (get("state"), get("code_challenge"), get("scope"));
    let mut inner = gh.inner();
    inner.last_authorization = Some(Authorization {
        state: state.into(),
        nonce: None,
        code_challenge: challenge.into(),
        scope: scope.into(),
        redirect_uri: redirect_uri.into(),
        params: p.clone(),
    });
    if gh.script().refuse {
        let description = "The user has denied your application access.";
        return redirect_with(
            redirect_uri,
            &[("error", "access_denied"), ("error_description", description), ("state", state)],
        );
    }
    let code = random_hex()[..20].to_owned();
    inner.grants.insert(code.clone(), (redirect_uri.into(), challenge.into(), scope.into()));
    redirect_with(redirect_uri, &[("code", &code), ("state", state)])
}

/// GitHub's answer: JSON with `Accept: application/json`, otherwise a form body; errors too are 200.
fn answer(headers: &HeaderMap, body: Value) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("application/json") {
        return Json(body).into_response();
    }
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in body.as_object().unwrap() {
        form.append_pair(name, value.as_str().unwrap_or_default());
    }
    ([(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")], form.finish()).into_response()
}

fn error(headers: &HeaderMap, error: &str, description: &str) -> Response {
    answer(headers, json!({"error": error, "error_description": description, "error_uri": "https://docs.github.com/"}))
}

/// Client credentials from the form (as GitHub documents) or HTTP Basic (which it accepts too).
fn credentials_match(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let expected = format!("{FAKE_CLIENT_ID}:{FAKE_CLIENT_SECRET}");
    if let Some(basic) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()?.strip_prefix("Basic ")) {
        return data_encoding::BASE64.decode(basic.as_bytes()).is_ok_and(|decoded| decoded == expected.as_bytes());
    }
    form.get("client_id").map(String::as_str) == Some(FAKE_CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(FAKE_CLIENT_SECRET)
}

async fn access_token(
    State(gh): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    gh.inner().calls.token += 1;
    let script = gh.script();
    if script.unavailable.contains(&GithubEndpoint::Token) {
        return (StatusCode::SERVICE_UNAVAILABLE, "scripted outage").into_response();
    }
    if !credentials_match(&headers, &form) {
        return error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    if let Some(scripted) = &script.token_error {
        return error(&headers, scripted, "Scripted error.");
    }
    // A code is spent by any attempt, right or wrong.
    let Some((redirect_uri, challenge, scope)) = form.get("code").and_then(|code| gh.inner().grants.remove(code))
    else {
        return error(&headers, "bad_verification_code", "The code passed is incorrect or expired.");
    };
    if form.get("redirect_uri") != Some(&redirect_uri) {
        return error(&headers, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL.");
    }
    if !verifier_matches(form.get("code_verifier"), &challenge) {
        return error(&headers, "bad_verification_code", "The code_verifier does not match the code_challenge.");
    }
    let token = format!("gho_{}", &random_hex()[..36]);
    gh.inner().tokens.insert(token.clone(), scope.clone());
    answer(&headers, json!({"access_token": token, "token_type": "bearer", "scope": scope.replace(' ', ",")}))
}

/// The REST API: 503 when scripted so, 403 without a `User-Agent` (as GitHub), 401 without a known
/// token (`Bearer` or `token`); otherwise `answer` given the script and the token's scope.
fn api(
    gh: &Shared,
    headers: &HeaderMap,
    endpoint: GithubEndpoint,
    answer: impl FnOnce(GithubScript, &str) -> Response,
) -> Response {
    let script = gh.script();
    if script.unavailable.contains(&endpoint) {
        return (StatusCode::SERVICE_UNAVAILABLE, "scripted outage").into_response();
    }
    if !headers.contains_key(header::USER_AGENT) {
        let message =
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header";
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let token = authorization.strip_prefix("Bearer ").or_else(|| authorization.strip_prefix("token "));
    match token.and_then(|token| gh.inner().tokens.get(token).cloned()) {
        Some(scope) => answer(script, &scope),
        None => {
            let body = json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"});
            (StatusCode::UNAUTHORIZED, Json(body)).into_response()
        }
    }
}

async fn user(State(gh): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    gh.inner().calls.user += 1;
    api(&gh, &headers, GithubEndpoint::User, |script, _| {
        let user = json!({"id": script.id, "login": script.login, "name": script.name, "email": script.email});
        Json(user).into_response()
    })
}

/// The addresses, when the token has the `user:email` (or `user`) scope; 404 otherwise, as GitHub.
async fn emails(State(gh): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    gh.inner().calls.emails += 1;
    api(&gh, &headers, GithubEndpoint::Emails, |script, scope| {
        if !scope.split([' ', ',']).any(|s| s == "user:email" || s == "user") {
            return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
        }
        let emails: Vec<Value> = (script.emails.iter())
            .map(
                |e| json!({"email": e.email, "primary": e.primary, "verified": e.verified, "visibility": e.visibility}),
            )
            .collect();
        Json(emails).into_response()
    })
}
