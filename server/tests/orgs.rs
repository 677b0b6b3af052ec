//! Organizations, roles and API keys (docs/api.md#api-keys) on both databases, with every permission
//! boundary: each endpoint called anonymously, by a normal user, by a member with each role, by a
//! non-member, by staff, and with an API key; and the authorization extractors as an embedding
//! application uses them. The admin API is in `admin_users.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use common::{acme, call, claims, login_with, request, with_key, PASSWORD};
use latchkey_server::authz::{Editor, RequireMfa, RequireRole, RequireStaff, RequireVerified};
use latchkey_server::{app, now, AppState};
use serde_json::json;
use sqlx::Row;
use tower::ServiceExt;

on_both!(organizations_and_members_have_every_boundary, |state: AppState| async move {
    let people = acme(&state).await;
    let token = |name: &str| people.iter().find(|p| p.0 == name).unwrap().2.clone();
    let id = |name: &str| people.iter().find(|p| p.0 == name).unwrap().1;

    // Reading the member list: every member; to anyone else the organization does not exist.
    for (name, expected) in [("ada", 200), ("bob", 200), ("carol", 200), ("dan", 200), ("erin", 404), ("frank", 404)] {
        let (status, _) = call(&state, "GET", "/api/orgs/acme/members/", None, Some(&token(name))).await;
        assert_eq!(status.as_u16(), expected, "{name}");
    }
    assert_eq!(call(&state, "GET", "/api/orgs/acme/members/", None, None).await.0, StatusCode::UNAUTHORIZED);
    let (_, members) = call(&state, "GET", "/api/orgs/acme/members/", None, Some(&token("dan"))).await;
    assert_eq!(members.as_array().unwrap().len(), 4);

    // Adding a member (v1), now an invitation: admins only, the same 202 for an unknown address.
    let add = json!({"email": "erin@example.com", "role": "viewer"});
    for (name, expected) in [("bob", 403), ("carol", 403), ("dan", 403), ("erin", 404), ("frank", 404)] {
        let (status, _) = call(&state, "POST", "/api/orgs/acme/members/", Some(add.clone()), Some(&token(name))).await;
        assert_eq!(status.as_u16(), expected, "{name}");
    }
    let unknown = json!({"email": "nobody@example.com", "role": "viewer"});
    assert_eq!(
        call(&state, "POST", "/api/orgs/acme/members/", Some(unknown), Some(&token("ada"))).await,
        (StatusCode::ACCEPTED, json!({"detail": "If the address belongs to an account, an invitation has been sent."}))
    );
    let bad = [
        (json!({"email": "bob@example.com", "role": "viewer"}), "email"),
        (json!({"email": "erin@example.com", "role": "owner"}), "role"),
    ];
    for (body, field) in bad {
        let (status, errors) = call(&state, "POST", "/api/orgs/acme/members/", Some(body), Some(&token("ada"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(errors[field].is_array(), "{errors}");
    }

    // Changing a role: admins only; the last admin cannot step down or leave.
    let dan = format!("/api/orgs/acme/members/{}/", id("dan"));
    for name in ["bob", "carol", "dan"] {
        let (status, _) = call(&state, "PATCH", &dan, Some(json!({"role": "editor"})), Some(&token(name))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    let (status, body) = call(&state, "PATCH", &dan, Some(json!({"role": "author"})), Some(&token("ada"))).await;
    assert_eq!((status, body["role"].as_str()), (StatusCode::OK, Some("author")));
    let ada_path = format!("/api/orgs/acme/members/{}/", id("ada"));
    let last_admin = json!({"non_field_errors": ["An organization needs at least one admin."]});
    assert_eq!(
        call(&state, "PATCH", &ada_path, Some(json!({"role": "viewer"})), Some(&token("ada"))).await,
        (StatusCode::BAD_REQUEST, last_admin.clone())
    );
    assert_eq!(
        call(&state, "DELETE", &ada_path, None, Some(&token("ada"))).await,
        (StatusCode::BAD_REQUEST, last_admin)
    );
    // With a second admin, the first may leave; a member may leave; only admins remove others.
    let (status, _) = call(
        &state,
        "PATCH",
        &format!("/api/orgs/acme/members/{}/", id("bob")),
        Some(json!({"role": "admin"})),
        Some(&token("ada")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&state, "DELETE", &dan, None, Some(&token("carol"))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&state, "DELETE", &dan, None, Some(&token("dan"))).await.0, StatusCode::NO_CONTENT, "dan leaves");
    assert_eq!(
        call(&state, "DELETE", &ada_path, None, Some(&token("ada"))).await.0,
        StatusCode::NO_CONTENT,
        "ada leaves"
    );
    assert_eq!(
        call(&state, "GET", "/api/orgs/acme/members/", None, Some(&token("ada"))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&state, "DELETE", "/api/orgs/acme/members/999/", None, Some(&token("bob"))).await.0,
        StatusCode::NOT_FOUND
    );

    // Creating: slugs are unique and slug-shaped; each user lists their own organizations.
    let (status, errors) =
        call(&state, "POST", "/api/orgs/", Some(json!({"name": "Again", "slug": "acme"})), Some(&token("erin"))).await;
    assert_eq!(
        (status, errors),
        (StatusCode::BAD_REQUEST, json!({"slug": ["organization with this slug already exists."]}))
    );
    let (status, _) =
        call(&state, "POST", "/api/orgs/", Some(json!({"name": "Bad", "slug": "a b"})), Some(&token("erin"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, orgs) = call(&state, "GET", "/api/orgs/", None, Some(&token("bob"))).await;
    assert_eq!(
        orgs,
        json!([{
            "id": orgs[0]["id"], "name": "Acme", "slug": "acme", "role": "admin", "created_at": orgs[0]["created_at"],
            "require_2fa": false,
        }])
    );
    let (_, orgs) = call(&state, "GET", "/api/orgs/", None, Some(&token("erin"))).await;
    assert_eq!(orgs, json!([]));
    let events: Vec<String> = sqlx::query("SELECT event FROM audit_events WHERE event LIKE 'org_%'")
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("event"))
        .collect();
    assert!(events.contains(&"org_role_changed".to_owned()) && events.contains(&"org_member_removed".to_owned()));
});

on_both!(tokens_speak_for_one_organization, |state: AppState| async move {
    let people = acme(&state).await;
    let access = login_with(&state, json!({"email": "bob@example.com", "password": PASSWORD, "org": "acme"})).await;
    let bob = claims(&state, &access);
    assert_eq!((bob.extra["org"].clone(), bob.extra["roles"].clone()), (json!("acme"), json!(["editor"])));
    // A non-member, or an unknown organization: 403 after a correct password.
    for org in ["acme", "nowhere"] {
        let body = json!({"email": "erin@example.com", "password": PASSWORD, "org": org});
        let (status, body) = call(&state, "POST", "/api/token/", Some(body), None).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, json!({"detail": "You do not have permission to perform this action."}))
        );
    }
    // Refresh keeps the session's organization, follows role changes, and may switch.
    let body = json!({"email": "dan@example.com", "password": PASSWORD, "org": "acme"});
    let (_, pair) = call(&state, "POST", "/api/token/", Some(body), None).await;
    let ada = &people[0].2;
    let dan_id = people[3].1;
    call(&state, "PATCH", &format!("/api/orgs/acme/members/{dan_id}/"), Some(json!({"role": "author"})), Some(ada))
        .await;
    let (status, refreshed) =
        call(&state, "POST", "/api/token/refresh/", Some(json!({"refresh": pair["refresh"]})), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&state, refreshed["access"].as_str().unwrap()).extra["roles"], json!(["author"]));
    let switch = json!({"refresh": refreshed["refresh"], "org": "elsewhere"});
    assert_eq!(call(&state, "POST", "/api/token/refresh/", Some(switch), None).await.0, StatusCode::FORBIDDEN);
    // A member removed since gets tokens without the organization.
    call(&state, "DELETE", &format!("/api/orgs/acme/members/{dan_id}/"), None, Some(ada)).await;
    let (status, later) =
        call(&state, "POST", "/api/token/refresh/", Some(json!({"refresh": refreshed["refresh"]})), None).await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert!(claims(&state, later["access"].as_str().unwrap()).extra.get("org").is_none());
});

/// An application's own routes, protected by the extractors (the README's example).
fn application(state: AppState) -> Router {
    async fn publish(RequireRole(auth, ..): RequireRole<Editor>) -> String {
        format!("{} publishes in {}", auth.user.email, auth.org().map_or("", |(org, _)| org))
    }
    async fn payouts(RequireMfa(auth): RequireMfa) -> String {
        auth.user.email.clone()
    }
    async fn dashboard(RequireStaff(_): RequireStaff) -> &'static str {
        "staff"
    }
    async fn newsletter(RequireVerified(_): RequireVerified) -> &'static str {
        "verified"
    }
    let routes = Router::new()
        .route("/articles/publish", get(publish))
        .route("/payouts", get(payouts))
        .route("/dashboard", get(dashboard))
        .route("/newsletter", get(newsletter))
        .with_state(state.clone());
    app(state).merge(routes)
}

async fn get_status(state: &AppState, uri: &str, token: Option<&str>) -> StatusCode {
    let request: Request<Body> = request("GET", uri, None, token);
    application(state.clone()).oneshot(request).await.unwrap().status()
}

on_both!(extractors_protect_an_applications_routes, |state: AppState| async move {
    let people = acme(&state).await;
    for (name, expected) in [("ada", 200), ("bob", 200), ("carol", 403), ("dan", 403)] {
        let token =
            login_with(&state, json!({"email": format!("{name}@example.com"), "password": PASSWORD, "org": "acme"}))
                .await;
        assert_eq!(get_status(&state, "/articles/publish", Some(&token)).await.as_u16(), expected, "{name}");
    }
    let no_org = &people[0].2;
    assert_eq!(
        get_status(&state, "/articles/publish", Some(no_org)).await,
        StatusCode::FORBIDDEN,
        "a token without org"
    );
    assert_eq!(get_status(&state, "/articles/publish", None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get_status(&state, "/dashboard", Some(&people[5].2)).await, StatusCode::OK);
    assert_eq!(get_status(&state, "/dashboard", Some(no_org)).await, StatusCode::FORBIDDEN);
    assert_eq!(get_status(&state, "/newsletter", Some(no_org)).await, StatusCode::FORBIDDEN);
    common::mark_verified(&state, people[0].1).await;
    assert_eq!(get_status(&state, "/newsletter", Some(no_org)).await, StatusCode::OK);
    // RequireMfa: only a session that verified a second factor.
    assert_eq!(get_status(&state, "/payouts", Some(no_org)).await, StatusCode::FORBIDDEN);
    let (_, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(no_org)).await;
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let secret = device["secret"].as_str().unwrap().to_owned();
    call(&state, "POST", &confirm, Some(json!({"code": common::totp(&secret, state.clock.now())})), Some(no_org)).await;
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "otp": common::totp(&secret, state.clock.now() + 30), "org": "acme"});
    let (status, pair) = call(&state, "POST", "/api/token/", Some(body), None).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let access = pair["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["org"], "acme", "one-step MFA login keeps the organization");
    assert_eq!(get_status(&state, "/payouts", Some(access)).await, StatusCode::OK);
});

on_both!(api_keys_act_as_their_owner_and_never_more, |state: AppState| async move {
    let people = acme(&state).await;
    let (ada, frank) = (&people[0].2, &people[5].2);
    let (status, created) = call(&state, "POST", "/api/auth/api-keys/", Some(json!({"name": "CI"})), Some(ada)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let prefix = created["prefix"].as_str().unwrap();
    assert!(key.starts_with(&format!("lk_{prefix}_")) && key.len() > 40, "{key}");
    assert_eq!(created["scopes"], json!(["read", "write"]));
    let (_, listed) = call(&state, "GET", "/api/auth/api-keys/", None, Some(ada)).await;
    assert_eq!(listed[0]["prefix"], prefix);
    assert!(listed[0].get("key").is_none() && listed[0]["last_used_at"].is_null());
    // The database keeps no key.
    let row = sqlx::query("SELECT key_hash FROM api_keys").fetch_one(&state.db.pool).await.unwrap();
    assert_ne!(row.get::<String, _>("key_hash"), key);

    let (status, me) = with_key(&state, "GET", "/api/auth/me/", None, &key).await;
    assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some("ada@example.com")));
    let (_, listed) = call(&state, "GET", "/api/auth/api-keys/", None, Some(ada)).await;
    assert!(listed[0]["last_used_at"].is_string(), "the use is recorded");
    // As the owner: an admin of acme may invite members with it.
    let add = json!({"email": "erin@example.com", "role": "viewer"});
    assert_eq!(with_key(&state, "POST", "/api/orgs/acme/invitations/", Some(add), &key).await.0, StatusCode::ACCEPTED);
    // Never the account's security: keys, password, second factors, sessions.
    for (method, uri) in [
        ("GET", "/api/auth/api-keys/"),
        ("POST", "/api/auth/2fa/totp/"),
        ("GET", "/api/auth/sessions/"),
        ("DELETE", "/api/auth/me/"),
    ] {
        let (status, body) = with_key(&state, method, uri, Some(json!({})), &key).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {body}");
    }
    // Scopes narrow: a read key cannot write; `admin` is for staff owners only, and then needed.
    let (_, read) =
        call(&state, "POST", "/api/auth/api-keys/", Some(json!({"name": "ro", "scopes": ["read"]})), Some(ada)).await;
    let read = read["key"].as_str().unwrap();
    assert_eq!(with_key(&state, "GET", "/api/orgs/", None, read).await.0, StatusCode::OK);
    let (status, body) = with_key(&state, "POST", "/api/orgs/", Some(json!({"name": "X", "slug": "x"})), read).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, json!({"detail": "This API key lacks the `write` scope."})));
    let (status, body) =
        call(&state, "POST", "/api/auth/api-keys/", Some(json!({"name": "root", "scopes": ["admin"]})), Some(ada))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(with_key(&state, "GET", "/api/admin/users/", None, &key).await.0, StatusCode::FORBIDDEN);
    let (_, staff_plain) = call(&state, "POST", "/api/auth/api-keys/", Some(json!({"name": "s"})), Some(frank)).await;
    assert_eq!(
        with_key(&state, "GET", "/api/admin/users/", None, staff_plain["key"].as_str().unwrap()).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, staff_admin) = call(
        &state,
        "POST",
        "/api/auth/api-keys/",
        Some(json!({"name": "a", "scopes": ["read", "admin"]})),
        Some(frank),
    )
    .await;
    assert_eq!(
        with_key(&state, "GET", "/api/admin/users/", None, staff_admin["key"].as_str().unwrap()).await.0,
        StatusCode::OK
    );
    // Validation of the form.
    for body in [
        json!({}),
        json!({"name": "x", "scopes": ["root"]}),
        json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
        json!({"name": "x", "expires_at": "tomorrow"}),
    ] {
        assert_eq!(
            call(&state, "POST", "/api/auth/api-keys/", Some(body.clone()), Some(ada)).await.0,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }

    // A key stops working when it expires, is revoked, or its owner is deactivated.
    let invalid = (StatusCode::UNAUTHORIZED, json!({"detail": "Invalid API key.", "code": "authentication_failed"}));
    for bad in ["nope", "lk_00000000_00", &format!("{key}x")] {
        assert_eq!(with_key(&state, "GET", "/api/auth/me/", None, bad).await, invalid, "{bad}");
    }
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE prefix = $2")
        .bind(now() - 1)
        .bind(prefix)
        .execute(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(with_key(&state, "GET", "/api/auth/me/", None, &key).await, invalid);
    let delete = format!("/api/auth/api-keys/{}/", created["id"]);
    assert_eq!(call(&state, "DELETE", &delete, None, Some(frank)).await.0, StatusCode::NOT_FOUND, "someone else's key");
    assert_eq!(call(&state, "DELETE", &delete, None, Some(ada)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&state, "DELETE", &delete, None, Some(ada)).await.0, StatusCode::NOT_FOUND);
    let ada_id = latchkey_server::users::User::by_email(&state.db, "ada@example.com").await.unwrap().unwrap().id;
    latchkey_server::users::set_flag(&state.db, ada_id, "is_active", false).await.unwrap();
    assert_eq!(with_key(&state, "GET", "/api/orgs/", None, read).await, invalid);
    let events: Vec<String> = sqlx::query("SELECT event FROM audit_events WHERE event LIKE 'api_key_%'")
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("event"))
        .collect();
    for event in ["api_key_created", "api_key_used", "api_key_revoked"] {
        assert!(events.contains(&event.to_owned()), "{event}: {events:?}");
    }
});

