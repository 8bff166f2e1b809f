//! Self-signed X.509 certificates for the JWKS `x5c`/`x5t` members, as Auth0 publishes: each key
//! certifies itself (RSA with PKCS#1 v1.5 and SHA-256, P-256 with ECDSA and SHA-256, Ed25519
//! with EdDSA), aws-lc-rs signing.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::{AsDer as _, PublicKeyX509Der};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::der::asn1::{BitString, Null};
use x509_cert::der::{Any, Encode as _};
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, Document, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    ObjectIdentifier, SubjectPublicKeyInfo, SubjectPublicKeyInfoRef,
};
use x509_cert::time::{Time, Validity};

use crate::Error;

/// Subject and issuer of every certificate; Auth0 uses `CN=<tenant domain>`, which a mock has
/// none of, and nothing validates the name (the certificate only carries the key).
const SUBJECT: &str = "CN=mock-issuer";

/// When a seeded key's certificate starts to be valid: a fixed instant, so that seeded key
/// material (certificate included) is byte-identical from run to run.
const SEEDED_NOT_BEFORE: Duration = Duration::from_secs(1_704_067_200); // 2024-01-01T00:00:00Z

/// How long a random key's certificate is valid, like Auth0's (about ten years).
const LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// `sha256WithRSAEncryption` (RFC 4055 §5), with NULL parameters.
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// `ecdsa-with-SHA256` (RFC 5758 §3.2), parameters absent.
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// `id-Ed25519` (RFC 8410 §3), parameters absent.
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn err(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Key(format!("certificate {what}: {e}"))
}

/// A key that signs its own certificate: its public half (SPKI DER), the signature algorithm,
/// and its private half in aws-lc-rs.
pub(crate) struct CertSigner {
    spki_der: Vec<u8>,
    algorithm: AlgorithmIdentifierOwned,
    key: SigningKey,
}

enum SigningKey {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl CertSigner {
    /// An RSA key, from its PKCS#8 DER.
    pub fn rsa(pkcs8: &[u8]) -> Result<Self, Error> {
        let key = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| err("RSA key", &e))?;
        let spki = key.public_key().as_der();
        Self::new(
            spki,
            SHA256_WITH_RSA,
            Some(Any::from(Null)),
            SigningKey::Rsa(key),
        )
    }

    /// A P-256 key, from its PKCS#8 DER.
    pub fn p256(pkcs8: &[u8]) -> Result<Self, Error> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
            .map_err(|e| err("P-256 key", &e))?;
        let spki = key.public_key().as_der();
        Self::new(spki, ECDSA_WITH_SHA256, None, SigningKey::P256(key))
    }

    /// An Ed25519 key, from its PKCS#8 DER.
    pub fn ed25519(pkcs8: &[u8]) -> Result<Self, Error> {
        let key = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| err("Ed25519 key", &e))?;
        let spki = key.public_key().as_der();
        Self::new(spki, ED25519, None, SigningKey::Ed25519(key))
    }

    fn new(
        spki: Result<PublicKeyX509Der<'static>, Unspecified>,
        oid: ObjectIdentifier,
        parameters: Option<Any>,
        key: SigningKey,
    ) -> Result<Self, Error> {
        let spki = spki.map_err(|e| err("public key", &e))?;
        Ok(Self {
            spki_der: spki.as_ref().to_vec(),
            algorithm: AlgorithmIdentifierOwned { oid, parameters },
            key,
        })
    }

    /// The signature of `message`, as the certificate's `signatureValue` holds it.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |e: Unspecified| err("signature", &e);
        match &self.key {
            SigningKey::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            SigningKey::P256(key) => key
                .sign(&SystemRandom::new(), message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(failed),
            SigningKey::Ed25519(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }
}

/// The public half, as the builder asks for it.
#[derive(Clone)]
pub(crate) struct PublicHalf(Vec<u8>);

impl EncodePublicKey for PublicHalf {
    fn to_public_key_der(&self) -> x509_cert::spki::Result<Document> {
        Ok(Document::try_from(self.0.as_slice())?)
    }
}

impl signature::Keypair for CertSigner {
    type VerifyingKey = PublicHalf;

    fn verifying_key(&self) -> PublicHalf {
        PublicHalf(self.spki_der.clone())
    }
}

impl DynSignatureAlgorithmIdentifier for CertSigner {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.algorithm.clone())
    }
}

/// A self-signed certificate for `signer`'s key, DER-encoded. `seeded` selects fixed validity
/// dates.
///
/// The serial number is derived from the public key, so it is unique per key and deterministic.
pub(crate) fn self_signed(
    signer: &CertSigner,
    serial: [u8; 16],
    seeded: bool,
) -> Result<Vec<u8>, Error> {
    let validity = if seeded {
        Validity::new(
            Time::try_from(SystemTime::UNIX_EPOCH + SEEDED_NOT_BEFORE)
                .map_err(|e| err("time", &e))?,
            Time::INFINITY,
        )
    } else {
        Validity::from_now(LIFETIME).map_err(|e| err("time", &e))?
    };
    let spki = SubjectPublicKeyInfo::try_from(signer.spki_der.as_slice())
        .map_err(|e| err("public key", &e))?;
    // A positive, minimally encoded serial: high bit clear, first byte non-zero.
    let mut serial = serial;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    let serial = SerialNumber::new(&serial).map_err(|e| err("serial", &e))?;
    let profile = SelfSigned {
        subject: Name::from_str(SUBJECT).map_err(|e| err("name", &e))?,
    };
    let mut builder =
        CertificateBuilder::new(profile, serial, validity, spki).map_err(|e| err("builder", &e))?;
    let tbs = builder
        .finalize(signer)
        .map_err(|e| err("to be signed", &e))?;
    let signature = BitString::from_bytes(&signer.sign(&tbs)?).map_err(|e| err("signature", &e))?;
    let cert = builder
        .assemble(signature, signer)
        .map_err(|e| err("assembly", &e))?;
    cert.to_der().map_err(|e| err("encoding", &e))
}

/// A minimal end-entity profile: self-issued, not a CA, with a subject key identifier.
struct SelfSigned {
    subject: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut extensions = Vec::new();
        extensions.push(
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        extensions.push(ski.to_extension(tbs.subject(), &extensions)?);
        Ok(extensions)
    }
}
