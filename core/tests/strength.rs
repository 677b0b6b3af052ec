#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use latchkey_core::strength::{estimate, Strength, Suggestion, Warning, MAX_CHARS};

/// A small deterministic generator, so the fuzz-style tests are reproducible on every target.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn assert_sane(password: &str, strength: &Strength) {
    assert!(strength.score <= 4, "{password:?}: {strength:?}");
    assert!(strength.guesses_log10.is_finite() && strength.guesses_log10 >= 0.0, "{password:?}: {strength:?}");
    if strength.score > 2 {
        assert!(strength.warning.is_none() && strength.suggestions.is_empty(), "{password:?}: {strength:?}");
    }
}

#[test]
fn a_top_ten_password_scores_zero() {
    let strength = estimate("password", &[]);
    assert_eq!(strength.score, 0);
    assert_eq!(strength.warning, Some(Warning::TopTenPassword));
    assert_eq!(strength.warning.map(|w| w.message()), Some("This is a top-10 common password"));
    assert_eq!(strength.suggestions, [Suggestion::AddAnotherWord]);
}

#[test]
fn a_passphrase_scores_high() {
    let strength = estimate("correcthorsebatterystaple", &[]);
    assert_eq!(strength.score, 4);
    assert!(strength.guesses_log10 > 20.0);
    assert_eq!((strength.warning, strength.suggestions), (None, vec![]));
}

#[test]
fn more_words_take_more_guesses() {
    let phrases = ["tulip", "tulip marble", "tulip marble orbit", "tulip marble orbit canyon"];
    let guesses: Vec<f64> = phrases.iter().map(|p| estimate(p, &[]).guesses_log10).collect();
    assert!(guesses.windows(2).all(|pair| pair[0] < pair[1]), "{guesses:?}");
}

#[test]
fn keyboard_patterns_are_recognised() {
    assert_eq!(estimate("qwertyuiop", &[]).score, 0);
    let row = estimate("zxcvbnm,./", &[]);
    assert_eq!(row.warning, Some(Warning::StraightRow));
    assert!(row.suggestions.contains(&Suggestion::LongerKeyboardPattern));
    assert_eq!(estimate("asdfghjkl;'", &[]).warning, Some(Warning::StraightRow));
    assert_eq!(estimate("zxcvfrtgb", &[]).warning, Some(Warning::KeyPattern));
}

#[test]
fn sequences_are_recognised() {
    for password in ["abcdefgh", "13579", "97531", "ghijklmno"] {
        let strength = estimate(password, &[]);
        assert_eq!(strength.score, 0, "{password}");
        assert_eq!(strength.warning, Some(Warning::Sequences), "{password}");
        assert!(strength.suggestions.contains(&Suggestion::AvoidSequences), "{password}");
    }
}

#[test]
fn repeats_are_recognised() {
    // "aaaaaa" is itself a common password, which explains it even better than the repeat.
    assert_eq!(estimate("aaaaaa", &[]).score, 0);
    assert_eq!(estimate("zzzzzzzzzz", &[]).warning, Some(Warning::SimpleRepeat));
    assert_eq!(estimate("xyzxyzxyzxyz", &[]).warning, Some(Warning::ExtendedRepeat));
    assert_eq!(estimate("ПарольПароль", &[]).warning, Some(Warning::ExtendedRepeat));
}

#[test]
fn l33t_spellings_of_common_passwords_stay_weak() {
    let strength = estimate("P@ssw0rd", &[]);
    assert!(strength.score <= 1, "{strength:?}");
    assert_eq!(strength.warning, Some(Warning::SimilarToCommonPassword));
    assert!(strength.suggestions.contains(&Suggestion::Substitutions));
    assert!(strength.suggestions.contains(&Suggestion::Capitalization));
}

#[test]
fn user_inputs_make_a_password_weaker() {
    let without = estimate("johnsmith1985", &[]);
    let with = estimate("johnsmith1985", &["johnsmith"]);
    assert!(with.guesses_log10 < without.guesses_log10 - 3.0, "{with:?} vs {without:?}");
    assert!(with.score < without.score);
    // An input anywhere in the list counts, whatever its case in the password.
    assert_eq!(estimate("Zorbulon1985!", &[]).score, 4);
    assert!(estimate("Zorbulon1985!", &["someone@example.com", "zorbulon"]).score <= 2);
}

