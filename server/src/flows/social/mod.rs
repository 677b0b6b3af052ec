//! Social login (docs/api.md#social-login): the authorization request, the provider's callback, and
//! what the callback decides ([`identity`]); the sign-in's end and the link confirmation are in
//! [`complete`].
//!
//! - The browser is sent to the provider with S256 PKCE, a `state` and a nonce; all three are kept
//!   server-side in a single-use `authorize` row (`crate::store::social_flows`), the verifier sealed.
//! - The callback never carries a token back: it redirects to an allowed `return_to` with a
//!   `login_code` (60 seconds, single use), a `link_token`, `linked` or an `error`.
//! - An optional `binding` (random, kept by the browser in `sessionStorage`) ties the codes the
//!   callback hands out to the browser that started the flow, so that a leaked `login_code` or
//!   `link_token` is useless on its own (login CSRF, RFC 6749 §10.12).

pub(crate) mod complete;
mod identity;

pub(crate) use identity::Outcome;

use subtle::ConstantTimeEq;

use crate::infra::client::Client;
use crate::infra::digest::sha256_hex;
use crate::infra::error::ApiError;
use crate::infra::social::SocialError;
use crate::infra::state::AppState;
use crate::store::social_flows::{self, Flow, Kind, Process};
use crate::store::users::User;

/// The answer for a callback whose `state` is unknown, spent, expired or another provider's.
const STATE_GONE: &str = "This sign-in has expired or was already used. Start again.";

/// A `return_to` is at most this long.
const RETURN_TO_MAX: usize = 2048;

/// The signed-in user asking to connect an identity, and their session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asker<'a> {
    pub user: &'a User,
    pub session_id: &'a str,
}

/// What `POST /api/auth/social/{provider}/authorize/` asked for.
#[derive(Debug)]
pub(crate) struct AuthorizeRequest<'a> {
    pub provider: &'a str,
    pub process: Process,
    pub return_to: &'a str,
    pub binding: Option<&'a str>,
}

/// The provider's authorization URL for a new flow, stored as its `authorize` row; `asker` is who
/// connects (`process: connect`).
pub(crate) async fn authorize(
    state: &AppState,
    request: AuthorizeRequest<'_>,
    asker: Option<Asker<'_>>,
) -> Result<String, ApiError> {
    let provider = state.social.get(request.provider).ok_or(ApiError::NotFound)?;
    let return_to = allowed_return_to(state, request.return_to)?;
    let binding_hash = request.binding.map(binding_hash).transpose()?;
    let begun = provider.begin().await.map_err(|e| {
        tracing::warn!(provider = provider.id(), cause = %bounded(&e.to_string()), "social login: provider unavailable");
        ApiError::ProviderUnavailable
    })?;
    let mut flow = Flow::new(provider.id(), request.process);
    if let Some(asker) = asker {
        flow.user_id = Some(asker.user.id);
        flow.session_id = Some(asker.session_id.to_owned());
    }
    flow.pkce_verifier = Some(state.vault.seal(begun.pkce_verifier.as_bytes(), 0));
    flow.nonce = Some(begun.nonce);
    flow.return_to = Some(return_to);
    flow.binding_hash = binding_hash;
    social_flows::put(state, Kind::Authorize, &begun.state, &flow).await?;
    Ok(begun.authorization_url)
}

/// What the provider sent back to the callback.
#[derive(Debug, Default)]
pub(crate) struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Where the callback sends the browser: `return_to` with the outcome in its query. An unknown,
/// spent or expired `state` is `400 social_state_invalid`: there is nowhere trusted to send it.
pub(crate) async fn callback(
    state: &AppState,
    client: &Client,
    provider: &str,
    answer: Callback,
) -> Result<String, ApiError> {
    let gone = || ApiError::Refused { detail: STATE_GONE, code: "social_state_invalid" };
    let key = answer.state.as_deref().filter(|s| s.len() <= 256).ok_or_else(gone)?;
    let flow = social_flows::spend(state, Kind::Authorize, key).await?;
    let flow = flow.filter(|f| f.provider == provider).ok_or_else(gone)?;
    let return_to = flow.return_to.clone().ok_or_else(gone)?;
    let outcome = match (answer.error.as_deref(), answer.code.as_deref()) {
        (Some("access_denied"), _) => Outcome::Error("access_denied"),
        (Some(_), _) | (None, None) => Outcome::Error("provider_error"),
        (None, Some(code)) => match who_signed_in(state, client, &flow, code).await? {
            Ok(signed_in) => identity::resolve(state, client, &flow, signed_in).await?,
            Err(outcome) => outcome,
        },
    };
    Ok(outcome.redirect(&return_to, provider))
}

