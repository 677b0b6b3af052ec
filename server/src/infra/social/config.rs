//! The providers file (`LATCHKEY_OIDC_PROVIDERS`): its entries as written, and the checks that
//! turn them into [`Settings`] at start, without any network.

use std::path::Path;

use serde::Deserialize;
use url::Url;

/// What kind of provider an entry is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenID Connect: endpoints and keys come from the issuer's discovery document.
    #[default]
    Oidc,
    /// GitHub (plain OAuth 2): fixed endpoints, the user from its REST API.
    Github,
}

/// One provider as the file gives it. Every field may be absent so that a missing one is reported
/// by name with the entry it belongs to; [`validate`] refuses what is unusable.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderEntry {
    /// The provider's name in URLs and in the database: `^[a-z0-9][a-z0-9_-]{0,31}$`, unique.
    pub id: String,
    /// What sign-in buttons show ("Google").
    pub name: String,
    /// `oidc` (the default) or `github`.
    pub kind: ProviderKind,
    /// OpenID Connect: the issuer, exactly as its discovery document and its ID tokens name it.
    /// Refused for GitHub.
    pub issuer: Option<String>,
    /// The client ID registered with the provider.
    pub client_id: String,
    /// The client secret registered with the provider.
    pub client_secret: String,
    /// Scopes asked for. OpenID Connect: `openid email profile` when absent, and `openid` is always
    /// added; GitHub: `read:user user:email`.
    pub scopes: Option<Vec<String>>,
    /// GitHub: the web site (`https://github.com`, or a GitHub Enterprise Server).
    pub github_url: Option<String>,
    /// GitHub: the REST API (`https://api.github.com`; GitHub Enterprise Server: `https://host/api/v3`).
    pub api_url: Option<String>,
    /// OpenID Connect: the claim that says the e-mail address is verified (`email_verified`;
    /// Microsoft Entra: `xms_edov`).
    pub email_verified_claim: Option<String>,
    /// OpenID Connect: the tenants (GUIDs) accepted when discovery names a `{tenantid}` issuer
    /// template (Microsoft Entra's `common` and `organizations`). Absent: any tenant.
    pub tenants: Option<Vec<String>>,
    /// Reach this provider on private addresses too (an identity provider inside the company
    /// network). Off: private, link-local, ULA and CGNAT addresses are refused, loopback excepted.
    pub allow_private: bool,
}

impl std::fmt::Debug for ProviderEntry {
    /// The client secret is not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderEntry")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Where a provider's endpoints come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoints {
    /// OpenID Connect discovery at this issuer (no trailing slash trimmed: it is compared exactly).
    Oidc {
        /// The issuer as configured.
        issuer: String,
    },
    /// GitHub's fixed paths.
    Github {
        /// `{github_url}/login/oauth/authorize`.
        authorize_url: Url,
        /// `{github_url}/login/oauth/access_token`.
        token_url: Url,
        /// The REST API, without a trailing slash.
        api_url: String,
    },
}

/// A provider's checked settings.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// The checked id.
    pub id: String,
    /// The name on buttons, trimmed.
    pub name: String,
    /// Discovery, or GitHub's endpoints.
    pub endpoints: Endpoints,
    /// The client ID.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// The scopes asked for (`openid` among them for OpenID Connect).
    pub scopes: Vec<String>,
    /// `{public base}/api/auth/social/{id}/callback/`.
    pub redirect_uri: Url,
    /// The claim that says the e-mail address is verified.
    pub email_verified_claim: String,
    /// Lower-case tenant GUIDs; `None` accepts any.
    pub tenants: Option<Vec<String>>,
    /// Private addresses may be called.
    pub allow_private: bool,
}

impl std::fmt::Debug for Settings {
    /// The client secret is not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("id", &self.id)
            .field("endpoints", &self.endpoints)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

/// Reads the entries of a providers file: `[[providers]]` tables when its name ends in `.toml`,
/// otherwise JSON, a list or `{"providers": [...]}`. Warns when others may read it (it holds the
/// client secrets).
pub(crate) fn read_file(path: &Path) -> Result<Vec<ProviderEntry>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        providers: Vec<ProviderEntry>,
    }
    let error = |e: String| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    warn_if_readable_by_others(path);
    if path.extension().is_some_and(|e| e == "toml") {
        return toml::from_str::<File>(&text).map(|f| f.providers).map_err(|e| error(e.to_string()));
    }
    if text.trim_start().starts_with('{') {
        return serde_json::from_str::<File>(&text).map(|f| f.providers).map_err(|e| error(e.to_string()));
    }
    serde_json::from_str::<Vec<ProviderEntry>>(&text).map_err(|e| error(e.to_string()))
}

