//! Social login's providers (docs/api.md §15): OpenID Connect providers found by discovery, and
//! GitHub. This module speaks to them: the authorization URL (PKCE S256, `state`, `nonce`), the code
//! exchange (`oauth2` over the server's own HTTP client), the ID token's checks, and who signed in.
//! It decides nothing about accounts; `flows::social` does.
//!
//! Discovery and the JWKS are fetched at the first sign-in and kept for an hour (failures for 30 s);
//! a token signed with a key the JWKS lacks fetches it again, at most once a minute.

mod config;
mod discovery;
mod github;
mod http;
mod id_token;
mod keys;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use rand_core::{OsRng, RngCore};
use url::Url;

pub use config::{ProviderEntry, ProviderKind};
pub use http::HttpError;
pub use id_token::{IdTokenCheck, Identity};

use config::{Endpoints, Settings};
use discovery::{Cache, Discovered};
use http::Http;
use keys::KeySet;

use crate::infra::config::Config;

/// How often at most a token naming an unknown key makes the server fetch the JWKS again.
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// The configured providers, in the file's order.
#[derive(Debug, Default)]
pub struct Providers {
    list: Vec<Provider>,
}

impl Providers {
    /// The providers of `LATCHKEY_OIDC_PROVIDERS`; none when it is unset. Everything is checked
    /// here, without any network; each provider's redirect URI is
    /// `{public base}/api/auth/social/{id}/callback/`.
    ///
    /// # Errors
    /// An unreadable file or an entry that cannot work, named.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let Some(path) = &config.oidc_providers else { return Ok(Self::empty()) };
        let entries = config::read_file(path)?;
        if !entries.is_empty() && config.public_url.is_none() {
            tracing::warn!(
                "LATCHKEY_PUBLIC_URL is not set: the social login redirect URIs are on {}; register the \
                 ones of the public URL with each provider and set it",
                config.public_base()
            );
        }
        Self::from_entries(entries, &config.public_base()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The providers of a list of entries (tests build them without a file).
    ///
    /// # Errors
    /// An entry that cannot work, named.
    pub fn from_entries(entries: Vec<ProviderEntry>, public_base: &str) -> Result<Self, String> {
        let settings = config::validate(entries, public_base.trim_end_matches('/'))?;
        // Two clients at most: one that refuses private addresses and one that does not.
        let mut clients: [Option<Http>; 2] = [None, None];
        let mut list = Vec::with_capacity(settings.len());
        for settings in settings {
            let slot = &mut clients[usize::from(settings.allow_private)];
            let http = match slot {
                Some(http) => http.clone(),
                None => slot.insert(http::client(settings.allow_private)?).clone(),
            };
            list.push(Provider::new(settings, http));
        }
        Ok(Self { list })
    }

    /// No providers.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The providers, in the configured order.
    pub fn list(&self) -> impl Iterator<Item = &Provider> {
        self.list.iter()
    }

    /// The provider `id`.
    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.settings.id == id)
    }
}

/// One provider, with what it has published so far.
pub struct Provider {
    settings: Settings,
    http: Http,
    discovery: Cache<Discovered>,
    keys: Cache<KeySet>,
    /// When the JWKS was last fetched again for an unknown key.
    refetched: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// A sign-in begun: where to send the browser, and what to keep until it comes back.
#[derive(Debug, Clone)]
pub struct Begun {
    /// The provider's authorization URL with every parameter.
    pub authorization_url: String,
    /// The `state` sent: 32 random bytes, base64url.
    pub state: String,
    /// The `nonce` sent: 32 random bytes, base64url; empty for GitHub, which has no ID token.
    pub nonce: String,
    /// The PKCE verifier whose S256 challenge was sent.
    pub pkce_verifier: String,
}

/// Why a sign-in with a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// The provider could not be reached or answered nonsense (network, discovery, JWKS, 5xx).
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the exchange (`invalid_grant`, a wrong PKCE verifier, a refused token).
    #[error("the provider refused: {0}")]
    Provider(String),
    /// The ID token failed a check.
    #[error("the ID token failed the {0} check")]
    IdToken(IdTokenCheck),
}

/// The `id_token` of a token response.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct IdTokenFields {
    #[serde(default)]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenFields {}

/// The token endpoint's answer.
type TokenAnswer = StandardTokenResponse<IdTokenFields, BasicTokenType>;

/// An oauth2 client with its authorization and token endpoints.
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

