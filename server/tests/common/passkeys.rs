//! Passkeys through the API: a server whose relying party is `localhost` (the default test state
//! has passkeys off, as a public URL on 127.0.0.1 does), a passkey added to an account, and the
//! ceremonies of signing in with one.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_server::webauthn::RelyingParty;
use latchkey_server::AppState;
use serde_json::{json, Value};

use super::{call, Knobs, SoftKey};

/// The origin the soft keys answer from by default (`Knobs::default`).
pub const ORIGIN: &str = "http://localhost:8000";

/// `state` with passkeys on: RP ID `localhost`, the one origin [`ORIGIN`].
pub fn with_passkeys(mut state: AppState) -> AppState {
    let party = RelyingParty::new("Latchkey", "localhost", &[ORIGIN.to_owned()], &[9; 32]).unwrap();
    state.webauthn = Some(Arc::new(party));
    state
}

/// Registration options for the session of `access`: the status and the answer.
pub async fn registration_options(state: &AppState, access: &str, name: Option<&str>) -> (StatusCode, Value) {
    let body = name.map_or_else(|| json!({}), |name| json!({ "name": name }));
    call(state, "POST", "/api/auth/passkeys/register/options/", Some(body), Some(access)).await
}

/// `key` answers fresh registration options of the session of `access` with `knobs`: the status
/// and the answer of `POST /api/auth/passkeys/register/`.
pub async fn try_add_passkey(state: &AppState, access: &str, key: &mut SoftKey, knobs: &Knobs) -> (StatusCode, Value) {
    let (status, options) = registration_options(state, access, None).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let credential = key.register(&options["publicKey"], knobs);
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential, "name": "Laptop" });
    call(state, "POST", "/api/auth/passkeys/register/", Some(body), Some(access)).await
}

/// Adds `key` as a passkey named "Laptop" to the account of `access`, which must succeed: the passkey.
pub async fn add_passkey(state: &AppState, access: &str, key: &mut SoftKey) -> Value {
    let (status, passkey) = try_add_passkey(state, access, key, &Knobs::default()).await;
    assert_eq!(status, StatusCode::CREATED, "{passkey}");
    passkey
}

/// Sign-in options, for `email`'s passkeys when given: the answer, which must be a 200.
pub async fn login_options(state: &AppState, email: Option<&str>) -> Value {
    let body = email.map_or_else(|| json!({}), |email| json!({ "email": email }));
    let (status, options) = call(state, "POST", "/api/token/passkey/options/", Some(body), None).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    options
}

/// `POST /api/token/passkey/` with `credential` for ceremony `options`: the status and the answer.
pub async fn answer_login(state: &AppState, options: &Value, credential: Value) -> (StatusCode, Value) {
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential });
    call(state, "POST", "/api/token/passkey/", Some(body), None).await
}

/// A discoverable sign-in by `key` with `knobs`: the status and the answer.
pub async fn passkey_login(state: &AppState, key: &mut SoftKey, knobs: &Knobs) -> (StatusCode, Value) {
    let options = login_options(state, None).await;
    let credential = key.assert(&options["publicKey"], knobs);
    answer_login(state, &options, credential).await
}
