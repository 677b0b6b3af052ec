//! A real OpenID provider for the social-login tests: an axum router on `127.0.0.1:0`, served by a
//! task of the test's own runtime, with discovery, `/authorize`, `/token`, `/jwks` and `/userinfo`
//! as OpenID Connect Core 1.0, RFC 6749 and RFC 7636 (PKCE, S256 only) describe them. It signs ID
//! tokens with real RS256 keys (`tests/fixtures/oidc_rsa.pem`, kid "k1"; `oidc_rsa_other.pem` is the
//! second key), checks what a strict provider checks, and approves at once as the scripted user.
//! Everything the server must refuse can be made wrong through [`Script`], and [`Tamper`] names each
//! way an ID token can be bad (both in [`super::oidc_script`], re-exported here). The GitHub
//! stand-in is in [`super::github_fake`]; both share [`Callback`] and [`pkce_challenge`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The client id every fake registers (one client per fake).
pub const FAKE_CLIENT_ID: &str = "latchkey-test-client";
/// That client's secret.
pub const FAKE_CLIENT_SECRET: &str = "s3cret-of-the-test-client";

pub use super::oidc_script::*;

const KEY_PEM: &str = include_str!("../fixtures/oidc_rsa.pem");
const OTHER_KEY_PEM: &str = include_str!("../fixtures/oidc_rsa_other.pem");

/// A fake OpenID provider, running until the test's runtime ends.
#[derive(Debug, Clone)]
pub struct FakeOp {
    shared: Arc<Shared>,
}

impl FakeOp {
    /// Binds `127.0.0.1:0` and serves the provider from a task of the current runtime.
    pub async fn start() -> Self {
        let (listener, base) = bind().await;
        let shared = Arc::new(Shared {
            issuer: base,
            keys: [KeyPair::from_pem(KEY_PEM), KeyPair::from_pem(OTHER_KEY_PEM)],
            script: Mutex::new(Script::default()),
            inner: Mutex::new(Inner::default()),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/jwks", get(jwks))
            .route("/userinfo", get(userinfo).post(userinfo))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { shared }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The provider entry of LATCHKEY_OIDC_PROVIDERS for provider `id` of a server at `public_base`,
    /// whose redirect URI (`{public_base}/api/auth/social/{id}/callback/`) the fake registers.
    pub fn entry(&self, id: &str, public_base: &str) -> Value {
        let redirect_uri = format!("{}/api/auth/social/{id}/callback/", public_base.trim_end_matches('/'));
        self.shared.inner().redirect_uris.push(redirect_uri);
        json!({"id": id, "name": format!("Test {id}"), "issuer": self.issuer(), "client_id": FAKE_CLIENT_ID,
               "client_secret": FAKE_CLIENT_SECRET, "scopes": ["openid", "email", "profile"]})
    }

    /// The script, to read or change (`op.script().tamper = Some(Tamper::Expired);`). Do not hold
    /// the guard across an `.await`: the provider's handlers need it.
    pub fn script(&self) -> MutexGuard<'_, Script> {
        self.shared.script.lock().unwrap()
    }

    pub fn calls(&self) -> Calls {
        self.shared.inner().calls
    }

    /// The last accepted authorization request: its state, nonce, PKCE challenge and parameters.
    pub fn last_authorization(&self) -> Option<Authorization> {
        self.shared.inner().last_authorization.clone()
    }

    /// Follows `authorization_url` as the browser would (GET, redirects off): the callback the
    /// provider redirected to, or `Err` with the status and body when it refused the request.
    pub async fn authorize(&self, authorization_url: &str) -> Result<Callback, String> {
        follow(authorization_url).await
    }

    /// [`authorize`](Self::authorize) that must end with a code: `(code, state)`.
    pub async fn approve(&self, authorization_url: &str) -> Result<(String, String), String> {
        code_and_state(follow(authorization_url).await?)
    }

    /// `claims` signed as an ID token with the provider's key "k1" (RS256).
    pub fn sign(&self, claims: &Value) -> String {
        self.shared.keys[0].sign(Algorithm::RS256, "k1", claims)
    }
}

/// The listener on `127.0.0.1:0` and its `http://127.0.0.1:PORT`.
pub(super) async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

/// GET `url` with redirects off; the 302's `Location` as a [`Callback`].
pub(super) async fn follow(url: &str) -> Result<Callback, String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if response.status() != StatusCode::FOUND {
        return Err(format!("{}: {}", response.status(), response.text().await.unwrap_or_default()));
    }
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let params = url::Url::parse(&location).unwrap().query_pairs().into_owned().collect();
    Ok(Callback { location, params })
}

pub(super) fn code_and_state(callback: Callback) -> Result<(String, String), String> {
    match (callback.code(), callback.state()) {
        (Some(code), Some(state)) => Ok((code.to_owned(), state.to_owned())),
        _ => Err(format!("no code in {}", callback.location)),
    }
}

/// 32 random bytes in hex: codes and access tokens.
pub(super) fn random_hex() -> String {
    latchkey_core::encoding::hex(&rand::random::<[u8; 32]>())
}

/// `redirect_uri` with `params` appended, as a 302.
pub(super) fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = url::Url::parse(redirect_uri).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// The checks `/authorize` of both fakes makes on PKCE and `state`.
pub(super) fn check_pkce_and_state(p: &HashMap<String, String>) -> Result<(), String> {
    let challenge = p.get("code_challenge").map_or("", String::as_str);
    if p.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return Err("code_challenge_method must be S256".into());
    }
    if challenge.len() != 43 || data_encoding::BASE64URL_NOPAD.decode(challenge.as_bytes()).is_err() {
        return Err("code_challenge must be 43 base64url characters".into());
    }
    if p.get("state").is_none_or(String::is_empty) {
        return Err("state is required".into());
    }
    Ok(())
}

