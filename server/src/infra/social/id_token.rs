//! The ID token's checks (OpenID Connect Core §3.1.3.7), one failure per step so that the audit
//! row can name it. jsonwebtoken checks the signature; the claims are checked here, against the
//! caller's `now` (the server's clock, which tests move).

use std::collections::HashSet;

use jsonwebtoken::{decode, decode_header, errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::keys::KeySet;

/// Who signed in, as the provider says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The provider's stable ID of the account (OpenID Connect `sub`, GitHub's numeric id): 1 to
    /// 255 characters.
    pub subject: String,
    /// The e-mail address as the provider gave it (at most 254 characters, not normalized).
    pub email: Option<String>,
    /// The provider vouches that the address is the user's.
    pub email_verified: bool,
    /// At most 150 characters.
    pub given_name: Option<String>,
    /// At most 150 characters.
    pub family_name: Option<String>,
}

/// How far the provider's clock may be from ours (seconds), both ways.
pub(crate) const LEEWAY: i64 = 60;

/// Which check an ID token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenCheck {
    /// Not a JWS of three base64url parts over JSON, no ID token at all, or `exp`/`iat` missing or
    /// not numbers.
    Malformed,
    /// Its `alg` is not an asymmetric algorithm the provider announced (`none` and HS* never are).
    Algorithm,
    /// No key of the provider's JWKS fits: an unknown `kid` (after fetching the set again), or a key
    /// of another type or algorithm.
    Key,
    /// The signature does not verify.
    Signature,
    /// `iss` is not the provider's issuer (or, for a `{tenantid}` template, not the token's tenant's,
    /// or the tenant is not allowed).
    Issuer,
    /// `aud` does not name our client ID, or names others too without `azp`, or `azp` names another
    /// party.
    Audience,
    /// `exp` is more than a minute in the past.
    Expired,
    /// `iat` is more than a minute in the future.
    IssuedInFuture,
    /// `nonce` is missing or not the one this sign-in sent.
    Nonce,
    /// `sub` is missing, empty, or longer than 255 characters.
    Subject,
    /// The userinfo endpoint answered for another `sub` than the ID token's.
    UserinfoSubject,
}

impl IdTokenCheck {
    /// Its name in audit rows: `malformed`, `algorithm`, ... `userinfo_subject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Algorithm => "algorithm",
            Self::Key => "key",
            Self::Signature => "signature",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::Expired => "expired",
            Self::IssuedInFuture => "issued_in_future",
            Self::Nonce => "nonce",
            Self::Subject => "subject",
            Self::UserinfoSubject => "userinfo_subject",
        }
    }
}

impl std::fmt::Display for IdTokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The issuer an ID token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssuerRule {
    /// Exactly this string.
    Exact(String),
    /// Microsoft Entra's multi-tenant issuer: the text before and after `{tenantid}`, which the
    /// token's `tid` fills in.
    Template {
        /// Before `{tenantid}`.
        prefix: String,
        /// After `{tenantid}`.
        suffix: String,
    },
}

/// What a provider's ID token must say.
#[derive(Debug)]
pub(crate) struct Expect<'a> {
    /// What `iss` must be.
    pub issuer: &'a IssuerRule,
    /// Allowed tenants (lower case) for an issuer template; `None` allows any.
    pub tenants: Option<&'a [String]>,
    /// Our client ID, the audience.
    pub client_id: &'a str,
    /// The algorithms allowed (the safe ones the provider announced).
    pub algorithms: &'a [Algorithm],
    /// The nonce this sign-in sent.
    pub nonce: &'a str,
    /// The claim that says the e-mail address is verified.
    pub email_verified_claim: &'a str,
}

/// The `kid` of a token's header, if it parses and has one.
pub(crate) fn kid(raw: &str) -> Option<String> {
    decode_header(raw).ok().and_then(|h| h.kid)
}

/// Every check of `raw` in order, and the identity it names.
pub(crate) fn verify(raw: &str, keys: &KeySet, expect: &Expect<'_>, now: i64) -> Result<Identity, IdTokenCheck> {
    let claims = signed_claims(raw, keys, expect.algorithms)?;
    let (Some(exp), Some(iat)) = (seconds(claims.get("exp")), seconds(claims.get("iat"))) else {
        return Err(IdTokenCheck::Malformed);
    };
    check_issuer(&claims, expect)?;
    check_audience(&claims, expect.client_id)?;
    if exp <= now - LEEWAY {
        return Err(IdTokenCheck::Expired);
    }
    if iat > now + LEEWAY {
        return Err(IdTokenCheck::IssuedInFuture);
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    let nonce_matches: bool = nonce.as_bytes().ct_eq(expect.nonce.as_bytes()).into();
    if expect.nonce.is_empty() || !nonce_matches {
        return Err(IdTokenCheck::Nonce);
    }
    let subject = subject(&claims).ok_or(IdTokenCheck::Subject)?;
    Ok(profile(&claims, subject, expect.email_verified_claim))
}

/// The claims of a token whose algorithm is allowed and whose signature verifies with the key the
/// JWKS has for it.
fn signed_claims(raw: &str, keys: &KeySet, algorithms: &[Algorithm]) -> Result<Map<String, Value>, IdTokenCheck> {
    let header = decode_header(raw).map_err(|_| header_failure(raw))?;
    if !algorithms.contains(&header.alg) || !super::keys::SAFE_ALGORITHMS.contains(&header.alg) {
        return Err(IdTokenCheck::Algorithm);
    }
    let jwk = keys.select(header.kid.as_deref(), header.alg).ok_or(IdTokenCheck::Key)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| IdTokenCheck::Key)?;
    let mut validation = Validation::new(header.alg);
    // Time, audience and issuer are checked below, against the server's clock and each provider's
    // rules; jsonwebtoken checks the signature alone.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    match decode::<Map<String, Value>>(raw, &key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                IdTokenCheck::Malformed
            }
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm | ErrorKind::InvalidAlgorithmName => {
                IdTokenCheck::Algorithm
            }
            ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey => IdTokenCheck::Key,
            _ => IdTokenCheck::Signature,
        }),
    }
}

