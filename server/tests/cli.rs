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
