//! The one error type of the TOTP module.

use thiserror::Error;

/// Why a TOTP secret, code, parameter set, `otpauth://` URI or QR code was refused.
///
/// The messages are written for the person at the keyboard: the npm package turns them into
/// JavaScript `Error` messages unchanged. [`TotpError::code`] gives a stable identifier for programs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The code, once ASCII spaces are removed, is not exactly `digits` ASCII digits.
    #[error("the code must be exactly {digits} digits")]
    MalformedCode {
        /// How many digits the code should have had.
        digits: u8,
    },
    /// The code is well formed but matches no time step inside the window.
    #[error("the code is incorrect or has expired")]
    InvalidCode,
    /// The code matches only time steps at or before the last step already accepted, so it was used before.
    #[error("this code has already been used; wait for the next one")]
    Replayed,
    /// The secret holds a character outside the base32 alphabet, misplaced padding, or an impossible length.
    #[error("the secret is not valid base32 (letters A-Z and digits 2-7)")]
    InvalidBase32Secret,
    /// The secret is not an even number of hexadecimal digits.
    #[error("the secret is not valid hexadecimal")]
    InvalidHexSecret,
    /// The secret decodes to fewer than 80 bits.
    #[error("the secret is {bits} bits long, but at least 80 bits are required")]
    SecretTooShort {
        /// The length of the decoded secret in bits.
        bits: usize,
    },
    /// The number of digits is not 6 or 8.
    #[error("a code must have 6 or 8 digits")]
    InvalidDigits,
    /// The period is zero or not a whole number of seconds.
    #[error("the period must be a whole number of seconds, at least 1")]
    InvalidPeriod,
    /// The algorithm is not SHA1, SHA256 or SHA512.
    #[error("the algorithm must be SHA1, SHA256 or SHA512")]
    UnknownAlgorithm,
    /// The URI is longer than the limit, before any decoding.
    #[error("the URI is longer than {max} bytes")]
    UriTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// The text does not start with `otpauth://totp/` (or `otpauth://hotp/`).
    #[error("expected a URI of the form otpauth://totp/LABEL?secret=...")]
    NotOtpauthUri,
    /// The URI is of type `hotp`: counter-based codes are not supported.
    #[error("counter-based (HOTP) codes are not supported; use a time-based (TOTP) URI")]
    HotpNotSupported,
    /// The URI has no `secret` parameter, or an empty one.
    #[error("the URI has no secret")]
    MissingSecret,
    /// The account name, the part of the label after the issuer, is empty.
    #[error("the account name is empty")]
    MissingAccount,
    /// The issuer or the account name contains a colon, which the Key URI format forbids.
    #[error("an issuer or account name cannot contain a colon")]
    ColonInName,
    /// The `issuer` parameter and the issuer prefix of the label are both present and differ.
    #[error("the issuer parameter and the issuer in the label differ")]
    IssuerMismatch,
    /// A parameter Latchkey reads (`secret`, `issuer`, `algorithm`, `digits`, `period`) appears twice.
    #[error("the URI has more than one {name} parameter")]
    DuplicateParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// A `%` is not followed by two hexadecimal digits, or the decoded bytes are not UTF-8.
    #[error("the URI contains an invalid percent-encoded sequence")]
    InvalidPercentEncoding,
    /// The text does not fit in the largest QR code at medium error correction.
    #[error("the text is too long to fit in a QR code")]
    QrDataTooLong,
}

impl TotpError {
    /// A stable, machine-readable identifier, such as `"totp_replayed"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedCode { .. } => "totp_malformed_code",
            Self::InvalidCode => "totp_invalid_code",
            Self::Replayed => "totp_replayed",
            Self::InvalidBase32Secret => "totp_invalid_base32_secret",
            Self::InvalidHexSecret => "totp_invalid_hex_secret",
            Self::SecretTooShort { .. } => "totp_secret_too_short",
            Self::InvalidDigits => "totp_invalid_digits",
            Self::InvalidPeriod => "totp_invalid_period",
            Self::UnknownAlgorithm => "totp_unknown_algorithm",
            Self::UriTooLong { .. } => "otpauth_too_long",
            Self::NotOtpauthUri => "otpauth_not_totp_uri",
            Self::HotpNotSupported => "otpauth_hotp_not_supported",
            Self::MissingSecret => "otpauth_missing_secret",
            Self::MissingAccount => "otpauth_missing_account",
            Self::ColonInName => "otpauth_colon_in_name",
            Self::IssuerMismatch => "otpauth_issuer_mismatch",
            Self::DuplicateParameter { .. } => "otpauth_duplicate_parameter",
            Self::InvalidPercentEncoding => "otpauth_invalid_percent_encoding",
            Self::QrDataTooLong => "qr_data_too_long",
        }
    }
}
