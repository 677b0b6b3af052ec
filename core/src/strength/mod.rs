//! Password strength estimation: how many guesses an informed attacker needs, as a 0–4 score with
//! feedback.
//!
//! The algorithm follows zxcvbn 4.4.2 (Dropbox, MIT licence): the password is matched against
//! ranked dictionaries (plain, reversed and l33t-substituted), keyboard patterns, repeats,
//! sequences, recent years and dates; a dynamic programme then picks the sequence of
//! non-overlapping matches that needs the fewest guesses, and the score and feedback follow from
//! that sequence. The guess formulas are zxcvbn's. The deliberate differences are:
//!
//! - The dictionaries are Latchkey's ([`crate::dictionaries`]): Django's common-password list and
//!   truncated heads of zxcvbn's word lists, so guess counts differ wherever the lists do.
//! - The work is bounded on hostile input: only the first [`MAX_CHARS`] characters are analysed,
//!   the l33t matcher tries at most 16 of zxcvbn's substitutions with a capped number of lookups
//!   (never reached below 40 characters), and no substring over 40 characters is looked up, longer
//!   than any listed word. zxcvbn does none of this.
//! - User inputs given twice rank at their first position (zxcvbn keeps the last).
//! - The analysis works on Unicode scalar values (`char`s), not UTF-16 code units, and a character
//!   whose lowercase form is several characters is compared as is.
//! - Dates and years are measured from the fixed [`REFERENCE_YEAR`] instead of the clock, so the
//!   server and the browser always agree, and "recent years" include the 2020s.
//!
//! ```
//! use latchkey_core::strength::{estimate, Warning};
//!
//! let weak = estimate("password", &[]);
//! assert_eq!(weak.score, 0);
//! assert_eq!(weak.warning, Some(Warning::TopTenPassword));
//!
//! let strong = estimate("correcthorsebatterystaple", &[]);
//! assert!(strong.score >= 3);
//! ```

mod date;
mod feedback;
mod keyboard;
mod l33t;
mod matching;
mod scoring;

pub use feedback::{Suggestion, Warning};

/// Only this many leading characters of a password are analysed.
///
/// zxcvbn's matching is quadratic in the length, so the bound keeps a hostile multi-kilobyte input
/// cheap (a few milliseconds at worst). A password that long is only weak if it is highly
/// repetitive, which its first 100 characters show as well.
pub const MAX_CHARS: usize = 100;

/// The year that dates and recent years are measured from (zxcvbn uses the current year).
///
/// A constant rather than the clock keeps [`estimate`] pure, so the npm package and the server
/// give identical answers.
pub const REFERENCE_YEAR: i32 = 2026;

/// The verdict on a password: a score, the guess estimate behind it, and advice.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Strength {
    /// 0 (too guessable) to 4 (very unguessable), using zxcvbn's thresholds on the guess count:
    /// below 10³, 10⁶, 10⁸ and 10¹⁰ (each plus 5).
    pub score: u8,
    /// Base-10 logarithm of the estimated number of guesses.
    pub guesses_log10: f64,
    /// What makes the password weak, when the score is 2 or less and something specific does.
    pub warning: Option<Warning>,
    /// How to choose a better password; empty when the score is 3 or 4.
    pub suggestions: Vec<Suggestion>,
}

/// Estimates how hard `password` is to guess.
///
/// `user_inputs` are words an attacker would try first for this user (name, e-mail, site name);
/// they are matched case-insensitively, the first one counting as the most likely. Only the first
/// [`MAX_CHARS`] characters of `password` are analysed. Never panics, whatever the input.
pub fn estimate(password: &str, user_inputs: &[&str]) -> Strength {
    let chars: Vec<char> = password.chars().take(MAX_CHARS).collect();
    let inputs: Vec<String> =
        user_inputs.iter().map(|input| input.chars().map(matching::lowercase).collect()).collect();
    let dictionaries = matching::dictionaries(&inputs);
    let matches = matching::omnimatch(&chars, &dictionaries);
    let analysis = scoring::most_guessable_match_sequence(&chars, matches);
    let score = score(analysis.guesses);
    let feedback = feedback::feedback(score, &analysis.sequence, &chars);
    Strength {
        score,
        guesses_log10: analysis.guesses.log10(),
        warning: feedback.warning,
        suggestions: feedback.suggestions,
    }
}

/// zxcvbn's `guesses_to_score`: each threshold is a rough attack budget.
fn score(guesses: f64) -> u8 {
    const DELTA: f64 = 5.0;
    match guesses {
        g if g < 1e3 + DELTA => 0,
        g if g < 1e6 + DELTA => 1,
        g if g < 1e8 + DELTA => 2,
        g if g < 1e10 + DELTA => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn score_thresholds_are_zxcvbns() {
        assert_eq!(score(1.0), 0);
        assert_eq!(score(1004.9), 0);
        assert_eq!(score(1005.0), 1);
        assert_eq!(score(1e6 + 5.0), 2);
        assert_eq!(score(1e8 + 5.0), 3);
        assert_eq!(score(1e10 + 4.0), 3);
        assert_eq!(score(1e10 + 5.0), 4);
        assert_eq!(score(f64::INFINITY), 4);
    }

    #[test]
    fn only_the_first_max_chars_are_analysed() {
        let prefix: String = "Tr0ub4dor&3xkcd".chars().cycle().take(MAX_CHARS).collect();
        let longer = format!("{prefix}and more text that is ignored");
        assert_eq!(estimate(&prefix, &[]), estimate(&longer, &[]));
    }

    #[test]
    fn user_inputs_are_case_insensitive() {
        let plain = estimate("Zorbulon1985", &[]);
        let with_input = estimate("Zorbulon1985", &["ZORBULON"]);
        assert!(with_input.guesses_log10 < plain.guesses_log10 - 2.0);
    }
}
