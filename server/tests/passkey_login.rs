//! Signing in with a passkey (docs/api.md#passkeys) on both databases: discoverable sign-in (the
//! browser's autofill) and sign-in for a named account, the session it opens, and every assertion
//! the server must refuse: foreign origins and relying parties, other challenges, bad signatures,
//! replays, another account's user handle, a signature counter that goes backwards, and the
//! accounts that may not sign in at all. Each refusal writes one audit row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{
    add_passkey, answer_login, audited, call, claims, configured, create_user, list_sessions, login_options,
    login_pair, pass, passkey_login, send, with_passkeys, Knobs, SoftKey, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};

/// A user with one passkey, `key`: its id.
async fn with_a_passkey(state: &AppState, email: &str, key: &mut SoftKey) -> i64 {
    let id = create_user(state, email, PASSWORD).await;
    let access = login_pair(state, email, PASSWORD).await.0;
    add_passkey(state, &access, key).await;
    id
}

fn refused(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::BAD_REQUEST
        && body["code"] == "passkey_invalid"
        && body["detail"].as_str().is_some_and(|detail| !detail.is_empty())
}

on_both!(a_discoverable_passkey_opens_a_session_whose_mfa_is_user_verification, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    let user_id = with_a_passkey(&state, "ada@example.com", &mut key).await;
    let options = login_options(&state, None).await;
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]), "discoverable: {options}");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["userVerification"], "preferred");
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let (status, tokens) = answer_login(&state, &options, credential).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["mfa"], true);
    assert_eq!(claims(&state, access).user_id, user_id.to_string());
    let (_, sessions) = list_sessions(&state, access).await;
    let current: Vec<&Value> = sessions.as_array().unwrap().iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current[0]["auth_method"], "passkey", "{sessions}");
    let succeeded = audited(&state, "login_succeeded", Some(user_id)).await;
    assert_eq!(succeeded.last().unwrap(), &json!({"mfa": true, "method": "passkey"}));
    let (_, list) = call(&state, "GET", "/api/auth/passkeys/", None, Some(access)).await;
    assert!(list[0]["last_used_at"].is_string(), "{list}");

    // An authenticator that did not verify the user (no PIN, no biometric) signs in with one factor.
    let mut plain = SoftKey::new();
    let plain_user = create_user(&state, "bob@example.com", PASSWORD).await;
    let bob = login_pair(&state, "bob@example.com", PASSWORD).await.0;
    let unverified = Knobs { user_verified: false, ..Knobs::default() };
    let (status, _) = common::try_add_passkey(&state, &bob, &mut plain, &unverified).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, tokens) = passkey_login(&state, &mut plain, &unverified).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(claims(&state, tokens["access"].as_str().unwrap()).extra["mfa"], false);
    assert_eq!(audited(&state, "login_succeeded", Some(plain_user)).await.last().unwrap()["mfa"], false);
});

on_both!(cookie_mode_and_organizations_work_as_at_password_login, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    with_a_passkey(&state, "ada@example.com", &mut key).await;
    let options = login_options(&state, None).await;
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential, "cookie": true });
    let request = Request::post("/api/token/passkey/")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, tokens, response) = send(&state, request).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.get("refresh").is_none(), "{tokens}");
    let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("latchkey_refresh=") && cookie.contains("HttpOnly"), "{cookie}");
    // An organization the user is not a member of is refused as at password login.
    let options = login_options(&state, None).await;
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential, "org": "acme" });
    let (status, body) = call(&state, "POST", "/api/token/passkey/", Some(body), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
});

