//! OpenID Connect discovery (`{issuer}/.well-known/openid-configuration`) and the caches of what a
//! provider publishes. Discovery is lazy: the first sign-in fetches it, never the start, so that a
//! provider being down never stops the server.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use url::Url;

use super::config::{is_loopback_host, provider_url};
use super::http::Http;
use super::id_token::IssuerRule;
use super::keys::allowed_algorithms;

/// How long a discovery document or a JWKS is kept.
pub(crate) const KEEP: Duration = Duration::from_secs(3600);
/// How long a failure to fetch one is remembered (sign-ins fail at once meanwhile, rather than each
/// waiting for a provider that is down).
pub(crate) const KEEP_FAILURE: Duration = Duration::from_secs(30);

/// The fields of a discovery document the server uses.
#[derive(Debug, Deserialize)]
pub(crate) struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    response_types_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// A provider's checked discovery document.
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
    /// What the ID tokens' `iss` must be.
    pub issuer: IssuerRule,
    /// Where the browser is sent.
    pub authorization_endpoint: Url,
    /// Where the code is exchanged.
    pub token_endpoint: Url,
    /// The signing keys.
    pub jwks_uri: Url,
    /// Where the profile is read when the ID token has no e-mail address.
    pub userinfo_endpoint: Option<Url>,
    /// The safe algorithms the provider signs ID tokens with.
    pub algorithms: Vec<Algorithm>,
    /// The client authenticates with HTTP Basic (`client_secret_basic`) rather than in the body.
    pub basic_auth: bool,
}

/// Fetches and checks the discovery document of `issuer`.
pub(crate) async fn discover(http: &Http, issuer: &str) -> Result<Discovered, String> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let answer = http.get(&url, "application/json", None).await.map_err(|e| format!("{url}: {e}"))?;
    if !answer.status.is_success() {
        return Err(format!("{url} answered {}", answer.status));
    }
    let document: Document =
        serde_json::from_slice(&answer.body).map_err(|e| format!("{url}: not a discovery document ({e})"))?;
    check(issuer, document).map_err(|e| format!("{url}: {e}"))
}

/// The checks of a discovery document for the configured `issuer`.
pub(crate) fn check(issuer: &str, document: Document) -> Result<Discovered, String> {
    let issuer_rule = issuer_rule(issuer, &document.issuer)?;
    if document.response_types_supported.as_ref().is_some_and(|types| !types.iter().any(|t| t == "code")) {
        return Err("the provider does not offer the authorization code flow".into());
    }
    if document.code_challenge_methods_supported.as_ref().is_some_and(|methods| !methods.iter().any(|m| m == "S256")) {
        return Err("the provider does not offer PKCE with S256".into());
    }
    let algorithms = allowed_algorithms(document.id_token_signing_alg_values_supported.as_deref());
    if algorithms.is_empty() {
        return Err(
            "the provider signs ID tokens with no algorithm the server accepts (RS*, PS*, ES256, ES384, EdDSA)".into(),
        );
    }
    let basic_auth = match &document.token_endpoint_auth_methods_supported {
        None => true,
        Some(methods) if methods.iter().any(|m| m == "client_secret_basic") => true,
        Some(methods) if methods.iter().any(|m| m == "client_secret_post") => false,
        Some(_) => return Err("the token endpoint accepts neither client_secret_basic nor client_secret_post".into()),
    };
    let issuer_loopback = Url::parse(issuer).is_ok_and(|u| is_loopback_host(&u));
    let endpoint = |field: &str, text: &str| endpoint_url(field, text, issuer_loopback);
    Ok(Discovered {
        issuer: issuer_rule,
        authorization_endpoint: endpoint("authorization_endpoint", &document.authorization_endpoint)?,
        token_endpoint: endpoint("token_endpoint", &document.token_endpoint)?,
        jwks_uri: endpoint("jwks_uri", &document.jwks_uri)?,
        userinfo_endpoint: document
            .userinfo_endpoint
            .as_deref()
            .map(|u| endpoint("userinfo_endpoint", u))
            .transpose()?,
        algorithms,
        basic_auth,
    })
}

/// The document's issuer must be the configured one exactly, or a `{tenantid}` template that the
/// configured issuer fills with one path segment (Entra's `common` and `organizations`, whose ID
/// tokens then carry their tenant's own issuer).
fn issuer_rule(configured: &str, published: &str) -> Result<IssuerRule, String> {
    if published == configured {
        return Ok(IssuerRule::Exact(configured.to_owned()));
    }
    let mismatch = || format!("the document names the issuer {published:?}, not {configured:?}");
    let (prefix, suffix) = published.split_once("{tenantid}").ok_or_else(mismatch)?;
    let tenant = configured.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(suffix));
    let fills = tenant.is_some_and(|t| !t.is_empty() && !t.contains(['/', '?', '#']));
    if fills && !suffix.contains("{tenantid}") {
        Ok(IssuerRule::Template { prefix: prefix.to_owned(), suffix: suffix.to_owned() })
    } else {
        Err(mismatch())
    }
}

