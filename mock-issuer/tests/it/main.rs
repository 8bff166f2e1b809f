//! Integration tests of the mock issuer: over real HTTP against an issuer on port 0 (in process
//! or the real binary), and the binary's offline commands.

mod admin_access;
mod cli;
mod client;
// File modes and umasks are Unix notions.
#[cfg(unix)]
mod data_dir;
mod discovery;
mod faults;
mod helpers;
mod jwks;
mod keys;
mod log_lines;
mod served;
mod token_endpoint;
mod tokens;
mod verification;
mod wire;
