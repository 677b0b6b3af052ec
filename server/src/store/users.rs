//! The user record, its JSON form (API.md §4) and the queries every resource shares.

use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use unicode_normalization::UnicodeNormalization;

use crate::infra::db::Db;
use crate::infra::error::ApiError;

/// A user row.
#[derive(Debug, Clone)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Normalized e-mail address (NFKC, lowercase).
    pub email: String,
    /// Optional unique username.
    pub username: Option<String>,
    /// Password hash (argon2id PHC, or a Django format until the next login).
    pub password: String,
    /// Profile fields (API.md §4), empty when unset.
    pub first_name: String,
    /// See `first_name`.
    pub last_name: String,
    /// See `first_name`.
    pub bio: String,
    /// See `first_name`.
    pub phone_number: String,
    /// ISO date, or none.
    pub birth_date: Option<String>,
    /// See `first_name`.
    pub timezone: String,
    /// See `first_name`.
    pub language: String,
    /// See `first_name`.
    pub website: String,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// Staff may use the admin API.
    pub is_staff: bool,
    /// Superusers.
    pub is_superuser: bool,
    /// The e-mail address was verified.
    pub is_verified: bool,
    /// Unix seconds.
    pub date_joined: i64,
    /// Unix seconds of the last successful login.
    pub last_login: Option<i64>,
    /// A confirmed TOTP device exists: login needs a second factor.
    pub mfa_enabled: bool,
    /// Unix seconds of the last password change; `None` if unchanged since `date_joined`.
    pub password_changed_at: Option<i64>,
}

/// The columns [`User::from_row`] reads, in a `SELECT`.
pub const USER_COLUMNS: &str = "id, email, username, password, first_name, last_name, bio, phone_number, birth_date, \
     timezone, language, website, is_active, is_staff, is_superuser, is_verified, date_joined, last_login, mfa_enabled, \
     password_changed_at";

impl User {
    /// Replaces the password hash (a rehash of the same password: no history, no notice).
    pub async fn set_password_hash(db: &Db, id: i64, hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET password = $1 WHERE id = $2").bind(hash).bind(id).execute(&db.pool).await?;
        Ok(())
    }

    /// Reads a row selected with [`USER_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let flag = |name: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(name)? != 0) };
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            username: row.try_get("username")?,
            password: row.try_get("password")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            bio: row.try_get("bio")?,
            phone_number: row.try_get("phone_number")?,
            birth_date: row.try_get("birth_date")?,
            timezone: row.try_get("timezone")?,
            language: row.try_get("language")?,
            website: row.try_get("website")?,
            is_active: flag("is_active")?,
            is_staff: flag("is_staff")?,
            is_superuser: flag("is_superuser")?,
            is_verified: flag("is_verified")?,
            date_joined: row.try_get("date_joined")?,
            last_login: row.try_get("last_login")?,
            mfa_enabled: flag("mfa_enabled")?,
            password_changed_at: row.try_get("password_changed_at")?,
        })
    }

    /// The user with this id.
    pub async fn by_id(db: &Db, id: i64) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&db.pool).await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// The user with this (already normalized) e-mail address.
    pub async fn by_email(db: &Db, email: &str) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(&sql).bind(email).fetch_optional(&db.pool).await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// The user with this username.
    pub async fn by_username(db: &Db, username: &str) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(&sql).bind(username).fetch_optional(&db.pool).await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// Inserts a new user and returns it as stored. `email` must already be normalized. A taken
    /// e-mail address or username is a unique violation (see [`is_unique_violation`]).
    pub async fn create(db: &Db, new: &NewUser<'_>) -> Result<Self, sqlx::Error> {
        let sql = format!(
            "INSERT INTO users (email, username, password, first_name, last_name, date_joined) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.email)
            .bind(new.username)
            .bind(new.password_hash)
            .bind(new.first_name)
            .bind(new.last_name)
            .bind(new.date_joined)
            .fetch_one(&db.pool)
            .await?;
        Self::from_row(&row)
    }

    /// Whether another user than `except` (when given) has this username (compared exactly, as
    /// Django's unique constraint does).
    pub async fn username_taken(db: &Db, username: &str, except: Option<i64>) -> Result<bool, ApiError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE username = $1 AND id <> $2")
            .bind(username)
            .bind(except.unwrap_or(0))
            .fetch_one(&db.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The JSON form of API.md §4.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "bio": self.bio,
            "phone_number": self.phone_number,
            "birth_date": self.birth_date,
            "timezone": self.timezone,
            "language": self.language,
            "website": self.website,
            "is_verified": self.is_verified,
            "is_staff": self.is_staff,
            "mfa_enabled": self.mfa_enabled,
            "date_joined": iso8601(self.date_joined),
            "last_login": self.last_login.map(iso8601),
        })
    }
}