/// The code exchanged and the identity checked: who signed in, or the callback's error.
async fn who_signed_in(
    state: &AppState,
    client: &Client,
    flow: &Flow,
    code: &str,
) -> Result<Result<crate::infra::social::Identity, Outcome>, ApiError> {
    // A provider removed from the configuration since the flow started.
    let Some(provider) = state.social.get(&flow.provider) else { return Ok(Err(Outcome::Error("provider_error"))) };
    let sealed = flow.pkce_verifier.as_deref().unwrap_or_default();
    let verifier = state.vault.open(sealed, 0).map_err(|e| ApiError::Internal(format!("PKCE verifier: {e}")))?.0;
    let verifier = String::from_utf8(verifier).map_err(|e| ApiError::Internal(format!("PKCE verifier: {e}")))?;
    let nonce = flow.nonce.as_deref().unwrap_or_default();
    let error = match provider.finish(code, &verifier, nonce, state.clock.now()).await {
        Ok(identity) => return Ok(Ok(identity)),
        Err(error) => error,
    };
    let (outcome, check) = match &error {
        SocialError::Unavailable(_) => (Outcome::Error("provider_unavailable"), "unavailable"),
        SocialError::Provider(_) => (Outcome::Error("provider_error"), "provider_error"),
        SocialError::IdToken(check) => (Outcome::Error("id_token_invalid"), check.as_str()),
    };
    tracing::warn!(provider = provider.id(), check, cause = %bounded(&error.to_string()), "social login refused");
    identity::refused(state, client, flow, "social_invalid", Some(check)).await?;
    Ok(Err(outcome))
}

/// A provider's words, cut for the log: they come from outside.
fn bounded(text: &str) -> String {
    text.chars().take(200).collect()
}

/// `return_to` when its origin is the public URL's or one of `LATCHKEY_CORS_ORIGINS`, an absolute
/// http(s) URL without credentials; else `400 {"return_to": [...]}`.
fn allowed_return_to(state: &AppState, return_to: &str) -> Result<String, ApiError> {
    let refused = || ApiError::field("return_to", "This address is not allowed.");
    if return_to.len() > RETURN_TO_MAX {
        return Err(refused());
    }
    let url = url::Url::parse(return_to).map_err(|_| refused())?;
    let plain = matches!(url.scheme(), "http" | "https") && url.username().is_empty() && url.password().is_none();
    let origin = url.origin().ascii_serialization();
    let public = state.config.public_base();
    let allowed = std::iter::once(public.as_str())
        .chain(state.config.cors_origins.iter().map(String::as_str))
        .filter_map(|o| url::Url::parse(o.trim()).ok())
        .any(|o| o.origin().ascii_serialization() == origin);
    if plain && allowed && url.fragment().is_none() {
        Ok(url.to_string())
    } else {
        Err(refused())
    }
}

/// The stored form of a `binding`: 32 to 128 base64url characters, kept as their SHA-256.
fn binding_hash(binding: &str) -> Result<String, ApiError> {
    let shaped = (32..=128).contains(&binding.len())
        && binding.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shaped {
        Ok(sha256_hex(binding))
    } else {
        Err(ApiError::field("binding", "Give 32 to 128 URL-safe base64 characters."))
    }
}

/// Whether the `binding` given now is the one the flow started with (none asked, none needed).
fn same_binding(stored: Option<&str>, given: Option<&str>) -> bool {
    match (stored, given) {
        (None, _) => true,
        (Some(stored), Some(given)) => bool::from(stored.as_bytes().ct_eq(sha256_hex(given).as_bytes())),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_is_checked_only_when_the_flow_has_one() {
        let hash = sha256_hex("a".repeat(43).as_str());
        assert!(same_binding(None, None));
        assert!(same_binding(None, Some("anything")));
        assert!(same_binding(Some(&hash), Some(&"a".repeat(43))));
        assert!(!same_binding(Some(&hash), Some(&"b".repeat(43))));
        assert!(!same_binding(Some(&hash), None));
    }

    #[test]
    fn a_binding_has_the_shape_of_random_bytes() {
        assert!(binding_hash(&"A-_z".repeat(8)).is_ok());
        assert!(binding_hash("short").is_err());
        assert!(binding_hash(&"a".repeat(129)).is_err());
        assert!(binding_hash(&format!("{}=", "a".repeat(40))).is_err());
    }

    #[test]
    fn outcomes_travel_in_the_query_of_return_to() {
        let to = "https://app.example.com/done?x=1";
        assert_eq!(
            Outcome::LoginCode("ab".into()).redirect(to, "google"),
            "https://app.example.com/done?x=1&login_code=ab"
        );
        let link = Outcome::Link { token: "t".into(), email: "a+b@example.com".into() };
        assert_eq!(
            link.redirect(to, "github"),
            "https://app.example.com/done?x=1&link_token=t&email=a%2Bb%40example.com&provider=github"
        );
        assert_eq!(Outcome::Linked.redirect(to, "github"), "https://app.example.com/done?x=1&linked=github");
        assert_eq!(
            Outcome::Error("email_unverified").redirect(to, "g"),
            "https://app.example.com/done?x=1&error=email_unverified"
        );
    }
}
