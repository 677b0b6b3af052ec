//! The e-mail templates, compiled in from `server/templates/`: `<kind>.txt` (its first line is the
//! subject, then a blank line, then the text body) and `<kind>.html` (the HTML body). Placeholders are
//! `{{name}}`; values are HTML-escaped in the HTML part.

/// The messages Latchkey sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The link that verifies an e-mail address.
    VerifyEmail,
    /// The link that resets a password.
    PasswordReset,
    /// Notice: the password was changed or reset.
    PasswordChanged,
    /// Notice: a TOTP device was added.
    MfaDeviceAdded,
    /// Notice: a login from a device not seen before.
    NewLogin,
    /// Notice: two-factor authentication was turned off.
    MfaDisabled,
    /// Notice: the account was deleted.
    AccountDeleted,
    /// An invitation to join an organization.
    OrgInvitation,
}

impl Kind {
    /// The template's file name, also the `kind` in logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::MfaDeviceAdded => "mfa_device_added",
            Self::NewLogin => "new_login",
            Self::MfaDisabled => "mfa_disabled",
            Self::AccountDeleted => "account_deleted",
            Self::OrgInvitation => "org_invitation",
        }
    }

    fn sources(self) -> (&'static str, &'static str) {
        match self {
            Self::VerifyEmail => (
                include_str!("../../../templates/verify_email.txt"),
                include_str!("../../../templates/verify_email.html"),
            ),
            Self::PasswordReset => (
                include_str!("../../../templates/password_reset.txt"),
                include_str!("../../../templates/password_reset.html"),
            ),
            Self::PasswordChanged => (
                include_str!("../../../templates/password_changed.txt"),
                include_str!("../../../templates/password_changed.html"),
            ),
            Self::MfaDeviceAdded => (
                include_str!("../../../templates/mfa_device_added.txt"),
                include_str!("../../../templates/mfa_device_added.html"),
            ),
            Self::NewLogin => {
                (include_str!("../../../templates/new_login.txt"), include_str!("../../../templates/new_login.html"))
            }
            Self::MfaDisabled => (
                include_str!("../../../templates/mfa_disabled.txt"),
                include_str!("../../../templates/mfa_disabled.html"),
            ),
            Self::AccountDeleted => (
                include_str!("../../../templates/account_deleted.txt"),
                include_str!("../../../templates/account_deleted.html"),
            ),
            Self::OrgInvitation => (
                include_str!("../../../templates/org_invitation.txt"),
                include_str!("../../../templates/org_invitation.html"),
            ),
        }
    }
}

/// A rendered message.
#[derive(Debug)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Fills `kind`'s templates with `vars`.
pub fn render(kind: Kind, vars: &[(&str, String)]) -> Rendered {
    let (text, html) = kind.sources();
    let (subject, body) = text.split_once("\n\n").unwrap_or((text, ""));
    Rendered {
        subject: fill(subject.trim(), vars, |v| v.to_owned()),
        text: fill(body, vars, |v| v.to_owned()),
        html: fill(html, vars, escape_html),
    }
}

fn fill(template: &str, vars: &[(&str, String)], escape: impl Fn(&str) -> String) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{{{name}}}}}"), &escape(value));
    }
    out
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Kind; 8] = [
        Kind::VerifyEmail,
        Kind::PasswordReset,
        Kind::PasswordChanged,
        Kind::MfaDeviceAdded,
        Kind::NewLogin,
        Kind::MfaDisabled,
        Kind::AccountDeleted,
        Kind::OrgInvitation,
    ];

    #[test]
    fn every_template_has_a_subject_and_fills_its_placeholders() {
        let mut names = vec!["email", "link", "valid_for", "how", "when", "ip", "reset_link", "device", "user_agent"];
        names.extend(["org", "role", "inviter"]);
        let vars: Vec<(&str, String)> = names.into_iter().map(|name| (name, format!("<{name}>"))).collect();
        for kind in ALL {
            let rendered = render(kind, &vars);
            assert!(!rendered.subject.is_empty() && !rendered.subject.contains('\n'), "{kind:?}");
            for part in [&rendered.subject, &rendered.text, &rendered.html] {
                assert!(!part.contains("{{"), "{kind:?}: a placeholder is left: {part}");
            }
            assert!(rendered.text.contains("<email>"), "{kind:?}");
            assert!(rendered.html.contains("&lt;email&gt;") && !rendered.html.contains("<email>"), "{kind:?}");
        }
    }
}