/// Whether `verifier` (RFC 7636: 43 to 128 characters) answers `challenge`.
pub(super) fn verifier_matches(verifier: Option<&String>, challenge: &str) -> bool {
    verifier.is_some_and(|v| (43..=128).contains(&v.len()) && pkce_challenge(v) == challenge)
}

pub(super) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[derive(Debug)]
struct Shared {
    issuer: String,
    keys: [KeyPair; 2],
    script: Mutex<Script>,
    inner: Mutex<Inner>,
}

impl Shared {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }
    fn script(&self) -> Script {
        self.script.lock().unwrap().clone()
    }
}

#[derive(Debug, Default)]
struct Inner {
    redirect_uris: Vec<String>,
    grants: HashMap<String, Grant>,
    access_tokens: HashMap<String, OidcUser>,
    calls: Calls,
    last_authorization: Option<Authorization>,
}

/// What an issued code stands for.
#[derive(Debug)]
struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    user: OidcUser,
}

/// An RSA key: PKCS#1 DER for jsonwebtoken, and what the JWKS and the HS256 attack publish.
#[derive(Debug)]
struct KeyPair {
    der: Vec<u8>,
    n: String,
    e: String,
    public_pem: String,
}

impl KeyPair {
    fn from_pem(pem: &str) -> Self {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
        let b64 = |bytes: Vec<u8>| data_encoding::BASE64URL_NOPAD.encode(&bytes);
        Self {
            der: key.to_pkcs1_der().unwrap().as_bytes().to_vec(),
            n: b64(key.n().to_bytes_be()),
            e: b64(key.e().to_bytes_be()),
            public_pem: key.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(),
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": self.n, "e": self.e})
    }

    fn sign(&self, alg: Algorithm, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        let key = match alg {
            Algorithm::HS256 => EncodingKey::from_secret(self.public_pem.as_bytes()),
            _ => EncodingKey::from_rsa_der(&self.der),
        };
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }
}

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "scripted outage").into_response()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Json(json!({"error": error}))).into_response()
}

