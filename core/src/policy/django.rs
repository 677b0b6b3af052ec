//! Django 5.2's four default password validators, reproduced exactly: same order of checks, same
//! codes, same English messages, same arithmetic (`difflib.SequenceMatcher.quick_ratio`, the length
//! guard, `\W+` splitting, Unicode digits, lowercase + strip before the common-list lookup).
//! `tests/vectors/policy_django.json`, produced by Django itself, proves it.

use std::collections::HashMap;

use super::unicode::{is_digit_string, split_non_word, strip};
use super::{UserAttribute, UserAttributes, Violation};
use crate::dictionaries;

/// `MinimumLengthValidator`: length in Unicode code points, as Python's `len`.
pub(crate) fn minimum_length(password: &str, min_length: usize) -> Option<Violation> {
    (password.chars().count() < min_length).then_some(Violation::TooShort { min_length })
}

/// `CommonPasswordValidator` with Django's own list.
pub(crate) fn common(password: &str) -> Option<Violation> {
    let lowered = password.to_lowercase();
    dictionaries::common_passwords().rank(strip(&lowered)).map(|_| Violation::TooCommon)
}

/// `NumericPasswordValidator`.
pub(crate) fn numeric(password: &str) -> Option<Violation> {
    is_digit_string(password).then_some(Violation::EntirelyNumeric)
}

/// `UserAttributeSimilarityValidator`: the first attribute (in Django's order) with a part whose
/// `quick_ratio` against the lowercased password reaches `max_similarity`.
pub(crate) fn similarity(password: &str, user: &UserAttributes, max_similarity: f64) -> Option<Violation> {
    let password: Vec<char> = password.to_lowercase().chars().collect();
    for attribute in UserAttribute::DJANGO_ORDER {
        let Some(value) = user.get(attribute).filter(|v| !v.is_empty()) else { continue };
        let value = value.to_lowercase();
        let mut parts = split_non_word(&value);
        parts.push(&value);
        for part in parts {
            let part: Vec<char> = part.chars().collect();
            if exceeds_maximum_length_ratio(password.len(), max_similarity, part.len()) {
                continue;
            }
            if quick_ratio(&password, &part) >= max_similarity {
                return Some(Violation::TooSimilar { attribute });
            }
        }
    }
    None
}

/// Django's guard: a part much shorter than the password cannot make it too similar.
fn exceeds_maximum_length_ratio(pwd_len: usize, max_similarity: f64, value_len: usize) -> bool {
    let length_bound_similarity = max_similarity / 2.0 * pwd_len as f64;
    pwd_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// `difflib.SequenceMatcher(a=a, b=b).quick_ratio()`: twice the size of the multiset intersection of
/// the characters, over the total length; 1.0 when both are empty.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let mut available: HashMap<char, usize> = HashMap::new();
    for &c in b {
        *available.entry(c).or_insert(0) += 1;
    }
    let mut matches = 0usize;
    for c in a {
        if let Some(n) = available.get_mut(c).filter(|n| **n > 0) {
            *n -= 1;
            matches += 1;
        }
    }
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn user(username: &str, email: &str, first_name: &str) -> UserAttributes {
        UserAttributes {
            username: Some(username.into()),
            email: Some(email.into()),
            first_name: Some(first_name.into()),
            last_name: None,
        }
    }

    #[test]
    fn quick_ratio_is_order_insensitive_multiset_intersection() {
        assert_eq!(quick_ratio(&chars("johndoe123"), &chars("johndoe")), 14.0 / 17.0);
        assert_eq!(quick_ratio(&chars("moc.elpmaxe"), &chars("example")), 14.0 / 18.0);
        assert_eq!(quick_ratio(&[], &[]), 1.0);
    }

    #[test]
    fn compat_spec_similarity_vectors() {
        let cases = [
            ("johndoe123", user("johndoe", "", ""), Some(UserAttribute::Username)),
            ("JohnDoe", user("johndoe", "", ""), Some(UserAttribute::Username)),
            ("alice2024!", user("", "alice@example.com", ""), None),
            ("example.com", user("", "alice@example.com", ""), Some(UserAttribute::Email)),
            ("moc.elpmaxe", user("", "x@example.com", ""), Some(UserAttribute::Email)),
            ("s3cure-Passw0rd", user("alice", "alice@example.com", ""), None),
            ("tomtomtomtom", user("", "", "Tom"), None),
        ];
        for (password, user, expected) in cases {
            let got = similarity(password, &user, 0.7);
            assert_eq!(got, expected.map(|attribute| Violation::TooSimilar { attribute }), "{password}");
        }
    }

    #[test]
    fn common_lowercases_and_strips() {
        assert_eq!(common(" PassWord\t"), Some(Violation::TooCommon));
        assert_eq!(common("pass word"), None);
    }

    #[test]
    fn minimum_length_counts_code_points() {
        assert_eq!(minimum_length("ééééé", 5), None);
        assert_eq!(minimum_length("abcd", 5), Some(Violation::TooShort { min_length: 5 }));
    }
}
