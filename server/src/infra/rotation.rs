//! The steps of a signing-key rotation, as `latchkey keys rotate` prints them for the configuration
//! at hand: the new key is announced to every node before it signs anything, then made current
//! with the old one kept as previous, and the old one is dropped once nothing it signed can be alive.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_core::token::Algorithm;

use crate::infra::config::Config;
use crate::infra::signing::{key_ring, previous_secrets};

/// The steps for `config`. Reads the configured key files (so that a broken one is reported now,
/// not at the first restart) and prints their `kid`s; never prints a secret.
pub fn steps(config: &Config) -> Result<String, String> {
    if config.jwt_algorithm == Algorithm::HS256 {
        Ok(hs256_steps(config))
    } else {
        asymmetric_steps(config)
    }
}

/// Rotation keeps the old key verifying for a while, which a leaked key must not.
const LEAKED: &str = "(For a key that leaked, do not rotate: replace it and list no previous key, so that \
                      nothing it signs is accepted any more; its sessions end.)";

/// How long a token signed just before the switch may still be presented: the longer lifetime.
fn token_lifetime(config: &Config) -> Duration {
    config.access_token_lifetime.max(config.refresh_token_lifetime)
}

fn asymmetric_steps(config: &Config) -> Result<String, String> {
    let algorithm = config.jwt_algorithm;
    // The secret key plays no part in an asymmetric ring.
    let ring = key_ring(config, "", "").map_err(|e| e.to_string())?;
    let current = config.jwt_private_key_file.clone().unwrap_or_default();
    let previous: Vec<PathBuf> =
        config.jwt_previous_key_files.iter().filter(|p| !p.as_os_str().is_empty()).cloned().collect();
    let new = current.parent().unwrap_or(Path::new("")).join("new-jwt-key.pem");
    let kid = |keys: &latchkey_core::token::Keys| keys.kid().unwrap_or_default().to_owned();
    let list = |paths: &[PathBuf]| paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");

    let mut out = String::new();
    let _ = writeln!(out, "Rotating the {algorithm} signing key without refusing a valid token.\n{LEAKED}\n");
    let _ =
        writeln!(out, "Now: LATCHKEY_JWT_PRIVATE_KEY_FILE={} signs (kid {}).", current.display(), kid(ring.current()));
    if previous.is_empty() {
        let _ = writeln!(out, "     LATCHKEY_JWT_PREVIOUS_KEY_FILES is empty.");
    } else {
        let kids: Vec<String> = ring.previous().iter().map(kid).collect();
        let _ = writeln!(
            out,
            "     LATCHKEY_JWT_PREVIOUS_KEY_FILES={} also verify (kid {}). A rotation may be under way: \
             finish it (step 4) before starting another.",
            list(&previous),
            kids.join(", ")
        );
    }
    let announce: Vec<PathBuf> = std::iter::once(new.clone()).chain(previous.iter().cloned()).collect();
    let switched: Vec<PathBuf> =
        std::iter::once(current.clone()).chain(previous.iter().filter(|p| **p != new).cloned()).collect();
    let _ = writeln!(
        out,
        "\n1. Generate the new key, readable by the server's user only:\n     {}",
        generate(algorithm, &new)
    );
    let _ = writeln!(
        out,
        "\n2. Announce it. On every node, add it to the keys that verify, leaving the current key as it is:\n     \
         LATCHKEY_JWT_PREVIOUS_KEY_FILES={}\n   \
         and restart the nodes one at a time. The new key now verifies tokens on every node and is listed in\n   \
         GET /.well-known/jwks.json after the current one, but signs nothing yet. Wait until every service that\n   \
         caches the JWKS has fetched it again (its cache lifetime).",
        list(&announce)
    );
    let _ = writeln!(
        out,
        "\n3. Switch. On every node, make the new key current and keep the old one as previous:\n     \
         LATCHKEY_JWT_PRIVATE_KEY_FILE={}\n     LATCHKEY_JWT_PREVIOUS_KEY_FILES={}\n   \
         and restart the nodes one at a time. New tokens carry the new kid; tokens the old key signed still\n   \
         verify on every node, restarted or not.",
        new.display(),
        list(&switched)
    );
    let _ = writeln!(
        out,
        "\n4. Retire the old key {} after the last node switched (the longer of LATCHKEY_ACCESS_TOKEN_LIFETIME\n   \
         and LATCHKEY_REFRESH_TOKEN_LIFETIME: every token it signed has expired by then). Remove {} from\n   \
         LATCHKEY_JWT_PREVIOUS_KEY_FILES on every node, restart them one at a time, and archive or delete the file.",
        humantime::format_duration(token_lifetime(config)),
        current.display()
    );
    Ok(out)
}

