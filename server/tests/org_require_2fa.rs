//! Organizations that require 2FA (docs/api.md#2fa-enforcement): `PATCH /api/orgs/{slug}/
//! {"require_2fa"}` by org admins only, audited; `org` at login and refresh refused with
//! `403 mfa_required_by_org` for members without a second factor and `403 mfa_required` (a second
//! step) for members whose session has not verified theirs; a session's organization dropped at
//! refresh once it no longer qualifies.

mod common;

use axum::http::StatusCode;
use latchkey_server::AppState;
use serde_json::{json, Value};

use common::*;

fn refused_by_org() -> Value {
    json!({
        "detail": "This organization requires two-factor authentication. Set it up, then sign in to the organization.",
        "code": "mfa_required_by_org",
    })
}

async fn require_2fa(state: &AppState, token: &str, on: bool) -> (StatusCode, Value) {
    call_as(state, "PATCH", "/api/orgs/acme/", json!({"require_2fa": on}), token).await
}

async fn refresh_for(state: &AppState, refresh: &str, org: &str) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/refresh/", Some(json!({"refresh": refresh, "org": org})), None).await
}

on_both!(only_org_admins_set_require_2fa, |state: AppState| async move {
    let people = acme(&state).await;
    let token = |name: &str| people.iter().find(|p| p.0 == name).unwrap().2.clone();
    let (_, orgs) = call_as(&state, "GET", "/api/orgs/", None, &token("bob")).await;
    assert_eq!(orgs[0]["require_2fa"], json!(false));
    assert_eq!(require_2fa(&state, &token("bob"), true).await.0, StatusCode::FORBIDDEN);
    assert_eq!(require_2fa(&state, &token("dan"), true).await.0, StatusCode::FORBIDDEN);
    assert_eq!(require_2fa(&state, &token("erin"), true).await.0, StatusCode::NOT_FOUND);
    // Staff are not org admins.
    assert_eq!(require_2fa(&state, &token("frank"), true).await.0, StatusCode::NOT_FOUND);
    let (status, body) =
        call_as(&state, "PATCH", "/api/orgs/acme/", json!({"require_2fa": "yes"}), &token("ada")).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"require_2fa": ["Must be a valid boolean."]})));
    let (status, org) = require_2fa(&state, &token("ada"), true).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(
        (org["slug"].clone(), org["role"].clone(), org["require_2fa"].clone()),
        (json!("acme"), json!("admin"), json!(true))
    );
    let (_, orgs) = call_as(&state, "GET", "/api/orgs/", None, &token("bob")).await;
    assert_eq!(orgs[0]["require_2fa"], json!(true));
    // Audited when it changes, once.
    require_2fa(&state, &token("ada"), true).await;
    let ada_id = people[0].1;
    let events = audited(&state, "org_updated", Some(ada_id)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0], json!({"org": "acme", "require_2fa": true}));
    assert_eq!(require_2fa(&state, &token("ada"), false).await.1["require_2fa"], json!(false));
    assert_eq!(audited(&state, "org_updated", Some(ada_id)).await.len(), 2);
});

