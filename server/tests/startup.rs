//! What the server refuses to start with, and what it warns of: an HS256 secret too short to resist
//! an offline guess, a secret file other users may read, and (a warning only) console e-mail on an
//! address other machines reach. A generated secret file is born readable by its owner alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{fresh_dir, latchkey};
use latchkey_core::token::Algorithm;
use latchkey_server::config::EmailBackend;
use latchkey_server::db::Db;
use latchkey_server::state::StartError;
use latchkey_server::{AppState, Config};
use serde_json::Value;

/// The default configuration over a SQLite file in `dir`, with e-mail going to files there.
fn config_in(dir: &Path) -> Config {
    let mut config = Config::from_env().unwrap();
    config.database_url = format!("sqlite://{}/latchkey.db?mode=rwc", dir.display());
    config.email_backend = EmailBackend::File(dir.to_path_buf());
    config.secret_key = None;
    config
}

async fn db_in(dir: &Path) -> Db {
    Db::connect(&format!("sqlite://{}/latchkey.db?mode=rwc", dir.display())).await.unwrap()
}

fn refusal(result: Result<AppState, StartError>) -> String {
    match result {
        Ok(_) => panic!("the server started"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn an_hs256_secret_under_32_bytes_is_refused() {
    let dir = fresh_dir("short");
    let mut config = config_in(&dir);
    config.secret_key = Some("x".repeat(31));
    let message = refusal(AppState::with_db(config.clone(), db_in(&dir).await));
    assert_eq!(
        message,
        "secret key: LATCHKEY_SECRET_KEY is 31 bytes long; HS256 needs at least 32 \
         (for example 64 hex characters from `openssl rand -hex 32`)"
    );
    // Bytes, not characters: 11 three-byte characters are 33 bytes.
    config.secret_key = Some("€".repeat(11));
    assert!(AppState::with_db(config.clone(), db_in(&dir).await).is_ok());
    config.secret_key = Some("x".repeat(32));
    assert!(AppState::with_db(config, db_in(&dir).await).is_ok());
}

#[tokio::test]
async fn a_short_secret_is_allowed_when_tokens_are_not_signed_with_it() {
    let dir = fresh_dir("eddsa");
    let vectors: Value = serde_json::from_str(include_str!("../../tests/vectors/jwt.json")).unwrap();
    let key = dir.join("jwt-key.pem");
    std::fs::write(&key, vectors["keys"]["EdDSA"]["private_pem"].as_str().unwrap()).unwrap();
    let mut config = config_in(&dir);
    config.secret_key = Some("short".into());
    config.jwt_algorithm = Algorithm::EdDSA;
    config.jwt_private_key_file = Some(key);
    let state = AppState::with_db(config, db_in(&dir).await);
    assert!(state.is_ok(), "{:?}", state.err());
}

#[cfg(unix)]
#[tokio::test]
async fn a_generated_secret_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("generated");
    let state = AppState::new(config_in(&dir)).await.unwrap();
    let path = dir.join("latchkey.secret");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:03o}");
    let secret = std::fs::read_to_string(&path).unwrap();
    assert_eq!(secret.len(), 64, "{secret}");
    drop(state);
    // The second start reads the same key rather than making another.
    AppState::new(config_in(&dir)).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
}

#[cfg(unix)]
#[tokio::test]
async fn a_secret_file_others_may_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("open");
    let path = dir.join("latchkey.secret");
    std::fs::write(&path, "a".repeat(64)).unwrap();
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let message = refusal(AppState::new(config_in(&dir)).await);
        let expected = format!(
            "secret key: {} is open to group or others (mode {mode:03o}); restrict it with `chmod 600 {}`",
            path.display(),
            path.display()
        );
        assert_eq!(message, expected);
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    AppState::new(config_in(&dir)).await.unwrap();
    // A short key in the file is refused like a short LATCHKEY_SECRET_KEY, naming the file.
    std::fs::write(&path, "too short").unwrap();
    let message = refusal(AppState::new(config_in(&dir)).await);
    assert!(message.contains(&format!("{} is 9 bytes long", path.display())), "{message}");
}

/// Starts the binary bound to `bind` with console e-mail, waits for it to listen, stops it, and
/// returns what it logged.
fn logs_of_a_server_on(bind: &str) -> String {
    let mut child = latchkey(&fresh_dir("console"))
        .env("LATCHKEY_BIND", bind)
        .env("LATCHKEY_EMAIL_BACKEND", "console")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start latchkey");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on http://"), "{line:?}");
    let mut logs = String::new();
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    logs
}

#[test]
fn console_mail_on_a_public_address_is_warned_of() {
    let warning = "LATCHKEY_EMAIL_BACKEND is console on a non-loopback address";
    let public = logs_of_a_server_on("0.0.0.0:0");
    assert!(public.contains(warning), "{public}");
    assert!(public.contains("Set LATCHKEY_EMAIL_BACKEND to an SMTP server in production."), "{public}");
    let local = logs_of_a_server_on("127.0.0.1:0");
    assert!(!local.contains(warning), "{local}");
}

#[test]
fn an_unknown_rate_limit_name_is_refused_at_start_up() {
    let dir = fresh_dir("limits");
    let output = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .env("LATCHKEY_BIND", "127.0.0.1:0")
        .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
        .env("LATCHKEY_SECRET_KEY", "startup-secret-startup-secret-startup")
        // `logn` for `login`: a limit that would silently count nothing.
        .env("LATCHKEY_RATE_LIMITS", "logn:ip=5/1m,reset:email=3/1h")
        .output()
        .expect("run latchkey");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown limit `logn:ip`"), "{stderr}");
    assert!(stderr.contains("login:ip, mfa:ip, register:ip"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty(), "it must not start listening");
}

#[test]
fn a_passkey_relying_party_that_cannot_work_is_refused_and_an_ip_turns_passkeys_off() {
    let run = |vars: &[(&str, &str)]| {
        let dir = fresh_dir("webauthn");
        let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .env("LATCHKEY_BIND", "127.0.0.1:0")
            .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
            .env("LATCHKEY_SECRET_KEY", "startup-secret-startup-secret-startup");
        for (name, value) in vars {
            command.env(name, value);
        }
        command.output().expect("run latchkey")
    };
    for (vars, message) in [
        (&[("LATCHKEY_WEBAUTHN_RP_ID", "192.0.2.7")][..], "is not a lowercase domain name"),
        (
            &[
                ("LATCHKEY_PUBLIC_URL", "https://auth.example.com"),
                ("LATCHKEY_WEBAUTHN_ORIGINS", "https://evil.example"),
            ][..],
            "is not on the relying party ID \"auth.example.com\"",
        ),
        (
            &[("LATCHKEY_WEBAUTHN_RP_ID", "example.com"), ("LATCHKEY_WEBAUTHN_ORIGINS", "http://app.example.com")][..],
            "is not https",
        ),
    ] {
        let output = run(vars);
        assert!(!output.status.success(), "{vars:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("passkeys: LATCHKEY_WEBAUTHN_RP_ID / LATCHKEY_WEBAUTHN_ORIGINS: ")
                && stderr.contains(message),
            "{vars:?}: {stderr}"
        );
    }
    // A public URL that cannot be a relying party (the default, on 127.0.0.1; plain http on a
    // domain) is no reason to refuse to start: the server says passkeys are off, and why.
    let logs = logs_of_a_server_on("127.0.0.1:0");
    assert!(logs.contains("passkeys are off: the host of LATCHKEY_PUBLIC_URL is an IP address"), "{logs}");
}