#[test]
fn dates_and_years_are_recognised() {
    for password in ["1985-03-17", "17.03.1985"] {
        let strength = estimate(password, &[]);
        assert_eq!(strength.score, 1, "{password}");
        assert_eq!(strength.warning, Some(Warning::Dates), "{password}");
        assert!(strength.suggestions.contains(&Suggestion::AvoidAssociatedDates));
    }
    let year = estimate("2019", &[]);
    assert_eq!(year.warning, Some(Warning::RecentYears));
    assert_eq!(&year.suggestions[1..], [Suggestion::AvoidRecentYears, Suggestion::AvoidAssociatedYears]);
}

#[test]
fn an_empty_password_scores_zero_with_general_advice() {
    let strength = estimate("", &[]);
    assert_eq!(strength.score, 0);
    assert_eq!(strength.guesses_log10, 0.0);
    assert_eq!(strength.warning, None);
    assert_eq!(strength.suggestions, [Suggestion::UseWords, Suggestion::NoNeedForSymbols]);
}

/// zxcvbn 4.4.2 run on these passwords with Latchkey's word lists and reference year gives these
/// scores and guesses. They exercise every pattern but the dictionaries, whose ranks may change.
#[test]
fn known_answers_from_zxcvbn() {
    let cases = [
        ("abcdefgh", 0, 1.5185139398778875),
        ("13579", 0, 1.3222192947339193),
        ("ghijklmno", 0, 2.3710678622717363),
        ("zzzzzzzzzz", 0, 2.08278537031645),
        ("xyzxyzxyzxyz", 0, 2.5010592622177517),
        ("1985-03-17", 1, 4.777143967613667),
        ("2019", 0, 1.3222192947339193),
        ("zxcvfrtgb", 2, 6.783319256049127),
        ("tgbyhnujm", 3, 9.000000000434294),
        ("kQ8#vL2!pZ9@", 4, 12.000000000000433),
        ("q", 0, 1.0791812460476249),
    ];
    for (password, score, guesses_log10) in cases {
        let strength = estimate(password, &[]);
        assert_eq!(strength.score, score, "{password}");
        assert!((strength.guesses_log10 - guesses_log10).abs() < 1e-9, "{password}: {}", strength.guesses_log10);
    }
}

#[test]
fn only_the_first_max_chars_count() {
    let long = "x7#Kq9!mZ2".repeat(50);
    let prefix: String = long.chars().take(MAX_CHARS).collect();
    assert_eq!(estimate(&long, &[]), estimate(&prefix, &[]));
    assert_eq!(estimate(&long, &[]).score, 4);
}

#[test]
fn long_inputs_do_not_panic() {
    let mut rng = XorShift(0x5eed);
    let ascii: String = (0..4096).map(|_| char::from(b' ' + rng.below(95) as u8)).collect();
    let two_byte = "é".repeat(2048);
    let l33t = "4@8({[<3691!|170$5+7%2".repeat(187);
    for password in [ascii, two_byte, l33t, "a".repeat(4096)] {
        assert!(password.len() >= 4096);
        assert_sane(&password[..20], &estimate(&password, &[&password]));
    }
}

#[test]
fn arbitrary_unicode_does_not_panic() {
    let mut rng = XorShift(0x1234_5678_9abc_def0);
    // ASCII, Latin-1, combining marks, Greek, Cyrillic, CJK, emoji and the top of the code space.
    let ranges = [(0x20, 0x7f), (0xa0, 0x180), (0x300, 0x370), (0x391, 0x450), (0x4e00, 0x4f00), (0x1f600, 0x1f650)];
    for round in 0..60 {
        let len = rng.below(40 + round) as usize;
        let password: String = (0..len)
            .filter_map(|_| {
                let (low, high) = ranges[rng.below(ranges.len() as u64) as usize];
                char::from_u32(low + rng.below(u64::from(high - low)) as u32)
            })
            .chain(char::from_u32(0x10ffff))
            .collect();
        let strength = estimate(&password, &[&password, "é́"]);
        assert_sane(&password, &strength);
    }
    for password in ["\u{0}", "é́́", "👩‍👩‍👧‍👦", "İİİ", "ǅǅ", "\u{feff}\u{feff}\u{feff}", "1\u{301}9\u{301}8\u{301}5"]
    {
        assert_sane(password, &estimate(password, &[password]));
    }
}

#[cfg(feature = "serde")]
#[test]
fn serializes_messages_as_text() {
    let json = serde_json::to_value(estimate("password", &[])).ok();
    let expected = serde_json::json!({
        "score": 0,
        "guesses_log10": estimate("password", &[]).guesses_log10,
        "warning": "This is a top-10 common password",
        "suggestions": ["Add another word or two. Uncommon words are better."],
    });
    assert_eq!(json, Some(expected));
}
