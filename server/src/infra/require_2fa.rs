//! `LATCHKEY_REQUIRE_2FA` (docs/api.md#2fa-enforcement): who must set up a second factor. A user it
//! applies to who has none still logs in, but can do nothing except set one up
//! (`crate::http::enrollment`).

/// Who must have a second factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Require2fa {
    /// Nobody: second factors are optional (the default).
    #[default]
    Off,
    /// Staff users (`is_staff`).
    Staff,
    /// Every user.
    All,
}

impl Require2fa {
    /// Whether a user with this `is_staff` flag must have a second factor.
    pub fn applies_to(self, is_staff: bool) -> bool {
        match self {
            Self::Off => false,
            Self::Staff => is_staff,
            Self::All => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Require2fa;

    #[test]
    fn each_mode_names_who_must_enroll() {
        assert!(!Require2fa::Off.applies_to(true) && !Require2fa::Off.applies_to(false));
        assert!(Require2fa::Staff.applies_to(true) && !Require2fa::Staff.applies_to(false));
        assert!(Require2fa::All.applies_to(true) && Require2fa::All.applies_to(false));
    }
}
