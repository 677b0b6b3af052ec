//! Starts the real `latchkey` binary on a free port and talks to it over HTTP, as a client would.
#![allow(clippy::expect_used)] // Test helpers: a failure should stop the test with its message.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on port 0 with a fresh SQLite file and returns it with the address it printed.
fn start() -> (Server, String) {
    let dir = std::env::temp_dir().join(format!("latchkey-blackbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .env("LATCHKEY_BIND", "127.0.0.1:0")
        .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
        .env("LATCHKEY_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start latchkey");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the first line");
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("unexpected: {line:?}"));
    (server, addr.to_owned())
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn the_binary_prints_its_address_and_answers_healthz() {
    let (_server, addr) = start();
    let response = get(&addr, "/healthz");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("x-content-type-options: nosniff"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");
}
