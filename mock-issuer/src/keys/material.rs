//! One signing key of any type the tenant signs with: its private PKCS#8 form, its kid, its
//! public JWK, its self-signed certificate, and the key jsonwebtoken signs with.

use std::path::Path;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::Digest as _;

use super::KeyAlg;
use super::stored::StoredKey;
use crate::cert::{self, CertSigner};
use crate::jwk::PublicJwk;
use crate::{Error, pem};

/// One signing key with everything derived from it. Never serialised with its private part
/// except into the data dir.
pub(crate) struct KeyMaterial {
    /// RFC 7638 thumbprint prefix, base64url: opaque to clients, stable for the key.
    pub kid: String,
    alg: KeyAlg,
    /// The private key, unencrypted PKCS#8 DER.
    pkcs8: Vec<u8>,
    encoding: EncodingKey,
    public: PublicJwk,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for KeyMaterial {
    // The private key must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// Derives kid, JWK members and signing key from `pkcs8`, a private key of `alg`'s type;
    /// builds a certificate unless one is given (`seeded` fixes its dates).
    pub fn from_pkcs8(
        alg: KeyAlg,
        pkcs8: Vec<u8>,
        cert_der: Option<Vec<u8>>,
        seeded: bool,
    ) -> Result<Self, Error> {
        let (public, encoding, signer) = match alg {
            KeyAlg::Rs256 | KeyAlg::Ps256 => rsa_parts(&pkcs8)?,
            KeyAlg::Es256 => p256_parts(&pkcs8)?,
            KeyAlg::EdDsa => ed25519_parts(&pkcs8)?,
        };
        let thumbprint = public.thumbprint();
        let kid = URL_SAFE_NO_PAD.encode(&thumbprint[..16]);
        let cert_der = match cert_der {
            Some(der) => der,
            None => {
                let mut serial = [0u8; 16];
                serial.copy_from_slice(&thumbprint[16..]);
                cert::self_signed(&signer, serial, seeded)?
            }
        };
        Ok(Self {
            kid,
            alg,
            pkcs8,
            encoding,
            public,
            cert_der,
        })
    }

    /// The ring this key belongs to.
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The key for jsonwebtoken's signer.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The public JWK as Auth0 publishes its RSA keys, `kty use alg n e kid x5t x5c`, and
    /// likewise for the other types (`crv x y` or `crv x` in place of `n e`); nothing private.
    pub fn public_jwk(&self) -> Value {
        let text = |s: &str| Value::String(s.to_owned());
        let mut jwk = Map::new();
        let mut members = self.public.to_json();
        if let Some(kty) = members.remove("kty") {
            jwk.insert("kty".to_owned(), kty);
        }
        jwk.insert("use".to_owned(), text("sig"));
        jwk.insert("alg".to_owned(), text(self.alg.signing_alg().as_str()));
        // `n` before `e`, as Auth0 writes them (a map that keeps order shows it).
        for name in ["crv", "n", "e", "x", "y"] {
            if let Some(value) = members.remove(name) {
                jwk.insert(name.to_owned(), value);
            }
        }
        jwk.insert("kid".to_owned(), text(&self.kid));
        jwk.insert(
            "x5t".to_owned(),
            Value::String(URL_SAFE_NO_PAD.encode(Sha1::digest(&self.cert_der))),
        );
        // x5c is plain base64 (RFC 7517 §4.7), not base64url.
        jwk.insert(
            "x5c".to_owned(),
            Value::Array(vec![Value::String(STANDARD.encode(&self.cert_der))]),
        );
        Value::Object(jwk)
    }

    pub(super) fn to_stored(&self) -> StoredKey {
        StoredKey {
            kid: self.kid.clone(),
            private_key_pem: pem::encode_private_key(&self.pkcs8),
            certificate: STANDARD.encode(&self.cert_der),
        }
    }

    pub(super) fn from_stored(alg: KeyAlg, stored: &StoredKey, path: &Path) -> Result<Self, Error> {
        let bad = |reason: String| Error::KeyRing {
            path: path.to_path_buf(),
            reason,
        };
        let pkcs8 = pem::decode_private_key(&stored.private_key_pem)
            .map_err(|e| bad(format!("key {}: {e}", stored.kid)))?;
        let cert_der = STANDARD
            .decode(&stored.certificate)
            .map_err(|e| bad(format!("certificate of {}: {e}", stored.kid)))?;
        let key = Self::from_pkcs8(alg, pkcs8, Some(cert_der), false)
            .map_err(|e| bad(format!("key {}: {e}", stored.kid)))?;
        if key.kid != stored.kid {
            return Err(bad(format!("kid {} does not match its key", stored.kid)));
        }
        Ok(key)
    }
}

/// What a private key of one type gives: its public JWK, jsonwebtoken's key and the signer of
/// its certificate.
type Parts = (PublicJwk, EncodingKey, CertSigner);

fn rsa_parts(pkcs8: &[u8]) -> Result<Parts, Error> {
    let private = rsa::PrivateKey::from_pkcs8_der(pkcs8)
        .map_err(|e| Error::Key(format!("not a PKCS#8 RSA key: {e}")))?;
    let public = PublicJwk::rsa(&private.n_bytes(), &private.e_bytes());
    // jsonwebtoken's RSA signer reads PKCS#1.
    let pkcs1 = private
        .to_pkcs1_der()
        .map_err(|e| Error::Key(format!("PKCS#1 encoding: {e}")))?;
    let encoding = EncodingKey::from_rsa_der(pkcs1.as_bytes());
    Ok((public, encoding, CertSigner::rsa(pkcs8)?))
}

fn p256_parts(pkcs8: &[u8]) -> Result<Parts, Error> {
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
        .map_err(|e| Error::Key(format!("not a PKCS#8 P-256 key: {e}")))?;
    let public = PublicJwk::p256(key.public_key().as_ref())
        .ok_or_else(|| Error::Key("the P-256 public point is not uncompressed".to_owned()))?;
    // jsonwebtoken's ECDSA and EdDSA signers read PKCS#8.
    let encoding = EncodingKey::from_ec_der(pkcs8);
    Ok((public, encoding, CertSigner::p256(pkcs8)?))
}

fn ed25519_parts(pkcs8: &[u8]) -> Result<Parts, Error> {
    let key = Ed25519KeyPair::from_pkcs8(pkcs8)
        .map_err(|e| Error::Key(format!("not a PKCS#8 Ed25519 key: {e}")))?;
    let public = PublicJwk::ed25519(key.public_key().as_ref());
    let encoding = EncodingKey::from_ed_der(pkcs8);
    Ok((public, encoding, CertSigner::ed25519(pkcs8)?))
}
