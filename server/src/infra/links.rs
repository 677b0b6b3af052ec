//! Signed, expiring tokens for the links Latchkey e-mails (password reset, e-mail verification),
//! in the manner of Django's `PasswordResetTokenGenerator`: nothing is stored. A token is
//! `<issued, base 36>-<HMAC-SHA256, first 128 bits in hex>` over its purpose, the user, the time it
//! was issued and a *state* string the caller derives from the user's row. When that state changes
//! (the password hash after a reset, the verified flag after a verification), every token issued
//! before dies with it: that is what makes them single-use.
//!
//! The key is derived (HKDF-SHA256) from `LATCHKEY_SECRET_KEY`, distinct from the JWT key; links
//! signed under a secret key in `LATCHKEY_PREVIOUS_SECRET_KEYS` still check. The `uid`
//! of a link is the user's id in unpadded base64url, as Django writes it (`MQ` for user 1).

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Hex characters of the MAC in a token (128 bits).
const MAC_HEX: usize = 32;
/// Tokens dated this far in the future still count (clock differences between nodes).
const CLOCK_SLACK: i64 = 60;

/// What a token may be used for; a token for one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `POST /api/auth/password/reset/confirm/`.
    PasswordReset,
    /// `POST /api/auth/email/verify/`.
    VerifyEmail,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::PasswordReset => b"password_reset",
            Self::VerifyEmail => b"verify_email",
        }
    }
}

/// Makes and checks link tokens.
pub struct LinkSigner {
    key: [u8; 32],
    /// Keys of previous secret keys (a rotation): links they signed still check.
    previous: Vec<[u8; 32]>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner")
    }
}

impl LinkSigner {
    /// A signer keyed from the server's secret key.
    pub fn new(secret_key: &str) -> Self {
        Self { key: link_key(secret_key), previous: Vec::new() }
    }

    /// The same signer, also accepting links signed under the previous secret keys (links are
    /// always made under the current one): rotating the secret key leaves e-mailed links working.
    pub fn with_previous(mut self, previous: &[String]) -> Self {
        self.previous = previous.iter().map(|secret| link_key(secret)).collect();
        self
    }

    /// A token for `purpose` and `user_id` in `state`, issued at `issued` (Unix seconds).
    pub fn token(&self, purpose: Purpose, user_id: i64, state: &str, issued: i64) -> String {
        format!("{}-{}", base36(issued), self.mac(purpose, user_id, state, issued))
    }

    /// Whether `token` was made by [`token`](Self::token) for these values, at most `max_age`
    /// seconds before `now`. Compared in constant time.
    pub fn check(&self, purpose: Purpose, user_id: i64, state: &str, token: &str, now: i64, max_age: i64) -> bool {
        let Some((issued, mac)) = token.split_once('-') else { return false };
        let Some(issued) = parse_base36(issued) else { return false };
        if issued > now + CLOCK_SLACK || now - issued > max_age {
            return false;
        }
        let keys = std::iter::once(&self.key).chain(&self.previous);
        // Every key is tried, so the time taken does not say which one matched.
        keys.fold(false, |found, key| {
            let expected = mac_under(key, purpose, user_id, state, issued);
            found | bool::from(expected.as_bytes().ct_eq(mac.as_bytes()))
        })
    }

    fn mac(&self, purpose: Purpose, user_id: i64, state: &str, issued: i64) -> String {
        mac_under(&self.key, purpose, user_id, state, issued)
    }
}

/// The link key of a secret key (HKDF-SHA256, distinct from every other use of the secret).
fn link_key(secret_key: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"latchkey links"), secret_key.as_bytes())
        .expand(b"signed links v1", &mut key)
        .unwrap_or_else(|_| unreachable!("HKDF output of 32 bytes"));
    key
}

fn mac_under(key: &[u8; 32], purpose: Purpose, user_id: i64, state: &str, issued: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes keys of any length");
    };
    for part in [purpose.label(), user_id.to_string().as_bytes(), state.as_bytes(), issued.to_string().as_bytes()] {
        // Length-prefixed, so that no two different tuples give the same bytes.
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    let hex = latchkey_core::encoding::hex(&mac.finalize().into_bytes());
    hex[..MAC_HEX].to_owned()
}

