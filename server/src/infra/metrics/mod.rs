//! `/metrics` in the Prometheus text format, on the `metrics` facade and
//! `metrics-exporter-prometheus` (built without its HTTP listener, push gateway or TLS: it renders
//! text, `GET /metrics` serves it).
//!
//! Every server state has a recorder of its own, never installed as the process's global one: the
//! counters are registered once here and their handles kept, so several states in one process (the
//! tests, an embedder) never share a count, and counting is an atomic addition on a kept handle
//! rather than a name and labels looked up each time.
//!
//! Label values are bounded whatever clients send: routes are the router's templates (see
//! [`requests`]), every other value comes from a fixed list in this file, or is `other`. The
//! families and what each label may hold are documented in the README ("Metrics") and in
//! `docs/operations.md`.

mod requests;
pub mod route_series;

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use ::metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Recorder, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::infra::config::Limit;
use crate::infra::db::Db;
use crate::infra::passwords::{GateMetrics, Hasher};

use requests::METADATA;
pub use requests::{MethodLabel, UNMATCHED};

/// Request latency buckets, in seconds: `GET /api/auth/me/` answers in well under a millisecond, a
/// login hashes for tens of milliseconds, and the request timeout is 30 seconds by default.
const REQUEST_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// How long a hash waited for a worker, in seconds (one hash takes about 20 ms).
const WAIT_BUCKETS: [f64; 11] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Histogram samples are folded into their buckets this often, and at every scrape: between the
/// two, samples wait in memory (8 bytes each).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// What a login ended with (`latchkey_logins_total{result}`): `success`, `mfa_required` (the
/// password was right, a second step follows), `password_expired` (right, but it must be changed
/// first), or the failure reasons of the audit log. Any other reason is counted as `other`.
pub const LOGIN_RESULTS: [&str; 12] = [
    "success",
    "mfa_required",
    "bad_credentials",
    "inactive",
    "locked_out",
    "email_not_verified",
    "passkey_invalid",
    "social_invalid",
    "email_unverified",
    "code_invalid",
    "password_expired",
    "mfa_required_by_org",
];

/// What a second-factor check was for (`latchkey_mfa_verifications_total{purpose}`).
const MFA_PURPOSES: [&str; 5] = ["login", "confirm_device", "remove_device", "new_backup_codes", "reauthenticate"];

/// The outcome of a second-factor check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaResult {
    /// The code or passkey was right.
    Success,
    /// It was wrong.
    Invalid,
    /// The user's back-off refused the check before it ran.
    Throttled,
}

impl MfaResult {
    const ALL: [Self; 3] = [Self::Success, Self::Invalid, Self::Throttled];

    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Invalid => "invalid",
            Self::Throttled => "throttled",
        }
    }
}

/// What became of one e-mail (`latchkey_email_deliveries_total{result}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailResult {
    /// The backend accepted it.
    Delivered,
    /// An attempt failed and another one will follow.
    Retried,
    /// It was given up: every attempt failed, or it could not be built or queued.
    Failed,
}

impl EmailResult {
    fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retried => "retried",
            Self::Failed => "failed",
        }
    }
}

/// The scopes of lockouts (`latchkey_lockouts_total{scope}`): a login name, a client network, or a
/// signed-in user's re-authentication.
pub const LOCK_SCOPES: [&str; 3] = ["account", "ip", "reauth"];

/// What became of an SMS code asked for (`latchkey_sms_messages_total{result}`): `sent` (the backend
/// took it), `failed` (it did not: 503), `limited` (a sending limit refused it: 429).
pub const SMS_RESULTS: [&str; 3] = ["sent", "failed", "limited"];

