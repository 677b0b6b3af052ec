//! The passkeys' relying party (docs/api.md#passkeys): who we are to an authenticator (the RP ID and
//! the origins passkeys may be used from) and the WebAuthn verifier, `webauthn-rs-core`, set to
//! Latchkey's policy. Every check of a ceremony (origin, RP ID hash, challenge, user presence,
//! signature, signature counter, the flags a credential was registered with) is the crate's.
//!
//! The policy: discoverable credentials (`residentKey: "required"`, so that a passkey can sign in
//! without a name typed first), user verification preferred (a key without a PIN or biometric
//! still works, and its sign-ins do not count as a second factor), no attestation, the crate's
//! secure algorithms.

use std::time::Duration;

use url::Url;
use webauthn_rs_core::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationResult, AuthenticationState, COSEAlgorithm,
    CreationChallengeResponse, Credential, CredentialID, PublicKeyCredential, RegisterPublicKeyCredential,
    RegistrationState, RequestChallengeResponse, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

pub use webauthn_rs_core::error::WebauthnError;

use crate::infra::config::Config;

/// How long the browser may take, and how long a ceremony lives on the server (seconds).
pub const CEREMONY_LIFETIME: i64 = 300;

/// The relying party and its verifier.
pub struct RelyingParty {
    core: WebauthnCore,
    rp_id: String,
    fake: WebauthnFakeCredentialGenerator<FakePasskeyDistribution>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty").field("rp_id", &self.rp_id).finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// The relying party of the configuration. Without `LATCHKEY_WEBAUTHN_RP_ID` and
    /// `LATCHKEY_WEBAUTHN_ORIGINS`, it comes from `LATCHKEY_PUBLIC_URL`; when that cannot be one (its
    /// host is an IP address, or it is plain `http` off localhost), passkeys are off, with a warning
    /// that says why: `Ok(None)`. `fake_key` seeds the made-up credential IDs answered for addresses
    /// without passkeys.
    ///
    /// # Errors
    /// An explicit `LATCHKEY_WEBAUTHN_RP_ID` or `LATCHKEY_WEBAUTHN_ORIGINS` that cannot work.
    pub fn from_config(config: &Config, fake_key: &[u8]) -> Result<Option<Self>, String> {
        let given: Vec<String> = config
            .webauthn_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let explicit = config.webauthn_rp_id.is_some() || !given.is_empty();
        let public = Url::parse(&config.public_base());
        let rp_id =
            match (&config.webauthn_rp_id, &public) {
                (Some(rp_id), _) => Ok(rp_id.clone()),
                (None, Ok(url)) => match url.host() {
                    Some(url::Host::Domain(domain)) => Ok(domain.to_owned()),
                    _ => Err("the host of LATCHKEY_PUBLIC_URL is an IP address, which cannot be a relying party ID"
                        .to_owned()),
                },
                (None, Err(e)) => Err(format!("LATCHKEY_PUBLIC_URL is not a URL ({e})")),
            };
        let origins = match (given.is_empty(), &public) {
            (false, _) => Ok(given),
            (true, Ok(url)) => Ok(vec![url.origin().ascii_serialization()]),
            (true, Err(e)) => Err(format!("LATCHKEY_PUBLIC_URL is not a URL ({e})")),
        };
        let party = rp_id.and_then(|rp_id| Self::new(&config.webauthn_rp_name, &rp_id, &origins?, fake_key));
        match party {
            Ok(party) => Ok(Some(party)),
            Err(why) if explicit => Err(format!("LATCHKEY_WEBAUTHN_RP_ID / LATCHKEY_WEBAUTHN_ORIGINS: {why}")),
            Err(why) => {
                tracing::warn!(
                    public_url = %config.public_base(),
                    "passkeys are off: {why}. Set LATCHKEY_PUBLIC_URL to the site's https URL \
                     (http://localhost:8000 in development), or LATCHKEY_WEBAUTHN_RP_ID and LATCHKEY_WEBAUTHN_ORIGINS."
                );
                Ok(None)
            }
        }
    }

