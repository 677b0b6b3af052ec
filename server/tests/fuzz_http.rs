//! A seeded HTTP fuzzer against the real `latchkey` binary. Every POST, PATCH and DELETE endpoint of
//! the server's own OpenAPI document (`GET /api/schema/`, so new endpoints are fuzzed without a
//! change here) gets random bodies, anonymously, with a logged-in user's Bearer token, and with a
//! garbage `Authorization` header: JSON of every shape and depth, wrong types for known field names,
//! strings up to the 64 KiB body limit, non-JSON bytes, invalid UTF-8 and wrong content types.
//!
//! No answer may be a 5xx (requests are sequential, so the hashing gate's 503 cannot happen), every
//! 4xx must be DRF-shaped JSON, and afterwards `/healthz` and a normal login must still work.
//! `LATCHKEY_FUZZ_SEED` replays a run (the seed is printed first), `LATCHKEY_FUZZ_CASES` sets its length.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{drf_shaped, fresh_dir, latchkey, spawn, FakeOp, Server, PASSWORD};
use latchkey_server::MAX_BODY_BYTES;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

const DEFAULT_SEED: u64 = 0x1a7c_4b3e;
const DEFAULT_CASES: usize = 3000;
/// A user the fuzzer never acts as: its login must work after the run.
const CONTROL: &str = "control-user@example.com";

/// Field names that requests carry; the schema's own property names are added to them.
const FIELD_NAMES: &str = "email username password password_confirm old_password new_password code otp refresh \
    token name role slug uid mfa_token reason cookie org user_id first_name id return_to process binding login_code \
    link_token";

/// Characters that are multi-byte, expand under NFKC (U+FDFA becomes 18 characters), combine,
/// reorder or are invisible.
const WIDE: [char; 10] =
    ['\u{fdfa}', '\u{e9}', '\u{1d518}', '\u{301}', '\u{202e}', '\u{200b}', '\u{3000}', 'ﬃ', '😀', 'a'];

/// A lone byte above 0x7f, a truncated sequence, an encoded surrogate, a code point past U+10FFFF.
const BAD_UTF8: [&[u8]; 4] = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"];

/// Authorization headers that are not credentials.
const GARBAGE_AUTH: [&str; 5] = ["Bearer", "Bearer x.y.z", "Basic Zm9vOmJhcg==", "Bearer \u{fc}", "Token abc"];

/// The public URL of the fuzzed server (where passkeys and social sign-ins come back to).
const PUBLIC_URL: &str = "http://localhost:8000";

/// Starts the binary on port 0 with a fresh SQLite file, without request limits or lockouts, and
/// with passkeys and a social provider (`op`) on, so that their endpoints do their work on what
/// they are sent; its standard error is kept for the report, and its directory (database and
/// e-mails) is removed unless the test fails.
fn start_fuzzed(op: &FakeOp) -> (Server, String) {
    let dir = fresh_dir("fuzz-http");
    let providers = dir.join("providers.json");
    std::fs::write(&providers, json!([op.entry("test-oidc", PUBLIC_URL)]).to_string()).unwrap();
    let mut command = latchkey(&dir);
    command
        .env("LATCHKEY_RATE_LIMITS", "off")
        .env("LATCHKEY_LOCKOUT_ATTEMPTS", "1000000")
        .env("LATCHKEY_LOCKOUT_IP_ATTEMPTS", "1000000")
        .env("LATCHKEY_WEBAUTHN_RP_ID", "localhost")
        .env("LATCHKEY_WEBAUTHN_ORIGINS", PUBLIC_URL)
        .env("LATCHKEY_PUBLIC_URL", PUBLIC_URL)
        .env("LATCHKEY_OIDC_PROVIDERS", &providers)
        .stderr(Stdio::piped());
    let server = spawn(command).tidy_up(dir);
    let base = server.base.clone();
    (server, base)
}

/// One endpoint to fuzz: the method, the path template and its body's property names.
struct Endpoint {
    method: Method,
    path: String,
    fields: Vec<String>,
}

