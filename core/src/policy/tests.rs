#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;

fn codes(v: &Validation) -> Vec<&'static str> {
    v.violations.iter().map(Violation::code).collect()
}

#[test]
fn default_policy_accepts_a_strong_passphrase() {
    let v = PasswordPolicy::default().validate("correct horse battery staple", &UserAttributes::default());
    assert!(v.valid, "{:?}", v.violations);
    assert!(v.score >= 3);
    assert_eq!(v.fingerprint, PasswordPolicy::default().fingerprint());
}

#[test]
fn djangos_four_in_djangos_order_then_latchkeys() {
    let user = UserAttributes { username: Some("123123".into()), ..Default::default() };
    let v = PasswordPolicy::default().validate("123123", &user);
    assert_eq!(
        codes(&v),
        [
            "password_too_similar",
            "password_too_short",
            "password_too_common",
            "password_entirely_numeric",
            "password_too_weak"
        ]
    );
    assert_eq!(v.violations[0].message(), "The password is too similar to the username.");
    assert_eq!(v.violations[1].message(), "This password is too short. It must contain at least 12 characters.");
    assert!(!v.valid);
}

#[test]
fn too_long_is_refused_before_anything_else() {
    let long = "a".repeat(4097);
    let v = PasswordPolicy::default().validate(&long, &UserAttributes::default());
    assert_eq!(codes(&v), ["password_too_long"]);
    assert_eq!(v.score, 0);
    // 4096 bytes exactly is allowed by the length rule (multi-byte characters count as bytes).
    let v = PasswordPolicy::default().validate(&"é".repeat(2048), &UserAttributes::default());
    assert!(!codes(&v).contains(&"password_too_long"));
    let v = PasswordPolicy::default().validate(&"é".repeat(2049), &UserAttributes::default());
    assert_eq!(codes(&v), ["password_too_long"]);
}

#[test]
fn optional_rules_are_off_by_default_and_work_when_on() {
    let password = "zzzzqWe8!plorbat";
    assert!(!codes(&PasswordPolicy::default().validate(password, &UserAttributes::default()))
        .contains(&"password_repeated_characters"));
    let strict = PasswordPolicy { min_character_classes: 4, max_repeated_characters: 3, ..Default::default() };
    let v = strict.validate(password, &UserAttributes::default());
    assert!(codes(&v).contains(&"password_repeated_characters"));
    assert!(!codes(&v).contains(&"password_too_few_character_classes"));
    let v = strict.validate("alllowercaseletters", &UserAttributes::default());
    assert!(codes(&v).contains(&"password_too_few_character_classes"));
}

#[test]
fn fingerprint_is_stable_and_changes_with_any_rule() {
    let base = PasswordPolicy::default();
    assert_eq!(base.fingerprint().len(), 16);
    assert_eq!(base.fingerprint(), PasswordPolicy::default().fingerprint());
    let changed = [
        PasswordPolicy { min_length: 13, ..Default::default() },
        PasswordPolicy { max_similarity: None, ..Default::default() },
        PasswordPolicy { min_score: 2, ..Default::default() },
        PasswordPolicy { history: 5, ..Default::default() },
    ];
    for p in changed {
        assert_ne!(p.fingerprint(), base.fingerprint(), "{p:?}");
    }
}

#[test]
fn out_of_range_policies_are_refused() {
    assert_eq!(
        PasswordPolicy { max_similarity: Some(0.05), ..Default::default() }.checked(),
        Err(PolicyError::SimilarityTooLow)
    );
    assert_eq!(PasswordPolicy { min_score: 5, ..Default::default() }.checked(), Err(PolicyError::ScoreOutOfRange));
    assert_eq!(PasswordPolicy { max_length_bytes: 4, ..Default::default() }.checked(), Err(PolicyError::LengthBounds));
}

