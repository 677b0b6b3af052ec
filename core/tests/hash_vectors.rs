//! Known-answer password hashes: `tests/vectors/django_hashes.json`, made with Django 5.2's own
//! hashers, argon2-cffi and bcrypt by `tests/vectors/gen_hashes.py`.
#![cfg(feature = "hashing")]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use latchkey_core::hash::{hash_password, verify_password, HashParams, Verified};
use serde_json::Value;

const VECTORS: &str = include_str!("../../tests/vectors/django_hashes.json");

/// The parameters the tests treat as "current": those of the `ours_m1024_t1` row.
const CURRENT: HashParams = HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 };

fn section(name: &str, at_least: usize) -> Vec<Value> {
    let document: Value = serde_json::from_str(VECTORS).unwrap_or_else(|error| panic!("django_hashes.json: {error}"));
    let rows = document[name].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= at_least, "{name} lost rows: {}", rows.len());
    rows
}

fn text<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key].as_str().unwrap_or_else(|| panic!("{key} is a string in {}", row["name"]))
}

fn hex(text: &str) -> Vec<u8> {
    let byte = |i: usize| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or_else(|error| panic!("{text}: {error}"));
    (0..text.len()).step_by(2).map(byte).collect()
}

fn verify(row: &Value, password_key: &str) -> Verified {
    verify_password(text(row, password_key), text(row, "encoded"), &CURRENT)
        .unwrap_or_else(|error| panic!("{}: {error}", row["name"]))
}

/// The right password works and asks for a rehash (every Django format is replaced by argon2id);
/// the wrong one fails. Rows marked slow are left to `django_default_iterations_verify`.
#[test]
fn django_hashes_verify_and_ask_for_a_rehash() {
    let rows = section("django", 15);
    for row in rows.iter().filter(|row| row["slow"] != true) {
        assert_eq!(verify(row, "password"), Verified { ok: true, needs_rehash: true }, "{}", row["name"]);
        assert!(!verify(row, "wrong_password").ok, "{}", row["name"]);
    }
    let prefixes: Vec<&str> = rows.iter().map(|row| text(row, "encoded").split('$').next().unwrap_or("")).collect();
    for format in ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt"] {
        assert!(prefixes.contains(&format), "no {format} row");
    }
}

/// The PBKDF2 vectors computed with Python's hashlib.pbkdf2_hmac at Django's real iteration counts (870 000 to 1 200 000). The
/// workspace builds the hashing crates optimized even in debug (root Cargo.toml), so this stays fast.
#[test]
fn django_default_iterations_verify() {
    let rows = section("django", 15);
    let slow: Vec<&Value> = rows.iter().filter(|row| row["slow"] == true).collect();
    assert_eq!(slow.len(), 4);
    for row in slow {
        assert_eq!(verify(row, "password"), Verified { ok: true, needs_rehash: true }, "{}", row["name"]);
        assert!(!verify(row, "wrong_password").ok, "{}", row["name"]);
    }
}

/// Our PHC strings are argon2-cffi's byte for byte, and are current only with the same parameters.
#[test]
fn our_hashes_match_argon2_cffi() {
    for row in section("ours", 2) {
        let params = &row["params"];
        let number = |key: &str| params[key].as_u64().and_then(|n| u32::try_from(n).ok()).unwrap();
        let params = HashParams {
            memory_kib: number("memory_kib"),
            iterations: number("iterations"),
            parallelism: number("parallelism"),
        };
        let salt: [u8; 16] = hex(text(&row, "salt_hex")).try_into().unwrap();
        let encoded = hash_password(text(&row, "password"), &params, &salt).unwrap();
        assert_eq!(encoded, text(&row, "encoded"), "{}", row["name"]);
        let verdict = verify_password(text(&row, "password"), &encoded, &params).unwrap();
        assert_eq!(verdict, Verified { ok: true, needs_rehash: false }, "{}", row["name"]);
        if params == CURRENT {
            assert!(!verify(&row, "wrong_password").ok);
        } else {
            assert_eq!(verify(&row, "password"), Verified { ok: true, needs_rehash: true }, "{}", row["name"]);
        }
    }
}

/// Unusable, unsupported (scrypt, md5) and malformed hashes are a plain "no", never an error.
#[test]
fn unusable_hashes_never_match() {
    for row in section("unusable", 9) {
        let verdict = verify_password(text(&row, "password"), text(&row, "encoded"), &CURRENT);
        assert_eq!(verdict, Ok(Verified { ok: false, needs_rehash: false }), "{}", row["name"]);
    }
}
