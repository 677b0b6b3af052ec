//! The password lifecycle's decisions: a new password checked against the policy and the history,
//! the replacement (history kept, sessions revoked as asked), expiry, and the notices the user gets
//! by e-mail.

use crate::infra::client::Client;
use crate::infra::error::{ApiError, FieldErrors};
use crate::infra::mail::{Email, Kind};
use crate::infra::state::AppState;
use crate::store::audit::AuditEvent;
use crate::store::users::{iso8601, User};
use latchkey_core::policy::{UserAttributes, Validation, Violation};
use serde_json::json;

use crate::infra::config::BreachedPasswords;

/// The facts of `user` the similarity rule compares a password with.
pub(crate) fn attributes(user: &User) -> UserAttributes {
    UserAttributes {
        email: Some(user.email.clone()),
        username: user.username.clone(),
        first_name: Some(user.first_name.clone()),
        last_name: Some(user.last_name.clone()),
    }
}

/// Checks a new password of `user` against the policy and, when the policy keeps a history, against
/// the current and former hashes (each comparison is a password hash: it runs on the hashing pool).
/// A refusal is `{field: [messages]}`.
pub(crate) async fn check_new_password(
    state: &AppState,
    user: &User,
    password: &str,
    field: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let attributes = attributes(user);
    let verdict: Validation = if state.policy.history == 0 {
        state.policy.validate(password, &attributes)
    } else {
        let mut previous = vec![user.password.clone()];
        previous.extend(crate::store::password_history::of(state, user.id).await?);
        let claimant = crate::infra::passwords::Claimant::new(user.email.clone(), client);
        let (policy, password) = (state.policy.clone(), password.to_owned());
        state.hasher.validate_with_history(policy, password, attributes, previous, &claimant).await?
    };
    let verdict = with_breach_check(state, verdict, password).await;
    if verdict.valid {
        return Ok(());
    }
    let messages = verdict.violations.iter().map(|v| v.message()).collect();
    Err(ApiError::Validation(FieldErrors::from([(field.to_owned(), messages)])))
}

/// `verdict` with the breached-password check's, when the policy accepted the password (one that
/// is refused anyway is not worth a request, nor the wait for one).
pub(crate) async fn with_breach_check(state: &AppState, mut verdict: Validation, password: &str) -> Validation {
    if verdict.valid {
        if let Some(violation) = breach_violation(state, password).await {
            verdict.violations.push(violation);
            verdict.valid = false;
        }
    }
    verdict
}

/// [`Violation::Breached`] when the range API of `LATCHKEY_BREACHED_PASSWORDS` has seen `password`
/// at least `LATCHKEY_BREACHED_MIN_COUNT` times. None when the check is off, and when the service
/// fails: the password is accepted then (a breach service being down must not stop sign-ups and
/// resets), and the failure counted and logged.
async fn breach_violation(state: &AppState, password: &str) -> Option<Violation> {
    let BreachedPasswords::Range(base) = &state.config.breached_passwords else { return None };
    match state.breached.count(base, password, state.clock.now()).await {
        Ok(count) => (count >= state.config.breached_min_count).then_some(Violation::Breached { count }),
        Err(e) => {
            state.breached.count_failure();
            tracing::warn!("breached-password check failed, the password is accepted: {e}");
            None
        }
    }
}

/// How a password was replaced, for the notice and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Changed,
    Reset,
}

/// Replaces `user`'s password with `new_hash` if it is still `user.password` (a compare-and-set, so
/// that of two uses of one reset link only one wins); returns false otherwise. Keeps the old hash
/// for the history rule, revokes every session but `keep`, audits, and sends the notice.
pub(crate) async fn replace_password(
    state: &AppState,
    user: &User,
    new_hash: &str,
    keep: Option<&str>,
    how: Change,
    client: &Client,
) -> Result<bool, ApiError> {
    let now = state.clock.now();
    // A reset proves the mailbox, as a verification link would.
    let verified = how == Change::Reset || user.is_verified;
    if !crate::store::users::replace_password(&state.db, user, new_hash, verified, now).await? {
        return Ok(false);
    }
    keep_history(state, user, now).await?;
    crate::store::sessions::revoke_all(state, user.id, keep).await?;
    let (event, verb) = match how {
        Change::Changed => (AuditEvent::PasswordChanged, "changed"),
        Change::Reset => (AuditEvent::PasswordReset, "reset"),
    };
    let actor = crate::store::audit::Actor { user_id: Some(user.id), client, session_id: keep };
    // A reset is for a password that may be lost or stolen, so the keys go too; a change proves the
    // old password, and the keys stay.
    if how == Change::Reset {
        crate::store::api_keys::revoke_all(state, user.id, actor, "password_reset").await?;
    }
    crate::store::audit::record(state, event, actor, json!({})).await?;
    notify(state, user, Kind::PasswordChanged, client, vec![("how", verb.to_owned())]);
    Ok(true)
}

/// Files the replaced hash in `password_history`, keeping as many as the policy's `history` asks
/// (the current password counts as one of them).
pub(crate) async fn keep_history(state: &AppState, user: &User, now: i64) -> Result<(), ApiError> {
    let keep = i64::from(state.policy.history).saturating_sub(1);
    crate::store::password_history::keep(state, user, keep, now).await
}

/// Whether `user`'s password is older than `LATCHKEY_PASSWORD_MAX_AGE`.
pub(crate) fn password_expired(state: &AppState, user: &User) -> bool {
    let Some(max_age) = state.config.password_max_age else { return false };
    let max_age = crate::infra::clock::seconds(max_age);
    let changed = user.password_changed_at.unwrap_or(user.date_joined);
    state.clock.now() >= changed.saturating_add(max_age)
}

/// Sends the new-login notice when none of `user`'s sessions, open or closed, came from this IP
/// address and user agent. The very first session (registration) is not news.
pub(crate) async fn notify_if_new_device(state: &AppState, user: &User, client: &Client) -> Result<(), ApiError> {
    let (sessions, same) = crate::store::sessions::count_from(state, user.id, &client.ip, &client.user_agent).await?;
    if sessions > 0 && same == 0 {
        notify(state, user, Kind::NewLogin, client, vec![("user_agent", client.user_agent.clone())]);
    }
    Ok(())
}

/// Sends `kind`'s notice to `user`, with the time, the client's IP and a link to the front-end.
pub(crate) fn notify(
    state: &AppState,
    user: &User,
    kind: Kind,
    client: &Client,
    mut vars: Vec<(&'static str, String)>,
) {
    let ip = if client.ip.is_empty() { "an unknown address".to_owned() } else { client.ip.clone() };
    let when = iso8601(state.clock.now()).replace('T', " ").trim_end_matches('Z').to_owned();
    vars.extend([
        ("email", user.email.clone()),
        ("when", when),
        ("ip", ip),
        ("reset_link", format!("{}/", state.config.public_base())),
    ]);
    state.mailer.send(Email { to: user.email.clone(), kind, vars });
}

/// A duration in words for e-mails: `1 hour`, `3 days`, `90 minutes`.
pub(crate) fn in_words(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s % 86_400 == 0 && s >= 86_400 => (s / 86_400, "day"),
        s if s % 3600 == 0 && s >= 3600 => (s / 3600, "hour"),
        s if s % 60 == 0 && s >= 60 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(in_words(3600), "1 hour");
        assert_eq!(in_words(3 * 86_400), "3 days");
        assert_eq!(in_words(90 * 60), "90 minutes");
        assert_eq!(in_words(1), "1 second");
    }
}
