//! Latchkey's authentication logic, pure and deterministic, for the server and the browser alike.
//!
//! Nothing here reads a clock, the OS random source, a file or the network: callers pass `now`
//! (Unix seconds) and a cryptographic RNG. The same code therefore gives the same verdicts natively
//! and on `wasm32-unknown-unknown`, which is what lets the npm package preview exactly what the
//! server will decide.
//!
//! ```
//! use latchkey_core::policy::{PasswordPolicy, UserAttributes};
//! use latchkey_core::totp::{self, TotpParams, TotpSecret};
//!
//! let user = UserAttributes { username: Some("johndoe".into()), ..Default::default() };
//! let verdict = PasswordPolicy::default().validate("johndoe123", &user);
//! assert!(!verdict.valid);
//! assert_eq!(verdict.violations[0].code(), "password_too_similar");
//!
//! // RFC 6238 at t = 59 s: callers pass the time, the core never reads a clock.
//! let secret = TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
//! assert_eq!(totp::code_at(&secret, &TotpParams::default(), 59), "287082");
//! assert_eq!(totp::verify(&secret, &TotpParams::default(), "287082", 75, 1, None)?, 1);
//! # Ok::<(), latchkey_core::totp::TotpError>(())
//! ```

pub mod backup;
pub mod dictionaries;
pub mod encoding;
#[cfg(feature = "hashing")]
pub mod hash;
pub mod json;
pub mod policy;
pub mod strength;
pub mod token;
pub mod totp;
