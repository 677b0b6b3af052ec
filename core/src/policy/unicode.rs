//! Python's notion of digits, whitespace and word characters, so that Django's validators can be
//! reproduced exactly (see `scripts/gen-unicode-tables.py`).

use super::unicode_tables::{DIGIT, SPACE, WORD};

fn in_table(table: &[(char, char)], c: char) -> bool {
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `str.isdigit()`: non-empty and every character a decimal or digit character.
pub(crate) fn is_digit_string(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| in_table(DIGIT, c))
}

/// Python's `str.strip()` with no argument.
pub(crate) fn strip(s: &str) -> &str {
    s.trim_matches(|c| in_table(SPACE, c))
}

/// Python's `re.split(r"\W+", s)`: the runs of word characters, with an empty part before a leading
/// separator and after a trailing one, exactly as `re.split` returns them.
pub(crate) fn split_non_word(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_separator = false;
    for (i, c) in s.char_indices() {
        let word = in_table(WORD, c);
        if !word && !in_separator {
            parts.push(&s[start..i]);
            in_separator = true;
        } else if word && in_separator {
            start = i;
            in_separator = false;
        }
    }
    parts.push(if in_separator { "" } else { &s[start..] });
    parts
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn digits_follow_python_isdigit() {
        assert!(is_digit_string("12345678"));
        assert!(is_digit_string("١٢٣٤٥٦٧٨")); // Arabic-Indic
        assert!(is_digit_string("²³"));
        assert!(!is_digit_string("½"));
        assert!(!is_digit_string(""));
        assert!(!is_digit_string("1234a"));
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(strip("\u{1c} password\u{3000}"), "password");
        assert_eq!(strip("pass word"), "pass word");
    }

    #[test]
    fn split_matches_re_split() {
        assert_eq!(split_non_word("jean-luc.picard@starfleet.org"), ["jean", "luc", "picard", "starfleet", "org"]);
        assert_eq!(split_non_word(".a"), ["", "a"]);
        assert_eq!(split_non_word("a."), ["a", ""]);
        assert_eq!(split_non_word("..."), ["", ""]);
        assert_eq!(split_non_word(""), [""]);
        assert_eq!(split_non_word("snake_case"), ["snake_case"]);
    }
}
