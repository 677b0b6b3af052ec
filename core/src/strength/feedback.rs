//! zxcvbn's feedback: a warning about the part of the password that explains most of it, and
//! suggestions, both as data with zxcvbn's English text.

use super::matching::{lowercase, Match, Pattern};

/// Declares a message enum with a stable `code()`, zxcvbn's text as `message()` and `Display`,
/// and serialization as the text, which is what zxcvbn reports.
macro_rules! messages {
    ($(#[$attr:meta])* pub enum $name:ident { $($variant:ident = $code:literal, $message:literal;)* }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(#[doc = $message] $variant,)*
        }

        impl $name {
            /// zxcvbn's English text.
            pub fn message(&self) -> &'static str {
                match self {
                    $(Self::$variant => $message,)*
                }
            }

            /// A stable snake_case identifier, for translations.
            pub fn code(&self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.message())
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.message())
            }
        }
    };
}

messages! {
    /// What makes a password weak: zxcvbn's warning about its longest match.
    pub enum Warning {
        StraightRow = "straight_row", "Straight rows of keys are easy to guess";
        KeyPattern = "key_pattern", "Short keyboard patterns are easy to guess";
        SimpleRepeat = "simple_repeat", "Repeats like \"aaa\" are easy to guess";
        ExtendedRepeat = "extended_repeat",
            "Repeats like \"abcabcabc\" are only slightly harder to guess than \"abc\"";
        Sequences = "sequences", "Sequences like abc or 6543 are easy to guess";
        RecentYears = "recent_years", "Recent years are easy to guess";
        Dates = "dates", "Dates are often easy to guess";
        TopTenPassword = "top_ten_password", "This is a top-10 common password";
        TopHundredPassword = "top_hundred_password", "This is a top-100 common password";
        CommonPassword = "common_password", "This is a very common password";
        SimilarToCommonPassword = "similar_to_common_password", "This is similar to a commonly used password";
        WordByItself = "word_by_itself", "A word by itself is easy to guess";
        NamesByThemselves = "names_by_themselves", "Names and surnames by themselves are easy to guess";
        CommonNames = "common_names", "Common names and surnames are easy to guess";
    }
}

messages! {
    /// Advice for a stronger password.
    pub enum Suggestion {
        UseWords = "use_words", "Use a few words, avoid common phrases";
        NoNeedForSymbols = "no_need_for_symbols", "No need for symbols, digits, or uppercase letters";
        AddAnotherWord = "add_another_word", "Add another word or two. Uncommon words are better.";
        Capitalization = "capitalization", "Capitalization doesn't help very much";
        AllUppercase = "all_uppercase", "All-uppercase is almost as easy to guess as all-lowercase";
        ReversedWords = "reversed_words", "Reversed words aren't much harder to guess";
        Substitutions = "substitutions",
            "Predictable substitutions like '@' instead of 'a' don't help very much";
        LongerKeyboardPattern = "longer_keyboard_pattern", "Use a longer keyboard pattern with more turns";
        AvoidRepeats = "avoid_repeats", "Avoid repeated words and characters";
        AvoidSequences = "avoid_sequences", "Avoid sequences";
        AvoidRecentYears = "avoid_recent_years", "Avoid recent years";
        AvoidAssociatedYears = "avoid_associated_years", "Avoid years that are associated with you";
        AvoidAssociatedDates = "avoid_associated_dates", "Avoid dates and years that are associated with you";
    }
}

/// A warning, if any, and suggestions.
#[derive(Debug)]
pub(super) struct Feedback {
    pub(super) warning: Option<Warning>,
    pub(super) suggestions: Vec<Suggestion>,
}

/// zxcvbn's `get_feedback`: general advice for an empty password, nothing for a score above 2,
/// and otherwise advice about the longest match of the best sequence.
pub(super) fn feedback(score: u8, sequence: &[Match], password: &[char]) -> Feedback {
    let Some(first) = sequence.first() else {
        return Feedback { warning: None, suggestions: vec![Suggestion::UseWords, Suggestion::NoNeedForSymbols] };
    };
    if score > 2 {
        return Feedback { warning: None, suggestions: Vec::new() };
    }
    let longest = sequence.iter().fold(first, |longest, m| if m.len() > longest.len() { m } else { longest });
    let token = password.get(longest.i..=longest.j).unwrap_or_default();
    let (warning, mut suggestions) = match_feedback(longest, token, sequence.len() == 1);
    suggestions.insert(0, Suggestion::AddAnotherWord);
    Feedback { warning, suggestions }
}

fn match_feedback(m: &Match, token: &[char], is_sole_match: bool) -> (Option<Warning>, Vec<Suggestion>) {
    match &m.pattern {
        Pattern::Dictionary { .. } => dictionary_feedback(m, token, is_sole_match),
        Pattern::Spatial { turns, .. } => {
            let warning = if *turns == 1 { Warning::StraightRow } else { Warning::KeyPattern };
            (Some(warning), vec![Suggestion::LongerKeyboardPattern])
        }
        Pattern::Repeat { base_len, .. } => {
            let warning = if *base_len == 1 { Warning::SimpleRepeat } else { Warning::ExtendedRepeat };
            (Some(warning), vec![Suggestion::AvoidRepeats])
        }
        Pattern::Sequence { .. } => (Some(Warning::Sequences), vec![Suggestion::AvoidSequences]),
        Pattern::RecentYear { .. } => {
            (Some(Warning::RecentYears), vec![Suggestion::AvoidRecentYears, Suggestion::AvoidAssociatedYears])
        }
        Pattern::Date { .. } => (Some(Warning::Dates), vec![Suggestion::AvoidAssociatedDates]),
        Pattern::Bruteforce => (None, Vec::new()),
    }
}

