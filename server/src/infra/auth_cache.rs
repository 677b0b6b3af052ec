//! What every authenticated request asks, remembered: a user's row and which of their sessions are
//! open until when. A request whose answer is here costs the signature check and one map lookup
//! instead of a database round trip.
//!
//! Exactness comes from the writers, not from time: every store function that changes a user's row
//! or a session forgets what it changed ([`crate::infra::db::Db::forget_user`] and
//! [`crate::infra::db::Db::forget_session`]), after its write and before it answers, so on one node
//! the very next request reads the database. A read that raced a write cannot put back what the
//! write made stale: every forget moves an epoch, and a read only stores its answer when the epoch
//! has not moved since it started ([`AuthCache::epoch`], [`AuthCache::put`]).
//!
//! Several nodes on one PostgreSQL hear each other's forgets through `LISTEN/NOTIFY`
//! (`infra/db_listener.rs`). The cache is used only while that listener is connected: a node that
//! loses it reads the database until it is back, and starts again from an empty cache. Entries
//! also live at most `LATCHKEY_AUTH_CACHE_TTL` (1 s by default), the bound on what a lost
//! notification could leave stale; `0` turns the cache off.
//!
//! The rows are kept as `Arc<dyn Any>` so that this layer does not know the store's types; the
//! store reads them back as its `User` (`store::sessions::user_with_open_session`).

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Users remembered at most: a full cache starts again empty (a burst of new users costs reads,
/// never memory without bound).
const CAPACITY: usize = 50_000;

/// A user's row (as last read) and their open sessions, each as read at its own time: reading one
/// session again refreshes the row, never what is known of the others.
struct Entry {
    row: Arc<dyn Any + Send + Sync>,
    /// Session id → the Unix second it stops being open at (the earlier of its idle and absolute
    /// limits), and when that was read; only sessions that were open when read are here.
    sessions: HashMap<String, (i64, Instant)>,
}

/// The cache of one node; clones of the state share it.
pub struct AuthCache {
    users: RwLock<HashMap<i64, Entry>>,
    /// Moves on every forget; see the module documentation.
    epoch: AtomicU64,
    /// Whether the cache may answer: always on SQLite, while the listener is connected on PostgreSQL.
    live: AtomicBool,
    /// The time to live in nanoseconds: an atomic, read on every lookup without a lock.
    ttl_nanos: AtomicU64,
    /// Requests answered from memory, and those that read the database (`/metrics`).
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users = self.users.read().map_or(0, |users| users.len());
        f.debug_struct("AuthCache").field("users", &users).field("live", &self.is_live()).finish_non_exhaustive()
    }
}

impl AuthCache {
    /// An empty cache that answers nothing until [`AuthCache::set_live`].
    pub fn new() -> Self {
        Self {
            users: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
            ttl_nanos: AtomicU64::new(1_000_000_000),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// How long an entry may answer (`LATCHKEY_AUTH_CACHE_TTL`); zero turns the cache off.
    pub fn set_ttl(&self, ttl: Duration) {
        self.ttl_nanos.store(u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX), Ordering::SeqCst);
        self.forget_all();
    }

    fn ttl(&self) -> Duration {
        Duration::from_nanos(self.ttl_nanos.load(Ordering::Relaxed))
    }

    /// Starts (or stops) answering. Either way, everything remembered so far is forgotten: after a
    /// lost notification connection nothing read before it can be trusted.
    pub fn set_live(&self, live: bool) {
        self.forget_all();
        self.live.store(live, Ordering::SeqCst);
    }

    /// Whether the cache answers now.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// The epoch to hand to [`AuthCache::put`]: read it before reading the database.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// User `user_id`'s row, if session `sid` of theirs is known to be open at `now`.
    pub fn get<T: Any + Send + Sync>(&self, user_id: i64, sid: &str, now: i64) -> Option<Arc<T>> {
        let found = self.lookup(user_id, sid, now);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn lookup<T: Any + Send + Sync>(&self, user_id: i64, sid: &str, now: i64) -> Option<Arc<T>> {
        if !self.is_live() {
            return None;
        }
        let ttl = self.ttl();
        let users = self.users.read().ok()?;
        let entry = users.get(&user_id)?;
        let (until, loaded) = entry.sessions.get(sid)?;
        if loaded.elapsed() >= ttl || *until <= now {
            return None;
        }
        entry.row.clone().downcast().ok()
    }

    /// How many lookups were answered from memory, and how many read the database.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Remembers `row` of `user_id` and that session `sid` is open until `open_until`, unless
    /// something was forgotten since `epoch` was read (the row may predate that write).
    pub fn put<T: Any + Send + Sync>(&self, epoch: u64, user_id: i64, row: Arc<T>, sid: &str, open_until: i64) {
        if !self.is_live() || self.ttl().is_zero() {
            return;
        }
        let Ok(mut users) = self.users.write() else { return };
        // Under the lock, so that no forget can fall between this check and the insert.
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if users.len() >= CAPACITY && !users.contains_key(&user_id) {
            users.clear();
        }
        let ttl = self.ttl();
        match users.get_mut(&user_id) {
            Some(entry) => {
                // The row is this read's; sessions read longer ago than the time to live go.
                entry.row = row;
                entry.sessions.retain(|_, (_, loaded)| loaded.elapsed() < ttl);
                entry.sessions.insert(sid.to_owned(), (open_until, Instant::now()));
            }
            None => {
                let sessions = HashMap::from([(sid.to_owned(), (open_until, Instant::now()))]);
                users.insert(user_id, Entry { row, sessions });
            }
        }
    }

    /// Forgets user `user_id`'s row and every session of theirs.
    pub fn forget_user(&self, user_id: i64) {
        let mut users = self.users.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        users.remove(&user_id);
    }

    /// Forgets session `sid` (of user `user_id`).
    pub fn forget_session(&self, user_id: i64, sid: &str) {
        let mut users = self.users.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(entry) = users.get_mut(&user_id) {
            entry.sessions.remove(sid);
        }
    }

    /// Forgets everything.
    pub fn forget_all(&self) {
        let mut users = self.users.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        users.clear();
    }
}

/// One forget, as nodes tell each other (the `NOTIFY` payload): `u:<user id>`, `s:<user id>:<session
/// id>` or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forget {
    /// Everything of one user.
    User(i64),
    /// One session of a user.
    Session(i64, String),
    /// Everything.
    All,
}

impl std::fmt::Display for Forget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(id) => write!(f, "u:{id}"),
            Self::Session(id, sid) => write!(f, "s:{id}:{sid}"),
            Self::All => f.write_str("*"),
        }
    }
}

