//! Twilio's Messages REST API on a local port, for the `twilio://` SMS backend:
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP basic auth (the account SID and
//! its auth token) and a form-encoded `To`, `From` and `Body`, answered as Twilio does: 201 and the
//! message resource, or Twilio's error object `{"code","message","more_info","status"}` (20003 bad
//! credentials, 20404 another account's path, 21602 no body, 21603/21606 no or a foreign `From`,
//! 21211 a `To` that is not E.164). It records every message it accepted, and can be made to fail
//! with any of Twilio's errors or to stall.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The account the stand-in knows.
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Its auth token.
pub const TWILIO_TOKEN: &str = "twilio-test-auth-token";
/// The number it lets the account send from.
pub const TWILIO_FROM: &str = "+15005550006";

/// What the stand-in does with the next messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioBehaviour {
    /// Checks and accepts, as Twilio does.
    Answer,
    /// Answers `status` with Twilio's error object for error `code` and `message`.
    Fail { status: u16, code: u32, message: String },
    /// Waits this long, then answers.
    Stall(Duration),
}

/// A message Twilio accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioMessage {
    pub to: String,
    pub from: String,
    pub body: String,
}

impl TwilioMessage {
    /// The 6-digit code in the message's text.
    pub fn code(&self) -> String {
        super::six_digit_code(&self.body)
    }
}

#[derive(Debug)]
struct Shared {
    behaviour: TwilioBehaviour,
    accepted: Vec<TwilioMessage>,
    /// Every request's answer status, accepted or not.
    statuses: Vec<u16>,
}

/// The stand-in, serving until dropped.
#[derive(Debug)]
pub struct FakeTwilio {
    /// `http://127.0.0.1:port`: `LATCHKEY_SMS_API_URL`.
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTwilio {
    /// A stand-in that accepts what Twilio would.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            behaviour: TwilioBehaviour::Answer,
            accepted: Vec::new(),
            statuses: Vec::new(),
        }));
        let app =
            Router::new().route("/2010-04-01/Accounts/{sid}/Messages.json", post(messages)).with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared, task }
    }

    /// `LATCHKEY_SMS_BACKEND` for the stand-in's account.
    pub fn backend(&self) -> String {
        format!("twilio://{TWILIO_SID}:{TWILIO_TOKEN}@{TWILIO_FROM}")
    }

    /// What to do with the next messages.
    pub fn behave(&self, behaviour: TwilioBehaviour) {
        self.shared.lock().unwrap().behaviour = behaviour;
    }

    /// Every message accepted so far, oldest first.
    pub fn accepted(&self) -> Vec<TwilioMessage> {
        self.shared.lock().unwrap().accepted.clone()
    }

    /// The status of every answer so far, oldest first.
    pub fn statuses(&self) -> Vec<u16> {
        self.shared.lock().unwrap().statuses.clone()
    }
}

/// Twilio's error object.
fn error(status: u16, code: u32, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

/// Whether `text` is E.164 as Twilio reads it: `+`, then 8 to 15 digits, the first not 0.
fn e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
    })
}

async fn messages(
    State(shared): State<Arc<Mutex<Shared>>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let behaviour = shared.lock().unwrap().behaviour.clone();
    if let TwilioBehaviour::Stall(wait) = behaviour {
        tokio::time::sleep(wait).await;
    }
    let (answer, message) = check(&sid, &headers, &body, &behaviour);
    let mut shared = shared.lock().unwrap();
    shared.statuses.push(answer.status().as_u16());
    if let Some(message) = message {
        shared.accepted.push(message);
    }
    answer
}

