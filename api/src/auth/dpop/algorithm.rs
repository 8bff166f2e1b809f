//! The proof signature algorithms (the reference's allow-list) and the key each one needs.

use aws_lc_rs::signature::{self, EcdsaVerificationAlgorithm};

use crate::auth::algorithm::Algorithm;

/// An elliptic curve a proof key may be on, with the `crv` name RFC 7518 §6.2.1.1 and RFC 8812
/// §3.1 register for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
    Secp256k1,
}

impl Curve {
    /// Every curve, for lookups by name.
    const ALL: [Curve; 4] = [Curve::P256, Curve::P384, Curve::P521, Curve::Secp256k1];

    /// The curve called `crv`, compared case-sensitively.
    pub(super) fn from_name(crv: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|curve| curve.name() == crv)
    }

    /// The registered `crv` name.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Secp256k1 => "secp256k1",
        }
    }

    /// The length of each coordinate: RFC 7518 §6.2.1.2 requires the full field size, so there
    /// is one encoding (and one thumbprint) per key.
    pub(super) const fn coordinate_bytes(self) -> usize {
        match self {
            Curve::P256 | Curve::Secp256k1 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// aws-lc's ECDSA verification for this curve with the hash its JWS algorithm names, over
    /// the fixed-length `r || s` signature JWS uses (RFC 7518 §3.4).
    pub(super) fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
            Curve::Secp256k1 => &signature::ECDSA_P256K1_SHA256_FIXED,
        }
    }
}

/// An accepted proof algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum ProofAlgorithm {
    /// RS256 to PS512: the api's own RSA algorithms, with its aws-lc parameters (2048 to
    /// 8192-bit moduli).
    Rsa(Algorithm),
    /// ECDSA (RFC 7518 §3.4; RFC 8812 §3.2 for ES256K) on the curve the name fixes.
    Ecdsa(Curve),
    /// EdDSA over Ed25519 only (RFC 8037); Ed448 is not in the allow-list.
    Ed25519,
}

impl ProofAlgorithm {
    /// The algorithm called `alg`, if it is on [`ALGORITHMS`](super::ALGORITHMS): exact,
    /// case-sensitive names (RFC 7515 §4.1.1), so `none` and `HS256` are simply absent.
    pub(super) fn from_name(alg: &str) -> Option<Self> {
        let algorithm = match alg {
            "ES256" => ProofAlgorithm::Ecdsa(Curve::P256),
            "ES384" => ProofAlgorithm::Ecdsa(Curve::P384),
            "ES512" => ProofAlgorithm::Ecdsa(Curve::P521),
            "ES256K" => ProofAlgorithm::Ecdsa(Curve::Secp256k1),
            "EdDSA" => ProofAlgorithm::Ed25519,
            other => ProofAlgorithm::Rsa(Algorithm::from_name(other)?),
        };
        Some(algorithm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_is_an_algorithm_and_nothing_else_is() {
        for name in super::super::ALGORITHMS {
            assert!(ProofAlgorithm::from_name(name).is_some(), "{name}");
        }
        for name in [
            "none", "HS256", "es256", "Ed25519", "Ed448", "ES256k", "RSA-OAEP", "", "EdDSA ",
        ] {
            assert_eq!(ProofAlgorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn curves_are_found_by_their_exact_names() {
        for curve in Curve::ALL {
            assert_eq!(Curve::from_name(curve.name()), Some(curve));
        }
        assert_eq!(Curve::from_name("p-256"), None);
        assert_eq!(Curve::from_name("P-256K"), None);
    }
}
