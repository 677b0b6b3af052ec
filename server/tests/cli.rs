//! The `latchkey` subcommands, run as a user would run them.
#![allow(clippy::expect_used)]

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::{fresh_dir, latchkey};

/// Runs `latchkey <args>` on the database in `dir`, with `stdin` as its standard input.
fn run(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = latchkey(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start latchkey");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn migrate_then_create_superuser() {
    let dir = fresh_dir("cli");
    let migrated = run(&dir, &["migrate"], "");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(dir.join("latchkey.db").exists());

    let args = ["create-superuser", "--email", "Admin@Example.com", "--password-stdin"];
    let created = run(&dir, &args, "correct horse battery staple\n");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert_eq!(String::from_utf8_lossy(&created.stdout), "Superuser created (id 1).\n");

    let again = run(&dir, &args, "correct horse battery staple\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("A user with this email already exists."));

    let weak = run(&dir, &["create-superuser", "--email", "b@example.com", "--password-stdin"], "short\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("This password is too short."));
}

/// `latchkey serve` stops gracefully on SIGTERM, as on Ctrl-C: it exits with status 0 (killed by
/// the signal's default action, it would have no status at all) and says so in its log.
#[test]
fn serve_stops_gracefully_on_sigterm() {
    let mut command = latchkey(&fresh_dir("sigterm"));
    command.env("LATCHKEY_LOG", "info").stderr(Stdio::piped());
    let mut server = common::spawn(command);
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(sent.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
    server.stop();
    assert!(server.stderr().contains("shutting down"), "{}", server.stderr());
}
