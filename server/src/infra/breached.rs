//! Breached passwords: how often a range API speaking Have I Been Pwned's protocol has seen a
//! password (docs/security.md#breached-passwords). Only the first 5 hex digits of the password's
//! SHA-1 leave the server (`GET {base}/range/{first5}`, k-anonymity: about a thousand hashes share
//! them); the answer lists the other 35 digits of every breached hash with that start and how often
//! each was seen (`SUFFIX:COUNT` lines). With `Add-Padding: true` the service pads every answer to
//! a similar size with entries counted 0, so that its size says nothing of the prefix; those are
//! dropped here.
//!
//! Answers are kept per prefix for an hour, within a bound (ranges and hashes), so that checking
//! the same password again (the live check, then the registration) asks nothing. What to do with a
//! count, or with a failure, is the flows' decision (`crate::flows::passwords`).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use sha1::{Digest, Sha1};
use url::Url;

use crate::infra::outbound::{Http, HttpError};

/// How long one lookup may take in all; past it the check has failed.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// How long a fetched range is kept, in seconds.
pub const KEEP_SECONDS: i64 = 3600;
/// The most ranges kept at once.
pub const MAX_RANGES: usize = 4096;
/// The most breached hashes kept at once, over all ranges (24 bytes each: about 6 MB). A padded
/// range of Have I Been Pwned holds about a thousand.
pub const MAX_HASHES: usize = 250_000;

/// `LATCHKEY_BREACHED_PASSWORDS`: off, or the range API's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreachedPasswords {
    /// No check (the default).
    Off,
    /// The base URL (http or https, without credentials, query or fragment, no trailing slash);
    /// ranges are at `{base}/range/{first5}`.
    Range(String),
}

impl FromStr for BreachedPasswords {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "off" {
            return Ok(Self::Off);
        }
        let url = Url::parse(text).map_err(|e| {
            format!("`{text}`: expected `off` or a range API's base URL, as https://api.pwnedpasswords.com ({e})")
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!("`{text}`: the range API's URL must be http or https"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("`{text}`: the range API's URL takes no credentials, query or fragment"));
        }
        Ok(Self::Range(url.as_str().trim_end_matches('/').to_owned()))
    }
}

/// Why a lookup gave no count.
#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    /// The service could not be reached, took longer than [`TIMEOUT`], or refused the address.
    #[error("the range API cannot be reached: {0}")]
    Unreachable(String),
    /// The service answered with another status than 200.
    #[error("the range API answered HTTP {0}")]
    Status(u16),
    /// The answer is not `SUFFIX:COUNT` lines.
    #[error("the range API's answer is not a list of hash suffixes and counts")]
    Malformed,
}

/// A range: the breached hashes (whole SHA-1s) of one prefix, sorted, with their counts.
type Range = Arc<[([u8; 20], u32)]>;

/// The range API's client, its kept ranges and its failures. One per server, in the state.
#[derive(Default)]
pub struct RangeApi {
    /// Built at the first lookup: a server with the check off builds none.
    http: OnceLock<Result<Http, String>>,
    cache: Mutex<Cache>,
    failures: AtomicU64,
}

impl std::fmt::Debug for RangeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeApi").field("failures", &self.failures()).finish_non_exhaustive()
    }
}

impl RangeApi {
    /// How many times the range API at `base` has seen `password` (0: never), from the kept range
    /// of its prefix when one is fresh at `now` (Unix seconds), else asked.
    ///
    /// # Errors
    /// [`BreachError`] when the service fails; nothing is kept then.
    pub async fn count(&self, base: &str, password: &str, now: i64) -> Result<u64, BreachError> {
        let hash: [u8; 20] = Sha1::digest(password.as_bytes()).into();
        let prefix = prefix_of(&hash);
        let kept = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(prefix, now);
        let range = match kept {
            Some(range) => range,
            None => {
                let range = self.fetch(base, prefix).await?;
                self.cache.lock().unwrap_or_else(PoisonError::into_inner).insert(prefix, range.clone(), now);
                range
            }
        };
        Ok(range.binary_search_by(|(h, _)| h.cmp(&hash)).map_or(0, |at| u64::from(range[at].1)))
    }