/// Twilio's checks, in its order: the credentials, the account, the form, the numbers.
fn check(
    sid: &str,
    headers: &HeaderMap,
    body: &[u8],
    behaviour: &TwilioBehaviour,
) -> (Response, Option<TwilioMessage>) {
    let expected = format!("Basic {}", data_encoding::BASE64.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}").as_bytes()));
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if authorization != Some(expected.as_str()) {
        return (error(401, 20003, "Authenticate"), None);
    }
    if sid != TWILIO_SID {
        return (error(404, 20404, "The requested resource was not found"), None);
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return (error(415, 20415, "Unsupported media type"), None);
    }
    let field = |name: &str| url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let (Some(to), from, text) = (field("To"), field("From"), field("Body")) else {
        return (error(400, 21604, "A 'To' phone number is required."), None);
    };
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return (error(400, 21602, "Message body is required."), None);
    };
    let Some(from) = from else { return (error(400, 21603, "A 'From' phone number is required."), None) };
    if from != TWILIO_FROM {
        return (
            error(400, 21606, "The From phone number is not a valid, SMS-capable phone number for your account."),
            None,
        );
    }
    if !e164(&to) {
        return (error(400, 21211, &format!("The 'To' number {to} is not a valid phone number.")), None);
    }
    if let TwilioBehaviour::Fail { status, code, message } = behaviour {
        return (error(*status, *code, message), None);
    }
    let resource = json!({
        "sid": "SM0123456789abcdef0123456789abcdef",
        "account_sid": TWILIO_SID,
        "to": to,
        "from": from,
        "body": text,
        "status": "queued",
        "num_segments": "1",
        "api_version": "2010-04-01",
        "uri": format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages/SM0123456789abcdef0123456789abcdef.json"),
    });
    let message = TwilioMessage { to, from, body: text };
    ((StatusCode::CREATED, Json(resource)).into_response(), Some(message))
}

/// The stand-in's own test: it speaks Twilio's protocol, refuses what Twilio refuses, and fails
/// when told to.
pub async fn self_test() {
    let twilio = FakeTwilio::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", twilio.base);
    let form = [("To", "+14155554567"), ("From", TWILIO_FROM), ("Body", "Your code: 123456")];
    let post = |url: String, user: &'static str, form: Vec<(&'static str, &'static str)>| {
        client.post(url).basic_auth(user, Some(TWILIO_TOKEN)).form(&form).send()
    };
    let answer = post(url.clone(), TWILIO_SID, form.to_vec()).await.unwrap();
    assert_eq!(answer.status(), 201);
    let resource: Value = answer.json().await.unwrap();
    assert_eq!((resource["to"].as_str(), resource["status"].as_str()), (Some("+14155554567"), Some("queued")));
    assert_eq!(twilio.accepted()[0].code(), "123456");
    let code = |answer: reqwest::Response| async move {
        let status = answer.status().as_u16();
        (status, answer.json::<Value>().await.unwrap()["code"].as_u64().unwrap())
    };
    assert_eq!(code(post(url.clone(), "ACother", form.to_vec()).await.unwrap()).await, (401, 20003));
    let other = url.replace(TWILIO_SID, "ACffff");
    let answer = client.post(other).basic_auth(TWILIO_SID, Some(TWILIO_TOKEN)).form(&form).send().await.unwrap();
    assert_eq!(code(answer).await, (404, 20404));
    let bad_to = vec![("To", "4155554567"), ("From", TWILIO_FROM), ("Body", "x")];
    assert_eq!(code(post(url.clone(), TWILIO_SID, bad_to).await.unwrap()).await, (400, 21211));
    let bad_from = vec![("To", "+14155554567"), ("From", "+15550000000"), ("Body", "x")];
    assert_eq!(code(post(url.clone(), TWILIO_SID, bad_from).await.unwrap()).await, (400, 21606));
    let no_body = vec![("To", "+14155554567"), ("From", TWILIO_FROM)];
    assert_eq!(code(post(url.clone(), TWILIO_SID, no_body).await.unwrap()).await, (400, 21602));
    twilio.behave(TwilioBehaviour::Fail { status: 400, code: 21610, message: "Unsubscribed recipient".into() });
    assert_eq!(code(post(url.clone(), TWILIO_SID, form.to_vec()).await.unwrap()).await, (400, 21610));
    assert_eq!(twilio.accepted().len(), 1, "only the first message was accepted");
    assert_eq!(twilio.statuses(), [201, 401, 404, 400, 400, 400, 400]);
}