/// Property names of a schema, following `$ref`s into `components` and through `allOf`/`oneOf`.
fn properties(document: &Value, schema: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > 4 {
        return;
    }
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        properties(document, &document["components"]["schemas"][name], depth + 1, out);
    }
    out.extend(schema["properties"].as_object().into_iter().flat_map(|p| p.keys().cloned()));
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema[key].as_array().into_iter().flatten() {
            properties(document, part, depth + 1, out);
        }
    }
}

fn endpoints(document: &Value) -> Vec<Endpoint> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (name, method) in [("post", Method::POST), ("patch", Method::PATCH), ("delete", Method::DELETE)] {
            let Some(operation) = item.get(name) else { continue };
            let mut fields = Vec::new();
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            properties(document, schema, 0, &mut fields);
            found.push(Endpoint { method, path: path.clone(), fields });
        }
    }
    found
}

/// The logged-in user's address and tokens, which bodies sometimes carry too.
struct Session {
    email: String,
    access: String,
    refresh: String,
}

/// A path parameter: the ids and slug that exist, small ids, the edges of integer types, text,
/// encoded controls and dot segments.
fn path_parameter(rng: &mut StdRng, name: &str, known: &[(&str, String)]) -> String {
    const SPECIAL: &str = "0 -1 9223372036854775807 9223372036854775808 1e3 abc %00 %2e%2e .. %C3%BC null 1.0";
    match rng.gen_range(0..5) {
        0 => SPECIAL.split(' ').collect::<Vec<_>>().choose(rng).unwrap().to_string(),
        1 | 2 => {
            let fitting: Vec<&String> = known.iter().filter(|(n, _)| name.contains(n)).map(|(_, v)| v).collect();
            fitting.choose(rng).map_or_else(|| "1".to_owned(), |v| v.to_string())
        }
        3 if rng.gen_bool(0.2) => (0..rng.gen_range(1..300)).map(|_| rng.gen_range('a'..='z')).collect(),
        _ => rng.gen_range(1..6).to_string(),
    }
}

