//! SHA-256 of high-entropy values and of client-chosen keys.

/// The lowercase hex SHA-256 of `text`: what the database keeps of refresh-token ids, login-challenge
/// tokens and API keys, all high-entropy values that need no slow hash.
pub(crate) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    latchkey_core::encoding::hex(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_hashes_are_sha256_hex() {
        // echo -n abc | sha256sum
        assert_eq!(super::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
