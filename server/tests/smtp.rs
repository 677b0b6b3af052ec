//! The SMTP backend against a real SMTP server: Python's aiosmtpd (from PyPI, installed by
//! `scripts/smtp.sh`) on loopback, storing what it receives in a Maildir. The server is down when
//! the first messages are sent, so they only arrive through the retries; the reset link is then read
//! back from the delivered message and followed.
//!
//! Runs when `LATCHKEY_TEST_SMTP_PYTHON` names a Python with aiosmtpd (`scripts/test.sh` sets it);
//! without it the test is skipped with a message, unless `LATCHKEY_REQUIRE_SMTP=1` makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;
use common::{link_params, optional_env, request, send, PASSWORD};
use latchkey_server::AppState;
use serde_json::json;

const NEW_PASSWORD: &str = "a sturdier passphrase, freshly chosen";

struct SmtpServer(Child);

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Python with aiosmtpd (`scripts/smtp.sh` installs one).
fn python() -> Option<String> {
    optional_env("LATCHKEY_TEST_SMTP_PYTHON", "LATCHKEY_REQUIRE_SMTP", "the SMTP round trip")
}

/// aiosmtpd on `port`, delivering into the Maildir `dir`; returns once it accepts connections.
async fn start_smtp(python: &str, port: u16, dir: &Path) -> SmtpServer {
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let server = SmtpServer(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("aiosmtpd did not listen on port {port}");
}

/// The messages in the Maildir, once there are `count`.
async fn delivered(dir: &Path, count: usize) -> Vec<String> {
    let new = dir.join("new");
    for _ in 0..150 {
        let files: Vec<PathBuf> =
            std::fs::read_dir(&new).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
        if files.len() >= count {
            return files.iter().map(|path| std::fs::read_to_string(path).unwrap()).collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {count} messages reached {}", new.display());
}

#[tokio::test]
async fn mail_reaches_a_real_smtp_server_through_retries_and_its_link_works() {
    let Some(python) = python() else { return };
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = (*state.config).clone();
    config.email_backend = format!("smtp://127.0.0.1:{port}").parse().unwrap();
    config.email_from = "Latchkey <no-reply@latchkey.test>".into();
    config.email_retry_delays = [300, 600, 1000, 2000, 4000].map(Duration::from_millis).to_vec();
    let mut smtp_state = AppState::with_db(config, state.db.clone()).unwrap();
    smtp_state.hasher = state.hasher.clone();

    // Nothing listens yet: the registration's verification mail and the reset mail both fail at first.
    let register = json!({"email": "ada@example.com", "password": PASSWORD, "password_confirm": PASSWORD});
    let (status, _, _) = send(&smtp_state, request("POST", "/api/auth/register/", Some(register), None)).await;
    assert_eq!(status, StatusCode::CREATED);
    let reset = json!({"email": "ada@example.com"});
    let (status, body, _) = send(&smtp_state, request("POST", "/api/auth/password/reset/", Some(reset), None)).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::OK, Some("If the address is registered, a reset link has been sent."))
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let maildir = std::env::temp_dir().join(format!("latchkey-maildir-{}", std::process::id()));
    let _smtp = start_smtp(&python, port, &maildir).await;
    let messages = delivered(&maildir, 2).await;
    let reset = messages.iter().find(|m| m.contains("Subject: Reset your password")).expect("the reset message");
    assert!(
        reset.contains("From: Latchkey <no-reply@latchkey.test>") && reset.contains("To: ada@example.com"),
        "{reset}"
    );
    assert!(messages.iter().any(|m| m.contains("Subject: Confirm your e-mail address")));

    let (uid, token) = link_params(reset, "password-reset");
    let confirm = json!({"uid": uid, "token": token, "new_password": NEW_PASSWORD});
    let (status, body, _) =
        send(&smtp_state, request("POST", "/api/auth/password/reset/confirm/", Some(confirm), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let login = json!({"email": "ada@example.com", "password": NEW_PASSWORD});
    let (status, _, _) = send(&smtp_state, request("POST", "/api/token/", Some(login), None)).await;
    assert_eq!(status, StatusCode::OK);
    // The notice of the reset goes out too, now at the first attempt.
    let messages = delivered(&maildir, 3).await;
    assert!(messages.iter().any(|m| m.contains("Subject: Your password was changed")));
}
