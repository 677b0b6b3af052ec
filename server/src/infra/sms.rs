//! Outgoing text messages for SMS codes (docs/api.md#sms-codes), through the backend of
//! `LATCHKEY_SMS_BACKEND`: `off`, `console` (standard output, like the e-mail console backend),
//! `file:<dir>` (one JSON file per message) or Twilio's Messages REST API.
//!
//! Unlike e-mail, a message is sent while the request waits, within [`TIMEOUT`]: a code is worth
//! sending only in the next minute or two, so retrying later in the background (as the mailer does)
//! would deliver codes nobody waits for any more, and the user would never learn that the message
//! did not go. A failure answers 503 at once, and the user can choose another second factor.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use rand_core::{OsRng, RngCore};

use crate::infra::outbound::{Http, Reach};
use crate::infra::phone::{is_calling_code, PhoneNumber};

/// The longest one message may take to hand to Twilio (connecting included): the request waits.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Where text messages go (`LATCHKEY_SMS_BACKEND`).
#[derive(Clone, PartialEq, Eq, Default)]
pub enum SmsBackend {
    /// SMS codes are off: the SMS endpoints answer 404.
    #[default]
    Off,
    /// Printed on standard output (development).
    Console,
    /// One `.json` file per message in this directory: `{"to","body","sent_at"}`.
    File(PathBuf),
    /// Twilio's Messages API with this account.
    Twilio(Twilio),
}

/// A Twilio account and the number messages come from (its `Debug` hides the auth token).
#[derive(Clone, PartialEq, Eq)]
pub struct Twilio {
    /// `AC…`: the path's account and the basic-auth user.
    pub account_sid: String,
    /// The basic-auth password.
    pub auth_token: String,
    /// The `From` number, E.164.
    pub from: String,
}

impl std::fmt::Debug for Twilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:…@{}", self.account_sid, self.from)
    }
}

impl std::fmt::Debug for SmsBackend {
    /// The auth token is a credential: only the account and the sender are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::Console => f.write_str("Console"),
            Self::File(dir) => f.debug_tuple("File").field(dir).finish(),
            Self::Twilio(account) => write!(f, "Twilio({account:?})"),
        }
    }
}

impl FromStr for SmsBackend {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        match text {
            "off" => return Ok(Self::Off),
            "console" => return Ok(Self::Console),
            _ => {}
        }
        if let Some(dir) = text.strip_prefix("file:") {
            if dir.is_empty() {
                return Err("`file:` needs a directory, as in `file:/var/spool/latchkey-sms`".into());
            }
            return Ok(Self::File(PathBuf::from(dir)));
        }
        let form = "expected `off`, `console`, `file:<dir>` or `twilio://<account_sid>:<auth_token>@<from_number>`";
        let Some(account) = text.strip_prefix("twilio://") else { return Err(form.into()) };
        let (credentials, from) = account.rsplit_once('@').ok_or(form)?;
        let (sid, token) = credentials.split_once(':').ok_or(form)?;
        if !(sid.starts_with("AC") && sid.len() > 2 && sid.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(
                "twilio://: the account SID is `AC` and letters and digits, as Twilio's console shows it".into()
            );
        }
        if token.is_empty() {
            return Err("twilio://: the auth token is missing".into());
        }
        let from: PhoneNumber = from.parse().map_err(|e| format!("twilio://: the from number: {e}"))?;
        Ok(Self::Twilio(Twilio { account_sid: sid.into(), auth_token: token.into(), from: from.as_str().into() }))
    }
}

impl SmsBackend {
    /// Whether SMS codes are on.
    pub fn is_on(&self) -> bool {
        !matches!(self, Self::Off)
    }
}

