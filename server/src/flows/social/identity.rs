//! What a checked provider identity leads to (docs/api.md#social-login). The identity is
//! `(provider, subject)`; the e-mail address only ever decides a first sign-in:
//!
//! - linked already: that account signs in (`connect`: `linked` if it is the asker's, else
//!   `account_in_use`);
//! - `connect`, not linked: linked to the asker, whatever the address (the session proved the account);
//! - `login` without a verified address: `email_unverified`, nothing made (an unverified or
//!   domain-less claim, Entra's "nOAuth", can never reach an account);
//! - `login`, verified, no account has the address: a new account, verified, without a password;
//! - `login`, verified, an account has the address: never signed in, never linked; a `link_token`
//!   waits for that account's password.

use rand_core::{OsRng, RngCore};
use serde_json::json;

use crate::infra::client::Client;
use crate::infra::config::Limit;
use crate::infra::error::ApiError;
use crate::infra::social::Identity;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::social_accounts::SocialAccount;
use crate::store::social_flows::{self, Flow, Kind, Process};
use crate::store::users::{self, is_valid_email, normalize_email, NewUser, User};

/// What a callback ends in, carried to `return_to` in its query.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `?login_code=`: the identity signs in.
    LoginCode(String),
    /// `?link_token=&email=&provider=`: the identity's e-mail belongs to an account; its password links it.
    Link { token: String, email: String },
    /// `?linked=<provider>`: a `connect` linked the identity (or it was linked already).
    Linked,
    /// `?error=`.
    Error(&'static str),
}

impl Outcome {
    pub(super) fn redirect(&self, return_to: &str, provider: &str) -> String {
        let Ok(mut url) = url::Url::parse(return_to) else { return return_to.to_owned() };
        {
            let mut query = url.query_pairs_mut();
            match self {
                Self::LoginCode(code) => query.append_pair("login_code", code),
                Self::Link { token, email } => {
                    query.append_pair("link_token", token).append_pair("email", email).append_pair("provider", provider)
                }
                Self::Linked => query.append_pair("linked", provider),
                Self::Error(code) => query.append_pair("error", code),
            };
        }
        url.to_string()
    }
}

/// Names from a provider are cut to Django's `first_name`/`last_name` length.
const NAME_MAX_CHARS: usize = 150;

/// The outcome of a checked identity, for the flow that asked.
pub(super) async fn resolve(
    state: &AppState,
    client: &Client,
    flow: &Flow,
    identity: Identity,
) -> Result<Outcome, ApiError> {
    let subject = identity.subject.as_str();
    let email = identity.email.as_deref().map(normalize_email).filter(|e| e.len() <= 254 && is_valid_email(e));
    if let Some(linked) = SocialAccount::by_identity(state, &flow.provider, subject).await? {
        if flow.process == Process::Connect {
            let mine = Some(linked.user_id) == flow.user_id;
            return Ok(if mine { Outcome::Linked } else { Outcome::Error("account_in_use") });
        }
        SocialAccount::touch(state, linked.id, email.as_deref()).await?;
        return sign_in(state, client, flow, linked.user_id, subject).await;
    }
    if flow.process == Process::Connect {
        return connect(state, client, flow, subject, email.as_deref()).await;
    }
    let Some(email) = email.filter(|_| identity.email_verified) else {
        refused(state, client, flow, "email_unverified", None).await?;
        return Ok(Outcome::Error("email_unverified"));
    };
    if let Some(user) = User::by_email(&state.db, &email).await? {
        return offer_link(state, flow, &user, subject, &email).await;
    }
    sign_up(state, client, flow, &identity, &email).await
}

/// A `connect`: the identity is linked to the asker.
async fn connect(
    state: &AppState,
    client: &Client,
    flow: &Flow,
    subject: &str,
    email: Option<&str>,
) -> Result<Outcome, ApiError> {
    let asker = match flow.user_id {
        Some(id) => User::by_id(&state.db, id).await?.filter(|u| u.is_active),
        None => None,
    };
    let Some(asker) = asker else { return Ok(Outcome::Error("account_inactive")) };
    // Taken meanwhile, or the account has an identity of this provider already.
    let Some(account) = SocialAccount::insert(state, asker.id, (&flow.provider, subject), email).await? else {
        return Ok(Outcome::Error("account_in_use"));
    };
    let actor = Actor { user_id: Some(asker.id), client, session_id: flow.session_id.as_deref() };
    linked(state, actor, &account, "connect").await?;
    Ok(Outcome::Linked)
}

/// An address that belongs to an account: a `link` row waits for its password.
async fn offer_link(
    state: &AppState,
    flow: &Flow,
    user: &User,
    subject: &str,
    email: &str,
) -> Result<Outcome, ApiError> {
    let mut link = Flow::new(&flow.provider, Process::Login);
    link.user_id = Some(user.id);
    link.subject = Some(subject.to_owned());
    link.email = Some(email.to_owned());
    link.binding_hash.clone_from(&flow.binding_hash);
    let token = social_flows::new_key();
    social_flows::put(state, Kind::Link, &token, &link).await?;
    Ok(Outcome::Link { token, email: email.to_owned() })
}