/// A warning when group or others may read the providers file.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path) {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "LATCHKEY_OIDC_PROVIDERS is open to group or others (mode {mode:03o}) and holds client \
                     secrets; restrict it with `chmod 600`"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Checks every entry and the set of them; `public_base` is the server's public URL without a
/// trailing slash. The first problem found is the error, naming the entry.
pub(crate) fn validate(entries: Vec<ProviderEntry>, public_base: &str) -> Result<Vec<Settings>, String> {
    let mut settings: Vec<Settings> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let label = if entry.id.is_empty() { format!("provider {}", index + 1) } else { format!("`{}`", entry.id) };
        let checked = check_entry(entry, public_base).map_err(|e| format!("{label}: {e}"))?;
        if settings.iter().any(|s| s.id == checked.id) {
            return Err(format!("{label}: the id is used by another provider"));
        }
        settings.push(checked);
    }
    Ok(settings)
}

/// The checks of one entry.
fn check_entry(entry: ProviderEntry, public_base: &str) -> Result<Settings, String> {
    if !valid_id(&entry.id) {
        return Err("`id` must be 1 to 32 of a-z, 0-9, `_` and `-`, starting with a letter or digit".into());
    }
    let name = entry.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err("`name` must be 1 to 64 characters".into());
    }
    if entry.client_id.is_empty() {
        return Err("`client_id` is missing".into());
    }
    if entry.client_secret.is_empty() {
        return Err("`client_secret` is missing".into());
    }
    let endpoints = match entry.kind {
        ProviderKind::Oidc => oidc_endpoints(&entry)?,
        ProviderKind::Github => github_endpoints(&entry)?,
    };
    let scopes = scopes(entry.kind, entry.scopes)?;
    let redirect = format!("{public_base}/api/auth/social/{}/callback/", entry.id);
    let redirect_uri = Url::parse(&redirect).map_err(|e| format!("the redirect URI {redirect} is not a URL ({e})"))?;
    let tenants = match entry.tenants {
        None => None,
        Some(tenants) => Some(tenants.iter().map(|t| tenant(t)).collect::<Result<Vec<_>, _>>()?),
    };
    Ok(Settings {
        id: entry.id,
        name: name.to_owned(),
        endpoints,
        client_id: entry.client_id,
        client_secret: entry.client_secret,
        scopes,
        redirect_uri,
        email_verified_claim: entry.email_verified_claim.unwrap_or_else(|| "email_verified".to_owned()),
        tenants,
        allow_private: entry.allow_private,
    })
}

/// `^[a-z0-9][a-z0-9_-]{0,31}$`.
fn valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok && id.len() <= 32 && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An OpenID Connect entry: an issuer, and none of GitHub's fields.
fn oidc_endpoints(entry: &ProviderEntry) -> Result<Endpoints, String> {
    if entry.github_url.is_some() || entry.api_url.is_some() {
        return Err("`github_url` and `api_url` belong to `\"kind\": \"github\"`".into());
    }
    let Some(issuer) = &entry.issuer else { return Err("`issuer` is missing".into()) };
    let url = provider_url("issuer", issuer)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("`issuer` must not have a query or a fragment".into());
    }
    Ok(Endpoints::Oidc { issuer: issuer.clone() })
}

/// A GitHub entry: no issuer nor OpenID Connect extension; its URLs default to github.com's.
fn github_endpoints(entry: &ProviderEntry) -> Result<Endpoints, String> {
    if entry.issuer.is_some() {
        return Err("a GitHub provider has no `issuer` (it is not OpenID Connect)".into());
    }
    if entry.email_verified_claim.is_some() || entry.tenants.is_some() {
        return Err("`email_verified_claim` and `tenants` belong to OpenID Connect providers".into());
    }
    let github_url = entry.github_url.as_deref().unwrap_or("https://github.com");
    let api_url = entry.api_url.as_deref().unwrap_or("https://api.github.com");
    provider_url("github_url", github_url)?;
    provider_url("api_url", api_url)?;
    let oauth = |path: &str| {
        let text = format!("{}/login/oauth/{path}", github_url.trim_end_matches('/'));
        Url::parse(&text).map_err(|e| format!("`github_url`: {text} is not a URL ({e})"))
    };
    Ok(Endpoints::Github {
        authorize_url: oauth("authorize")?,
        token_url: oauth("access_token")?,
        api_url: api_url.trim_end_matches('/').to_owned(),
    })
}

