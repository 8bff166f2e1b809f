//! Server-provided DPoP nonces (RFC 9449 §8, §9) that every replica issues and accepts without
//! shared state: a nonce is the number of a time window and an HMAC-SHA256 tag over it, keyed
//! with a secret the replicas share.
//!
//! Time is cut into windows of [`DpopNonces::lifetime`]. The nonce of window `n` is
//! `base64url(n as 8 big-endian bytes ‖ the first 16 bytes of HMAC(secret, label ‖ n))`, 32
//! characters. A proof's nonce is accepted while its window is the current one, the one before
//! (so a nonce lives between one and two lifetimes) or the one after (a replica whose clock runs
//! ahead of this one's may have issued it). Nobody without the secret can make the nonce of a
//! window to come, which is what a nonce is for: a proof cannot be made before the server said
//! the word (RFC 9449 §11.2).

use std::fmt;
use std::time::Duration;

use aws_lc_rs::{hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The shortest shared secret accepted, in bytes: HMAC-SHA256's output length (RFC 2104 §3).
pub const MIN_SECRET_BYTES: usize = 32;

/// The default lifetime of a nonce's window: a nonce is accepted 60 to 120 seconds.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// What the tag is computed over besides the window, so this key can never sign anything that
/// means something else.
const LABEL: &[u8] = b"dpop-nonce/v1";

/// The bytes of a nonce before base64url: the window and the truncated tag.
const WINDOW_BYTES: usize = 8;
const TAG_BYTES: usize = 16;
const NONCE_BYTES: usize = WINDOW_BYTES + TAG_BYTES;

/// How a proof's nonce stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued for the current window (or the next): accepted.
    Current,
    /// Issued for the window before: accepted, and the answer carries the current nonce so the
    /// client moves on before this one expires (RFC 9449 §8.2).
    Stale,
    /// Not a nonce of ours, or from a window that has closed: refused with `use_dpop_nonce`.
    Invalid,
}

/// Issues and checks nonces. Cloning shares nothing mutable: every clone, and every replica
/// built with the same secret and lifetime, issues and accepts the same nonces.
#[derive(Clone)]
pub struct DpopNonces {
    key: hmac::Key,
    lifetime_secs: u64,
}

impl fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("DpopNonces")
            .field("lifetime_secs", &self.lifetime_secs)
            .finish_non_exhaustive()
    }
}

/// Why nonces cannot be made as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NonceSetupError {
    /// The secret is shorter than [`MIN_SECRET_BYTES`].
    #[error("the DPoP nonce secret must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret,
    /// A lifetime under one second: windows are counted in whole seconds.
    #[error("the DPoP nonce lifetime must be at least one second")]
    ShortLifetime,
    /// The system's random generator failed (for a secret of this process's own).
    #[error("the system's random generator failed")]
    Random,
}

impl DpopNonces {
    /// Nonces keyed with `secret`, which every replica behind one address must share, in
    /// windows of `lifetime` (whole seconds; a fraction is dropped).
    pub fn new(secret: &[u8], lifetime: Duration) -> Result<Self, NonceSetupError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(NonceSetupError::ShortSecret);
        }
        let lifetime_secs = lifetime.as_secs();
        if lifetime_secs == 0 {
            return Err(NonceSetupError::ShortLifetime);
        }
        Ok(DpopNonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            lifetime_secs,
        })
    }

    /// Nonces keyed with a random secret of this process's own: right for one replica, while
    /// several behind one address refuse each other's nonces (each refusal carries the
    /// refusing replica's nonce, so a client retries, but may never settle).
    pub fn with_random_secret(lifetime: Duration) -> Result<Self, NonceSetupError> {
        let mut secret = [0; MIN_SECRET_BYTES];
        rand::fill(&mut secret).map_err(|_| NonceSetupError::Random)?;
        Self::new(&secret, lifetime)
    }

    /// How long one window lasts: a nonce is accepted for one to two of these.
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.lifetime_secs)
    }

    /// The nonce to hand out at `now` (Unix seconds).
    pub fn current(&self, now: u64) -> String {
        self.nonce_of(now / self.lifetime_secs)
    }

    /// How `nonce`, read from a proof, stands at `now` (Unix seconds).
    pub fn check(&self, nonce: &str, now: u64) -> NonceStatus {
        let mut bytes = [0; NONCE_BYTES];
        // A nonce of ours is exactly 32 characters of unpadded base64url.
        if nonce.len() != NONCE_BYTES * 4 / 3
            || URL_SAFE_NO_PAD.decode_slice(nonce, &mut bytes) != Ok(NONCE_BYTES)
        {
            return NonceStatus::Invalid;
        }
        let (window, tag) = bytes.split_at(WINDOW_BYTES);
        let window = u64::from_be_bytes(window.try_into().unwrap_or_default());
        let current = now / self.lifetime_secs;
        let status = if window == current || window == current.saturating_add(1) {
            NonceStatus::Current
        } else if window.checked_add(1) == Some(current) {
            NonceStatus::Stale
        } else {
            return NonceStatus::Invalid;
        };
        // `verify` compares in constant time; the tag is truncated, so compare by hand the
        // same way.
        let expected = self.tag(window);
        if constant_time_eq(&expected, tag) {
            status
        } else {
            NonceStatus::Invalid
        }
    }

    fn nonce_of(&self, window: u64) -> String {
        let mut bytes = [0; NONCE_BYTES];
        bytes[..WINDOW_BYTES].copy_from_slice(&window.to_be_bytes());
        bytes[WINDOW_BYTES..].copy_from_slice(&self.tag(window));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn tag(&self, window: u64) -> [u8; TAG_BYTES] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(LABEL);
        context.update(&window.to_be_bytes());
        let mut tag = [0; TAG_BYTES];
        tag.copy_from_slice(&context.sign().as_ref()[..TAG_BYTES]);
        tag
    }
}