/// A first sign-in with an address no account has: a new account, verified (the provider verified
/// the address), with an unusable password, counted under `register:ip`.
async fn sign_up(
    state: &AppState,
    client: &Client,
    flow: &Flow,
    identity: &Identity,
    email: &str,
) -> Result<Outcome, ApiError> {
    if let Err(refusal) = crate::store::limits::hit(state, Limit::RegisterIp, &client.network).await {
        return match refusal {
            ApiError::Throttled { .. } => Ok(Outcome::Error("rate_limited")),
            other => Err(other),
        };
    }
    let cut = |name: &Option<String>| name.as_deref().unwrap_or_default().chars().take(NAME_MAX_CHARS).collect();
    let (first_name, last_name): (String, String) = (cut(&identity.given_name), cut(&identity.family_name));
    let new = NewUser {
        email,
        username: None,
        password_hash: &unusable_password(),
        first_name: &first_name,
        last_name: &last_name,
        date_joined: state.clock.now(),
    };
    let user = match User::create(&state.db, &new).await {
        Ok(user) => user,
        // Another request made an account with this address meanwhile: it is an existing account now.
        Err(e) if users::is_unique_violation(&e) => {
            let Some(user) = User::by_email(&state.db, email).await? else { return Err(e.into()) };
            return offer_link(state, flow, &user, &identity.subject, email).await;
        }
        Err(e) => return Err(e.into()),
    };
    users::mark_verified(&state.db, user.id, email).await?;
    let identity_key = (flow.provider.as_str(), identity.subject.as_str());
    let Some(account) = SocialAccount::insert(state, user.id, identity_key, Some(email)).await? else {
        // Two first sign-ins of one identity at once: the other one made its account; this one goes.
        users::delete(&state.db, user.id).await?;
        let Some(linked) = SocialAccount::by_identity(state, &flow.provider, &identity.subject).await? else {
            return Ok(Outcome::Error("account_in_use"));
        };
        return sign_in(state, client, flow, linked.user_id, &identity.subject).await;
    };
    let actor = Actor { user_id: Some(user.id), client, session_id: None };
    let detail = json!({ "how": "social", "provider": flow.provider });
    audit::record(state, AuditEvent::AccountCreated, actor, detail).await?;
    linked(state, actor, &account, "sign_up").await?;
    sign_in(state, client, flow, user.id, &identity.subject).await
}

/// The identity signs in to `user_id`: a `login_code` for `POST /api/token/social/`.
async fn sign_in(
    state: &AppState,
    client: &Client,
    flow: &Flow,
    user_id: i64,
    subject: &str,
) -> Result<Outcome, ApiError> {
    let Some(user) = User::by_id(&state.db, user_id).await? else { return Ok(Outcome::Error("account_inactive")) };
    if !user.is_active {
        let actor_flow = Flow { user_id: Some(user.id), ..flow.clone() };
        refused(state, client, &actor_flow, "inactive", None).await?;
        return Ok(Outcome::Error("account_inactive"));
    }
    let mut code = Flow::new(&flow.provider, Process::Login);
    code.user_id = Some(user.id);
    code.subject = Some(subject.to_owned());
    code.binding_hash.clone_from(&flow.binding_hash);
    let key = social_flows::new_key();
    social_flows::put(state, Kind::LoginCode, &key, &code).await?;
    Ok(Outcome::LoginCode(key))
}

/// Audits `social_account_linked`.
pub(super) async fn linked(
    state: &AppState,
    actor: Actor<'_>,
    account: &SocialAccount,
    how: &str,
) -> Result<(), ApiError> {
    let detail = json!({ "social_account_id": account.id, "provider": account.provider, "how": how });
    audit::record(state, AuditEvent::SocialAccountLinked, actor, detail).await
}

/// Audits and counts a refused social sign-in as `login_failed`, with the provider and the check
/// that failed.
pub(super) async fn refused(
    state: &AppState,
    client: &Client,
    flow: &Flow,
    reason: &str,
    check: Option<&str>,
) -> Result<(), ApiError> {
    state.metrics.login(reason);
    let actor = Actor { user_id: flow.user_id, client, session_id: None };
    let detail = json!({ "reason": reason, "login": format!("social:{}", flow.provider), "check": check });
    audit::record(state, AuditEvent::LoginFailed, actor, detail).await
}

/// Django's `set_unusable_password`: `!` and 40 random characters, which no password hashes to.
fn unusable_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 40];
    OsRng.fill_bytes(&mut bytes);
    let random: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect();
    format!("!{random}")
}
