//! `GET /metrics`: each family counts what happened, with bounded labels, on both databases.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{call, configured, create_user, from, request, send, send_text, PASSWORD};
use latchkey_core::hash::HashParams;
use latchkey_server::passwords::Hasher;
use latchkey_server::AppState;
use serde_json::json;

/// The exposition as `GET /metrics` answers it.
async fn scrape(state: &AppState) -> String {
    let (status, text, response) = send_text(state, request("GET", "/metrics", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4");
    text
}

/// The value of the sample `series` (name and labels, exactly as rendered), if it is there.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Asserts that `series` is `expected`.
fn assert_sample(text: &str, series: &str, expected: f64) {
    assert_eq!(value(text, series), Some(expected), "{series} in\n{text}");
}

/// The samples (lines that are not comments): one per series, bucket and sum.
fn samples(text: &str) -> usize {
    text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).count()
}

on_both!(logins_refreshes_lockouts_limits_and_mail_are_counted, |state: AppState| async move {
    let state = configured(&state, |c| {
        c.lockout_attempts = 2;
        c.rate_limits = "reset:ip=1/1h".parse().unwrap();
    });
    create_user(&state, "ada@example.com", PASSWORD).await;
    let login = |ip: &'static str, email: &'static str, password: &'static str| {
        let state = state.clone();
        async move {
            let body = json!({"email": email, "password": password});
            let (status, body, _) = send(&state, from(ip, "POST", "/api/token/", body, None)).await;
            (status, body)
        }
    };
    let (status, pair) = login("192.0.2.1", "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login("192.0.2.2", "ada@example.com", "wrong").await.0, StatusCode::UNAUTHORIZED);
    // Two failures lock the (unknown) account; the next attempt is refused before any hash.
    for _ in 0..2 {
        assert_eq!(login("192.0.2.3", "bob@example.com", "wrong").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login("192.0.2.3", "bob@example.com", "wrong").await.0, StatusCode::TOO_MANY_REQUESTS);
    // A refresh, then the same (now rotated) token again: reuse.
    let old = pair["refresh"].as_str().unwrap();
    assert_eq!(common::refresh(&state, old).await.0, StatusCode::OK);
    common::pass(&state, state.config.refresh_reuse_grace.as_secs() + 1);
    assert_eq!(common::refresh(&state, old).await.0, StatusCode::UNAUTHORIZED);
    // A reset e-mail, then a second request from the address over its limit.
    common::at_window_start(&state, 3600);
    let reset = || from("192.0.2.9", "POST", "/api/auth/password/reset/", json!({"email": "ada@example.com"}), None);
    assert_eq!(send(&state, reset()).await.0, StatusCode::OK);
    assert_eq!(send(&state, reset()).await.0, StatusCode::TOO_MANY_REQUESTS);
    common::mails(&state, 1).await;

    let mut text = scrape(&state).await;
    // Delivery is counted right after the file is written: wait for it, without timing anything.
    let delivered = r#"latchkey_email_deliveries_total{kind="password_reset",result="delivered"}"#;
    for _ in 0..100 {
        if value(&text, delivered).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        text = scrape(&state).await;
    }
    assert_sample(&text, delivered, 1.0);
    assert_sample(&text, r#"latchkey_logins_total{result="success"}"#, 1.0);
    assert_sample(&text, r#"latchkey_logins_total{result="bad_credentials"}"#, 3.0);
    assert_sample(&text, r#"latchkey_logins_total{result="locked_out"}"#, 1.0);
    assert_sample(&text, r#"latchkey_logins_total{result="mfa_required"}"#, 0.0);
    assert_sample(&text, r#"latchkey_lockouts_total{scope="account"}"#, 1.0);
    assert_sample(&text, r#"latchkey_lockouts_total{scope="ip"}"#, 0.0);
    assert_sample(&text, r#"latchkey_lockout_refusals_total{scope="account"}"#, 1.0);
    assert_sample(&text, r#"latchkey_token_refreshes_total{result="success"}"#, 1.0);
    assert_sample(&text, r#"latchkey_token_refreshes_total{result="refused"}"#, 1.0);
    assert_sample(&text, "latchkey_refresh_reuse_total", 1.0);
    assert_sample(&text, r#"latchkey_rate_limit_refusals_total{limit="reset:ip"}"#, 1.0);
    assert_sample(&text, r#"latchkey_rate_limit_refusals_total{limit="login:ip"}"#, 0.0);
    // Requests by route template, method and status, with their latency.
    let token = r#"route="/api/token/",method="POST",status="#;
    assert_sample(&text, &format!(r#"latchkey_http_requests_total{{{token}"200"}}"#), 1.0);
    assert_sample(&text, &format!(r#"latchkey_http_requests_total{{{token}"401"}}"#), 3.0);
    assert_sample(&text, &format!(r#"latchkey_http_requests_total{{{token}"429"}}"#), 1.0);
    assert_sample(&text, &format!(r#"latchkey_http_request_duration_seconds_count{{{token}"401"}}"#), 3.0);
    assert_sample(&text, &format!(r#"latchkey_http_request_duration_seconds_bucket{{{token}"401",le="+Inf"}}"#), 3.0);
    assert!(value(&text, &format!(r#"latchkey_http_request_duration_seconds_bucket{{{token}"200",le="0.0005"}}"#))
        .is_some());
    // Four passwords were hashed (the locked attempt was not), each after some wait for a worker.
    assert!(value(&text, "latchkey_hash_wait_seconds_count").is_some_and(|n| n >= 4.0), "{text}");
    assert_sample(&text, r#"latchkey_hash_rejections_total{reason="queue_full"}"#, 0.0);
});

on_both!(second_factors_are_counted_by_purpose_and_result, |state: AppState| async move {
    let user = common::enroll(&state, "ada@example.com").await;
    let token = common::mfa_token(&state, "ada@example.com").await;
    let wrong = json!({"mfa_token": token, "code": "000000"});
    assert_eq!(call(&state, "POST", "/api/token/mfa/", Some(wrong), None).await.0, StatusCode::UNAUTHORIZED);
    common::let_backoff_pass(&state, user.user_id).await;
    let right = json!({"mfa_token": token, "code": common::next_code(&user)});
    assert_eq!(call(&state, "POST", "/api/token/mfa/", Some(right), None).await.0, StatusCode::OK);
    let text = scrape(&state).await;
    assert_sample(&text, r#"latchkey_mfa_verifications_total{purpose="confirm_device",result="success"}"#, 1.0);
    assert_sample(&text, r#"latchkey_mfa_verifications_total{purpose="login",result="invalid"}"#, 1.0);
    assert_sample(&text, r#"latchkey_mfa_verifications_total{purpose="login",result="success"}"#, 1.0);
    assert_sample(&text, r#"latchkey_mfa_verifications_total{purpose="login",result="throttled"}"#, 0.0);
    assert_sample(&text, r#"latchkey_logins_total{result="mfa_required"}"#, 1.0);
    // The enrolling login and the two-step one.
    assert_sample(&text, r#"latchkey_logins_total{result="success"}"#, 2.0);
});

on_both!(gauges_and_declared_families_render_before_anything_happens, |state: AppState| async move {
    let text = scrape(&state).await;
    for family in latchkey_server::metrics::catalog::COUNTERS
        .iter()
        .chain(&latchkey_server::metrics::catalog::GAUGES)
        .chain(&latchkey_server::metrics::catalog::HISTOGRAMS)
        .map(|(name, _)| *name)
        // Requests and e-mails appear with the first one (their labels are a route, a template).
        .filter(|name| !name.starts_with("latchkey_http_") && !name.starts_with("latchkey_email_"))
    {
        assert!(text.contains(&format!("# HELP {family} ")), "{family} has no help in\n{text}");
    }
    assert_sample(&text, r#"latchkey_webhook_deliveries_total{result="delivered"}"#, 0.0);
    assert_sample(&text, "latchkey_breach_check_failures_total", 0.0);
    assert_sample(&text, "latchkey_hash_queue_depth", 0.0);
    assert_sample(&text, "latchkey_hash_in_progress", 0.0);
    let max = value(&text, "latchkey_db_pool_max_connections").unwrap();
    let idle = value(&text, r#"latchkey_db_pool_connections{state="idle"}"#).unwrap();
    let in_use = value(&text, r#"latchkey_db_pool_connections{state="in_use"}"#).unwrap();
    assert!(max >= 1.0 && idle + in_use <= max, "{text}");
    assert_sample(&text, "latchkey_auth_cache_live", 1.0);
    // A request is counted once answered: the first scrape shows on the second.
    let scraped = r#"latchkey_http_requests_total{route="/metrics",method="GET",status="200"}"#;
    assert_eq!(value(&text, scraped), None);
    assert_sample(&scrape(&state).await, scraped, 1.0);
    // Another state in the same process counts apart.
    let other = common::state(common::Backend::Sqlite).await.unwrap();
    assert!(!scrape(&other).await.contains("latchkey_http_requests_total{"), "states share a recorder");
});

on_both!(a_full_hashing_queue_is_counted, |state: AppState| async move {
    let mut state = state;
    create_user(&state, "ada@example.com", PASSWORD).await;
    state.hasher = Hasher::with_capacity(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 0, 0)
        .observed(state.metrics.gate());
    let body = json!({"email": "ada@example.com", "password": PASSWORD});
    assert_eq!(call(&state, "POST", "/api/token/", Some(body), None).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let text = scrape(&state).await;
    assert_sample(&text, r#"latchkey_hash_rejections_total{reason="queue_full"}"#, 1.0);
    assert_sample(&text, "latchkey_hash_workers", 0.0);
});

on_both!(labels_stay_bounded_whatever_the_paths, |state: AppState| async move {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    let access = common::signed_in(&state, "ada@example.com").await;
    let mut random = || format!("{:016x}", rng.gen::<u64>());
    // One request of each kind first, so that every series exists; then a thousand more.
    let kinds = |r: String| {
        [
            request("GET", &format!("/api/{r}/"), None, None),
            request("GET", &format!("/{r}"), None, None),
            request("DELETE", &format!("/api/auth/sessions/{r}/"), None, Some(&access)),
            request("BREW", &format!("/api/{r}"), None, None),
        ]
    };
    for request in kinds(random()) {
        send_text(&state, request).await;
    }
    // The first scrape is counted once answered: the second one shows its series.
    scrape(&state).await;
    let before = scrape(&state).await;
    let mut sent = Vec::new();
    for _ in 0..250 {
        let r = random();
        for request in kinds(r.clone()) {
            send_text(&state, request).await;
        }
        sent.push(r);
    }
    let after = scrape(&state).await;
    assert_eq!(samples(&after), samples(&before), "the number of series grew:\n{after}");
    assert!(sent.iter().all(|r| !after.contains(r.as_str())), "a requested path became a label");
    // Each kind was counted in its one series, whatever its status.
    let count = |prefix: &str| -> f64 {
        let lines = after.lines().filter(|line| line.starts_with(prefix));
        lines.map(|line| line.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap()).sum()
    };
    let total = r#"latchkey_http_requests_total{route="#;
    assert_eq!(count(&format!(r#"{total}"/api/auth/sessions/{{id}}/",method="DELETE","#)), 251.0, "{after}");
    assert_eq!(count(&format!(r#"{total}"other",method="GET","#)), 502.0, "{after}");
    assert_eq!(count(&format!(r#"{total}"other",method="other","#)), 251.0, "{after}");
});

/// `docs/grafana-dashboard.json` is a dashboard with a query on every family, and
/// `docs/operations.md` documents every family.
#[test]
#[allow(clippy::unwrap_used)]
fn the_dashboard_and_the_guide_cover_every_family() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(docs.join("grafana-dashboard.json")).unwrap()).unwrap();
    let queries: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|panel| panel["targets"].as_array())
        .flatten()
        .map(|target| target["expr"].as_str().unwrap())
        .collect();
    let guide = std::fs::read_to_string(docs.join("operations.md")).unwrap();
    let catalog = &latchkey_server::metrics::catalog::COUNTERS;
    for (family, _) in catalog
        .iter()
        .chain(&latchkey_server::metrics::catalog::GAUGES)
        .chain(&latchkey_server::metrics::catalog::HISTOGRAMS)
    {
        assert!(queries.iter().any(|q| q.contains(family)), "no panel queries {family}");
        assert!(guide.contains(&format!("| `{family}` |")), "docs/operations.md does not document {family}");
    }
}
