//! 2FA enforcement (docs/api.md#2fa-enforcement), `LATCHKEY_REQUIRE_2FA`: who must set up a second
//! factor, the `mfa_enrollment_required` claim, the routes such a user may still use and the exact
//! 403 of every other one (for access tokens, API keys and an embedder's `authz` extractors), and
//! the enrollment that lifts it.

mod common;

use axum::http::StatusCode;
use axum::routing::get;
use latchkey_server::authz::RequireMfa;
use latchkey_server::infra::require_2fa::Require2fa;
use latchkey_server::AppState;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::*;

fn enforcing(state: &AppState, mode: Require2fa) -> AppState {
    configured(state, |config| config.require_2fa = mode)
}

fn refused() -> Value {
    json!({"detail": "Set up two-factor authentication to continue.", "code": "mfa_enrollment_required"})
}

/// The access token's `mfa_enrollment_required` claim (absent: `None`).
fn claim(state: &AppState, access: &str) -> Option<Value> {
    claims(state, access).extra.get("mfa_enrollment_required").cloned()
}

#[test]
fn every_allowed_route_is_a_route_of_the_document() {
    use latchkey_server::http::enrollment::{Allowed, ALLOWED};
    let document = serde_json::to_value(latchkey_server::openapi::document()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    for entry in &ALLOWED {
        match entry {
            Allowed::Operation(method, template) => {
                let operation = &paths.get(*template).unwrap_or_else(|| panic!("{template} is not a route"))
                    [method.as_str().to_lowercase()];
                assert!(operation.is_object(), "{method} {template} is not an operation");
            }
            Allowed::Under(prefix) => {
                assert!(prefix.ends_with('/'), "{prefix}");
                assert!(paths.keys().any(|path| path.starts_with(prefix)), "no route under {prefix}");
            }
        }
    }
}

#[test]
fn a_bad_mode_is_refused_at_start() {
    #[derive(clap::Parser)]
    struct Only {
        #[command(flatten)]
        config: latchkey_server::Config,
    }
    let parse = |value: &str| <Only as clap::Parser>::try_parse_from(["latchkey", "--require-2fa", value]);
    let error = parse("everyone").err().expect("an unknown mode is refused").to_string();
    assert!(error.contains("everyone") && error.contains("off, staff, all"), "{error}");
    for (name, mode) in [("off", Require2fa::Off), ("staff", Require2fa::Staff), ("all", Require2fa::All)] {
        assert_eq!(parse(name).unwrap().config.require_2fa, mode);
    }
    assert_eq!(latchkey_server::Config::from_env().unwrap().require_2fa, Require2fa::Off);
}

on_both!(each_mode_names_who_must_enroll, |state: AppState| async move {
    let (staff_id, _) = user(&state, "staff@example.com", true).await;
    make_staff(&state, staff_id).await;
    user(&state, "ann@example.com", true).await;
    for (mode, staff_must, others_must) in
        [(Require2fa::Off, false, false), (Require2fa::Staff, true, false), (Require2fa::All, true, true)]
    {
        let state = enforcing(&state, mode);
        for (email, must) in [("staff@example.com", staff_must), ("ann@example.com", others_must)] {
            let access = login(&state, email, PASSWORD).await;
            assert_eq!(claim(&state, &access), must.then_some(json!(true)), "{mode:?} {email}");
            let (status, body) = call_as(&state, "GET", "/api/orgs/", None, &access).await;
            if must {
                assert_eq!((status, body), (StatusCode::FORBIDDEN, refused()), "{mode:?} {email}");
            } else {
                assert_eq!(status, StatusCode::OK, "{mode:?} {email}: {body}");
            }
        }
    }
    // Registration opens a session too: its token carries the claim.
    let all = enforcing(&state, Require2fa::All);
    let body = json!({"email": "new@example.com", "password": PASSWORD, "password_confirm": PASSWORD});
    let registered = register(&all, body).await;
    assert_eq!(claim(&all, registered["tokens"]["access"].as_str().unwrap()), Some(json!(true)));
});

on_both!(only_enrollment_routes_answer_before_enrollment, |state: AppState| async move {
    let state = enforcing(&state, Require2fa::All);
    let (id, _) = user(&state, "ann@example.com", true).await;
    make_staff(&state, id).await;
    let (access, refresh_token) = login_pair(&state, "ann@example.com", PASSWORD).await;
    let token = Some(access.as_str());
    // What stays open: the profile, the second factors, re-authentication, sessions, tokens.
    let sid = claims(&state, &access).extra["sid"].as_str().unwrap().to_owned();
    let open: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/auth/me/".into(), None),
        ("GET", "/api/auth/2fa/".into(), None),
        ("POST", "/api/auth/2fa/totp/".into(), Some(json!({"name": "Phone"}))),
        ("GET", "/api/auth/passkeys/".into(), None),
        ("POST", "/api/auth/reauthenticate/".into(), Some(json!({"password": PASSWORD}))),
        ("GET", "/api/auth/sessions/".into(), None),
        ("PATCH", format!("/api/auth/sessions/{sid}/"), Some(json!({"name": "Laptop"}))),
        ("POST", "/api/token/verify/".into(), Some(json!({"token": access}))),
    ];
    for (method, uri, body) in open {
        let (status, answer) = call(&state, method, &uri, body, token).await;
        assert_ne!(answer, refused(), "{method} {uri}");
        assert!(status.is_success() || status == StatusCode::NOT_FOUND, "{method} {uri}: {status} {answer}");
    }
    // Everything else: the one 403, whatever the route would have said.
    let closed: [(&str, &str, Option<Value>); 9] = [
        ("PATCH", "/api/auth/me/", Some(json!({"first_name": "Ann"}))),
        ("DELETE", "/api/auth/me/", Some(json!({"password": PASSWORD}))),
        ("GET", "/api/orgs/", None),
        ("POST", "/api/orgs/", Some(json!({"name": "Acme", "slug": "acme"}))),
        ("GET", "/api/auth/api-keys/", None),
        ("GET", "/api/auth/audit/", None),
        ("POST", "/api/auth/password/change/", Some(json!({"old_password": PASSWORD, "new_password": "x"}))),
        ("GET", "/api/admin/users/", None),
        ("POST", "/api/auth/email/verify/resend/", None),
    ];
    for (method, uri, body) in closed {
        assert_eq!(call(&state, method, uri, body, token).await, (StatusCode::FORBIDDEN, refused()), "{method} {uri}");
    }
    // An embedder's route behind Latchkey's extractors is closed too.
    async fn payouts(RequireMfa(_): RequireMfa) -> &'static str {
        "paid"
    }
    let router = latchkey_server::app(state.clone())
        .merge(axum::Router::new().route("/payouts", get(payouts)).with_state(state.clone()));
    let response = router.oneshot(request("GET", "/payouts", None, token)).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), refused());
    // Refreshing keeps the claim while there is no second factor; logging out works.
    let (status, next) = refresh(&state, &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_eq!(claim(&state, next["access"].as_str().unwrap()), Some(json!(true)));
    let next_access = next["access"].as_str().unwrap();
    let body = json!({"refresh": next["refresh"]});
    let (status, answer) = call(&state, "POST", "/api/auth/logout/", Some(body), Some(next_access)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let other = login(&state, "ann@example.com", PASSWORD).await;
    let (status, answer) = call_as(&state, "POST", "/api/auth/logout-all/", None, &other).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
});

