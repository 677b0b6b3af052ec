//! Time-based one-time passwords (RFC 6238), `otpauth://` URIs and their QR codes.
//!
//! The HMAC and truncation come from `totp-rs`; this module adds Latchkey's rules on top: a window
//! of steps tried oldest first, replay protection through the last accepted step, and strict code
//! parsing. Nothing here reads the clock: callers pass `time` in Unix seconds.
//!
//! ```
//! use latchkey_core::totp::{code_at, verify, TotpParams, TotpSecret};
//!
//! let secret = TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
//! let params = TotpParams::default();
//! let code = code_at(&secret, &params, 59);
//! assert_eq!(code, "287082");
//! // Store the matched step and pass it back next time, so the same code cannot be used twice.
//! let step = verify(&secret, &params, &code, 60, 1, None)?;
//! assert!(verify(&secret, &params, &code, 60, 1, Some(step)).is_err());
//! # Ok::<(), latchkey_core::totp::TotpError>(())
//! ```

mod error;
mod otpauth;
mod qr;
mod secret;

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;

pub use error::TotpError;
pub use otpauth::{OtpauthUri, MAX_URI_LEN};
pub use qr::qr_svg;
pub use secret::TotpSecret;

/// Longest code input looked at; anything longer is malformed without further work.
const MAX_CODE_INPUT: usize = 64;

/// The HMAC hash function behind the codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "&'static str", try_from = "String"))]
pub enum Algorithm {
    /// HMAC-SHA1: the default, and the only one every authenticator app honours.
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    /// The text form used in `otpauth://` URIs: `"SHA1"`, `"SHA256"` or `"SHA512"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    fn to_totp_rs(self) -> totp_rs::Algorithm {
        match self {
            Self::Sha1 => totp_rs::Algorithm::SHA1,
            Self::Sha256 => totp_rs::Algorithm::SHA256,
            Self::Sha512 => totp_rs::Algorithm::SHA512,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = TotpError;

    /// Parses `SHA1`, `SHA256` or `SHA512` in any case.
    fn from_str(text: &str) -> Result<Self, TotpError> {
        [Self::Sha1, Self::Sha256, Self::Sha512]
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(text))
            .ok_or(TotpError::UnknownAlgorithm)
    }
}

impl From<Algorithm> for &'static str {
    fn from(algorithm: Algorithm) -> Self {
        algorithm.as_str()
    }
}

impl TryFrom<String> for Algorithm {
    type Error = TotpError;

    fn try_from(text: String) -> Result<Self, TotpError> {
        text.parse()
    }
}

/// How codes are made: algorithm, number of digits (6 or 8) and period in seconds (at least 1).
///
/// Always valid: build it with [`TotpParams::new`] or [`TotpParams::default`] (SHA1, 6 digits,
/// 30 seconds, what every authenticator app supports). With the `serde` feature it reads and
/// writes `{"algorithm": "SHA1", "digits": 6, "period": 30}`, missing fields taking the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawParams"))]
pub struct TotpParams {
    algorithm: Algorithm,
    digits: u8,
    period: u64,
}

impl TotpParams {
    /// Checks and combines the parameters.
    ///
    /// # Errors
    /// [`TotpError::InvalidDigits`] unless `digits` is 6 or 8; [`TotpError::InvalidPeriod`] for a
    /// period of 0.
    pub fn new(algorithm: Algorithm, digits: u8, period: u64) -> Result<Self, TotpError> {
        if digits != 6 && digits != 8 {
            return Err(TotpError::InvalidDigits);
        }
        if period == 0 {
            return Err(TotpError::InvalidPeriod);
        }
        Ok(Self { algorithm, digits, period })
    }

    /// The HMAC hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of digits in a code: 6 or 8.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The length of a time step in seconds.
    pub fn period(&self) -> u64 {
        self.period
    }
}

impl Default for TotpParams {
    fn default() -> Self {
        Self { algorithm: Algorithm::Sha1, digits: 6, period: 30 }
    }
}

/// What `TotpParams` deserializes through, so that invalid values never become a `TotpParams`.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(default)]
struct RawParams {
    algorithm: Algorithm,
    digits: u8,
    period: u64,
}

