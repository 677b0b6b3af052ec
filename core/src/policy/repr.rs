//! The JSON form of a policy: the rules plus their `fingerprint`. Reading is strict and by hand
//! (see [`crate::json`]): unknown fields and out-of-range values are errors, `null` turns the
//! similarity rule off, an absent field takes its default, and the fingerprint is ignored.

use serde_json::Value;

use super::{PasswordPolicy, PolicyError, UserAttributes};
use crate::json::{FieldError, Object};

const POLICY_FIELDS: [&str; 10] = [
    "min_length",
    "max_length_bytes",
    "max_similarity",
    "reject_common",
    "reject_numeric",
    "min_score",
    "min_character_classes",
    "max_repeated_characters",
    "history",
    "fingerprint",
];

const COUNT: &str = "a non-negative integer";
const SMALL: &str = "an integer between 0 and 255";

impl PasswordPolicy {
    /// Reads a policy from its JSON form, then checks it like [`PasswordPolicy::checked`].
    pub fn from_json(value: &Value) -> Result<Self, PolicyError> {
        let o = Object::new(value, &POLICY_FIELDS)?;
        let d = PasswordPolicy::default();
        let small = |field| -> Result<Option<u8>, FieldError> { Ok(o.integer(field, 255, SMALL)?.map(|n| n as u8)) };
        let count = |field, default: usize| -> Result<usize, FieldError> {
            Ok(o.integer(field, u64::from(u32::MAX), COUNT)?.map_or(default, |n| n as usize))
        };
        PasswordPolicy {
            min_length: count("min_length", d.min_length)?,
            max_length_bytes: count("max_length_bytes", d.max_length_bytes)?,
            // Present and null means "off"; absent means the default.
            max_similarity: if o.has("max_similarity") { o.number("max_similarity")? } else { d.max_similarity },
            reject_common: o.boolean("reject_common")?.unwrap_or(d.reject_common),
            reject_numeric: o.boolean("reject_numeric")?.unwrap_or(d.reject_numeric),
            min_score: small("min_score")?.unwrap_or(d.min_score),
            min_character_classes: small("min_character_classes")?.unwrap_or(d.min_character_classes),
            max_repeated_characters: count("max_repeated_characters", d.max_repeated_characters)?,
            history: small("history")?.unwrap_or(d.history),
        }
        .checked()
    }
}

impl UserAttributes {
    /// Reads `{email?, username?, first_name?, last_name?}` (strings or null).
    pub fn from_json(value: &Value) -> Result<Self, FieldError> {
        let o = Object::new(value, &["email", "username", "first_name", "last_name"])?;
        Ok(UserAttributes {
            email: o.string("email")?,
            username: o.string("username")?,
            first_name: o.string("first_name")?,
            last_name: o.string("last_name")?,
        })
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    use super::super::{PasswordPolicy, UserAttributes};

    impl Serialize for PasswordPolicy {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = serializer.serialize_struct("PasswordPolicy", 10)?;
            s.serialize_field("min_length", &self.min_length)?;
            s.serialize_field("max_length_bytes", &self.max_length_bytes)?;
            s.serialize_field("max_similarity", &self.max_similarity)?;
            s.serialize_field("reject_common", &self.reject_common)?;
            s.serialize_field("reject_numeric", &self.reject_numeric)?;
            s.serialize_field("min_score", &self.min_score)?;
            s.serialize_field("min_character_classes", &self.min_character_classes)?;
            s.serialize_field("max_repeated_characters", &self.max_repeated_characters)?;
            s.serialize_field("history", &self.history)?;
            s.serialize_field("fingerprint", &self.fingerprint())?;
            s.end()
        }
    }

    impl<'de> Deserialize<'de> for PasswordPolicy {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let value = Value::deserialize(deserializer)?;
            PasswordPolicy::from_json(&value).map_err(serde::de::Error::custom)
        }
    }

    impl<'de> Deserialize<'de> for UserAttributes {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let value = Value::deserialize(deserializer)?;
            UserAttributes::from_json(&value).map_err(serde::de::Error::custom)
        }
    }
}
