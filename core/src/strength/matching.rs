//! The matchers: every way a part of the password could have been produced by a guessing model.
//!
//! Each matcher reports spans `i..=j` in `char` indices. zxcvbn's `omnimatch` concatenates the
//! matchers' results and sorts them by position; the stable sort here keeps its tie order.

use super::{date, keyboard, l33t, scoring};
use crate::dictionaries::{self, RankedDictionary};

/// A part `i..=j` of the analysed password and the model that explains it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Match {
    pub(super) i: usize,
    pub(super) j: usize,
    pub(super) pattern: Pattern,
    /// The guesses this match needs in its password, set by scoring.
    pub(super) guesses: f64,
}

impl Match {
    pub(super) fn new(i: usize, j: usize, pattern: Pattern) -> Self {
        Self { i, j, pattern, guesses: 0.0 }
    }

    pub(super) fn len(&self) -> usize {
        self.j + 1 - self.i
    }
}

/// zxcvbn's match patterns, with the fields its scoring and feedback read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Pattern {
    /// A word from a ranked dictionary, maybe reversed or with l33t substitutions.
    Dictionary {
        dictionary: &'static str,
        rank: u32,
        reversed: bool,
        /// The `(l33t character, letter)` substitutions used; empty for a plain word.
        sub: Vec<(char, char)>,
    },
    /// A chain of adjacent keys.
    Spatial { keypad: bool, turns: usize, shifted_count: usize },
    /// A base string repeated `repeat_count` times.
    Repeat { base_len: usize, base_guesses: f64, repeat_count: usize },
    /// Characters at a constant code point distance, such as `abc` or `9753`.
    Sequence { ascending: bool },
    /// zxcvbn's `recent_year` regex.
    RecentYear { year: i32 },
    /// A day, month and year, with or without separators.
    Date { year: i32, separator: bool },
    /// Anything else, at ten guesses per character (zxcvbn's bruteforce cardinality).
    Bruteforce,
}

/// A dictionary the matchers look words up in.
#[derive(Debug, Clone, Copy)]
pub(super) enum Dictionary<'a> {
    Ranked(&'static RankedDictionary),
    /// The caller's `user_inputs`, lowercased, ranked by position, and the longest one's length.
    UserInputs(&'a [String], usize),
}

/// No built-in dictionary word is longer than this many characters (the longest has 33; a test
/// checks the lists), so longer substrings are not looked up.
const MAX_WORD_CHARS: usize = 40;

impl Dictionary<'_> {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Ranked(dictionary) => dictionary.name(),
            Self::UserInputs(..) => "user_inputs",
        }
    }

    /// The rank of `word`, which is `len` characters long.
    pub(super) fn rank(&self, word: &str, len: usize) -> Option<u32> {
        if len > self.max_chars() {
            return None;
        }
        match self {
            Self::Ranked(dictionary) => dictionary.rank(word),
            Self::UserInputs(words, _) => words.iter().position(|w| w == word).map(|i| i as u32 + 1),
        }
    }

    fn max_chars(&self) -> usize {
        match self {
            Self::Ranked(_) => MAX_WORD_CHARS,
            Self::UserInputs(_, max_chars) => *max_chars,
        }
    }
}

/// The length in characters of the longest word any of `dictionaries` may hold.
pub(super) fn max_word_chars(dictionaries: &[Dictionary]) -> usize {
    dictionaries.iter().map(Dictionary::max_chars).max().unwrap_or(0)
}

/// The compiled-in dictionaries followed by the user inputs, when there are any.
pub(super) fn dictionaries(user_inputs: &[String]) -> Vec<Dictionary<'_>> {
    let mut all: Vec<_> = dictionaries::all().iter().map(Dictionary::Ranked).collect();
    if !user_inputs.is_empty() {
        let max_chars = user_inputs.iter().map(|input| input.chars().count()).max().unwrap_or(0);
        all.push(Dictionary::UserInputs(user_inputs, max_chars));
    }
    all
}