async fn discovery(State(op): State<Arc<Shared>>) -> Response {
    op.inner().calls.discovery += 1;
    let script = op.script();
    if script.unavailable.contains(&Endpoint::Discovery) {
        return unavailable();
    }
    let base = &op.issuer;
    Json(json!({
        "issuer": script.discovery_issuer.unwrap_or_else(|| base.clone()),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile"],
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

/// Refuses (400, never a redirect) whatever a strict provider refuses, then approves as the script's
/// user, or redirects with `access_denied` when the user refuses. The answer carries `iss` (RFC 9207).
async fn authorize(State(op): State<Arc<Shared>>, Query(p): Query<HashMap<String, String>>) -> Response {
    op.inner().calls.authorize += 1;
    let get = |name: &str| p.get(name).map_or("", String::as_str);
    let redirect_uri = get("redirect_uri");
    let refusal = if get("client_id") != FAKE_CLIENT_ID {
        Some("unknown client_id".to_owned())
    } else if !op.inner().redirect_uris.iter().any(|uri| uri == redirect_uri) {
        Some(format!("redirect_uri {redirect_uri:?} is not registered"))
    } else if get("response_type") != "code" {
        Some("response_type must be code".into())
    } else if !get("scope").split(' ').any(|scope| scope == "openid") {
        Some("scope must contain openid".into())
    } else {
        check_pkce_and_state(&p).err()
    };
    if let Some(refusal) = refusal {
        return (StatusCode::BAD_REQUEST, refusal).into_response();
    }
    let script = op.script();
    let (state, issuer) = (get("state"), op.issuer.as_str());
    let mut inner = op.inner();
    inner.last_authorization = Some(Authorization {
        state: state.into(),
        nonce: p.get("nonce").cloned(),
        code_challenge: get("code_challenge").into(),
        scope: get("scope").into(),
        redirect_uri: redirect_uri.into(),
        params: p.clone(),
    });
    if script.refuse {
        return redirect_with(redirect_uri, &[("error", "access_denied"), ("state", state), ("iss", issuer)]);
    }
    let code = random_hex();
    let grant = Grant {
        redirect_uri: redirect_uri.into(),
        challenge: get("code_challenge").into(),
        nonce: p.get("nonce").cloned(),
        user: script.user,
    };
    inner.grants.insert(code.clone(), grant);
    redirect_with(redirect_uri, &[("code", &code), ("state", state), ("iss", issuer)])
}

/// The client's credentials, from HTTP Basic (form-urlencoded halves, RFC 6749 §2.3.1) or the form.
fn client_credentials(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()?.strip_prefix("Basic ")) {
        let decoded = String::from_utf8(data_encoding::BASE64.decode(basic.as_bytes()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        return Some((unescape(id)?, unescape(secret)?));
    }
    Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone()))
}

async fn token(
    State(op): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    op.inner().calls.token += 1;
    let script = op.script();
    if script.unavailable.contains(&Endpoint::Token) {
        return unavailable();
    }
    if client_credentials(&headers, &form) != Some((FAKE_CLIENT_ID.into(), FAKE_CLIENT_SECRET.into())) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if let Some(error) = &script.token_error {
        return oauth_error(StatusCode::BAD_REQUEST, error);
    }
    // A code is spent by any attempt, right or wrong.
    let grant = form.get("code").and_then(|code| op.inner().grants.remove(code));
    let Some(grant) = grant.filter(|grant| {
        form.get("redirect_uri") == Some(&grant.redirect_uri)
            && verifier_matches(form.get("code_verifier"), &grant.challenge)
    }) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let access_token = random_hex();
    op.inner().access_tokens.insert(access_token.clone(), grant.user.clone());
    let id_token = id_token(&op, &script, &grant);
    let body = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600, "id_token": id_token});
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// The profile claims of `user` (the e-mail, its verification under the script's claim name, the names).
fn profile_claims(user: &OidcUser, script: &Script, claims: &mut Map<String, Value>) {
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            claims.insert(name.into(), value);
        }
    };
    put("email", user.email.clone().map(Value::from));
    put(&script.email_verified_claim, user.email.as_ref().map(|_| user.email_verified.into()));
    put("given_name", user.given_name.clone().map(Value::from));
    put("family_name", user.family_name.clone().map(Value::from));
}