/// One counter per known combination of label values, each registered at start so that it renders
/// (at 0) before anything happened; any other combination is counted under `other`.
#[derive(Debug)]
struct Family<const N: usize> {
    name: &'static str,
    labels: [&'static str; N],
    series: Vec<([&'static str; N], Counter)>,
    other: OnceLock<Counter>,
}

impl<const N: usize> Family<N> {
    fn new(
        recorder: &PrometheusRecorder,
        name: &'static str,
        labels: [&'static str; N],
        known: &[[&'static str; N]],
    ) -> Self {
        let series = known.iter().map(|values| (*values, counter(recorder, name, labels, *values))).collect();
        Self { name, labels, series, other: OnceLock::new() }
    }

    fn get(&self, recorder: &PrometheusRecorder, values: [&str; N]) -> &Counter {
        match self.series.iter().find(|(known, _)| *known == values) {
            Some((_, counter)) => counter,
            None => self.other.get_or_init(|| counter(recorder, self.name, self.labels, ["other"; N])),
        }
    }
}

/// The counter `name{labels=values}` of `recorder` (the same handle each time for the same key).
fn counter<const N: usize>(
    recorder: &PrometheusRecorder,
    name: &'static str,
    labels: [&'static str; N],
    values: [&'static str; N],
) -> Counter {
    let labels: Vec<Label> = labels.iter().zip(values).map(|(k, v)| Label::from_static_parts(k, v)).collect();
    recorder.register_counter(&Key::from_parts(name, labels), &METADATA)
}

fn gauge<const N: usize>(
    recorder: &PrometheusRecorder,
    name: &'static str,
    labels: [&'static str; N],
    values: [&'static str; N],
) -> Gauge {
    let labels: Vec<Label> = labels.iter().zip(values).map(|(k, v)| Label::from_static_parts(k, v)).collect();
    recorder.register_gauge(&Key::from_parts(name, labels), &METADATA)
}

fn histogram(recorder: &PrometheusRecorder, name: &'static str) -> Histogram {
    recorder.register_histogram(&Key::from_static_name(name), &METADATA)
}

/// Figures read when `/metrics` is scraped rather than counted as they happen.
#[derive(Debug)]
struct Sampled {
    pool_idle: Gauge,
    pool_in_use: Gauge,
    pool_max: Gauge,
    hash_waiting: Gauge,
    hash_running: Gauge,
    hash_workers: Gauge,
    hash_queue_limit: Gauge,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_live: Gauge,
    breach_failures: Counter,
}

/// The recorder of one server and the handles of its families.
#[derive(Debug)]
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    requests: requests::Requests,
    logins: Family<1>,
    mfa: Family<2>,
    refreshes: Family<1>,
    refresh_reuse: Counter,
    rate_limited: Family<1>,
    lockouts: Family<1>,
    lockout_refusals: Family<1>,
    webhooks: Family<1>,
    sms: Family<1>,
    gate: GateMetrics,
    sampled: Sampled,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A recorder of its own, with every family registered and described.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(requests::SECONDS.into()), &REQUEST_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("latchkey_hash_wait_seconds".into()), &WAIT_BUCKETS))
            // Both lists are constant, sorted and non-empty: the builder cannot refuse them.
            .unwrap_or_default()
            .build_recorder();
        for (name, help) in catalog::COUNTERS {
            recorder.describe_counter(KeyName::from_const_str(name), None, SharedString::const_str(help));
        }
        for (name, help) in catalog::GAUGES {
            recorder.describe_gauge(KeyName::from_const_str(name), None, SharedString::const_str(help));
        }
        for (name, help) in catalog::HISTOGRAMS {
            recorder.describe_histogram(KeyName::from_const_str(name), None, SharedString::const_str(help));
        }
        let r = &recorder;
        let mfa: Vec<[&str; 2]> =
            MFA_PURPOSES.iter().flat_map(|p| MfaResult::ALL.iter().map(move |r| [*p, r.as_str()])).collect();
        let limits: Vec<[&str; 1]> = Limit::ALL.iter().map(|l| [l.name()]).collect();
        let scopes = LOCK_SCOPES.map(|s| [s]);
        let sampled = Sampled {
            pool_idle: gauge(r, "latchkey_db_pool_connections", ["state"], ["idle"]),
            pool_in_use: gauge(r, "latchkey_db_pool_connections", ["state"], ["in_use"]),
            pool_max: gauge(r, "latchkey_db_pool_max_connections", [], []),
            hash_waiting: gauge(r, "latchkey_hash_queue_depth", [], []),
            hash_running: gauge(r, "latchkey_hash_in_progress", [], []),
            hash_workers: gauge(r, "latchkey_hash_workers", [], []),
            hash_queue_limit: gauge(r, "latchkey_hash_queue_limit", [], []),
            cache_hits: counter(r, "latchkey_auth_cache_lookups_total", ["result"], ["hit"]),
            cache_misses: counter(r, "latchkey_auth_cache_lookups_total", ["result"], ["miss"]),
            cache_live: gauge(r, "latchkey_auth_cache_live", [], []),
            breach_failures: counter(r, "latchkey_breach_check_failures_total", [], []),
        };
        let gate = GateMetrics {
            wait: histogram(r, "latchkey_hash_wait_seconds"),
            queue_full: counter(r, "latchkey_hash_rejections_total", ["reason"], ["queue_full"]),
            share_taken: counter(r, "latchkey_hash_rejections_total", ["reason"], ["share"]),
        };
        Self {
            requests: requests::Requests::default(),
            logins: Family::new(r, "latchkey_logins_total", ["result"], &LOGIN_RESULTS.map(|v| [v])),
            mfa: Family::new(r, "latchkey_mfa_verifications_total", ["purpose", "result"], &mfa),
            refreshes: Family::new(r, "latchkey_token_refreshes_total", ["result"], &[["success"], ["refused"]]),
            refresh_reuse: counter(r, "latchkey_refresh_reuse_total", [], []),
            rate_limited: Family::new(r, "latchkey_rate_limit_refusals_total", ["limit"], &limits),
            lockouts: Family::new(r, "latchkey_lockouts_total", ["scope"], &scopes),
            lockout_refusals: Family::new(r, "latchkey_lockout_refusals_total", ["scope"], &scopes),
            webhooks: Family::new(r, "latchkey_webhook_deliveries_total", ["result"], &[["delivered"], ["failed"]]),
            sms: Family::new(r, "latchkey_sms_messages_total", ["result"], &SMS_RESULTS.map(|v| [v])),
            gate,
            sampled,
            handle: recorder.handle(),
            recorder,
        }
    }

    /// A new recorder behind a reference count, whose histogram samples are folded into their
    /// buckets every few seconds by a task of the current runtime (when there is one) for as long as
    /// the metrics live, so that memory stays bounded however long nobody scrapes.
    pub fn shared() -> Arc<Self> {
        let metrics = Arc::new(Self::new());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak: Weak<Self> = Arc::downgrade(&metrics);
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(UPKEEP_EVERY).await;
                    let Some(metrics) = weak.upgrade() else { break };
                    metrics.handle.run_upkeep();
                }
            });
        }
        metrics
    }

    /// Counts one answered request: `route` is the matched route's template (`None`: no route
    /// matched), `status` its answer's code.
    pub fn request(&self, route: Option<&str>, method: MethodLabel, status: u16, elapsed: Duration) {
        self.requests.observe(&self.recorder, route, method, status, elapsed);
    }

    /// Counts a login's end: `result` is `success`, `mfa_required` or a failure reason
    /// ([`LOGIN_RESULTS`]; another is counted as `other`).
    pub fn login(&self, result: &str) {
        self.logins.get(&self.recorder, [result]).increment(1);
    }

    /// Counts a second-factor check: `purpose` as the audit log names it (`login`,
    /// `reauthenticate`, ...).
    pub fn mfa(&self, purpose: &str, result: MfaResult) {
        self.mfa.get(&self.recorder, [purpose, result.as_str()]).increment(1);
    }

    /// Counts a refresh: new tokens given, or refused (invalid, expired, spent or revoked).
    pub fn refresh(&self, succeeded: bool) {
        self.refreshes.get(&self.recorder, [if succeeded { "success" } else { "refused" }]).increment(1);
    }

    /// Counts a rotated refresh token presented again (its session is revoked).
    pub fn refresh_reuse(&self) {
        self.refresh_reuse.increment(1);
    }

    /// Counts a request refused with 429 by `limit` (`LATCHKEY_RATE_LIMITS`).
    pub fn rate_limited(&self, limit: Limit) {
        self.rate_limited.get(&self.recorder, [limit.name()]).increment(1);
    }

    /// Counts a lockout begun, in `scope` ([`LOCK_SCOPES`]).
    pub fn lockout(&self, scope: &str) {
        self.lockouts.get(&self.recorder, [scope]).increment(1);
    }

    /// Counts an attempt refused because its `scope` is locked out.
    pub fn lockout_refusal(&self, scope: &str) {
        self.lockout_refusals.get(&self.recorder, [scope]).increment(1);
    }

    /// Counts what became of one e-mail of `kind` (a template's name: a fixed list).
    pub fn email(&self, kind: &'static str, result: EmailResult) {
        counter(&self.recorder, "latchkey_email_deliveries_total", ["kind", "result"], [kind, result.as_str()])
            .increment(1);
    }

    /// Counts what became of one SMS code asked for (one of [`SMS_RESULTS`]).
    pub fn sms(&self, result: &'static str) {
        self.sms.get(&self.recorder, [result]).increment(1);
    }

    /// Counts a security webhook's delivery (wired when webhooks land; 0 until then).
    pub fn webhook(&self, delivered: bool) {
        self.webhooks.get(&self.recorder, [if delivered { "delivered" } else { "failed" }]).increment(1);
    }

    /// The password-hashing gate's handles, for [`Hasher::observed`].
    pub fn gate(&self) -> GateMetrics {
        self.gate.clone()
    }

    /// The text exposition, with the figures read now: the database pool, the hashing gate, the
    /// authentication cache and the breached-password checks that failed (`breach_failures`).
    pub fn render(&self, db: &Db, hasher: &Hasher, breach_failures: u64) -> String {
        let s = &self.sampled;
        let (size, idle) = (db.pool.size(), u32::try_from(db.pool.num_idle()).unwrap_or(u32::MAX));
        s.pool_idle.set(idle);
        s.pool_in_use.set(size.saturating_sub(idle));
        s.pool_max.set(db.pool.options().get_max_connections());
        let load = hasher.load();
        s.hash_waiting.set(load.waiting as f64);
        s.hash_running.set(load.running as f64);
        s.hash_workers.set(load.workers as f64);
        s.hash_queue_limit.set(load.queue as f64);
        let (hits, misses) = db.auth_cache.counts();
        s.cache_hits.absolute(hits);
        s.cache_misses.absolute(misses);
        s.cache_live.set(f64::from(u8::from(db.auth_cache.is_live())));
        s.breach_failures.absolute(breach_failures);
        self.handle.render()
    }
}

/// Every family's name and help text, in the order of the README's table.
pub mod catalog {
    /// Counters.
    pub const COUNTERS: [(&str, &str); 14] = [
        ("latchkey_http_requests_total", "HTTP requests answered, by route template, method and status code."),
        ("latchkey_logins_total", "Logins by result: success, mfa_required, or the reason of a refusal."),
        ("latchkey_mfa_verifications_total", "Second-factor checks by purpose and result."),
        ("latchkey_token_refreshes_total", "Refresh requests by result: success or refused."),
        ("latchkey_refresh_reuse_total", "Rotated refresh tokens presented again: each revoked its session."),
        (
            "latchkey_hash_rejections_total",
            "Password hashes refused with 503: the queue was full, or the account or network held its share.",
        ),
        ("latchkey_rate_limit_refusals_total", "Requests refused with 429 by a LATCHKEY_RATE_LIMITS limit."),
        ("latchkey_lockouts_total", "Lockouts begun, by scope (account, ip, reauth)."),
        ("latchkey_lockout_refusals_total", "Attempts refused with 429 because their scope was locked out."),
        (
            "latchkey_email_deliveries_total",
            "E-mails by template and result: delivered, retried (an attempt failed), failed (given up).",
        ),
        ("latchkey_webhook_deliveries_total", "Security webhook deliveries by result."),
        ("latchkey_sms_messages_total", "SMS codes asked for, by result: sent, failed (503), limited (429)."),
        ("latchkey_breach_check_failures_total", "Breached-password checks that failed (the password was accepted)."),
        (
            "latchkey_auth_cache_lookups_total",
            "Authenticated requests answered from this node's memory (hit) or by reading the database (miss).",
        ),
    ];
    /// Gauges (read at scrape time).
    pub const GAUGES: [(&str, &str); 7] = [
        ("latchkey_hash_queue_depth", "Password hashes admitted and waiting for a worker."),
        ("latchkey_hash_in_progress", "Password hashes running now."),
        ("latchkey_hash_workers", "Hashes the gate runs at once."),
        ("latchkey_hash_queue_limit", "Hashes that may wait beyond the workers before new ones get 503."),
        ("latchkey_db_pool_connections", "Database pool connections by state: idle or in_use."),
        ("latchkey_db_pool_max_connections", "The database pool's size limit."),
        (
            "latchkey_auth_cache_live",
            "1 while the authentication cache may answer (on PostgreSQL: while this node hears the others), else 0.",
        ),
    ];
    /// Histograms.
    pub const HISTOGRAMS: [(&str, &str); 2] = [
        (
            "latchkey_http_request_duration_seconds",
            "Time to answer a request, by route template, method and status code.",
        ),
        ("latchkey_hash_wait_seconds", "How long an admitted password hash waited for a worker."),
    ];
}
