//! `otpauth://totp/` URIs in the Google Authenticator Key URI format.

use std::borrow::Cow;
use std::fmt::Write;
use std::str::FromStr;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{Algorithm, TotpError, TotpParams, TotpSecret};

/// The longest URI [`OtpauthUri::parse`] reads and [`OtpauthUri::to_uri`] writes, in bytes.
pub const MAX_URI_LEN: usize = 2048;

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// An enrolment URI: what an authenticator app scans from the QR code.
///
/// With the `serde` feature it serializes as `{secret, issuer, account, params}`, the secret in
/// unpadded base32 and the algorithm in its text form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OtpauthUri {
    /// The shared key.
    pub secret: TotpSecret,
    /// Who issued the key, shown by the app above the account ("Example Co"). An empty issuer is
    /// treated as none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub issuer: Option<String>,
    /// The user's account name, usually a username or email address.
    pub account: String,
    /// Algorithm, digits and period.
    #[cfg_attr(feature = "serde", serde(default))]
    pub params: TotpParams,
}

impl OtpauthUri {
    /// Writes `otpauth://totp/ISSUER:ACCOUNT?secret=...&algorithm=...&digits=...&period=...&issuer=ISSUER`.
    ///
    /// The label is percent-encoded per RFC 3986 with a literal colon, the secret is unpadded
    /// base32, and algorithm, digits and period are always present, like django-otp's `config_url`.
    ///
    /// # Errors
    /// [`TotpError::ColonInName`] if the issuer or account contains a colon,
    /// [`TotpError::MissingAccount`] for an empty account, [`TotpError::UriTooLong`] past
    /// [`MAX_URI_LEN`] bytes.
    pub fn to_uri(&self) -> Result<String, TotpError> {
        let issuer = self.issuer.as_deref().filter(|issuer| !issuer.is_empty());
        if issuer.is_some_and(|issuer| issuer.contains(':')) || self.account.contains(':') {
            return Err(TotpError::ColonInName);
        }
        if self.account.is_empty() {
            return Err(TotpError::MissingAccount);
        }
        let mut uri = String::from("otpauth://totp/");
        if let Some(issuer) = issuer {
            uri.extend(utf8_percent_encode(issuer, COMPONENT));
            uri.push(':');
        }
        uri.extend(utf8_percent_encode(&self.account, COMPONENT));
        let params = &self.params;
        // Writing to a String cannot fail.
        let _ = write!(
            uri,
            "?secret={}&algorithm={}&digits={}&period={}",
            self.secret.to_base32(),
            params.algorithm(),
            params.digits(),
            params.period()
        );
        if let Some(issuer) = issuer {
            uri.push_str("&issuer=");
            uri.extend(utf8_percent_encode(issuer, COMPONENT));
        }
        if uri.len() > MAX_URI_LEN {
            return Err(TotpError::UriTooLong { max: MAX_URI_LEN });
        }
        Ok(uri)
    }