/// zxcvbn's `get_dictionary_match_feedback`.
fn dictionary_feedback(m: &Match, token: &[char], is_sole_match: bool) -> (Option<Warning>, Vec<Suggestion>) {
    let Pattern::Dictionary { dictionary, rank, reversed, sub } = &m.pattern else { return (None, Vec::new()) };
    let warning = match *dictionary {
        "passwords" if is_sole_match && sub.is_empty() && !reversed => Some(match rank {
            ..=10 => Warning::TopTenPassword,
            ..=100 => Warning::TopHundredPassword,
            _ => Warning::CommonPassword,
        }),
        "passwords" => (m.guesses.log10() <= 4.0).then_some(Warning::SimilarToCommonPassword),
        "english_wikipedia" => is_sole_match.then_some(Warning::WordByItself),
        "surnames" | "male_names" | "female_names" if is_sole_match => Some(Warning::NamesByThemselves),
        "surnames" | "male_names" | "female_names" => Some(Warning::CommonNames),
        _ => None,
    };
    let mut suggestions = Vec::new();
    // zxcvbn's START_UPPER, /^[A-Z][^A-Z]+$/, and ALL_UPPER, /^[^a-z]+$/.
    let (head, tail) = token.split_first().map_or((None, &[][..]), |(h, t)| (Some(h), t));
    if head.is_some_and(char::is_ascii_uppercase) && !tail.is_empty() && !tail.iter().any(char::is_ascii_uppercase) {
        suggestions.push(Suggestion::Capitalization);
    } else if !token.iter().any(char::is_ascii_lowercase) && token.iter().any(|&c| lowercase(c) != c) {
        suggestions.push(Suggestion::AllUppercase);
    }
    if *reversed && token.len() >= 4 {
        suggestions.push(Suggestion::ReversedWords);
    }
    if !sub.is_empty() {
        suggestions.push(Suggestion::Substitutions);
    }
    (warning, suggestions)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn word(dictionary: &'static str, rank: u32, reversed: bool, sub: Vec<(char, char)>) -> Match {
        Match { guesses: f64::from(rank), ..Match::new(0, 7, Pattern::Dictionary { dictionary, rank, reversed, sub }) }
    }

    fn advice(m: Match, password: &str, sole: bool) -> (Option<Warning>, Vec<Suggestion>) {
        let chars: Vec<char> = password.chars().collect();
        dictionary_feedback(&m, &chars, sole)
    }

    #[test]
    fn common_passwords_by_rank() {
        assert_eq!(advice(word("passwords", 4, false, vec![]), "password", true).0, Some(Warning::TopTenPassword));
        assert_eq!(advice(word("passwords", 50, false, vec![]), "password", true).0, Some(Warning::TopHundredPassword));
        assert_eq!(advice(word("passwords", 500, false, vec![]), "password", true).0, Some(Warning::CommonPassword));
        let l33t = advice(word("passwords", 4, false, vec![('@', 'a')]), "p@ssword", true);
        assert_eq!(l33t, (Some(Warning::SimilarToCommonPassword), vec![Suggestion::Substitutions]));
        assert_eq!(advice(word("passwords", 20_000, false, vec![]), "password", false).0, None);
    }

    #[test]
    fn words_and_names() {
        assert_eq!(
            advice(word("english_wikipedia", 9, false, vec![]), "sunshine", true).0,
            Some(Warning::WordByItself)
        );
        assert_eq!(advice(word("english_wikipedia", 9, false, vec![]), "sunshine", false).0, None);
        assert_eq!(advice(word("surnames", 9, false, vec![]), "williams", true).0, Some(Warning::NamesByThemselves));
        assert_eq!(advice(word("female_names", 9, false, vec![]), "patricia", false).0, Some(Warning::CommonNames));
        assert_eq!(advice(word("user_inputs", 1, false, vec![]), "zorbulon", true).0, None);
    }

    #[test]
    fn capitalization_and_reversal_suggestions() {
        let suggest = |password, reversed| advice(word("us_tv_and_film", 9, reversed, vec![]), password, false).1;
        assert_eq!(suggest("Sunshine", false), [Suggestion::Capitalization]);
        assert_eq!(suggest("SUNSHINE", false), [Suggestion::AllUppercase]);
        assert_eq!(suggest("SunShine", false), []);
        assert_eq!(suggest("enihsnus", true), [Suggestion::ReversedWords]);
    }

    #[test]
    fn empty_and_strong_passwords() {
        let empty = feedback(0, &[], &[]);
        assert_eq!(
            (empty.warning, empty.suggestions),
            (None, vec![Suggestion::UseWords, Suggestion::NoNeedForSymbols])
        );
        let strong = feedback(3, &[word("passwords", 4, false, vec![])], &['x'; 8]);
        assert_eq!((strong.warning, strong.suggestions), (None, vec![]));
    }

    #[test]
    fn codes_are_distinct_snake_case() {
        let codes = [Warning::TopTenPassword.code(), Warning::StraightRow.code(), Suggestion::AvoidRepeats.code()];
        assert_eq!(codes, ["top_ten_password", "straight_row", "avoid_repeats"]);
        assert_eq!(Warning::SimpleRepeat.to_string(), "Repeats like \"aaa\" are easy to guess");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serializes_as_the_message() {
        let json = serde_json::to_string(&(Warning::Dates, Suggestion::AvoidSequences)).ok();
        assert_eq!(json.as_deref(), Some(r#"["Dates are often easy to guess","Avoid sequences"]"#));
    }
}
