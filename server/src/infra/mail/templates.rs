//! The e-mail templates, compiled in from `server/templates/`: `<kind>.txt` (its first line is the
//! subject, then a blank line, then the text body) and `<kind>.html` (the HTML body). Placeholders are
//! `{{name}}`, filled by the `upon` template engine in a single pass; values are HTML-escaped in the
//! HTML part.

use std::fmt::Write;

use upon::{Engine, Value, ValueAccess, ValueMember};

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
    /// A sign-in code, with the link that signs in with it.
    LoginCode,
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
            Self::LoginCode => "login_code",
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
            Self::LoginCode => {
                (include_str!("../../../templates/login_code.txt"), include_str!("../../../templates/login_code.html"))
            }
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
    let plain = Engine::new();
    let mut escaped = Engine::new();
    escaped.set_default_formatter(&escape_html);
    Rendered {
        subject: fill(&plain, subject.trim(), vars),
        text: fill(&plain, body, vars),
        html: fill(&escaped, html, vars),
    }
}

/// `template` with every `{{name}}` replaced by its value in `vars`, as `engine` formats it. One
/// pass: a value is written out as it is, never read again as a template, so a user's name or
/// address holding `{{link}}` stays that text. A name without a value is left as `{{name}}`.
fn fill(engine: &Engine<'_>, template: &str, vars: &[(&str, String)]) -> String {
    let lookup = |path: &[ValueMember<'_>]| {
        let [ValueMember { access: ValueAccess::Key(name), .. }] = path else {
            return Err("a placeholder is a single name".to_owned());
        };
        let value = vars.iter().find(|(var, _)| var == name).map(|(_, value)| value.clone());
        Ok(Value::String(value.unwrap_or_else(|| format!("{{{{{name}}}}}"))))
    };
    let rendered = engine.compile(template).and_then(|compiled| compiled.render_from_fn(engine, lookup).to_string());
    rendered.unwrap_or_else(|error| {
        tracing::error!(%error, "e-mail template not filled");
        template.to_owned()
    })
}

/// The HTML part's formatter: `&`, `<`, `>`, `"` and `'` in values become character references.
fn escape_html(f: &mut upon::fmt::Formatter<'_>, value: &Value) -> upon::fmt::Result {
    let Value::String(text) = value else { return upon::fmt::default(f, value) };
    for c in text.chars() {
        match c {
            '&' => f.write_str("&amp;")?,
            '<' => f.write_str("&lt;")?,
            '>' => f.write_str("&gt;")?,
            '"' => f.write_str("&quot;")?,
            '\'' => f.write_str("&#x27;")?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Kind; 9] = [
        Kind::VerifyEmail,
        Kind::PasswordReset,
        Kind::PasswordChanged,
        Kind::MfaDeviceAdded,
        Kind::NewLogin,
        Kind::MfaDisabled,
        Kind::AccountDeleted,
        Kind::OrgInvitation,
        Kind::LoginCode,
    ];

    #[test]
    fn every_template_has_a_subject_and_fills_its_placeholders() {
        let mut names = vec!["email", "link", "valid_for", "how", "when", "ip", "reset_link", "device", "user_agent"];
        names.extend(["org", "role", "inviter", "code"]);
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

    #[test]
    fn placeholders_inside_values_are_not_expanded() {
        let email = "{{link}}{link}{{ valid_for }}{% if x %}@example.com";
        let vars = vec![
            ("email", email.to_owned()),
            ("link", "https://latchkey.example/verify?token=secret".to_owned()),
            ("valid_for", "1 hour".to_owned()),
        ];
        let rendered = render(Kind::VerifyEmail, &vars);
        for part in [&rendered.text, &rendered.html] {
            assert_eq!(
                part.matches("token=secret").count(),
                1,
                "the link appears once, where the template has it: {part}"
            );
        }
        assert!(rendered.text.contains(email), "{}", rendered.text);
        assert!(rendered.html.contains(email), "nothing in it to escape: {}", rendered.html);
        // The order of the values changes nothing either.
        let reversed: Vec<_> = vars.into_iter().rev().collect();
        let again = render(Kind::VerifyEmail, &reversed);
        assert_eq!((again.text, again.html), (rendered.text, rendered.html));
    }

    #[test]
    fn a_placeholder_without_a_value_is_left_as_it_is() {
        let rendered = render(Kind::PasswordReset, &[("email", "a@example.com".to_owned())]);
        assert!(rendered.text.contains("{{link}}") && rendered.html.contains("{{valid_for}}"), "{}", rendered.html);
    }
}
