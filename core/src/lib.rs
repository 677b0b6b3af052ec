//! Latchkey's authentication logic, pure and deterministic, for the server and the browser alike.
//!
//! Nothing here reads a clock, the OS random source, a file or the network: callers pass `now`
//! (Unix seconds) and a cryptographic RNG. The same code therefore gives the same verdicts natively
//! and on `wasm32-unknown-unknown`, which is what lets the npm package preview exactly what the
//! server will decide.

pub mod backup;
pub mod dictionaries;
mod encoding;
#[cfg(feature = "hashing")]
pub mod hash;
pub mod json;
pub mod policy;
pub mod strength;
pub mod token;
pub mod totp;