on_both!(two_admins_demoting_each_other_at_once_leave_one_admin, |state: AppState| async move {
    let people = acme(&state).await;
    let (ada_id, ada) = (people[0].1, people[0].2.clone());
    let (bob_id, bob) = (people[1].1, people[1].2.clone());
    for round in 0..5 {
        // Both admins, then each demotes the other at the same moment.
        for id in [ada_id, bob_id] {
            sqlx::query("UPDATE memberships SET role = 'admin' WHERE user_id = $1")
                .bind(id)
                .execute(&state.db.pool)
                .await
                .unwrap();
        }
        let demote = |token: String, target: i64| {
            let state = state.clone();
            tokio::spawn(async move {
                let uri = format!("/api/orgs/acme/members/{target}/");
                call(&state, "PATCH", &uri, Some(json!({"role": "viewer"})), Some(&token)).await.0
            })
        };
        let (a, b) = (demote(ada.clone(), bob_id), demote(bob.clone(), ada_id));
        let statuses = [a.await.unwrap(), b.await.unwrap()];
        let admins: i64 = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE role = 'admin'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap()
            .get("n");
        assert_eq!(admins, 1, "round {round}: {statuses:?}");
        assert!(statuses.contains(&StatusCode::OK), "round {round}: {statuses:?}");
    }
});