/// Whether `a` and `b` are equal, in a time that depends on their length only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFETIME: Duration = Duration::from_secs(60);
    const NOW: u64 = 1_790_000_000;

    fn nonces(secret: u8) -> DpopNonces {
        DpopNonces::new(&[secret; MIN_SECRET_BYTES], LIFETIME).unwrap()
    }

    #[test]
    fn a_nonce_is_32_url_safe_characters_and_changes_with_the_window() {
        let nonces = nonces(1);
        let nonce = nonces.current(NOW);
        assert_eq!(nonce.len(), 32);
        assert!(
            nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            nonces.current(NOW - NOW % 60),
            nonces.current(NOW - NOW % 60 + 59)
        );
        assert_ne!(nonces.current(NOW), nonces.current(NOW + 60));
    }

    #[test]
    fn replicas_with_one_secret_accept_each_others_nonces_and_others_do_not() {
        let nonce = nonces(1).current(NOW);
        assert_eq!(nonces(1).check(&nonce, NOW), NonceStatus::Current);
        assert_eq!(nonces(2).check(&nonce, NOW), NonceStatus::Invalid);
    }

    #[test]
    fn a_nonce_is_current_then_stale_then_refused() {
        let nonces = nonces(1);
        let start = NOW - NOW % 60;
        let nonce = nonces.current(start);
        // Issued by a replica a little ahead: the next window, still current here.
        assert_eq!(nonces.check(&nonce, start - 1), NonceStatus::Current);
        assert_eq!(nonces.check(&nonce, start - 61), NonceStatus::Invalid);
        assert_eq!(nonces.check(&nonce, start + 59), NonceStatus::Current);
        assert_eq!(nonces.check(&nonce, start + 60), NonceStatus::Stale);
        assert_eq!(nonces.check(&nonce, start + 119), NonceStatus::Stale);
        assert_eq!(nonces.check(&nonce, start + 120), NonceStatus::Invalid);
    }

    #[test]
    fn a_changed_window_tag_or_length_is_refused() {
        let nonces = nonces(1);
        let nonce = nonces.current(NOW);
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        // The tag of another window: a forged window number fails its tag.
        bytes[7] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(nonces.check(&forged, NOW), NonceStatus::Invalid);
        bytes[7] ^= 1;
        bytes[NONCE_BYTES - 1] ^= 0x80;
        let tampered = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(nonces.check(&tampered, NOW), NonceStatus::Invalid);
        for malformed in [
            "",
            "x",
            &nonce[..31],
            &format!("{nonce}A"),
            &format!("{nonce}=="),
        ] {
            assert_eq!(nonces.check(malformed, NOW), NonceStatus::Invalid);
        }
        // Padding or the standard alphabet: the same bytes, not our spelling.
        let standard = base64::engine::general_purpose::STANDARD
            .encode(URL_SAFE_NO_PAD.decode(&nonce).unwrap());
        if standard != nonce {
            assert_eq!(nonces.check(&standard, NOW), NonceStatus::Invalid);
        }
    }

    #[test]
    fn windows_near_the_ends_of_time_neither_wrap_nor_panic() {
        let nonces = nonces(1);
        let last = nonces.current(u64::MAX);
        assert_eq!(nonces.check(&last, u64::MAX), NonceStatus::Current);
        assert_eq!(
            nonces.check(&nonces.current(0), u64::MAX),
            NonceStatus::Invalid
        );
        assert_eq!(nonces.check(&last, 0), NonceStatus::Invalid);
    }

    #[test]
    fn short_secrets_and_lifetimes_are_refused() {
        assert_eq!(
            DpopNonces::new(&[0; MIN_SECRET_BYTES - 1], LIFETIME).unwrap_err(),
            NonceSetupError::ShortSecret
        );
        assert_eq!(
            DpopNonces::new(&[0; MIN_SECRET_BYTES], Duration::from_millis(999)).unwrap_err(),
            NonceSetupError::ShortLifetime
        );
        let random = DpopNonces::with_random_secret(LIFETIME).unwrap();
        assert_eq!(
            random.check(&nonces(0).current(NOW), NOW),
            NonceStatus::Invalid
        );
        assert!(!format!("{random:?}").contains("key"));
    }
}
