//! Signing in with an e-mailed code: asking for one, the code and link the message holds, and
//! trading them for a session.

use axum::http::StatusCode;
use latchkey_server::AppState;
use serde_json::{json, Value};

use super::{call, from, mails, send};

/// The subject of the message that carries a sign-in code.
pub const CODE_SUBJECT: &str = "Your sign-in code";

/// `POST /api/auth/code/request/` for `email`: the status and the answer.
pub async fn request_code(state: &AppState, email: &str) -> (StatusCode, Value) {
    call(state, "POST", "/api/auth/code/request/", Some(json!({ "email": email })), None).await
}

/// The same from the client address `ip` (request limits count it).
pub async fn request_code_from(state: &AppState, ip: &str, email: &str) -> (StatusCode, Value) {
    let (status, body, _) =
        send(state, from(ip, "POST", "/api/auth/code/request/", json!({ "email": email }), None)).await;
    (status, body)
}

/// A flow asked for `email`, which must be answered: its `flow_id`.
pub async fn new_flow(state: &AppState, email: &str) -> String {
    let (status, body) = request_code(state, email).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["flow_id"].as_str().unwrap().to_owned()
}

/// `POST /api/token/code/` with `body`: the status and the answer.
pub async fn code_login(state: &AppState, body: Value) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/code/", Some(body), None).await
}

/// What a sign-in message holds: the code, and the link's `flow` and `token`.
#[derive(Debug, Clone)]
pub struct SentCode {
    pub code: String,
    pub flow: String,
    pub token: String,
    /// The link itself, as the message has it.
    pub link: String,
}

/// The sign-in messages to `to` among the first `count` messages the server sends (waiting for
/// them), oldest first.
pub async fn codes_sent(state: &AppState, count: usize, to: &str) -> Vec<SentCode> {
    let to_line = format!("To: {to}\r\n");
    let subject = format!("Subject: {CODE_SUBJECT}\r\n");
    mails(state, count)
        .await
        .iter()
        .filter(|m| m.contains(&to_line) && m.contains(&subject))
        .map(|m| parse(m))
        .collect()
}

/// The code and link of one message's text part (quoted-printable soft breaks undone).
pub fn parse(mail: &str) -> SentCode {
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let code = text
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {mail}"))
        .to_owned();
    let start = text.find("/login/code?flow=").unwrap_or_else(|| panic!("no link in {mail}"));
    let begin = text[..start].rfind("http").unwrap();
    let end = text[start..].find(|c: char| c.is_whitespace() || c == '"' || c == '<').map_or(text.len(), |e| start + e);
    let link = text[begin..end].to_owned();
    let query = link.split_once('?').unwrap().1;
    let value = |name: &str| {
        query.split('&').find_map(|pair| pair.strip_prefix(&format!("{name}="))).unwrap_or_default().to_owned()
    };
    SentCode { code, flow: value("flow"), token: value("token"), link }
}

/// A new flow for `email` (an active account) and what its message holds (waiting up to 10 s for
/// it: delivery runs after the answer).
pub async fn flow_with_code(state: &AppState, email: &str) -> (String, SentCode) {
    let flow_id = new_flow(state, email).await;
    for _ in 0..200 {
        if let Some(message) = codes_sent(state, 0, email).await.into_iter().find(|s| s.flow == flow_id) {
            return (flow_id, message);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message for the flow {flow_id} to {email}");
}