#[cfg(feature = "serde")]
impl Default for RawParams {
    fn default() -> Self {
        let TotpParams { algorithm, digits, period } = TotpParams::default();
        Self { algorithm, digits, period }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<RawParams> for TotpParams {
    type Error = TotpError;

    fn try_from(raw: RawParams) -> Result<Self, TotpError> {
        Self::new(raw.algorithm, raw.digits, raw.period)
    }
}

/// A code generator that takes the time step itself as its input.
///
/// totp-rs divides the time it is given by its own step; with a step of 1 that input is the RFC 4226
/// counter, so steps near `u64::MAX` never have to be multiplied back into seconds.
fn step_generator(secret: &TotpSecret, params: &TotpParams) -> totp_rs::TOTP {
    let digits = usize::from(params.digits);
    totp_rs::TOTP::new_unchecked(params.algorithm.to_totp_rs(), digits, 0, 1, secret.as_bytes().to_vec())
}

/// The code for Unix time `time` (seconds), zero-padded to `params.digits()` digits.
pub fn code_at(secret: &TotpSecret, params: &TotpParams, time: u64) -> String {
    step_generator(secret, params).generate(time / params.period)
}

/// Checks `code` against the steps `t - window ..= t + window` around `t = time / period`.
///
/// Steps are tried oldest first, as django-otp does, each compared in constant time. A step at or
/// before `last_step` is never accepted, so pass the step this returned last time to stop a code
/// being used twice. The returned step minus `time / period` is the drift of the user's clock.
///
/// # Errors
/// [`TotpError::MalformedCode`] unless `code`, without ASCII spaces, is exactly `digits` ASCII
/// digits; [`TotpError::Replayed`] when the code matches only already used steps;
/// [`TotpError::InvalidCode`] when it matches none.
pub fn verify(
    secret: &TotpSecret,
    params: &TotpParams,
    code: &str,
    time: u64,
    window: u8,
    last_step: Option<u64>,
) -> Result<u64, TotpError> {
    let code = normalize_code(code, params.digits)?;
    let generator = step_generator(secret, params);
    let now = time / params.period;
    let first = now.saturating_sub(u64::from(window));
    let last = now.saturating_add(u64::from(window));
    let mut matched = None;
    let mut replayed = false;
    // Every step is computed and compared, so the time taken says nothing about which one matched.
    for step in first..=last {
        let is_match: bool = generator.generate(step).as_bytes().ct_eq(code.as_bytes()).into();
        if !is_match {
            continue;
        }
        if last_step.is_some_and(|used| step <= used) {
            replayed = true;
        } else if matched.is_none() {
            matched = Some(step);
        }
    }
    match matched {
        Some(step) => Ok(step),
        None if replayed => Err(TotpError::Replayed),
        None => Err(TotpError::InvalidCode),
    }
}

/// Removes ASCII spaces ("123 456") and checks that exactly `digits` ASCII digits remain.
fn normalize_code(code: &str, digits: u8) -> Result<String, TotpError> {
    let malformed = TotpError::MalformedCode { digits };
    if code.len() > MAX_CODE_INPUT {
        return Err(malformed);
    }
    let compact: String = code.chars().filter(|c| *c != ' ').collect();
    if compact.len() != usize::from(digits) || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed);
    }
    Ok(compact)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    /// RFC 6238 Appendix B, T = 0x23523EC, shortened to 6 digits: 07081804 -> 081804.
    const T: u64 = 1_111_111_109;
    const STEP: u64 = T / 30;

    #[test]
    fn codes_are_zero_padded() {
        assert_eq!(code_at(&rfc_secret(), &TotpParams::default(), T), "081804");
        let eight = TotpParams::new(Algorithm::Sha1, 8, 30).unwrap();
        assert_eq!(code_at(&rfc_secret(), &eight, T), "07081804");
    }

    #[test]
    fn accepts_one_step_of_drift_each_way() {
        let params = TotpParams::default();
        let early = code_at(&rfc_secret(), &params, T - 30);
        let late = code_at(&rfc_secret(), &params, T + 30);
        assert_eq!(verify(&rfc_secret(), &params, &early, T, 1, None), Ok(STEP - 1));
        assert_eq!(verify(&rfc_secret(), &params, &late, T, 1, None), Ok(STEP + 1));
        assert_eq!(verify(&rfc_secret(), &params, &late, T, 0, None), Err(TotpError::InvalidCode));
    }

    #[test]
    fn window_edges_are_inclusive() {
        let params = TotpParams::default();
        for offset in [-2i64, 2] {
            let at = T.checked_add_signed(offset * 30).unwrap();
            let code = code_at(&rfc_secret(), &params, at);
            assert_eq!(verify(&rfc_secret(), &params, &code, T, 2, None), Ok(at / 30));
            assert_eq!(verify(&rfc_secret(), &params, &code, T, 1, None), Err(TotpError::InvalidCode));
        }
        // The first and last second of the current step both count as "now".
        let code = code_at(&rfc_secret(), &params, STEP * 30);
        assert_eq!(verify(&rfc_secret(), &params, &code, STEP * 30 + 29, 0, None), Ok(STEP));
    }

    #[test]
    fn refuses_replays_and_older_steps() {
        let params = TotpParams::default();
        let code = code_at(&rfc_secret(), &params, T);
        let step = verify(&rfc_secret(), &params, &code, T, 1, None).unwrap();
        assert_eq!(verify(&rfc_secret(), &params, &code, T, 1, Some(step)), Err(TotpError::Replayed));
        assert_eq!(verify(&rfc_secret(), &params, &code, T + 30, 1, Some(step)), Err(TotpError::Replayed));
        let older = code_at(&rfc_secret(), &params, T - 30);
        assert_eq!(verify(&rfc_secret(), &params, &older, T, 1, Some(step)), Err(TotpError::Replayed));
        let next = code_at(&rfc_secret(), &params, T + 30);
        assert_eq!(verify(&rfc_secret(), &params, &next, T, 1, Some(step)), Ok(step + 1));
    }