impl Provider {
    /// A provider of `settings`, nothing fetched yet.
    fn new(settings: Settings, http: Http) -> Self {
        Self { settings, http, discovery: Cache::default(), keys: Cache::default(), refetched: Mutex::new(None) }
    }

    /// Its id (`google`).
    pub fn id(&self) -> &str {
        &self.settings.id
    }

    /// Its name on buttons (`Google`).
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// `{public base}/api/auth/social/{id}/callback/`, as registered with the provider.
    pub fn redirect_uri(&self) -> &str {
        self.settings.redirect_uri.as_str()
    }

    /// A fresh authorization URL (discovering the provider first if need be).
    ///
    /// # Errors
    /// [`SocialError::Unavailable`] when discovery fails.
    pub async fn begin(&self) -> Result<Begun, SocialError> {
        self.begin_with(&[]).await
    }

    /// [`Provider::begin`] with extra parameters for the authorization URL (`prompt=login`).
    ///
    /// # Errors
    /// [`SocialError::Unavailable`] when discovery fails.
    pub async fn begin_with(&self, extra: &[(&str, &str)]) -> Result<Begun, SocialError> {
        let discovered = self.discovered().await?;
        let client = self.client(discovered.as_deref())?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token();
        let nonce = if discovered.is_some() { random_token() } else { String::new() };
        let mut request = client
            .authorize_url(|| CsrfToken::new(state.clone()))
            .add_scopes(self.settings.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        if !nonce.is_empty() {
            request = request.add_extra_param("nonce", nonce.as_str());
        }
        for (name, value) in extra {
            request = request.add_extra_param(*name, *value);
        }
        let (url, _) = request.url();
        Ok(Begun { authorization_url: url.into(), state, nonce, pkce_verifier: verifier.secret().clone() })
    }

    /// Exchanges `code` with the PKCE verifier and says who signed in: for OpenID Connect from the
    /// verified ID token (completed by userinfo when it has no e-mail address), for GitHub from its
    /// API. `nonce` is the one [`Provider::begin`] sent; `now` is the server's clock (Unix seconds).
    /// The provider's access token is dropped here.
    ///
    /// # Errors
    /// [`SocialError`]: unreachable, refused, or an ID token that fails a check.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Identity, SocialError> {
        let discovered = self.discovered().await?;
        let client = self.client(discovered.as_deref())?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(exchange_error)?;
        let access_token = answer.access_token().secret();
        match (&self.settings.endpoints, discovered) {
            (Endpoints::Github { api_url, .. }, _) => github::identity(&self.http, api_url, access_token).await,
            (Endpoints::Oidc { .. }, Some(discovered)) => {
                let raw =
                    answer.extra_fields().id_token.as_deref().ok_or(SocialError::IdToken(IdTokenCheck::Malformed))?;
                let identity = self.verify(raw, &discovered, nonce, now).await?;
                match (&identity.email, &discovered.userinfo_endpoint) {
                    (None, Some(userinfo)) => self.with_userinfo(identity, userinfo, access_token).await,
                    _ => Ok(identity),
                }
            }
            (Endpoints::Oidc { .. }, None) => Err(SocialError::Unavailable("no discovery document".into())),
        }
    }

    /// The discovery document (OpenID Connect; `None` for GitHub), from the cache or fetched.
    async fn discovered(&self) -> Result<Option<Arc<Discovered>>, SocialError> {
        let Endpoints::Oidc { issuer } = &self.settings.endpoints else { return Ok(None) };
        let found = match self.discovery.fresh() {
            Some(found) => found,
            None => self.discovery.store(discovery::discover(&self.http, issuer).await),
        };
        found.map(Some).map_err(SocialError::Unavailable)
    }

    /// The oauth2 client over the discovered endpoints, or GitHub's.
    fn client(&self, discovered: Option<&Discovered>) -> Result<OAuthClient, SocialError> {
        let (auth, token, basic) = match (&self.settings.endpoints, discovered) {
            (Endpoints::Github { authorize_url, token_url, .. }, _) => {
                (authorize_url.clone(), token_url.clone(), false)
            }
            (Endpoints::Oidc { .. }, Some(d)) => {
                (d.authorization_endpoint.clone(), d.token_endpoint.clone(), d.basic_auth)
            }
            (Endpoints::Oidc { .. }, None) => return Err(SocialError::Unavailable("no discovery document".into())),
        };
        Ok(oauth2::Client::new(ClientId::new(self.settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.settings.client_secret.clone()))
            .set_auth_uri(AuthUrl::from_url(auth))
            .set_token_uri(TokenUrl::from_url(token))
            .set_redirect_uri(RedirectUrl::from_url(self.settings.redirect_uri.clone()))
            .set_auth_type(if basic { AuthType::BasicAuth } else { AuthType::RequestBody }))
    }