    /// Reads a TOTP Key URI, accepting what the format allows and common generators produce.
    ///
    /// The label's colon may be literal or `%3A` and spaces may precede the account. The issuer
    /// comes from the `issuer` parameter or else the label prefix. Missing `algorithm`, `digits` and
    /// `period` take the defaults SHA1, 6 and 30. In query values `+` means a space, as in HTML
    /// forms. Parameters Latchkey does not use (`image`, ...) are ignored.
    ///
    /// # Errors
    /// [`TotpError::UriTooLong`] past [`MAX_URI_LEN`] bytes; [`TotpError::NotOtpauthUri`] or
    /// [`TotpError::HotpNotSupported`] for another scheme or type; [`TotpError::MissingSecret`],
    /// the secret's own errors, [`TotpError::UnknownAlgorithm`], [`TotpError::InvalidDigits`],
    /// [`TotpError::InvalidPeriod`]; [`TotpError::IssuerMismatch`] when parameter and label prefix
    /// differ; [`TotpError::ColonInName`], [`TotpError::MissingAccount`],
    /// [`TotpError::DuplicateParameter`] and [`TotpError::InvalidPercentEncoding`].
    pub fn parse(uri: &str) -> Result<Self, TotpError> {
        if uri.len() > MAX_URI_LEN {
            return Err(TotpError::UriTooLong { max: MAX_URI_LEN });
        }
        let (scheme, rest) = uri.split_once("://").ok_or(TotpError::NotOtpauthUri)?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (kind, rest) = rest.split_once('/').ok_or(TotpError::NotOtpauthUri)?;
        if !scheme.eq_ignore_ascii_case("otpauth") {
            return Err(TotpError::NotOtpauthUri);
        }
        if kind.eq_ignore_ascii_case("hotp") {
            return Err(TotpError::HotpNotSupported);
        }
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(TotpError::NotOtpauthUri);
        }
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (label_issuer, account) = parse_label(label)?;
        let query = Query::parse(query)?;
        let secret = query.secret.filter(|secret| !secret.is_empty()).ok_or(TotpError::MissingSecret)?;
        let secret = TotpSecret::from_base32(&secret)?;
        let algorithm = query.algorithm.as_deref().map_or(Ok(Algorithm::Sha1), str::parse)?;
        let digits = match query.digits.as_deref() {
            Some(digits) => digits.parse().map_err(|_| TotpError::InvalidDigits)?,
            None => 6,
        };
        let period = match query.period.as_deref() {
            Some(period) => period.parse().map_err(|_| TotpError::InvalidPeriod)?,
            None => 30,
        };
        let params = TotpParams::new(algorithm, digits, period)?;
        let issuer = merge_issuer(label_issuer, query.issuer)?;
        Ok(Self { secret, issuer, account, params })
    }
}

impl FromStr for OtpauthUri {
    type Err = TotpError;

    fn from_str(uri: &str) -> Result<Self, TotpError> {
        Self::parse(uri)
    }
}

/// Splits the decoded label into the optional issuer prefix and the account.
fn parse_label(raw: &str) -> Result<(Option<String>, String), TotpError> {
    // Decoding first makes a literal ':' and "%3A" the same separator, as the format asks.
    let label = decode(raw, false)?;
    let (issuer, account) = match label.split_once(':') {
        Some((issuer, account)) => (Some(issuer), account.trim_start_matches(' ')),
        None => (None, label.as_str()),
    };
    if account.contains(':') {
        return Err(TotpError::ColonInName);
    }
    if account.is_empty() {
        return Err(TotpError::MissingAccount);
    }
    let issuer = issuer.filter(|issuer| !issuer.is_empty()).map(str::to_owned);
    Ok((issuer, account.to_owned()))
}

/// Picks the issuer from the parameter or the label prefix, refusing two different ones.
fn merge_issuer(from_label: Option<String>, from_parameter: Option<String>) -> Result<Option<String>, TotpError> {
    let from_parameter = from_parameter.filter(|issuer| !issuer.is_empty());
    if from_parameter.as_deref().is_some_and(|issuer| issuer.contains(':')) {
        return Err(TotpError::ColonInName);
    }
    match (from_label, from_parameter) {
        (Some(label), Some(parameter)) if label != parameter => Err(TotpError::IssuerMismatch),
        (from_label, from_parameter) => Ok(from_parameter.or(from_label)),
    }
}

/// The decoded query parameters Latchkey reads.
#[derive(Default)]
struct Query {
    secret: Option<String>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
}

impl Query {
    fn parse(query: &str) -> Result<Self, TotpError> {
        let mut parsed = Self::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, slot) = match key.to_ascii_lowercase().as_str() {
                "secret" => ("secret", &mut parsed.secret),
                "issuer" => ("issuer", &mut parsed.issuer),
                "algorithm" => ("algorithm", &mut parsed.algorithm),
                "digits" => ("digits", &mut parsed.digits),
                "period" => ("period", &mut parsed.period),
                _ => continue,
            };
            // Two secrets or issuers would let a scanner and Latchkey each pick a different one.
            if slot.is_some() {
                return Err(TotpError::DuplicateParameter { name });
            }
            *slot = Some(decode(value, true)?);
        }
        Ok(parsed)
    }
}

