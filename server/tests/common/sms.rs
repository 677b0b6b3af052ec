//! SMS codes: a server whose SMS backend writes files, the texts it wrote, numbers added and
//! confirmed, and the SMS step of a login.

use std::path::PathBuf;

use axum::http::StatusCode;
use latchkey_server::AppState;
use serde_json::{json, Value};

use super::{call, call_as, configured, create_user, fresh_dir, login_pair, PASSWORD};

/// The 6-digit code in a text (the first run of exactly six digits).
pub fn six_digit_code(text: &str) -> String {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .find(|&i| {
            bytes[i..].len() >= 6
                && bytes[i..i + 6].iter().all(u8::is_ascii_digit)
                && (i == 0 || !bytes[i - 1].is_ascii_digit())
                && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit())
        })
        .map(|i| text[i..i + 6].to_owned())
        .unwrap_or_else(|| panic!("no 6-digit code in {text:?}"))
}

/// The state with SMS codes written as files to a fresh directory, and that directory.
pub fn sms_to_files(state: &AppState) -> (AppState, PathBuf) {
    let dir = fresh_dir("sms");
    let backend = format!("file:{}", dir.display()).parse().unwrap();
    (configured(state, |c| c.sms_backend = backend), dir)
}

/// Every text the file backend wrote to `dir`, oldest first: `{"to","body","sent_at"}`.
pub fn texts(dir: &std::path::Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    // `<unix seconds>-<random>.json`: by time, then by when the file was made.
    files.sort_by_key(|path| (std::fs::metadata(path).unwrap().modified().unwrap(), path.clone()));
    files.iter().map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()).collect()
}

/// The code of the last text written to `dir`, and the number it went to.
pub fn last_text(dir: &std::path::Path) -> (String, String) {
    let all = texts(dir);
    let last = all.last().expect("no text was sent");
    (six_digit_code(last["body"].as_str().unwrap()), last["to"].as_str().unwrap().to_owned())
}

/// Adds `number` from the session of `access`: the new device's id (201 expected).
pub async fn add_phone(state: &AppState, access: &str, number: &str) -> i64 {
    let body = json!({"phone_number": number, "name": "Phone"});
    let (status, device) = call_as(state, "POST", "/api/auth/2fa/sms/", body, access).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    device["id"].as_i64().unwrap()
}

/// Confirms SMS device `id` with `code`: the status and body.
pub async fn confirm_phone(state: &AppState, access: &str, id: i64, code: &str) -> (StatusCode, Value) {
    call_as(state, "POST", &format!("/api/auth/2fa/sms/{id}/confirm/"), json!({ "code": code }), access).await
}

/// A user whose one second factor is a confirmed phone.
#[derive(Debug)]
pub struct SmsEnrolled {
    pub user_id: i64,
    pub access: String,
    pub device_id: i64,
    pub backup_codes: Vec<String>,
}

/// Registers `email`, adds `number` and confirms it with the code texted to `dir`.
pub async fn enroll_phone(state: &AppState, dir: &std::path::Path, email: &str, number: &str) -> SmsEnrolled {
    let user_id = create_user(state, email, PASSWORD).await;
    let (access, _) = login_pair(state, email, PASSWORD).await;
    let device_id = add_phone(state, &access, number).await;
    let (code, _) = last_text(dir);
    let (status, body) = confirm_phone(state, &access, device_id, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let backup_codes = body["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    SmsEnrolled { user_id, access, device_id, backup_codes }
}

/// The password step of a login of an account with 2FA: the `mfa_token` and the `methods`.
pub async fn mfa_step(state: &AppState, email: &str) -> (String, Value) {
    let (status, body) =
        call(state, "POST", "/api/token/", Some(json!({"email": email, "password": PASSWORD})), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    (body["mfa_token"].as_str().unwrap().to_owned(), body["methods"].clone())
}

/// `POST /api/token/mfa/sms/send/` with `mfa_token` (and `extra` fields): the status and body.
pub async fn send_sms(state: &AppState, mfa_token: &str, extra: Value) -> (StatusCode, Value) {
    let mut body = json!({ "mfa_token": mfa_token });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    call(state, "POST", "/api/token/mfa/sms/send/", Some(body), None).await
}

/// `POST /api/token/mfa/` with `mfa_token` and `code`: the status and body.
pub async fn finish_mfa(state: &AppState, mfa_token: &str, code: &str) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": mfa_token, "code": code})), None).await
}
