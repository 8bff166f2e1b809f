//! Integration tests of the api crate: one binary, a module per area, every server real and
//! on a port of the OS's choosing.

mod algorithms;
mod authorize;
mod config;
mod connection_slots;
mod discovery;
mod dpop;
mod dpop_nonce;
mod dpop_proof;
mod dpop_replicas;
mod fixed_keys;
mod helpers;
mod host_header;
mod hostile_http;
mod issuers;
mod jwks;
mod observability;
mod properties;
mod raw_http;
mod refusal_cost;
mod resource_metadata;
mod routes;
mod server_limits;
mod static_keys;
mod tls;
mod token_cache;
mod token_location;
mod tokens;
mod wycheproof;
