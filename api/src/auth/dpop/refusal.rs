//! Why a DPoP proof was refused: one variant per rule of RFC 9449 §4.3, each with a fixed
//! description that never echoes the proof's content (no claim values, no key material).

/// A refused DPoP proof. The api answers every one as `invalid_dpop_proof`; the description is
/// the `error_description` a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    /// Longer than [`MAX_PROOF_BYTES`](super::MAX_PROOF_BYTES).
    TooLarge,
    /// Not three segments of canonical base64url (unpadded) with a non-empty signature.
    Malformed,
    /// The protected header is not one strict JSON object (duplicate members, too deep, too
    /// many values, not UTF-8…): the strict parser's fixed description of why.
    Header(&'static str),
    /// The payload is not one strict JSON object: the strict parser's fixed description.
    Payload(&'static str),
    /// `typ` is missing or not exactly `dpop+jwt` (RFC 9449 §4.2).
    Type,
    /// `alg` is missing, `none`, symmetric, or not in [`ALGORITHMS`](super::ALGORITHMS).
    Algorithm,
    /// The header has `crit`: no extension is understood here (RFC 7515 §4.1.11).
    CriticalHeader,
    /// The header has `b64`, `enc` or `zip`, which change how a JWS is read.
    UnsupportedHeader,
    /// The header names a key by reference (`jku`, `x5u`, `x5c`): the key must be the `jwk`.
    KeyByReference,
    /// The header has no `jwk` object.
    MissingJwk,
    /// `jwk` is not a usable public key: unknown `kty` or curve, a required member missing or
    /// not canonical base64url, a point off its curve, an RSA exponent aws-lc refuses.
    InvalidJwk,
    /// `jwk` carries private key material (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth` or `k`).
    PrivateKey,
    /// The key's type or curve is not the one `alg` needs (ES256 needs P-256, EdDSA Ed25519…).
    KeyMismatch,
    /// An RSA key whose modulus is outside 2048..=8192 bits, as for tokens.
    RsaKeySize,
    /// The signature does not verify with the `jwk`.
    Signature,
    /// `jti` is missing, not a string, empty, or longer than
    /// [`MAX_JTI_BYTES`](super::MAX_JTI_BYTES).
    Jti,
    /// `htm` is missing, not a string, or not the request's method.
    Htm,
    /// `htu` is missing or not a string, or names another URL than the request's.
    Htu,
    /// A URL that cannot be normalised: not an absolute `http`/`https` URL, a bad
    /// percent-encoding, a malformed host or port.
    InvalidHtu,
    /// `iat` is missing or not a number.
    Iat,
    /// `iat` is older than the offset allows or further in the future than the leeway.
    IatOutsideWindow,
    /// `ath` is missing, not a string, or not base64url(SHA-256(access token)).
    Ath,
    /// The api hands out nonces and the proof has no `nonce` string: answered
    /// `use_dpop_nonce` with the current nonce (RFC 9449 §9), not `invalid_dpop_proof`.
    NonceMissing,
    /// The proof's `nonce` is not one the api handed out, or its window has closed: answered
    /// `use_dpop_nonce` with the current nonce.
    NonceInvalid,
}

impl ProofError {
    /// Whether the refusal asks for the server's nonce (`use_dpop_nonce`) rather than
    /// rejecting the proof (`invalid_dpop_proof`).
    pub fn wants_nonce(self) -> bool {
        matches!(self, ProofError::NonceMissing | ProofError::NonceInvalid)
    }

    /// The fixed description, as a `'static` string for the challenge and the body.
    pub fn description(self) -> &'static str {
        match self {
            ProofError::Header(description) | ProofError::Payload(description) => description,
            ProofError::TooLarge => "DPoP proof is too large",
            ProofError::Malformed => "DPoP proof is not a compact JWS",
            ProofError::Type => "DPoP proof 'typ' must be 'dpop+jwt'",
            ProofError::Algorithm => "DPoP proof 'alg' is not an accepted asymmetric algorithm",
            ProofError::CriticalHeader => "DPoP proof header has an unsupported 'crit' parameter",
            ProofError::UnsupportedHeader => "DPoP proof header has an unsupported parameter",
            ProofError::KeyByReference => "DPoP proof key must be given as 'jwk' only",
            ProofError::MissingJwk => "DPoP proof header has no 'jwk'",
            ProofError::InvalidJwk => "DPoP proof 'jwk' is not a valid public key",
            ProofError::PrivateKey => "DPoP proof 'jwk' must not contain a private key",
            ProofError::KeyMismatch => "DPoP proof 'jwk' does not match its 'alg'",
            ProofError::RsaKeySize => "DPoP proof RSA key must have 2048 to 8192 bits",
            ProofError::Signature => "DPoP proof signature is invalid",
            ProofError::Jti => "DPoP proof 'jti' is missing or invalid",
            ProofError::Htm => "DPoP proof 'htm' does not match the request method",
            ProofError::Htu => "DPoP proof 'htu' does not match the request URL",
            ProofError::InvalidHtu => "DPoP proof 'htu' is not a valid http(s) URL",
            ProofError::Iat => "DPoP proof 'iat' is missing or not a number",
            ProofError::IatOutsideWindow => "DPoP proof 'iat' is outside the acceptable window",
            ProofError::Ath => "DPoP proof 'ath' does not match the access token",
            // RFC 9449 §9's wording.
            ProofError::NonceMissing => "Resource server requires nonce in DPoP proof",
            ProofError::NonceInvalid => {
                "DPoP proof 'nonce' is not current; use the DPoP-Nonce given"
            }
        }
    }
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for ProofError {}
