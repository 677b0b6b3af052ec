//! Packs Django's common-password list (data/passwords.txt, most common first) compactly for the
//! browser bundle: the words sorted and front-coded (each word stored as the length of the prefix it
//! shares with the previous word, then the rest, then a newline), and beside them four bits per word,
//! its rank on a log scale (`round(RANK_STEPS_PER_DECADE * log10(rank))`, two per byte). Membership
//! stays exact; ranks, which only feed the strength estimate, are kept within a factor of 1.4. Gzip
//! then shrinks the list from about 80 KB to under 50 KB.

use std::fs;
use std::io;
use std::path::PathBuf;

/// Log-scale rank buckets per power of ten; Django's 19,640 ranks then fit in 0..=15.
const RANK_STEPS_PER_DECADE: f64 = 3.5;

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=data/passwords.txt");
    let text = fs::read_to_string("data/passwords.txt")?;
    let mut ranked: Vec<(&str, usize)> = Vec::new();
    for (i, word) in text.lines().filter(|w| !w.is_empty()).enumerate() {
        assert!(word.len() < 256 && !word.contains('\n'), "unexpected word {word:?}");
        ranked.push((word, i + 1));
    }
    ranked.sort_unstable();
    ranked.dedup_by(|a, b| a.0 == b.0);

    let mut words = Vec::new();
    let mut buckets = Vec::new();
    let mut previous: &[u8] = &[];
    for (word, rank) in ranked {
        let word = word.as_bytes();
        let shared = previous.iter().zip(word).take_while(|(a, b)| a == b).count().min(255);
        words.push(shared as u8);
        words.extend_from_slice(&word[shared..]);
        words.push(b'\n');
        let bucket = (RANK_STEPS_PER_DECADE * (rank as f64).log10()).round() as u8;
        assert!(bucket < 16, "rank {rank} does not fit four bits");
        buckets.push(bucket);
        previous = word;
    }
    // Two buckets per byte, the first word in the low nibble.
    let ranks: Vec<u8> = buckets.chunks(2).map(|pair| pair[0] | pair.get(1).map_or(0, |b| b << 4)).collect();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or_else(|| io::Error::other("OUT_DIR unset"))?);
    fs::write(out.join("passwords.words"), words)?;
    fs::write(out.join("passwords.ranks"), ranks)?;
    // The decoder needs the same scale: hand it over rather than writing the number twice.
    let meta = format!("/// Log-scale rank buckets per power of ten (see build.rs).\nconst RANK_STEPS_PER_DECADE: f64 = {RANK_STEPS_PER_DECADE:?};\n");
    fs::write(out.join("passwords_meta.rs"), meta)?;
    Ok(())
}
