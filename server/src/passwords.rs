//! Password hashing for the server: argon2 runs on the blocking pool behind a gate sized to the
//! cores, and a bounded queue in front of it, so a login flood gets quick 503s instead of an
//! unbounded wait, and the async executor keeps serving other requests.

use std::sync::Arc;

use latchkey_core::hash::{self, HashParams, Verified};
use latchkey_core::policy::{PasswordPolicy, UserAttributes, Validation};
use rand_core::{OsRng, RngCore};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The hashing gate: `workers` hashes at once, at most `queue` more waiting.
#[derive(Debug, Clone)]
pub struct Hasher {
    params: HashParams,
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
}

impl Hasher {
    /// A gate with one worker per core and a queue four times as deep.
    pub fn new(params: HashParams) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_capacity(params, cores, cores * 4)
    }

    /// A gate with explicit sizes (tests).
    pub fn with_capacity(params: HashParams, workers: usize, queue: usize) -> Self {
        Self {
            params,
            admission: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
        }
    }

    /// Runs `work` on the blocking pool once a worker is free; 503 at once when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&HashParams) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _admitted =
            self.admission.clone().try_acquire_owned().map_err(|_| ApiError::Unavailable { retry_after: 1 })?;
        let _worker = self.workers.clone().acquire_owned().await.map_err(|e| ApiError::Internal(e.to_string()))?;
        let params = self.params;
        tokio::task::spawn_blocking(move || work(&params)).await.map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// A new argon2id hash of `password` with a random salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        self.run(move |params| hash::hash_password(&password, params, &salt))
            .await?
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Checks `password` against `encoded` (ours or Django's formats). `None` burns the same time
    /// as a real check, for logins whose user does not exist.
    pub async fn verify(&self, password: String, encoded: Option<String>) -> Result<Verified, ApiError> {
        self.run(move |params| match encoded {
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
    ) -> Result<Validation, ApiError> {
        self.run(move |params| {
            let previous: Vec<&str> = previous.iter().map(String::as_str).collect();
            policy.validate_with_history(&password, &user, &previous, params)
        })
        .await
    }
}
