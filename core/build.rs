//! Packs Django's common-password list (data/passwords.txt, most common first) compactly for the
//! browser bundle: the words sorted and front-coded (each word stored as the length of the prefix it
//! shares with the previous word, then the rest, then a newline), and beside them one byte per word,
//! its rank on a log scale (`round(20 * log10(rank))`). Membership stays exact; ranks, which only feed
//! the strength estimate, keep three significant figures at worst. Gzip then shrinks the list from
//! about 80 KB to about 55 KB.

use std::fs;
use std::io;
use std::path::PathBuf;

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
    let mut ranks = Vec::new();
    let mut previous: &[u8] = &[];
    for (word, rank) in ranked {
        let word = word.as_bytes();
        let shared = previous.iter().zip(word).take_while(|(a, b)| a == b).count().min(255);
        words.push(shared as u8);
        words.extend_from_slice(&word[shared..]);
        words.push(b'\n');
        ranks.push((20.0 * (rank as f64).log10()).round() as u8);
        previous = word;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or_else(|| io::Error::other("OUT_DIR unset"))?);
    fs::write(out.join("passwords.words"), words)?;
    fs::write(out.join("passwords.ranks"), ranks)?;
    Ok(())
}
