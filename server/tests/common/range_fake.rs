//! A breached-password range API on a local port, speaking Have I Been Pwned's protocol: `GET
//! …/range/{first5}` (5 hex digits, any case; anything else is 400) answers `SUFFIX:COUNT` lines in
//! upper case, CRLF-terminated, for every hash of its corpus with that prefix; with `Add-Padding:
//! true` the entries counted 0 are added, as the real service pads its answers. It records every
//! request (path, query, headers, body), so a test can show what left the server, and can be made
//! to fail, stall or answer nonsense.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha1::{Digest, Sha1};

/// What the stand-in does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeBehaviour {
    /// Answers as the real service.
    Answer,
    /// Answers this status with no list.
    Fail(u16),
    /// Waits this long, then answers.
    Stall(Duration),
    /// Answers 200 with a body that is not a list.
    Nonsense,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct RangeRequest {
    pub path: String,
    pub query: Option<String>,
    /// Names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RangeRequest {
    /// The value of header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct Shared {
    /// Upper-case SHA-1 hex → count (0: a padding entry).
    corpus: BTreeMap<String, u64>,
    behaviour: RangeBehaviour,
    seen: Vec<RangeRequest>,
}

/// The stand-in, serving until dropped.
#[derive(Debug)]
pub struct FakeRange {
    /// `http://127.0.0.1:port`, the range API's base URL.
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRange {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The upper-case hex SHA-1 of `password`.
pub fn sha1_hex(password: &str) -> String {
    Sha1::digest(password.as_bytes()).iter().map(|b| format!("{b:02X}")).collect()
}

impl FakeRange {
    /// A stand-in with an empty corpus, answering.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            corpus: BTreeMap::new(),
            behaviour: RangeBehaviour::Answer,
            seen: Vec::new(),
        }));
        let app = Router::new().fallback(range).with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared, task }
    }

    /// Puts `password` in the corpus, seen `count` times (0: only as padding).
    pub fn breach(&self, password: &str, count: u64) {
        self.shared.lock().unwrap().corpus.insert(sha1_hex(password), count);
    }

    /// Changes what the next requests get.
    pub fn behave(&self, behaviour: RangeBehaviour) {
        self.shared.lock().unwrap().behaviour = behaviour;
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RangeRequest> {
        self.shared.lock().unwrap().seen.clone()
    }
}

async fn range(State(shared): State<Arc<Mutex<Shared>>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let padded = headers.get("add-padding").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    let request = RangeRequest {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: body.to_vec(),
    };
    let behaviour = {
        let mut shared = shared.lock().unwrap();
        shared.seen.push(request);
        shared.behaviour
    };
    match behaviour {
        RangeBehaviour::Answer => {}
        RangeBehaviour::Fail(status) => return StatusCode::from_u16(status).unwrap().into_response(),
        RangeBehaviour::Stall(wait) => tokio::time::sleep(wait).await,
        RangeBehaviour::Nonsense => return "<html>Service Unavailable</html>".into_response(),
    }
    let prefix = uri.path().rsplit_once("/range/").map(|(_, p)| p.to_ascii_uppercase()).unwrap_or_default();
    if prefix.len() != 5 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (StatusCode::BAD_REQUEST, "The hash prefix was not in a valid format").into_response();
    }
    let shared = shared.lock().unwrap();
    let lines: String = shared
        .corpus
        .iter()
        .filter(|(hash, count)| hash.starts_with(&prefix) && (**count > 0 || padded))
        .map(|(hash, count)| format!("{}:{count}\r\n", &hash[5..]))
        .collect();
    ([(header::CONTENT_TYPE, "text/plain")], lines).into_response()
}
