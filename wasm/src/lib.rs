//! `latchkey-wasm`: the npm package `latchkey`, a thin shell over `latchkey-core` so that the browser
//! gives exactly the server's verdicts.
//!
//! Every exported function checks its JavaScript arguments and throws an `Error` with a readable
//! message on bad input; none panics. The TypeScript declarations are written out below, since the
//! functions take loosely typed JavaScript values in order to check them.
//!
//! ```js
//! import init, { validatePassword, totpCode } from "latchkey";
//! await init();
//! validatePassword("correct horse battery staple", { email: "alice@example.com" }).valid; // true
//! totpCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59); // "287082"
//! ```

mod error;
mod password;
mod token;
mod totp;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT: &str = r#"
/** A password policy, as `GET /api/auth/password/policy/` returns it. */
export interface PasswordPolicy {
  min_length: number;
  max_length_bytes: number;
  /** Django's similarity threshold, or null when the rule is off. */
  max_similarity: number | null;
  reject_common: boolean;
  reject_numeric: boolean;
  /** Minimum strength score, 0-4. */
  min_score: number;
  min_character_classes: number;
  max_repeated_characters: number;
  history: number;
  /** Stable hash of the rules; ignored on input. */
  fingerprint?: string;
}
export interface UserAttributes { email?: string | null; username?: string | null; first_name?: string | null; last_name?: string | null; }
export interface Violation { code: string; message: string; }
export interface PasswordValidation { valid: boolean; score: number; violations: Violation[]; fingerprint: string; }
export interface PasswordStrength { score: 0 | 1 | 2 | 3 | 4; guessesLog10: number; warning: string; suggestions: string[]; }
export type TotpAlgorithm = "SHA1" | "SHA256" | "SHA512";
export interface TotpOptions { algorithm?: TotpAlgorithm; digits?: 6 | 8; period?: number; }
export interface VerifyTotpOptions extends TotpOptions {
  /** Steps accepted either side of `time` (default 1, at most 10). */
  window?: number;
  /** The last step accepted for this device: it and earlier steps are refused (replay). */
  lastStep?: number;
}
export interface TotpUriOptions extends TotpOptions { secret: string; issuer?: string | null; account: string; }
export interface OtpauthParams { secret: string; issuer: string | null; account: string; algorithm: TotpAlgorithm; digits: number; period: number; }
export interface TotpVerification { valid: boolean; step: number | null; }
/**
 * A token's claims: simplejwt's, Latchkey's (the core's `SessionClaims`; refresh tokens carry `sid`
 * only, `org` and `roles` come with an organization), and any other claim under its own name.
 */
export interface TokenClaims {
  token_type: "access" | "refresh";
  exp: number;
  iat: number;
  jti: string;
  /** A string; tokens of older simplejwt versions may hold a number. */
  user_id: string | number;
  /** The session: logging out revokes its tokens. */
  sid?: string;
  email?: string;
  is_staff?: boolean;
  is_verified?: boolean;
  /** A second factor was verified at this session's login. */
  mfa?: boolean;
  /** The user must set up a second factor before anything else (`LATCHKEY_REQUIRE_2FA`); present only when true. */
  mfa_enrollment_required?: boolean;
  /** The organization the token speaks for, and the user's role there. */
  org?: string;
  roles?: string[];
  aud?: string | string[];
  iss?: string;
  [claim: string]: unknown;
}
export interface DecodedToken { header: Record<string, unknown>; claims: TokenClaims; }

/** The default policy, with its fingerprint. */
export function defaultPolicy(): PasswordPolicy;
/** Validates a password exactly as the server does. */
export function validatePassword(password: string, user?: UserAttributes | null, policy?: Partial<PasswordPolicy> | null): PasswordValidation;
/** A zxcvbn-style strength estimate. */
export function passwordStrength(password: string, userInputs?: string[] | null): PasswordStrength;
/** A new random TOTP secret (160 bits, base32, no padding). */
export function generateTotpSecret(): string;
/** An otpauth://totp/ URI in the Key URI format. */
export function totpUri(options: TotpUriOptions): string;
/** Parses an otpauth URI; throws an Error with a clear message when it is invalid. */
export function parseOtpauthUri(uri: string): OtpauthParams;
/** The QR code of a URI, as an SVG document. */
export function totpQrSvg(uri: string): string;
/** The TOTP code at `time` (Unix seconds, default now). */
export function totpCode(secret: string, time?: number | null, options?: TotpOptions | null): string;
/** Verifies a TOTP code at `time` (default now), one step either side by default. */
export function verifyTotp(secret: string, code: string, time?: number | null, options?: VerifyTotpOptions | null): TotpVerification;
/** Header and claims of a JWT, without verifying the signature. */
export function decodeToken(jwt: string): DecodedToken;
/** Seconds until the token expires at `time` (default now); negative once expired. */
export function tokenSecondsLeft(jwt: string, time?: number | null): number;
/** The canonical form of a typed backup code, as the server compares it. */
export function normalizeBackupCode(code: string): string;
"#;

#[cfg(test)]
mod tests {
    /// The TypeScript type of decoded claims names every claim the core types, so the two cannot drift.
    #[test]
    fn the_token_claims_type_names_the_cores_session_claims() {
        // The declarations are consumed by the wasm-bindgen macro: read them from this file.
        let source = include_str!("lib.rs");
        let start = source.find("export interface TokenClaims {").expect("TokenClaims is declared");
        let body = &source[start..];
        let body = &body[..body.find("\n}").expect("the interface ends")];
        for name in latchkey_core::token::SESSION_CLAIM_NAMES {
            assert!(body.contains(&format!("\n  {name}?: ")), "TokenClaims lacks `{name}`");
        }
    }
}
