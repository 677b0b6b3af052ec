//! The password policy: one value, shared by the server and the npm package, that decides whether a
//! password is acceptable and says why not.
//!
//! The defaults are Django's four validators (with a 12-character minimum), a 4096-byte maximum and a
//! minimum strength score. Optional rules (character classes, repeated characters) are off by default;
//! password history is checked by the server, which holds the old hashes (see [`Violation::Reused`]).

mod django;
mod repr;
mod rules;
mod unicode;
mod unicode_tables;

use sha2::{Digest, Sha256};

use crate::strength;

/// The policy's rules. Every field has Latchkey's default, so a partial JSON object is a valid policy.
///
/// As JSON it carries its `fingerprint` too; on input the fingerprint is ignored (it is always
/// recomputed), unknown fields are refused and out-of-range values are errors.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPolicy {
    /// Minimum length in Unicode code points (Django's `MinimumLengthValidator`).
    pub min_length: usize,
    /// Maximum length in UTF-8 bytes; longer passwords are refused before any other work.
    pub max_length_bytes: usize,
    /// Django's `UserAttributeSimilarityValidator` threshold (at least 0.1), or `None` to turn it off.
    pub max_similarity: Option<f64>,
    /// Refuse the passwords of Django's common-password list.
    pub reject_common: bool,
    /// Refuse passwords made only of digits (Django's `NumericPasswordValidator`).
    pub reject_numeric: bool,
    /// Minimum strength score, 0 (off) to 4.
    pub min_score: u8,
    /// How many of lowercase, uppercase, digits and symbols must appear; 0 turns the rule off.
    pub min_character_classes: u8,
    /// Longest allowed run of one repeated character; 0 turns the rule off.
    pub max_repeated_characters: usize,
    /// How many previous passwords may not be reused; 0 turns the rule off. The server checks it.
    pub history: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length_bytes: 4096,
            max_similarity: Some(0.7),
            reject_common: true,
            reject_numeric: true,
            min_score: 3,
            min_character_classes: 0,
            max_repeated_characters: 0,
            history: 0,
        }
    }
}

/// Why a policy value cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `max_similarity` is below 0.1 or not a number (Django refuses it too).
    #[error("max_similarity must be at least 0.1")]
    SimilarityTooLow,
    /// `min_score` is above 4.
    #[error("min_score must be between 0 and 4")]
    ScoreOutOfRange,
    /// `min_character_classes` is above 4.
    #[error("min_character_classes must be between 0 and 4")]
    ClassesOutOfRange,
    /// `max_length_bytes` is 0 or below `min_length`.
    #[error("max_length_bytes must be at least min_length and above 0")]
    LengthBounds,
    /// The JSON form has an unknown field or a field of the wrong type.
    #[error(transparent)]
    Field(#[from] crate::json::FieldError),
}

impl PasswordPolicy {
    /// Checks the rules' ranges; deserialization calls it, call it on a policy built by hand.
    pub fn checked(self) -> Result<Self, PolicyError> {
        if self.max_similarity.is_some_and(|s| s.is_nan() || s < 0.1) {
            return Err(PolicyError::SimilarityTooLow);
        }
        if self.min_score > 4 {
            return Err(PolicyError::ScoreOutOfRange);
        }
        if self.min_character_classes > 4 {
            return Err(PolicyError::ClassesOutOfRange);
        }
        if self.max_length_bytes == 0 || self.max_length_bytes < self.min_length {
            return Err(PolicyError::LengthBounds);
        }
        Ok(self)
    }

    /// A stable identifier of the rules (and of the data they use): equal fingerprints give equal
    /// verdicts, so a browser can tell whether its copy of the policy is the server's.
    pub fn fingerprint(&self) -> String {
        // The float's exact bits, not its decimal form: no float formatting code in the wasm bundle.
        let similarity = self.max_similarity.map_or_else(|| "off".to_owned(), |s| format!("{:x}", s.to_bits()));
        let canonical = format!(
            "latchkey-policy/1;data={};min_length={};max_length_bytes={};max_similarity={};reject_common={};\
             reject_numeric={};min_score={};min_character_classes={};max_repeated_characters={};history={}",
            DATA_VERSION,
            self.min_length,
            self.max_length_bytes,
            similarity,
            self.reject_common,
            self.reject_numeric,
            self.min_score,
            self.min_character_classes,
            self.max_repeated_characters,
            self.history,
        );
        let digest = Sha256::digest(canonical.as_bytes());
        crate::encoding::hex(&digest[..8])
    }

