//! The OpenAPI document (docs/api.md#operations-endpoints): OpenAPI 3.1, exactly the routes and methods the router serves,
//! the same document from `GET /api/schema/` and `latchkey openapi`, every `$ref` resolvable, and
//! schemas and error responses that match what the server really answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{login, make_staff, register, request, send, PASSWORD};
use latchkey_server::AppState;
use serde_json::{json, Value};

/// Every route with its methods. A new route must be added here and documented: the tests hold
/// this list to the router, to the source and to the document.
const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/metrics", &["get"]),
    ("/api/schema/", &["get"]),
    ("/.well-known/jwks.json", &["get"]),
    ("/api/auth/register/", &["post"]),
    ("/api/auth/me/", &["get", "patch", "delete"]),
    ("/api/auth/reauthenticate/", &["post"]),
    ("/api/auth/reauthenticate/passkey/options/", &["post"]),
    ("/api/token/", &["post"]),
    ("/api/token/refresh/", &["post"]),
    ("/api/token/verify/", &["post"]),
    ("/api/token/blacklist/", &["post"]),
    ("/api/auth/logout/", &["post"]),
    ("/api/auth/logout-all/", &["post"]),
    ("/api/auth/sessions/", &["get"]),
    ("/api/auth/sessions/{id}/", &["patch", "delete"]),
    ("/api/token/mfa/", &["post"]),
    ("/api/token/mfa/webauthn/options/", &["post"]),
    ("/api/token/mfa/sms/send/", &["post"]),
    ("/api/token/passkey/options/", &["post"]),
    ("/api/token/passkey/", &["post"]),
    ("/api/token/social/", &["post"]),
    ("/api/auth/code/request/", &["post"]),
    ("/api/token/code/", &["post"]),
    ("/api/auth/providers/", &["get"]),
    ("/api/auth/social/{provider}/authorize/", &["post"]),
    ("/api/auth/social/{provider}/callback/", &["get"]),
    ("/api/auth/social/link/confirm/", &["post"]),
    ("/api/auth/social/accounts/", &["get"]),
    ("/api/auth/social/accounts/{id}/", &["delete"]),
    ("/api/auth/passkeys/", &["get"]),
    ("/api/auth/passkeys/register/options/", &["post"]),
    ("/api/auth/passkeys/register/", &["post"]),
    ("/api/auth/passkeys/{id}/", &["patch", "delete"]),
    ("/api/auth/2fa/", &["get"]),
    ("/api/auth/2fa/totp/", &["post"]),
    ("/api/auth/2fa/totp/{id}/confirm/", &["post"]),
    ("/api/auth/2fa/totp/{id}/", &["delete"]),
    ("/api/auth/2fa/backup-codes/", &["post"]),
    ("/api/auth/2fa/sms/", &["post"]),
    ("/api/auth/2fa/sms/{id}/confirm/", &["post"]),
    ("/api/auth/2fa/sms/{id}/", &["delete"]),
    ("/api/auth/password/policy/", &["get"]),
    ("/api/auth/password/validate/", &["post"]),
    ("/api/auth/password/change/", &["post"]),
    ("/api/auth/password/reset/", &["post"]),
    ("/api/auth/password/reset/confirm/", &["post"]),
    ("/api/auth/email/verify/", &["post"]),
    ("/api/auth/email/verify/resend/", &["post"]),
    ("/api/auth/audit/", &["get"]),
    ("/api/admin/audit/", &["get"]),
    ("/api/auth/api-keys/", &["get", "post"]),
    ("/api/auth/api-keys/{id}/", &["delete"]),
    ("/api/orgs/", &["get", "post"]),
    ("/api/orgs/{slug}/", &["patch"]),
    ("/api/orgs/{slug}/members/", &["get", "post"]),
    ("/api/orgs/{slug}/members/{user_id}/", &["patch", "delete"]),
    ("/api/orgs/{slug}/invitations/", &["post"]),
    ("/api/orgs/invitations/", &["get"]),
    ("/api/orgs/invitations/{id}/accept/", &["post"]),
    ("/api/orgs/invitations/{id}/decline/", &["post"]),
    ("/api/admin/users/", &["get"]),
    ("/api/admin/users/{id}/", &["get", "patch"]),
    ("/api/admin/users/{id}/logout/", &["post"]),
    ("/api/admin/users/{id}/2fa/reset/", &["post"]),
    ("/api/admin/users/{id}/sessions/", &["get"]),
    ("/api/admin/users/{id}/sessions/{sid}/", &["delete"]),
    ("/api/admin/webhooks/", &["get", "post"]),
    ("/api/admin/webhooks/{id}/", &["get", "patch", "delete"]),
    ("/api/admin/webhooks/{id}/test/", &["post"]),
    ("/api/admin/webhooks/{id}/deliveries/", &["get"]),
    ("/api/admin/users/{id}/api-keys/", &["get"]),
    ("/api/admin/users/{id}/api-keys/{key_id}/", &["delete"]),
];

