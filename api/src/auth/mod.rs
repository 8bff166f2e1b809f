//! The authentication core: a resource server for OAuth 2.0 access tokens signed by an
//! issuer's JWKS (Auth0 or any RFC 9068 issuer), usable by any axum app.
//!
//! - [`Authenticator`] verifies tokens: discovery, JWKS cache, signature, claims, and a cache
//!   of verified tokens.
//! - [`require_auth`] / [`optional_auth`] are middleware; [`Claims`] is the extractor.
//! - [`Requirement`] with [`authorize`](authorize()) checks scopes, permissions and claims.
//! - [`AuthError`] is every refusal, answered as RFC 6750 and the Express reference do;
//!   [`Refusal`] adds the challenges of RFC 9449 §7.2.
//! - DPoP (RFC 9449), on by default ([`DpopOptions`]): [`dpop`] checks proofs,
//!   [`dpop_replay`] remembers the ones used.
//! - [`public_key_set`] / [`secret_key_set`]: the [`KeySet`] of a configured public key or
//!   shared secret, for an api with no issuer to ask.
//! - [`ResourceMetadata`]: the RFC 9728 document that names the issuer, the scopes and the
//!   token methods, and its router ([`resource_metadata`]).

mod algorithm;
mod authenticator;
mod authorize;
mod challenge;
mod claims;
mod discovery;
pub mod dpop;
mod dpop_binding;
pub mod dpop_replay;
mod error;
mod fetch;
pub mod issuers;
mod jose;
mod jwks;
mod key_store;
mod middleware;
mod options;
mod public_key;
mod request_url;
pub mod resource_metadata;
mod static_key;
mod stats;
mod token_cache;
mod token_source;

pub use algorithm::{Algorithm, Curve, KeyType};
pub use authenticator::{Authenticator, verify_jws};
pub use authorize::Requirement;
pub use challenge::{Challenges, Offered, REALM, Scheme};
pub use claims::{Claims, validate_payload};
pub use discovery::{
    DiscoveryError, Metadata, MetadataError, is_acceptable_url as is_acceptable_issuer_url,
    metadata_urls, parse_metadata,
};
pub use dpop_binding::NextDpopNonce;
pub use dpop_replay::ReplayStore;
pub use error::{AuthError, DPOP_NONCE, Refusal};
pub use fetch::FetchError;
pub use issuers::{IssuerRequest, IssuerResolver};
pub use jwks::{JwksError, KeySet, MAX_KEYS, Selection, VerificationKey};
pub use middleware::{authorize, optional_auth, require_auth};
pub use options::{
    AuthOptions, DpopOptions, JwksPolicy, OptionsError, TOKEN_CACHE_UNIT_BYTES, TokenCachePolicy,
};
pub use public_key::{MAX_MODULUS_BITS, MIN_MODULUS_BITS};
pub use resource_metadata::{ResourceMetadata, ResourceMetadataOptions};
pub use static_key::{StaticKeyError, public_key_set, secret_key_set};
pub use stats::TokenCacheStats;