    /// Validates `password` for `user` (pass `&UserAttributes::default()` when there is none).
    ///
    /// A password over `max_length_bytes` gets only [`Violation::TooLong`], with no further work.
    /// Otherwise every failing rule is listed: Django's four in Django's order, then Latchkey's.
    pub fn validate(&self, password: &str, user: &UserAttributes) -> Validation {
        let fingerprint = self.fingerprint();
        if password.len() > self.max_length_bytes {
            let violations = vec![Violation::TooLong { max_bytes: self.max_length_bytes }];
            return Validation { valid: false, score: 0, violations, fingerprint };
        }
        let inputs = user.strength_inputs();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let score = strength::estimate(password, &inputs).score;
        let violations: Vec<Violation> = [
            self.max_similarity.and_then(|s| django::similarity(password, user, s)),
            django::minimum_length(password, self.min_length),
            self.reject_common.then(|| django::common(password)).flatten(),
            self.reject_numeric.then(|| django::numeric(password)).flatten(),
            (score < self.min_score).then_some(Violation::TooWeak),
            rules::character_classes(password, self.min_character_classes),
            rules::repeated_characters(password, self.max_repeated_characters),
        ]
        .into_iter()
        .flatten()
        .collect();
        Validation { valid: violations.is_empty(), score, violations, fingerprint }
    }
}

#[cfg(feature = "hashing")]
impl PasswordPolicy {
    /// [`validate`](Self::validate) plus the history rule: when `history` is above 0, the password
    /// must not match any of the newest `history` entries of `previous_hashes` (newest first, in any
    /// format [`crate::hash::verify_password`] reads); a match adds [`Violation::Reused`].
    ///
    /// Each comparison costs one password hash, so call it off the async executor. A password
    /// already refused for its length is not hashed at all; an unreadable stored hash counts as no
    /// match.
    pub fn validate_with_history(
        &self,
        password: &str,
        user: &UserAttributes,
        previous_hashes: &[&str],
        params: &crate::hash::HashParams,
    ) -> Validation {
        let mut validation = self.validate(password, user);
        let too_long = validation.violations.iter().any(|v| matches!(v, Violation::TooLong { .. }));
        if too_long || self.history == 0 {
            return validation;
        }
        let reused = previous_hashes
            .iter()
            .take(usize::from(self.history))
            .any(|hash| crate::hash::verify_password(password, hash, params).is_ok_and(|v| v.ok));
        if reused {
            validation.violations.push(Violation::Reused);
            validation.valid = false;
        }
        validation
    }
}

/// Identifies the word lists compiled into this build; part of every fingerprint.
const DATA_VERSION: &str = "django-5.2.19+zxcvbn-4.4.2-heads";

/// The user facts Django's similarity check compares the password with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct UserAttributes {
    /// The e-mail address.
    pub email: Option<String>,
    /// The username.
    pub username: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
}

impl UserAttributes {
    fn get(&self, attribute: UserAttribute) -> Option<&str> {
        match attribute {
            UserAttribute::Username => self.username.as_deref(),
            UserAttribute::FirstName => self.first_name.as_deref(),
            UserAttribute::LastName => self.last_name.as_deref(),
            UserAttribute::Email => self.email.as_deref(),
        }
    }

    /// Words the strength estimator should treat as known to an attacker.
    fn strength_inputs(&self) -> Vec<String> {
        let mut inputs = Vec::new();
        for attribute in UserAttribute::DJANGO_ORDER {
            if let Some(value) = self.get(attribute).filter(|v| !v.is_empty()) {
                let lowered = value.to_lowercase();
                inputs
                    .extend(unicode::split_non_word(&lowered).into_iter().filter(|p| !p.is_empty()).map(str::to_owned));
                inputs.push(lowered);
            }
        }
        inputs
    }
}

/// A user attribute named in a similarity violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserAttribute {
    /// `username`
    Username,
    /// `first_name`
    FirstName,
    /// `last_name`
    LastName,
    /// `email`
    Email,
}

impl UserAttribute {
    /// Django's `DEFAULT_USER_ATTRIBUTES` order: the first similar attribute is the one reported.
    const DJANGO_ORDER: [Self; 4] = [Self::Username, Self::FirstName, Self::LastName, Self::Email];

    /// The field's `verbose_name` in Django's default `User` model, as the message uses it.
    pub fn verbose_name(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::FirstName => "first name",
            Self::LastName => "last name",
            Self::Email => "email address",
        }
    }
}

/// The verdict on one password.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Validation {
    /// No rule failed.
    pub valid: bool,
    /// The strength score, 0 to 4.
    pub score: u8,
    /// Every failed rule, in a stable order.
    pub violations: Vec<Violation>,
    /// The fingerprint of the policy that decided.
    pub fingerprint: String,
}

pub use rules::Violation;

#[cfg(test)]
mod tests;
