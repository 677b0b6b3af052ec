//! zxcvbn's l33t matcher: dictionary words written with common substitutions, such as `p@ssw0rd`.

use std::collections::HashSet;

use super::matching::{max_word_chars, Dictionary, Match, Pattern};

/// zxcvbn's substitution table: each letter and the characters that may stand for it.
const L33T_TABLE: [(char, &str); 12] = [
    ('a', "4@"),
    ('b', "8"),
    ('c', "({[<"),
    ('e', "3"),
    ('g', "69"),
    ('i', "1!|"),
    ('l', "1|7"),
    ('o', "0"),
    ('s', "$5"),
    ('t', "+7"),
    ('x', "%"),
    ('z', "2"),
];

/// At most this many substitutions are tried. zxcvbn tries them all, which is up to 736 dictionary
/// passes for a password holding every l33t character; real passwords need a handful.
const MAX_SUBS: usize = 16;

/// At most this many translated substrings are looked up, which bounds the work on hostile input
/// (a long run of l33t characters) to a few times that of the plain dictionary matcher. Passwords
/// under 40 characters never reach it: 16 substitutions of their 820 substrings stay below.
const MAX_LOOKUPS: usize = 16 * 820;

/// zxcvbn's `enumerate_l33t_subs` over the table entries whose characters occur in `lower`.
///
/// Each substitution is a list of `(l33t character, letter)`. Letter by letter, every one of its
/// l33t characters extends each substitution so far; a character already taken by an earlier
/// letter instead yields both readings. So a letter gets one of its characters per substitution
/// (`$` and `5` never both read as `s`), which is zxcvbn's behaviour and kept for its scores.
fn enumerate_subs(lower: &[char]) -> Vec<Vec<(char, char)>> {
    let mut subs: Vec<Vec<(char, char)>> = vec![Vec::new()];
    for (letter, l33t_chars) in L33T_TABLE {
        let mut next = Vec::new();
        for l33t_char in l33t_chars.chars().filter(|c| lower.contains(c)) {
            for sub in &subs {
                let mut extended = sub.clone();
                if let Some(taken) = sub.iter().position(|&(c, _)| c == l33t_char) {
                    next.push(sub.clone());
                    extended.remove(taken);
                }
                extended.push((l33t_char, letter));
                next.push(extended);
            }
        }
        if !next.is_empty() {
            let mut seen = HashSet::new();
            next.retain(|sub| seen.insert(sub.clone()));
            subs = next;
        }
    }
    subs
}

/// The substitutions to try, and bit masks over the password's l33t characters that tell which
/// substitutions translate a given substring differently from all earlier ones.
struct Substitutions {
    subs: Vec<Vec<(char, char)>>,
    /// The password's l33t characters; a character's index is its bit in the masks.
    l33t_chars: Vec<char>,
    /// Per substitution: the characters it replaces.
    keys: Vec<u32>,
    /// Per substitution, per earlier one: the characters the two read differently.
    differs: Vec<Vec<u32>>,
}

impl Substitutions {
    fn new(lower: &[char]) -> Self {
        let subs: Vec<_> = enumerate_subs(lower).into_iter().take(MAX_SUBS).take_while(|sub| !sub.is_empty()).collect();
        let mut l33t_chars: Vec<char> = subs.iter().flatten().map(|&(c, _)| c).collect();
        l33t_chars.sort_unstable();
        l33t_chars.dedup();
        let mut this = Self { subs, l33t_chars, keys: Vec::new(), differs: Vec::new() };
        let mask =
            |test: &dyn Fn(char) -> bool| this.l33t_chars.iter().filter(|&&c| test(c)).fold(0, |m, &c| m | this.bit(c));
        let keys = this.subs.iter().map(|sub| mask(&|c| reading(sub, c).is_some())).collect();
        let differs = (this.subs.iter().enumerate())
            .map(|(s, sub)| {
                this.subs[..s].iter().map(|earlier| mask(&|c| reading(earlier, c) != reading(sub, c))).collect()
            })
            .collect();
        (this.keys, this.differs) = (keys, differs);
        this
    }

    fn bit(&self, c: char) -> u32 {
        self.l33t_chars.iter().position(|&l| l == c).map_or(0, |b| 1 << b)
    }

    /// Whether substitution `s` changes a substring holding the l33t characters `present`, and
    /// differently from every earlier substitution.
    fn is_new(&self, s: usize, present: u32) -> bool {
        self.keys[s] & present != 0 && self.differs[s].iter().all(|&d| d & present != 0)
    }
}

/// The letter `sub` reads `c` as, if it substitutes `c`.
fn reading(sub: &[(char, char)], c: char) -> Option<char> {
    sub.iter().find(|&&(l33t, _)| l33t == c).map(|&(_, letter)| letter)
}

