//! The time, as the server reads it: Unix seconds.

/// A configured duration in whole seconds, as the database's Unix-second times count.
pub(crate) fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The current time in Unix seconds: the server is where the clock is read.
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
}
