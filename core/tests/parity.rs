//! Cross-target parity: tests/vectors/parity.json holds the native verdicts (default policy) and
//! strength estimates for a fixed set of passwords; the JavaScript suites replay it through the npm
//! package in Node and in Chromium. This test keeps the file in step with the code: it fails when
//! the code's answers change, and `LATCHKEY_BLESS=1 cargo test --test parity` rewrites it.

#![cfg(not(target_arch = "wasm32"))]

use latchkey_core::policy::{PasswordPolicy, UserAttributes};
use latchkey_core::strength;
use serde_json::{json, Value};

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/parity.json");

fn inputs() -> Vec<(String, UserAttributes)> {
    let alice = UserAttributes {
        email: Some("alice@example.com".into()),
        username: Some("alice".into()),
        first_name: Some("Alice".into()),
        last_name: Some("Liddell".into()),
    };
    let fixed = [
        "",
        "password",
        "P@ssw0rd",
        "correct horse battery staple",
        "Tr0ub4dor&3",
        "qwertyuiop",
        "1qaz2wsx3edc",
        "abcdefghijkl",
        "zyxwvutsrqpo",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "1985-03-17",
        "17.03.1985alice",
        "alice2024!",
        "aliceliddell",
        "ecila",
        "johnsmith1985",
        "Jd8#kq!Lm2@pXz9v",
        "wonderland rabbit hole",
        "drowssap",
        "iloveyou12345",
        "пароль-пароль-пароль",
        "密码密码密码密码",
        "🔒🔑🔒🔑🔒🔑",
        "e\u{301}e\u{301}e\u{301}e\u{301}",
        "1234567890123",
        "monkey dragon master",
        "summer2023winter",
        "zxcvbnm,./",
        "!@#$%^&*()_+",
        "Aa1!Aa1!Aa1!",
    ];
    let mut out: Vec<(String, UserAttributes)> = Vec::new();
    for password in fixed {
        out.push((password.to_owned(), UserAttributes::default()));
        out.push((password.to_owned(), alice.clone()));
    }
    // Deterministic pseudo-random passwords (an LCG, not for secrets) over a mixed alphabet.
    let alphabet: Vec<char> = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@#$%&*-_ éü".chars().collect();
    let mut state: u64 = 0x5eed_1a7c;
    for n in 0..60 {
        let len = 4 + n % 24;
        let password: String = (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                alphabet[(state >> 33) as usize % alphabet.len()]
            })
            .collect();
        out.push((password, if n % 2 == 0 { alice.clone() } else { UserAttributes::default() }));
    }
    out
}

fn compute() -> Value {
    let policy = PasswordPolicy::default();
    let cases: Vec<Value> = inputs()
        .into_iter()
        .map(|(password, user)| {
            let verdict = policy.validate(&password, &user);
            let inputs: Vec<&str> = [&user.email, &user.username].into_iter().flatten().map(String::as_str).collect();
            let s = strength::estimate(&password, &inputs);
            json!({
                "password": password,
                "user": user,
                "user_inputs": inputs,
                "validation": verdict,
                "strength": {
                    "score": s.score,
                    "guessesLog10": s.guesses_log10,
                    "warning": s.warning.map_or("", |w| w.message()),
                    "suggestions": s.suggestions.iter().map(|x| x.message()).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    json!({ "generator": "core/tests/parity.rs (LATCHKEY_BLESS=1 to rewrite)", "policy": policy, "cases": cases })
}

#[test]
fn parity_vectors_match_the_native_answers() {
    let text = serde_json::to_string_pretty(&compute()).unwrap() + "\n";
    if std::env::var_os("LATCHKEY_BLESS").is_some() {
        std::fs::write(FILE, &text).unwrap();
    }
    let committed = std::fs::read_to_string(FILE).unwrap_or_default();
    assert!(committed == text, "tests/vectors/parity.json is stale: rerun with LATCHKEY_BLESS=1 and review the diff");
}
