//! How a node on PostgreSQL hears the other nodes' forgets (`LISTEN latchkey_auth`), and keeps its
//! cache of authenticated requests off while it cannot: the cache answers only from the moment
//! `LISTEN` succeeds, and stops (emptied) the moment the connection is lost, until a new one
//! listens again. Forgets are at most a few milliseconds behind the write on a healthy connection;
//! a connection that dies silently is bounded by the cache's time to live.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::infra::auth_cache::{AuthCache, Forget};

/// The channel the nodes forget on.
pub const CHANNEL: &str = "latchkey_auth";

/// How often a waiting listener checks that its node still exists.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// Starts listening for `cache` in the background, for as long as the cache lives. Outside a
/// Tokio runtime (never the case in the server) the cache simply stays off.
pub fn spawn(url: &str, cache: &Arc<AuthCache>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(listen(url.to_owned(), Arc::downgrade(cache)));
}

async fn listen(url: String, cache: Weak<AuthCache>) {
    let mut retry = Duration::from_millis(100);
    while cache.strong_count() > 0 {
        let mut listener = match connect(&url).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for cache invalidations; reading the database meanwhile");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        retry = Duration::from_millis(100);
        let Some(live) = cache.upgrade() else { return };
        live.set_live(true);
        drop(live);
        loop {
            match tokio::time::timeout(CHECK_EVERY, listener.try_recv()).await {
                Err(_elapsed) if cache.strong_count() > 0 => continue,
                Err(_elapsed) => return,
                Ok(Ok(Some(notification))) => {
                    let Some(live) = cache.upgrade() else { return };
                    match notification.payload().parse::<Forget>() {
                        Ok(forget) => live.apply(&forget),
                        // Not ours to read: forgetting everything is always safe.
                        Err(()) => live.forget_all(),
                    }
                }
                Ok(Ok(None) | Err(_)) => {
                    tracing::warn!("lost the cache invalidation connection; reading the database until it is back");
                    if let Some(live) = cache.upgrade() {
                        live.set_live(false);
                    }
                    break;
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
