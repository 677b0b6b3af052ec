//! The bottom layer: configuration, the database connection, mail, keys and secrets, the clock,
//! the password-hashing gate, counters. Knows nothing of HTTP routes, tables or flows.

pub mod auth_cache;
pub mod breached;
pub mod client;
pub mod clock;
pub mod config;
pub mod datetime;
pub mod db;
pub mod db_listener;
pub mod digest;
pub mod error;
pub mod links;
pub mod lock_cache;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod passwords;
pub mod phone;
pub mod proxies;
pub mod require_2fa;
pub mod rotation;
pub mod signing;
pub mod sms;
pub mod social;
pub mod state;
pub mod vault;
pub mod webauthn;
pub mod webhooks;
