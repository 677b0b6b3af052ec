//! zxcvbn's scoring: the guesses each match needs, and the dynamic programme that picks the
//! sequence of non-overlapping matches covering the password with the fewest guesses.

use super::keyboard;
use super::matching::{lowercase, Match, Pattern};
use super::REFERENCE_YEAR;

const BRUTEFORCE_CARDINALITY: f64 = 10.0;
const MIN_GUESSES_BEFORE_GROWING_SEQUENCE: f64 = 10_000.0;
const MIN_SUBMATCH_GUESSES_SINGLE_CHAR: f64 = 10.0;
const MIN_SUBMATCH_GUESSES_MULTI_CHAR: f64 = 50.0;
const MIN_YEAR_SPACE: f64 = 20.0;

/// The best explanation of a password: its guess count and the matches that give it, in order,
/// with any gaps filled by bruteforce matches.
#[derive(Debug)]
pub(super) struct Analysis {
    pub(super) guesses: f64,
    pub(super) sequence: Vec<Match>,
}

/// The last match of a candidate sequence: one of the matchers' matches, or a bruteforce span
/// starting at the given index.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Match(usize),
    Bruteforce(usize),
}

/// The best known sequence of `l` matches covering a prefix (zxcvbn's `optimal.m`, `.pi`, `.g`).
#[derive(Debug, Clone, Copy)]
struct Step {
    l: usize,
    /// The minimised metric, `l! * pi + D^(l - 1)`.
    g: f64,
    /// The product of the sequence's guesses.
    pi: f64,
    pick: Pick,
}

/// `optimal[k]`: the steps ending at index `k`, by increasing `l`.
#[derive(Debug)]
struct Search {
    optimal: Vec<Vec<Step>>,
}

impl Search {
    /// zxcvbn's `update`: keeps a length-`l` sequence ending with a match over `i..=k` if no
    /// sequence of at most `l` matches covering the same prefix does as well.
    fn update(&mut self, k: usize, i: usize, pick: Pick, guesses: f64, l: usize) {
        let mut pi = guesses;
        if l > 1 {
            let steps_before = i.checked_sub(1).and_then(|p| self.optimal.get(p));
            let Some(before) = steps_before.and_then(|steps| steps.iter().find(|step| step.l == l - 1)) else { return };
            pi *= before.pi;
        }
        let g = factorial(l) * pi + MIN_GUESSES_BEFORE_GROWING_SEQUENCE.powi(exponent(l - 1));
        let steps = &mut self.optimal[k];
        if steps.iter().any(|step| step.l <= l && step.g <= g) {
            return;
        }
        let step = Step { l, g, pi, pick };
        match steps.iter().position(|step| step.l >= l) {
            Some(at) if steps[at].l == l => steps[at] = step,
            Some(at) => steps.insert(at, step),
            None => steps.push(step),
        }
    }

    /// zxcvbn's `bruteforce_update`: a bruteforce span ending at `k`, alone or after any sequence
    /// that does not itself end in bruteforce.
    fn bruteforce_update(&mut self, k: usize) {
        self.update(k, 0, Pick::Bruteforce(0), bruteforce_guesses(k + 1), 1);
        for i in 1..=k {
            let guesses = bruteforce_guesses(k + 1 - i);
            for at in 0..self.optimal[i - 1].len() {
                let step = self.optimal[i - 1][at];
                if !matches!(step.pick, Pick::Bruteforce(_)) {
                    self.update(k, i, Pick::Bruteforce(i), guesses, step.l + 1);
                }
            }
        }
    }

