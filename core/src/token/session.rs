//! The claims Latchkey adds to simplejwt's, typed: which session a token belongs to, who the user
//! is, whether a second factor was verified, and the organization and role the token speaks for.
//! The server writes them with [`Claims::set_session`] and reads them with [`Claims::session`]; the
//! npm package's `decodeToken` returns them under the same names (its `TokenClaims` type).

use serde_json::{json, Value};

use super::Claims;

/// Latchkey's claims. Refresh tokens carry `sid` only; access tokens carry all of them (`org` and
/// `roles` only when the session chose an organization).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionClaims {
    /// `sid`: the session (32 lowercase hex characters); logging out revokes its tokens.
    pub sid: Option<String>,
    /// `email`: the user's address when the token was issued.
    pub email: Option<String>,
    /// `is_staff`: Django's flag.
    pub is_staff: Option<bool>,
    /// `is_verified`: the address was verified.
    pub is_verified: Option<bool>,
    /// `mfa`: a second factor was verified at this session's login.
    pub mfa: Option<bool>,
    /// `mfa_enrollment_required`: the user must set up a second factor before doing anything but
    /// that (`LATCHKEY_REQUIRE_2FA`); written only when true.
    pub mfa_enrollment_required: Option<bool>,
    /// `org`: the slug of the organization the token speaks for.
    pub org: Option<String>,
    /// `roles`: the user's role there (one, as a list).
    pub roles: Option<Vec<String>>,
}

/// The claim names of [`SessionClaims`], in the order they are written.
pub const SESSION_CLAIM_NAMES: [&str; 8] =
    ["email", "is_staff", "is_verified", "mfa", "mfa_enrollment_required", "org", "roles", "sid"];

impl Claims {
    /// Latchkey's claims of this token; a claim that is absent or of another JSON type reads as `None`.
    pub fn session(&self) -> SessionClaims {
        let text = |name: &str| self.extra.get(name).and_then(Value::as_str).map(str::to_owned);
        let flag = |name: &str| self.extra.get(name).and_then(Value::as_bool);
        let roles = self.extra.get("roles").and_then(Value::as_array).and_then(|items| {
            items.iter().map(|item| item.as_str().map(str::to_owned)).collect::<Option<Vec<String>>>()
        });
        SessionClaims {
            sid: text("sid"),
            email: text("email"),
            is_staff: flag("is_staff"),
            is_verified: flag("is_verified"),
            mfa: flag("mfa"),
            mfa_enrollment_required: flag("mfa_enrollment_required"),
            org: text("org"),
            roles,
        }
    }

    /// Writes Latchkey's claims (those set; the others are removed).
    pub fn set_session(&mut self, session: &SessionClaims) {
        let values = [
            ("email", session.email.as_ref().map(|v| json!(v))),
            ("is_staff", session.is_staff.map(|v| json!(v))),
            ("is_verified", session.is_verified.map(|v| json!(v))),
            ("mfa", session.mfa.map(|v| json!(v))),
            ("mfa_enrollment_required", session.mfa_enrollment_required.map(|v| json!(v))),
            ("org", session.org.as_ref().map(|v| json!(v))),
            ("roles", session.roles.as_ref().map(|v| json!(v))),
            ("sid", session.sid.as_ref().map(|v| json!(v))),
        ];
        for (name, value) in values {
            match value {
                Some(value) => {
                    self.extra.insert(name.to_owned(), value);
                }
                None => {
                    self.extra.remove(name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenType;

    fn claims() -> Claims {
        Claims::new(TokenType::Access, "7", 1_700_000_000, 300, &mut rand_core::OsRng)
    }

    #[test]
    fn session_claims_round_trip_through_the_claim_map() {
        let session = SessionClaims {
            sid: Some("0123456789abcdef0123456789abcdef".into()),
            email: Some("ada@example.com".into()),
            is_staff: Some(false),
            is_verified: Some(true),
            mfa: Some(true),
            mfa_enrollment_required: Some(true),
            org: Some("acme".into()),
            roles: Some(vec!["editor".into()]),
        };
        let mut claims = claims();
        claims.set_session(&session);
        assert_eq!(claims.session(), session);
        let mut names: Vec<&str> = claims.extra.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, SESSION_CLAIM_NAMES);
        // Unset claims are removed, not written as null.
        claims.set_session(&SessionClaims { sid: session.sid.clone(), ..SessionClaims::default() });
        assert_eq!(claims.extra.keys().collect::<Vec<_>>(), ["sid"]);
    }

    #[test]
    fn claims_of_another_type_read_as_absent() {
        let mut claims = claims();
        claims.extra.insert("mfa".into(), json!("yes"));
        claims.extra.insert("roles".into(), json!(["admin", 3]));
        claims.extra.insert("sid".into(), json!(12));
        assert_eq!(claims.session(), SessionClaims::default());
    }
}