/// An endpoint of the document: https, or plain http on loopback only for a loopback issuer.
fn endpoint_url(field: &str, text: &str, issuer_loopback: bool) -> Result<Url, String> {
    let url = provider_url(field, text)?;
    if url.scheme() == "http" && !issuer_loopback {
        return Err(format!("`{field}` {text:?} must use https"));
    }
    Ok(url)
}

/// A value fetched from a provider, or why it could not be.
type Fetched<T> = Result<Arc<T>, String>;

/// One value fetched from a provider, or the failure to fetch it, with when that was.
#[derive(Debug)]
pub(crate) struct Cache<T> {
    slot: Mutex<Option<(Instant, Fetched<T>)>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Self { slot: Mutex::new(None) }
    }
}

impl<T> Cache<T> {
    /// What is kept, if it is still fresh: a value for [`KEEP`], a failure for [`KEEP_FAILURE`].
    pub fn fresh(&self) -> Option<Fetched<T>> {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, value) = slot.as_ref()?;
        let keep = if value.is_ok() { KEEP } else { KEEP_FAILURE };
        (at.elapsed() < keep).then(|| value.clone())
    }

    /// Keeps `value` from now on, and returns it.
    pub fn store(&self, value: Result<T, String>) -> Fetched<T> {
        let value = value.map(Arc::new);
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(issuer: &str) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
            "jwks_uri": "https://idp.example.com/jwks",
            "userinfo_endpoint": "https://idp.example.com/userinfo",
            "response_types_supported": ["code", "id_token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })
    }

    fn checked(issuer: &str, document: serde_json::Value) -> Result<Discovered, String> {
        check(issuer, serde_json::from_value(document).unwrap())
    }

    fn changed(change: serde_json::Value) -> serde_json::Value {
        let mut doc = document("https://idp.example.com");
        for (k, v) in change.as_object().unwrap() {
            doc[k] = v.clone();
        }
        doc
    }

    #[test]
    fn a_good_document_is_read() {
        let found = checked("https://idp.example.com", document("https://idp.example.com")).unwrap();
        assert_eq!(found.issuer, IssuerRule::Exact("https://idp.example.com".into()));
        assert_eq!(found.algorithms, [Algorithm::RS256], "HS256 is never allowed");
        assert!(!found.basic_auth);
        assert_eq!(found.userinfo_endpoint.unwrap().as_str(), "https://idp.example.com/userinfo");
    }

    #[test]
    fn the_issuer_must_match_exactly_or_be_filled_by_the_configured_one() {
        let refused = checked("https://idp.example.com", document("https://idp.example.com/")).unwrap_err();
        assert!(refused.contains("names the issuer"), "{refused}");
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let found = checked("https://login.microsoftonline.com/common/v2.0", document(template)).unwrap();
        assert_eq!(
            found.issuer,
            IssuerRule::Template { prefix: "https://login.microsoftonline.com/".into(), suffix: "/v2.0".into() }
        );
        assert!(checked("https://login.microsoftonline.com/a/b/v2.0", document(template)).is_err());
        assert!(checked("https://evil.example/common/v2.0", document(template)).is_err());
    }

    #[test]
    fn the_flow_pkce_and_endpoints_are_checked() {
        let issuer = "https://idp.example.com";
        assert!(checked(issuer, changed(serde_json::json!({"response_types_supported": ["id_token"]}))).is_err());
        assert!(checked(issuer, changed(serde_json::json!({"code_challenge_methods_supported": ["plain"]}))).is_err());
        assert!(
            checked(issuer, changed(serde_json::json!({"id_token_signing_alg_values_supported": ["HS256"]}))).is_err()
        );
        let http = changed(serde_json::json!({"token_endpoint": "http://127.0.0.1:9/token"}));
        assert!(checked(issuer, http.clone()).unwrap_err().contains("must use https"));
        let mut local = http;
        local["issuer"] = "http://127.0.0.1:9".into();
        assert!(checked("http://127.0.0.1:9", local).is_ok(), "a loopback issuer may use loopback http");
        let internal = changed(serde_json::json!({"jwks_uri": "http://10.0.0.1/jwks"}));
        assert!(checked(issuer, internal).is_err());
    }

    #[test]
    fn failures_are_kept_briefly() {
        let cache: Cache<u8> = Cache::default();
        assert!(cache.fresh().is_none());
        assert!(cache.store(Err("down".into())).is_err());
        assert_eq!(cache.fresh().unwrap().unwrap_err(), "down");
        assert_eq!(*cache.store(Ok(7)).unwrap(), 7);
        assert_eq!(*cache.fresh().unwrap().unwrap(), 7);
    }
}