on_both!(members_without_a_second_factor_are_refused_the_organization, |state: AppState| async move {
    let people = acme(&state).await;
    let (_, carol_refresh) = login_pair(&state, "carol@example.com", PASSWORD).await;
    // Before the rule, `org` works at login and at refresh.
    let dan = login_with(&state, json!({"email": "dan@example.com", "password": PASSWORD, "org": "acme"})).await;
    assert_eq!(claims(&state, &dan).extra["org"], json!("acme"));
    let (_, dan_refresh) = login_pair(&state, "dan@example.com", PASSWORD).await;
    let (status, dan_pair) = refresh_for(&state, &dan_refresh, "acme").await;
    assert_eq!(status, StatusCode::OK, "{dan_pair}");
    require_2fa(&state, &people[0].2, true).await;
    // Login with `org`: refused, audited, counted.
    let body = json!({"email": "carol@example.com", "password": PASSWORD, "org": "acme"});
    assert_eq!(try_login(&state, body).await, (StatusCode::FORBIDDEN, refused_by_org()));
    let failures = audited(&state, "login_failed", Some(people[2].1)).await;
    assert_eq!(failures.last().unwrap()["reason"], json!("mfa_required_by_org"));
    // An e-mailed sign-in code with `org` ends the same way.
    let (flow, sent) = flow_with_code(&state, "carol@example.com").await;
    let (status, body) = code_login(&state, json!({"flow_id": flow, "code": sent.code, "org": "acme"})).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, refused_by_org()));
    // Refresh with `org`: refused, and the refresh token is not spent.
    assert_eq!(refresh_for(&state, &carol_refresh, "acme").await, (StatusCode::FORBIDDEN, refused_by_org()));
    let (status, pair) = refresh(&state, &carol_refresh).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert!(claims(&state, pair["access"].as_str().unwrap()).extra.get("org").is_none());
    // Without `org`, nothing changes.
    login(&state, "carol@example.com", PASSWORD).await;
    // A session that chose the organization before the rule: its next tokens speak for none.
    let (status, next) = refresh(&state, dan_pair["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert!(claims(&state, next["access"].as_str().unwrap()).extra.get("org").is_none());
    // Turned off again, the organization is open to them.
    require_2fa(&state, &people[0].2, false).await;
    let (status, again) = refresh_for(&state, next["refresh"].as_str().unwrap(), "acme").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(claims(&state, again["access"].as_str().unwrap()).extra["org"], json!("acme"));
});

on_both!(members_with_a_second_factor_verify_it_for_the_organization, |state: AppState| async move {
    let people = acme(&state).await;
    let bob = &people[1];
    // Two sessions before enrolling; the one that enrolls verifies its factor, the other never did.
    let (access, enrolling_refresh) = login_pair(&state, "bob@example.com", PASSWORD).await;
    let (_, other_refresh) = login_pair(&state, "bob@example.com", PASSWORD).await;
    let device = add_authenticator(&state, &access, "Phone").await;
    require_2fa(&state, &people[0].2, true).await;
    // Login: the usual second step, which yields the organization's tokens.
    let body = json!({"email": "bob@example.com", "password": PASSWORD, "org": "acme"});
    let (status, step) = try_login(&state, body).await;
    assert_eq!((status, step["code"].clone()), (StatusCode::FORBIDDEN, json!("mfa_required")), "{step}");
    let code = totp(&device.secret, state.clock.now() + 30);
    let body = json!({"mfa_token": step["mfa_token"], "code": code});
    let (status, tokens) = call(&state, "POST", "/api/token/mfa/", Some(body), None).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = claims(&state, tokens["access"].as_str().unwrap());
    assert_eq!((access.extra["org"].clone(), access.extra["mfa"].clone()), (json!("acme"), json!(true)));
    // Refresh of the enrolling session, which verified the factor: allowed.
    let (status, pair) = refresh_for(&state, &enrolling_refresh, "acme").await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(claims(&state, pair["access"].as_str().unwrap()).extra["org"], json!("acme"));
    // Refresh of the session that never verified it: `mfa_required`, and a second step of its own.
    let (status, step) = refresh_for(&state, &other_refresh, "acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{step}");
    assert_eq!(step["detail"], json!("Two-factor authentication required."));
    assert_eq!(
        (step["code"].clone(), step["methods"].clone()),
        (json!("mfa_required"), json!(["totp", "backup_code"]))
    );
    let body = json!({"mfa_token": step["mfa_token"], "code": device.backup_codes[0]});
    let (status, tokens) = call(&state, "POST", "/api/token/mfa/", Some(body), None).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(claims(&state, tokens["access"].as_str().unwrap()).extra["org"], json!("acme"));
    // The refused refresh token was not spent: that session goes on without the organization.
    let (status, plain) = refresh(&state, &other_refresh).await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert!(audited(&state, "login_failed", Some(bob.1)).await.is_empty());
});
