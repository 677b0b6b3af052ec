//! The rules of a user's fields, as Django's `AbstractUser` holds them: how an address and a username
//! are normalized and validated, and how a birth date is read.

use time::macros::format_description;
use time::Date;
use unicode_normalization::UnicodeNormalization;

/// A username as Django's `AbstractBaseUser.normalize_username` stores it: NFKC, so that `ｊｏｈｎ`
/// and `john` are one name.
pub fn normalize_username(username: &str) -> String {
    username.nfkc().collect()
}

/// E-mail addresses compare case-insensitively: NFKC, then lowercase, whole address (docs/api.md#conventions).
pub fn normalize_email(email: &str) -> String {
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// Django's `EmailValidator`, applied to a normalized address: a dot-atom or quoted local part, and
/// a domain of dot-separated labels ending in a top-level label of at least two characters, or
/// `localhost`, or a bracketed IP literal. Non-ASCII labels are allowed (Django accepts IDNs).
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    if email.len() > 320 || !(is_dot_atom(local) || is_quoted_local(local)) {
        return false;
    }
    if domain == "localhost" {
        return true;
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return literal.parse::<std::net::IpAddr>().is_ok();
    }
    is_domain_name(domain)
}

fn is_dot_atom(local: &str) -> bool {
    let atom_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{}|~-".contains(c);
    !local.is_empty() && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atom_char))
}

fn is_quoted_local(local: &str) -> bool {
    let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else { return false };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        let ok = match c {
            '\\' => chars.next().is_some_and(|e| e.is_ascii() && !matches!(e, '\0' | '\n' | '\r')),
            c => c.is_ascii() && !matches!(c, '\0' | '\t' | '\n' | '\r' | ' ' | '"'),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Dot-separated labels of letters, digits and inner hyphens, at most 63 characters each, at
/// least two labels, the last at least two characters long.
pub fn is_domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &str| {
        let count = label.chars().count();
        (1..=63).contains(&count)
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    labels.len() >= 2
        && labels.iter().all(|label| label_ok(label))
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2)
}

/// Django's `UnicodeUsernameValidator`: letters, digits and `@`, `.`, `+`, `-`, `_` only.
pub fn is_valid_username(username: &str) -> bool {
    !username.is_empty() && username.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
}

/// Django's `parse_date`: `YYYY-M-D` with one- or two-digit month and day, a real calendar date;
/// answered in the canonical `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<String> {
    django_date(text)?.format(format_description!("[year]-[month]-[day]")).ok()
}

/// A date of Django's form. `[year]` would also take a leading sign and the year 0; Django takes
/// neither.
fn django_date(text: &str) -> Option<Date> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let date = Date::parse(text, format_description!("[year]-[month padding:none]-[day padding:none]")).ok()?;
    (date.year() >= 1).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalize_with_nfkc_and_lowercase() {
        assert_eq!(normalize_email("  Alice@Example.COM "), "alice@example.com");
        assert_eq!(normalize_email("ｂｏｂ@example.com"), "bob@example.com");
    }

    #[test]
    fn emails_validate_like_django() {
        for good in [
            "a@example.com",
            "first.last+tag@sub.example.co",
            "x@localhost",
            "\"a\\ b\"@example.com",
            "a@[::1]",
            "a@bücher.de",
        ] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a..b@example.com",
            ".a@example.com",
            "a@-x.com",
            "a@x.c",
            "a b@example.com",
            "\"a b\"@example.com",
            "a@exa mple.com",
            "a@[1.2.3]",
            "ü@example.com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn usernames_validate_like_django() {
        assert!(is_valid_username("jean-luc.picard+1@starfleet_"));
        assert!(is_valid_username("zoë"));
        assert!(!is_valid_username("two words"));
        assert!(!is_valid_username("semi;colon"));
        assert!(!is_valid_username(""));
    }

    #[test]
    fn dates_parse_like_django() {
        assert_eq!(parse_date("1990-01-31").as_deref(), Some("1990-01-31"));
        assert_eq!(parse_date("2000-2-29").as_deref(), Some("2000-02-29"));
        for bad in [
            "1900-02-29",
            "2024-13-01",
            "2024-04-31",
            "0000-01-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00",
            "",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
