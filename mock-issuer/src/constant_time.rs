//! Comparing a presented secret with the expected one without a timing side channel: the token
//! endpoint's client secrets and the admin surface's bearer token.

use sha2::{Digest as _, Sha256};

/// Whether `presented` equals `expected`. Both are hashed first, so the comparison always runs
/// over 32 bytes whatever their lengths, and the loop has no early exit: how long it takes says
/// nothing about how much of a guess was right, nor how long the secret is.
pub(crate) fn secrets_equal(presented: &[u8], expected: &[u8]) -> bool {
    let (presented, expected) = (Sha256::digest(presented), Sha256::digest(expected));
    presented
        .iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::secrets_equal;

    #[test]
    fn only_the_same_bytes_are_equal() {
        assert!(secrets_equal(b"reader-secret", b"reader-secret"));
        assert!(!secrets_equal(b"reader-secret", b"reader-secreT"));
        assert!(!secrets_equal(b"reader-secret", b"reader-secret "));
        assert!(!secrets_equal(b"", b"reader-secret"));
    }
}