on_both!(an_organizations_only_admin_keeps_the_account_while_others_are_members, |state: AppState| async move {
    let people = acme(&state).await;
    let (ada, bob) = (&people[0], &people[1]);
    let delete = |token: String| {
        let state = state.clone();
        async move { call(&state, "DELETE", "/api/auth/me/", Some(json!({"password": PASSWORD})), Some(&token)).await }
    };
    let (status, body) = delete(ada.2.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({"non_field_errors": ["You are the only admin of \"acme\": make another member an admin first."]})
    );
    // Another admin, and the account may go; the organization stays, with its admin.
    let promote = format!("/api/orgs/acme/members/{}/", bob.1);
    assert_eq!(call(&state, "PATCH", &promote, Some(json!({"role": "admin"})), Some(&ada.2)).await.0, StatusCode::OK);
    assert_eq!(delete(ada.2.clone()).await.0, StatusCode::NO_CONTENT);
    let (_, orgs) = call(&state, "GET", "/api/orgs/", None, Some(&bob.2)).await;
    assert_eq!((orgs[0]["slug"].as_str(), orgs[0]["role"].as_str()), (Some("acme"), Some("admin")));
    // An organization of nobody else goes with its member's account.
    let erin = &people[4].2;
    let new_org = json!({"name": "Solo", "slug": "solo"});
    assert_eq!(call(&state, "POST", "/api/orgs/", Some(new_org), Some(erin)).await.0, StatusCode::CREATED);
    assert_eq!(delete(erin.clone()).await.0, StatusCode::NO_CONTENT);
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM organizations WHERE slug = 'solo'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(left, 0);
});