/// `LATCHKEY_SMS_API_URL`: an `http(s)://host[:port]` base without a path (a trailing `/` is dropped).
pub fn api_base(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("`{text}`: {e}"))?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.username().is_empty();
    if !plain {
        return Err(format!("`{text}`: expected a base such as https://api.twilio.com, with no path"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `LATCHKEY_SMS_COUNTRIES`: the calling codes SMS codes may go to; empty allows every one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsCountries(Vec<u16>);

impl SmsCountries {
    /// Whether numbers under `calling_code` may be enrolled and sent to.
    pub fn allows(&self, calling_code: u16) -> bool {
        self.0.is_empty() || self.0.contains(&calling_code)
    }
}

impl FromStr for SmsCountries {
    type Err = String;

    /// `1,44,49` (a leading `+` allowed); every code must be an assigned one.
    fn from_str(text: &str) -> Result<Self, String> {
        let parse = |part: &str| {
            let code = part.strip_prefix('+').unwrap_or(part).parse().ok().filter(|c| is_calling_code(*c));
            code.ok_or_else(|| format!("`{part}` is not a country calling code (such as 1, 44 or 49)"))
        };
        text.split(',').map(str::trim).filter(|p| !p.is_empty()).map(parse).collect::<Result<_, _>>().map(Self)
    }
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// `LATCHKEY_SMS_BACKEND=off`.
    #[error("SMS is off")]
    Off,
    /// Standard output or the directory could not be written.
    #[error("{0}")]
    Local(String),
    /// Twilio could not be reached, or refused the message (its status and error code; never its
    /// message, which repeats the phone number).
    #[error("Twilio: {0}")]
    Twilio(String),
}

/// Sends text messages through the configured backend. The HTTP client is made on first use.
#[derive(Debug, Default)]
pub struct SmsSender {
    http: OnceLock<Result<Http, String>>,
}

impl SmsSender {
    /// Sends `body` to `to` through `backend` (Twilio's at `api_url`, `LATCHKEY_SMS_API_URL`),
    /// waiting for it to be accepted.
    ///
    /// # Errors
    /// [`SmsError`] when the backend is off or did not take the message.
    pub async fn send(
        &self,
        (backend, api_url): (&SmsBackend, &str),
        to: &PhoneNumber,
        body: &str,
    ) -> Result<(), SmsError> {
        match backend {
            SmsBackend::Off => Err(SmsError::Off),
            SmsBackend::Console => {
                use std::io::Write;
                // One locked write per message; a closed stdout is a failed send, not a panic.
                let mut out = std::io::stdout().lock();
                let to = to.as_str();
                writeln!(out, "---------- SMS ----------\nTo: {to}\n\n{body}\n-------------------------")
                    .and_then(|()| out.flush())
                    .map_err(|e| SmsError::Local(format!("standard output: {e}")))
            }
            SmsBackend::File(dir) => write_file(dir, to, body).await,
            SmsBackend::Twilio(account) => self.twilio(api_url, account, to, body).await,
        }
    }

    /// `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`, `Body`,
    /// with HTTP basic auth: Twilio answers 201 with the message, or an error object.
    async fn twilio(&self, base: &str, account: &Twilio, to: &PhoneNumber, body: &str) -> Result<(), SmsError> {
        // The base URL is the operator's choice alone (LATCHKEY_SMS_API_URL: Twilio, a regional
        // edge, or a stand-in on the company network or loopback), never a user's, so any address
        // may be called, as for the breached-password mirror; redirects are still not followed.
        let http = self
            .http
            .get_or_init(|| Http::new(Reach::Any, TIMEOUT))
            .as_ref()
            .map_err(|e| SmsError::Twilio(e.clone()))?;
        let url = format!("{base}/2010-04-01/Accounts/{}/Messages.json", account.account_sid);
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("To", to.as_str())
            .append_pair("From", &account.from)
            .append_pair("Body", body)
            .finish();
        let credentials = format!("{}:{}", account.account_sid, account.auth_token);
        let authorization = format!("Basic {}", data_encoding::BASE64.encode(credentials.as_bytes()));
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ];
        let answer = http.post_with(&url, &headers, form.into_bytes()).await.map_err(|e| {
            SmsError::Twilio(if e.is_timeout() { format!("no answer within {TIMEOUT:?}") } else { e.to_string() })
        })?;
        let status = answer.status.as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        // Twilio's error object: {"code", "message", "more_info", "status"}.
        let code = serde_json::from_slice::<serde_json::Value>(&answer.body).ok().and_then(|v| v["code"].as_i64());
        Err(SmsError::Twilio(match code {
            Some(code) => format!("HTTP {status}, error {code}"),
            None => format!("HTTP {status}"),
        }))
    }
}

/// Writes the message as `<dir>/<time>-<random>.json`, complete or not at all (a temporary file
/// renamed into place), so that a reader never sees half of one.
async fn write_file(dir: &std::path::Path, to: &PhoneNumber, body: &str) -> Result<(), SmsError> {
    let now = crate::infra::clock::now();
    let message = serde_json::json!({
        "to": to.as_str(),
        "body": body,
        "sent_at": crate::infra::datetime::iso8601(now),
    });
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    let name = format!("{now}-{}", latchkey_core::encoding::hex(&bytes));
    let local = |e: std::io::Error| SmsError::Local(format!("{}: {e}", dir.display()));
    tokio::fs::create_dir_all(dir).await.map_err(local)?;
    let partial = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&partial, message.to_string()).await.map_err(local)?;
    tokio::fs::rename(&partial, dir.join(format!("{name}.json"))).await.map_err(local)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_and_hide_the_auth_token() {
        let parse = |text: &str| text.parse::<SmsBackend>();
        assert_eq!(parse("off"), Ok(SmsBackend::Off));
        assert_eq!(parse("console"), Ok(SmsBackend::Console));
        assert_eq!(parse("file:/tmp/sms"), Ok(SmsBackend::File("/tmp/sms".into())));
        let twilio = parse("twilio://AC0123abc:s3cret@+15005550006").unwrap();
        let SmsBackend::Twilio(account) = &twilio else { panic!("{twilio:?}") };
        assert_eq!((account.account_sid.as_str(), account.auth_token.as_str()), ("AC0123abc", "s3cret"));
        assert_eq!(account.from, "+15005550006");
        assert_eq!(format!("{twilio:?}"), "Twilio(AC0123abc:…@+15005550006)");
        for bad in [
            "",
            "sms",
            "file:",
            "twilio://",
            "twilio://AC1:tok",
            "twilio://AC1@+15005550006",
            "twilio://XY1:tok@+15005550006",
            "twilio://AC1:@+15005550006",
            "twilio://AC1:tok@15005550006",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(api_base("https://api.twilio.com/").unwrap(), "https://api.twilio.com");
        assert_eq!(api_base("http://127.0.0.1:9000").unwrap(), "http://127.0.0.1:9000");
        for bad in ["api.twilio.com", "ftp://x", "https://api.twilio.com/2010-04-01", "https://u:p@x"] {
            assert!(api_base(bad).is_err(), "{bad}");
        }
        let countries: SmsCountries = "1, +44,49".parse().unwrap();
        assert!(countries.allows(44) && !countries.allows(33));
        assert!(SmsCountries::default().allows(33), "unset allows every country");
        assert!("1,4".parse::<SmsCountries>().is_err(), "+4 is no calling code");
        assert!("uk".parse::<SmsCountries>().is_err());
    }
}
