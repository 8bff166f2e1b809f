//! Integration tests of the mock issuer: over real HTTP against an issuer on port 0 (in process
//! or the real binary), and the binary's offline commands.

mod admin_access;
mod authorize_http;
mod cli;
mod client;
mod code_grant;
mod console_api;
mod cors;
// File modes and umasks are Unix notions.
#[cfg(unix)]
mod data_dir;
mod discovery;
mod dpop_token;
mod faults;
mod helpers;
mod jwks;
mod keys;
mod log_lines;
mod refresh_grant;
mod served;
mod signing_algs;
mod tenant_file;
mod token_endpoint;
mod tokens;
mod user_login;
mod user_tokens;
mod verification;
mod wire;
