//! Organizations: `acme`, with a member in each role, someone outside it and a staff member.

use axum::http::StatusCode;
use latchkey_server::AppState;
use serde_json::{json, Value};

use super::{call, make_staff, mark_verified, user};

/// An organization `acme` whose admin is ada, with bob as editor, carol as author, dan as viewer;
/// erin belongs to no organization and frank is staff. Returns everyone's (id, token).
pub async fn acme(state: &AppState) -> Vec<(&'static str, i64, String)> {
    let names = ["ada", "bob", "carol", "dan", "erin", "frank"];
    let mut people = Vec::new();
    for name in names {
        let (id, token) = user(state, &format!("{name}@example.com"), false).await;
        people.push((name, id, token));
    }
    make_staff(state, people[5].1).await;
    let ada = &people[0].2;
    let (status, org) =
        call(state, "POST", "/api/orgs/", Some(json!({"name": "Acme", "slug": "acme"})), Some(ada)).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!((org["slug"].as_str(), org["role"].as_str()), (Some("acme"), Some("admin")));
    for (i, (name, role)) in [("bob", "editor"), ("carol", "author"), ("dan", "viewer")].into_iter().enumerate() {
        let body = json!({"email": format!("{name}@example.com"), "role": role});
        let (status, answer) = call(state, "POST", "/api/orgs/acme/invitations/", Some(body), Some(ada)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        let org = accept_invitation(state, people[i + 1].1, &people[i + 1].2).await;
        assert_eq!(org["role"], role);
    }
    people
}

/// The user accepts their one pending invitation, their address verified first as accepting requires.
pub async fn accept_invitation(state: &AppState, user_id: i64, token: &str) -> Value {
    mark_verified(state, user_id).await;
    let (_, pending) = call(state, "GET", "/api/orgs/invitations/", None, Some(token)).await;
    let uri = format!("/api/orgs/invitations/{}/accept/", pending[0]["id"]);
    let (status, org) = call(state, "POST", &uri, None, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    org
}
