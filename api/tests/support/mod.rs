//! Test support shared by the integration tests (through `tests/it/helpers.rs`) and the
//! benchmarks (`benches/verify.rs`): the committed RSA test keys, fresh EC and Ed25519 keys,
//! Auth0-style claims and a scriptable issuer. Both include this directory by `#[path]`, so it is neither a crate of its
//! own nor part of the api library: no test key ever ships.

pub mod claims;
pub mod issuer;
pub mod keys;
pub mod signing_keys;