on_both!(options_for_an_address_do_not_tell_who_has_passkeys, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    with_a_passkey(&state, "ada@example.com", &mut key).await;
    create_user(&state, "bob@example.com", PASSWORD).await;
    let ids = |options: &Value| -> Vec<String> {
        let list = options["publicKey"]["allowCredentials"].as_array().unwrap();
        list.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let ada = login_options(&state, Some(" Ada@Example.com")).await;
    assert_eq!(ids(&ada), vec![key.id()]);
    // Made-up entries have no transports; so, for a named account, real ones have none either.
    assert_eq!(ada["publicKey"]["allowCredentials"][0], json!({"type": "public-key", "id": key.id()}));
    // Made-up credentials for an unknown address and for an account without passkeys: present,
    // the same each time, different per address.
    let nobody = ids(&login_options(&state, Some("nobody@example.com")).await);
    let bob = ids(&login_options(&state, Some("bob@example.com")).await);
    assert!(!nobody.is_empty() && !bob.is_empty());
    assert_eq!(nobody, ids(&login_options(&state, Some("nobody@example.com")).await));
    assert_ne!(nobody, bob);
    // Ada's passkey answering options made for Bob's address is not Bob's.
    let options = login_options(&state, Some("bob@example.com")).await;
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let (status, body) = answer_login(&state, &options, credential).await;
    assert!(refused(status, &body), "{status} {body}");
    // A too-long address is refused before any work.
    let (status, body) =
        call(&state, "POST", "/api/token/passkey/options/", Some(json!({"email": "a".repeat(255)})), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
});

on_both!(tampered_assertions_are_refused_with_one_audit_row_each, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    let ada_id = with_a_passkey(&state, "ada@example.com", &mut key).await;
    let bob_id = create_user(&state, "bob@example.com", PASSWORD).await;
    let bob = login_pair(&state, "bob@example.com", PASSWORD).await.0;
    add_passkey(&state, &bob, &mut SoftKey::new()).await;
    let bob_handle: String = sqlx::query_as::<_, (String,)>("SELECT webauthn_handle FROM users WHERE id = $1")
        .bind(bob_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .0;
    let tampered = [
        ("foreign origin", Knobs { origin: "https://evil.example".into(), ..Knobs::default() }),
        ("other relying party", Knobs { rp_id: "evil.example".into(), ..Knobs::default() }),
        ("other challenge", Knobs { challenge: Some(common::b64url(&[1; 32])), ..Knobs::default() }),
        ("bad signature", Knobs { bad_signature: true, ..Knobs::default() }),
        ("user not present", Knobs { user_present: false, ..Knobs::default() }),
        ("registration's type", Knobs { ceremony_type: Some("webauthn.create".into()), ..Knobs::default() }),
        (
            "another account's user handle",
            Knobs { user_handle: Some(Some(common::unb64url(&bob_handle))), ..Knobs::default() },
        ),
        ("no user handle", Knobs { user_handle: Some(None), ..Knobs::default() }),
        // Registered with user verification, it always verifies the user.
        ("user verification dropped", Knobs { user_verified: false, ..Knobs::default() }),
    ];
    for (what, knobs) in tampered {
        let before = audited(&state, "login_failed", None).await.len();
        let (status, body) = passkey_login(&state, &mut key, &knobs).await;
        assert!(refused(status, &body), "{what}: {status} {body}");
        let failed = audited(&state, "login_failed", None).await;
        assert_eq!(failed.len(), before + 1, "{what}");
        assert_eq!(failed.last().unwrap()["reason"], "passkey_invalid", "{what}");
    }
    // Filed under the passkey's account, whose owner sees them in their own log.
    assert_eq!(audited(&state, "login_failed", Some(ada_id)).await.len(), 9);
    // A credential that is not registered, and one that is not a credential.
    let (status, body) = passkey_login(&state, &mut SoftKey::new(), &Knobs::default()).await;
    assert!(refused(status, &body), "{status} {body}");
    let options = login_options(&state, None).await;
    let (status, body) = answer_login(&state, &options, json!({"rawId": 5})).await;
    assert!(refused(status, &body), "{status} {body}");
    // None of it signed in.
    let (status, _) = passkey_login(&state, &mut key, &Knobs::default()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audited(&state, "login_succeeded", None).await.iter().filter(|d| d["method"] == "passkey").count(), 1);
});

on_both!(a_replayed_assertion_is_refused, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    with_a_passkey(&state, "ada@example.com", &mut key).await;
    let options = login_options(&state, None).await;
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let (status, _) = answer_login(&state, &options, credential.clone()).await;
    assert_eq!(status, StatusCode::OK);
    // The same answer again: its ceremony is spent.
    let (status, body) = answer_login(&state, &options, credential.clone()).await;
    assert!(refused(status, &body), "{status} {body}");
    // The same answer to a new ceremony: another challenge.
    let fresh = login_options(&state, None).await;
    let (status, body) = answer_login(&state, &fresh, credential).await;
    assert!(refused(status, &body), "{status} {body}");
    // A ceremony lives five minutes.
    let options = login_options(&state, None).await;
    pass(&state, 301);
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let (status, body) = answer_login(&state, &options, credential).await;
    assert!(refused(status, &body), "{status} {body}");
});