/// Lowercases one character, keeping it when its lowercase form is several characters, so that
/// indices into the lowercased password stay those of the password.
pub(super) fn lowercase(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Runs every matcher over `chars` and returns the matches sorted by `(i, j)`.
pub(super) fn omnimatch(chars: &[char], dictionaries: &[Dictionary]) -> Vec<Match> {
    let lower: Vec<char> = chars.iter().copied().map(lowercase).collect();
    let mut matches = Vec::new();
    dictionary_match(&lower, dictionaries, &mut matches);
    reverse_dictionary_match(&lower, dictionaries, &mut matches);
    l33t::l33t_match(&lower, dictionaries, &mut matches);
    keyboard::spatial_match(chars, &mut matches);
    repeat_match(chars, dictionaries, &mut matches);
    sequence_match(chars, &mut matches);
    recent_year_match(chars, &mut matches);
    date::date_match(chars, &mut matches);
    matches.sort_by_key(|m| (m.i, m.j));
    matches
}

/// Calls `found(i, j, dictionary, rank)` for every substring of `lower` at least `min_len`
/// characters long that a dictionary holds.
fn lookup_substrings(
    lower: &[char],
    min_len: usize,
    dictionaries: &[Dictionary],
    mut found: impl FnMut(usize, usize, &Dictionary, u32),
) {
    let max_len = max_word_chars(dictionaries);
    let mut word = String::new();
    for i in 0..lower.len() {
        word.clear();
        for (j, &c) in lower.iter().enumerate().skip(i).take(max_len) {
            word.push(c);
            let len = j + 1 - i;
            if len < min_len {
                continue;
            }
            for dictionary in dictionaries {
                if let Some(rank) = dictionary.rank(&word, len) {
                    found(i, j, dictionary, rank);
                }
            }
        }
    }
}

fn dictionary_match(lower: &[char], dictionaries: &[Dictionary], out: &mut Vec<Match>) {
    lookup_substrings(lower, 1, dictionaries, |i, j, dictionary, rank| {
        let pattern = Pattern::Dictionary { dictionary: dictionary.name(), rank, reversed: false, sub: Vec::new() };
        out.push(Match::new(i, j, pattern));
    });
}

fn reverse_dictionary_match(lower: &[char], dictionaries: &[Dictionary], out: &mut Vec<Match>) {
    let reversed: Vec<char> = lower.iter().rev().copied().collect();
    let last = lower.len().saturating_sub(1);
    // A reversed single character is the plain match at twice the guesses, which never wins, so
    // zxcvbn's lookup of it is skipped.
    lookup_substrings(&reversed, 2, dictionaries, |i, j, dictionary, rank| {
        let pattern = Pattern::Dictionary { dictionary: dictionary.name(), rank, reversed: true, sub: Vec::new() };
        out.push(Match::new(last - j, last - i, pattern));
    });
}

/// How many times `chars[start..start + len]` occurs back to back from `start`.
fn copies(chars: &[char], start: usize, len: usize) -> usize {
    let base = &chars[start..start + len];
    chars[start..].chunks_exact(len).take_while(|chunk| *chunk == base).count()
}

/// The `(base length, copies)` that zxcvbn's `/(.+)\1+/` (greedy) or `/(.+?)\1+/` (lazy) finds at
/// `start`, if any.
fn repeat_at(chars: &[char], start: usize, greedy: bool) -> Option<(usize, usize)> {
    let lengths = 1..=(chars.len() - start) / 2;
    let found = |len: usize| Some((len, copies(chars, start, len))).filter(|&(_, count)| count >= 2);
    if greedy {
        lengths.rev().find_map(found)
    } else {
        lengths.into_iter().find_map(found)
    }
}

/// zxcvbn's repeat matcher: at the first position where something repeats, take the longer of the
/// greedy and lazy regex matches, and score its shortest base string recursively.
fn repeat_match(chars: &[char], dictionaries: &[Dictionary], out: &mut Vec<Match>) {
    let mut from = 0;
    while from < chars.len() {
        let Some((start, (lazy_len, lazy_count))) =
            (from..chars.len()).find_map(|s| Some(s).zip(repeat_at(chars, s, false)))
        else {
            break;
        };
        let (greedy_len, greedy_count) = repeat_at(chars, start, true).unwrap_or((lazy_len, lazy_count));
        let (span, base_len) = if greedy_len * greedy_count > lazy_len * lazy_count {
            // The greedy base may itself repeat (`aabaab` in `aabaabaabaab`): find its period.
            let span = greedy_len * greedy_count;
            let period = (1..span).find(|&p| span % p == 0 && copies(chars, start, p) * p >= span).unwrap_or(span);
            (span, period)
        } else {
            (lazy_len * lazy_count, lazy_len)
        };
        let base = &chars[start..start + base_len];
        let base_analysis = scoring::most_guessable_match_sequence(base, omnimatch(base, dictionaries));
        let pattern = Pattern::Repeat { base_len, base_guesses: base_analysis.guesses, repeat_count: span / base_len };
        out.push(Match::new(start, start + span - 1, pattern));
        from = start + span;
    }
}

/// zxcvbn's sequence matcher: runs of equal code point differences of at most 5.
fn sequence_match(chars: &[char], out: &mut Vec<Match>) {
    const MAX_DELTA: i64 = 5;
    if chars.len() < 2 {
        return;
    }
    let delta = |k: usize| i64::from(u32::from(chars[k])) - i64::from(u32::from(chars[k - 1]));
    let mut push = |i: usize, j: usize, delta: i64| {
        if (j - i > 1 || delta.abs() == 1) && (1..=MAX_DELTA).contains(&delta.abs()) {
            out.push(Match::new(i, j, Pattern::Sequence { ascending: delta > 0 }));
        }
    };
    let mut i = 0;
    let mut last_delta = delta(1);
    for k in 2..chars.len() {
        let delta = delta(k);
        if delta != last_delta {
            push(i, k - 1, last_delta);
            i = k - 1;
            last_delta = delta;
        }
    }
    push(i, chars.len() - 1, last_delta);
}

/// zxcvbn's `recent_year` regex, `19\d\d|200\d|201\d`, extended with `202\d`: non-overlapping,
/// leftmost first.
fn recent_year_match(chars: &[char], out: &mut Vec<Match>) {
    let mut start = 0;
    while start + 4 <= chars.len() {
        match parse_digits(&chars[start..start + 4]).filter(|year| (1900..=2029).contains(year)) {
            Some(year) => {
                out.push(Match::new(start, start + 3, Pattern::RecentYear { year }));
                start += 4;
            }
            None => start += 1,
        }
    }
}

/// The value of a run of ASCII digits (JavaScript's `\d`), or `None` if any character is not one.
pub(super) fn parse_digits(chars: &[char]) -> Option<i32> {
    chars.iter().try_fold(0i32, |n, c| {
        let digit = c.to_digit(10).filter(|_| c.is_ascii_digit())?;
        n.checked_mul(10)?.checked_add(i32::try_from(digit).ok()?)
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn spans(matches: &[Match], keep: impl Fn(&Pattern) -> bool) -> Vec<(usize, usize)> {
        matches.iter().filter(|m| keep(&m.pattern)).map(|m| (m.i, m.j)).collect()
    }

    #[test]
    fn dictionary_matches_every_listed_substring() {
        let mut out = Vec::new();
        dictionary_match(&chars("password"), &dictionaries(&[]), &mut out);
        let pass = out.iter().find(|m| (m.i, m.j) == (0, 3)).map(|m| &m.pattern);
        assert!(matches!(pass, Some(Pattern::Dictionary { dictionary: "passwords", .. })));
        assert!(out.iter().any(|m| (m.i, m.j) == (0, 7)));
    }

    #[test]
    fn reversed_words_map_back_to_their_position() {
        let mut out = Vec::new();
        reverse_dictionary_match(&chars("xdrowssap"), &dictionaries(&[]), &mut out);
        let found = out.iter().find(|m| (m.i, m.j) == (1, 8));
        assert!(matches!(found.map(|m| &m.pattern), Some(Pattern::Dictionary { reversed: true, rank: 4, .. })));
    }

    #[test]
    fn user_inputs_rank_by_position() {
        let inputs = vec!["zorbulon".to_string(), "quixtar".to_string()];
        let dictionaries = dictionaries(&inputs);
        let user = dictionaries.last().map(|d| (d.name(), d.rank("quixtar", 7)));
        assert_eq!(user, Some(("user_inputs", Some(2))));
    }

    #[test]
    fn repeats_pick_the_shortest_base() {
        let find = |s: &str| {
            let mut out = Vec::new();
            repeat_match(&chars(s), &dictionaries(&[]), &mut out);
            out.iter()
                .map(|m| match m.pattern {
                    Pattern::Repeat { base_len, repeat_count, .. } => (m.i, m.j, base_len, repeat_count),
                    _ => unreachable!(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(find("aaaaa"), [(0, 4, 1, 5)]);
        assert_eq!(find("xabcabcabcy"), [(1, 9, 3, 3)]);
        assert_eq!(find("aabaabaabaab"), [(0, 11, 3, 4)]);
        assert_eq!(find("zzqwqw"), [(0, 1, 1, 2), (2, 5, 2, 2)]);
        assert!(find("abcdef").is_empty());
    }

    #[test]
    fn sequences_follow_zxcvbns_example() {
        let mut out = Vec::new();
        sequence_match(&chars("abcdb975zy"), &mut out);
        assert_eq!(spans(&out, |_| true), [(0, 3), (5, 7), (8, 9)]);
        assert_eq!(out[1].pattern, Pattern::Sequence { ascending: false });
        let mut none = Vec::new();
        sequence_match(&chars("a"), &mut none);
        sequence_match(&chars("aaa"), &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn recent_years_do_not_overlap() {
        let mut out = Vec::new();
        recent_year_match(&chars("1991202418991"), &mut out);
        assert_eq!(spans(&out, |_| true), [(0, 3), (4, 7)]);
        assert_eq!(out[1].pattern, Pattern::RecentYear { year: 2024 });
    }

    #[test]
    fn no_listed_word_is_longer_than_max_word_chars() {
        let lists = [
            include_str!("../../data/passwords.txt"),
            include_str!("../../data/english.txt"),
            include_str!("../../data/female_names.txt"),
            include_str!("../../data/male_names.txt"),
            include_str!("../../data/surnames.txt"),
            include_str!("../../data/us_tv_and_film.txt"),
        ];
        let longest = lists.iter().flat_map(|list| list.lines()).map(|w| w.chars().count()).max();
        assert!(longest.is_some_and(|len| len <= MAX_WORD_CHARS), "{longest:?}");
        assert_eq!(lists.len(), dictionaries::all().len(), "a list was added: check it here");
    }

    #[test]
    fn parse_digits_reads_ascii_digits_only() {
        assert_eq!(parse_digits(&chars("0917")), Some(917));
        assert_eq!(parse_digits(&chars("١٢")), None);
        assert_eq!(parse_digits(&chars("12a")), None);
        assert_eq!(parse_digits(&chars("99999999999")), None);
    }

    #[test]
    fn lowercase_keeps_indices() {
        assert_eq!(lowercase('Q'), 'q');
        assert_eq!(lowercase('É'), 'é');
        // 'İ' lowercases to two characters, so it is compared as is.
        assert_eq!(lowercase('İ'), 'İ');
    }
}