    /// zxcvbn's `unwind`: the best sequence covering the whole password, walked back from the end.
    fn unwind(&self, matches: &[Match]) -> Analysis {
        let Some(last) = self.optimal.last() else { return Analysis { guesses: 1.0, sequence: Vec::new() } };
        // The first of the lowest, as zxcvbn scans by increasing length with a strict comparison.
        let best = last.iter().fold(None, |best: Option<&Step>, step| match best {
            Some(b) if step.g >= b.g => best,
            _ => Some(step),
        });
        let Some(&Step { g: guesses, l: mut length, .. }) = best else {
            return Analysis { guesses: 1.0, sequence: Vec::new() };
        };
        let mut sequence = Vec::with_capacity(length);
        let mut k = self.optimal.len() - 1;
        while let Some(step) = self.optimal[k].iter().find(|step| step.l == length) {
            let found = match step.pick {
                Pick::Match(index) => matches[index].clone(),
                Pick::Bruteforce(i) => {
                    Match { guesses: bruteforce_guesses(k + 1 - i), ..Match::new(i, k, Pattern::Bruteforce) }
                }
            };
            let start = found.i;
            sequence.push(found);
            if start == 0 {
                break;
            }
            (k, length) = (start - 1, length - 1);
        }
        sequence.reverse();
        Analysis { guesses, sequence }
    }
}

/// zxcvbn's `most_guessable_match_sequence`: the guess-minimising cover of `password` by
/// `matches`, which must lie within it and be sorted by `(i, j)`.
pub(super) fn most_guessable_match_sequence(password: &[char], mut matches: Vec<Match>) -> Analysis {
    let n = password.len();
    matches.retain(|m| m.i <= m.j && m.j < n);
    let mut by_end: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (index, m) in matches.iter_mut().enumerate() {
        m.guesses = estimate_guesses(m, password);
        by_end[m.j].push(index);
    }
    let mut search = Search { optimal: vec![Vec::new(); n] };
    for (k, ending) in by_end.iter().enumerate() {
        for &index in ending {
            let m = &matches[index];
            if m.i == 0 {
                search.update(k, 0, Pick::Match(index), m.guesses, 1);
                continue;
            }
            for at in 0..search.optimal[m.i - 1].len() {
                let l = search.optimal[m.i - 1][at].l;
                search.update(k, m.i, Pick::Match(index), m.guesses, l + 1);
            }
        }
        search.bruteforce_update(k);
    }
    search.unwind(&matches)
}

/// zxcvbn's `estimate_guesses`: the pattern's guesses, but at least 10 or 50 for a match that
/// covers only part of the password, as the attacker must also guess where it is.
fn estimate_guesses(m: &Match, password: &[char]) -> f64 {
    let token = password.get(m.i..=m.j).unwrap_or_default();
    let min_guesses = match token.len() {
        len if len >= password.len() => 1.0,
        1 => MIN_SUBMATCH_GUESSES_SINGLE_CHAR,
        _ => MIN_SUBMATCH_GUESSES_MULTI_CHAR,
    };
    let guesses = match &m.pattern {
        Pattern::Bruteforce => bruteforce_guesses(token.len()),
        Pattern::Dictionary { rank, reversed, sub, .. } => {
            let reversed = if *reversed { 2.0 } else { 1.0 };
            f64::from(*rank) * uppercase_variations(token) * l33t_variations(token, sub) * reversed
        }
        Pattern::Spatial { keypad, turns, shifted_count } => {
            spatial_guesses(token.len(), *keypad, *turns, *shifted_count)
        }
        Pattern::Repeat { base_guesses, repeat_count, .. } => base_guesses * *repeat_count as f64,
        Pattern::Sequence { ascending } => sequence_guesses(token, *ascending),
        Pattern::RecentYear { year } => year_space(*year),
        Pattern::Date { year, separator } => year_space(*year) * 365.0 * if *separator { 4.0 } else { 1.0 },
    };
    guesses.max(min_guesses)
}

/// `10^len`, and one more than the submatch minimum so that any other match over the same span
/// wins.
fn bruteforce_guesses(len: usize) -> f64 {
    let guesses = BRUTEFORCE_CARDINALITY.powi(exponent(len));
    let guesses = if guesses.is_infinite() { f64::MAX } else { guesses };
    let min = if len == 1 { MIN_SUBMATCH_GUESSES_SINGLE_CHAR } else { MIN_SUBMATCH_GUESSES_MULTI_CHAR };
    guesses.max(min + 1.0)
}

