//! Replays Django 5.2's own verdicts (tests/vectors/policy_django.json, written by gen_policy.py)
//! through the policy with Django's four validators only: every case must agree exactly.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use latchkey_core::policy::{PasswordPolicy, UserAttributes};
use serde_json::Value;

const VECTORS: &str = include_str!("../../tests/vectors/policy_django.json");

fn attributes(user: &Value) -> UserAttributes {
    let field = |name: &str| user.get(name).and_then(Value::as_str).map(str::to_owned);
    UserAttributes {
        email: field("email"),
        username: field("username"),
        first_name: field("first_name"),
        last_name: field("last_name"),
    }
}

#[test]
fn django_verdicts_replay_with_zero_mismatches() {
    let data: Value = serde_json::from_str(VECTORS).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 500, "only {} cases", cases.len());
    let mut mismatches = Vec::new();
    for case in cases {
        let password = case["password"].as_str().unwrap();
        let policy = PasswordPolicy {
            min_length: case["min_length"].as_u64().unwrap() as usize,
            max_length_bytes: 1_000_000,
            min_score: 0,
            ..PasswordPolicy::default()
        };
        let got = policy.validate(password, &attributes(&case["user"]));
        let got: Vec<(String, String)> = got.violations.iter().map(|v| (v.code().to_owned(), v.message())).collect();
        let want: Vec<(String, String)> = case["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["code"].as_str().unwrap().to_owned(), v["message"].as_str().unwrap().to_owned()))
            .collect();
        if got != want {
            mismatches.push(format!("{password:?} user={}: got {got:?}, Django says {want:?}", case["user"]));
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
