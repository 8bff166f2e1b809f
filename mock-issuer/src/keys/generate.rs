//! New private keys of each type, as PKCS#8 DER: from the OS's randomness (aws-lc-rs), or as a
//! pure function of a seed and an index, so a seeded tenant's keys are the same on every run.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair,
};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rsa::pkcs8::EncodePrivateKey as _;
use sha2::{Digest as _, Sha256};

use super::KeyAlg;
use crate::Error;

/// RSA modulus size, Auth0's.
const RSA_BITS: usize = 2048;

/// The DER of an RFC 5915 `ECPrivateKey` on P-256 without its public key, up to the private
/// scalar (`SEQUENCE { version 1, OCTET STRING (32 bytes) ...`), and after it (`[0] prime256v1`).
const P256_SCALAR_PREFIX: [u8; 7] = [0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
const P256_SCALAR_SUFFIX: [u8; 12] = [
    0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
];

fn failed(alg: KeyAlg) -> impl Fn(&dyn std::fmt::Display) -> Error {
    move |e| Error::Key(format!("{} key generation: {e}", alg.signing_alg()))
}

/// A fresh key for `alg`'s ring from the OS's randomness.
pub(super) fn random(alg: KeyAlg) -> Result<Vec<u8>, Error> {
    let failed = failed(alg);
    let document = match alg {
        KeyAlg::Rs256 | KeyAlg::Ps256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|key| key.as_der())
            .map(|der| der.as_ref().to_vec()),
        KeyAlg::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|key| key.to_pkcs8v1())
            .map(|der| der.as_ref().to_vec()),
        KeyAlg::EdDsa => Ed25519KeyPair::generate()
            .and_then(|key| key.to_pkcs8())
            .map(|der| der.as_ref().to_vec()),
    };
    document.map_err(|e| failed(&e))
}

/// The `index`-th key of `seed`'s sequence for `alg`'s ring: the same triple always gives the
/// same key, and each ring's sequence is its own.
pub(super) fn seeded(alg: KeyAlg, seed: u64, index: u64) -> Result<Vec<u8>, Error> {
    let failed = failed(alg);
    let digest = |attempt: Option<u64>| -> [u8; 32] {
        let mut hash = Sha256::new()
            .chain_update(alg.seed_label())
            .chain_update(seed.to_be_bytes())
            .chain_update(index.to_be_bytes());
        if let Some(attempt) = attempt {
            hash.update(attempt.to_be_bytes());
        }
        hash.finalize().into()
    };
    match alg {
        KeyAlg::Rs256 | KeyAlg::Ps256 => {
            let mut rng = StdRng::from_seed(digest(None));
            let private = rsa::PrivateKey::new(&mut rng, RSA_BITS).map_err(|e| failed(&e))?;
            let der = private.to_pkcs8_der().map_err(|e| failed(&e))?;
            Ok(der.as_bytes().to_vec())
        }
        KeyAlg::Es256 => {
            // A digest is a valid scalar unless it is zero or not below the group order, which
            // happens about once in 2^32 digests: then the next attempt's digest is taken.
            let mut last_error = None;
            for attempt in 0..8 {
                let der = [
                    &P256_SCALAR_PREFIX[..],
                    &digest(Some(attempt)),
                    &P256_SCALAR_SUFFIX,
                ]
                .concat();
                match EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
                    Ok(key) => {
                        let pkcs8 = key.to_pkcs8v1().map_err(|e| failed(&e))?;
                        return Ok(pkcs8.as_ref().to_vec());
                    }
                    Err(e) => last_error = Some(e),
                }
            }
            Err(failed(
                &last_error.map_or_else(String::new, |e| e.to_string()),
            ))
        }
        KeyAlg::EdDsa => Ed25519KeyPair::from_seed_unchecked(&digest(None))
            .map_err(|e| failed(&e))?
            .to_pkcs8()
            .map(|der| der.as_ref().to_vec())
            .map_err(|e| failed(&e)),
    }
}