on_both!(an_api_key_of_a_user_who_must_enroll_waits_too, |state: AppState| async move {
    let access = signed_in(&state, "ann@example.com").await;
    let (status, created) = call_as(&state, "POST", "/api/auth/api-keys/", json!({"name": "ci"}), &access).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap();
    assert_eq!(with_key(&state, "GET", "/api/orgs/", None, key).await.0, StatusCode::OK);
    // The operator turns enforcement on: the key may read the profile, and nothing else.
    let state = enforcing(&state, Require2fa::All);
    assert_eq!(with_key(&state, "GET", "/api/orgs/", None, key).await, (StatusCode::FORBIDDEN, refused()));
    let (status, me) = with_key(&state, "GET", "/api/auth/me/", None, key).await;
    assert_eq!((status, me["mfa_enabled"].clone()), (StatusCode::OK, json!(false)));
    // So is the access token minted before enforcement, which has no claim.
    assert_eq!(claim(&state, &access), None);
    assert_eq!(call_as(&state, "GET", "/api/orgs/", None, &access).await, (StatusCode::FORBIDDEN, refused()));
    // Once the user has a second factor, both work again.
    let fresh = login(&state, "ann@example.com", PASSWORD).await;
    add_authenticator(&state, &fresh, "Phone").await;
    assert_eq!(with_key(&state, "GET", "/api/orgs/", None, key).await.0, StatusCode::OK);
    assert_eq!(call_as(&state, "GET", "/api/orgs/", None, &access).await.0, StatusCode::OK);
});

on_both!(confirming_a_device_lifts_it_and_the_refresh_clears_the_claim, |state: AppState| async move {
    let state = enforcing(&state, Require2fa::All);
    create_user(&state, "ann@example.com", PASSWORD).await;
    let (access, refresh_token) = login_pair(&state, "ann@example.com", PASSWORD).await;
    assert_eq!(claim(&state, &access), Some(json!(true)));
    assert_eq!(call_as(&state, "GET", "/api/orgs/", None, &access).await, (StatusCode::FORBIDDEN, refused()));
    let authenticator = add_authenticator(&state, &access, "Phone").await;
    assert_eq!(authenticator.backup_codes.len(), 10);
    // The token that enrolled still says so, and is no longer held back.
    assert_eq!(claim(&state, &access), Some(json!(true)));
    let (status, body) = call_as(&state, "GET", "/api/orgs/", None, &access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The next refresh reads the user again: no claim, and the session verified its factor.
    let (status, next) = refresh(&state, &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    let next = next["access"].as_str().unwrap();
    assert_eq!(claim(&state, next), None);
    assert_eq!(claims(&state, next).extra["mfa"], json!(true));
    // A login from now on asks for the second factor, and its tokens have no claim.
    let (status, body) = try_login(&state, json!({"email": "ann@example.com", "password": PASSWORD})).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::FORBIDDEN, json!("mfa_required")));
});
