//! Structural decoding: three segments, strict base64url, UTF-8 JSON objects. No signature check.

use serde_json::{Map, Value};

use super::{Segment, TokenError};

/// The longest token accepted, in bytes. simplejwt tokens are a few hundred bytes; the limit keeps
/// a hostile `Authorization` header from costing more than a small, fixed amount of work.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A token's header and claims, decoded but **not verified**: anyone can forge them.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Unverified {
    /// The JOSE header, e.g. `{"alg": "HS256", "typ": "JWT"}`.
    pub header: Map<String, Value>,
    /// The claims, e.g. `{"token_type": "access", "exp": ..., "user_id": "42", ...}`.
    pub claims: Map<String, Value>,
}

/// Splits a compact JWT and decodes its header and claims without checking the signature.
///
/// The token must be at most [`MAX_TOKEN_LEN`] bytes, have exactly three dot-separated segments,
/// each strict base64url without padding (the signature may be empty), and its header and claims
/// must be UTF-8 JSON objects. Use it to read `exp` or `user_id` in a client; never to authorize.
pub fn decode_unverified(jwt: &str) -> Result<Unverified, TokenError> {
    let parsed = Parsed::new(jwt)?;
    Ok(Unverified { header: parsed.header, claims: parsed.claims })
}

/// Seconds until the token's `exp`: `exp - now`, zero or negative once it has expired.
///
/// The signature is not checked. Fails with [`TokenError::NoExp`] when `exp` is absent or not a
/// JSON integer, and with the structural errors of [`decode_unverified`].
pub fn seconds_left(jwt: &str, now: i64) -> Result<i64, TokenError> {
    let token = decode_unverified(jwt)?;
    let exp = token.claims.get("exp").and_then(Value::as_i64).ok_or(TokenError::NoExp)?;
    Ok(exp.saturating_sub(now))
}

/// A structurally valid token, with what signature verification needs kept alongside.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    /// `header.claims`, the bytes the signature covers.
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    pub(super) signing_input: &'a str,
    /// The third segment, still base64url (known to decode).
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    pub(super) signature: &'a str,
    pub(super) header: Map<String, Value>,
    pub(super) claims: Map<String, Value>,
}

impl<'a> Parsed<'a> {
    pub(super) fn new(jwt: &'a str) -> Result<Self, TokenError> {
        if jwt.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong { len: jwt.len(), max: MAX_TOKEN_LEN });
        }
        let mut segments = jwt.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (segments.next(), segments.next(), segments.next(), segments.next())
        else {
            return Err(TokenError::SegmentCount { found: jwt.split('.').count() });
        };
        let header_json = base64url(header, Segment::Header)?;
        let claims_json = base64url(claims, Segment::Claims)?;
        base64url(signature, Segment::Signature)?;
        Ok(Parsed {
            signing_input: &jwt[..header.len() + 1 + claims.len()],
            signature,
            header: json_object(&header_json, Segment::Header)?,
            claims: json_object(&claims_json, Segment::Claims)?,
        })
    }
}

/// Strict base64url: no padding, no whitespace, no stray trailing bits.
fn base64url(segment: &str, which: Segment) -> Result<Vec<u8>, TokenError> {
    crate::encoding::base64url_decode(segment.as_bytes()).map_err(|_| TokenError::NotBase64(which))
}

fn json_object(bytes: &[u8], which: Segment) -> Result<Map<String, Value>, TokenError> {
    let text = std::str::from_utf8(bytes).map_err(|_| TokenError::NotUtf8(which))?;
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::NotJsonObject(which)),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn b64(text: &str) -> String {
        crate::encoding::base64url(text.as_bytes())
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    #[test]
    fn reads_header_and_claims() {
        let jwt = token(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"user_id":"7","exp":100}"#);
        let decoded = decode_unverified(&jwt).unwrap();
        assert_eq!(decoded.header["typ"], "JWT");
        assert_eq!(decoded.claims["user_id"], "7");
        assert_eq!(seconds_left(&jwt, 40).unwrap(), 60);
        assert_eq!(seconds_left(&jwt, 100).unwrap(), 0);
        assert_eq!(seconds_left(&jwt, 130).unwrap(), -30);
    }

    #[test]
    fn signing_input_is_the_first_two_segments() {
        let jwt = token("{}", "{}");
        let parsed = Parsed::new(&jwt).unwrap();
        assert_eq!(format!("{}.{}", parsed.signing_input, parsed.signature), jwt);
    }

    #[test]
    fn refuses_bad_structure() {
        let good = b64("{}");
        let cases = [
            (format!("{good}.{good}"), TokenError::SegmentCount { found: 2 }),
            (format!("{good}.{good}.c2ln.c2ln"), TokenError::SegmentCount { found: 4 }),
            (format!("{good}=.{good}.c2ln"), TokenError::NotBase64(Segment::Header)),
            (format!("{good}.{good}.c2l+"), TokenError::NotBase64(Segment::Signature)),
            (format!("{good}.{}.c2ln", b64("[1]")), TokenError::NotJsonObject(Segment::Claims)),
            (format!("{good}.{}.c2ln", crate::encoding::base64url(b"\xff{}")), TokenError::NotUtf8(Segment::Claims)),
        ];
        for (jwt, expected) in cases {
            assert_eq!(decode_unverified(&jwt), Err(expected), "{jwt}");
        }
    }

    #[test]
    fn refuses_long_input_before_decoding() {
        let jwt = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(decode_unverified(&jwt), Err(TokenError::TooLong { len: MAX_TOKEN_LEN + 1, max: MAX_TOKEN_LEN }));
    }

    #[test]
    fn seconds_left_needs_an_integer_exp() {
        for claims in [r#"{}"#, r#"{"exp":"100"}"#, r#"{"exp":100.5}"#] {
            assert_eq!(seconds_left(&token("{}", claims), 0), Err(TokenError::NoExp), "{claims}");
        }
    }
}
