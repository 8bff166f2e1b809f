//! The signature algorithms a token (or a DPoP proof) may use, and the key type each needs:
//! RSA, ECDSA on four curves and EdDSA over Ed25519; HMAC only where a shared secret is
//! configured explicitly. Never `none`.

use std::fmt;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, EcdsaVerificationAlgorithm, RsaParameters};

/// A JWS algorithm: RFC 7518 §3.2–3.5, RFC 8812 §3.2 (ES256K), RFC 8037 (EdDSA).
///
/// The asymmetric ones ([`Algorithm::ALL`]) are the default allow-list. The HMAC ones
/// ([`Algorithm::HMAC`]) verify with a shared secret, so they are accepted only where a secret
/// is configured and the allow-list names them: a resource server that trusts a JWKS or a
/// public key has no business accepting symmetric tokens (RFC 8725 §2.1, §3.1), and
/// [`Algorithm::from_name`] does not know them. `none` is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what Auth0 signs with.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on secp256k1 with SHA-256 (RFC 8812).
    ES256K,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
    /// EdDSA, over Ed25519 only (RFC 8037): Ed448 keys are not accepted.
    EdDSA,
    /// HMAC with SHA-256, with a secret of at least 32 bytes.
    HS256,
    /// HMAC with SHA-384, with a secret of at least 48 bytes.
    HS384,
    /// HMAC with SHA-512, with a secret of at least 64 bytes.
    HS512,
}

/// An elliptic curve an ECDSA key may be on, with the `crv` name RFC 7518 §6.2.1.1 and RFC 8812
/// §3.1 register for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1), for ES256.
    P256,
    /// NIST P-384, for ES384.
    P384,
    /// NIST P-521, for ES512.
    P521,
    /// secp256k1, for ES256K.
    Secp256k1,
}

/// The type of key an algorithm needs: a key is used only with the algorithms of its own type
/// (and, for EC keys, its own curve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `kty` `RSA`: RS256 to PS512.
    Rsa,
    /// `kty` `EC` on this curve: one ES algorithm.
    Ec(Curve),
    /// `kty` `OKP` with `crv` `Ed25519`: EdDSA.
    Ed25519,
    /// A shared secret (`kty` `oct`): HS256, HS384 or HS512. Never taken from a JWKS.
    Secret,
}

