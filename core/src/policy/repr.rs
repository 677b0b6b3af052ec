//! The JSON form of a policy: the rules plus their `fingerprint`, validated on the way in.

use super::{PasswordPolicy, PolicyError};

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct PolicyRepr {
    min_length: usize,
    max_length_bytes: usize,
    max_similarity: Option<f64>,
    reject_common: bool,
    reject_numeric: bool,
    min_score: u8,
    min_character_classes: u8,
    max_repeated_characters: usize,
    history: u8,
    /// Written out for clients to compare; ignored when read, since it derives from the rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
}

impl Default for PolicyRepr {
    fn default() -> Self {
        PasswordPolicy::default().into()
    }
}

impl From<PasswordPolicy> for PolicyRepr {
    fn from(p: PasswordPolicy) -> Self {
        let fingerprint = Some(p.fingerprint());
        let PasswordPolicy {
            min_length,
            max_length_bytes,
            max_similarity,
            reject_common,
            reject_numeric,
            min_score,
            min_character_classes,
            max_repeated_characters,
            history,
        } = p;
        Self {
            min_length,
            max_length_bytes,
            max_similarity,
            reject_common,
            reject_numeric,
            min_score,
            min_character_classes,
            max_repeated_characters,
            history,
            fingerprint,
        }
    }
}

impl TryFrom<PolicyRepr> for PasswordPolicy {
    type Error = PolicyError;

    fn try_from(r: PolicyRepr) -> Result<Self, PolicyError> {
        PasswordPolicy {
            min_length: r.min_length,
            max_length_bytes: r.max_length_bytes,
            max_similarity: r.max_similarity,
            reject_common: r.reject_common,
            reject_numeric: r.reject_numeric,
            min_score: r.min_score,
            min_character_classes: r.min_character_classes,
            max_repeated_characters: r.max_repeated_characters,
            history: r.history,
        }
        .checked()
    }
}
