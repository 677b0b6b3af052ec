//! A security-webhook consumer on a local port, checking deliveries as Standard Webhooks
//! (<https://www.standardwebhooks.com/>) asks a receiver to, written here from that spec and not from
//! the server's code: the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers are all
//! there, the timestamp is within 5 minutes of now, one of the space-separated `v1,` signatures is the
//! HMAC-SHA256 of `{id}.{timestamp}.{body}` under one of the secrets the test gave it, and the body is
//! a JSON event with `type`, `timestamp` and `data`. It records every request, verified or not, with
//! the status it answered, and can be made to fail, fail the next few, or stall.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// How far a `webhook-timestamp` may be from the receiver's now, either way (the spec's 5 minutes).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// What the receiver answers the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiverBehaviour {
    /// Answers this status (204 at the start).
    Answer(u16),
    /// Answers this status to every request.
    Fail(u16),
    /// Answers the status to the next `n` requests, then 204.
    FailNext(u32, u16),
    /// Waits this long, then answers 204.
    Stall(Duration),
}

/// One request as it arrived, and what the receiver made of it.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub path: String,
    /// The `webhook-id` header, if sent.
    pub id: Option<String>,
    /// The `webhook-timestamp` header, if sent.
    pub timestamp: Option<String>,
    /// The `webhook-signature` header, if sent.
    pub signature: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body parsed, `Value::Null` when it is not JSON.
    pub json: Value,
    /// Whether every check a consumer makes passed (see the module's documentation).
    pub verified: bool,
    /// The status answered; `None` while a stalled request waits (and forever if its client hung up
    /// and the handler was dropped).
    pub status: Option<u16>,
    /// When it arrived.
    pub at: Instant,
}

impl WebhookRequest {
    /// The event's `type` (`"login.failed"`…), if the body has one.
    pub fn event_type(&self) -> Option<&str> {
        self.json["type"].as_str()
    }

    /// Whether it was answered with a 2xx, that is, delivered as far as the sender can tell.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

/// The receiver's idea of the current Unix time, in seconds.
type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

struct Shared {
    /// HMAC keys: the decoded secrets the test gave.
    keys: Vec<Vec<u8>>,
    behaviour: ReceiverBehaviour,
    now: Now,
    seen: Vec<WebhookRequest>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("behaviour", &self.behaviour).field("seen", &self.seen).finish_non_exhaustive()
    }
}

/// The receiver, serving until dropped.
#[derive(Debug)]
pub struct WebhookReceiver {
    /// `http://127.0.0.1:port`.
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The HMAC key of a `whsec_<base64>` secret. Panics on anything else: the secret's format is part of
/// what the tests check.
pub fn secret_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or_else(|| panic!("{secret:?} does not start with whsec_"));
    data_encoding::BASE64.decode(encoded.as_bytes()).unwrap_or_else(|e| panic!("{secret:?} is not whsec_<base64>: {e}"))
}

/// The `v1,<base64>` signature of a message with `id`, `timestamp` and `body` under `secret`
/// (`whsec_…`), as the spec defines it.
pub fn signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    sign(&secret_key(secret), id, timestamp, body)
}

fn sign(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", data_encoding::BASE64.encode(&mac.finalize().into_bytes()))
}

/// The system's current Unix time, in seconds.
pub fn unix_now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

impl WebhookReceiver {
    /// A receiver with no secret yet (every request is recorded unverified until one is given),
    /// answering 204, on the system's clock.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            keys: Vec::new(),
            behaviour: ReceiverBehaviour::Answer(204),
            now: Arc::new(unix_now),
            seen: Vec::new(),
        }));
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared, task }
    }

    /// `http://127.0.0.1:port/<path>`, an endpoint URL to register.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// Accepts signatures made with `secret` (`whsec_` and the standard base64 of 32 bytes), besides
    /// the secrets given before. Requests already recorded are not checked again.
    pub fn set_secret(&self, secret: &str) {
        let key = secret_key(secret);
        assert_eq!(key.len(), 32, "{secret:?} is not 32 bytes");
        self.shared.lock().unwrap().keys.push(key);
    }

    /// Checks timestamps against `now` (Unix seconds) instead of the system's clock: a test that
    /// moves the server's clock passes `move || state.clock.now()`.
    pub fn set_clock(&self, now: impl Fn() -> i64 + Send + Sync + 'static) {
        self.shared.lock().unwrap().now = Arc::new(now);
    }

    /// Changes what the next requests get.
    pub fn behave(&self, behaviour: ReceiverBehaviour) {
        self.shared.lock().unwrap().behaviour = behaviour;
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<WebhookRequest> {
        self.shared.lock().unwrap().seen.clone()
    }

    /// The requests answered with a 2xx, in order of arrival.
    pub fn delivered(&self) -> Vec<WebhookRequest> {
        self.requests().into_iter().filter(WebhookRequest::delivered).collect()
    }

    /// The requests answered with a 2xx, once there are at least `count` of them; polls every 20 ms and
    /// panics, listing every request seen, if `timeout` passes first.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<WebhookRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count {
                return delivered;
            }
            if Instant::now() >= deadline {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| {
                        let (kind, status, verified) = (r.event_type(), r.status, r.verified);
                        format!("{} {kind:?} id={:?} status={status:?} verified={verified}", r.path, r.id)
                    })
                    .collect();
                panic!("{count} deliveries not answered 2xx within {timeout:?}; saw {}: {seen:#?}", seen.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The value of header `name`, if sent once as text.
fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Whether a request passes every check a Standard Webhooks consumer makes.
fn verify(keys: &[Vec<u8>], now: i64, request: &WebhookRequest) -> bool {
    let (Some(id), Some(timestamp), Some(signatures)) = (&request.id, &request.timestamp, &request.signature) else {
        return false;
    };
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (now - t).abs() <= TOLERANCE_SECONDS);
    let signed = keys.iter().any(|key| {
        let expected = sign(key, id, timestamp, &request.body);
        signatures.split(' ').any(|candidate| candidate == expected)
    });
    let event = &request.json;
    let shaped = event["type"].is_string() && event["timestamp"].is_string() && event["data"].is_object();
    fresh && signed && shaped
}

async fn receive(State(shared): State<Arc<Mutex<Shared>>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut request = WebhookRequest {
        path: uri.path().to_owned(),
        id: text(&headers, "webhook-id"),
        timestamp: text(&headers, "webhook-timestamp"),
        signature: text(&headers, "webhook-signature"),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
        verified: false,
        status: None,
        at: Instant::now(),
    };
    let (stall, index) = {
        let mut shared = shared.lock().unwrap();
        request.verified = verify(&shared.keys, (shared.now)(), &request);
        let (status, stall) = match shared.behaviour {
            ReceiverBehaviour::Answer(status) | ReceiverBehaviour::Fail(status) => (status, None),
            ReceiverBehaviour::FailNext(0, _) => (204, None),
            ReceiverBehaviour::FailNext(n, status) => {
                shared.behaviour = ReceiverBehaviour::FailNext(n - 1, status);
                (status, None)
            }
            ReceiverBehaviour::Stall(wait) => (204, Some(wait)),
        };
        request.status = stall.is_none().then_some(status);
        shared.seen.push(request);
        (stall, shared.seen.len() - 1)
    };
    if let Some(wait) = stall {
        tokio::time::sleep(wait).await;
        shared.lock().unwrap().seen[index].status = Some(204);
    }
    let status = shared.lock().unwrap().seen[index].status.unwrap_or(204);
    StatusCode::from_u16(status).unwrap().into_response()
}