/// How far a year is from [`REFERENCE_YEAR`], but at least 20.
fn year_space(year: i32) -> f64 {
    f64::from((year - REFERENCE_YEAR).abs()).max(MIN_YEAR_SPACE)
}

/// Obvious starting points (`a`, `z`, `0`, `1`, `9`) are tried first; descending doubles.
fn sequence_guesses(token: &[char], ascending: bool) -> f64 {
    let base = match token.first() {
        Some('a' | 'A' | 'z' | 'Z' | '0' | '1' | '9') => 4.0,
        Some(c) if c.is_ascii_digit() => 10.0,
        _ => 26.0,
    };
    let base = if ascending { base } else { base * 2.0 };
    base * token.len() as f64
}

/// Chains of `len` keys with at most `turns` turns from any start, times the shift variations.
fn spatial_guesses(len: usize, keypad: bool, turns: usize, shifted_count: usize) -> f64 {
    let (starts, degree) = keyboard::starting_positions_and_degree(keypad);
    let mut guesses = 0.0;
    for i in 2..=len {
        for j in 1..=turns.min(i - 1) {
            guesses += n_choose_k(i - 1, j - 1) * starts * degree.powi(exponent(j));
        }
    }
    if shifted_count > 0 {
        guesses *= variations(shifted_count, len.saturating_sub(shifted_count));
    }
    guesses
}

/// zxcvbn's count of ways to mix `a` changed and `b` unchanged characters with at most
/// `min(a, b)` changes; 2 when one kind is absent.
fn variations(a: usize, b: usize) -> f64 {
    if a == 0 || b == 0 {
        return 2.0;
    }
    (1..=a.min(b)).map(|i| n_choose_k(a + b, i)).sum()
}

/// 1 for lowercase, 2 for the common capitalisations (first, last or all letters uppercase),
/// otherwise the ways to place that many uppercase letters.
fn uppercase_variations(token: &[char]) -> f64 {
    let upper = token.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = token.iter().filter(|c| c.is_ascii_lowercase()).count();
    let only_upper_at = |c: Option<&char>| upper == 1 && token.len() > 1 && c.is_some_and(char::is_ascii_uppercase);
    if upper == 0 {
        1.0
    } else if lower == 0 || only_upper_at(token.first()) || only_upper_at(token.last()) {
        2.0
    } else {
        variations(upper, lower)
    }
}

/// For each substitution, the ways to mix substituted and plain forms of the letter.
fn l33t_variations(token: &[char], sub: &[(char, char)]) -> f64 {
    let count = |target: char| token.iter().filter(|&&c| lowercase(c) == target).count();
    sub.iter().map(|&(subbed, unsubbed)| variations(count(subbed), count(unsubbed))).product()
}

/// n choose k in floating point, as zxcvbn computes it.
fn n_choose_k(mut n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    let mut r = 1.0;
    for d in 1..=k {
        r *= n as f64;
        r /= d as f64;
        n -= 1;
    }
    r
}

