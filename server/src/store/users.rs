//! The user record, its JSON form (docs/api.md#accounts-and-registration) and the queries every resource shares.

use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};
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
    /// Profile fields (docs/api.md#accounts-and-registration), empty when unset.
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

    /// The JSON form of docs/api.md#accounts-and-registration.
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

/// E-mail addresses compare case-insensitively: NFKC, then lowercase, whole address (docs/api.md#conventions).
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

/// Unix seconds as an RFC 3339 UTC timestamp (`2026-11-22T01:02:03Z`), as DRF renders datetimes.
/// RFC 3339 has four-digit years: an instant outside years 0000 to 9999 is rendered as the nearest
/// one inside.
pub fn iso8601(seconds: i64) -> String {
    const FIRST: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    OffsetDateTime::from_unix_timestamp(seconds.clamp(FIRST, LAST))
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Unix seconds of an RFC 3339 date-time as DRF's `DateTimeField` accepts it
/// (`2026-01-02T03:04:05Z`, fractional seconds and a `±HH:MM` offset allowed), or `None`.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let at = match text.strip_suffix(['Z', 'z']) {
        Some(utc) => PrimitiveDateTime::parse(
            utc,
            format_description!(
                "[year]-[month padding:none]-[day padding:none][first [T][ ]]\
                 [hour padding:none]:[minute padding:none]:[second padding:none][optional [.[subsecond]]]"
            ),
        )
        .ok()?
        .assume_utc(),
        None => OffsetDateTime::parse(
            text,
            format_description!(
                "[year]-[month padding:none]-[day padding:none][first [T][ ]]\
                 [hour padding:none]:[minute padding:none]:[second padding:none][optional [.[subsecond]]]\
                 [offset_hour sign:mandatory padding:none]:[offset_minute padding:none]"
            ),
        )
        .ok()?,
    };
    // Django's dates start at year 1 and its offsets stop short of a day; the instant must also be
    // one that `iso8601` can render.
    let in_range = at.year() >= 1 && at.offset().whole_hours().abs() <= 23;
    Some(at.checked_to_offset(UtcOffset::UTC).filter(|_| in_range)?.unix_timestamp())
}

/// Inserts a verified staff superuser (`latchkey createsuperuser`); its id.
pub async fn create_superuser(db: &Db, email: &str, hash: &str, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as(
        "INSERT INTO users (email, password, is_staff, is_superuser, is_verified, date_joined) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(email)
    .bind(hash)
    .bind(crate::infra::db::flag(true))
    .bind(crate::infra::db::flag(true))
    .bind(crate::infra::db::flag(true))
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.0)
}

/// Deletes the user (sessions, keys, devices and memberships go with it by cascade).
pub async fn delete(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(())
}

/// Marks the address verified if the user still has `email`; whether it changed anything.
pub async fn mark_verified(db: &Db, id: i64, email: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET is_verified = 1 WHERE id = $1 AND email = $2 AND is_verified = 0")
        .bind(id)
        .bind(email)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Writes `changes` (column, value) to the user's row and returns it; `None` when there is nothing
/// to change. Column names come from the callers' fixed lists, never from a request.
pub async fn save_profile(db: &Db, id: i64, changes: &[(&str, Option<String>)]) -> Result<Option<User>, sqlx::Error> {
    if changes.is_empty() {
        return Ok(None);
    }
    let sets: Vec<String> =
        changes.iter().enumerate().map(|(i, (column, _))| format!("{column} = ${}", i + 1)).collect();
    let sql =
        format!("UPDATE users SET {} WHERE id = ${} RETURNING {}", sets.join(", "), changes.len() + 1, USER_COLUMNS);
    let mut query = sqlx::query(&sql);
    for (_, value) in changes {
        query = query.bind(value.clone());
    }
    let row = query.bind(id).fetch_one(&db.pool).await?;
    User::from_row(&row).map(Some)
}

/// Replaces `user`'s password hash if it is still the one `user` was read with (a concurrent change
/// wins once); whether it did.
pub async fn replace_password(
    db: &Db,
    user: &User,
    new_hash: &str,
    verified: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql =
        "UPDATE users SET password = $1, password_changed_at = $2, is_verified = $3 WHERE id = $4 AND password = $5";
    let done = sqlx::query(sql)
        .bind(new_hash)
        .bind(now)
        .bind(crate::infra::db::flag(verified))
        .bind(user.id)
        .bind(&user.password)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The `LIKE` filter of the admin's user search: `$1` the search (empty matches all), `$2`-`$5` its pattern.
const SEARCH: &str =
    "($1 = '' OR LOWER(email) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(username, '')) LIKE $3 ESCAPE '\\' \
                      OR LOWER(first_name) LIKE $4 ESCAPE '\\' OR LOWER(last_name) LIKE $5 ESCAPE '\\')";

/// `search` (lowercase) as a `LIKE` pattern that matches it anywhere, its wildcards escaped.
fn search_pattern(search: &str) -> String {
    format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// How many users match `search` (lowercase) in their address, username or names.
pub async fn count_matching(db: &Db, search: &str) -> Result<i64, sqlx::Error> {
    let pattern = search_pattern(search);
    let sql = format!("SELECT COUNT(*) AS n FROM users WHERE {SEARCH}");
    let row = sqlx::query(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .fetch_one(&db.pool)
        .await?;
    row.try_get("n")
}

/// The users matching `search`, by id, `limit` from `offset`.
pub async fn matching(db: &Db, search: &str, limit: i64, offset: i64) -> Result<Vec<User>, sqlx::Error> {
    let pattern = search_pattern(search);
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {SEARCH} ORDER BY id LIMIT $6 OFFSET $7");
    let rows = sqlx::query(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(User::from_row).collect()
}

/// Sets one of the flags staff may change (`is_active`, `is_staff`, `is_verified`).
pub async fn set_flag(db: &Db, id: i64, flag: &str, value: bool) -> Result<(), sqlx::Error> {
    debug_assert!(["is_active", "is_staff", "is_verified"].contains(&flag));
    let sql = format!("UPDATE users SET {flag} = $1 WHERE id = $2");
    sqlx::query(&sql).bind(crate::infra::db::flag(value)).bind(id).execute(&db.pool).await?;
    Ok(())
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
        assert_eq!(iso8601(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(iso8601(i64::MAX), "9999-12-31T23:59:59Z", "past four-digit years: the last one");
        assert_eq!(iso8601(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn datetimes_parse_with_django_leniency() {
        for text in ["2023-11-14 22:13:20z", "2023-11-14T22:13:20.123456789123Z", " 2023-11-14T22:13:20Z "] {
            assert_eq!(parse_iso8601(text), Some(1_700_000_000), "{text}");
        }
        assert_eq!(parse_iso8601("2023-1-2T3:4:5+2:0"), parse_iso8601("2023-01-02T01:04:05Z"));
        for bad in
            ["+2023-11-14T22:13:20Z", "0000-01-01T00:00:00Z", "2023-11-14T22:13:20+24:00", "9999-12-31T23:00:00-02:00"]
        {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
