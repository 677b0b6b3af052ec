//! Signing in with a code or link e-mailed to the account's address
//! (docs/api.md#e-mail-codes-and-magic-links).
//!
//! - **The same answer for every address.** A request stores a flow for whatever address it names,
//!   registered or not, and answers its `flow_id`; the lookup of the account and the message happen
//!   in a task of their own, after the answer. An unknown address's flow is a row like any other,
//!   whose code nobody was sent: it counts tries down and dies exactly as a known one's.
//! - **Bound to the flow that asked.** The code is stored as an HMAC of the flow id and the code
//!   (`Vault::one_time_code_hash`), so a code is worth nothing with another flow's id; the link
//!   carries the flow id and a 256-bit token of its own.
//! - **Attempt-limited.** Five tries per flow, counted before any compare (`crate::store::login_codes`),
//!   and the password login's lockouts (the address's and the network's) on top, so that asking for
//!   new flows does not buy new guesses beyond them. The `code:ip` and `code:email` limits bound the
//!   rows one client can make and the messages one address can get.
//! - **A code proves the address**: the account is marked verified when it signs in with one.

use rand_core::{OsRng, RngCore};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::flows::email_links::in_background;
use crate::flows::login::{login_failed, reserve_all, settle_success, NO_ACTIVE_ACCOUNT};
use crate::infra::client::Client;
use crate::infra::config::Limit;
use crate::infra::digest::sha256_hex;
use crate::infra::error::ApiError;
use crate::infra::mail::{Email, Kind};
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::limits::{Lock, Reservation};
use crate::store::login_codes::{self, NewFlow, LIFETIME, MAX_ATTEMPTS};
use crate::store::users::{self, User};

/// The answer to every request, whatever the address.
pub(crate) const REQUESTED: &str = "If the address is registered, a code has been sent.";

/// The page the e-mailed link opens, under the public URL.
pub(crate) const LINK_PAGE: &str = "/login/code";

/// What is given to sign in with a flow.
#[derive(Debug)]
pub(crate) enum Proof {
    /// The six digits from the e-mail.
    Code(String),
    /// The token of the e-mailed link.
    Token(String),
}

/// `401 code_invalid`, with the tries the flow has left (0: it is dead, ask for a new code).
pub(crate) fn code_invalid(attempts_left: i64) -> ApiError {
    ApiError::Token {
        detail: "The code is invalid or has expired.".into(),
        code: "code_invalid",
        extra: Some(json!({ "attempts_left": attempts_left })),
    }
}

/// Starts a flow for `email` (normalized) and answers its `flow_id`; an active account with that
/// address is sent its code and link after the answer.
///
/// # Errors
/// 429 past `code:ip` or `code:email`.
pub(crate) async fn request(state: &AppState, client: &Client, email: String) -> Result<String, ApiError> {
    crate::store::limits::hit(state, Limit::CodeIp, &client.network).await?;
    crate::store::limits::hit(state, Limit::CodeEmail, &email).await?;
    let flow_id = random_hex();
    let code = six_digits();
    let token = random_hex();
    let code_hash = state.vault.one_time_code_hash(&flow_id, &code);
    let flow = NewFlow { flow_id: &flow_id, email: &email, code_hash: &code_hash, token_hash: &sha256_hex(&token) };
    login_codes::put(state, &flow).await?;
    let task = (state.clone(), client.clone(), flow_id.clone());
    in_background(async move {
        let (state, client, flow_id) = task;
        let Some(user) = User::by_email(&state.db, &email).await?.filter(|u| u.is_active) else { return Ok(()) };
        send(&state, &user, (&flow_id, &code, &token));
        let actor = Actor { user_id: Some(user.id), client: &client, session_id: None };
        audit::record(&state, AuditEvent::LoginCodeSent, actor, json!({})).await
    });
    Ok(flow_id)
}

/// E-mails `user` the code and the link `{public URL}/login/code?flow=…&token=…`.
fn send(state: &AppState, user: &User, (flow_id, code, token): (&str, &str, &str)) {
    let link = format!("{}{LINK_PAGE}?flow={flow_id}&token={token}", state.config.public_base());
    let valid_for = crate::flows::passwords::in_words(LIFETIME.unsigned_abs());
    let vars = vec![("email", user.email.clone()), ("code", code.to_owned()), ("link", link), ("valid_for", valid_for)];
    state.mailer.send(Email { to: user.email.clone(), kind: Kind::LoginCode, vars });
}