/// A header jsonwebtoken cannot read: an `alg` it does not know (`none`, or made up) is an
/// algorithm failure; anything else is malformed.
fn header_failure(raw: &str) -> IdTokenCheck {
    let header = raw.split('.').next().and_then(latchkey_core::encoding::unbase64url);
    let json = header.and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok());
    match json.as_ref().and_then(|h| h.get("alg")) {
        Some(Value::String(_)) if raw.split('.').count() == 3 => IdTokenCheck::Algorithm,
        _ => IdTokenCheck::Malformed,
    }
}

/// `iss` against the provider's rule; for a template, the token's `tid` (a GUID, allowed when
/// `tenants` is set) fills it in.
fn check_issuer(claims: &Map<String, Value>, expect: &Expect<'_>) -> Result<(), IdTokenCheck> {
    let iss = claims.get("iss").and_then(Value::as_str).ok_or(IdTokenCheck::Issuer)?;
    let ok = match expect.issuer {
        IssuerRule::Exact(issuer) => iss == issuer,
        IssuerRule::Template { prefix, suffix } => {
            let tid = claims.get("tid").and_then(Value::as_str).unwrap_or("");
            let allowed = expect.tenants.is_none_or(|tenants| tenants.iter().any(|t| t.eq_ignore_ascii_case(tid)));
            super::config::is_guid(tid) && allowed && iss == format!("{prefix}{tid}{suffix}")
        }
    };
    if ok {
        Ok(())
    } else {
        Err(IdTokenCheck::Issuer)
    }
}

/// `aud` names our client ID; with other audiences beside it, `azp` must be present and be our
/// client ID (the token was issued to us, the others are only further recipients); a present
/// `azp` is always our client ID (OpenID Connect Core §3.1.3.7, steps 3 to 5).
fn check_audience(claims: &Map<String, Value>, client_id: &str) -> Result<(), IdTokenCheck> {
    let (names_us, several) = match claims.get("aud") {
        Some(Value::String(aud)) => (aud == client_id, false),
        Some(Value::Array(list)) => (list.iter().any(|a| a.as_str() == Some(client_id)), list.len() > 1),
        _ => (false, false),
    };
    let azp = claims.get("azp");
    let azp_ok = match azp {
        None => !several,
        Some(azp) => azp.as_str() == Some(client_id),
    };
    if names_us && azp_ok {
        Ok(())
    } else {
        Err(IdTokenCheck::Audience)
    }
}

/// A NumericDate claim as whole seconds (some providers send fractions).
fn seconds(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
}

/// `sub`: 1 to 255 characters.
fn subject(claims: &Map<String, Value>) -> Option<String> {
    let sub = claims.get("sub")?.as_str()?;
    (!sub.is_empty() && sub.chars().count() <= 255).then(|| sub.to_owned())
}

/// The longest e-mail address kept (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;
/// Names are cut to this many characters.
const MAX_NAME: usize = 150;

/// The identity in a set of claims (an ID token's or userinfo's): the e-mail address when it is
/// at most 254 characters, verified when `verified_claim` is `true` (or `"true"`), and the names
/// cut to 150 characters.
pub(crate) fn profile(claims: &Map<String, Value>, subject: String, verified_claim: &str) -> Identity {
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty() && e.chars().count() <= MAX_EMAIL)
        .map(str::to_owned);
    let verified = matches!(claims.get(verified_claim), Some(Value::Bool(true)))
        || claims.get(verified_claim).and_then(Value::as_str) == Some("true");
    let name = |claim: &str| {
        let text = claims.get(claim).and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty())?;
        Some(text.chars().take(MAX_NAME).collect::<String>())
    };
    Identity {
        subject,
        email_verified: verified && email.is_some(),
        email,
        given_name: name("given_name"),
        family_name: name("family_name"),
    }
}

/// Completes an ID token's identity that had no e-mail address with the userinfo endpoint's
/// answer, which must be about the same `sub`.
pub(crate) fn with_userinfo(
    identity: Identity,
    userinfo: &Map<String, Value>,
    verified_claim: &str,
) -> Result<Identity, IdTokenCheck> {
    if userinfo.get("sub").and_then(Value::as_str) != Some(identity.subject.as_str()) {
        return Err(IdTokenCheck::UserinfoSubject);
    }
    let extra = profile(userinfo, identity.subject.clone(), verified_claim);
    Ok(Identity {
        email: extra.email,
        email_verified: extra.email_verified,
        given_name: identity.given_name.or(extra.given_name),
        family_name: identity.family_name.or(extra.family_name),
        subject: identity.subject,
    })
}

#[cfg(test)]
#[path = "id_token_tests.rs"]
mod tests;
