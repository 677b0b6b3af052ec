//! The e-mailed links (password reset and address verification): what state a link is bound to, its
//! lifetime, and sending it after the answer.

use crate::flows::passwords::in_words;
use crate::infra::error::ApiError;
use crate::infra::links::{uid, Purpose};
use crate::infra::mail::{Email, Kind};
use crate::infra::state::AppState;
use crate::store::users::User;

/// What a link's token is bound to. A reset link: the password hash (so the link dies when the
/// password changes, its own use included), the last login and the address, as in Django. A
/// verification link: the address it verifies.
pub(crate) fn link_state(purpose: Purpose, user: &User) -> String {
    match purpose {
        Purpose::PasswordReset => format!("{}|{}|{}", user.password, user.last_login.unwrap_or(0), user.email),
        Purpose::VerifyEmail => user.email.clone(),
    }
}

/// The page a link opens, the message that carries it, and how long it works.
pub(crate) fn link_kind(state: &AppState, purpose: Purpose) -> (&'static str, Kind, std::time::Duration) {
    match purpose {
        Purpose::PasswordReset => ("password-reset", Kind::PasswordReset, state.config.password_reset_timeout),
        Purpose::VerifyEmail => ("verify-email", Kind::VerifyEmail, state.config.email_verification_timeout),
    }
}

/// E-mails `user` a `purpose` link: `{public URL}/<page>?uid=…&token=…`.
pub(crate) fn send_link(state: &AppState, user: &User, purpose: Purpose) {
    let (page, kind, lifetime) = link_kind(state, purpose);
    let token = state.links.token(purpose, user.id, &link_state(purpose, user), state.clock.now());
    let link = format!("{}/{page}?uid={}&token={token}", state.config.public_base(), uid(user.id));
    let vars = vec![("email", user.email.clone()), ("link", link), ("valid_for", in_words(lifetime.as_secs()))];
    state.mailer.send(Email { to: user.email.clone(), kind, vars });
}

/// Runs `work` after the answer, so the answer's timing says nothing about the address.
pub(crate) fn in_background(work: impl std::future::Future<Output = Result<(), ApiError>> + Send + 'static) {
    tokio::spawn(async move {
        if let Err(error) = work.await {
            tracing::error!(%error, "background e-mail work failed");
        }
    });
}

/// E-mails `user` a link that verifies their address, valid `LATCHKEY_EMAIL_VERIFICATION_TIMEOUT`.
pub(crate) fn send_verification(state: &AppState, user: &User) {
    send_link(state, user, Purpose::VerifyEmail);
}
