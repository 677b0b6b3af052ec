//! Ranked word lists compiled into the crate (see `core/data/` and `scripts/gen-data.py`).
//!
//! Each list is in frequency order, so a word's 1-based rank is a guess count: the strength estimator
//! uses ranks, the password policy uses membership of the common-password list. The common-password
//! list is packed by `build.rs` (sorted, front-coded, ranks on a log scale) to keep the browser
//! bundle small; membership is exact.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The Fx hash (rustc's): a multiply-rotate hash, several times faster than the default SipHash on
/// the short keys here. SipHash's flooding resistance buys nothing for fixed, compiled-in keys, and
/// the strength estimator makes thousands of lookups per password.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A frequency-ordered dictionary: word (lowercase) to 1-based rank.
#[derive(Debug)]
pub struct RankedDictionary {
    name: &'static str,
    ranks: FastMap<Cow<'static, str>, u32>,
}

impl RankedDictionary {
    fn from_lines(name: &'static str, text: &'static str) -> Self {
        let mut ranks = FastMap::default();
        for (i, word) in text.lines().filter(|w| !w.is_empty()).enumerate() {
            // The first occurrence wins, as in a frequency list.
            ranks.entry(Cow::Borrowed(word)).or_insert(i as u32 + 1);
        }
        Self { name, ranks }
    }

    /// Unpacks `build.rs`'s front-coded words and their four-bit log-scale ranks.
    fn from_packed(name: &'static str, words: &'static [u8], ranks: &'static [u8]) -> Self {
        let mut map = FastMap::with_capacity_and_hasher(ranks.len() * 2, BuildHasherDefault::default());
        let mut previous: Vec<u8> = Vec::new();
        let mut rest = words;
        let buckets = ranks.iter().flat_map(|pair| [pair & 0x0f, pair >> 4]);
        for bucket in buckets {
            let Some((&shared, tail)) = rest.split_first() else { break };
            let end = tail.iter().position(|&b| b == b'\n').unwrap_or(tail.len());
            previous.truncate(usize::from(shared));
            previous.extend_from_slice(&tail[..end]);
            rest = tail.get(end + 1..).unwrap_or_default();
            if let Ok(word) = std::str::from_utf8(&previous) {
                let rank = 10f64.powf(f64::from(bucket) / RANK_STEPS_PER_DECADE).round() as u32;
                map.insert(Cow::Owned(word.to_owned()), rank.max(1));
            }
        }
        Self { name, ranks: map }
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

include!(concat!(env!("OUT_DIR"), "/passwords_meta.rs"));
const PASSWORD_WORDS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/passwords.words"));
const PASSWORD_RANKS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/passwords.ranks"));

const SOURCES: [(&str, &str); 5] = [
    ("english_wikipedia", include_str!("../data/english.txt")),
    ("female_names", include_str!("../data/female_names.txt")),
    ("male_names", include_str!("../data/male_names.txt")),
    ("surnames", include_str!("../data/surnames.txt")),
    ("us_tv_and_film", include_str!("../data/us_tv_and_film.txt")),
];

/// Every ranked dictionary, the common-password list first. Built once, on first use.
pub fn all() -> &'static [RankedDictionary] {
    static ALL: OnceLock<Vec<RankedDictionary>> = OnceLock::new();
    ALL.get_or_init(|| {
        let common = RankedDictionary::from_packed("passwords", PASSWORD_WORDS, PASSWORD_RANKS);
        std::iter::once(common)
            .chain(SOURCES.iter().map(|(name, text)| RankedDictionary::from_lines(name, text)))
            .collect()
    })
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
        // Every word of the source file survives the packing, with its rank within the bucket's
        // half-width on the log scale (a factor of 10^(0.5 / 3.5) = 1.39), plus rounding.
        let factor = 10f64.powf(0.5 / RANK_STEPS_PER_DECADE) + 1e-9;
        for (i, word) in include_str!("../data/passwords.txt").lines().enumerate() {
            let rank = common.rank(word).unwrap_or_else(|| panic!("{word:?} lost")) as f64;
            let exact = (i + 1) as f64;
            assert!(rank <= (exact * factor).round() && rank >= (exact / factor).round(), "{word}: {rank} vs {exact}");
        }
    }

    #[test]
    fn every_dictionary_is_loaded_and_lowercase() {
        for dict in all() {
            assert!(!dict.is_empty(), "{} is empty", dict.name());
            assert!(dict.ranks.keys().all(|w| *w == w.to_lowercase()), "{} has uppercase", dict.name());
        }
    }
}