/// The methods an OpenAPI path item can hold, and the ones the router is probed with.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const PROBED: [&str; 5] = ["get", "put", "post", "patch", "delete"];

type Routes = BTreeMap<String, BTreeSet<String>>;

fn expected_routes() -> Routes {
    ROUTES.iter().map(|(path, methods)| (path.to_string(), methods.iter().map(|m| m.to_string()).collect())).collect()
}

async fn sqlite() -> AppState {
    common::state(common::Backend::Sqlite).await.expect("a SQLite state")
}

async fn schema(state: &AppState) -> Value {
    let (status, body, response) = send(state, request("GET", "/api/schema/", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    body
}

/// A concrete URI for a templated path.
fn concrete(path: &str) -> String {
    path.replace("{id}", "0123456789abcdef0123456789abcdef")
        .replace("{slug}", "acme")
        .replace("{user_id}", "1")
        .replace("{key_id}", "1")
        .replace("{sid}", "0123456789abcdef0123456789abcdef")
        .replace("{provider}", "github")
}

/// The operations of the document, as `(path, method) -> operation`.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert((path.clone(), method.to_owned()), operation.clone());
            }
        }
    }
    operations
}

/// Follows a `$ref` (`#/components/...`) to its target, or returns `value` itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("{reference}")),
        None => value,
    }
}

/// The resolved response of an operation for `status`.
fn response<'a>(doc: &'a Value, operation: &'a Value, status: &str) -> Option<&'a Value> {
    operation["responses"].get(status).map(|r| resolve(doc, r))
}