    /// A relying party `rp_id` for `origins`.
    ///
    /// # Errors
    /// An RP ID that is not a lowercase domain, or an origin that is not on it or not secure.
    pub fn new(rp_name: &str, rp_id: &str, origins: &[String], fake_key: &[u8]) -> Result<Self, String> {
        check_rp_id(rp_id)?;
        let mut allowed = Vec::with_capacity(origins.len());
        for origin in origins {
            allowed.push(check_origin(rp_id, origin)?);
        }
        let core = WebauthnCore::new_unsafe_experts_only(
            rp_name,
            rp_id,
            allowed,
            Duration::from_secs(CEREMONY_LIFETIME.unsigned_abs()),
            Some(false),
            Some(false),
        );
        let fake = WebauthnFakeCredentialGenerator::new(fake_key).map_err(|e| format!("fake credentials: {e}"))?;
        Ok(Self { core, rp_id: rp_id.to_owned(), fake })
    }

    /// The RP ID.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// Options for a new passkey of the user whose handle is `handle`, excluding the credentials
    /// it already has (an authenticator then refuses to make a second one for the account).
    ///
    /// # Errors
    /// Only for an empty handle or name.
    pub fn start_registration(
        &self,
        handle: &[u8],
        name: &str,
        display_name: &str,
        exclude: Vec<CredentialID>,
    ) -> Result<(CreationChallengeResponse, RegistrationState), WebauthnError> {
        let builder = self
            .core
            .new_challenge_register_builder(handle, name, display_name)?
            .attestation(AttestationConveyancePreference::None)
            .credential_algorithms(COSEAlgorithm::secure_algs())
            .require_resident_key(true)
            .user_verification_policy(UserVerificationPolicy::Preferred)
            .exclude_credentials(Some(exclude));
        self.core.generate_challenge_register(builder)
    }

    /// The credential of a registration, verified against its ceremony.
    ///
    /// # Errors
    /// Whatever makes the response not the answer to `state` from an allowed origin.
    pub fn finish_registration(
        &self,
        response: &RegisterPublicKeyCredential,
        state: &RegistrationState,
    ) -> Result<Credential, WebauthnError> {
        self.core.register_credential(response, state, None)
    }

    /// Options for an assertion by one of `credentials` (none: any discoverable credential).
    ///
    /// # Errors
    /// Not expected: the policy is given.
    pub fn start_authentication(
        &self,
        credentials: Vec<Credential>,
    ) -> Result<(RequestChallengeResponse, AuthenticationState), WebauthnError> {
        let builder =
            self.core.new_challenge_authenticate_builder(credentials, Some(UserVerificationPolicy::Preferred))?;
        self.core.generate_challenge_authenticate(builder)
    }

    /// Made-up credential IDs for an account name that has no passkey: the same ones each time,
    /// shaped like real ones, so that the options do not tell who has passkeys.
    ///
    /// # Errors
    /// Not expected.
    pub fn fake_credential_ids(&self, name: &str) -> Result<Vec<CredentialID>, WebauthnError> {
        self.fake.generate(name.as_bytes())
    }

    /// Verifies an assertion by `credential` against its ceremony.
    ///
    /// # Errors
    /// A wrong origin, RP ID, challenge or signature, a missing user presence (or verification the
    /// credential always gave), and a signature counter that did not go forward
    /// ([`WebauthnError::CredentialPossibleCompromise`]).
    pub fn finish_authentication(
        &self,
        response: &PublicKeyCredential,
        state: &AuthenticationState,
        credential: &Credential,
    ) -> Result<AuthenticationResult, WebauthnError> {
        self.core.authenticate_single_credential(response, state, credential)
    }
}

/// A lowercase domain name: what an RP ID must be (an IP address never is).
fn check_rp_id(rp_id: &str) -> Result<(), String> {
    let valid = !rp_id.is_empty()
        && rp_id.len() <= 253
        && rp_id.parse::<std::net::IpAddr>().is_err()
        && rp_id.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(format!("the RP ID {rp_id:?} is not a lowercase domain name (an IP address cannot be one)"))
    }
}