    /// Asks the service for the range of `prefix`, padded.
    async fn fetch(&self, base: &str, prefix: u32) -> Result<Range, BreachError> {
        let http = self
            .http
            .get_or_init(|| Http::new(crate::infra::outbound::Reach::Any, TIMEOUT))
            .as_ref()
            .map_err(|e| BreachError::Unreachable(e.clone()))?;
        let url = format!("{base}/range/{prefix:05X}");
        let answer = http.get_with(&url, &[("Add-Padding", "true")]).await.map_err(unreachable)?;
        if answer.status.as_u16() != 200 {
            return Err(BreachError::Status(answer.status.as_u16()));
        }
        parse_range(prefix, &answer.body).ok_or(BreachError::Malformed)
    }

    /// Counts a failed check (`latchkey_breach_check_failures_total`).
    pub fn count_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Checks that failed since the start (the password was accepted each time).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// The failure, without the URL (it names the prefix) that transport errors carry.
fn unreachable(error: HttpError) -> BreachError {
    BreachError::Unreachable(match error {
        HttpError::Transport(e) => e.without_url().to_string(),
        HttpError::Refused(_) => "the address is refused".to_owned(),
        HttpError::TooLarge => error.to_string(),
    })
}

/// The first 20 bits of a hash: its 5 hex digits.
fn prefix_of(hash: &[u8; 20]) -> u32 {
    (u32::from(hash[0]) << 12) | (u32::from(hash[1]) << 4) | (u32::from(hash[2]) >> 4)
}

/// The hashes of a range answer that were seen at least once, sorted; `None` when a line is not
/// `SUFFIX:COUNT` (35 hex digits, a decimal count). Padding entries (count 0) are dropped.
fn parse_range(prefix: u32, body: &[u8]) -> Option<Range> {
    let text = std::str::from_utf8(body).ok()?;
    let mut seen = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (suffix, count) = line.split_once(':')?;
        let count: u64 = count.trim().parse().ok()?;
        let hash = whole_hash(prefix, suffix)?;
        if count > 0 {
            seen.push((hash, u32::try_from(count).unwrap_or(u32::MAX)));
        }
    }
    seen.sort_unstable_by_key(|(hash, _)| *hash);
    Some(seen.into())
}

/// The SHA-1 whose first 5 hex digits are `prefix` and last 35 are `suffix`.
fn whole_hash(prefix: u32, suffix: &str) -> Option<[u8; 20]> {
    if suffix.len() != 35 {
        return None;
    }
    let digits = format!("{prefix:05X}{suffix}");
    let mut hash = [0u8; 20];
    for (byte, pair) in hash.iter_mut().zip(digits.as_bytes().chunks(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high * 16 + low).ok()?;
    }
    Some(hash)
}

/// Ranges kept by prefix, with when each was fetched; at most `max_ranges` of them and
/// `max_hashes` hashes in all, the oldest going first.
#[derive(Debug)]
struct Cache {
    ranges: HashMap<u32, (i64, Range)>,
    hashes: usize,
    max_ranges: usize,
    max_hashes: usize,
}

impl Default for Cache {
    fn default() -> Self {
        Self::bounded(MAX_RANGES, MAX_HASHES)
    }
}

impl Cache {
    fn bounded(max_ranges: usize, max_hashes: usize) -> Self {
        Self { ranges: HashMap::new(), hashes: 0, max_ranges, max_hashes }
    }

    /// The range of `prefix`, if it was fetched less than [`KEEP_SECONDS`] before `now`.
    fn get(&self, prefix: u32, now: i64) -> Option<Range> {
        let (fetched, range) = self.ranges.get(&prefix)?;
        (now >= *fetched && now - *fetched < KEEP_SECONDS).then(|| range.clone())
    }