/// The account the flow `flow_id` signs in to, once `proof` is right: a try is counted under the
/// flow and the lockouts first; the right proof spends the flow and marks the address verified.
///
/// # Errors
/// `401 code_invalid` (with `attempts_left`) for a wrong proof or a flow that is unknown, spent,
/// dead or expired; 429 under a lockout; `401 No active account…` when the address has no active
/// account (deleted or deactivated since the code was sent).
pub(crate) async fn redeem(state: &AppState, client: &Client, flow_id: &str, proof: &Proof) -> Result<User, ApiError> {
    let Some(email) = login_codes::email_of(state, flow_id).await? else { return Err(code_invalid(0)) };
    // The network's lockout first, as at the password login: the account's is the address's.
    let locks: Vec<Lock> = Lock::ip(state, &client.network).into_iter().chain([Lock::account(state, &email)]).collect();
    let reservations = reserve_all(state, &locks, client, &email).await?;
    let Some(counted) = login_codes::count_attempt(state, flow_id).await? else {
        // Spent, dead or expired between the two statements: nothing was compared.
        release(reservations).await?;
        return Err(code_invalid(0));
    };
    let right = match proof {
        Proof::Code(code) => {
            state.vault.one_time_code_hash(flow_id, code).as_bytes().ct_eq(counted.code_hash.as_bytes())
        }
        Proof::Token(token) => sha256_hex(token).as_bytes().ct_eq(counted.token_hash.as_bytes()),
    };
    let user = User::by_email(&state.db, &counted.email).await?;
    let user_id = user.as_ref().map(|u| u.id);
    if !bool::from(right) {
        let attempts_left = (MAX_ATTEMPTS - counted.attempts).max(0);
        if attempts_left == 0 {
            login_codes::kill(state, flow_id).await?;
        }
        for reservation in reservations {
            reservation.failed().await?;
        }
        login_failed(state, user_id, client, &counted.email, "code_invalid").await?;
        return Err(code_invalid(attempts_left));
    }
    // Of two requests racing with the right code, one spends the flow.
    if login_codes::spend(state, flow_id).await?.is_none() {
        release(reservations).await?;
        return Err(code_invalid(0));
    }
    let Some(user) = user.filter(|u| u.is_active) else {
        for reservation in reservations {
            reservation.failed().await?;
        }
        let reason = if user_id.is_some() { "inactive" } else { "bad_credentials" };
        login_failed(state, user_id, client, &counted.email, reason).await?;
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
    };
    settle_success(reservations).await?;
    // The code came to this address: it is the account's, as a followed verification link proves.
    if users::mark_verified(&state.db, user.id, &user.email).await? {
        let actor = Actor { user_id: Some(user.id), client, session_id: None };
        audit::record(state, AuditEvent::EmailVerified, actor, json!({ "by": "login_code" })).await?;
    }
    User::by_id(&state.db, user.id).await?.ok_or(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT))
}

async fn release(reservations: Vec<Reservation>) -> Result<(), ApiError> {
    for reservation in reservations {
        reservation.release().await?;
    }
    Ok(())
}

/// 32 random bytes as 64 hex characters: a flow id or a link token.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    latchkey_core::encoding::hex(&bytes)
}

/// Six uniformly random digits (rejection sampling: `u32` values past the last whole million are
/// drawn again, so no code is likelier than another).
pub(crate) fn six_digits() -> String {
    loop {
        let n = OsRng.next_u32();
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_ids_are_256_bits() {
        for _ in 0..1000 {
            let code = six_digits();
            assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
        let (a, b) = (random_hex(), random_hex());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn a_dead_flow_says_so() {
        let ApiError::Token { code, extra, .. } = code_invalid(0) else { panic!("a 401") };
        assert_eq!(code, "code_invalid");
        assert_eq!(extra, Some(json!({"attempts_left": 0})));
    }
}
