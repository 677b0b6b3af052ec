//! The top layer: the router, the extractors, the DRF-shaped answers, one module per resource.

pub mod accounts;
pub mod admin;
pub mod admin_keys;
pub mod admin_sessions;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod cookies;
pub mod demo;
pub mod drf;
pub mod error;
pub mod extract;
pub mod invitations;
pub mod keys;
pub mod lifecycle;
pub mod login;
pub mod mfa;
pub mod openapi;
pub mod ops;
pub mod orgs;
pub mod router;
pub mod session_details;
pub mod sessions;
pub mod sudo;
pub mod tokens;
pub mod transport;