/// The paths of every `.route("…", …)` and every `#[utoipa::path(…, path = "…")]` (which
/// utoipa-axum's `routes!` registers) in the server's source. The router cannot list its routes;
/// this is how a route that nobody added to `ROUTES` (and so to the probes) gets noticed.
fn routes_in_source(dir: &Path, paths: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            routes_in_source(&path, paths);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for other in [".nest(", ".nest_service(", ".route_service("] {
            assert!(!text.contains(other), "{}: teach routes_in_source about {other}", path.display());
        }
        // Routes in doc comments (examples for embedding applications) are not the router's.
        let code: String =
            text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let text = code;
        for (at, _) in text.match_indices(".route(") {
            let rest = text[at + ".route(".len()..].trim_start();
            let literal = rest.strip_prefix('"').unwrap_or_else(|| panic!("{}: a non-literal route", path.display()));
            paths.insert(literal[..literal.find('"').unwrap()].to_owned());
        }
        for (at, _) in text.match_indices("#[utoipa::path(") {
            let attribute = &text[at..];
            let attribute = &attribute[..attribute.find(")]\n").unwrap_or(attribute.len())];
            let (_, rest) = attribute
                .split_once("path = \"")
                .unwrap_or_else(|| panic!("{}: a path without `path`", path.display()));
            paths.insert(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1() {
    let doc = schema(&sqlite().await).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(doc["info"]["title"], "Latchkey");
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!((bearer["type"].as_str(), bearer["scheme"].as_str()), (Some("http"), Some("bearer")));
}

#[tokio::test]
async fn every_route_the_router_serves_is_documented_with_its_methods() {
    let state = sqlite().await;
    let expected = expected_routes();

    let mut in_source = BTreeSet::new();
    routes_in_source(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut in_source);
    assert_eq!(in_source, expected.keys().cloned().collect(), "routes in the source vs ROUTES");

    // The router answers 405 (from its fallback) exactly for the methods a path does not serve.
    let mut served = Routes::new();
    for path in expected.keys() {
        for method in PROBED {
            let (status, _, _) = send(&state, request(&method.to_uppercase(), &concrete(path), None, None)).await;
            if status != StatusCode::METHOD_NOT_ALLOWED {
                served.entry(path.clone()).or_default().insert(method.to_owned());
            }
        }
    }
    assert_eq!(served, expected, "what the router serves vs ROUTES");

    let mut documented = Routes::new();
    for (path, method) in operations(&schema(&state).await).into_keys() {
        documented.entry(path).or_default().insert(method);
    }
    assert_eq!(documented, expected, "the document vs ROUTES");
}

#[tokio::test]
async fn the_cli_prints_the_document_the_server_serves() {
    let served = schema(&sqlite().await).await;
    let dir = std::env::temp_dir().join(format!("latchkey-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("openapi")
        .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
        .env("LATCHKEY_LOG", "warn")
        .output()
        .expect("run latchkey openapi");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("the CLI prints JSON");
    assert_eq!(printed, served);
}

#[tokio::test]
async fn every_reference_resolves() {
    fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref") {
                    found.push(reference.as_str().expect("a string $ref"));
                }
                map.values().for_each(|v| references(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, found)),
            _ => {}
        }
    }
    let doc = schema(&sqlite().await).await;
    let mut found = Vec::new();
    references(&doc, &mut found);
    assert!(found.len() > 20, "the document refers to its components: {found:?}");
    for reference in found {
        let pointer = reference.strip_prefix("#/components/").expect("a local component reference");
        assert!(doc["components"].pointer(&format!("/{pointer}")).is_some(), "{reference} does not resolve");
    }
}

/// Registers a user and logs in once more; returns the registration's body and a fresh access token.
async fn user_with_token(state: &AppState, email: &str) -> (Value, String) {
    let registered = register(state, json!({"email": email, "password": PASSWORD, "password_confirm": PASSWORD})).await;
    (registered, login(state, email, PASSWORD).await)
}

fn has_header(response: &Value, name: &str) -> bool {
    response["headers"].as_object().is_some_and(|headers| headers.keys().any(|h| h.eq_ignore_ascii_case(name)))
}

#[tokio::test]
async fn authentication_and_bodies_are_documented_where_the_server_requires_them() {
    let state = sqlite().await;
    let doc = schema(&state).await;
    let (registered, token) = user_with_token(&state, "probe@example.com").await;
    // The probe is staff and the admin of `acme`, so that permission checks pass and bodies are read.
    let id = registered["user"]["id"].as_i64().unwrap();
    make_staff(&state, id).await;
    let org = json!({"name": "Acme", "slug": "acme"});
    let (status, _, _) = send(&state, request("POST", "/api/orgs/", Some(org), Some(&token))).await;
    assert_eq!(status, StatusCode::CREATED);
    for ((path, method), operation) in operations(&doc) {
        let uri = concrete(&path);
        let what = format!("{} {path}", method.to_uppercase());
        // Without credentials: endpoints behind `AuthUser` answer DRF's 401.
        let (status, body, _) = send(&state, request(&method.to_uppercase(), &uri, None, None)).await;
        let requires_auth =
            status == StatusCode::UNAUTHORIZED && body["detail"] == "Authentication credentials were not provided.";
        // `[{"bearer": []}, {}]`: a bearer token, or another proof in the body (an expired
        // password's change token, an address to resend to); without either, still a 401 or a 400.
        let bearer_only = operation.get("security") == Some(&json!([{"bearer": []}]));
        let bearer_or_body = operation.get("security") == Some(&json!([{"bearer": []}, {}]));
        assert!(if requires_auth { bearer_only || bearer_or_body } else { !bearer_only }, "{what}: security");
        if requires_auth {
            let unauthorized = response(&doc, &operation, "401").unwrap_or_else(|| panic!("{what}: no 401"));
            assert!(has_header(unauthorized, "WWW-Authenticate"), "{what}: 401 without WWW-Authenticate");
        }
        // With a fresh token (logout-all must not spoil the next probe) and a body that is not
        // JSON: endpoints that read a body answer 400 `JSON parse error`.
        let token = login(&state, "probe@example.com", PASSWORD).await;
        let malformed = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap();
        let (status, body, _) = send(&state, malformed).await;
        let reads_body = status == StatusCode::BAD_REQUEST
            && body["detail"].as_str().is_some_and(|d| d.starts_with("JSON parse error"));
        assert_eq!(operation.get("requestBody").is_some(), reads_body, "{what}: request body");
        if reads_body {
            for status in ["400", "413", "415"] {
                assert!(response(&doc, &operation, status).is_some(), "{what}: no {status}");
            }
        }
    }
    // Logins and registrations queue for the password hasher, and say when to come back.
    for path in ["/api/token/", "/api/auth/register/"] {
        let operation = &doc["paths"][path]["post"];
        let unavailable = response(&doc, operation, "503").unwrap_or_else(|| panic!("{path}: no 503"));
        assert!(has_header(unavailable, "Retry-After"), "{path}: 503 without Retry-After");
    }
}

/// The property names of a component schema, and the required ones.
fn fields(doc: &Value, schema: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let schema = &doc["components"]["schemas"][schema];
    let properties = schema["properties"].as_object().unwrap_or_else(|| panic!("{schema}")).keys().cloned().collect();
    let required = schema["required"].as_array().into_iter().flatten().map(|r| r.as_str().unwrap().to_owned());
    (properties, required.collect())
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().cloned().collect()
}

/// Every field of `body` is documented and every required field is present.
fn conforms(doc: &Value, schema: &str, body: &Value) {
    let (properties, required) = fields(doc, schema);
    assert_eq!(keys(body), properties, "{schema} vs {body}");
    assert!(required.is_subset(&keys(body)), "{schema}: required {required:?}, got {body}");
}

#[tokio::test]
async fn success_schemas_match_real_answers() {
    let state = sqlite().await;
    let doc = schema(&state).await;
    let (registered, token) = user_with_token(&state, "ada@example.com").await;
    conforms(&doc, "Registered", &registered);
    conforms(&doc, "User", &registered["user"]);
    conforms(&doc, "TokenPair", &registered["tokens"]);

    let (status, me, _) = send(&state, request("GET", "/api/auth/me/", None, Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
    conforms(&doc, "User", &me);

    let (status, sessions, _) = send(&state, request("GET", "/api/auth/sessions/", None, Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    sessions.iter().for_each(|session| conforms(&doc, "Session", session));

    // Cookie mode: the access token in the body, the refresh token in `Set-Cookie`.
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD, "cookie": true});
    let (status, tokens, answer) = send(&state, request("POST", "/api/token/", Some(credentials), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.headers().contains_key(header::SET_COOKIE));
    let (properties, required) = fields(&doc, "IssuedTokens");
    assert!(keys(&tokens).is_subset(&properties) && required.is_subset(&keys(&tokens)), "{tokens}");
    let obtained = response(&doc, &doc["paths"]["/api/token/"]["post"], "200").unwrap();
    assert!(has_header(obtained, "Set-Cookie"));
    assert!(fields(&doc, "TokenObtainRequest").0.contains("cookie"));

    // Two-factor: a new device, the status, the backup codes, and the login's 403.
    let (status, device, _) = send(&state, request("POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&token))).await;
    assert_eq!(status, StatusCode::CREATED);
    conforms(&doc, "NewDevice", &device);
    let secret = device["secret"].as_str().unwrap();
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let code = json!({"code": common::totp(secret, state.clock.now())});
    let (status, codes, _) = send(&state, request("POST", &confirm, Some(code), Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
    conforms(&doc, "BackupCodes", &codes);
    let (status, two_factor, _) = send(&state, request("GET", "/api/auth/2fa/", None, Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
    conforms(&doc, "TwoFactorStatus", &two_factor);
    conforms(&doc, "TotpDevice", &two_factor["devices"][0]);
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    let (status, challenge, _) = send(&state, request("POST", "/api/token/", Some(credentials), None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    conforms(&doc, "MfaChallenge", &challenge);

    let (status, health, _) = send(&state, request("GET", "/healthz", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    conforms(&doc, "Status", &health);

    // Errors: DRF's field errors and `{"detail", "code"}`.
    let mismatch = json!({"email": "bob@example.com", "password": PASSWORD, "password_confirm": "something else"});
    let (status, errors, _) = send(&state, request("POST", "/api/auth/register/", Some(mismatch), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors, json!({"password_confirm": ["Passwords do not match."]}));
    assert_eq!(doc["components"]["schemas"]["FieldErrors"]["additionalProperties"]["items"]["type"], "string");
    let (status, error, _) =
        send(&state, request("POST", "/api/token/verify/", Some(json!({"token": "x"})), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (properties, required) = fields(&doc, "ErrorDetail");
    assert!(keys(&error).is_subset(&properties) && required.is_subset(&keys(&error)), "{error}");
}
