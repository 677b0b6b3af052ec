//! Members join organizations by invitation (docs/api.md#api-keys): the same 202 whether or not the address has
//! an account, mail only to accounts, org admins only, the invitee's list, accept and decline by the
//! verified owner of the address alone, expiry after 7 days, and the limit per inviting user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{audited, call, mails, request, send, user};
use latchkey_server::{now, AppState};
use serde_json::{json, Value};
use sqlx::Row;

const INVITED: &str = "If the address belongs to an account, an invitation has been sent.";
const SEVEN_DAYS: i64 = 7 * 86_400;

/// Ada's organization `acme`.
async fn acme_of_ada(state: &AppState) -> (i64, String) {
    let (id, ada) = user(state, "ada@example.com", true).await;
    let (status, org) =
        call(state, "POST", "/api/orgs/", Some(json!({"name": "Acme", "slug": "acme"})), Some(&ada)).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    (id, ada)
}

async fn invite(state: &AppState, token: &str, email: &str, role: &str) -> (StatusCode, Value) {
    let body = json!({"email": email, "role": role});
    call(state, "POST", "/api/orgs/acme/invitations/", Some(body), Some(token)).await
}

/// The caller's pending invitations.
async fn pending(state: &AppState, token: &str) -> Vec<Value> {
    let (status, list) = call(state, "GET", "/api/orgs/invitations/", None, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

/// `user_id`'s role in `acme`, if a member.
async fn role(state: &AppState, user_id: i64) -> Option<String> {
    let sql = "SELECT m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
               WHERE o.slug = 'acme' AND m.user_id = $1";
    let row = sqlx::query(sql).bind(user_id).fetch_optional(&state.db.pool).await.unwrap();
    row.map(|row| row.get("role"))
}

on_both!(the_answer_is_the_same_for_any_address_and_only_accounts_get_mail, |state: AppState| async move {
    let (_, ada) = acme_of_ada(&state).await;
    user(&state, "bob@example.com", true).await;
    let known = send(
        &state,
        request(
            "POST",
            "/api/orgs/acme/invitations/",
            Some(json!({"email": "bob@example.com", "role": "editor"})),
            Some(&ada),
        ),
    )
    .await;
    let unknown = send(
        &state,
        request(
            "POST",
            "/api/orgs/acme/invitations/",
            Some(json!({"email": "nobody@example.com", "role": "editor"})),
            Some(&ada),
        ),
    )
    .await;
    for (status, body, _) in [&known, &unknown] {
        assert_eq!((*status, body), (StatusCode::ACCEPTED, &json!({"detail": INVITED})));
    }
    let headers = |response: &axum::response::Response<()>| {
        let mut names: Vec<String> = response.headers().keys().map(|name| name.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(headers(&known.2), headers(&unknown.2), "the same headers too");
    // Both are stored (the same work); only the account is mailed, after the answer.
    let stored =
        sqlx::query("SELECT id, email FROM org_invitations ORDER BY id").fetch_all(&state.db.pool).await.unwrap();
    let stored: Vec<(i64, String)> = stored.iter().map(|row| (row.get("id"), row.get("email"))).collect();
    assert_eq!(
        stored.iter().map(|(_, email)| email.as_str()).collect::<Vec<_>>(),
        ["bob@example.com", "nobody@example.com"]
    );
    mails(&state, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let sent = mails(&state, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let mail = sent[0].replace("=\r\n", "").replace("=3D", "=");
    assert!(mail.contains("To: bob@example.com"), "{mail}");
    assert!(mail.contains("Subject: You are invited to join an organization"), "{mail}");
    assert!(mail.contains("Acme") && mail.contains("editor") && mail.contains("ada@example.com"), "{mail}");
    let link = format!("/?invitation={}", stored[0].0);
    assert!(mail.contains(&link), "{link} in {mail}");
    assert_eq!(audited(&state, "org_invitation_sent", None).await.len(), 2);
});

on_both!(only_org_admins_invite, |state: AppState| async move {
    let (_, ada) = acme_of_ada(&state).await;
    let (bob_id, bob) = user(&state, "bob@example.com", true).await;
    let (_, erin) = user(&state, "erin@example.com", true).await;
    invite(&state, &ada, "bob@example.com", "editor").await;
    let id = pending(&state, &bob).await[0]["id"].as_i64().unwrap();
    call(&state, "POST", &format!("/api/orgs/invitations/{id}/accept/"), None, Some(&bob)).await;
    assert_eq!(role(&state, bob_id).await.as_deref(), Some("editor"));

    // A member who is not an admin: 403; a non-member: the organization does not exist.
    assert_eq!(invite(&state, &bob, "carol@example.com", "viewer").await.0, StatusCode::FORBIDDEN);
    assert_eq!(invite(&state, &erin, "carol@example.com", "viewer").await.0, StatusCode::NOT_FOUND);
    let body = json!({"email": "carol@example.com", "role": "viewer"});
    assert_eq!(call(&state, "POST", "/api/orgs/acme/invitations/", Some(body), None).await.0, StatusCode::UNAUTHORIZED);
    // The form: a role, a valid address of at most 254 characters; a member already is one.
    let long = format!("{}@example.com", "a".repeat(250));
    for (email, role, field) in [
        ("carol@example.com", "owner", "role"),
        ("not an address", "viewer", "email"),
        (long.as_str(), "viewer", "email"),
        ("BOB@example.com", "viewer", "email"),
        ("ada@example.com", "admin", "email"),
    ] {
        let (status, errors) = invite(&state, &ada, email, role).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email} {role}");
        assert!(errors[field].is_array(), "{errors}");
    }
    assert!(audited(&state, "org_invitation_sent", None).await.len() == 1, "refused invitations are not sent");
});

on_both!(invitees_list_accept_and_decline, |state: AppState| async move {
    let (ada_id, ada) = acme_of_ada(&state).await;
    let (bob_id, bob) = user(&state, "bob@example.com", true).await;
    let (carol_id, carol) = user(&state, "carol@example.com", true).await;
    let (erin_id, erin) = user(&state, "erin@example.com", true).await;
    let (dan_id, dan) = user(&state, "dan@example.com", false).await;
    // Addresses are normalized; inviting again replaces the invitation.
    invite(&state, &ada, "  BOB@Example.COM ", "viewer").await;
    invite(&state, &ada, "bob@example.com", "editor").await;
    // The v1 endpoint invites exactly as the invitation endpoint does.
    let (status, body) = call(
        &state,
        "POST",
        "/api/orgs/acme/members/",
        Some(json!({"email": "carol@example.com", "role": "author"})),
        Some(&ada),
    )
    .await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"detail": INVITED})));
    invite(&state, &ada, "dan@example.com", "viewer").await;

    let list = pending(&state, &bob).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let invitation = &list[0];
    let id = invitation["id"].as_i64().unwrap();
    assert_eq!(
        invitation,
        &json!({
            "id": id, "org": {"slug": "acme", "name": "Acme"}, "role": "editor", "invited_by": "ada@example.com",
            "created_at": invitation["created_at"], "expires_at": invitation["expires_at"],
        })
    );
    assert!(invitation["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(pending(&state, &erin).await.is_empty());
    // The list is described by the OpenAPI document.
    let (_, doc) = call(&state, "GET", "/api/schema/", None, None).await;
    let properties: Vec<&String> =
        doc["components"]["schemas"]["Invitation"]["properties"].as_object().unwrap().keys().collect();
    let mut fields: Vec<&String> = invitation.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(properties, fields);

    // Someone else, or an unknown id: 404, and the invitation is still there.
    let accept = format!("/api/orgs/invitations/{id}/accept/");
    let decline = format!("/api/orgs/invitations/{id}/decline/");
    assert_eq!(call(&state, "POST", &accept, None, Some(&erin)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&state, "POST", &decline, None, Some(&erin)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&state, "POST", &accept, None, Some(&ada)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&state, "POST", "/api/orgs/invitations/999999/accept/", None, Some(&bob)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&state, "POST", "/api/orgs/invitations/x/accept/", None, Some(&bob)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(call(&state, "POST", &accept, None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(pending(&state, &bob).await.len(), 1);

    // Accepting: a member with the invited role; the invitation is used up.
    let (status, org) = call(&state, "POST", &accept, None, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(
        (org["slug"].as_str(), org["name"].as_str(), org["role"].as_str()),
        (Some("acme"), Some("Acme"), Some("editor"))
    );
    assert_eq!(role(&state, bob_id).await.as_deref(), Some("editor"));
    let (_, members) = call(&state, "GET", "/api/orgs/acme/members/", None, Some(&bob)).await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert!(pending(&state, &bob).await.is_empty());
    assert_eq!(call(&state, "POST", &accept, None, Some(&bob)).await.0, StatusCode::NOT_FOUND, "used up");
    let accepted = audited(&state, "org_invitation_accepted", None).await;
    assert_eq!(
        (accepted.len(), accepted[0]["org"].as_str(), accepted[0]["role"].as_str(), accepted[0]["invitation"].as_i64()),
        (1, Some("acme"), Some("editor"), Some(id))
    );

    // Declining: gone, and no membership.
    let carols = pending(&state, &carol).await;
    assert_eq!(carols[0]["role"], "author");
    let carols = carols[0]["id"].as_i64().unwrap();
    assert_eq!(
        call(&state, "POST", &format!("/api/orgs/invitations/{carols}/decline/"), None, Some(&carol)).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(pending(&state, &carol).await.is_empty());
    assert_eq!(role(&state, carol_id).await, None);
    assert_eq!(
        call(&state, "POST", &format!("/api/orgs/invitations/{carols}/accept/"), None, Some(&carol)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(audited(&state, "org_invitation_declined", None).await.len(), 1);

    // An unverified address may belong to someone who registered it without owning it: 403.
    let dans: i64 = sqlx::query("SELECT id FROM org_invitations WHERE email = 'dan@example.com'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .get("id");
    for (method, uri) in [
        ("GET", "/api/orgs/invitations/".to_owned()),
        ("POST", format!("/api/orgs/invitations/{dans}/accept/")),
        ("POST", format!("/api/orgs/invitations/{dans}/decline/")),
    ] {
        assert_eq!(call(&state, method, &uri, None, Some(&dan)).await.0, StatusCode::FORBIDDEN, "{method} {uri}");
    }
    assert_eq!(role(&state, dan_id).await, None);

    // Someone who became a member in the meantime keeps their role.
    invite(&state, &ada, "erin@example.com", "admin").await;
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) SELECT id, $1, 'viewer', 0 FROM organizations",
    )
    .bind(erin_id)
    .execute(&state.db.pool)
    .await
    .unwrap();
    let erins = pending(&state, &erin).await[0]["id"].as_i64().unwrap();
    let (status, org) =
        call(&state, "POST", &format!("/api/orgs/invitations/{erins}/accept/"), None, Some(&erin)).await;
    assert_eq!((status, org["role"].as_str()), (StatusCode::OK, Some("viewer")));
    assert_eq!(role(&state, erin_id).await.as_deref(), Some("viewer"));
    assert!(pending(&state, &erin).await.is_empty());

    // An invitation to an address without an account waits for it to register (and verify).
    invite(&state, &ada, "newbie@example.com", "viewer").await;
    let (newbie_id, newbie) = user(&state, "newbie@example.com", true).await;
    let newbies = pending(&state, &newbie).await;
    assert_eq!(newbies.len(), 1);
    let uri = format!("/api/orgs/invitations/{}/accept/", newbies[0]["id"]);
    assert_eq!(call(&state, "POST", &uri, None, Some(&newbie)).await.0, StatusCode::OK);
    assert_eq!(role(&state, newbie_id).await.as_deref(), Some("viewer"));
    assert_eq!(role(&state, ada_id).await.as_deref(), Some("admin"));
});

on_both!(invitations_expire_after_seven_days, |state: AppState| async move {
    let (_, ada) = acme_of_ada(&state).await;
    let (bob_id, _) = user(&state, "bob@example.com", true).await;
    invite(&state, &ada, "bob@example.com", "editor").await;
    let row =
        sqlx::query("SELECT id, created_at, expires_at FROM org_invitations").fetch_one(&state.db.pool).await.unwrap();
    let (id, created, expires): (i64, i64, i64) = (row.get("id"), row.get("created_at"), row.get("expires_at"));
    assert_eq!(expires - created, SEVEN_DAYS);
    assert!((created - now()).abs() < 60);
    // Seven days later, when bob's access token has long expired too: he logs in again.
    common::pass(&state, SEVEN_DAYS.unsigned_abs());
    let bob = common::login(&state, "bob@example.com", common::PASSWORD).await;
    let ada = common::login(&state, "ada@example.com", common::PASSWORD).await;
    assert!(pending(&state, &bob).await.is_empty());
    for action in ["accept", "decline"] {
        let uri = format!("/api/orgs/invitations/{id}/{action}/");
        assert_eq!(call(&state, "POST", &uri, None, Some(&bob)).await.0, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(role(&state, bob_id).await, None);
    // The organization's next invitation clears its expired ones away.
    assert_eq!(invite(&state, &ada, "carol@example.com", "viewer").await.0, StatusCode::ACCEPTED);
    let left = sqlx::query("SELECT email FROM org_invitations").fetch_all(&state.db.pool).await.unwrap();
    assert_eq!(left.iter().map(|row| row.get::<String, _>("email")).collect::<Vec<_>>(), ["carol@example.com"]);
    // Inviting again starts seven new days.
    assert_eq!(invite(&state, &ada, "bob@example.com", "editor").await.0, StatusCode::ACCEPTED);
    let list = pending(&state, &bob).await;
    assert_eq!(list.len(), 1);
    let uri = format!("/api/orgs/invitations/{}/accept/", list[0]["id"]);
    assert_eq!(call(&state, "POST", &uri, None, Some(&bob)).await.0, StatusCode::OK);
});

on_both!(invitations_are_limited_per_inviting_user, |state: AppState| async move {
    let (_, ada) = acme_of_ada(&state).await;
    for n in 0..50 {
        let (status, body) = invite(&state, &ada, &format!("guest{n}@example.com"), "viewer").await;
        assert_eq!(status, StatusCode::ACCEPTED, "invitation {n}: {body}");
    }
    let (status, body) = invite(&state, &ada, "one-more@example.com", "viewer").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "throttled");
    // The v1 endpoint counts against the same limit.
    let body = json!({"email": "one-more@example.com", "role": "viewer"});
    assert_eq!(
        call(&state, "POST", "/api/orgs/acme/members/", Some(body), Some(&ada)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another admin has their own count.
    let (_, erin) = user(&state, "erin@example.com", true).await;
    call(&state, "POST", "/api/orgs/", Some(json!({"name": "Other", "slug": "other"})), Some(&erin)).await;
    let body = json!({"email": "one-more@example.com", "role": "viewer"});
    assert_eq!(
        call(&state, "POST", "/api/orgs/other/invitations/", Some(body), Some(&erin)).await.0,
        StatusCode::ACCEPTED
    );
});
