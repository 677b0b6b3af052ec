//! Ranked word lists compiled into the crate (see `core/data/` and `scripts/gen-data.py`).
//!
//! Each list is in frequency order, so a word's 1-based rank is a guess count: the strength estimator
//! uses ranks, the password policy uses membership of the common-password list.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A frequency-ordered dictionary: word (lowercase) to 1-based rank.
#[derive(Debug)]
pub struct RankedDictionary {
    name: &'static str,
    ranks: HashMap<&'static str, u32>,
}

impl RankedDictionary {
    fn from_lines(name: &'static str, text: &'static str) -> Self {
        let mut ranks = HashMap::new();
        for (i, word) in text.lines().filter(|w| !w.is_empty()).enumerate() {
            // The first occurrence wins, as in a frequency list.
            ranks.entry(word).or_insert(i as u32 + 1);
        }
        Self { name, ranks }
    }

    /// The dictionary's name, e.g. `"passwords"` or `"english_wikipedia"`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The 1-based rank of `word` (already lowercased), or `None` when it is not listed.
    pub fn rank(&self, word: &str) -> Option<u32> {
        self.ranks.get(word).copied()
    }

    /// How many words the dictionary holds.
    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    /// Whether the dictionary holds no word.
    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }
}

const SOURCES: [(&str, &str); 6] = [
    ("passwords", include_str!("../data/passwords.txt")),
    ("english_wikipedia", include_str!("../data/english.txt")),
    ("female_names", include_str!("../data/female_names.txt")),
    ("male_names", include_str!("../data/male_names.txt")),
    ("surnames", include_str!("../data/surnames.txt")),
    ("us_tv_and_film", include_str!("../data/us_tv_and_film.txt")),
];

/// Every ranked dictionary, the common-password list first. Built once, on first use.
pub fn all() -> &'static [RankedDictionary] {
    static ALL: OnceLock<Vec<RankedDictionary>> = OnceLock::new();
    ALL.get_or_init(|| SOURCES.iter().map(|(name, text)| RankedDictionary::from_lines(name, text)).collect())
}

/// Django 5.2's common-password list (19,640 entries, most common first).
pub fn common_passwords() -> &'static RankedDictionary {
    &all()[0]
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn common_list_is_djangos_in_frequency_order() {
        let common = common_passwords();
        assert_eq!(common.len(), 19_640);
        assert_eq!(common.rank("123456"), Some(1));
        assert_eq!(common.rank("password"), Some(4));
        assert_eq!(common.rank("correct horse battery staple"), None);
    }

    #[test]
    fn every_dictionary_is_loaded_and_lowercase() {
        for dict in all() {
            assert!(!dict.is_empty(), "{} is empty", dict.name());
            assert!(dict.ranks.keys().all(|w| *w == w.to_lowercase()), "{} has uppercase", dict.name());
        }
    }
}
