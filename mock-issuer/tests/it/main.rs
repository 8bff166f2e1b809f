//! Integration tests of the mock issuer, all over real HTTP against an issuer on port 0.

mod cli;
mod client;
mod discovery;
mod faults;
mod helpers;
mod jwks;
mod keys;
mod token_endpoint;
mod tokens;
mod verification;
mod wire;
