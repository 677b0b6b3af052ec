//! The `latchkey` subcommands, run as a user would run them.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn latchkey(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
        .env("LATCHKEY_LOG", "warn")
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
    let dir = std::env::temp_dir().join(format!("latchkey-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let migrated = latchkey(&dir, &["migrate"], "");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(dir.join("latchkey.db").exists());

    let args = ["create-superuser", "--email", "Admin@Example.com", "--password-stdin"];
    let created = latchkey(&dir, &args, "correct horse battery staple\n");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert_eq!(String::from_utf8_lossy(&created.stdout), "Superuser created (id 1).\n");

    let again = latchkey(&dir, &args, "correct horse battery staple\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("A user with this email already exists."));

    let weak = latchkey(&dir, &["create-superuser", "--email", "b@example.com", "--password-stdin"], "short\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("This password is too short."));
}
