//! GitHub, which is plain OAuth 2 rather than OpenID Connect: the user is whoever its REST API says
//! the access token belongs to. The subject is the numeric account `id` (a login can be renamed and
//! then taken by someone else; the id never changes hands). The e-mail address is the primary one
//! of `/user/emails`, verified as GitHub says (scope `user:email`).

use serde::Deserialize;

use super::http::Http;
use super::{Identity, SocialError};

/// The media type GitHub's REST API documents.
const ACCEPT: &str = "application/vnd.github+json";

/// `GET /user`, the fields used.
#[derive(Debug, Deserialize)]
struct User {
    id: u64,
    #[serde(default)]
    name: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Debug, Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

/// The GitHub account the access token belongs to, with its primary e-mail address.
pub(crate) async fn identity(http: &Http, api_url: &str, access_token: &str) -> Result<Identity, SocialError> {
    let url = format!("{api_url}/user");
    let answer = http.get(&url, ACCEPT, Some(access_token)).await.map_err(|e| unavailable(&url, &e))?;
    if answer.status.is_client_error() {
        return Err(SocialError::Provider(format!("{url} answered {}", answer.status)));
    }
    if !answer.status.is_success() {
        return Err(SocialError::Unavailable(format!("{url} answered {}", answer.status)));
    }
    let user: User = serde_json::from_slice(&answer.body)
        .map_err(|e| SocialError::Unavailable(format!("{url}: not a GitHub user ({e})")))?;
    let primary = primary_email(http, api_url, access_token).await?;
    let (given_name, family_name) = split_name(user.name.as_deref());
    Ok(Identity {
        subject: user.id.to_string(),
        email_verified: primary.as_ref().is_some_and(|e| e.verified),
        email: primary.map(|e| e.email),
        given_name,
        family_name,
    })
}

/// The primary address of `/user/emails`; none when there is none, or when the token may not read
/// them (the user refused the `user:email` scope: GitHub answers 403 or 404).
async fn primary_email(http: &Http, api_url: &str, access_token: &str) -> Result<Option<Email>, SocialError> {
    let url = format!("{api_url}/user/emails");
    let answer = http.get(&url, ACCEPT, Some(access_token)).await.map_err(|e| unavailable(&url, &e))?;
    if answer.status.is_client_error() {
        tracing::info!(%url, status = %answer.status, "GitHub did not list the user's e-mail addresses");
        return Ok(None);
    }
    if !answer.status.is_success() {
        return Err(SocialError::Unavailable(format!("{url} answered {}", answer.status)));
    }
    let emails: Vec<Email> = serde_json::from_slice(&answer.body)
        .map_err(|e| SocialError::Unavailable(format!("{url}: not a list of addresses ({e})")))?;
    Ok(emails.into_iter().find(|e| e.primary).filter(|e| !e.email.is_empty() && e.email.chars().count() <= 254))
}

/// GitHub has one free-form name: the first word is taken as the given name and the rest as the
/// family name (as django-allauth does), each cut to 150 characters.
fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let name = name.map(str::trim).unwrap_or("");
    let (given, family) = name.split_once(' ').unwrap_or((name, ""));
    let part = |text: &str| {
        let text = text.trim();
        (!text.is_empty()).then(|| text.chars().take(150).collect::<String>())
    };
    (part(given), part(family))
}

/// A failed call to GitHub's API.
fn unavailable(url: &str, error: &super::http::HttpError) -> SocialError {
    SocialError::Unavailable(format!("{url}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_split_at_the_first_space() {
        assert_eq!(split_name(Some("Ada King Lovelace")), (Some("Ada".into()), Some("King Lovelace".into())));
        assert_eq!(split_name(Some(" Octocat ")), (Some("Octocat".into()), None));
        assert_eq!(split_name(None), (None, None));
    }

    #[test]
    fn emails_and_users_parse_as_github_sends_them() {
        let user: User = serde_json::from_str(r#"{"id":583231,"login":"octocat","name":null,"email":null}"#).unwrap();
        assert_eq!(user.id, 583231);
        let emails: Vec<Email> = serde_json::from_str(
            r#"[{"email":"o@example.com","primary":false,"verified":true,"visibility":null},
                {"email":"octo@example.com","primary":true,"verified":true,"visibility":"public"}]"#,
        )
        .unwrap();
        let primary = emails.into_iter().find(|e| e.primary).unwrap();
        assert_eq!((primary.email.as_str(), primary.verified), ("octo@example.com", true));
    }
}