    #[test]
    fn supports_sha256_and_sha512_with_eight_digits() {
        // RFC 6238 Appendix B at t = 59, with the 32- and 64-byte seeds of its reference code.
        let seed32 = TotpSecret::from_bytes(b"12345678901234567890123456789012").unwrap();
        let seed64 = TotpSecret::from_bytes(&b"1234567890".repeat(7)[..64]).unwrap();
        let sha256 = TotpParams::new(Algorithm::Sha256, 8, 30).unwrap();
        let sha512 = TotpParams::new(Algorithm::Sha512, 8, 30).unwrap();
        assert_eq!(code_at(&seed32, &sha256, 59), "46119246");
        assert_eq!(code_at(&seed64, &sha512, 59), "90693936");
        assert_eq!(verify(&seed64, &sha512, "9069 3936", 59, 0, None), Ok(1));
    }

    #[test]
    fn malformed_codes_are_told_apart_from_wrong_ones() {
        let params = TotpParams::default();
        let malformed = Err(TotpError::MalformedCode { digits: 6 });
        let long = "1".repeat(100);
        for code in ["", "12345", "1234567", "12a456", "+12345", "12345\t6", "１２３４５６", long.as_str()] {
            assert_eq!(verify(&rfc_secret(), &params, code, T, 1, None), malformed, "{code:?}");
        }
        assert_eq!(verify(&rfc_secret(), &params, " 081 804 ", T, 0, None), Ok(STEP));
        let wrong = if code_at(&rfc_secret(), &params, T) == "000000" { "000001" } else { "000000" };
        assert_eq!(verify(&rfc_secret(), &params, wrong, T, 0, None), Err(TotpError::InvalidCode));
        let eight = TotpParams::new(Algorithm::Sha1, 8, 30).unwrap();
        let code = code_at(&rfc_secret(), &params, T);
        assert_eq!(verify(&rfc_secret(), &eight, &code, T, 1, None), Err(TotpError::MalformedCode { digits: 8 }));
    }

    #[test]
    fn step_arithmetic_does_not_overflow() {
        let every_second = TotpParams::new(Algorithm::Sha1, 6, 1).unwrap();
        let code = code_at(&rfc_secret(), &every_second, u64::MAX);
        assert_eq!(verify(&rfc_secret(), &every_second, &code, u64::MAX, 255, None), Ok(u64::MAX));
        assert_eq!(verify(&rfc_secret(), &every_second, &code, u64::MAX - 1, 255, None), Ok(u64::MAX));
        let code = code_at(&rfc_secret(), &TotpParams::default(), 0);
        assert_eq!(verify(&rfc_secret(), &TotpParams::default(), &code, 10, 255, None), Ok(0));
        let huge_period = TotpParams::new(Algorithm::Sha1, 6, u64::MAX).unwrap();
        assert_eq!(code_at(&rfc_secret(), &huge_period, u64::MAX).len(), 6);
    }

    #[test]
    fn params_refuse_unsupported_values() {
        assert_eq!(TotpParams::new(Algorithm::Sha1, 7, 30), Err(TotpError::InvalidDigits));
        assert_eq!(TotpParams::new(Algorithm::Sha1, 6, 0), Err(TotpError::InvalidPeriod));
        assert_eq!(TotpParams::default(), TotpParams::new(Algorithm::Sha1, 6, 30).unwrap());
    }

    #[test]
    fn algorithm_names_parse_in_any_case() {
        assert_eq!("sha256".parse::<Algorithm>(), Ok(Algorithm::Sha256));
        assert_eq!("Sha512".parse::<Algorithm>(), Ok(Algorithm::Sha512));
        assert_eq!(Algorithm::Sha1.to_string(), "SHA1");
        assert_eq!("MD5".parse::<Algorithm>(), Err(TotpError::UnknownAlgorithm));
        assert_eq!("SHA-1".parse::<Algorithm>(), Err(TotpError::UnknownAlgorithm));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn params_serialize_with_the_algorithm_as_text() {
        let params = TotpParams::new(Algorithm::Sha256, 8, 60).unwrap();
        let json = serde_json::to_string(&params).unwrap();
        assert_eq!(json, r#"{"algorithm":"SHA256","digits":8,"period":60}"#);
        assert_eq!(serde_json::from_str::<TotpParams>(&json).unwrap(), params);
        assert_eq!(serde_json::from_str::<TotpParams>("{}").unwrap(), TotpParams::default());
        assert!(serde_json::from_str::<TotpParams>(r#"{"digits":7}"#).is_err());
        assert!(serde_json::from_str::<TotpParams>(r#"{"period":0}"#).is_err());
        assert!(serde_json::from_str::<TotpParams>(r#"{"algorithm":"MD5"}"#).is_err());
    }
}