    /// Verifies an ID token, fetching the JWKS again (once a minute at most) when it names a key
    /// the kept set lacks.
    async fn verify(&self, raw: &str, discovered: &Discovered, nonce: &str, now: i64) -> Result<Identity, SocialError> {
        let mut keys = self.keys(discovered).await?;
        if keys.lacks(id_token::kid(raw).as_deref()) && self.may_refetch() {
            // A failed refetch keeps the set already kept: it still verifies the other sign-ins.
            match self.fetch_keys(&discovered.jwks_uri).await {
                Ok(fetched) => keys = self.keys.store(Ok(fetched)).map_err(SocialError::Unavailable)?,
                Err(e) => tracing::warn!(provider = %self.settings.id, "the JWKS could not be fetched again: {e}"),
            }
        }
        let expect = id_token::Expect {
            issuer: &discovered.issuer,
            tenants: self.settings.tenants.as_deref(),
            client_id: &self.settings.client_id,
            algorithms: &discovered.algorithms,
            nonce,
            email_verified_claim: &self.settings.email_verified_claim,
        };
        id_token::verify(raw, &keys, &expect, now).map_err(SocialError::IdToken)
    }

    /// The JWKS, kept or (nothing fresh kept) fetched.
    async fn keys(&self, discovered: &Discovered) -> Result<Arc<KeySet>, SocialError> {
        let found = match self.keys.fresh() {
            Some(found) => found,
            None => self.keys.store(self.fetch_keys(&discovered.jwks_uri).await),
        };
        found.map_err(SocialError::Unavailable)
    }

    /// Fetches and parses the JWKS.
    async fn fetch_keys(&self, url: &Url) -> Result<KeySet, String> {
        let answer = self.http.get(url.as_str(), "application/json", None).await.map_err(|e| format!("{url}: {e}"))?;
        if !answer.status.is_success() {
            return Err(format!("{url} answered {}", answer.status));
        }
        KeySet::parse(&answer.body).map_err(|e| format!("{url}: {e}"))
    }

    /// Whether an unknown key may fetch the JWKS again now (and notes that it does).
    fn may_refetch(&self) -> bool {
        let mut last = self.refetched.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Completes an identity without e-mail address from the userinfo endpoint.
    async fn with_userinfo(&self, identity: Identity, url: &Url, access_token: &str) -> Result<Identity, SocialError> {
        let answer = self
            .http
            .get(url.as_str(), "application/json", Some(access_token))
            .await
            .map_err(|e| SocialError::Unavailable(format!("{url}: {e}")))?;
        if !answer.status.is_success() {
            return Err(SocialError::Unavailable(format!("{url} answered {}", answer.status)));
        }
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&answer.body)
            .map_err(|e| SocialError::Unavailable(format!("{url}: not a JSON object ({e})")))?;
        id_token::with_userinfo(identity, &claims, &self.settings.email_verified_claim).map_err(SocialError::IdToken)
    }
}

/// 32 random bytes, base64url: a `state` or a `nonce`.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    latchkey_core::encoding::base64url(&bytes)
}

/// What a failed code exchange means. GitHub answers errors with HTTP 200 and `{"error": ...}`,
/// which oauth2 reads as an unparsable token: such a body is read as the error it is.
fn exchange_error(error: RequestTokenError<HttpError, BasicErrorResponse>) -> SocialError {
    let refused = |response: BasicErrorResponse| {
        let code = response.error();
        let description = response.error_description().map(|d| format!(": {d}")).unwrap_or_default();
        let message = format!("{}{description}", code.as_ref());
        match code {
            BasicErrorResponseType::Extension(c) if c == "server_error" || c == "temporarily_unavailable" => {
                SocialError::Unavailable(message)
            }
            _ => SocialError::Provider(message),
        }
    };
    match error {
        RequestTokenError::ServerResponse(response) => refused(response),
        RequestTokenError::Parse(_, body) => match serde_json::from_slice::<BasicErrorResponse>(&body) {
            Ok(response) => refused(response),
            Err(_) => SocialError::Unavailable("the token endpoint's answer is not a token".into()),
        },
        RequestTokenError::Request(e) => SocialError::Unavailable(format!("the token endpoint: {e}")),
        RequestTokenError::Other(message) => SocialError::Unavailable(format!("the token endpoint: {message}")),
    }
}
