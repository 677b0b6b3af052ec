//! simplejwt's claim set: `token_type`, `exp`, `iat`, `jti`, `user_id`, and whatever else was added.

use rand_core::CryptoRngCore;
use serde_json::{Map, Value};

use super::TokenError;

/// What a token is for, from its `token_type` claim (simplejwt's `AccessToken` / `RefreshToken`).
///
/// simplejwt's third kind, `"sliding"`, is not supported: such tokens verify as
/// [`TokenError::WrongType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "lowercase"))]
pub enum TokenType {
    /// `"access"`: short-lived, sent as `Authorization: Bearer ...`.
    Access,
    /// `"refresh"`: long-lived, exchanged for new access tokens.
    Refresh,
}

impl TokenType {
    /// The claim value: `"access"` or `"refresh"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }

    /// Reads a `token_type` claim value; case-sensitive, as simplejwt compares it.
    pub fn from_claim(value: &str) -> Option<Self> {
        match value {
            "access" => Some(TokenType::Access),
            "refresh" => Some(TokenType::Refresh),
            _ => None,
        }
    }
}

impl std::fmt::Display for TokenType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of a simplejwt-compatible token.
///
/// Serialized in simplejwt's order: `token_type`, `exp`, `iat`, `jti`, `user_id`, the `extra` claims,
/// then `aud` and `iss` when set. `user_id` is always written as a JSON string (simplejwt ≥ 5.5.1)
/// and read from a string or an integer (older simplejwt wrote integer primary keys as numbers).
/// Deserializing applies the same rules as verification and fails with the same [`TokenError`]s.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(try_from = "Map<String, Value>"))]
pub struct Claims {
    /// `token_type`: access or refresh.
    pub token_type: TokenType,
    /// `exp`: expiry, Unix seconds. The token is dead once `exp <= now`.
    pub exp: i64,
    /// `iat`: issue time, Unix seconds.
    pub iat: i64,
    /// `jti`: the token id, what a blacklist stores. [`new_jti`] makes simplejwt's 32 lowercase hex.
    pub jti: String,
    /// `user_id`: the user's primary key, as a string.
    pub user_id: String,
    /// Every other claim, e.g. `email`, `is_staff`, `mfa`, `org`, `roles`; also `aud`/`iss` when
    /// they are not single strings (a list-valued `aud` is kept here verbatim).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub extra: Map<String, Value>,
    /// `aud`, when it is a single string.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub aud: Option<String>,
    /// `iss`, when it is a string.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub iss: Option<String>,
}

impl Claims {
    /// Fresh claims as simplejwt's `for_user` makes them: `iat = now`, `exp = now + lifetime_secs`,
    /// a random `jti`, no `aud`/`iss`, no extra claims.
    ///
    /// simplejwt's defaults are 300 seconds for access tokens and 86 400 for refresh tokens.
    pub fn new(
        token_type: TokenType,
        user_id: impl Into<String>,
        now: i64,
        lifetime_secs: i64,
        rng: &mut impl CryptoRngCore,
    ) -> Claims {
        Claims {
            token_type,
            exp: now.saturating_add(lifetime_secs),
            iat: now,
            jti: new_jti(rng),
            user_id: user_id.into(),
            extra: Map::new(),
            aud: None,
            iss: None,
        }
    }

    /// Reads claims the way simplejwt checks them after the signature and times: a missing `exp`
    /// is [`TokenError::NoExp`], then `jti` ([`TokenError::NoId`]), `token_type`
    /// ([`TokenError::NoType`], or [`TokenError::WrongType`] when it differs from `expected`), then
    /// `user_id` ([`TokenError::NoUserId`]). A registered claim of the wrong JSON type, or a missing
    /// `iat`, is [`TokenError::Invalid`].
    pub fn from_claims(mut map: Map<String, Value>, expected: Option<TokenType>) -> Result<Claims, TokenError> {
        let exp = integer(map.remove("exp"), TokenError::NoExp)?;
        let jti = match map.remove("jti") {
            None => return Err(TokenError::NoId),
            Some(Value::String(jti)) => jti,
            Some(_) => return Err(TokenError::Invalid),
        };
        let token_type = match map.remove("token_type") {
            None => return Err(TokenError::NoType),
            Some(value) => value.as_str().and_then(TokenType::from_claim).ok_or(TokenError::WrongType)?,
        };
        if expected.is_some_and(|expected| expected != token_type) {
            return Err(TokenError::WrongType);
        }
        let user_id = map.remove("user_id").and_then(user_id).ok_or(TokenError::NoUserId)?;
        let iat = integer(map.remove("iat"), TokenError::Invalid)?;
        let aud = take_string(&mut map, "aud");
        let iss = take_string(&mut map, "iss");
        Ok(Claims { token_type, exp, iat, jti, user_id, extra: map, aud, iss })
    }
}

impl TryFrom<Map<String, Value>> for Claims {
    type Error = TokenError;

    /// [`Claims::from_claims`] accepting either token type.
    fn try_from(map: Map<String, Value>) -> Result<Self, Self::Error> {
        Claims::from_claims(map, None)
    }
}

/// A new token id: 128 random bits as 32 lowercase hex characters, the shape of simplejwt's
/// `uuid4().hex`.
pub fn new_jti(rng: &mut impl CryptoRngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    crate::encoding::hex(&bytes)
}