/// A small count as an `i32` exponent; lengths are bounded by [`super::MAX_CHARS`].
fn exponent(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn factorial(n: usize) -> f64 {
    (2..=n).fold(1.0, |f, i| f * i as f64)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn dictionary(i: usize, j: usize, rank: u32) -> Match {
        let pattern = Pattern::Dictionary { dictionary: "passwords", rank, reversed: false, sub: Vec::new() };
        Match::new(i, j, pattern)
    }

    #[test]
    fn n_choose_k_and_factorial() {
        assert_eq!(n_choose_k(0, 0), 1.0);
        assert_eq!(n_choose_k(5, 0), 1.0);
        assert_eq!(n_choose_k(2, 5), 0.0);
        assert_eq!(n_choose_k(49, 6), 13_983_816.0);
        assert_eq!(factorial(5), 120.0);
    }

    #[test]
    fn capitalisation_variations_follow_zxcvbn() {
        for (word, expected) in [
            ("", 1.0),
            ("password", 1.0),
            ("Password", 2.0),
            ("passworD", 2.0),
            ("PASSWORD", 2.0),
            ("PassWord", n_choose_k(8, 1) + n_choose_k(8, 2)),
            ("aBcD", n_choose_k(4, 1) + n_choose_k(4, 2)),
        ] {
            assert_eq!(uppercase_variations(&chars(word)), expected, "{word}");
        }
    }

    #[test]
    fn l33t_variations_follow_zxcvbn() {
        assert_eq!(l33t_variations(&chars("p4ssword"), &[('4', 'a')]), 2.0);
        assert_eq!(l33t_variations(&chars("4a"), &[('4', 'a')]), 2.0);
        assert_eq!(l33t_variations(&chars("44aaa"), &[('4', 'a')]), n_choose_k(5, 1) + n_choose_k(5, 2));
        assert_eq!(l33t_variations(&chars("p@ssw0rd"), &[('0', 'o'), ('@', 'a')]), 4.0);
        assert_eq!(l33t_variations(&chars("password"), &[]), 1.0);
    }

    #[test]
    fn pattern_guesses_follow_zxcvbn() {
        assert_eq!(bruteforce_guesses(1), 11.0);
        assert_eq!(bruteforce_guesses(3), 1000.0);
        assert_eq!(bruteforce_guesses(400), f64::MAX);
        assert_eq!(sequence_guesses(&chars("abcdef"), true), 24.0);
        assert_eq!(sequence_guesses(&chars("76543"), false), 100.0);
        assert_eq!(sequence_guesses(&chars("jklm"), true), 104.0);
        assert_eq!(year_space(REFERENCE_YEAR - 1), 20.0);
        assert_eq!(year_space(1972), f64::from(REFERENCE_YEAR - 1972));
        let (s, d) = keyboard::starting_positions_and_degree(false);
        assert_eq!(spatial_guesses(3, false, 1, 0), s * d * 2.0);
        assert_eq!(spatial_guesses(3, false, 1, 3), s * d * 2.0 * 2.0);
    }

    #[test]
    fn a_whole_password_match_needs_no_minimum() {
        let password = chars("password");
        assert_eq!(estimate_guesses(&dictionary(0, 7, 4), &password), 4.0);
        assert_eq!(estimate_guesses(&dictionary(0, 3, 4), &password), 50.0);
        assert_eq!(estimate_guesses(&dictionary(0, 0, 4), &password), 10.0);
    }

    #[test]
    fn search_covers_gaps_with_bruteforce() {
        let password = chars("0password1");
        let analysis = most_guessable_match_sequence(&password, vec![dictionary(1, 8, 4)]);
        let spans: Vec<_> = analysis.sequence.iter().map(|m| (m.i, m.j, m.pattern == Pattern::Bruteforce)).collect();
        assert_eq!(spans, [(0, 0, true), (1, 8, false), (9, 9, true)]);
        // 3! * 11 * 50 * 11 + 10000^2
        assert_eq!(analysis.guesses, 6.0 * 11.0 * 50.0 * 11.0 + 1e8);
    }

    #[test]
    fn search_prefers_fewer_guesses_over_more_matches() {
        let password = chars("password");
        let matches = vec![dictionary(0, 3, 2), dictionary(0, 7, 4), dictionary(4, 7, 3)];
        let analysis = most_guessable_match_sequence(&password, matches);
        // 1! * 4 + 10000^0
        assert_eq!(analysis.guesses, 5.0);
        assert_eq!(analysis.sequence, [Match { guesses: 4.0, ..dictionary(0, 7, 4) }]);
    }

    #[test]
    fn empty_password_needs_one_guess() {
        let analysis = most_guessable_match_sequence(&[], Vec::new());
        assert_eq!(analysis.guesses, 1.0);
        assert!(analysis.sequence.is_empty());
    }
}
