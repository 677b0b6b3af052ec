//! Security webhooks on the wire (Standard Webhooks, <https://www.standardwebhooks.com/>): the
//! `whsec_` secrets, the `v1,` HMAC-SHA256 signatures over `{webhook-id}.{webhook-timestamp}.{body}`,
//! and the courier that posts them, through the server's one outbound client with the webhook
//! address policy (public https only, unless `LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1`).

use std::time::Duration;

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use tokio::sync::Notify;
use url::{Host, Url};

use crate::infra::outbound::{is_public, Http, Reach};

/// How long one attempt may take in all (connecting gets at most 3 s of it).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How long saving an endpoint waits for its name to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The prefix of a secret as operators see it.
const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and the standard base64 of 32 random bytes (the HMAC key).
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", BASE64.encode(&key))
}

/// The `webhook-signature` header of a message: `v1,` and the standard base64 of
/// HMAC-SHA256(key, `{id}.{timestamp}.{body}`), the key being the secret's decoded base64.
/// `None` for a secret that is not `whsec_<base64>`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = BASE64.decode(secret.strip_prefix(SECRET_PREFIX)?.as_bytes()).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", BASE64.encode(&mac.finalize().into_bytes())))
}

/// How an attempt went, as the delivery log keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered(u16),
    /// The receiver answered another status.
    Status(u16),
    /// No answer within [`TIMEOUT`].
    Timeout,
    /// Connecting failed, or the answer broke off.
    Unreachable,
    /// The URL, or what its name resolved to, is an address webhooks may not reach.
    RefusedAddress,
}

impl Attempt {
    /// The delivery log's `last_error`: a fixed phrase, never the receiver's own words.
    pub fn error(self) -> Option<&'static str> {
        match self {
            Self::Delivered(_) => None,
            Self::Status(_) => Some("http_status"),
            Self::Timeout => Some("timeout"),
            Self::Unreachable => Some("unreachable"),
            Self::RefusedAddress => Some("refused_address"),
        }
    }

    /// The receiver's status, when it answered.
    pub fn status(self) -> Option<u16> {
        match self {
            Self::Delivered(status) | Self::Status(status) => Some(status),
            _ => None,
        }
    }
}

/// Posts signed messages, and wakes the delivery loop when one is queued on this node.
#[derive(Debug)]
pub struct Courier {
    http: Result<Http, String>,
    wake: Notify,
    allow_private: bool,
}

impl Courier {
    /// The courier; `allow_private` is `LATCHKEY_WEBHOOK_ALLOW_PRIVATE`.
    pub fn new(allow_private: bool) -> Self {
        let http = Http::new(Reach::any_if(allow_private, Reach::Public), TIMEOUT);
        Self { http, wake: Notify::new(), allow_private }
    }

    /// Whether `url`'s host is a name that resolves, now, to an address webhooks may not reach. A
    /// name that does not resolve (yet) is not refused for it: every delivery checks again.
    pub async fn resolves_to_private(&self, url: &Url) -> bool {
        let (false, Some(Host::Domain(name))) = (self.allow_private, url.host()) else { return false };
        let lookup = tokio::net::lookup_host((name, 0));
        match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
            Ok(Ok(mut addresses)) => addresses.any(|address| !is_public(address.ip())),
            _ => false,
        }
    }

    /// Whether `url` may be an endpoint: its scheme and, for an IP address, the address (a name's
    /// addresses are checked when it is resolved, at every delivery).
    pub fn may_call(&self, url: &Url) -> bool {
        self.http.as_ref().is_ok_and(|http| http.may_call(url))
    }

    /// Tells the delivery loop that a message is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when [`Courier::wake`] is called (or was, since the last wait).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Posts `body` to `url`, signed with `secret` under `id` and `timestamp`.
    pub async fn post(&self, url: &str, secret: &str, id: &str, timestamp: i64, body: &str) -> Attempt {
        let Ok(http) = &self.http else { return Attempt::Unreachable };
        let Some(signed) = signature(secret, id, timestamp, body.as_bytes()) else {
            return Attempt::Unreachable;
        };
        let stamp = timestamp.to_string();
        let headers = [
            ("content-type", "application/json"),
            ("webhook-id", id),
            ("webhook-timestamp", stamp.as_str()),
            ("webhook-signature", signed.as_str()),
        ];
        match http.post_with(url, &headers, body.as_bytes().to_vec()).await {
            Ok(answer) if answer.status.is_success() => Attempt::Delivered(answer.status.as_u16()),
            Ok(answer) => Attempt::Status(answer.status.as_u16()),
            Err(error) if error.is_refused() => Attempt::RefusedAddress,
            Err(error) if error.is_timeout() => Attempt::Timeout,
            Err(_) => Attempt::Unreachable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{new_secret, signature};

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let signed = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signed.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        assert_eq!(signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", 1, b"{}"), None, "whsec_ only");
    }

    #[test]
    fn every_secret_is_new_and_signs() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 6 + 44, "{a}");
        assert!(signature(&a, "msg_1", 1, b"{}").is_some());
    }
}