impl std::str::FromStr for Forget {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        if text == "*" {
            return Ok(Self::All);
        }
        if let Some(id) = text.strip_prefix("u:") {
            return id.parse().map(Self::User).map_err(|_| ());
        }
        let (id, sid) = text.strip_prefix("s:").and_then(|rest| rest.split_once(':')).ok_or(())?;
        Ok(Self::Session(id.parse().map_err(|_| ())?, sid.to_owned()))
    }
}

impl AuthCache {
    /// Applies a forget another node sent.
    pub fn apply(&self, forget: &Forget) {
        match forget {
            Forget::User(id) => self.forget_user(*id),
            Forget::Session(id, sid) => self.forget_session(*id, sid),
            Forget::All => self.forget_all(),
        }
    }
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::AuthCache;

    fn live() -> AuthCache {
        let cache = AuthCache::new();
        cache.set_live(true);
        cache
    }

    #[test]
    fn forgets_travel_as_text() {
        use super::Forget;
        for forget in [Forget::User(7), Forget::Session(7, "ab12".into()), Forget::All] {
            assert_eq!(forget.to_string().parse::<Forget>(), Ok(forget));
        }
        for bad in ["", "u:", "u:x", "s:7", "s:x:ab", "v:1"] {
            assert!(bad.parse::<Forget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_open_session_answers_until_it_closes() {
        let cache = live();
        cache.put(cache.epoch(), 7, Arc::new("ada"), "s1", 100);
        assert_eq!(cache.get::<&str>(7, "s1", 99).as_deref(), Some(&"ada"));
        assert!(cache.get::<&str>(7, "s1", 100).is_none(), "closed at its limit");
        assert!(cache.get::<&str>(7, "s2", 50).is_none(), "another session is not known");
        assert!(cache.get::<&str>(8, "s1", 50).is_none(), "nor another user");
    }

    #[test]
    fn forgetting_is_immediate() {
        let cache = live();
        cache.put(cache.epoch(), 7, Arc::new(1), "s1", 100);
        cache.put(cache.epoch(), 7, Arc::new(1), "s2", 100);
        cache.forget_session(7, "s1");
        assert!(cache.get::<i32>(7, "s1", 0).is_none());
        assert!(cache.get::<i32>(7, "s2", 0).is_some());
        cache.forget_user(7);
        assert!(cache.get::<i32>(7, "s2", 0).is_none());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = live();
        let before = cache.epoch();
        cache.forget_user(7); // a write lands while the read is in flight
        cache.put(before, 7, Arc::new(1), "s1", 100);
        assert!(cache.get::<i32>(7, "s1", 0).is_none());
    }

    #[test]
    fn reading_one_session_again_does_not_refresh_another() {
        let cache = live();
        cache.set_ttl(Duration::from_millis(40));
        cache.put(cache.epoch(), 7, Arc::new(1), "old", 100);
        std::thread::sleep(Duration::from_millis(25));
        cache.put(cache.epoch(), 7, Arc::new(2), "new", 100);
        std::thread::sleep(Duration::from_millis(25));
        assert!(cache.get::<i32>(7, "old", 0).is_none(), "read 50 ms ago: past its time to live");
        assert_eq!(cache.get::<i32>(7, "new", 0).as_deref(), Some(&2), "read 25 ms ago, with the row it brought");
    }

    #[test]
    fn nothing_answers_when_not_live_or_expired() {
        let cache = AuthCache::new();
        cache.put(cache.epoch(), 7, Arc::new(1), "s1", 100);
        assert!(cache.get::<i32>(7, "s1", 0).is_none(), "not live yet");
        let cache = live();
        cache.set_ttl(Duration::from_millis(20));
        cache.put(cache.epoch(), 7, Arc::new(1), "s1", 100);
        assert!(cache.get::<i32>(7, "s1", 0).is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert!(cache.get::<i32>(7, "s1", 0).is_none(), "past its time to live");
        cache.put(cache.epoch(), 7, Arc::new(1), "s1", 100);
        cache.set_live(false);
        assert!(cache.get::<i32>(7, "s1", 0).is_none(), "a lost listener stops it at once");
        cache.set_live(true);
        assert!(cache.get::<i32>(7, "s1", 0).is_none(), "and it starts again empty");
    }
}
