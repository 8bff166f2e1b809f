//! A public key's numbers, as a JWK gives them, checked under the key policy and parsed by aws-lc
//! for one algorithm: the rule that the issuer's keys (`jwks.rs`), a configured public key
//! (`static_key.rs`) and DPoP proof keys (`dpop/jwk.rs`) share.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};

use super::algorithm::{Algorithm, Curve, KeyType};

/// Smallest accepted RSA modulus (RFC 7518 §3.3, RFC 8725 §3.5).
pub const MIN_MODULUS_BITS: usize = 2048;
/// Largest accepted RSA modulus: verification cost grows with it, so a key's publisher cannot
/// make us slow.
pub const MAX_MODULUS_BITS: usize = 8192;
/// The length of an Ed25519 public key (RFC 8032 §5.1.5).
pub(crate) const ED25519_KEY_BYTES: usize = 32;

/// The public numbers of one key, decoded from base64url.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyNumbers<'a> {
    /// Modulus and public exponent, big-endian.
    Rsa { n: &'a [u8], e: &'a [u8] },
    /// An EC point's coordinates, big-endian.
    Ec {
        curve: Curve,
        x: &'a [u8],
        y: &'a [u8],
    },
    /// An Ed25519 public key.
    Ed25519 { x: &'a [u8] },
}

/// Why a key cannot be used with an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRefusal {
    /// The algorithm needs another key type or curve.
    WrongType,
    /// An RSA modulus outside 2048..=8192 bits.
    ModulusSize,
    /// An RSA exponent that is even, below 3 or over 32 bits.
    Exponent,
    /// A coordinate or key of the wrong length for its curve.
    Length,
    /// aws-lc refused it: a point off its curve, say.
    Rejected,
}

impl KeyRefusal {
    /// What a log line says.
    pub(crate) const fn description(self) -> &'static str {
        match self {
            KeyRefusal::WrongType => "the algorithm needs another key type or curve",
            KeyRefusal::ModulusSize => "modulus size outside 2048..=8192 bits",
            KeyRefusal::Exponent => "public exponent must be odd, at least 3 and at most 32 bits",
            KeyRefusal::Length => "a coordinate is not the full length of its curve",
            KeyRefusal::Rejected => "aws-lc rejected the key (a point not on its curve?)",
        }
    }
}

impl KeyNumbers<'_> {
    /// The key's type (and curve).
    pub(crate) const fn key_type(&self) -> KeyType {
        match self {
            KeyNumbers::Rsa { .. } => KeyType::Rsa,
            KeyNumbers::Ec { curve, .. } => KeyType::Ec(*curve),
            KeyNumbers::Ed25519 { .. } => KeyType::Ed25519,
        }
    }

    /// The key, parsed by aws-lc to verify `alg`: refused when `alg` needs another type or curve,
    /// when an RSA modulus or exponent is outside the policy, when a coordinate is not its
    /// curve's full length (RFC 7518 §6.2.1.2), or when aws-lc refuses it (an EC point is
    /// decoded and checked on its curve here, once, not per signature).
    pub(crate) fn parse_for(&self, alg: Algorithm) -> Result<ParsedPublicKey, KeyRefusal> {
        if alg.key_type() != self.key_type() {
            return Err(KeyRefusal::WrongType);
        }
        let parsed = match *self {
            KeyNumbers::Rsa { n, e } => {
                let n = without_leading_zeros(n);
                if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bit_length(n)) {
                    return Err(KeyRefusal::ModulusSize);
                }
                // aws-lc would take an even exponent and only fail each signature, which would
                // name the wrong fault.
                let e = without_leading_zeros(e);
                if !exponent_is_acceptable(e) {
                    return Err(KeyRefusal::Exponent);
                }
                let parameters = alg.rsa_parameters().ok_or(KeyRefusal::WrongType)?;
                RsaPublicKeyComponents { n, e }.to_parsed_public_key(parameters)
            }
            KeyNumbers::Ec { curve, x, y } => {
                let length = curve.coordinate_bytes();
                if x.len() != length || y.len() != length {
                    return Err(KeyRefusal::Length);
                }
                // SEC 1 §2.3.3's uncompressed point, the form aws-lc reads.
                let point = [&[0x04][..], x, y].concat();
                ParsedPublicKey::new(curve.verification(), point)
            }
            KeyNumbers::Ed25519 { x } => {
                if x.len() != ED25519_KEY_BYTES {
                    return Err(KeyRefusal::Length);
                }
                ParsedPublicKey::new(&signature::ED25519, x)
            }
        };
        parsed.map_err(|_| KeyRefusal::Rejected)
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    &bytes[zeros..]
}

