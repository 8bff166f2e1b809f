//! Self-signed X.509 certificates for the JWKS `x5c`/`x5t` members, as Auth0 publishes.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use rsa::PrivateKey;
use rsa::pkcs1v15::SigningKey;
use sha2::Sha256;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::Encode;
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
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

/// A self-signed certificate for `key`, DER-encoded. `seeded` selects fixed validity dates.
///
/// The serial number is derived from the public key, so it is unique per key and deterministic.
pub(crate) fn self_signed(
    key: &PrivateKey,
    serial: [u8; 16],
    seeded: bool,
) -> Result<Vec<u8>, Error> {
    let err =
        |what: &str, e: &dyn std::fmt::Display| Error::Key(format!("certificate {what}: {e}"));
    let validity = if seeded {
        Validity::new(
            Time::try_from(SystemTime::UNIX_EPOCH + SEEDED_NOT_BEFORE)
                .map_err(|e| err("time", &e))?,
            Time::INFINITY,
        )
    } else {
        Validity::from_now(LIFETIME).map_err(|e| err("time", &e))?
    };
    let signer = SigningKey::<Sha256>::new(key.clone());
    let spki_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| err("public key", &e))?;
    let spki =
        SubjectPublicKeyInfo::try_from(spki_der.as_bytes()).map_err(|e| err("public key", &e))?;
    // A positive, minimally encoded serial: high bit clear, first byte non-zero.
    let mut serial = serial;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    let serial = SerialNumber::new(&serial).map_err(|e| err("serial", &e))?;
    let profile = SelfSigned {
        subject: Name::from_str(SUBJECT).map_err(|e| err("name", &e))?,
    };
    let builder =
        CertificateBuilder::new(profile, serial, validity, spki).map_err(|e| err("builder", &e))?;
    let cert = builder
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .map_err(|e| err("signature", &e))?;
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
