//! The connection bounds, against the real binary over raw sockets: headers within 10 s of their
//! first byte (else 408 and close, however slowly the bytes trickle), idle kept-alive connections
//! closed after 60 s, requests answered within `LATCHKEY_REQUEST_TIMEOUT` (else 408), and a body
//! over the limit answered with a 413 the client actually receives, although it sends its whole
//! body before reading. Some of these wait for the real timeouts (up to a minute); they run in
//! parallel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{start, Server};
use serde_json::{json, Value};

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    stream
}

/// Reads until the server closes the connection; a reset is a failure.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    match stream.read_to_end(&mut received) {
        Ok(_) => String::from_utf8_lossy(&received).into_owned(),
        Err(error) => panic!("{error} after {:?}", String::from_utf8_lossy(&received)),
    }
}

/// One response off a kept-alive connection: the head, then `Content-Length` bytes of body.
fn read_response(stream: &mut TcpStream) -> (String, Value) {
    let mut received = Vec::new();
    let mut byte = [0u8; 1];
    while !received.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed after {:?}", String::from_utf8_lossy(&received));
        received.push(byte[0]);
    }
    let head = String::from_utf8(received).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (head, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A complete response's status line, headers (lowercase names) and JSON body.
fn parse(text: &str) -> (String, Vec<String>, Value) {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no complete head in {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines.map(str::to_ascii_lowercase).collect();
    (status, headers, serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}")))
}

fn timed_out() -> Value {
    json!({"detail": "Request timed out.", "code": "request_timeout"})
}

fn assert_about(elapsed: Duration, seconds: u64, what: &str) {
    let range =
        Duration::from_secs(seconds).saturating_sub(Duration::from_millis(500))..Duration::from_secs(seconds + 4);
    assert!(range.contains(&elapsed), "{what} after {elapsed:?}, expected about {seconds} s");
}

#[test]
fn headers_that_stop_arriving_get_a_408_after_10_seconds() {
    let server = start("partial", &[]);
    let mut stream = connect(&server);
    stream.write_all(b"POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl").unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut stream);
    assert_about(started.elapsed(), 10, "the partial headers were answered");
    let (status, headers, body) = parse(&answer);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert!(headers.contains(&"connection: close".to_owned()), "{headers:?}");
    assert_eq!(body, timed_out());
}

#[test]
fn trickled_headers_do_not_push_the_deadline_back() {
    let server = start("trickle", &[]);
    let mut stream = connect(&server);
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let started = Instant::now();
    stream.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    let mut received = Vec::new();
    for n in 0.. {
        // A header line every two seconds, as a slowloris client sends them; the first read that
        // does not time out brings the answer, or the end.
        if stream.write_all(format!("X-Slow-{n}: yes\r\n").as_bytes()).is_err() {
            break;
        }
        match stream.read_to_end(&mut received) {
            Ok(_) => break,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) && received.is_empty() => {}
            Err(e) => panic!("{e} after {:?}", String::from_utf8_lossy(&received)),
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never closed");
    }
    assert_about(started.elapsed(), 10, "the trickling headers were cut off");
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 408 "), "{received:?}");
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_10_seconds() {
    let server = start("silent", &[]);
    let mut stream = connect(&server);
    let started = Instant::now();
    let answer = read_to_close(&mut stream);
    assert_about(started.elapsed(), 10, "the silent connection was closed");
    assert_eq!(answer, "", "nothing was asked, so nothing is answered");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_60_seconds() {
    let server = start("idle", &[]);
    let mut stream = connect(&server);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let (head, _) = read_response(&mut stream);
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    // Past the header timeout the connection still serves: waiting between requests is not slowness.
    std::thread::sleep(Duration::from_secs(15));
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let (head, _) = read_response(&mut stream);
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let started = Instant::now();
    assert_eq!(read_to_close(&mut stream), "", "an idle connection is closed without an answer");
    assert_about(started.elapsed(), 60, "the idle connection was closed");
}

#[test]
fn a_request_slower_than_the_request_timeout_gets_408() {
    let server = start("slow", &[("LATCHKEY_REQUEST_TIMEOUT", "1s")]);
    let mut stream = connect(&server);
    let head =
        "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(format!("{head}{{\"email\": ").as_bytes()).unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut stream);
    assert_about(started.elapsed(), 1, "the slow upload was answered");
    let (status, headers, body) = parse(&answer);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert!(headers.contains(&"connection: close".to_owned()), "{headers:?}");
    assert!(headers.contains(&"cache-control: no-store".to_owned()), "{headers:?}");
    assert_eq!(body, timed_out());
}

/// A connection whose send buffer is small, as across a real network, where the kernel cannot
/// take a megabyte the server does not read. (On loopback it would: the upload would complete
/// into buffers whatever the server did, and prove nothing.)
fn connect_with_small_send_buffer(server: &Server) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(16 * 1024).unwrap();
        socket.connect(server.addr()).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Sends `head` and `body` in full, without reading, then reads the answer to the end.
fn send_all_then_read(server: &Server, head: &str, body: &[u8]) -> String {
    let mut stream = connect_with_small_send_buffer(server);
    stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(16 * 1024) {
        if let Err(error) = stream.write_all(chunk) {
            panic!("the upload failed ({error}): the server closed the connection before reading the body");
        }
    }
    read_to_close(&mut stream)
}

fn assert_complete_413(answer: &str) {
    let (status, headers, body) = parse(answer);
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large");
    assert!(headers.contains(&"connection: close".to_owned()), "{headers:?}");
    assert_eq!(body, json!({"detail": "Request body is too large."}));
}

#[test]
fn a_body_over_the_limit_gets_its_413_to_a_client_still_sending() {
    let server = start("large", &[]);
    let body = vec![b' '; 1024 * 1024];
    let head = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    assert_complete_413(&send_all_then_read(&server, &head, &body));

    let mut chunked = Vec::new();
    for chunk in body.chunks(16 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    assert_complete_413(&send_all_then_read(&server, head, &chunked));
}

/// Requests still carry the peer's address (`ConnectInfo`), which sessions and the audit log record.
#[tokio::test]
async fn handlers_still_see_the_client_address() {
    let server = start("peer", &[]);
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let password = "correct horse battery staple";
    let signup = json!({"email": "ada@example.com", "password": password, "password_confirm": password});
    let created = client.post(format!("{base}/api/auth/register/")).json(&signup).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let login = json!({"email": "ada@example.com", "password": password});
    let pair: Value =
        client.post(format!("{base}/api/token/")).json(&login).send().await.unwrap().json().await.unwrap();
    let access = pair["access"].as_str().unwrap();
    let audit = client.get(format!("{base}/api/auth/audit/")).bearer_auth(access).send().await.unwrap();
    let page: Value = audit.json().await.unwrap();
    assert_eq!(page["results"][0]["event"], "login_succeeded", "{page}");
    assert_eq!(page["results"][0]["ip"], "127.0.0.1", "{page}");
}

/// Ctrl-C stops the server at once when no request is in progress, kept-alive connections included.
#[test]
fn an_interrupt_stops_the_server_with_idle_connections_open() {
    let mut server = start("interrupt", &[]);
    let mut stream = connect(&server);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert!(read_response(&mut stream).0.starts_with("HTTP/1.1 200 "));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still running after an interrupt");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(read_to_close(&mut stream), "");
}
