//! The ID token of a social sign-in (docs/api.md#social-login), checked as OpenID Connect Core §3.1.3.7
//! asks, against the fake provider of `common::oidc_fake`: every way a token can be bad is refused
//! with `?error=id_token_invalid`, audited with the check that failed, and makes no account; the
//! e-mail is read from userinfo when the token has none; keys rotate without a restart; a provider
//! whose discovery lies is not used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{audited, authorize, oidc_login, oidc_sign_in, return_to, with_social, Endpoint, Tamper, OIDC};
use latchkey_server::AppState;
use serde_json::json;

async fn users(state: &AppState) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&state.db.pool).await.unwrap();
    row.0
}

on_both!(every_bad_id_token_is_refused_and_audited_with_its_check, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let mut refused = 0;
    for tamper in Tamper::ALL {
        op.script().tamper = Some(tamper);
        let landing = oidc_login(&state, &op).await;
        match tamper.failed_check() {
            None => assert!(landing.get("login_code").is_some(), "{tamper:?}: {landing:?}"),
            Some(check) => {
                assert_eq!(landing.get("error"), Some("id_token_invalid"), "{tamper:?}: {landing:?}");
                assert_eq!(landing.params.len(), 1, "{tamper:?}: {landing:?}");
                refused += 1;
                let failures = audited(&state, "login_failed", None).await;
                assert_eq!(failures.len(), refused, "{tamper:?}");
                let last = failures.last().unwrap();
                assert_eq!(last["reason"], "social_invalid");
                assert_eq!(last["check"], check, "{tamper:?}: {last}");
            }
        }
    }
    // Only the valid variant made an account.
    assert_eq!(users(&state).await, 1);
});

on_both!(a_token_within_a_minute_of_clock_skew_is_accepted, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    op.script().clock_skew = 50;
    oidc_sign_in(&state, &op).await;
    op.script().clock_skew = -50;
    oidc_sign_in(&state, &op).await;
});

on_both!(the_address_comes_from_userinfo_when_the_id_token_has_none, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    op.script().email_in_id_token = false;
    oidc_sign_in(&state, &op).await;
    assert_eq!(op.calls().userinfo, 1);
    let row: (String, i64) =
        sqlx::query_as("SELECT first_name, is_verified FROM users WHERE email = 'jane@example.test'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    assert_eq!(row, ("Jane".to_owned(), 1));
    // Userinfo for another subject than the ID token's is refused (OIDC Core §5.3.2).
    op.script().user.sub = "someone-else-1".into();
    op.script().userinfo_sub = Some("not-the-same".into());
    let landing = oidc_login(&state, &op).await;
    assert_eq!(landing.get("error"), Some("id_token_invalid"), "{landing:?}");
    assert_eq!(audited(&state, "login_failed", None).await.last().unwrap()["check"], "userinfo_subject");
});

on_both!(rotated_provider_keys_are_fetched_again_by_their_kid, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    oidc_sign_in(&state, &op).await;
    let before = op.calls().jwks;
    op.script().rotated = true;
    oidc_sign_in(&state, &op).await;
    assert_eq!(op.calls().jwks, before + 1, "an unknown kid fetches the keys once more");
    // A kid that is not there after the refetch is not fetched for again and again.
    op.script().tamper = Some(Tamper::UnknownKid);
    for _ in 0..3 {
        assert_eq!(oidc_login(&state, &op).await.get("error"), Some("id_token_invalid"));
    }
    assert!(op.calls().jwks <= before + 2, "{:?}", op.calls());
});

on_both!(a_provider_whose_discovery_names_another_issuer_is_not_used, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    op.script().discovery_issuer = Some("https://evil.example".into());
    let (status, body) = authorize(&state, OIDC, json!({ "return_to": return_to(&state) }), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("provider_unavailable")));
});

on_both!(provider_outages_after_the_redirect_end_in_an_error_not_a_500, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    for endpoint in [Endpoint::Token, Endpoint::Jwks, Endpoint::Userinfo] {
        op.script().unavailable = vec![endpoint];
        op.script().email_in_id_token = endpoint != Endpoint::Userinfo;
        // The keys are cached once fetched: a fresh provider each time would hide the JWKS case.
        let landing = oidc_login(&state, &op).await;
        assert_eq!(landing.status, StatusCode::FOUND, "{endpoint:?}: {landing:?}");
        assert!(landing.get("error").is_some(), "{endpoint:?}: {landing:?}");
    }
    assert_eq!(users(&state).await, 0);
});
