//! The race a TOTP device's compare-and-set closes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::store::testing::{sqlite_state, user};

/// The race the compare-and-set closes, played out: two requests both read the device before
/// either stores its step, so both see the code as unused. Only one may win.
#[tokio::test]
async fn of_two_stale_reads_of_a_device_one_code_wins_once() {
    let state = sqlite_state().await;
    let user_id = user(&state, "a@b.c").await;
    let secret = TotpSecret::generate(&mut OsRng);
    let now = state.clock.now();
    Device::create(&state, user_id, "Phone", &secret, now).await.unwrap();
    let first = Device::list(&state, user_id).await.unwrap().remove(0);
    let second = first.clone();
    let code = totp::code_at(&secret, &TotpParams::default(), u64::try_from(now).unwrap());
    let (a, b) = tokio::join!(first.accept(&state, &code, now), second.accept(&state, &code, now));
    let wins = [a.unwrap(), b.unwrap()];
    assert_eq!(wins.iter().filter(|won| **won).count(), 1, "{wins:?}");
    // Sequentially, with a copy read before the win: still refused.
    assert!(!first.accept(&state, &code, now).await.unwrap());
    let stored = Device::list(&state, user_id).await.unwrap().remove(0);
    assert!(stored.confirmed && stored.last_step == now / 30, "{stored:?}");
}
