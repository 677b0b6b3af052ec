//! Migrating from Django (docs/operations.md#importing-from-django), proved with Django itself: `tests/django/make_db.py` builds a
//! real Django database (users hashed by pbkdf2_sha256, argon2 and bcrypt_sha256, an inactive user,
//! staff, a user without an address, a django-otp TOTP device and static tokens); it is imported,
//! and the original passwords and codes log in. `tests/django/drf_check.py` is a DRF service with
//! simplejwt's `JWTStatelessUserAuthentication` and the same signing key: it accepts Latchkey's
//! access tokens and refuses its refresh tokens.
//!
//! Runs when `LATCHKEY_TEST_DJANGO_PYTHON` names the Python of `scripts/django.sh` (the test script
//! sets it); skipped with a message otherwise, unless `LATCHKEY_REQUIRE_DJANGO=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use common::{optional_env, totp, try_login};
use latchkey_server::django_import::import;
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

/// The Python of `scripts/django.sh`, with Django, DRF and simplejwt.
fn python() -> Option<String> {
    optional_env("LATCHKEY_TEST_DJANGO_PYTHON", "LATCHKEY_REQUIRE_DJANGO", "the Django tests")
}

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/django").join(name).display().to_string()
}

/// Runs `make_db.py` against `url` and returns what it made.
fn make_django_db(python: &str, url: &str) -> Value {
    let output = Command::new(python).arg(script("make_db.py")).arg(url).output().expect("run make_db.py");
    assert!(output.status.success(), "make_db.py: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn base32_of_hex(hex: &str) -> String {
    data_encoding::BASE32_NOPAD.encode(&latchkey_core::encoding::unhex(hex).unwrap())
}

/// The imported users log in with what they had in Django.
async fn original_credentials_work(state: &AppState, made: &Value) {
    for user in made["users"].as_array().unwrap() {
        let (email, password) = (user["email"].as_str().unwrap(), user["password"].as_str().unwrap());
        if email.is_empty() || user["username"] == "otto" {
            continue;
        }
        let (status, body) = try_login(state, json!({"email": email.to_lowercase(), "password": password})).await;
        let expected = if user["is_active"] == false { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
        assert_eq!(status, expected, "{email} ({}): {body}", user["hasher"]);
    }
    // Each Django hash was rewritten as argon2id at its first successful login.
    let rows = sqlx::query("SELECT email, password FROM users WHERE is_active = 1 AND email <> 'otto@example.com'")
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    for row in &rows {
        let hash: String = row.get("password");
        assert!(hash.starts_with("$argon2id$"), "{}: {hash}", row.get::<String, _>("email"));
    }
}

#[tokio::test]
async fn a_django_sqlite_database_imports_once_and_its_users_log_in() {
    let Some(python) = python() else { return };
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let dir = std::env::temp_dir().join(format!("latchkey-django-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = format!("sqlite://{}/django.sqlite3", dir.display());
    let _ = std::fs::remove_file(dir.join("django.sqlite3"));
    let made = make_django_db(&python, &source);

    // A dry run reports and writes nothing.
    let dry = import(&state, &source, "auth_user", true).await.unwrap();
    assert_eq!(
        (dry.users_imported, dry.users_skipped.len(), dry.devices_imported, dry.backup_codes_imported),
        (6, 1, 1, 3)
    );
    assert!(dry.users_skipped[0].0.starts_with("nomail"), "{dry}");
    assert!(dry.to_string().contains("dry run: nothing was written"));
    let count = |table: &'static str| {
        let state = state.clone();
        async move {
            sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(&state.db.pool)
                .await
                .unwrap()
                .get::<i64, _>("n")
        }
    };
    assert_eq!(count("users").await, 0);

    let first = import(&state, &source, "auth_user", false).await.unwrap();
    assert_eq!((first.users_imported, first.devices_imported, first.backup_codes_imported), (6, 1, 3), "{first}");
    let again = import(&state, &source, "auth_user", false).await.unwrap();
    assert_eq!(
        (again.users_imported, again.users_present, again.devices_imported, again.devices_present),
        (0, 6, 0, 1),
        "{again}"
    );
    assert_eq!((again.backup_codes_imported, again.backup_codes_present), (0, 3));
    assert_eq!((count("users").await, count("totp_devices").await, count("backup_codes").await), (6, 1, 3));

    // Fields carried over: names, flags, the normalized address.
    let row = sqlx::query(
        "SELECT username, first_name, is_staff, is_superuser, is_verified FROM users WHERE email = 'pat@example.com'",
    )
    .fetch_one(&state.db.pool)
    .await
    .unwrap();
    assert_eq!((row.get::<String, _>("username"), row.get::<String, _>("first_name")), ("pat".into(), "Pat".into()));
    let staff = sqlx::query("SELECT is_staff, is_superuser FROM users WHERE email = 'sam@example.com'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!((staff.get::<i64, _>("is_staff"), staff.get::<i64, _>("is_superuser")), (1, 1));

    original_credentials_work(&state, &made).await;

    // The TOTP user: the device's key gives the same codes, and django-otp's last_t is the replay floor.
    let secret = base32_of_hex(made["totp"]["key"].as_str().unwrap());
    let last_t = made["totp"]["last_t"].as_i64().unwrap();
    let next = totp(&secret, (last_t + 1) * 30);
    assert_eq!(next, made["totp"]["next_code"].as_str().unwrap(), "our RFC 6238 and django-otp agree on the key");
    let otto = json!({"email": "otto@example.com", "password": "otp passphrase seven"});
    let (status, body) = try_login(&state, otto.clone()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("mfa_required")));
    let mut used = otto.clone();
    used["otp"] = json!(totp(&secret, last_t * 30));
    assert_eq!(try_login(&state, used).await.0, StatusCode::UNAUTHORIZED, "the step Django already accepted");
    sqlx::query("UPDATE users SET mfa_locked_until = 0").execute(&state.db.pool).await.unwrap();
    let mut fresh = otto.clone();
    fresh["otp"] = json!(next);
    assert_eq!(try_login(&state, fresh).await.0, StatusCode::OK);
    // A static token is a backup code, once.
    let mut backup = otto.clone();
    backup["otp"] = made["static_tokens"][0].clone();
    assert_eq!(try_login(&state, backup.clone()).await.0, StatusCode::OK);
    assert_eq!(try_login(&state, backup.clone()).await.0, StatusCode::UNAUTHORIZED);
    spent_tokens_stay_spent(&state, &source, &backup, &made).await;
}

/// Importing again after a static token was used leaves it used, and the unused ones usable.
async fn spent_tokens_stay_spent(state: &AppState, source: &str, spent: &Value, made: &Value) {
    let again = import(state, source, "auth_user", false).await.unwrap();
    assert_eq!((again.backup_codes_imported, again.backup_codes_present), (0, 3), "{again}");
    let codes = sqlx::query("SELECT COUNT(*) AS n FROM backup_codes").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(codes.get::<i64, _>("n"), 2);
    sqlx::query("UPDATE users SET mfa_locked_until = 0").execute(&state.db.pool).await.unwrap();
    assert_eq!(try_login(state, spent.clone()).await.0, StatusCode::UNAUTHORIZED, "the token used before the import");
    sqlx::query("UPDATE users SET mfa_locked_until = 0").execute(&state.db.pool).await.unwrap();
    let mut unused = spent.clone();
    unused["otp"] = made["static_tokens"][1].clone();
    assert_eq!(try_login(state, unused).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_django_postgres_database_imports_too() {
    let Some(python) = python() else { return };
    let Some(state) = common::state(common::Backend::Postgres).await else { return };
    let Some(source) = common::fresh_postgres_database().await else { return };
    let made = make_django_db(&python, &source);
    let summary = import(&state, &source, "auth_user", false).await.unwrap();
    assert_eq!(
        (summary.users_imported, summary.devices_imported, summary.backup_codes_imported),
        (6, 1, 3),
        "{summary}"
    );
    assert_eq!(import(&state, &source, "auth_user", false).await.unwrap().users_imported, 0);
    original_credentials_work(&state, &made).await;
    let secret = base32_of_hex(made["totp"]["key"].as_str().unwrap());
    let last_t = made["totp"]["last_t"].as_i64().unwrap();
    let body = json!({"email": "otto@example.com", "password": "otp passphrase seven", "otp": totp(&secret, (last_t + 1) * 30)});
    assert_eq!(try_login(&state, body).await.0, StatusCode::OK);
    let backup =
        json!({"email": "otto@example.com", "password": "otp passphrase seven", "otp": made["static_tokens"][0]});
    assert_eq!(try_login(&state, backup.clone()).await.0, StatusCode::OK);
    spent_tokens_stay_spent(&state, &source, &backup, &made).await;
}

#[tokio::test]
async fn sources_it_does_not_understand_are_refused_clearly() {
    let Some(python) = python() else { return };
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let missing =
        import(&state, "sqlite:///nonexistent/django.sqlite3", "auth_user", false).await.unwrap_err().to_string();
    assert!(missing.starts_with("cannot open the Django database"), "{missing}");
    assert!(import(&state, "mysql://x", "auth_user", false)
        .await
        .unwrap_err()
        .to_string()
        .contains("sqlite: or postgres:"));
    let dir = std::env::temp_dir().join(format!("latchkey-django-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = format!("sqlite://{}/django.sqlite3", dir.display());
    let _ = std::fs::remove_file(dir.join("django.sqlite3"));
    make_django_db(&python, &source);
    let wrong = import(&state, &source, "django_migrations", false).await.unwrap_err().to_string();
    assert!(wrong.contains("not a Django user table"), "{wrong}");
    let injected = import(&state, &source, "auth_user; DROP TABLE auth_user", false).await.unwrap_err().to_string();
    assert!(injected.contains("is not a table name"), "{injected}");
    // The command line prints the summary.
    let latchkey_db = format!("sqlite://{}/latchkey.db?mode=rwc", dir.display());
    let output = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["import-django", "--database-url", &source, "--dry-run"])
        .env("LATCHKEY_DATABASE_URL", latchkey_db)
        .env("LATCHKEY_SECRET_KEY", "cli-secret-cli-secret-cli-secret")
        .env("LATCHKEY_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("users: would import 6, already present 0, skipped 1"), "{stdout}");
    assert!(stdout.contains("TOTP devices: would import 1"), "{stdout}");
}

/// A DRF service with simplejwt's stateless authentication and Latchkey's signing key.
#[tokio::test]
async fn a_simplejwt_service_accepts_latchkey_access_tokens_and_refuses_refresh_tokens() {
    let Some(python) = python() else { return };
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let id = common::create_user(&state, "ada@example.com", "correct horse battery staple").await;
    let (status, pair) =
        try_login(&state, json!({"email": "ada@example.com", "password": "correct horse battery staple"})).await;
    assert_eq!(status, StatusCode::OK);
    let key = state.config.secret_key.clone().unwrap();
    let output = Command::new(&python)
        .arg(script("drf_check.py"))
        .args([&key, pair["access"].as_str().unwrap(), pair["refresh"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "drf_check.py: {}", String::from_utf8_lossy(&output.stderr));
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        results["access"],
        json!({"status": 200, "body": {"user_id": id.to_string(), "email": "ada@example.com", "token_type": "access"}})
    );
    assert_eq!(results["refresh"]["status"], 401, "{results}");
    assert_eq!(results["refresh"]["body"]["code"], "token_not_valid");
    assert_eq!(results["refresh"]["body"]["messages"][0]["message"], "Token has wrong type");
    assert_eq!(results["garbage"]["status"], 401);
}