fn fill_path(template: &str, known: &[(&str, String)], rng: &mut StdRng) -> String {
    template
        .split('/')
        .map(|segment| if segment.starts_with('{') { path_parameter(rng, segment, known) } else { segment.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

/// A string of `bytes` UTF-8 bytes or a little more, from [`WIDE`] characters.
fn wide_string(rng: &mut StdRng, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 4);
    while text.len() < bytes {
        text.push(*WIDE.choose(rng).unwrap());
    }
    text
}

fn random_string(rng: &mut StdRng, session: &Session) -> String {
    match rng.gen_range(0..15) {
        0 => String::new(),
        1 => " \t\n\u{a0}\u{3000}".to_owned(),
        2 => (0..rng.gen_range(1..20)).map(|_| rng.gen_range(' '..='~')).collect(),
        3 => format!("{}@example.com", rng.gen_range(0..1000)),
        4 => session.email.clone(),
        5 => session.access.clone(),
        6 => session.refresh.clone(),
        7 => "eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiMSJ9.".to_owned(),
        8 => {
            let bytes = rng.gen_range(1..4000);
            wide_string(rng, bytes)
        }
        9 => "\0".repeat(rng.gen_range(1..10)),
        10 => rng.gen_range(0..100_000_000u64).to_string(),
        11 => "a".repeat(rng.gen_range(1000..20_000)),
        12 => (0..rng.gen_range(1..50)).map(|_| rng.gen::<char>()).collect(),
        13 => ["abcd-efgh-2345", "123 456", "12345678", "owner", "admin", "member", "acme"]
            .choose(rng)
            .unwrap()
            .to_string(),
        _ => format!("{}{}", "x".repeat(rng.gen_range(0..3)), rng.gen::<u32>()),
    }
}

fn random_value(rng: &mut StdRng, names: &[String], session: &Session, depth: usize) -> Value {
    match rng.gen_range(0..12) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => json!(rng.gen_range(-3..1000)),
        3 => [json!(i64::MIN), json!(u64::MAX), json!(1e308), json!(-0.0), json!(0.5), json!(-1)]
            .choose(rng)
            .unwrap()
            .clone(),
        8 | 9 if depth < 4 => {
            Value::Array((0..rng.gen_range(0..4)).map(|_| random_value(rng, names, session, depth + 1)).collect())
        }
        10 | 11 if depth < 4 => random_object(rng, names, session, depth + 1),
        _ => Value::String(random_string(rng, session)),
    }
}

fn random_object(rng: &mut StdRng, names: &[String], session: &Session, depth: usize) -> Value {
    let mut map = Map::new();
    for _ in 0..rng.gen_range(0..6) {
        let name = names.choose(rng).unwrap().clone();
        map.insert(name, random_value(rng, names, session, depth));
    }
    Value::Object(map)
}

/// A body that looks right: the endpoint's own fields with plausible values, to get past the
/// first checks into the handlers.
fn plausible_body(rng: &mut StdRng, fields: &[String], session: &Session) -> Value {
    let fields = fields.iter().map(|field| {
        let value = match field.as_str() {
            "email" => {
                json!(if rng.gen() { session.email.clone() } else { format!("u{}@example.com", rng.gen::<u32>()) })
            }
            f if f.contains("password") => json!(format!("Fuzzed password {}!", rng.gen::<u32>())),
            "refresh" | "token" => json!(if rng.gen() { &session.refresh } else { &session.access }),
            "code" | "otp" => json!(format!("{:06}", rng.gen_range(0..1_000_000))),
            "role" => json!(["owner", "admin", "member"].choose(rng).unwrap()),
            _ => json!(random_string(rng, session)),
        };
        (field.clone(), value)
    });
    Value::Object(fields.collect())
}

/// A request body and its content type, with a few words saying what kind it is.
fn random_body(
    rng: &mut StdRng,
    endpoint: &Endpoint,
    names: &[String],
    session: &Session,
) -> (Vec<u8>, Option<String>, &'static str) {
    let json = Some("application/json".to_owned());
    match rng.gen_range(0..100) {
        0..=34 => (random_object(rng, names, session, 0).to_string().into_bytes(), json, "object of known fields"),
        35..=44 => (random_value(rng, names, session, 0).to_string().into_bytes(), json, "any JSON value"),
        45..=49 => {
            let depth = [10_000, 129, 127, rng.gen_range(1..20_000)].choose(rng).copied().unwrap();
            let (open, close) = [("[", "]"), ("{\"a\":", "}"), ("{\"email\":[", "]}")].choose(rng).copied().unwrap();
            let closed = rng.gen_bool(0.5);
            let text = format!("{}1{}", open.repeat(depth), if closed { close.repeat(depth) } else { String::new() });
            (text.into_bytes(), json, "deep nesting")
        }
        50..=57 => {
            let field = names.choose(rng).unwrap();
            let size = rng.gen_range(1..MAX_BODY_BYTES + 2048);
            let text = Value::String(wide_string(rng, size));
            (Value::Object(Map::from_iter([(field.clone(), text)])).to_string().into_bytes(), json, "huge string")
        }
        58..=64 => ((0..rng.gen_range(0..2000)).map(|_| rng.gen()).collect(), json, "random bytes"),
        65..=69 => {
            let field = names.choose(rng).unwrap();
            let mut text = format!("{{\"{field}\": \"a").into_bytes();
            text.extend_from_slice(BAD_UTF8.choose(rng).unwrap());
            text.extend(b"b\"}");
            (text, json, "invalid UTF-8")
        }
        70..=75 => {
            // Lone surrogates, NUL, out-of-range and overlong numbers, a duplicate key, non-JSON literals.
            let raw = r#""\ud800" "\udc00\ud800" "\u0000" 1e999 -1e999 123456789012345678901234567890"#;
            let raw: Vec<&str> = raw.split(' ').chain([r#""a","email":"b""#, "NaN", "01", "'x'"]).collect();
            let text = format!("{{\"{}\":{}}}", names.choose(rng).unwrap(), raw.choose(rng).unwrap());
            (text.into_bytes(), json, "odd JSON literals")
        }
        76..=83 => {
            let types = [
                None,
                Some("text/plain"),
                Some("application/x-www-form-urlencoded"),
                Some("application/json; charset=latin1"),
                Some("application/jsonx"),
                Some("multipart/form-data; boundary=x"),
            ];
            let body = if rng.gen() {
                random_object(rng, names, session, 0).to_string()
            } else {
                "email=a&password=b".to_owned()
            };
            (body.into_bytes(), types.choose(rng).unwrap().map(str::to_owned), "other content type")
        }
        84..=87 => (Vec::new(), if rng.gen() { json } else { None }, "empty body"),
        _ => (plausible_body(rng, &endpoint.fields, session).to_string().into_bytes(), json, "plausible body"),
    }
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
    if bytes.len() > 300 {
        format!("{text:?}… ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

/// `POST /api/auth/register/`, then `POST /api/token/`: a new user's session.
async fn http_register(client: &reqwest::Client, base: &str, email: &str) -> Result<Session, String> {
    let body = json!({ "email": email, "password": PASSWORD, "password_confirm": PASSWORD });
    let response = client.post(format!("{base}/api/auth/register/")).json(&body).send().await;
    let status = response.map_err(|e| e.to_string())?.status();
    if status != StatusCode::CREATED {
        return Err(format!("registering {email} answered {status}"));
    }
    http_login(client, base, email).await
}

/// `POST /api/token/` with a user's credentials.
async fn http_login(client: &reqwest::Client, base: &str, email: &str) -> Result<Session, String> {
    let credentials = json!({ "email": email, "password": PASSWORD });
    let response =
        client.post(format!("{base}/api/token/")).json(&credentials).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match (body["access"].as_str(), body["refresh"].as_str()) {
        (Some(access), Some(refresh)) if status == StatusCode::OK => {
            Ok(Session { email: email.to_owned(), access: access.to_owned(), refresh: refresh.to_owned() })
        }
        _ => Err(format!("login of {email} answered {status}: {body}")),
    }
}

#[tokio::test]
async fn no_request_gets_a_5xx_or_a_non_drf_error() {
    let seed = std::env::var("LATCHKEY_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    let cases = std::env::var("LATCHKEY_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_CASES);
    println!(
        "fuzz_http: seed {seed}, {cases} requests (replay with LATCHKEY_FUZZ_SEED={seed} LATCHKEY_FUZZ_CASES={cases})"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let op = FakeOp::start().await;
    let (mut server, base) = start_fuzzed(&op);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    let schema: Value = client.get(format!("{base}/api/schema/")).send().await.unwrap().json().await.unwrap();
    let endpoints = endpoints(&schema);
    assert!(endpoints.len() >= 20, "only {} POST/PATCH/DELETE endpoints in the schema", endpoints.len());
    let mut names: Vec<String> = FIELD_NAMES.split_whitespace().map(str::to_owned).collect();
    names.extend(endpoints.iter().flat_map(|e| e.fields.iter().cloned()));
    names.sort();
    names.dedup();

    http_register(&client, &base, CONTROL).await.unwrap();
    let mut session = http_register(&client, &base, "fuzz0@example.com").await.unwrap();
    let me = client.get(format!("{base}/api/auth/me/")).bearer_auth(&session.access).send().await.unwrap();
    let user_id = me.json::<Value>().await.unwrap()["id"].to_string();
    // Something for the path parameters to name: an organization and a (pending) TOTP device.
    let org = json!({ "name": "Fuzz", "slug": "fuzz" });
    let created = client.post(format!("{base}/api/orgs/")).bearer_auth(&session.access).json(&org).send().await;
    assert_eq!(created.unwrap().status(), StatusCode::CREATED);
    let device = json!({ "name": "Phone" });
    let created = client.post(format!("{base}/api/auth/2fa/totp/")).bearer_auth(&session.access).json(&device);
    let device_id = created.send().await.unwrap().json::<Value>().await.unwrap()["id"].to_string();
    let known = [("slug", "fuzz".to_owned()), ("id", user_id), ("id", device_id), ("provider", "test-oidc".to_owned())];

    let started = Instant::now();
    let mut failures = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, String::new());
    // Requests can change the user's address or password, or delete it: the run then goes on as a
    // new user, and says which successful request came last before.
    let (mut users, mut last_success) = (1, String::new());
    for case in 0..cases {
        // Endpoints in turn, each anonymously, with the user's token, and with a garbage header.
        let endpoint = &endpoints[(case / 3) % endpoints.len()];
        let auth = ["anonymous", "bearer", "garbage"][case % 3];
        if auth == "bearer" {
            // The token stops working when a fuzzed request logs out or blacklists its session.
            let me = client.get(format!("{base}/api/auth/me/")).bearer_auth(&session.access).send().await;
            if me.map_or(true, |me| me.status() == StatusCode::UNAUTHORIZED) {
                if let Err(error) = http_login(&client, &base, &session.email.clone()).await.map(|s| session = s) {
                    println!("fuzz_http: case {case}: {error}; last success: {last_success}");
                    let email = format!("fuzz{users}@example.com");
                    session =
                        http_register(&client, &base, &email).await.unwrap_or_else(|e| panic!("case {case}: {e}"));
                    users += 1;
                }
            }
        }
        let path = fill_path(&endpoint.path, &known, &mut rng);
        let (body, content_type, kind) = random_body(&mut rng, endpoint, &names, &session);
        let mut request = client.request(endpoint.method.clone(), format!("{base}{path}")).body(body.clone());
        if let Some(content_type) = &content_type {
            request = request.header("content-type", content_type);
        }
        // Sometimes the refresh cookie too: the real token, another cookie's syntax, or a long one.
        let cookie = rng.gen_bool(0.1).then(|| match rng.gen_range(0..3) {
            0 => session.refresh.clone(),
            1 => "x.y.z; latchkey_refresh=; other=1".to_owned(),
            _ => "A".repeat(rng.gen_range(0..5000)),
        });
        if let Some(cookie) = &cookie {
            request = request.header("cookie", format!("latchkey_refresh={cookie}"));
        }
        request = match auth {
            "bearer" => request.bearer_auth(&session.access),
            "garbage" if rng.gen_bool(0.2) => request.bearer_auth("A".repeat(rng.gen_range(1..9000))),
            "garbage" => request.header("authorization", *GARBAGE_AUTH.choose(&mut rng).unwrap()),
            _ => request,
        };
        let what = format!(
            "case {case} (seed {seed}): {} {path} [{auth}, {kind}, content-type {content_type:?}, cookie {}] body {}",
            endpoint.method,
            cookie.map_or("none".to_owned(), |c| preview(c.as_bytes())),
            preview(&body)
        );
        let sent = Instant::now();
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                eprintln!("{what}\n  no answer: {error}");
                failures.push(format!("{what}\n  no answer: {error}"));
                if server.child.try_wait().unwrap().is_some() {
                    break;
                }
                continue;
            }
        };
        let status = response.status();
        let answer = response.bytes().await.unwrap_or_default();
        let took = sent.elapsed();
        if took > slowest.0 {
            slowest = (took, format!("{} {path} [{kind}]", endpoint.method));
        }
        *statuses.entry(status.as_u16()).or_default() += 1;
        if status.is_success() && auth == "bearer" {
            last_success = format!("{what} -> {status} {}", preview(&answer));
        }
        let problem = if status.is_server_error() {
            Some("a server error")
        } else if status.is_client_error() {
            match serde_json::from_slice::<Value>(&answer) {
                Ok(value) if drf_shaped(&value) => None,
                Ok(_) => Some("a 4xx body that is not DRF-shaped"),
                Err(_) => Some("a 4xx body that is not JSON"),
            }
        } else {
            None
        };
        if let Some(problem) = problem {
            let failure = format!("{what}\n  {problem}: {status} {}", preview(&answer));
            eprintln!("{failure}");
            failures.push(failure);
        }
    }
    let (count, elapsed) = (endpoints.len(), started.elapsed());
    println!(
        "fuzz_http: {cases} requests to {count} endpoints as {users} user(s) in {elapsed:.1?}; statuses {statuses:?}"
    );
    println!("fuzz_http: slowest answer {:.1?}: {}", slowest.0, slowest.1);

    let health = client.get(format!("{base}/healthz")).send().await.map(|r| r.status());
    assert_eq!(health.ok(), Some(StatusCode::OK), "the server stopped answering /healthz");
    if let Err(error) = http_login(&client, &base, CONTROL).await {
        failures.push(format!("seed {seed}: a normal login fails after the run: {error}"));
    }
    let stderr = server.stderr();
    if stderr.contains("panicked") {
        failures.push(format!("seed {seed}: the server panicked:\n{stderr}"));
    }
    assert!(server.child.try_wait().unwrap().is_none(), "the server exited:\n{stderr}");
    assert!(failures.is_empty(), "{} failures (seed {seed}):\n{}", failures.len(), failures.join("\n"));
}
