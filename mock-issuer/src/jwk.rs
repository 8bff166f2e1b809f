//! Public keys as JWK members (RFC 7517, RFC 7518 §6, RFC 8037 §2) and their RFC 7638
//! thumbprints: for the JWKS's keys and for a DPoP client's key alike.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// A public key's JWK members, base64url-encoded, for the key types the mock signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicJwk {
    /// `kty` `RSA`: the modulus and the public exponent.
    Rsa { n: String, e: String },
    /// `kty` `EC`, `crv` `P-256`: the point's coordinates, 32 bytes each.
    P256 { x: String, y: String },
    /// `kty` `OKP`, `crv` `Ed25519`: the 32-byte public key.
    Ed25519 { x: String },
}

impl PublicJwk {
    /// An RSA key from its big-endian modulus and exponent.
    pub fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::Rsa {
            n: URL_SAFE_NO_PAD.encode(n),
            e: URL_SAFE_NO_PAD.encode(e),
        }
    }

    /// A P-256 key from its uncompressed point (`0x04`, then x and y, 32 bytes each), as
    /// aws-lc-rs gives it; `None` for anything else.
    pub fn p256(point: &[u8]) -> Option<Self> {
        let coordinates = point.strip_prefix(&[0x04])?;
        if coordinates.len() != 64 {
            return None;
        }
        let (x, y) = coordinates.split_at(32);
        Some(Self::P256 {
            x: URL_SAFE_NO_PAD.encode(x),
            y: URL_SAFE_NO_PAD.encode(y),
        })
    }

    /// An Ed25519 key from its 32 public bytes.
    pub fn ed25519(public: &[u8]) -> Self {
        Self::Ed25519 {
            x: URL_SAFE_NO_PAD.encode(public),
        }
    }

    /// The members that define the key, in RFC 7638's lexicographic order.
    pub fn members(&self) -> Vec<(&'static str, String)> {
        let owned = |pairs: &[(&'static str, &str)]| {
            pairs
                .iter()
                .map(|&(name, value)| (name, value.to_owned()))
                .collect()
        };
        match self {
            Self::Rsa { n, e } => owned(&[("e", e), ("kty", "RSA"), ("n", n)]),
            Self::P256 { x, y } => owned(&[("crv", "P-256"), ("kty", "EC"), ("x", x), ("y", y)]),
            Self::Ed25519 { x } => owned(&[("crv", "Ed25519"), ("kty", "OKP"), ("x", x)]),
        }
    }

    /// The public JWK: the defining members only.
    pub fn to_json(&self) -> Map<String, Value> {
        self.members()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::String(value)))
            .collect()
    }

    /// The RFC 7638 SHA-256 thumbprint: over the defining members in lexicographic order,
    /// without whitespace.
    pub fn thumbprint(&self) -> [u8; 32] {
        let canonical: Vec<String> = self
            .members()
            .into_iter()
            .map(|(name, value)| format!(r#""{name}":"{value}""#))
            .collect();
        Sha256::digest(format!("{{{}}}", canonical.join(","))).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1's RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let key = PublicJwk::Rsa {
            n: n.to_owned(),
            e: "AQAB".to_owned(),
        };
        assert_eq!(
            URL_SAFE_NO_PAD.encode(key.thumbprint()),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_p256_point_must_be_uncompressed_and_full_length() {
        let mut point = vec![0x04];
        point.extend([1u8; 32]);
        point.extend([2u8; 32]);
        let key = PublicJwk::p256(&point).expect("an uncompressed point");
        assert_eq!(key.to_json()["kty"], "EC");
        assert_eq!(key.to_json()["crv"], "P-256");
        assert_eq!(PublicJwk::p256(&point[..64]), None);
        point[0] = 0x02;
        assert_eq!(PublicJwk::p256(&point), None);
    }
}
