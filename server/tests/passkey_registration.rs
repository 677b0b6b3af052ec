//! Registering and managing passkeys (docs/api.md#passkeys) on both databases: the options the server
//! asks for, the ceremony's single use, expiry and binding, the verifier's refusals, the list,
//! renaming and removing, who may do each, and a passkey as the account's second factor. The
//! authenticator is `common::SoftKey`, written from the WebAuthn specification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_passkey, audit_events, audited, call, create_user, login_pair, pass, registration_options, try_add_passkey,
    window_passes, with_passkeys, Knobs, SoftKey, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};

async fn signed_in(state: &AppState, email: &str) -> (i64, String) {
    let id = create_user(state, email, PASSWORD).await;
    (id, login_pair(state, email, PASSWORD).await.0)
}

on_both!(registration_asks_for_a_discoverable_credential_and_prefers_user_verification, |state: AppState| async move {
    let state = with_passkeys(state);
    let (_, access) = signed_in(&state, "ada@example.com").await;
    let (status, options) = registration_options(&state, &access, Some("Laptop")).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let id = options["ceremony_id"].as_str().unwrap();
    assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(public_key["user"]["name"], "ada@example.com");
    assert_eq!(public_key["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(public_key["authenticatorSelection"]["userVerification"], "preferred");
    assert_eq!(public_key["attestation"], "none");
    assert_eq!(public_key["timeout"], 300_000);
    assert!(public_key["pubKeyCredParams"].as_array().unwrap().iter().any(|p| p["alg"] == -7), "{public_key}");
    // The user handle is drawn once: 32 random bytes, the same in every ceremony of the account.
    let handle = public_key["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(common::unb64url(&handle).len(), 32);
    let mut key = SoftKey::new();
    add_passkey(&state, &access, &mut key).await;
    let (_, again) = registration_options(&state, &access, None).await;
    assert_eq!(again["publicKey"]["user"]["id"], handle.as_str());
    // The passkeys the account has are excluded: an authenticator will not make a second one.
    assert_eq!(again["publicKey"]["excludeCredentials"], json!([{"type": "public-key", "id": key.id()}]));
});

on_both!(a_passkey_is_registered_listed_renamed_and_removed, |state: AppState| async move {
    let state = with_passkeys(state);
    let (user_id, access) = signed_in(&state, "ada@example.com").await;
    let knobs = Knobs {
        backup_eligible: true,
        backed_up: true,
        transports: vec!["internal".into(), "hybrid".into()],
        ..Knobs::default()
    };
    let mut key = SoftKey::new();
    let (status, passkey) = try_add_passkey(&state, &access, &mut key, &knobs).await;
    assert_eq!(status, StatusCode::CREATED, "{passkey}");
    assert_eq!(passkey["name"], "Laptop");
    assert_eq!(passkey["backed_up"], true);
    assert_eq!(passkey["transports"], json!(["internal", "hybrid"]));
    assert_eq!(passkey["last_used_at"], Value::Null);
    assert!(passkey["created_at"].as_str().unwrap().ends_with('Z'), "{passkey}");
    let id = passkey["id"].as_i64().unwrap();

    let (status, list) = call(&state, "GET", "/api/auth/passkeys/", None, Some(&access)).await;
    assert_eq!((status, list), (StatusCode::OK, json!([passkey])));
    // A passkey is a second factor: 2FA is on, and this session verified it by adding one.
    let (_, two_factor) = call(&state, "GET", "/api/auth/2fa/", None, Some(&access)).await;
    assert_eq!(two_factor["enabled"], true);

    let path = format!("/api/auth/passkeys/{id}/");
    let (status, renamed) = call(&state, "PATCH", &path, Some(json!({"name": " Work laptop "})), Some(&access)).await;
    assert_eq!((status, &renamed["name"]), (StatusCode::OK, &json!("Work laptop")));
    for (name, message) in [
        (json!(""), "This field may not be blank."),
        (json!("x".repeat(65)), "Ensure this field has no more than 64 characters."),
    ] {
        let (status, body) = call(&state, "PATCH", &path, Some(json!({ "name": name })), Some(&access)).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"name": [message]})));
    }

    let (status, body) = call(&state, "DELETE", &path, None, Some(&access)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, list) = call(&state, "GET", "/api/auth/passkeys/", None, Some(&access)).await;
    assert_eq!(list, json!([]));
    let (_, two_factor) = call(&state, "GET", "/api/auth/2fa/", None, Some(&access)).await;
    assert_eq!(two_factor["enabled"], false);
    let events: Vec<String> = audit_events(&state, user_id).await.into_iter().map(|(event, _)| event).collect();
    let expected = ["passkey_added", "mfa_enabled", "passkey_removed", "mfa_disabled"].map(String::from);
    assert!(events.ends_with(&expected), "{events:?}");
    let added = audited(&state, "passkey_added", Some(user_id)).await;
    assert_eq!(added, vec![json!({"passkey_id": id, "name": "Laptop", "backed_up": true})]);
    let (status, _) = call(&state, "DELETE", &path, None, Some(&access)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

on_both!(a_registration_ceremony_is_single_use_expires_and_belongs_to_its_session, |state: AppState| async move {
    let state = with_passkeys(state);
    let (_, access) = signed_in(&state, "ada@example.com").await;
    let (_, other) = signed_in(&state, "bob@example.com").await;
    let register = |options: &Value, credential: Value| json!({ "ceremony_id": options["ceremony_id"], "credential": credential, "name": "Key" });
    let invalid =
        |body: &Value| body["code"] == "passkey_invalid" && body["detail"].as_str().is_some_and(|d| !d.is_empty());

    // Another user's ceremony is no ceremony, and it is spent by the try.
    let (_, options) = registration_options(&state, &access, None).await;
    let credential = SoftKey::new().register(&options["publicKey"], &Knobs::default());
    let (status, body) = call(
        &state,
        "POST",
        "/api/auth/passkeys/register/",
        Some(register(&options, credential.clone())),
        Some(&other),
    )
    .await;
    assert!(status == StatusCode::BAD_REQUEST && invalid(&body), "{status} {body}");
    let (status, body) =
        call(&state, "POST", "/api/auth/passkeys/register/", Some(register(&options, credential)), Some(&access)).await;
    assert!(status == StatusCode::BAD_REQUEST && invalid(&body), "spent: {status} {body}");

    // Single use: the same answer twice registers once.
    let (_, options) = registration_options(&state, &access, None).await;
    let credential = SoftKey::new().register(&options["publicKey"], &Knobs::default());
    let (status, _) = call(
        &state,
        "POST",
        "/api/auth/passkeys/register/",
        Some(register(&options, credential.clone())),
        Some(&access),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) =
        call(&state, "POST", "/api/auth/passkeys/register/", Some(register(&options, credential)), Some(&access)).await;
    assert!(status == StatusCode::BAD_REQUEST && invalid(&body), "{status} {body}");

    // Five minutes.
    let (_, options) = registration_options(&state, &access, None).await;
    pass(&state, 301);
    let credential = SoftKey::new().register(&options["publicKey"], &Knobs::default());
    let (status, body) =
        call(&state, "POST", "/api/auth/passkeys/register/", Some(register(&options, credential)), Some(&access)).await;
    assert!(status == StatusCode::BAD_REQUEST && invalid(&body), "{status} {body}");
    let (_, list) = call(&state, "GET", "/api/auth/passkeys/", None, Some(&access)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
});

on_both!(
    the_verifier_refuses_foreign_origins_relying_parties_challenges_and_absent_users,
    |state: AppState| async move {
        let state = with_passkeys(state);
        let (_, access) = signed_in(&state, "ada@example.com").await;
        let tampered = [
            ("origin", Knobs { origin: "https://evil.example".into(), ..Knobs::default() }),
            ("origin's port", Knobs { origin: "http://localhost:8001".into(), ..Knobs::default() }),
            ("rp id", Knobs { rp_id: "evil.example".into(), ..Knobs::default() }),
            ("challenge", Knobs { challenge: Some(common::b64url(&[7; 32])), ..Knobs::default() }),
            ("ceremony type", Knobs { ceremony_type: Some("webauthn.get".into()), ..Knobs::default() }),
            ("user presence", Knobs { user_present: false, ..Knobs::default() }),
        ];
        for (what, knobs) in tampered {
            let (status, body) = try_add_passkey(&state, &access, &mut SoftKey::new(), &knobs).await;
            assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{what}: {body}");
        }
        // Not a credential at all: a DRF field error, or a malformed credential.
        let (_, options) = registration_options(&state, &access, None).await;
        let body = json!({ "ceremony_id": options["ceremony_id"], "credential": "x" });
        let (status, body) = call(&state, "POST", "/api/auth/passkeys/register/", Some(body), Some(&access)).await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, json!({"credential": ["Expected a dictionary of items."]}))
        );
        let (_, options) = registration_options(&state, &access, None).await;
        let body = json!({ "ceremony_id": options["ceremony_id"], "credential": {"id": "x"} });
        let (status, body) = call(&state, "POST", "/api/auth/passkeys/register/", Some(body), Some(&access)).await;
        assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
        let (_, list) = call(&state, "GET", "/api/auth/passkeys/", None, Some(&access)).await;
        assert_eq!(list, json!([]));
    }
);

on_both!(one_credential_is_registered_once, |state: AppState| async move {
    let state = with_passkeys(state);
    let (_, ada) = signed_in(&state, "ada@example.com").await;
    let (_, bob) = signed_in(&state, "bob@example.com").await;
    let mut key = SoftKey::new();
    add_passkey(&state, &ada, &mut key).await;
    let (_, bob_two_factor) = call(&state, "GET", "/api/auth/2fa/", None, Some(&bob)).await;
    assert_eq!(bob_two_factor["enabled"], false);
    // A client that ignores excludeCredentials, or another account holding the same credential id.
    let (status, body) = try_add_passkey(&state, &bob, &mut key, &Knobs::default()).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
});

on_both!(adding_and_removing_a_passkey_is_privileged, |state: AppState| async move {
    let state = with_passkeys(state);
    let (_, early) = signed_in(&state, "ada@example.com").await;
    let access = login_pair(&state, "ada@example.com", PASSWORD).await.0;
    let passkey = add_passkey(&state, &access, &mut SoftKey::new()).await;
    let path = format!("/api/auth/passkeys/{}/", passkey["id"]);
    // 2FA is on now: a session that never verified a second factor changes nothing.
    let (status, _) = registration_options(&state, &early, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&state, "DELETE", &path, None, Some(&early)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Outside the re-authentication window: prove it is you first.
    window_passes(&state);
    let required = json!({"detail": "Please confirm it is you.", "code": "reauthentication_required"});
    assert_eq!(registration_options(&state, &access, None).await, (StatusCode::FORBIDDEN, required.clone()));
    assert_eq!(call(&state, "DELETE", &path, None, Some(&access)).await, (StatusCode::FORBIDDEN, required));
    // Renaming is not sensitive.
    let (status, _) = call(&state, "PATCH", &path, Some(json!({"name": "Phone"})), Some(&access)).await;
    assert_eq!(status, StatusCode::OK);
});

on_both!(the_last_way_to_sign_in_cannot_be_removed, |state: AppState| async move {
    let state = with_passkeys(state);
    let (user_id, access) = signed_in(&state, "ada@example.com").await;
    let first = add_passkey(&state, &access, &mut SoftKey::new()).await;
    let second = add_passkey(&state, &access, &mut SoftKey::new()).await;
    // An account without a usable password (Django's `!` hash: imported, or passwordless).
    sqlx::query("UPDATE users SET password = '!unusable' WHERE id = $1")
        .bind(user_id)
        .execute(&state.db.pool)
        .await
        .unwrap();
    state.db.forget_user(user_id).await;
    let (status, _) =
        call(&state, "DELETE", &format!("/api/auth/passkeys/{}/", first["id"]), None, Some(&access)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) =
        call(&state, "DELETE", &format!("/api/auth/passkeys/{}/", second["id"]), None, Some(&access)).await;
    assert_eq!((status, &body["code"]), (StatusCode::CONFLICT, &json!("last_sign_in_method")), "{body}");
    let (_, list) = call(&state, "GET", "/api/auth/passkeys/", None, Some(&access)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
});

on_both!(staff_s_two_factor_reset_removes_passkeys, |state: AppState| async move {
    let state = with_passkeys(state);
    let (user_id, access) = signed_in(&state, "ada@example.com").await;
    add_passkey(&state, &access, &mut SoftKey::new()).await;
    let (staff_id, staff) = signed_in(&state, "staff@example.com").await;
    common::make_staff(&state, staff_id).await;
    let path = format!("/api/admin/users/{user_id}/2fa/reset/");
    let (status, body) = call(&state, "POST", &path, Some(json!({"reason": "lost phone"})), Some(&staff)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(count.0, 0);
    assert_eq!(audited(&state, "admin_2fa_reset", Some(user_id)).await[0]["devices_removed"], 1);
});

on_both!(passkeys_are_unavailable_without_a_relying_party, |state: AppState| async move {
    // The default test state: the public URL is http://127.0.0.1:8000, and an IP is no RP ID.
    assert!(state.webauthn.is_none());
    let (_, access) = signed_in(&state, "ada@example.com").await;
    let unavailable = json!({"detail": "Passkeys are not available on this server.", "code": "passkeys_unavailable"});
    assert_eq!(registration_options(&state, &access, None).await, (StatusCode::NOT_FOUND, unavailable.clone()));
    let (status, body) = call(&state, "POST", "/api/token/passkey/options/", Some(json!({})), None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, unavailable));
    // A password login does not offer what the server cannot check.
    let (_, body) =
        call(&state, "POST", "/api/auth/reauthenticate/passkey/options/", Some(json!({})), Some(&access)).await;
    assert_eq!(body["code"], "passkeys_unavailable");
});

on_both!(api_keys_cannot_manage_passkeys, |state: AppState| async move {
    let state = with_passkeys(state);
    let (_, access) = signed_in(&state, "ada@example.com").await;
    let (status, key) =
        call(&state, "POST", "/api/auth/api-keys/", Some(json!({"name": "ci", "scopes": ["read"]})), Some(&access))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let (status, _) = common::with_key(&state, "GET", "/api/auth/passkeys/", None, key["key"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

on_both!(ceremonies_in_flight_are_bounded, |state: AppState| async move {
    let state = with_passkeys(state);
    let (user_id, access) = signed_in(&state, "ada@example.com").await;
    let rows = |purpose: &'static str| {
        let state = state.clone();
        async move {
            let sql = "SELECT COUNT(*), COALESCE(MAX(LENGTH(state)), 0) FROM passkey_ceremonies WHERE purpose = $1";
            sqlx::query_as::<_, (i64, i64)>(sql).bind(purpose).fetch_one(&state.db.pool).await.unwrap()
        }
    };
    // A signed-in user has one registration in flight: asking again replaces it.
    let (_, first) = registration_options(&state, &access, None).await;
    for _ in 0..20 {
        registration_options(&state, &access, None).await;
    }
    assert_eq!(rows("register").await.0, 1);
    let credential = SoftKey::new().register(&first["publicKey"], &Knobs::default());
    let body = json!({ "ceremony_id": first["ceremony_id"], "credential": credential });
    let (status, body) = call(&state, "POST", "/api/auth/passkeys/register/", Some(body), Some(&access)).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
    // A sign-in ceremony keeps the challenge, not the account's public keys.
    for _ in 0..10 {
        add_passkey(&state, &access, &mut SoftKey::new()).await;
    }
    common::login_options(&state, Some("ada@example.com")).await;
    let (count, longest) = rows("login").await;
    assert_eq!(count, 1);
    assert!(longest < 400, "a stored sign-in ceremony is {longest} bytes");
    assert_eq!(common::audited(&state, "passkey_added", Some(user_id)).await.len(), 10);
});