    /// Keeps `range`, dropping the oldest ranges while a bound would be passed. A range larger
    /// than the whole bound is not kept.
    fn insert(&mut self, prefix: u32, range: Range, now: i64) {
        if let Some((_, old)) = self.ranges.remove(&prefix) {
            self.hashes -= old.len();
        }
        if range.len() > self.max_hashes {
            return;
        }
        while self.ranges.len() >= self.max_ranges || self.hashes + range.len() > self.max_hashes {
            let Some(oldest) = self.ranges.iter().min_by_key(|(_, (at, _))| *at).map(|(p, _)| *p) else { break };
            if let Some((_, old)) = self.ranges.remove(&oldest) {
                self.hashes -= old.len();
            }
        }
        self.hashes += range.len();
        self.ranges.insert(prefix, (now, range));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(n: usize) -> Range {
        (0..n).map(|i| ([u8::try_from(i % 256).unwrap(); 20], 1)).collect::<Vec<_>>().into()
    }

    #[test]
    fn the_setting_is_off_or_a_base_url() {
        assert_eq!("off".parse::<BreachedPasswords>().unwrap(), BreachedPasswords::Off);
        assert_eq!(
            "https://api.pwnedpasswords.com/".parse::<BreachedPasswords>().unwrap(),
            BreachedPasswords::Range("https://api.pwnedpasswords.com".into())
        );
        assert_eq!(
            "http://10.0.0.5:8080/pwned".parse::<BreachedPasswords>().unwrap(),
            BreachedPasswords::Range("http://10.0.0.5:8080/pwned".into())
        );
        for bad in ["on", "ftp://mirror.example", "https://u:p@mirror.example", "https://m.example/?k=1", ""] {
            assert!(bad.parse::<BreachedPasswords>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_range_keeps_the_hashes_seen_and_drops_the_padding() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8.
        let body = b"1E4C9B93F3F0682250B6CF8331B7EE68FD8:52256179\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n\
                     00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2\r\n";
        let range = parse_range(0x5BAA6, body).unwrap();
        assert_eq!(range.len(), 2, "the padding entry is dropped");
        let hash: [u8; 20] = Sha1::digest(b"password").into();
        assert_eq!(prefix_of(&hash), 0x5BAA6);
        let at = range.binary_search_by(|(h, _)| h.cmp(&hash)).unwrap();
        assert_eq!(range[at].1, 52_256_179);
        assert!(parse_range(0x5BAA6, b"").unwrap().is_empty());
        for bad in
            [&b"1E4C9B93F3F0682250B6CF8331B7EE68FD8"[..], b"1E4C:3", b"1E4C9B93F3F0682250B6CF8331B7EE68FDX:1", b"\xff"]
        {
            assert!(parse_range(0x5BAA6, bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn kept_ranges_expire() {
        let mut cache = Cache::default();
        cache.insert(1, range(3), 1000);
        assert!(cache.get(1, 1000 + KEEP_SECONDS - 1).is_some());
        assert!(cache.get(1, 1000 + KEEP_SECONDS).is_none());
        assert!(cache.get(1, 999).is_none(), "a clock gone back does not keep a range forever");
        assert!(cache.get(2, 1000).is_none());
    }

    #[test]
    fn the_cache_is_bounded_in_ranges_and_in_hashes() {
        let mut cache = Cache::bounded(3, 10);
        for prefix in 0..5 {
            cache.insert(prefix, range(1), i64::from(prefix));
        }
        assert_eq!(cache.ranges.len(), 3);
        assert!(cache.get(0, 10).is_none() && cache.get(1, 10).is_none(), "the oldest went first");
        assert!(cache.get(4, 10).is_some());
        // 9 more hashes: the oldest ranges go until they fit (3 + 9 > 10, then 2 + 9 > 10, then 1 + 9).
        cache.insert(9, range(9), 20);
        assert_eq!((cache.hashes, cache.ranges.len()), (10, 2));
        assert!(cache.get(4, 20).is_some() && cache.get(9, 20).is_some());
        cache.insert(9, range(4), 21);
        assert_eq!(cache.hashes, 5, "a range fetched again replaces the old one");
        cache.insert(7, range(11), 22);
        assert!(cache.get(7, 22).is_none(), "a range over the whole bound is not kept");
        assert_eq!(cache.hashes, 5);
    }
}
