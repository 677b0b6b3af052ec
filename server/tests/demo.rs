//! The web demo at `/` comes with the binary: started outside the checkout it still serves the
//! page, its scripts and the pages e-mailed links open, with an `ETag`; `LATCHKEY_DEMO=off` turns it
//! off; no request path reaches files outside the demo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{latchkey, spawn, Server};

/// Starts the binary with its working directory in a fresh temporary directory (no `web-demo/`
/// there), so that what it serves at `/` can only come from the binary.
fn start_elsewhere(name: &str, settings: &[(&str, &str)]) -> Server {
    let dir = common::fresh_dir(&format!("demo-{name}"));
    assert!(!dir.join("web-demo").exists());
    let mut command = latchkey(&dir);
    command.current_dir(&dir).env_remove("LATCHKEY_DEMO_DIR").env("LATCHKEY_LOG", "error");
    command.envs(settings.iter().copied());
    spawn(command).tidy_up(dir)
}

/// One raw HTTP/1.1 request (the path exactly as written, which a client library would normalize);
/// the status line's code, the head and the body.
fn get(server: &Server, method: &str, path: &str, extra: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':').map(str::trim))
}

#[test]
fn the_binary_serves_the_demo_from_any_directory() {
    let server = start_elsewhere("on", &[]);
    let (status, head, page) = get(&server, "GET", "/", "");
    assert_eq!(status, 200, "{head}");
    assert!(page.contains("<title>Latchkey demo</title>"), "{page}");
    assert_eq!(header(&head, "content-type"), Some("text/html"));
    let (status, head, script) = get(&server, "GET", "/app.js", "");
    assert_eq!(status, 200, "{head}");
    assert_eq!(header(&head, "content-type"), Some("text/javascript"));
    assert_eq!(script, std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web-demo/app.js")).unwrap());
    let (status, _, link_page) = get(&server, "GET", "/password-reset?uid=MQ&token=abc", "");
    assert_eq!((status, link_page.contains("<title>Latchkey demo</title>")), (200, true));

    // The ETag answers a browser's revalidation without the body.
    let etag = header(&head, "etag").expect("an etag").to_owned();
    let (status, _, body) = get(&server, "GET", "/app.js", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!((status, body.as_str()), (304, ""));

    let (status, _, body) = get(&server, "GET", "/no-such-file.js", "");
    assert_eq!((status, body.as_str()), (404, r#"{"detail":"Not found."}"#));
    let (status, _, body) = get(&server, "GET", "/api/no-such-thing/", "");
    assert_eq!((status, body.as_str()), (404, r#"{"detail":"Not found."}"#));
    let (status, _, _) = get(&server, "POST", "/app.js", "Content-Length: 0\r\n");
    assert_eq!(status, 405);
}

#[test]
fn no_request_path_reaches_a_file_outside_the_demo() {
    let server = start_elsewhere("paths", &[]);
    for path in ["/../Cargo.toml", "/../server/Cargo.toml", "/pkg/../../README.md", "/..%2fCargo.toml", "/./index.html"]
    {
        let (status, head, body) = get(&server, "GET", path, "");
        assert!(status == 404 || status == 400, "{path}: {head}");
        assert!(!body.contains("[package]") && !body.contains("# Latchkey"), "{path}: {body}");
    }
}

#[test]
fn latchkey_demo_off_serves_nothing_at_the_root() {
    let server = start_elsewhere("off", &[("LATCHKEY_DEMO", "off")]);
    for path in ["/", "/app.js", "/password-reset?uid=MQ&token=abc"] {
        let (status, _, body) = get(&server, "GET", path, "");
        assert_eq!((status, body.as_str()), (404, r#"{"detail":"Not found."}"#), "{path}");
    }
    let (status, _, body) = get(&server, "GET", "/healthz", "");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#), "the API still answers");
}