/// The ID token for `grant`, made as bad as the script's [`Tamper`] says.
fn id_token(op: &Shared, script: &Script, grant: &Grant) -> String {
    let now = unix_now() + script.clock_skew;
    let mut claims = Map::new();
    claims.insert("iss".into(), op.issuer.clone().into());
    claims.insert("sub".into(), grant.user.sub.clone().into());
    claims.insert("aud".into(), FAKE_CLIENT_ID.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + 600).into());
    if let Some(nonce) = &grant.nonce {
        claims.insert("nonce".into(), nonce.clone().into());
    }
    if script.email_in_id_token {
        profile_claims(&grant.user, script, &mut claims);
    }
    claims.extend(script.extra_claims.clone());
    let mut set = |name: &str, value: Value| {
        claims.insert(name.into(), value);
    };
    match script.tamper {
        Some(Tamper::WrongIssuer) => set("iss", "https://evil.example.test".into()),
        Some(Tamper::WrongAudience) => set("aud", "someone-else".into()),
        Some(Tamper::ExtraAudienceWithoutAzp) => set("aud", json!([FAKE_CLIENT_ID, "someone-else"])),
        Some(Tamper::ExtraAudienceWithAzp) => {
            set("aud", json!([FAKE_CLIENT_ID, "someone-else"]));
            set("azp", FAKE_CLIENT_ID.into());
        }
        Some(Tamper::WrongNonce) => set("nonce", random_hex().into()),
        Some(Tamper::Expired) => {
            set("iat", (now - 3600).into());
            set("exp", (now - 120).into());
        }
        Some(Tamper::IssuedInFuture) => {
            set("iat", (now + 300).into());
            set("exp", (now + 900).into());
        }
        _ => {}
    }
    match script.tamper {
        Some(Tamper::NoNonce) => {
            claims.remove("nonce");
        }
        Some(Tamper::NoSubject) => {
            claims.remove("sub");
        }
        _ => {}
    }
    let claims = Value::Object(claims);
    let [key, other] = &op.keys;
    let (key, kid) = if script.rotated { (other, "k2") } else { (key, "k1") };
    match script.tamper {
        Some(Tamper::FlippedSignature) => {
            let token = key.sign(Algorithm::RS256, kid, &claims);
            let (input, signature) = token.rsplit_once('.').unwrap();
            let mut signature = data_encoding::BASE64URL_NOPAD.decode(signature.as_bytes()).unwrap();
            signature[10] ^= 0x01;
            format!("{input}.{}", data_encoding::BASE64URL_NOPAD.encode(&signature))
        }
        Some(Tamper::OtherKeySameKid) => op.keys[1].sign(Algorithm::RS256, "k1", &claims),
        Some(Tamper::UnknownKid) => key.sign(Algorithm::RS256, "k-unknown", &claims),
        Some(Tamper::AlgNone) => {
            let b64 = |value: Value| data_encoding::BASE64URL_NOPAD.encode(value.to_string().as_bytes());
            format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT", "kid": "k1"})), b64(claims))
        }
        Some(Tamper::Hs256WithPublicKey) => op.keys[0].sign(Algorithm::HS256, "k1", &claims),
        Some(Tamper::Malformed) => "this-is-not-a-jwt".into(),
        _ => key.sign(Algorithm::RS256, kid, &claims),
    }
}

async fn jwks(State(op): State<Arc<Shared>>) -> Response {
    op.inner().calls.jwks += 1;
    let script = op.script();
    if script.unavailable.contains(&Endpoint::Jwks) {
        return unavailable();
    }
    let mut keys = vec![op.keys[0].jwk("k1")];
    if script.rotated {
        keys.push(op.keys[1].jwk("k2"));
    }
    Json(json!({"keys": keys})).into_response()
}

async fn userinfo(State(op): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    op.inner().calls.userinfo += 1;
    let script = op.script();
    if script.unavailable.contains(&Endpoint::Userinfo) {
        return unavailable();
    }
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "));
    let Some(user) = bearer.and_then(|token| op.inner().access_tokens.get(token).cloned()) else {
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")];
        return (StatusCode::UNAUTHORIZED, challenge).into_response();
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), script.userinfo_sub.clone().unwrap_or(user.sub.clone()).into());
    profile_claims(&user, &script, &mut claims);
    Json(Value::Object(claims)).into_response()
}
