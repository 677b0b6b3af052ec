//! Violations, and Latchkey's optional rules beyond Django's four.

use super::UserAttribute;

/// One failed rule. Its [`code`](Self::code) is stable; its [`message`](Self::message) is English,
/// word for word Django's for Django's four rules.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Violation {
    /// Shorter than `min_length` code points (`password_too_short`).
    TooShort {
        /// The policy's minimum.
        min_length: usize,
    },
    /// Too similar to a user attribute (`password_too_similar`).
    TooSimilar {
        /// The first attribute found similar.
        attribute: UserAttribute,
    },
    /// In Django's common-password list (`password_too_common`).
    TooCommon,
    /// Only digits (`password_entirely_numeric`).
    EntirelyNumeric,
    /// Longer than `max_bytes` UTF-8 bytes (`password_too_long`).
    TooLong {
        /// The policy's maximum.
        max_bytes: usize,
    },
    /// Strength score below the policy's minimum (`password_too_weak`).
    TooWeak,
    /// Fewer character classes than required (`password_too_few_character_classes`).
    TooFewCharacterClasses {
        /// How many classes are required.
        required: u8,
    },
    /// One character repeated in a row more than allowed (`password_repeated_characters`).
    RepeatedCharacters {
        /// The longest allowed run.
        max: usize,
    },
    /// Equal to one of the user's previous passwords (`password_reused`); decided by the server.
    Reused,
    /// Found in a breached-password corpus at least as often as the server's threshold
    /// (`password_breached`); decided by the server, which asks a range API (Have I Been Pwned's
    /// or a mirror) about the first five hex digits of the password's SHA-1 only.
    Breached {
        /// How many times the corpus has seen the password.
        count: u64,
    },
}

impl Violation {
    /// The stable code, as in Django's `ValidationError.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooSimilar { .. } => "password_too_similar",
            Self::TooCommon => "password_too_common",
            Self::EntirelyNumeric => "password_entirely_numeric",
            Self::TooLong { .. } => "password_too_long",
            Self::TooWeak => "password_too_weak",
            Self::TooFewCharacterClasses { .. } => "password_too_few_character_classes",
            Self::RepeatedCharacters { .. } => "password_repeated_characters",
            Self::Reused => "password_reused",
            Self::Breached { .. } => "password_breached",
        }
    }

    /// The English message.
    pub fn message(&self) -> String {
        match self {
            Self::TooShort { min_length } => {
                let plural = if *min_length == 1 { "" } else { "s" };
                format!("This password is too short. It must contain at least {min_length} character{plural}.")
            }
            Self::TooSimilar { attribute } => {
                format!("The password is too similar to the {}.", attribute.verbose_name())
            }
            Self::TooCommon => "This password is too common.".to_owned(),
            Self::EntirelyNumeric => "This password is entirely numeric.".to_owned(),
            Self::TooLong { max_bytes } => {
                format!("This password is too long. It must contain at most {max_bytes} bytes.")
            }
            Self::TooWeak => "This password is too easy to guess. Add another word or two.".to_owned(),
            Self::TooFewCharacterClasses { required } => format!(
                "This password must contain at least {required} of: lowercase letters, uppercase letters, digits, symbols."
            ),
            Self::RepeatedCharacters { max } => {
                format!("This password repeats a character more than {max} times in a row.")
            }
            Self::Reused => "This password was used recently. Choose a new one.".to_owned(),
            Self::Breached { count } => {
                let plural = if *count == 1 { "" } else { "s" };
                format!("This password has appeared in a data breach {count} time{plural}. Choose another one.")
            }
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Violation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Violation", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.message())?;
        s.end()
    }
}

/// Counts lowercase, uppercase, digit and other (symbol) characters present.
pub(super) fn character_classes(password: &str, required: u8) -> Option<Violation> {
    if required == 0 {
        return None;
    }
    let mut seen = [false; 4];
    for c in password.chars() {
        let class = if c.is_lowercase() {
            0
        } else if c.is_uppercase() {
            1
        } else if c.is_numeric() {
            2
        } else {
            3
        };
        seen[class] = true;
    }
    let present = seen.iter().filter(|s| **s).count();
    (present < usize::from(required)).then_some(Violation::TooFewCharacterClasses { required })
}

/// Refuses a run of the same character longer than `max`.
pub(super) fn repeated_characters(password: &str, max: usize) -> Option<Violation> {
    if max == 0 {
        return None;
    }
    let mut run = 0;
    let mut previous = None;
    for c in password.chars() {
        run = if previous == Some(c) { run + 1 } else { 1 };
        previous = Some(c);
        if run > max {
            return Some(Violation::RepeatedCharacters { max });
        }
    }
    None
}