on_both!(a_signature_counter_that_goes_backwards_is_refused_and_audited, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    let user_id = with_a_passkey(&state, "ada@example.com", &mut key).await;
    let at = |counter| Knobs { counter: Some(counter), ..Knobs::default() };
    assert_eq!(passkey_login(&state, &mut key, &at(5)).await.0, StatusCode::OK);
    for counter in [3, 5] {
        let (status, body) = passkey_login(&state, &mut key, &at(counter)).await;
        assert!(refused(status, &body), "{counter}: {status} {body}");
    }
    let regressed = audited(&state, "passkey_counter_regressed", Some(user_id)).await;
    assert_eq!(regressed.len(), 2);
    assert_eq!(regressed[0]["stored_counter"], 5);
    // One audit row per refusal: the regression's, not a login_failed beside it.
    assert!(audited(&state, "login_failed", None).await.is_empty());
    let stored: (i64,) = sqlx::query_as("SELECT sign_count FROM passkeys").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(stored.0, 5);
    assert_eq!(passkey_login(&state, &mut key, &at(6)).await.0, StatusCode::OK);

    // An authenticator that keeps no counter (always 0) is not a regression.
    let mut counterless = SoftKey::new();
    with_a_passkey(&state, "bob@example.com", &mut counterless).await;
    for _ in 0..3 {
        assert_eq!(passkey_login(&state, &mut counterless, &at(0)).await.0, StatusCode::OK);
    }
});

on_both!(of_two_assertions_with_one_counter_value_one_signs_in, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    with_a_passkey(&state, "ada@example.com", &mut key).await;
    let (first, second) = (login_options(&state, None).await, login_options(&state, None).await);
    let knobs = Knobs { counter: Some(7), ..Knobs::default() };
    let (a, b) = (key.assert(&first["publicKey"], &knobs), key.assert(&second["publicKey"], &knobs));
    let (one, two) = tokio::join!(answer_login(&state, &first, a), answer_login(&state, &second, b));
    let statuses = [one.0, two.0];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count(), 1, "{statuses:?}");
});

on_both!(inactive_and_unverified_accounts_are_refused_after_the_assertion, |state: AppState| async move {
    let state = with_passkeys(state);
    let mut key = SoftKey::new();
    let user_id = with_a_passkey(&state, "ada@example.com", &mut key).await;
    let mandatory = configured(&state, |config| config.email_verification = "mandatory".into());
    let (status, body) = passkey_login(&mandatory, &mut key, &Knobs::default()).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("email_not_verified")), "{body}");
    latchkey_server::users::set_flag(&state.db, user_id, "is_active", false).await.unwrap();
    state.db.forget_user(user_id).await;
    let (status, body) = passkey_login(&state, &mut key, &Knobs::default()).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "No active account found with the given credentials"}))
    );
    let reasons: Vec<Value> =
        audited(&state, "login_failed", Some(user_id)).await.into_iter().map(|d| d["reason"].clone()).collect();
    assert_eq!(reasons, vec![json!("email_not_verified"), json!("inactive")]);
});

on_both!(passkey_options_are_counted_under_the_login_limit, |state: AppState| async move {
    let state = with_passkeys(configured(&state, |config| config.rate_limits = "login:ip=3/1h".parse().unwrap()));
    common::at_window_start(&state, 3600);
    let ask = || send(&state, common::from("203.0.113.9", "POST", "/api/token/passkey/options/", json!({}), None));
    for _ in 0..3 {
        assert_eq!(ask().await.0, StatusCode::OK);
    }
    let (status, body, _) = ask().await;
    assert_eq!((status, &body["code"]), (StatusCode::TOO_MANY_REQUESTS, &json!("throttled")), "{body}");
});
