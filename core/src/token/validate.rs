//! The checks PyJWT makes once a signature is good, done here against the caller's `now`
//! (jsonwebtoken's own checks read the system clock, which `core` never does).

use serde_json::{Map, Value};

use super::TokenError;

/// What a verifier requires beyond a good signature, like simplejwt's `ISSUER` and `AUDIENCE`.
///
/// `None` means "not configured": the claim is then neither required nor compared, whatever the
/// token carries (simplejwt passes `verify_aud=False` when `AUDIENCE` is `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Required `iss`, compared as an exact string.
    pub iss: Option<String>,
    /// Required audience: `aud` must be this string or a list of strings containing it.
    pub aud: Option<String>,
}

/// Header rules: `alg` must be exactly the configured algorithm's name (so `none`, `HS512` or
/// `hs256` never select anything), and no `crit` extension is understood (RFC 7515 §4.1.11).
pub(super) fn header(header: &Map<String, Value>, algorithm: &str) -> Result<(), TokenError> {
    let alg_matches = header.get("alg").and_then(Value::as_str) == Some(algorithm);
    if !alg_matches || header.contains_key("crit") {
        return Err(TokenError::Invalid);
    }
    Ok(())
}

/// PyJWT's `_validate_claims`, in its order: `iat`, `nbf`, `exp`, `iss`, `aud`, `sub`, `jti`.
/// Leeway is zero, simplejwt's default.
pub(super) fn registered_claims(
    claims: &Map<String, Value>,
    now: i64,
    expect: &Expectations,
) -> Result<(), TokenError> {
    not_in_future(claims.get("iat"), now)?;
    not_in_future(claims.get("nbf"), now)?;
    if let Some(exp) = claims.get("exp") {
        if exp.as_i64().ok_or(TokenError::Invalid)? <= now {
            return Err(TokenError::Expired);
        }
    }
    if let Some(iss) = &expect.iss {
        if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
            return Err(TokenError::Invalid);
        }
    }
    if let Some(aud) = &expect.aud {
        if !audience_contains(claims.get("aud"), aud) {
            return Err(TokenError::Invalid);
        }
    }
    for must_be_string in ["sub", "jti"] {
        if claims.get(must_be_string).is_some_and(|value| !value.is_string()) {
            return Err(TokenError::Invalid);
        }
    }
    Ok(())
}

fn not_in_future(time: Option<&Value>, now: i64) -> Result<(), TokenError> {
    match time.map(Value::as_i64) {
        None => Ok(()),
        Some(Some(time)) if time <= now => Ok(()),
        Some(_) => Err(TokenError::Invalid),
    }
}

/// `aud` may be one string or a list of strings (RFC 7519 §4.1.3); anything else is malformed.
fn audience_contains(aud: Option<&Value>, expected: &str) -> bool {
    match aud {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(list)) => {
            list.iter().all(Value::is_string) && list.iter().any(|aud| aud.as_str() == Some(expected))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    fn check(claims: Value, now: i64, expect: &Expectations) -> Result<(), TokenError> {
        match claims {
            Value::Object(map) => registered_claims(&map, now, expect),
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn times_are_checked_against_now() {
        let none = Expectations::default();
        assert_eq!(check(json!({"exp": 101, "iat": 100, "nbf": 100}), 100, &none), Ok(()));
        assert_eq!(check(json!({"exp": 100}), 100, &none), Err(TokenError::Expired));
        assert_eq!(check(json!({"exp": 200, "iat": 101}), 100, &none), Err(TokenError::Invalid));
        assert_eq!(check(json!({"exp": 200, "nbf": 101}), 100, &none), Err(TokenError::Invalid));
        // PyJWT checks iat before exp, so an expired token from the future is just invalid.
        assert_eq!(check(json!({"exp": 50, "iat": 101}), 100, &none), Err(TokenError::Invalid));
        assert_eq!(check(json!({"exp": null}), 100, &none), Err(TokenError::Invalid));
    }

    #[test]
    fn issuer_and_audience_only_when_configured() {
        let none = Expectations::default();
        assert_eq!(check(json!({"iss": 5, "aud": {"x": 1}}), 0, &none), Ok(()));
        let both = Expectations { iss: Some("me".into()), aud: Some("web".into()) };
        assert_eq!(check(json!({"iss": "me", "aud": "web"}), 0, &both), Ok(()));
        assert_eq!(check(json!({"iss": "me", "aud": ["app", "web"]}), 0, &both), Ok(()));
        for bad in [
            json!({"aud": "web"}),
            json!({"iss": "you", "aud": "web"}),
            json!({"iss": "me"}),
            json!({"iss": "me", "aud": "app"}),
            json!({"iss": "me", "aud": ["web", 1]}),
        ] {
            assert_eq!(check(bad.clone(), 0, &both), Err(TokenError::Invalid), "{bad}");
        }
    }

    #[test]
    fn header_must_name_the_configured_algorithm() {
        let header = |value: Value| match value {
            Value::Object(map) => map,
            _ => unreachable!("test input is an object"),
        };
        assert_eq!(super::header(&header(json!({"alg": "HS256", "typ": "JWT"})), "HS256"), Ok(()));
        for bad in [
            json!({"alg": "none"}),
            json!({"alg": "hs256"}),
            json!({"alg": "HS512"}),
            json!({}),
            json!({"alg": "HS256", "crit": ["exp"]}),
        ] {
            assert_eq!(super::header(&header(bad.clone()), "HS256"), Err(TokenError::Invalid), "{bad}");
        }
    }
}
