//! JSON Web Tokens in the shape djangorestframework-simplejwt issues and accepts.
//!
//! Everywhere (the browser build included): [`decode_unverified`] splits a token into its header and
//! claims without checking anything but its structure, and [`seconds_left`] tells how long it lives.
//! The browser uses them to schedule a refresh; it never trusts what they return.
//!
//! With the `jwt` feature, `Keys` signs [`Claims`] and verifies tokens the way simplejwt ≥ 5.5 and
//! PyJWT do (one allowed algorithm, `exp` expired at `exp <= now`, `iat`/`nbf` in the future refused,
//! `jti`, `token_type` and `user_id` required), and reports failures with simplejwt's own messages,
//! so a front-end written against Django REST framework keeps working unchanged. `KeyRing` holds a
//! current key and previous ones, for rotating keys without refusing tokens that are still valid.
//!
//! ```
//! use latchkey_core::token::{decode_unverified, seconds_left};
//!
//! // {"alg":"HS256","typ":"JWT"} . {"exp":1700000300} . (signature not checked here)
//! let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3MDAwMDAzMDB9.c2ln";
//! let token = decode_unverified(jwt)?;
//! assert_eq!(token.header["alg"], "HS256");
//! assert_eq!(seconds_left(jwt, 1_700_000_000)?, 300);
//! # Ok::<(), latchkey_core::token::TokenError>(())
//! ```

mod claims;
#[cfg(feature = "jwt")]
mod jwk;
#[cfg(feature = "jwt")]
mod keys;
#[cfg(feature = "jwt")]
mod ring;
mod session;
mod unverified;
#[cfg(feature = "jwt")]
mod validate;

pub use claims::{new_jti, Claims, TokenType};
#[cfg(feature = "jwt")]
pub use keys::{Algorithm, Keys};
#[cfg(feature = "jwt")]
pub use ring::KeyRing;
pub use session::{SessionClaims, SESSION_CLAIM_NAMES};
pub use unverified::{decode_unverified, seconds_left, Unverified, MAX_TOKEN_LEN};
#[cfg(feature = "jwt")]
pub use validate::Expectations;

/// One of the three dot-separated parts of a compact JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// The JOSE header, first.
    Header,
    /// The claims (payload), second.
    Claims,
    /// The signature, third.
    Signature,
}

impl Segment {
    /// The segment's name as used in error messages: `"header"`, `"claims"` or `"signature"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Segment::Header => "header",
            Segment::Claims => "claims",
            Segment::Signature => "signature",
        }
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token was refused, or why a key could not be used.
///
/// The first seven variants display exactly as simplejwt's `TokenError` messages (v5.5.x), so a
/// server can put `to_string()` into `{"detail": ..., "code": "token_not_valid"}` unchanged.
/// `Keys::verify` folds every structural problem into [`TokenError::Invalid`] as simplejwt does;
/// only [`decode_unverified`] and [`seconds_left`] report the precise structural variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The signature checks out but `exp <= now` (a token is already dead at its `exp` second).
    #[error("Token is expired")]
    Expired,
    /// Anything else wrong with a token being verified: malformed, bad signature, `alg` other than
    /// the configured one (including `none`), `iat` or `nbf` in the future, `iss`/`aud` mismatch, a
    /// registered claim of the wrong JSON type.
    #[error("Token is invalid")]
    Invalid,
    /// The `token_type` claim is not the expected one (a refresh token used as an access token).
    #[error("Token has wrong type")]
    WrongType,
    /// The signed token has no `jti` claim.
    #[error("Token has no id")]
    NoId,
    /// The signed token has no `token_type` claim.
    #[error("Token has no type")]
    NoType,
    /// The token has no integer `exp` claim (from `Keys::verify` when it is absent, from
    /// [`seconds_left`] when it is absent or not an integer).
    #[error("Token has no 'exp' claim")]
    NoExp,
    /// The signed token has no usable `user_id` claim (absent, empty, or neither a string nor an integer).
    #[error("Token contained no recognizable user identification")]
    NoUserId,
    /// The input is longer than [`MAX_TOKEN_LEN`] bytes; it is refused before any decoding.
    #[error("the token is {len} bytes long, more than the {max} bytes allowed")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The limit, [`MAX_TOKEN_LEN`].
        max: usize,
    },
    /// The input does not have exactly three dot-separated segments.
    #[error("a JWT has three dot-separated segments, this one has {found}")]
    SegmentCount {
        /// How many segments the input has.
        found: usize,
    },
    /// A segment is not strict base64url without padding (RFC 7515 §2).
    #[error("the {0} segment is not base64url without padding")]
    NotBase64(Segment),
    /// The decoded header or claims are not UTF-8 (RFC 8725 §3.7).
    #[error("the {0} segment is not UTF-8")]
    NotUtf8(Segment),
    /// The decoded header or claims are not a JSON object.
    #[error("the {0} segment is not a JSON object")]
    NotJsonObject(Segment),
    /// `Keys::hs256` was given an empty secret (PyJWT's message).
    #[error("HMAC key must not be empty.")]
    EmptySecret,
    /// `Keys::hs256` was given a PEM, SSH or JWK key as the secret; PyJWT refuses these because
    /// verifying with a public key as an HMAC secret is the RS256→HS256 confusion attack (RFC 8725 §2.1).
    #[error("The specified key is an asymmetric key or x509 certificate and should not be used as an HMAC secret.")]
    AsymmetricSecret,
    /// A PEM key could not be read as a key for the given algorithm (RSA: PKCS#1 or PKCS#8;
    /// EC P-256 and Ed25519: PKCS#8 `PRIVATE KEY` / SPKI `PUBLIC KEY`).
    #[error("the PEM key is not a usable {algorithm} key")]
    InvalidKey {
        /// The algorithm the key was meant for, e.g. `"ES256"`.
        algorithm: &'static str,
    },
    /// The public key does not verify what the private key signs.
    #[error("the public key does not belong to the private key")]
    KeyMismatch,
    /// `Keys::encode` on keys built with `Keys::verify_only`.
    #[error("these keys only verify tokens: no private key was given")]
    NoSigningKey,
    /// `Keys::encode` was given claims whose `extra` repeats a claim that `Claims` has as a field.
    #[error("the claim {0:?} is set both as a Claims field and in extra")]
    DuplicateClaim(String),
    /// The signing primitive failed (it does not for valid keys; reported rather than panicking).
    #[error("the token could not be signed")]
    SigningFailed,
}
