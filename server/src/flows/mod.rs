//! The decisions: login, refresh, the MFA step, recovery, re-authentication. No HTTP types.

pub mod reauth;