impl Algorithm {
    /// Every supported asymmetric algorithm, in the order the reference lists them: the default
    /// allow-list, and the algorithms a DPoP proof may use.
    pub const ALL: [Algorithm; 11] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES256K,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];

    /// The HMAC algorithms: never in a default, accepted only with a configured secret.
    pub const HMAC: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

    /// The asymmetric algorithm called `name` (one of [`Algorithm::ALL`]), compared
    /// case-sensitively as RFC 7515 §4.1.1 requires. HMAC names are not found here, so an
    /// allow-list, a JWK's `alg` or a DPoP proof read with it never holds one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The algorithm called `name`, HMAC ones included: for a setting that names the
    /// algorithm of a configured secret, and for matching a token's `alg` against an
    /// allow-list that may hold one.
    pub fn from_any_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain(Self::HMAC)
            .find(|alg| alg.name() == name)
    }

    /// The registered `alg` name.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES256K => "ES256K",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
        }
    }

    /// Whether this is an HMAC algorithm, verified with a shared secret.
    pub const fn is_symmetric(self) -> bool {
        matches!(self.key_type(), KeyType::Secret)
    }

    /// The type (and curve) of key this algorithm verifies with.
    pub const fn key_type(self) -> KeyType {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyType::Rsa,
            Algorithm::ES256 => KeyType::Ec(Curve::P256),
            Algorithm::ES256K => KeyType::Ec(Curve::Secp256k1),
            Algorithm::ES384 => KeyType::Ec(Curve::P384),
            Algorithm::ES512 => KeyType::Ec(Curve::P521),
            Algorithm::EdDSA => KeyType::Ed25519,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyType::Secret,
        }
    }

    /// aws-lc's HMAC, for the HMAC algorithms.
    pub(crate) fn hmac(self) -> Option<hmac::Algorithm> {
        Some(match self {
            Algorithm::HS256 => hmac::HMAC_SHA256,
            Algorithm::HS384 => hmac::HMAC_SHA384,
            Algorithm::HS512 => hmac::HMAC_SHA512,
            _ => return None,
        })
    }

    /// The shortest secret an HMAC algorithm accepts: its hash's output length, 32, 48 or 64
    /// bytes (RFC 7518 §3.2). `None` for the asymmetric algorithms.
    pub fn min_secret_bytes(self) -> Option<usize> {
        self.hmac().map(|hmac| hmac.tag_len())
    }

    /// aws-lc's RSA verification parameters, for the RSA algorithms; all of them refuse moduli
    /// under 2048 or over 8192 bits.
    pub(crate) fn rsa_parameters(self) -> Option<&'static RsaParameters> {
        Some(match self {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Curve {
    /// Every curve, for lookups by name.
    const ALL: [Curve; 4] = [Curve::P256, Curve::P384, Curve::P521, Curve::Secp256k1];

    /// The curve called `crv`, compared case-sensitively.
    pub fn from_name(crv: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|curve| curve.name() == crv)
    }

    /// The registered `crv` name.
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Secp256k1 => "secp256k1",
        }
    }

    /// The length of each coordinate: RFC 7518 §6.2.1.2 requires the full field size, so there
    /// is one encoding (and one thumbprint) per key.
    pub const fn coordinate_bytes(self) -> usize {
        match self {
            Curve::P256 | Curve::Secp256k1 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// aws-lc's ECDSA verification for this curve with the hash its JWS algorithm names, over
    /// the fixed-length `r || s` signature JWS uses (RFC 7518 §3.4): a DER signature, or one of
    /// any other length, never verifies.
    pub(crate) fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
            Curve::Secp256k1 => &signature::ECDSA_P256K1_SHA256_FIXED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_one_algorithm_and_lookalikes_are_none() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        for name in [
            "none", "HS256", "es256", "Ed25519", "Ed448", "ES256k", "RSA-OAEP", "", "EdDSA ",
        ] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn hmac_names_are_found_only_by_the_lookup_that_includes_them() {
        for alg in Algorithm::HMAC {
            assert_eq!(Algorithm::from_name(alg.name()), None, "{alg}");
            assert_eq!(Algorithm::from_any_name(alg.name()), Some(alg));
            assert!(alg.is_symmetric(), "{alg}");
            assert!(!Algorithm::ALL.contains(&alg), "{alg}");
        }
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_any_name(alg.name()), Some(alg));
            assert!(!alg.is_symmetric(), "{alg}");
        }
        for name in ["none", "hs256", "HS1", "HS256 "] {
            assert_eq!(Algorithm::from_any_name(name), None, "{name}");
        }
    }

    #[test]
    fn only_rsa_algorithms_have_rsa_parameters_and_only_hmac_ones_an_hmac() {
        for alg in Algorithm::ALL.into_iter().chain(Algorithm::HMAC) {
            assert_eq!(
                alg.rsa_parameters().is_some(),
                alg.key_type() == KeyType::Rsa,
                "{alg}"
            );
            assert_eq!(alg.hmac().is_some(), alg.is_symmetric(), "{alg}");
        }
    }

    #[test]
    fn the_shortest_secret_is_the_hash_output_length() {
        let shortest: Vec<_> = Algorithm::HMAC
            .into_iter()
            .map(Algorithm::min_secret_bytes)
            .collect();
        assert_eq!(shortest, [Some(32), Some(48), Some(64)]);
        assert_eq!(Algorithm::RS256.min_secret_bytes(), None);
    }

    #[test]
    fn each_curve_has_exactly_one_algorithm() {
        for curve in Curve::ALL {
            assert_eq!(Curve::from_name(curve.name()), Some(curve));
            let algorithms = Algorithm::ALL
                .into_iter()
                .filter(|alg| alg.key_type() == KeyType::Ec(curve))
                .count();
            assert_eq!(algorithms, 1, "{}", curve.name());
        }
        assert_eq!(Curve::from_name("p-256"), None);
        assert_eq!(Curve::from_name("P-256K"), None);
    }
}