/// The `uid` of a link: the user id's decimal digits in unpadded base64url.
pub fn uid(user_id: i64) -> String {
    latchkey_core::encoding::base64url(user_id.to_string().as_bytes())
}

/// The user id of a link's `uid`, or `None`.
pub fn parse_uid(uid: &str) -> Option<i64> {
    let bytes = latchkey_core::encoding::unbase64url(uid)?;
    let digits = std::str::from_utf8(&bytes).ok()?;
    digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
}

fn base36(mut n: i64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n <= 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[usize::try_from(n % 36).unwrap_or(0)]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn parse_base36(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 {
        return None;
    }
    text.bytes().try_fold(0i64, |n, b| {
        let digit = char::from(b).to_digit(36).filter(|_| !b.is_ascii_uppercase())?;
        n.checked_mul(36)?.checked_add(i64::from(digit))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_for_their_own_values_only() {
        let signer = LinkSigner::new("secret");
        let token = signer.token(Purpose::PasswordReset, 7, "hash|0", 1_700_000_000);
        let check = |purpose, user, state, token: &str, now| signer.check(purpose, user, state, token, now, 3600);
        assert!(check(Purpose::PasswordReset, 7, "hash|0", &token, 1_700_000_100));
        assert!(!check(Purpose::VerifyEmail, 7, "hash|0", &token, 1_700_000_100), "another purpose");
        assert!(!check(Purpose::PasswordReset, 8, "hash|0", &token, 1_700_000_100), "another user");
        assert!(!check(Purpose::PasswordReset, 7, "hash2|0", &token, 1_700_000_100), "the state changed");
        assert!(!check(Purpose::PasswordReset, 7, "hash|0", &token, 1_700_003_601), "expired");
        assert!(!check(Purpose::PasswordReset, 7, "hash|0", &token, 1_699_999_000), "from the future");
        assert!(!LinkSigner::new("other").check(Purpose::PasswordReset, 7, "hash|0", &token, 1_700_000_100, 3600));
        // The issue time is signed: moving it forward does not extend the token.
        let (_, mac) = token.split_once('-').unwrap();
        let moved = format!("{}-{mac}", base36(1_700_003_000));
        assert!(!check(Purpose::PasswordReset, 7, "hash|0", &moved, 1_700_003_601));
        for bad in ["", "-", "abc", "zzzzzzzzzzzzz-00", &token.to_uppercase(), &format!("{token}0")] {
            assert!(!check(Purpose::PasswordReset, 7, "hash|0", bad, 1_700_000_100), "{bad}");
        }
    }

    #[test]
    fn links_of_a_previous_secret_key_still_check() {
        let old = LinkSigner::new("old secret").token(Purpose::VerifyEmail, 7, "s", 1_700_000_000);
        let rotated = LinkSigner::new("new secret").with_previous(&["old secret".to_owned()]);
        assert!(rotated.check(Purpose::VerifyEmail, 7, "s", &old, 1_700_000_100, 3600));
        let made_now = rotated.token(Purpose::VerifyEmail, 7, "s", 1_700_000_000);
        assert_eq!(made_now, LinkSigner::new("new secret").token(Purpose::VerifyEmail, 7, "s", 1_700_000_000));
        assert!(!LinkSigner::new("new secret").check(Purpose::VerifyEmail, 7, "s", &old, 1_700_000_100, 3600));
    }

    #[test]
    fn uids_are_djangos() {
        assert_eq!(uid(1), "MQ");
        assert_eq!(uid(1234), "MTIzNA");
        assert_eq!(parse_uid("MQ"), Some(1));
        assert_eq!(parse_uid("MTIzNA"), Some(1234));
        for bad in ["", "MQ==", "!!", "LTE" /* "-1" */, "YQ" /* "a" */] {
            assert_eq!(parse_uid(bad), None, "{bad}");
        }
        assert_eq!(parse_base36(&base36(1_700_000_000)), Some(1_700_000_000));
    }
}
