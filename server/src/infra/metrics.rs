//! `/metrics` in the Prometheus text format: request counts by route family and status class,
//! request time, and the password-hashing gate's refusals. Plain atomics, no registry crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Route families counted separately (bounded label values, whatever the client requests).
const FAMILIES: [&str; 5] = ["token", "auth", "ops", "other_api", "static"];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; 5]; 5],
    duration_micros: [AtomicU64; 5],
    /// Logins and hashes refused with 503 because the argon2 queue was full.
    pub hash_rejections: AtomicU64,
}

fn family(path: &str) -> usize {
    if path.starts_with("/api/token/") {
        0
    } else if path.starts_with("/api/auth/") {
        1
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        2
    } else if path.starts_with("/api/") {
        3
    } else {
        4
    }
}

impl Metrics {
    fn record(&self, f: usize, status: u16, micros: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[f][class].fetch_add(1, Ordering::Relaxed);
        self.duration_micros[f].fetch_add(micros, Ordering::Relaxed);
    }

    /// The Prometheus text exposition, with the authentication cache's figures.
    pub fn render(&self, auth_cache: &crate::infra::auth_cache::AuthCache) -> String {
        let mut out = String::from(
            "# HELP latchkey_http_requests_total HTTP requests by route family and status class.\n\
             # TYPE latchkey_http_requests_total counter\n",
        );
        for (f, family) in FAMILIES.iter().enumerate() {
            for (c, class) in CLASSES.iter().enumerate() {
                let n = self.requests[f][c].load(Ordering::Relaxed);
                out += &format!("latchkey_http_requests_total{{family=\"{family}\",status=\"{class}\"}} {n}\n");
            }
        }
        out += "# HELP latchkey_http_request_seconds_total Time spent answering requests, by route family.\n\
                # TYPE latchkey_http_request_seconds_total counter\n";
        for (f, family) in FAMILIES.iter().enumerate() {
            let seconds = self.duration_micros[f].load(Ordering::Relaxed) as f64 / 1e6;
            out += &format!("latchkey_http_request_seconds_total{{family=\"{family}\"}} {seconds}\n");
        }
        out += &format!(
            "# HELP latchkey_hash_rejections_total Requests refused with 503 because the password-hashing queue was full.\n\
             # TYPE latchkey_hash_rejections_total counter\nlatchkey_hash_rejections_total {}\n",
            self.hash_rejections.load(Ordering::Relaxed)
        );
        let (hits, misses) = auth_cache.counts();
        out += &format!(
            "# HELP latchkey_auth_cache_lookups_total Authenticated requests answered from this node's memory (hit) \
             or by reading the database (miss).\n# TYPE latchkey_auth_cache_lookups_total counter\n\
             latchkey_auth_cache_lookups_total{{result=\"hit\"}} {}\nlatchkey_auth_cache_lookups_total{{result=\"miss\"}} {}\n\
             # HELP latchkey_auth_cache_live 1 while the cache may answer (on PostgreSQL: while this node hears the \
             others' invalidations), else 0.\n# TYPE latchkey_auth_cache_live gauge\nlatchkey_auth_cache_live {}\n",
            hits,
            misses,
            u8::from(auth_cache.is_live())
        );
        out
    }
}

/// The route family a request is counted in, read before the request moves on: no copy of the path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family(usize);

impl Family {
    pub(crate) fn of(path: &str) -> Self {
        Self(family(path))
    }

    /// The family's label (`token`, `auth`, `ops`, `other_api` or `static`).
    pub(crate) fn name(self) -> &'static str {
        FAMILIES[self.0]
    }

    /// `/api/` paths, whose answers must not be cached.
    pub(crate) fn is_api(self) -> bool {
        matches!(self.0, 0 | 1 | 3)
    }
}

impl Metrics {
    /// Counts one answered request (see `crate::http::every_request`).
    pub(crate) fn observe(&self, family: Family, status: u16, started: Instant) {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.record(family.0, status, micros);
        if status == 503 && family.0 <= 1 {
            self.hash_rejections.fetch_add(1, Ordering::Relaxed);
        }
    }
}
