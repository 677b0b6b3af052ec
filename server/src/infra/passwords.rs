//! Password hashing for the server: argon2 runs on the blocking pool behind a gate sized to the
//! cores, and a bounded queue in front of it, so a login flood gets quick 503s instead of an
//! unbounded wait, and the async executor keeps serving other requests.
//!
//! The gate is shared fairly: one account, and one client network, may hold at most a share of it
//! (as many places as there are workers), so a user flooding their own re-authentication, or one
//! address flooding logins, leaves the rest of the gate to everyone else. A hash keeps its places
//! until it finishes, even when the client that asked for it has gone: a disconnect cannot free a
//! place while the CPU is still busy with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use latchkey_core::hash::{self, HashParams, Verified};
use latchkey_core::policy::{PasswordPolicy, UserAttributes, Validation};
use metrics::{Counter, Histogram};
use rand_core::{OsRng, RngCore};
use tokio::sync::Semaphore;

use crate::infra::error::ApiError;

/// Whose hash it is, for the gate's fair shares: the account (a login name or a user id) and the
/// client's network (`Client::network`). Empty parts count against no share (tools, tests).
#[derive(Debug, Clone, Default)]
pub struct Claimant {
    /// The account the password is for.
    pub account: String,
    /// The network the request came from.
    pub network: String,
}

impl Claimant {
    /// A claimant for `account` from `client`.
    pub fn new(account: impl Into<String>, client: &crate::infra::client::Client) -> Self {
        Self { account: account.into(), network: client.network.clone() }
    }

    /// A claimant counted by its network only: a registration, whose account does not exist yet
    /// (and whose concurrent attempts at one address are settled by the unique constraint).
    pub fn network_of(client: &crate::infra::client::Client) -> Self {
        Self { account: String::new(), network: client.network.clone() }
    }

    /// The share keys: fixed-size hashes, so the map's memory does not depend on client input.
    fn keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(2);
        if !self.account.is_empty() {
            keys.push(format!("account:{}", crate::infra::digest::sha256_hex(&self.account)));
        }
        if !self.network.is_empty() {
            keys.push(format!("network:{}", self.network));
        }
        keys
    }
}

/// Places in the gate held per share key.
#[derive(Debug, Default)]
struct Shares(Mutex<HashMap<String, usize>>);

/// The places one claimant holds; given back when dropped.
#[derive(Debug)]
struct Held {
    shares: Arc<Shares>,
    keys: Vec<String>,
}

impl Shares {
    /// Takes a place under each of `keys`, or none when any of them already holds `share` places.
    fn take(self: &Arc<Self>, keys: Vec<String>, share: usize) -> Option<Held> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.iter().any(|key| map.get(key).copied().unwrap_or(0) >= share) {
            return None;
        }
        for key in &keys {
            *map.entry(key.clone()).or_insert(0) += 1;
        }
        Some(Held { shares: self.clone(), keys })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut map = self.shares.0.lock().unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(count) = map.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

/// The hashing gate: `workers` hashes at once, at most `queue` more waiting, and no account or
/// network holding more than `share` of those places.
#[derive(Debug, Clone)]
pub struct Hasher {
    params: HashParams,
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    shares: Arc<Shares>,
    share: usize,
    sizes: (usize, usize),
    metrics: GateMetrics,
}

/// What the gate counts (`crate::infra::metrics` makes them; by default they count nothing).
#[derive(Debug, Clone)]
pub struct GateMetrics {
    /// How long each admitted hash waited for a worker, in seconds.
    pub wait: Histogram,
    /// Hashes refused because the queue was full.
    pub queue_full: Counter,
    /// Hashes refused because their account or network already held its share.
    pub share_taken: Counter,
}

impl Default for GateMetrics {
    fn default() -> Self {
        Self { wait: Histogram::noop(), queue_full: Counter::noop(), share_taken: Counter::noop() }
    }
}

/// The gate's load now (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateLoad {
    /// Hashes admitted and waiting for a worker.
    pub waiting: usize,
    /// Hashes running.
    pub running: usize,
    /// Hashes run at once.
    pub workers: usize,
    /// Hashes that may wait beyond those.
    pub queue: usize,
}

impl Hasher {
    /// A gate with one worker per core and a queue four times as deep.
    pub fn new(params: HashParams) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_capacity(params, cores, cores * 4)
    }

    /// A gate with explicit sizes (tests). Each account and network may hold as many places as
    /// there are workers (at least one).
    pub fn with_capacity(params: HashParams, workers: usize, queue: usize) -> Self {
        Self {
            params,
            admission: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
            shares: Arc::default(),
            share: workers.max(1),
            sizes: (workers, queue),
            metrics: GateMetrics::default(),
        }
    }

    /// The same gate, counting in `metrics` (the state's recorder: `Metrics::gate`).
    #[must_use]
    pub fn observed(mut self, metrics: GateMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// How many hashes wait and run now.
    pub fn load(&self) -> GateLoad {
        let (workers, queue) = self.sizes;
        let in_gate = (workers + queue).saturating_sub(self.admission.available_permits());
        let running = workers.saturating_sub(self.workers.available_permits());
        GateLoad { waiting: in_gate.saturating_sub(running), running, workers, queue }
    }

    /// Runs `work` on the blocking pool once a worker is free; 503 at once when the queue is full
    /// or `claimant` already holds its share.
    async fn run<T: Send + 'static>(
        &self,
        claimant: &Claimant,
        work: impl FnOnce(&HashParams) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = |refusals: &Counter| {
            refusals.increment(1);
            ApiError::Unavailable { retry_after: 1 }
        };
        let held = self.shares.take(claimant.keys(), self.share).ok_or_else(|| busy(&self.metrics.share_taken))?;
        let admitted = self.admission.clone().try_acquire_owned().map_err(|_| busy(&self.metrics.queue_full))?;
        let waiting = std::time::Instant::now();
        let worker = self.workers.clone().acquire_owned().await.map_err(|e| ApiError::Internal(e.to_string()))?;
        self.metrics.wait.record(waiting.elapsed());
        let params = self.params;
        // The places move into the blocking task: they are given back when the hash ends, not when
        // the request does.
        tokio::task::spawn_blocking(move || {
            let _places = (held, admitted, worker);
            work(&params)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// A new argon2id hash of `password` with a random salt.
    pub async fn hash(&self, password: String, claimant: &Claimant) -> Result<String, ApiError> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        self.run(claimant, move |params| hash::hash_password(&password, params, &salt))
            .await?
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Checks `password` against `encoded` (ours or Django's formats). `None` burns the same time
    /// as a real check, for logins whose user does not exist.
    pub async fn verify(
        &self,
        password: String,
        encoded: Option<String>,
        claimant: &Claimant,
    ) -> Result<Verified, ApiError> {
        self.run(claimant, move |params| match encoded {
            Some(encoded) => hash::verify_password(&password, &encoded, params),
            None => hash::dummy_verify(&password, params),
        })
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// `policy`'s verdict on a new `password` including the history rule against `previous` hashes
    /// (newest first): one hash per comparison, so it runs behind the gate like any hash.
    pub async fn validate_with_history(
        &self,
        policy: Arc<PasswordPolicy>,
        password: String,
        user: UserAttributes,
        previous: Vec<String>,
        claimant: &Claimant,
    ) -> Result<Validation, ApiError> {
        self.run(claimant, move |params| {
            let previous: Vec<&str> = previous.iter().map(String::as_str).collect();
            policy.validate_with_history(&password, &user, &previous, params)
        })
        .await
    }
}
