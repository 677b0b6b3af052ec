//! The tables: one module per table or group of tables, the place SQL is written.

pub mod challenges;
pub mod django_import;
pub mod limits;
pub mod users;
