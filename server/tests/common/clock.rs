//! Time passing: a test moves the server's clock (`state.clock`, shared by every clone of a state)
//! instead of rewriting the times the server stored, so what is tested is what a wait would do.

use std::time::Duration;

use latchkey_server::AppState;

/// Moves the server's clock `seconds` into the future.
pub fn pass(state: &AppState, seconds: u64) {
    state.clock.advance(Duration::from_secs(seconds));
}

/// Lets the two-factor back-off's wait of `user_id` pass, as time would: to the first second after the lock,
/// so that tokens and challenges issued before stay valid.
pub async fn let_backoff_pass(state: &AppState, user_id: i64) {
    let (_, locked_until) = super::backoff_row(state, user_id).await;
    // The lock holds through its last second (`store::mfa_backoff`).
    pass(state, u64::try_from(locked_until - state.clock.now() + 1).unwrap_or(0));
}

/// Moves the server's clock to the start of the next fixed window of `window_seconds` (the request
/// limits' windows start at multiples of their length), so that a burst the test sends is counted in
/// one window even when the real clock is about to cross a boundary.
pub fn at_window_start(state: &AppState, window_seconds: i64) {
    let now = state.clock.now();
    pass(state, u64::try_from(window_seconds - now.rem_euclid(window_seconds)).unwrap_or(0));
}

/// Lets the re-authentication window (sudo mode) of every session pass, as time would. Access
/// tokens outlive it (15 minutes against 10 by default), so they still work afterwards.
pub fn window_passes(state: &AppState) {
    assert!(state.config.access_token_lifetime > state.config.reauth_window, "tokens would expire too");
    pass(state, state.config.reauth_window.as_secs() + 1);
}

/// Lets a lockout the server announced with `Retry-After: retry_after` end.
pub fn lockout_passes(state: &AppState, retry_after: u64) {
    pass(state, retry_after + 1);
}
