//! The lockouts this node already knows of: a shortcut that can only refuse sooner, never let
//! anyone through (the counters themselves are in `crate::store::limits`).

use std::collections::HashMap;
use std::sync::Mutex;

/// The lockout cache holds at most this many keys (each a fixed-size hash): past it, nothing new
/// is cached, and the database alone decides.
const LOCK_CACHE_MAX: usize = 10_000;

/// Lockouts this node has seen in the database, by key: refuse without asking again until then.
#[derive(Debug, Default)]
pub struct LockCache(Mutex<HashMap<String, i64>>);

impl LockCache {
    pub(crate) fn locked_until(&self, key: &str, now: i64) -> Option<i64> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(key).copied() {
            Some(until) if until > now => Some(until),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers that `key` is locked until `until`; at `now`, ended lockouts make room first.
    pub(crate) fn remember(&self, key: &str, until: i64, now: i64) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= LOCK_CACHE_MAX {
            map.retain(|_, until| *until > now);
        }
        if map.len() < LOCK_CACHE_MAX {
            map.insert(key.to_owned(), until);
        }
    }

    pub(crate) fn forget(&self, key: &str) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}
