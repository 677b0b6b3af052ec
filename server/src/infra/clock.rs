//! The time, as the server reads it: Unix seconds, from the [`Clock`] in the application state.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The server's clock: the system time in Unix seconds, plus an offset that only tests move
/// ([`Clock::advance`]), so that they let a lockout, a window or a token's lifetime pass without
/// waiting or rewriting stored times. Clones share the offset; in production it stays 0.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// The current time in Unix seconds.
    pub fn now(&self) -> i64 {
        now().saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves this clock (and its clones) `by` into the future.
    pub fn advance(&self, by: Duration) {
        self.offset.fetch_add(seconds(by), Ordering::Relaxed);
    }
}

/// A configured duration in whole seconds, as the database's Unix-second times count.
pub(crate) fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The system's time in Unix seconds; the server reads [`Clock::now`], which adds a test's offset.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_count_in_whole_seconds() {
        assert_eq!(super::seconds(std::time::Duration::from_secs(90)), 90);
        assert_eq!(super::seconds(std::time::Duration::MAX), i64::MAX);
    }

    #[test]
    fn a_clock_moves_with_its_clones() {
        let clock = super::Clock::default();
        let copy = clock.clone();
        let before = clock.now();
        copy.advance(std::time::Duration::from_secs(3600));
        assert!((3600..3602).contains(&(clock.now() - before)));
    }
}