#[cfg(feature = "serde")]
#[test]
fn json_round_trip_carries_and_ignores_the_fingerprint() {
    let json = serde_json::to_value(PasswordPolicy::default()).unwrap();
    assert_eq!(json["min_length"], 12);
    assert_eq!(json["fingerprint"], PasswordPolicy::default().fingerprint());
    let mut tampered = json.clone();
    tampered["fingerprint"] = "forged".into();
    let back: PasswordPolicy = serde_json::from_value(tampered).unwrap();
    assert_eq!(back, PasswordPolicy::default());
    let partial: PasswordPolicy = serde_json::from_str(r#"{"min_length": 8}"#).unwrap();
    assert_eq!(partial.min_length, 8);
    assert!(serde_json::from_str::<PasswordPolicy>(r#"{"min_lenght": 8}"#).is_err());
    assert!(serde_json::from_str::<PasswordPolicy>(r#"{"min_score": 9}"#).is_err());
}

#[test]
fn from_json_reads_nulls_defaults_and_refuses_mistakes() {
    use serde_json::json;
    let off = PasswordPolicy::from_json(&json!({"max_similarity": null, "min_length": 8})).unwrap();
    assert_eq!(off.max_similarity, None);
    assert_eq!(off.min_length, 8);
    assert_eq!(PasswordPolicy::from_json(&json!({})).unwrap(), PasswordPolicy::default());
    let err = PasswordPolicy::from_json(&json!({"min_lenght": 8})).unwrap_err().to_string();
    assert!(err.starts_with("unknown field `min_lenght`, expected one of `min_length`"), "{err}");
    let err = PasswordPolicy::from_json(&json!({"min_length": -1})).unwrap_err().to_string();
    assert_eq!(err, "field `min_length` must be a non-negative integer");
    let err = PasswordPolicy::from_json(&json!({"reject_common": "yes"})).unwrap_err().to_string();
    assert_eq!(err, "field `reject_common` must be a boolean");
    assert!(PasswordPolicy::from_json(&json!([])).is_err());
    let user = UserAttributes::from_json(&json!({"email": "a@b.c", "username": null})).unwrap();
    assert_eq!(user, UserAttributes { email: Some("a@b.c".into()), ..Default::default() });
    assert!(UserAttributes::from_json(&json!({"email": 5})).is_err());
}

#[cfg(feature = "hashing")]
#[test]
fn history_refuses_a_recent_password_only_when_enabled() {
    use crate::hash::{hash_password, HashParams};
    // Small argon2 parameters keep the test fast; the rule does not depend on them.
    let params = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };
    let old = hash_password("correct horse battery staple", &params, &[1; 16]).unwrap();
    let older = hash_password("another fine passphrase here", &params, &[2; 16]).unwrap();
    let history = [old.as_str(), older.as_str(), "!unusable", "pbkdf2_sha256$garbage"];
    let user = UserAttributes::default();
    let off = PasswordPolicy::default();
    assert!(off.validate_with_history("correct horse battery staple", &user, &history, &params).valid);
    let on = PasswordPolicy { history: 2, ..Default::default() };
    let v = on.validate_with_history("correct horse battery staple", &user, &history, &params);
    assert_eq!(codes(&v), ["password_reused"]);
    assert!(!v.valid);
    assert!(on.validate_with_history("a brand new passphrase today", &user, &history, &params).valid);
    // Only the newest `history` hashes count.
    let one = PasswordPolicy { history: 1, ..Default::default() };
    assert!(one.validate_with_history("another fine passphrase here", &user, &history, &params).valid);
    assert!(!on.validate_with_history("another fine passphrase here", &user, &history, &params).valid);
}

#[test]
fn a_breached_password_says_how_often_it_was_seen() {
    let once = Violation::Breached { count: 1 };
    assert_eq!(once.code(), "password_breached");
    assert_eq!(once.message(), "This password has appeared in a data breach 1 time. Choose another one.");
    let often = Violation::Breached { count: 52_256_179 };
    assert_eq!(often.message(), "This password has appeared in a data breach 52256179 times. Choose another one.");
}