/// `origin` as the verifier compares it: `https`, or `http` on `localhost`, on the RP ID or a
/// subdomain of it, and nothing but scheme, host and port.
fn check_origin(rp_id: &str, origin: &str) -> Result<Url, String> {
    let error = |why: &str| format!("the origin {origin:?} {why}");
    let url = Url::parse(origin).map_err(|e| error(&e.to_string()))?;
    let Some(url::Host::Domain(host)) = url.host() else { return Err(error("has no domain name")) };
    let local = host == "localhost" || host.ends_with(".localhost");
    if url.scheme() != "https" && !(url.scheme() == "http" && local) {
        return Err(error("is not https (plain http is a secure context on localhost only)"));
    }
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(error(&format!("is not on the relying party ID {rp_id:?}")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(error("must be an origin: scheme, host and port only"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(rp_id: &str, origins: &[&str]) -> Result<RelyingParty, String> {
        let origins: Vec<String> = origins.iter().map(|o| (*o).to_owned()).collect();
        RelyingParty::new("Latchkey", rp_id, &origins, &[7; 32])
    }

    #[test]
    fn origins_must_be_secure_and_on_the_rp_id() {
        assert!(party("example.com", &["https://example.com", "https://app.example.com:8443"]).is_ok());
        assert!(party("localhost", &["http://localhost:8000"]).is_ok());
        for (rp_id, origin) in [
            ("example.com", "http://example.com"),
            ("example.com", "https://evil-example.com"),
            ("example.com", "https://example.com.evil.net"),
            ("app.example.com", "https://example.com"),
            ("example.com", "https://example.com/login"),
            ("example.com", "https://192.0.2.1"),
        ] {
            assert!(party(rp_id, &[origin]).is_err(), "{rp_id} {origin}");
        }
    }

    #[test]
    fn an_rp_id_is_a_lowercase_domain() {
        for rp_id in ["", "127.0.0.1", "::1", "Example.com", "a..b", "-a.com", "exa mple.com"] {
            assert!(check_rp_id(rp_id).is_err(), "{rp_id:?}");
        }
        assert!(check_rp_id("auth.example.co.uk").is_ok());
    }

    #[test]
    fn the_rp_id_comes_from_the_public_url_and_an_ip_turns_passkeys_off() {
        let mut config = Config::from_env().unwrap_or_else(|e| panic!("{e}"));
        config.webauthn_rp_id = None;
        config.webauthn_origins = Vec::new();
        for off in ["http://127.0.0.1:8000", "http://devbox.internal:8000", "not a url"] {
            config.public_url = Some(off.into());
            assert!(RelyingParty::from_config(&config, &[1; 32]).unwrap_or_else(|e| panic!("{e}")).is_none(), "{off}");
        }
        config.public_url = Some("https://auth.example.com/".into());
        let party = RelyingParty::from_config(&config, &[1; 32]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(party.map(|p| p.rp_id), Some("auth.example.com".to_owned()));
        config.webauthn_rp_id = Some("192.0.2.7".into());
        assert!(RelyingParty::from_config(&config, &[1; 32]).is_err());
    }

    #[test]
    fn options_ask_for_a_discoverable_credential_and_prefer_verification() {
        let party = party("localhost", &["http://localhost:8000"]).unwrap_or_else(|e| panic!("{e}"));
        let (options, _) =
            party.start_registration(&[1; 32], "a@example.com", "A", Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        let options = serde_json::to_value(options).unwrap_or_default();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["userVerification"], "preferred");
        assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
        assert_eq!(options["publicKey"]["attestation"], "none");
        let fake = party.fake_credential_ids("nobody@example.com").unwrap_or_default();
        assert!(!fake.is_empty());
        assert_eq!(fake, party.fake_credential_ids("nobody@example.com").unwrap_or_default());
    }
}
