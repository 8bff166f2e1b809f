//! The client's side of DPoP (RFC 9449): a P-256 key, its public JWK and RFC 7638 thumbprint,
//! and the ES256 proofs a client sends in the `DPoP` header, to the token endpoint or with the
//! access token to an API. `mock-issuer proof` and `mock-issuer dpop-key` are built on it.
//!
//! ```
//! # fn demo() -> Result<(), mock_issuer::Error> {
//! use mock_issuer::oauth::dpop::DpopKey;
//!
//! let key = DpopKey::generate()?;
//! let proof = key.proof("POST", "http://127.0.0.1:4000/oauth/token", None)?;
//! // The token the issuer answers is bound to `key.thumbprint()` (its `cnf.jkt`).
//! # let _ = proof; Ok(()) }
//! ```

use std::fmt;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::jwk::PublicJwk;
use crate::login::random_handle;
use crate::token::unix_now;
use crate::{Error, owner_only, pem};

/// The `typ` of every DPoP proof.
pub const PROOF_TYPE: &str = "dpop+jwt";

/// An EC P-256 key that signs DPoP proofs with ES256 (what auth0-spa-js uses). Its `Debug` form
/// shows the thumbprint only: the private key never reaches a log.
pub struct DpopKey {
    key_pair: EcdsaKeyPair,
    /// The private key as PKCS#8 DER, for writing it back out.
    pkcs8: Vec<u8>,
    /// `{"kty":"EC","crv":"P-256","x":…,"y":…}`: public members only.
    jwk: Value,
    /// RFC 7638 SHA-256 thumbprint of `jwk`, base64url: what a bound token's `cnf.jkt` holds.
    thumbprint: String,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new random key.
    ///
    /// # Errors
    /// [`Error::Key`] if the crypto backend cannot generate one.
    pub fn generate() -> Result<Self, Error> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| Error::Key("generating a P-256 key failed".to_owned()))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// The key in `der`, an unencrypted PKCS#8 P-256 private key.
    ///
    /// # Errors
    /// [`Error::Key`] if it is not one.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, Error> {
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|e| Error::Key(format!("not a PKCS#8 P-256 private key: {e}")))?;
        let public = PublicJwk::p256(key_pair.public_key().as_ref())
            .ok_or_else(|| Error::Key("the P-256 public point is not uncompressed".to_owned()))?;
        Ok(Self {
            key_pair,
            pkcs8: der.to_vec(),
            jwk: Value::Object(public.to_json()),
            thumbprint: URL_SAFE_NO_PAD.encode(public.thumbprint()),
        })
    }

    /// The key in a PEM `PRIVATE KEY` block (PKCS#8, as `openssl genpkey` and
    /// [`DpopKey::private_key_pem`] write it).
    ///
    /// # Errors
    /// [`Error::Key`] if `pem` holds no such block or it is not a P-256 key.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        Self::from_pkcs8(&pem::decode_private_key(pem)?)
    }

    /// The private key as a PEM `PRIVATE KEY` block (PKCS#8). It is a secret: write it only to
    /// a file only its owner can read, as [`DpopKey::create_file`] does.
    pub fn private_key_pem(&self) -> String {
        pem::encode_private_key(&self.pkcs8)
    }

    /// Generates a key and writes it to the new file `path` (PEM, mode 0600).
    ///
    /// # Errors
    /// [`Error::Key`] if `path` exists (a key a token may be bound to is never replaced) or
    /// generation fails; [`Error::Io`] if it cannot be written.
    pub fn create_file(path: &Path) -> Result<Self, Error> {
        if path.symlink_metadata().is_ok() {
            return Err(Error::Key(format!(
                "{} already exists; delete it first to make a new key",
                path.display()
            )));
        }
        let key = Self::generate()?;
        owner_only::write_file(path, key.private_key_pem().as_bytes())?;
        Ok(key)
    }

    /// Reads the key in the PEM file `path`, which only its owner may read.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, [`Error::Exposed`] if others can read it,
    /// [`Error::Key`] if it holds no P-256 private key.
    pub fn load_file(path: &Path) -> Result<Self, Error> {
        owner_only::check_file(path).map_err(|e| match e {
            // That check's words are for the key ring; say what this file is.
            Error::Exposed { path, .. } => Error::Exposed {
                reason: format!(
                    "other users can read this DPoP private key and prove possession with it; \
                     run `chmod 600 {}`",
                    path.display()
                ),
                path,
            },
            other => other,
        })?;
        let pem = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_pem(&pem)
    }

    /// The public key as a JWK: `kty`, `crv`, `x`, `y`.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key, base64url: the `cnf.jkt` of the
    /// tokens bound to this key.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A fresh proof for a `method` request to `url`: a random `jti`, `iat` now, `htu` = `url`
    /// without its query and fragment, and `ath` when the request carries `access_token`.
    ///
    /// # Errors
    /// [`Error::Key`] if `url` is not an absolute `http(s)` URL, or signing fails.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, Error> {
        self.proof_with_nonce(method, url, access_token, None)
    }

    /// As [`DpopKey::proof`], with `nonce` as the `nonce` claim when given: the value a server
    /// handed out in its `DPoP-Nonce` header (RFC 9449 §8, §9).
    ///
    /// # Errors
    /// As [`DpopKey::proof`].
    pub fn proof_with_nonce(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, Error> {
        let htu = htu(url).ok_or_else(|| Error::Key(format!("not an http(s) URL: {url}")))?;
        let mut claims = json!({
            "jti": random_handle(),
            "htm": method,
            "htu": htu,
            "iat": unix_now(),
        });
        if let Some(token) = access_token {
            claims["ath"] = access_token_hash(token).into();
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        self.sign_claims(&claims)
    }

    /// Signs `claims` exactly as given under this key's header (`typ` `dpop+jwt`, `alg` ES256,
    /// `jwk`): for proofs a test wants wrong in one claim.
    ///
    /// # Errors
    /// [`Error::Key`] if signing fails.
    pub fn sign_claims(&self, claims: &Value) -> Result<String, Error> {
        let header = json!({ "typ": PROOF_TYPE, "alg": "ES256", "jwk": self.jwk });
        self.sign_raw(&header, claims)
    }

    /// Signs `header` and `claims` exactly as given, ES256 with this key, whatever the header
    /// says: for proofs a test wants wrong in their header.
    ///
    /// # Errors
    /// [`Error::Key`] if signing fails.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> Result<String, Error> {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key_pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .map_err(|_| Error::Key("signing a DPoP proof failed".to_owned()))?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// `ath`: base64url(SHA-256(the access token)), as a proof sent with that token carries it.
pub fn access_token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// `url` as a proof's `htu` is compared: an absolute `http` or `https` URL without query and
/// fragment, normalised as RFC 3986 §6.2.2 says (scheme and host lowercase, the default port
/// dropped, dot segments resolved, percent-encoded unreserved characters decoded and other
/// escapes in uppercase). `None` for anything else.
pub fn htu(url: &str) -> Option<String> {
    let mut url = url::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(normalise_escapes(url.as_str()))
}

/// Decodes `%XX` escapes of unreserved characters and writes the others in uppercase
/// (RFC 3986 §6.2.2.1 and §6.2.2.2).
fn normalise_escapes(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = String::with_capacity(url.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| url.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) => {
                out.push(char::from(byte));
                i += 3;
            }
            Some(byte) => {
                out.push_str(&format!("%{byte:02X}"));
                i += 3;
            }
            None => {
                // Not an escape: copy the whole character (the URL crate leaves only ASCII, but
                // stay correct whatever it gives).
                let c = url[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8().max(1);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_query_and_fragment_and_normalises() {
        assert_eq!(
            htu("HTTP://LocalHost:80/a/%7euser/../b%2fc?x=1#frag").as_deref(),
            Some("http://localhost/a/b%2Fc")
        );
        assert_eq!(
            htu("https://api.example.com:443/api/private").as_deref(),
            Some("https://api.example.com/api/private")
        );
        assert_eq!(
            htu("http://127.0.0.1:4000/oauth/token").as_deref(),
            Some("http://127.0.0.1:4000/oauth/token")
        );
        assert_eq!(htu("/oauth/token"), None);
        assert_eq!(htu("ftp://example.com/x"), None);
    }

    #[test]
    fn a_key_survives_pem_and_keeps_its_thumbprint() {
        let key = DpopKey::generate().unwrap();
        let again = DpopKey::from_pem(&key.private_key_pem()).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
        assert_eq!(again.public_jwk(), key.public_jwk());
        assert_ne!(DpopKey::generate().unwrap().thumbprint(), key.thumbprint());
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_thumbprint_is_a_base64url_sha256_and_the_jwk_is_public() {
        let key = DpopKey::generate().unwrap();
        assert_eq!(key.thumbprint().len(), 43);
        assert!(key.public_jwk().get("d").is_none());
    }

    #[test]
    fn ath_is_the_base64url_sha256_of_the_token() {
        // SHA-256("abc"), a FIPS 180-2 test vector.
        assert_eq!(
            access_token_hash("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
