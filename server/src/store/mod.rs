//! The tables: one module per table or group of tables, the place SQL is written.

pub mod api_keys;
pub mod audit;
pub mod challenges;
pub mod django_import;
pub mod invitations;
pub mod limits;
pub mod mfa_backoff;
pub mod mfa_factors;
pub mod orgs;
pub mod password_history;
pub mod sessions;
pub mod user_fields;
pub mod users;