/// Bit length of a big-endian unsigned integer without leading zero bytes.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(&first) => (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

/// An RSA public exponent must be odd and at least 3; aws-lc also caps it at 33 bits, and real
/// keys use 65537, so anything wider than 32 bits is refused.
fn exponent_is_acceptable(e: &[u8]) -> bool {
    if e.is_empty() || e.len() > 4 {
        return false;
    }
    let value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    value >= 3 && value % 2 == 1
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    };

    use super::*;

    #[test]
    fn bit_length_counts_from_the_highest_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f; 256]), 2047);
    }

    #[test]
    fn exponents_must_be_odd_and_at_least_three() {
        assert!(exponent_is_acceptable(&[1, 0, 1]));
        assert!(exponent_is_acceptable(&[3]));
        assert!(!exponent_is_acceptable(&[1]));
        assert!(!exponent_is_acceptable(&[2]));
        assert!(!exponent_is_acceptable(&[1, 0, 0]));
        assert!(!exponent_is_acceptable(&[]));
        assert!(!exponent_is_acceptable(&[1, 0, 0, 0, 1]));
    }

    #[test]
    fn a_key_is_parsed_only_for_the_algorithms_of_its_type_and_curve() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a key");
        let point = pair.public_key().as_ref();
        let ec = KeyNumbers::Ec {
            curve: Curve::P256,
            x: &point[1..33],
            y: &point[33..],
        };
        let ed = Ed25519KeyPair::generate().expect("a key");
        let ed = KeyNumbers::Ed25519 {
            x: ed.public_key().as_ref(),
        };
        // HMAC included: no public key is ever parsed for one.
        for alg in Algorithm::ALL.into_iter().chain(Algorithm::HMAC) {
            assert_eq!(ec.parse_for(alg).is_ok(), alg == Algorithm::ES256, "{alg}");
            assert_eq!(ed.parse_for(alg).is_ok(), alg == Algorithm::EdDSA, "{alg}");
        }
    }

    #[test]
    fn points_off_the_curve_and_short_coordinates_are_refused() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a key");
        let point = pair.public_key().as_ref();
        let mut y = point[33..].to_vec();
        y[31] ^= 1;
        let off_curve = KeyNumbers::Ec {
            curve: Curve::P256,
            x: &point[1..33],
            y: &y,
        };
        assert_eq!(
            off_curve.parse_for(Algorithm::ES256).err(),
            Some(KeyRefusal::Rejected)
        );
        // The same point named as another curve of the same length is not on that curve.
        let other_curve = KeyNumbers::Ec {
            curve: Curve::Secp256k1,
            x: &point[1..33],
            y: &point[33..],
        };
        assert_eq!(
            other_curve.parse_for(Algorithm::ES256K).err(),
            Some(KeyRefusal::Rejected)
        );
        let short = KeyNumbers::Ec {
            curve: Curve::P256,
            x: &point[2..33],
            y: &point[33..],
        };
        assert_eq!(
            short.parse_for(Algorithm::ES256).err(),
            Some(KeyRefusal::Length)
        );
        let short_ed = KeyNumbers::Ed25519 { x: &point[1..32] };
        assert_eq!(
            short_ed.parse_for(Algorithm::EdDSA).err(),
            Some(KeyRefusal::Length)
        );
    }
}