/// The longest e-mail address and username, in characters, as Django's `AbstractUser` declares
/// them. Every request that names an account is held to them before any other work.
pub const EMAIL_MAX: usize = 254;
/// See [`EMAIL_MAX`].
pub const USERNAME_MAX: usize = 150;

/// A username as Django's `AbstractBaseUser.normalize_username` stores it: NFKC, so that `ｊｏｈｎ`
/// and `john` are one name.
pub fn normalize_username(username: &str) -> String {
    username.nfkc().collect()
}

/// E-mail addresses compare case-insensitively: NFKC, then lowercase, whole address (API.md §2).
pub fn normalize_email(email: &str) -> String {
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// A user about to be inserted by [`User::create`].
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// Normalized e-mail address ([`normalize_email`]).
    pub email: &'a str,
    /// Optional unique username.
    pub username: Option<&'a str>,
    /// The encoded password hash.
    pub password_hash: &'a str,
    /// Profile field, empty when unset.
    pub first_name: &'a str,
    /// Profile field, empty when unset.
    pub last_name: &'a str,
    /// Unix seconds.
    pub date_joined: i64,
}

/// The error of an `INSERT`/`UPDATE` that hit a `UNIQUE` constraint: a concurrent request took the
/// e-mail address or username between our check and our write.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
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
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.next().is_some() || !digits(year, 4..=4) || !digits(month, 1..=2) || !digits(day, 1..=2) {
        return None;
    }
    let (year, month, day): (u32, u32, u32) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (year >= 1 && (1..=days).contains(&day)).then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// Unix seconds as an RFC 3339 UTC timestamp (`2026-11-22T01:02:03Z`), as DRF renders datetimes.
pub fn iso8601(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Unix seconds of an RFC 3339 date-time as DRF's `DateTimeField` accepts it
/// (`2026-01-02T03:04:05Z`, fractional seconds and a `±HH:MM` offset allowed), or `None`.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', ' '])?;
    let date = parse_date(date)?;
    let (year, month, day): (i64, i64, i64) =
        (date.get(..4)?.parse().ok()?, date.get(5..7)?.parse().ok()?, date.get(8..10)?.parse().ok()?);
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(at) => rest.split_at(at),
        None => return None,
    };
    let offset = match offset {
        "Z" | "z" => 0,
        _ => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = offset.get(1..)?.split_once(':')?;
            let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let time = time.split('.').next()?;
    let parts: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [hour, minute, second] = parts.as_slice() else { return None };
    if *hour > 23 || *minute > 59 || *second > 59 {
        return None;
    }
    // Days-from-civil (Howard Hinnant's algorithm), the inverse of `iso8601`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_as_drf_reads_them() {
        for seconds in [0, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(parse_iso8601(&iso8601(seconds)), Some(seconds));
        }
        assert_eq!(parse_iso8601("2023-11-14T22:13:20.123Z"), Some(1_700_000_000));
        assert_eq!(parse_iso8601("2023-11-15T00:13:20+02:00"), Some(1_700_000_000));
        assert_eq!(parse_iso8601("2023-11-14T20:13:20-02:00"), Some(1_700_000_000));
        for bad in ["", "2023-11-14", "2023-11-14T22:13:20", "2023-02-30T00:00:00Z", "2023-11-14T24:00:00Z", "soon"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

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

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }
}