/// The scopes asked for: OpenID Connect always asks `openid`.
fn scopes(kind: ProviderKind, given: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let defaults: &[&str] = match kind {
        ProviderKind::Oidc => &["openid", "email", "profile"],
        ProviderKind::Github => &["read:user", "user:email"],
    };
    let mut scopes = given.unwrap_or_else(|| defaults.iter().map(|s| (*s).to_owned()).collect());
    if let Some(bad) = scopes.iter().find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '"')) {
        return Err(format!("the scope {bad:?} is not one scope"));
    }
    if kind == ProviderKind::Oidc && !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_owned());
    }
    Ok(scopes)
}

/// A lower-case tenant GUID.
fn tenant(text: &str) -> Result<String, String> {
    if is_guid(text) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!("the tenant {text:?} is not a GUID"))
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal digits.
pub(crate) fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A URL the server will call: https, or plain http on loopback (development and tests), without
/// credentials.
pub(crate) fn provider_url(field: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`{field}` {text:?} is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{field}` must not hold credentials"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        _ => Err(format!("`{field}` {text:?} must use https (plain http only on 127.0.0.1, localhost or [::1])")),
    }
}

// The host is 127.0.0.1, `localhost` or [::1]: the outbound client's rule.
pub(crate) use crate::infra::outbound::is_loopback_host;

#[cfg(test)]
mod tests {
    use super::*;

    fn google() -> ProviderEntry {
        ProviderEntry {
            id: "google".into(),
            name: "Google".into(),
            issuer: Some("https://accounts.google.com".into()),
            client_id: "cid".into(),
            client_secret: "s3cr3t-value".into(),
            ..ProviderEntry::default()
        }
    }

    fn github() -> ProviderEntry {
        ProviderEntry {
            id: "github".into(),
            name: "GitHub".into(),
            kind: ProviderKind::Github,
            client_id: "gid".into(),
            client_secret: "gsecret".into(),
            ..ProviderEntry::default()
        }
    }

    fn refusal(entry: ProviderEntry) -> String {
        match validate(vec![entry], "https://auth.example.com") {
            Ok(settings) => panic!("accepted: {settings:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_valid_entry_gets_defaults_and_its_redirect_uri() {
        let settings = validate(vec![google(), github()], "https://auth.example.com").unwrap();
        assert_eq!(settings[0].redirect_uri.as_str(), "https://auth.example.com/api/auth/social/google/callback/");
        assert_eq!(settings[0].scopes, ["openid", "email", "profile"]);
        assert_eq!(settings[0].email_verified_claim, "email_verified");
        assert_eq!(settings[0].endpoints, Endpoints::Oidc { issuer: "https://accounts.google.com".into() });
        assert_eq!(settings[1].scopes, ["read:user", "user:email"]);
        let Endpoints::Github { authorize_url, token_url, api_url } = &settings[1].endpoints else { panic!() };
        assert_eq!(authorize_url.as_str(), "https://github.com/login/oauth/authorize");
        assert_eq!(token_url.as_str(), "https://github.com/login/oauth/access_token");
        assert_eq!(api_url, "https://api.github.com");
        let ghes = ProviderEntry {
            github_url: Some("https://ghe.example.com/".into()),
            api_url: Some("https://ghe.example.com/api/v3/".into()),
            ..github()
        };
        let settings = validate(vec![ghes], "https://auth.example.com").unwrap();
        let Endpoints::Github { token_url, api_url, .. } = &settings[0].endpoints else { panic!() };
        assert_eq!(token_url.as_str(), "https://ghe.example.com/login/oauth/access_token");
        assert_eq!(api_url, "https://ghe.example.com/api/v3");
    }

    #[test]
    fn openid_is_always_asked() {
        let entry = ProviderEntry { scopes: Some(vec!["email".into()]), ..google() };
        let settings = validate(vec![entry], "http://127.0.0.1:8000").unwrap();
        assert_eq!(settings[0].scopes, ["openid", "email"]);
        let entry = ProviderEntry { scopes: Some(vec!["a b".into()]), ..google() };
        assert!(refusal(entry).contains("not one scope"));
    }

    #[test]
    fn ids_are_short_lower_case_and_unique() {
        for bad in ["", "Google", "-x", "a b", "a.b", &"x".repeat(33)] {
            let entry = ProviderEntry { id: bad.into(), ..google() };
            assert!(refusal(entry).contains("`id` must be"), "{bad:?}");
        }
        for good in ["g", "0", "entra_work-2", &"x".repeat(32)] {
            let entry = ProviderEntry { id: good.into(), ..google() };
            assert!(validate(vec![entry], "https://a.example").is_ok(), "{good:?}");
        }
        let twice = validate(vec![google(), google()], "https://a.example").unwrap_err();
        assert!(twice.contains("used by another provider"), "{twice}");
    }

    #[test]
    fn missing_fields_are_named() {
        assert!(refusal(ProviderEntry { issuer: None, ..google() }).contains("`issuer` is missing"));
        assert!(refusal(ProviderEntry { client_id: String::new(), ..google() }).contains("`client_id`"));
        assert!(refusal(ProviderEntry { client_secret: String::new(), ..google() }).contains("`client_secret`"));
        assert!(refusal(ProviderEntry { name: " ".into(), ..google() }).contains("`name`"));
    }

    #[test]
    fn issuers_use_https_except_on_loopback() {
        for bad in ["http://accounts.example.com", "http://10.0.0.1", "ftp://x.example", "https://u:p@x.example"] {
            let entry = ProviderEntry { issuer: Some(bad.into()), ..google() };
            assert!(refusal(entry).contains("`issuer`"), "{bad}");
        }
        for good in ["http://127.0.0.1:4000", "http://localhost:4000/oidc", "http://[::1]:9"] {
            let entry = ProviderEntry { issuer: Some(good.into()), ..google() };
            assert!(validate(vec![entry], "https://a.example").is_ok(), "{good}");
        }
        let entry = ProviderEntry { api_url: Some("http://api.github.example".into()), ..github() };
        assert!(refusal(entry).contains("`api_url`"));
    }

    #[test]
    fn github_and_oidc_fields_do_not_mix() {
        let entry = ProviderEntry { issuer: Some("https://github.com".into()), ..github() };
        assert!(refusal(entry).contains("no `issuer`"));
        let entry = ProviderEntry { tenants: Some(vec![]), ..github() };
        assert!(refusal(entry).contains("`tenants`"));
        let entry = ProviderEntry { github_url: Some("https://ghe.example".into()), ..google() };
        assert!(refusal(entry).contains("`github_url`"));
    }

    #[test]
    fn tenants_are_guids() {
        let guid = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
        let entry = ProviderEntry { tenants: Some(vec![guid.into()]), ..google() };
        let settings = validate(vec![entry], "https://a.example").unwrap();
        assert_eq!(settings[0].tenants, Some(vec![guid.to_ascii_lowercase()]));
        let entry = ProviderEntry { tenants: Some(vec!["contoso".into()]), ..google() };
        assert!(refusal(entry).contains("not a GUID"));
    }

    #[test]
    fn files_are_json_lists_or_toml_tables() {
        let dir = std::env::temp_dir().join(format!("latchkey-social-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("providers.json");
        std::fs::write(&json, r#"[{"id":"gh","name":"GitHub","kind":"github","client_id":"a","client_secret":"b"}]"#)
            .unwrap();
        let entries = read_file(&json).unwrap();
        assert_eq!(entries[0].kind, ProviderKind::Github);
        let toml = dir.join("providers.toml");
        std::fs::write(
            &toml,
            "[[providers]]\nid = \"entra\"\nname = \"Microsoft\"\nissuer = \"https://login.microsoftonline.com/common/v2.0\"\n\
             client_id = \"c\"\nclient_secret = \"s\"\nemail_verified_claim = \"xms_edov\"\n",
        )
        .unwrap();
        let entries = read_file(&toml).unwrap();
        assert_eq!(entries[0].email_verified_claim.as_deref(), Some("xms_edov"));
        std::fs::write(&json, r#"[{"id":"x","name":"X","isuer":"https://x.example"}]"#).unwrap();
        assert!(read_file(&json).unwrap_err().contains("isuer"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let shown = format!("{:?} {:?}", google(), validate(vec![google()], "https://a.example").unwrap());
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
