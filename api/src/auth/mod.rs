//! The authentication core: a resource server for OAuth 2.0 access tokens signed by an
//! issuer's JWKS (Auth0 or any RFC 9068 issuer), usable by any axum app.
//!
//! - [`Authenticator`] verifies tokens: discovery, JWKS cache, signature, claims, and a cache
//!   of verified tokens.
//! - [`require_auth`] / [`optional_auth`] are middleware; [`Claims`] is the extractor.
//! - [`Requirement`] with [`authorize`](authorize()) checks scopes, permissions and claims.
//! - [`AuthError`] is every refusal, answered as RFC 6750 and the Express reference do.

mod algorithm;
mod authenticator;
mod authorize;
mod claims;
mod discovery;
mod dpop;
mod dpop_replay;
mod error;
mod fetch;
mod jose;
mod jwks;
mod key_store;
mod middleware;
mod options;
mod stats;
mod token_cache;
mod token_source;

pub use algorithm::Algorithm;
pub use authenticator::{Authenticator, verify_jws};
pub use authorize::Requirement;
pub use claims::{Claims, validate_payload};
pub use discovery::{
    DiscoveryError, Metadata, MetadataError, is_acceptable_url as is_acceptable_issuer_url,
    metadata_urls, parse_metadata,
};
pub use error::{AuthError, REALM};
pub use fetch::FetchError;
pub use jwks::{
    JwksError, KeySet, MAX_KEYS, MAX_MODULUS_BITS, MIN_MODULUS_BITS, Selection, VerificationKey,
};
pub use middleware::{authorize, optional_auth, require_auth};
pub use options::{
    AuthOptions, JwksPolicy, OptionsError, TOKEN_CACHE_UNIT_BYTES, TokenCachePolicy,
};
pub use stats::TokenCacheStats;