/// zxcvbn's `l33t_match`: dictionary words in the password translated by each substitution,
/// reported only when they contain a substituted character and are longer than one character
/// (single characters such as `1` for `i` are noise).
///
/// zxcvbn runs a whole dictionary pass per substitution. Here all substitutions are walked
/// together, and a substring is looked up under a substitution only if no earlier one translates it
/// the same way: the matches zxcvbn would find twice are identical, so the result is unchanged.
pub(super) fn l33t_match(lower: &[char], dictionaries: &[Dictionary], out: &mut Vec<Match>) {
    let subs = Substitutions::new(lower);
    let translated: Vec<Vec<char>> =
        subs.subs.iter().map(|sub| lower.iter().map(|&c| reading(sub, c).unwrap_or(c)).collect()).collect();
    let mut words = vec![String::new(); subs.subs.len()];
    let mut budget = MAX_LOOKUPS;
    let max_len = max_word_chars(dictionaries);
    for i in 0..lower.len() {
        words.iter_mut().for_each(String::clear);
        let mut present = 0;
        for j in i..lower.len().min(i + max_len) {
            present |= subs.bit(lower[j]);
            for (word, chars) in words.iter_mut().zip(&translated) {
                word.push(chars[j]);
            }
            for s in (0..words.len()).filter(|&s| j > i && subs.is_new(s, present)) {
                let Some(left) = budget.checked_sub(1) else { return };
                budget = left;
                lookup(&subs.subs[s], &lower[i..=j], &words[s], dictionaries, |pattern| {
                    out.push(Match::new(i, j, pattern));
                });
            }
        }
    }
}

/// Looks `word`, the translation of `token`, up in every dictionary.
fn lookup(
    sub: &[(char, char)],
    token: &[char],
    word: &str,
    dictionaries: &[Dictionary],
    mut found: impl FnMut(Pattern),
) {
    for dictionary in dictionaries {
        if let Some(rank) = dictionary.rank(word, token.len()) {
            let mut used: Vec<_> = sub.iter().filter(|(l33t, _)| token.contains(l33t)).copied().collect();
            used.sort_unstable();
            found(Pattern::Dictionary { dictionary: dictionary.name(), rank, reversed: false, sub: used });
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::super::matching::dictionaries;
    use super::*;

    fn l33t(password: &str) -> Vec<Match> {
        let lower: Vec<char> = password.chars().collect();
        let mut out = Vec::new();
        l33t_match(&lower, &dictionaries(&[]), &mut out);
        out
    }

    fn subs(password: &str) -> Vec<Vec<(char, char)>> {
        enumerate_subs(&password.chars().collect::<Vec<_>>())
    }

    #[test]
    fn enumeration_follows_zxcvbn() {
        // The outputs of zxcvbn 4.4.2's enumerate_l33t_subs for the same characters.
        assert_eq!(subs("password"), [vec![]]);
        assert_eq!(subs("5hark$"), [vec![('$', 's')], vec![('5', 's')]]);
        assert_eq!(subs("m1ha!l"), [vec![('1', 'i')], vec![('1', 'l')], vec![('!', 'i'), ('1', 'l')]]);
        let expected =
            [vec![('4', 'a'), ('7', 'l'), ('+', 't')], vec![('4', 'a'), ('7', 'l')], vec![('4', 'a'), ('7', 't')]];
        assert_eq!(subs("+47yan4"), expected);
        assert_eq!(subs("1|7!+").len(), 23);
        assert_eq!(subs("4@8({[<3691!|170$5+7%2").len(), 736);
    }

    #[test]
    fn finds_substituted_common_passwords() {
        let found = l33t("p@ssw0rd");
        let password = found.iter().find(|m| (m.i, m.j) == (0, 7)).map(|m| &m.pattern);
        let expected = Pattern::Dictionary {
            dictionary: "passwords",
            rank: 4,
            reversed: false,
            sub: vec![('0', 'o'), ('@', 'a')],
        };
        assert_eq!(password, Some(&expected));
    }

    #[test]
    fn ambiguous_characters_are_tried_both_ways() {
        // '1' reads as 'i' in "1ce" and as 'l' in "1ove".
        let read_as = |password, letter| {
            l33t(password)
                .iter()
                .any(|m| matches!(&m.pattern, Pattern::Dictionary { sub, .. } if sub == &[('1', letter)]))
        };
        assert!(read_as("1ce", 'i'));
        assert!(read_as("1ove", 'l'));
    }

    #[test]
    fn each_distinct_translation_is_reported_once() {
        // "1|7!+" has 23 substitutions, but "p@ss" only one translation.
        let found = l33t("p@ss1|7!+");
        let passwords = |m: &&Match| matches!(m.pattern, Pattern::Dictionary { dictionary: "passwords", .. });
        assert_eq!(found.iter().filter(|m| (m.i, m.j) == (0, 3)).filter(passwords).count(), 1);
    }

    #[test]
    fn words_without_substitutions_are_left_to_the_plain_matcher() {
        assert!(l33t("password").is_empty());
        assert!(l33t("4").is_empty());
        assert!(l33t("").is_empty());
    }
}
