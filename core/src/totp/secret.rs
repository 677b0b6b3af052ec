//! The shared TOTP secret and its text forms.

use std::fmt;

use crate::encoding;
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;

use super::TotpError;

/// RFC 4226 asks for at least 128 bits and recommends 160; 80 bits (16 base32 characters) is the
/// shortest secret authenticator apps commonly issue, so it is the floor for imported secrets.
const MIN_SECRET_BYTES: usize = 10;

/// 160 bits, the length RFC 4226 recommends and django-otp generates.
const GENERATED_SECRET_BYTES: usize = 20;

/// The key shared between the server and the authenticator app.
///
/// `Debug` prints `TotpSecret(..)` and equality is checked in constant time. With the `serde`
/// feature it serializes as unpadded base32, the form an `otpauth://` URI carries.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A fresh 160-bit secret drawn from `rng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = vec![0; GENERATED_SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Wraps raw key bytes, for example read from a database column.
    ///
    /// # Errors
    /// [`TotpError::SecretTooShort`] below 80 bits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(TotpError::SecretTooShort { bits: bytes.len() * 8 });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// Parses base32 as authenticator apps show it: any case, spaces anywhere, padding optional.
    ///
    /// Unused bits in the last character are ignored, as authenticator apps do, so secrets made of
    /// random base32 characters (say 26 of them) are accepted.
    ///
    /// # Errors
    /// [`TotpError::InvalidBase32Secret`] for characters outside `A-Z2-7`, `=` anywhere but at the
    /// end, or a length no byte string encodes to; [`TotpError::SecretTooShort`] below 80 bits.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        let mut compact: Vec<u8> = text.bytes().filter(|b| *b != b' ').map(|b| b.to_ascii_uppercase()).collect();
        while compact.last() == Some(&b'=') {
            compact.pop();
        }
        clear_trailing_bits(&mut compact);
        let bytes = encoding::base32_decode(&compact).map_err(|_| TotpError::InvalidBase32Secret)?;
        Self::from_bytes(&bytes)
    }

    /// Unpadded upper-case base32, as used in `otpauth://` URIs.
    pub fn to_base32(&self) -> String {
        encoding::base32(&self.0)
    }

    /// Parses hexadecimal in either case, the form django-otp stores in `TOTPDevice.key`.
    ///
    /// # Errors
    /// [`TotpError::InvalidHexSecret`] for anything but an even number of hex digits;
    /// [`TotpError::SecretTooShort`] below 80 bits.
    pub fn from_hex(text: &str) -> Result<Self, TotpError> {
        let bytes = encoding::hex_decode(text.as_bytes()).map_err(|_| TotpError::InvalidHexSecret)?;
        Self::from_bytes(&bytes)
    }

    /// Lower-case hexadecimal, the form django-otp stores.
    pub fn to_hex(&self) -> String {
        encoding::hex(&self.0)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Zeroes the bits of the last base32 character that encode no whole byte, so that strict decoding
/// accepts them, as authenticator apps do.
fn clear_trailing_bits(base32: &mut [u8]) {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let unused = (base32.len() * 5) % 8;
    if let Some(last) = base32.last_mut() {
        if let Some(value) = ALPHABET.iter().position(|c| c == last) {
            *last = ALPHABET[(value >> unused) << unused];
        }
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl PartialEq for TotpSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TotpSecret {}

#[cfg(feature = "serde")]
impl serde::Serialize for TotpSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base32())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for TotpSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_base32(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const RFC_ASCII: &[u8] = b"12345678901234567890";
    const RFC_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn generated_secrets_are_160_bits_and_differ() {
        let first = TotpSecret::generate(&mut rand_core::OsRng);
        let second = TotpSecret::generate(&mut rand_core::OsRng);
        assert_eq!(first.as_bytes().len(), 20);
        assert_ne!(first, second);
    }

    #[test]
    fn base32_round_trips_without_padding() {
        let secret = TotpSecret::from_bytes(RFC_ASCII).unwrap();
        assert_eq!(secret.to_base32(), RFC_BASE32);
        assert_eq!(TotpSecret::from_base32(RFC_BASE32).unwrap(), secret);
        // 11 bytes need padding in RFC 4648; the URI form omits it.
        let odd = TotpSecret::from_bytes(b"12345678901").unwrap();
        assert!(!odd.to_base32().contains('='));
        assert_eq!(TotpSecret::from_base32(&odd.to_base32()).unwrap(), odd);
    }

    #[test]
    fn base32_accepts_lower_case_spaces_and_padding() {
        let expected = TotpSecret::from_bytes(b"12345678901").unwrap();
        assert_eq!(TotpSecret::from_base32("gezd gnbv gy3t qojq ge").unwrap(), expected);
        assert_eq!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQGE======").unwrap(), expected);
    }

    #[test]
    fn base32_ignores_unused_trailing_bits() {
        // 26 random characters: the last one carries 2 unused bits.
        assert_eq!(TotpSecret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEH").unwrap().as_bytes().len(), 16);
    }

    #[test]
    fn base32_rejects_bad_characters_and_short_secrets() {
        assert_eq!(TotpSecret::from_base32("GEZDGNBVGY3TQOJ1"), Err(TotpError::InvalidBase32Secret));
        assert_eq!(TotpSecret::from_base32("GEZD=GNBVGY3TQOJQ"), Err(TotpError::InvalidBase32Secret));
        // 14 characters (6 modulo 8) is a length no byte string encodes to.
        assert_eq!(TotpSecret::from_base32("JBSWY3DPEHPK3P"), Err(TotpError::InvalidBase32Secret));
        assert_eq!(TotpSecret::from_base32("JBSWY3DPEHPK3PX"), Err(TotpError::SecretTooShort { bits: 72 }));
        assert_eq!(TotpSecret::from_base32(""), Err(TotpError::SecretTooShort { bits: 0 }));
        assert!(TotpSecret::from_base32("JBSWY3DPEHPK3PXP").is_ok());
    }

    #[test]
    fn hex_reads_django_otp_keys() {
        let secret = TotpSecret::from_hex("3132333435363738393031323334353637383930").unwrap();
        assert_eq!(secret.as_bytes(), RFC_ASCII);
        assert_eq!(secret.to_hex(), "3132333435363738393031323334353637383930");
        assert_eq!(TotpSecret::from_hex("ABCDEFABCDEFABCDEFAB").unwrap().to_hex(), "abcdefabcdefabcdefab");
        assert_eq!(TotpSecret::from_hex("313"), Err(TotpError::InvalidHexSecret));
        assert_eq!(TotpSecret::from_hex("zz323334353637383930"), Err(TotpError::InvalidHexSecret));
        assert_eq!(TotpSecret::from_hex("3132"), Err(TotpError::SecretTooShort { bits: 16 }));
    }

    #[test]
    fn debug_hides_the_key() {
        let secret = TotpSecret::from_bytes(RFC_ASCII).unwrap();
        assert_eq!(format!("{secret:?}"), "TotpSecret(..)");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serializes_as_base32() {
        let secret = TotpSecret::from_bytes(RFC_ASCII).unwrap();
        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(json, format!("\"{RFC_BASE32}\""));
        assert_eq!(serde_json::from_str::<TotpSecret>(&json).unwrap(), secret);
        assert!(serde_json::from_str::<TotpSecret>("\"not base32!\"").is_err());
    }
}