fn integer(value: Option<Value>, missing: TokenError) -> Result<i64, TokenError> {
    value.map_or(Err(missing), |value| value.as_i64().ok_or(TokenError::Invalid))
}

/// simplejwt ≥ 5.5.1 writes `"42"`, older versions `42`; both name the same user.
fn user_id(value: Value) -> Option<String> {
    match value {
        Value::String(id) if !id.is_empty() => Some(id),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn take_string(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key) {
        Some(Value::String(_)) => match map.remove(key) {
            Some(Value::String(value)) => Some(value),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use rand_core::{CryptoRng, RngCore};
    use serde_json::json;

    use super::*;

    /// Counts up from a seed: deterministic, and fine for tests that only look at shapes.
    struct Counter(u8);

    impl RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            rand_core::impls::next_u32_via_fill(self)
        }
        fn next_u64(&mut self) -> u64 {
            rand_core::impls::next_u64_via_fill(self)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for byte in dest {
                self.0 = self.0.wrapping_add(1);
                *byte = self.0;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl CryptoRng for Counter {}

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn new_claims_follow_simplejwt() {
        let claims = Claims::new(TokenType::Access, "42", 1_700_000_000, 300, &mut Counter(0));
        assert_eq!(claims.exp, 1_700_000_300);
        assert_eq!(claims.iat, 1_700_000_000);
        assert_eq!(claims.jti, "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(claims.user_id, "42");
    }

    #[test]
    fn user_id_may_be_a_number() {
        let claims = json!({"token_type": "refresh", "exp": 2, "iat": 1, "jti": "j", "user_id": 42});
        let claims = Claims::from_claims(map(claims), Some(TokenType::Refresh)).unwrap();
        assert_eq!(claims.user_id, "42");
    }

    #[test]
    fn missing_claims_are_reported_in_simplejwt_order() {
        let full = json!({"token_type": "access", "exp": 2, "iat": 1, "jti": "j", "user_id": "1"});
        let cases = [
            ("exp", TokenError::NoExp),
            ("jti", TokenError::NoId),
            ("token_type", TokenError::NoType),
            ("user_id", TokenError::NoUserId),
            ("iat", TokenError::Invalid),
        ];
        for (missing, error) in cases {
            let mut claims = map(full.clone());
            claims.remove(missing);
            assert_eq!(Claims::from_claims(claims, Some(TokenType::Access)), Err(error), "{missing}");
        }
        let mut no_exp_no_id = map(full.clone());
        no_exp_no_id.remove("exp");
        no_exp_no_id.remove("jti");
        assert_eq!(Claims::from_claims(no_exp_no_id, None), Err(TokenError::NoExp));
        assert_eq!(Claims::from_claims(map(full), Some(TokenType::Refresh)), Err(TokenError::WrongType));
    }

    #[test]
    fn unusable_values_are_refused() {
        let base = json!({"token_type": "access", "exp": 2, "iat": 1, "jti": "j", "user_id": "1"});
        let cases = [
            ("user_id", json!(""), TokenError::NoUserId),
            ("user_id", json!(1.5), TokenError::NoUserId),
            ("user_id", json!(true), TokenError::NoUserId),
            ("token_type", json!("sliding"), TokenError::WrongType),
            ("token_type", json!("Access"), TokenError::WrongType),
            ("jti", json!(7), TokenError::Invalid),
            ("exp", json!(2.5), TokenError::Invalid),
            ("exp", json!("2"), TokenError::Invalid),
        ];
        for (key, value, error) in cases {
            let mut claims = map(base.clone());
            claims.insert(key.to_owned(), value.clone());
            assert_eq!(Claims::from_claims(claims, None), Err(error), "{key}: {value}");
        }
    }

    #[test]
    fn list_audience_stays_in_extra() {
        let claims = json!({"token_type": "access", "exp": 2, "iat": 1, "jti": "j", "user_id": "1",
                            "aud": ["a", "b"], "iss": "me", "roles": ["admin"]});
        let claims = Claims::from_claims(map(claims), None).unwrap();
        assert_eq!(claims.aud, None);
        assert_eq!(claims.iss.as_deref(), Some("me"));
        assert_eq!(claims.extra["aud"], json!(["a", "b"]));
        assert_eq!(claims.extra["roles"], json!(["admin"]));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serializes_in_simplejwt_order_with_string_user_id() {
        let mut claims = Claims::new(TokenType::Refresh, "7", 10, 20, &mut Counter(0));
        claims.extra.insert("email".to_owned(), json!("a@example.com"));
        claims.iss = Some("latchkey".to_owned());
        let text = serde_json::to_string(&claims).unwrap();
        assert_eq!(
            text,
            r#"{"token_type":"refresh","exp":30,"iat":10,"jti":"0102030405060708090a0b0c0d0e0f10","user_id":"7","email":"a@example.com","iss":"latchkey"}"#
        );
        let back: Claims = serde_json::from_str(&text).unwrap();
        assert_eq!(back, claims);
        let numeric = text.replace(r#""user_id":"7""#, r#""user_id":7"#);
        assert_eq!(serde_json::from_str::<Claims>(&numeric).unwrap().user_id, "7");
        assert!(serde_json::from_str::<Claims>(r#"{"exp":1}"#).is_err());
    }
}