/// Percent-decodes one URI component, strictly: `percent_decode_str` would pass a stray `%`
/// through unchanged, which hides a broken URI instead of reporting it.
fn decode(text: &str, plus_is_space: bool) -> Result<String, TotpError> {
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        let escape = rest.get(at + 1..at + 3).ok_or(TotpError::InvalidPercentEncoding)?;
        if !escape.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TotpError::InvalidPercentEncoding);
        }
        rest = &rest[at + 3..];
    }
    let text = if plus_is_space { Cow::Owned(text.replace('+', " ")) } else { Cow::Borrowed(text) };
    let decoded = percent_decode_str(&text).decode_utf8().map_err(|_| TotpError::InvalidPercentEncoding)?;
    Ok(decoded.into_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn example() -> OtpauthUri {
        OtpauthUri {
            secret: TotpSecret::from_hex("3132333435363738393031323334353637383930").unwrap(),
            issuer: Some("Example Co".to_owned()),
            account: "alice@example.com".to_owned(),
            params: TotpParams::default(),
        }
    }

    #[test]
    fn builds_like_django_otp_with_a_literal_colon() {
        assert_eq!(
            example().to_uri().unwrap(),
            "otpauth://totp/Example%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &algorithm=SHA1&digits=6&period=30&issuer=Example%20Co"
        );
    }

    #[test]
    fn round_trips() {
        let mut uri = example();
        assert_eq!(OtpauthUri::parse(&uri.to_uri().unwrap()), Ok(uri.clone()));
        uri.issuer = None;
        uri.account = "bob smith/ü&?#=+%".to_owned();
        uri.params = TotpParams::new(Algorithm::Sha512, 8, 60).unwrap();
        uri.secret = TotpSecret::from_bytes(b"12345678901").unwrap();
        assert_eq!(OtpauthUri::parse(&uri.to_uri().unwrap()), Ok(uri));
    }

    #[test]
    fn refuses_to_build_ambiguous_labels() {
        let mut uri = example();
        uri.issuer = Some("Example: Co".to_owned());
        assert_eq!(uri.to_uri(), Err(TotpError::ColonInName));
        let mut uri = example();
        uri.account = "a:b".to_owned();
        assert_eq!(uri.to_uri(), Err(TotpError::ColonInName));
        uri.account = String::new();
        assert_eq!(uri.to_uri(), Err(TotpError::MissingAccount));
        uri.account = "x".repeat(MAX_URI_LEN);
        assert_eq!(uri.to_uri(), Err(TotpError::UriTooLong { max: MAX_URI_LEN }));
    }

    #[test]
    fn reads_the_issuer_from_either_place() {
        let base = "otpauth://totp/ACME%20Co:%20%20john?secret=JBSWY3DPEHPK3PXP";
        let uri = OtpauthUri::parse(base).unwrap();
        assert_eq!((uri.issuer.as_deref(), uri.account.as_str()), (Some("ACME Co"), "john"));
        let uri = OtpauthUri::parse("otpauth://totp/john?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co").unwrap();
        assert_eq!(uri.issuer.as_deref(), Some("ACME Co"));
        let uri = OtpauthUri::parse("otpauth://totp/john?secret=JBSWY3DPEHPK3PXP&issuer=").unwrap();
        assert_eq!(uri.issuer, None);
    }

    #[test]
    fn enforces_the_length_limit_before_decoding() {
        let uri = format!("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&image={}", "x".repeat(MAX_URI_LEN));
        assert_eq!(OtpauthUri::parse(&uri), Err(TotpError::UriTooLong { max: MAX_URI_LEN }));
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(decode("a%2", false), Err(TotpError::InvalidPercentEncoding));
        assert_eq!(decode("a%zz", false), Err(TotpError::InvalidPercentEncoding));
        assert_eq!(decode("%ff", false), Err(TotpError::InvalidPercentEncoding));
        assert_eq!(decode("%é1", false), Err(TotpError::InvalidPercentEncoding));
        assert_eq!(decode("a+b%2B%C3%BC", false).unwrap(), "a+b+ü");
        assert_eq!(decode("a+b%2B", true).unwrap(), "a b+");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serializes_with_text_secret_and_algorithm() {
        let json = serde_json::to_value(example()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "issuer": "Example Co",
                "account": "alice@example.com",
                "params": {"algorithm": "SHA1", "digits": 6, "period": 30},
            })
        );
        assert_eq!(serde_json::from_value::<OtpauthUri>(json).unwrap(), example());
    }
}
