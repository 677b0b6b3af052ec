//! The delivery loop every node runs: it claims what is due in the outbox (a lease keeps two nodes
//! off one message), posts each message signed, and settles it: delivered on a 2xx, else tried
//! again on Standard Webhooks' schedule until [`RETRY_AFTER`] runs out. The outbox is the database,
//! so what a stopped node had queued or was retrying is sent after a restart, by it or another.

use std::time::Duration;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::infra::webhooks::Attempt;
use crate::store::webhook_outbox::{self, Due, Outcome};

/// Seconds to wait after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight
/// attempts over about 28 hours, the schedule Standard Webhooks' reference service uses).
pub const RETRY_AFTER: [i64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// How long a claim keeps other nodes off a message: longer than an attempt can take.
const LEASE_SECONDS: i64 = 30;

/// The most messages one pass sends at once.
const BATCH: i64 = 16;

/// How often an idle node looks for messages another node queued, or a retry fell due.
const POLL: Duration = Duration::from_secs(1);

/// Runs the loop for as long as the server runs: a pass whenever this node queues a message, and
/// every second otherwise.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        loop {
            let sent = match deliver_due(&state).await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::error!(%error, "webhooks: the outbox could not be read");
                    0
                }
            };
            // A full batch may have left more behind: go again at once.
            if sent < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                tokio::select! {
                    () = state.webhooks.woken() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
        }
    });
}

/// One pass: claims what is due (at most [`BATCH`] messages), sends them concurrently and settles
/// each. Returns how many it claimed.
pub async fn deliver_due(state: &AppState) -> Result<usize, ApiError> {
    let due = webhook_outbox::claim(state, LEASE_SECONDS, BATCH).await?;
    let claimed = due.len();
    let mut sending = tokio::task::JoinSet::new();
    for message in due {
        let state = state.clone();
        sending.spawn(async move { deliver(&state, &message).await });
    }
    while let Some(done) = sending.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "webhooks: a delivery could not be settled"),
            Err(error) => tracing::error!(%error, "webhooks: a delivery task failed"),
        }
    }
    Ok(claimed)
}

/// Sends one claimed message and records how it went.
async fn deliver(state: &AppState, due: &Due) -> Result<(), ApiError> {
    // Deleted since the claim: its deliveries went with it.
    let Some((url, secret)) = crate::store::webhooks::target(state, due.endpoint_id).await? else { return Ok(()) };
    let attempt = state.webhooks.post(&url, &secret, &due.message_id, state.clock.now(), &due.payload).await;
    state.metrics.webhook(matches!(attempt, Attempt::Delivered(_)));
    let outcome = outcome(attempt, due.attempts, state.clock.now());
    if let Some(error) = attempt.error() {
        // The endpoint's id, never its URL (whose path may hold the receiver's token).
        tracing::warn!(
            endpoint_id = due.endpoint_id,
            message_id = %due.message_id,
            attempt = due.attempts + 1,
            status = attempt.status(),
            error,
            gave_up = matches!(outcome, Outcome::GaveUp { .. }),
            "webhooks: a delivery failed"
        );
    }
    webhook_outbox::settle(state, due, outcome).await
}

/// What attempt number `attempts + 1` at `now` leads to.
fn outcome(attempt: Attempt, attempts: i64, now: i64) -> Outcome {
    let (status, error) = match attempt {
        Attempt::Delivered(status) => return Outcome::Delivered { status },
        other => (other.status(), other.error().unwrap_or("unreachable")),
    };
    match usize::try_from(attempts).ok().and_then(|made| RETRY_AFTER.get(made)) {
        Some(wait) => Outcome::Retry { status, error, at: now + wait },
        None => Outcome::GaveUp { status, error },
    }
}

#[cfg(test)]
mod tests {
    use super::{outcome, Attempt, Outcome, RETRY_AFTER};

    #[test]
    fn failures_back_off_on_the_schedule_then_give_up() {
        assert_eq!(outcome(Attempt::Delivered(204), 3, 100), Outcome::Delivered { status: 204 });
        assert_eq!(
            outcome(Attempt::Status(500), 0, 100),
            Outcome::Retry { status: Some(500), error: "http_status", at: 105 }
        );
        assert_eq!(outcome(Attempt::Timeout, 1, 100), Outcome::Retry { status: None, error: "timeout", at: 400 });
        let last = i64::try_from(RETRY_AFTER.len()).unwrap();
        assert_eq!(
            outcome(Attempt::Unreachable, last, 100),
            Outcome::GaveUp { status: None, error: "unreachable" },
            "the eighth failure is the last"
        );
    }
}
