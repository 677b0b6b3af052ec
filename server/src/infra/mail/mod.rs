//! Outgoing e-mail: messages rendered from the templates in `server/templates/` (a text and an HTML
//! part), built and sent by lettre through the backend of `LATCHKEY_EMAIL_BACKEND`.
//!
//! Sending never holds up the request that triggered it: [`Mailer::send`] hands the message to a
//! task of its own and returns. A delivery that fails is logged and tried again after each of
//! `LATCHKEY_EMAIL_RETRY_DELAYS` (2 s, 10 s, 60 s, 300 s), then dropped with an error in the log.
//! The user never sees the difference: the answer was already given. Messages wait in memory only,
//! never in the database, because they carry live reset and verification links; a restart loses
//! the ones still being retried (the user asks again).

mod templates;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;

pub use templates::Kind;

use crate::infra::config::{Config, EmailBackend};
use crate::infra::metrics::{EmailResult, Metrics};

/// Deliveries in flight (being sent or waiting to be retried) beyond which new messages are dropped
/// with an error: a flood of requests must not grow memory without bound.
const MAX_IN_FLIGHT: usize = 1024;
/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A message to send: its kind names the template, `vars` fill its `{{placeholders}}`.
#[derive(Debug, Clone)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// Which template.
    pub kind: Kind,
    /// Values of the template's placeholders.
    pub vars: Vec<(&'static str, String)>,
}

/// Why the mailer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `LATCHKEY_EMAIL_FROM` is not an address.
    #[error("LATCHKEY_EMAIL_FROM: {0}")]
    From(String),
    /// The SMTP URL is not usable.
    #[error("LATCHKEY_EMAIL_BACKEND: {0}")]
    Smtp(String),
}

enum Transport {
    Console,
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    async fn send(&self, message: &Message) -> Result<(), String> {
        match self {
            Self::Console => {
                use std::io::Write;
                let text = String::from_utf8_lossy(&message.formatted()).into_owned();
                // One locked write per message; a closed stdout is a failed delivery, not a panic.
                let mut out = std::io::stdout().lock();
                writeln!(out, "---------- e-mail ----------\n{text}\n----------------------------")
                    .and_then(|()| out.flush())
                    .map_err(|e| format!("standard output: {e}"))
            }
            Self::File(files) => files.send(message.clone()).await.map(drop).map_err(|e| e.to_string()),
            Self::Smtp(smtp) => smtp.send(message.clone()).await.map(drop).map_err(|e| e.to_string()),
        }
    }
}

/// Sends e-mail in the background. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Arc<Transport>,
    from: Mailbox,
    retry_delays: Arc<[Duration]>,
    in_flight: Arc<Semaphore>,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer of `config`'s backend. Nothing is contacted until the first message.
    ///
    /// # Errors
    /// An unusable `From` address or SMTP URL.
    pub fn new(config: &Config) -> Result<Self, MailError> {
        let from: Mailbox = config.email_from.parse().map_err(|e| MailError::From(format!("{e}")))?;
        let transport = match &config.email_backend {
            EmailBackend::Console => Transport::Console,
            EmailBackend::File(dir) => Transport::File(AsyncFileTransport::new(dir)),
            EmailBackend::Smtp(url) => {
                let builder =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| MailError::Smtp(e.to_string()))?;
                Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build())
            }
        };
        Ok(Self {
            transport: Arc::new(transport),
            from,
            retry_delays: config.email_retry_delays.clone().into(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            metrics: None,
        })
    }

    /// The same mailer, counting what becomes of each message in `metrics`
    /// (`latchkey_email_deliveries_total`).
    #[must_use]
    pub fn observed(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, kind: &'static str, result: EmailResult) {
        if let Some(metrics) = &self.metrics {
            metrics.email(kind, result);
        }
    }

    /// Queues `email` and returns at once; delivery, and its retries, happen in a task of their own.
    pub fn send(&self, email: Email) {
        let kind = email.kind.name();
        let message = match self.build(&email) {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(kind, %error, "e-mail not sent: the message could not be built");
                self.count(kind, EmailResult::Failed);
                return;
            }
        };
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            tracing::error!(kind, "e-mail not sent: {MAX_IN_FLIGHT} deliveries are already in flight");
            self.count(kind, EmailResult::Failed);
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(kind, "e-mail not sent: no async runtime to deliver it");
            self.count(kind, EmailResult::Failed);
            return;
        };
        let mailer = self.clone();
        runtime.spawn(async move {
            mailer.deliver(kind, &message).await;
            drop(permit);
        });
    }

    /// The RFC 5322 message: text and HTML alternatives from the kind's templates.
    fn build(&self, email: &Email) -> Result<Message, String> {
        let to: Mailbox = email.to.parse().map_err(|e| format!("recipient: {e}"))?;
        let rendered = templates::render(email.kind, &email.vars);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
            .map_err(|e| e.to_string())
    }

    async fn deliver(&self, kind: &'static str, message: &Message) {
        let attempts = std::iter::once(Duration::ZERO).chain(self.retry_delays.iter().copied());
        let mut last_error = String::new();
        for (attempt, delay) in attempts.enumerate() {
            tokio::time::sleep(delay).await;
            if attempt > 0 {
                self.count(kind, EmailResult::Retried);
            }
            match self.transport.send(message).await {
                Ok(()) => {
                    tracing::info!(kind, attempt = attempt + 1, "e-mail delivered");
                    self.count(kind, EmailResult::Delivered);
                    return;
                }
                Err(error) => {
                    tracing::warn!(kind, attempt = attempt + 1, %error, "e-mail delivery failed");
                    last_error = error;
                }
            }
        }
        tracing::error!(kind, error = %last_error, "e-mail dropped: every delivery attempt failed");
        self.count(kind, EmailResult::Failed);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_and_hide_passwords() {
        let parse = |text: &str| text.parse::<EmailBackend>();
        assert_eq!(parse("console"), Ok(EmailBackend::Console));
        assert_eq!(parse("file:/tmp/mail"), Ok(EmailBackend::File("/tmp/mail".into())));
        let smtp = parse("smtps://user:hunter2@mail.example.com:465").unwrap();
        assert_eq!(format!("{smtp:?}"), "Smtp(smtps://…)");
        assert!(parse("file:").is_err());
        assert!(parse("sendmail").is_err());
    }

    #[tokio::test]
    async fn messages_have_text_and_html_parts() {
        let mut config = Config::from_env().unwrap();
        config.email_from = "Latchkey <no-reply@example.com>".into();
        let mailer = Mailer::new(&config).unwrap();
        let email = Email {
            to: "ada@example.com".into(),
            kind: Kind::PasswordReset,
            vars: vec![("email", "ada@example.com".into()), ("link", "http://x/?a=1&b=<2>".into())],
        };
        let text = String::from_utf8(mailer.build(&email).unwrap().formatted()).unwrap();
        assert!(text.contains("From: Latchkey <no-reply@example.com>"), "{text}");
        assert!(text.contains("Subject: Reset your password"), "{text}");
        assert!(text.contains("multipart/alternative") && text.contains("text/plain") && text.contains("text/html"));
        assert!(text.contains("&lt;2&gt;"), "HTML values are escaped: {text}");
        config.email_from = "not an address".into();
        assert!(Mailer::new(&config).is_err());
    }
}
