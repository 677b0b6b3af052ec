//! Linking provider identities to accounts (docs/api.md#social-login) on both databases: an identity
//! whose verified address belongs to an account never signs in by itself (the account-takeover rule:
//! a `link_token` waits for the account's password), `connect` from a signed-in session, the linked
//! accounts list, unlinking (privileged), and the one rule that no account loses its last way in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_passkey, audited, authorize, call, call_as, claims, confirm_link, create_user, exchange, land, linked_accounts,
    login, login_pair, oidc_login, oidc_sign_in, return_to, window_passes, with_key, with_passkeys, with_social,
    FakeOp, OidcUser, SoftKey, OIDC, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::json;

const ADA: &str = "jane@example.test";

/// A `connect` of `op`'s scripted identity by the owner of `access`: where the callback sent it.
async fn connect(state: &AppState, op: &FakeOp, access: &str) -> common::Landing {
    let start = json!({ "process": "connect", "return_to": return_to(state) });
    let (status, body) = authorize(state, OIDC, start, Some(access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    land(state, &op.authorize(body["authorization_url"].as_str().unwrap()).await.unwrap()).await
}

on_both!(an_address_of_an_existing_account_never_signs_in_without_its_password, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let id = create_user(&state, ADA, PASSWORD).await;
    let landing = oidc_login(&state, &op).await;
    assert!(landing.get("login_code").is_none(), "{landing:?}");
    assert_eq!(landing.get("email"), Some(ADA));
    assert_eq!(landing.get("provider"), Some(OIDC));
    let token = landing.get("link_token").unwrap().to_owned();
    assert!(linked_accounts(&state, &login(&state, ADA, PASSWORD).await).await.is_empty());
    // A wrong password is a failed login; the token stays usable.
    let (status, body) = confirm_link(&state, json!({ "link_token": token, "password": "wrong" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["detail"], "No active account found with the given credentials");
    assert_eq!(audited(&state, "login_failed", Some(id)).await.last().unwrap()["reason"], "bad_credentials");
    let (status, tokens) = confirm_link(&state, json!({ "link_token": token, "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).user_id, id.to_string());
    let linked = linked_accounts(&state, access).await;
    assert_eq!((linked.len(), linked[0]["provider"].as_str(), linked[0]["email"].as_str()), (1, Some(OIDC), Some(ADA)));
    assert_eq!(audited(&state, "social_account_linked", Some(id)).await[0]["how"], "password");
    // Spent; and from now on the identity signs in directly.
    let (status, body) = confirm_link(&state, json!({ "link_token": token, "password": PASSWORD })).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("link_token_invalid")));
    let again = oidc_sign_in(&state, &op).await;
    assert_eq!(claims(&state, again["access"].as_str().unwrap()).user_id, id.to_string());
});

on_both!(a_link_confirmation_shares_the_password_logins_lockout, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    create_user(&state, ADA, PASSWORD).await;
    let token = oidc_login(&state, &op).await.get("link_token").unwrap().to_owned();
    let mut statuses = Vec::new();
    for _ in 0..(state.config.lockout_attempts + 1) {
        statuses.push(confirm_link(&state, json!({ "link_token": token, "password": "wrong" })).await.0);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    // The account's lockout holds for the password login too.
    let (status, _) = common::try_login(&state, json!({ "email": ADA, "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, body) = confirm_link(&state, json!({ "link_token": token, "password": "x".repeat(5000) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
});

on_both!(a_link_token_expires_and_is_bound_like_a_login_code, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    create_user(&state, ADA, PASSWORD).await;
    let binding = "q".repeat(43);
    let start = json!({ "return_to": return_to(&state), "binding": binding });
    let (_, body) = authorize(&state, OIDC, start, None).await;
    let landing = land(&state, &op.authorize(body["authorization_url"].as_str().unwrap()).await.unwrap()).await;
    let token = landing.get("link_token").unwrap();
    let (status, _) = confirm_link(&state, json!({ "link_token": token, "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) =
        confirm_link(&state, json!({ "link_token": token, "password": PASSWORD, "binding": binding })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let late = oidc_login(&state, &op).await;
    assert!(late.get("login_code").is_some(), "linked now: {late:?}");
    op.script().user = OidcUser { sub: "second".into(), ..OidcUser::default() };
    let other = create_user(&state, "second@example.test", PASSWORD).await;
    op.script().user.email = Some("second@example.test".into());
    let token = oidc_login(&state, &op).await.get("link_token").unwrap().to_owned();
    common::pass(&state, 601);
    let (status, body) = confirm_link(&state, json!({ "link_token": token, "password": PASSWORD })).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("link_token_invalid")));
    assert!(audited(&state, "social_account_linked", Some(other)).await.is_empty());
});

on_both!(connect_links_an_identity_to_the_signed_in_account, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let id = create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login(&state, "ada@example.com", PASSWORD).await;
    // The provider's address need not be the account's, nor verified: the session proved the account.
    op.script().user.email_verified = false;
    let landing = connect(&state, &op, &access).await;
    assert_eq!(landing.get("linked"), Some(OIDC), "{landing:?}");
    assert_eq!(audited(&state, "social_account_linked", Some(id)).await[0]["how"], "connect");
    assert_eq!(connect(&state, &op, &access).await.get("linked"), Some(OIDC), "linked already: the same answer");
    let signed_in = oidc_sign_in(&state, &op).await;
    assert_eq!(claims(&state, signed_in["access"].as_str().unwrap()).user_id, id.to_string());
    // Another account cannot take it.
    create_user(&state, "bob@example.com", PASSWORD).await;
    let bob = login(&state, "bob@example.com", PASSWORD).await;
    assert_eq!(connect(&state, &op, &bob).await.get("error"), Some("account_in_use"));
});

on_both!(connect_is_privileged_and_refused_to_keys_and_strangers, |state: AppState| async move {
    let (state, _op, _) = with_social(state).await;
    create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login(&state, "ada@example.com", PASSWORD).await;
    let start = json!({ "process": "connect", "return_to": return_to(&state) });
    let (status, _) = authorize(&state, OIDC, start.clone(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    window_passes(&state);
    let (status, body) = authorize(&state, OIDC, start.clone(), Some(&access)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauthentication_required")));
    let (status, _) =
        call_as(&state, "POST", "/api/auth/reauthenticate/", json!({ "password": PASSWORD }), &access).await;
    assert_eq!(status, StatusCode::OK);
    let (status, created) =
        call(&state, "POST", "/api/auth/api-keys/", Some(json!({ "name": "ci" })), Some(&access)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap();
    let (status, _) = with_key(&state, "POST", &format!("/api/auth/social/{OIDC}/authorize/"), Some(start), key).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = with_key(&state, "GET", "/api/auth/social/accounts/", None, key).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

on_both!(unlinking_is_privileged_and_never_removes_the_last_way_in, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    // A social-only account: its one identity cannot go.
    let tokens = oidc_sign_in(&state, &op).await;
    let access = tokens["access"].as_str().unwrap().to_owned();
    let id = linked_accounts(&state, &access).await[0]["id"].as_i64().unwrap();
    let path = format!("/api/auth/social/accounts/{id}/");
    let (status, body) = call(&state, "DELETE", &path, None, Some(&access)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("last_sign_in_method")), "{body}");
    // Someone else's link is a 404, before any other check.
    create_user(&state, "bob@example.com", PASSWORD).await;
    let bob = login(&state, "bob@example.com", PASSWORD).await;
    assert_eq!(call(&state, "DELETE", &path, None, Some(&bob)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&state, "DELETE", "/api/auth/social/accounts/x/", None, Some(&bob)).await.0, StatusCode::NOT_FOUND);
    // An account with a password may unlink, within the re-authentication window.
    let (ada_id, ada) = (
        create_user(&state, "ada@example.com", PASSWORD).await,
        login_pair(&state, "ada@example.com", PASSWORD).await.0,
    );
    op.script().user = OidcUser { sub: "ada-sub".into(), ..OidcUser::default() };
    assert_eq!(connect(&state, &op, &ada).await.get("linked"), Some(OIDC));
    let link = linked_accounts(&state, &ada).await[0]["id"].as_i64().unwrap();
    window_passes(&state);
    let path = format!("/api/auth/social/accounts/{link}/");
    let (status, body) = call(&state, "DELETE", &path, None, Some(&ada)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauthentication_required")));
    let (status, _) = call_as(&state, "POST", "/api/auth/reauthenticate/", json!({ "password": PASSWORD }), &ada).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&state, "DELETE", &path, None, Some(&ada)).await.0, StatusCode::NO_CONTENT);
    assert!(linked_accounts(&state, &ada).await.is_empty());
    assert_eq!(audited(&state, "social_account_unlinked", Some(ada_id)).await[0]["provider"], OIDC);
    // The identity is free again: its next sign-in offers the link by address, as a new identity's would.
    op.script().user.email = Some("ada@example.com".into());
    assert!(oidc_login(&state, &op).await.get("link_token").is_some());
});

on_both!(a_passkey_and_a_linked_identity_each_count_as_a_way_in, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let state = with_passkeys(state);
    let tokens = oidc_sign_in(&state, &op).await;
    let access = tokens["access"].as_str().unwrap().to_owned();
    let mut key = SoftKey::new();
    let passkey = add_passkey(&state, &access, &mut key).await;
    // With a passkey, the identity may go; then the passkey is the last way in.
    let link = linked_accounts(&state, &access).await[0]["id"].as_i64().unwrap();
    let (status, body) =
        call(&state, "DELETE", &format!("/api/auth/social/accounts/{link}/"), None, Some(&access)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) =
        call(&state, "DELETE", &format!("/api/auth/passkeys/{}/", passkey["id"]), None, Some(&access)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("last_sign_in_method")), "{body}");
});

on_both!(a_link_confirmed_for_an_identity_taken_meanwhile_is_a_conflict, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    create_user(&state, ADA, PASSWORD).await;
    let first = oidc_login(&state, &op).await.get("link_token").unwrap().to_owned();
    let second = oidc_login(&state, &op).await.get("link_token").unwrap().to_owned();
    let (status, _) = confirm_link(&state, json!({ "link_token": first, "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = confirm_link(&state, json!({ "link_token": second, "password": PASSWORD })).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("account_in_use")), "{body}");
    let (status, _) = exchange(&state, json!({ "login_code": second })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a link token is not a login code");
});

on_both!(a_user_has_one_connect_in_flight, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login(&state, "ada@example.com", PASSWORD).await;
    let start = json!({ "process": "connect", "return_to": return_to(&state) });
    let (_, first) = authorize(&state, OIDC, start.clone(), Some(&access)).await;
    let (_, second) = authorize(&state, OIDC, start, Some(&access)).await;
    let first = op.authorize(first["authorization_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(land(&state, &first).await.status, StatusCode::BAD_REQUEST, "replaced by the second");
    let second = op.authorize(second["authorization_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(land(&state, &second).await.get("linked"), Some(OIDC));
});