/// The command that writes a new PKCS#8 private key for `algorithm` to `path`.
fn generate(algorithm: Algorithm, path: &Path) -> String {
    let options = match algorithm {
        Algorithm::EdDSA => "-algorithm ed25519",
        Algorithm::ES256 => "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
        Algorithm::RS256 | Algorithm::HS256 => "-algorithm RSA -pkeyopt rsa_keygen_bits:3072",
    };
    format!("(umask 077 && openssl genpkey {options} -out {})", path.display())
}

fn hs256_steps(config: &Config) -> String {
    let previous = previous_secrets(config).len();
    let links = config.password_reset_timeout.max(config.email_verification_timeout);
    let wait = token_lifetime(config).max(links);
    let mut out = String::new();
    let _ = writeln!(out, "Rotating the HS256 secret key without refusing a valid token.\n{LEAKED}\n");
    let source = if config.secret_key.is_some() { "LATCHKEY_SECRET_KEY" } else { "the generated latchkey.secret" };
    let _ = writeln!(
        out,
        "Now: {source} signs tokens and e-mailed links; LATCHKEY_PREVIOUS_SECRET_KEYS holds {previous} key(s).{}",
        if previous > 0 { " A rotation may be under way: finish it (step 4) before starting another." } else { "" }
    );
    if config.encryption_key.is_none() {
        let _ = writeln!(
            out,
            "\n0. LATCHKEY_ENCRYPTION_KEY is not set, so TOTP secrets and backup codes are sealed under keys derived\n   \
             from the secret key. Pin them first: set LATCHKEY_ENCRYPTION_KEY to the current secret key's value on\n   \
             every node and restart them one at a time. Nothing is re-encrypted (the same text gives the same keys),\n   \
             and from then on the two keys rotate apart; if the secret key is being replaced because it leaked,\n   \
             rotate the encryption key afterwards too (docs/operations.md, \"The encryption key\"). Skipped, the\n   \
             previous secret keys still open what they sealed and `latchkey rekey` moves TOTP secrets to the new\n   \
             one, but backup codes made under the old secret stop matching in step 4."
        );
    }
    let _ = writeln!(out, "\n1. Generate the new secret (at least 32 bytes):\n     openssl rand -hex 32");
    let _ = writeln!(
        out,
        "\n2. Announce it. On every node, leave LATCHKEY_SECRET_KEY as it is and set\n     \
         LATCHKEY_PREVIOUS_SECRET_KEYS=<new secret>\n   \
         then restart the nodes one at a time. Every node now accepts what the new secret signs; none signs with it."
    );
    let _ = writeln!(
        out,
        "\n3. Switch. On every node set\n     LATCHKEY_SECRET_KEY=<new secret>\n     \
         LATCHKEY_PREVIOUS_SECRET_KEYS=<old secret>\n   \
         and restart the nodes one at a time. Tokens and links the old secret signed still verify everywhere.\n   \
         A Django service sharing the key (simplejwt's SIGNING_KEY) verifies with one key only: switch it now too;\n   \
         until both sides have switched, it refuses tokens of the other key."
    );
    let _ = writeln!(
        out,
        "\n4. Retire the old secret {} after the last node switched (the longest of the token lifetimes and\n   \
         LATCHKEY_PASSWORD_RESET_TIMEOUT / LATCHKEY_EMAIL_VERIFICATION_TIMEOUT): remove it from\n   \
         LATCHKEY_PREVIOUS_SECRET_KEYS on every node and restart them one at a time.",
        humantime::format_duration(wait)
    );
    out
}
