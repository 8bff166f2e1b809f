//! The conformance suite run in-process against this project's api, plus the suite's own
//! tests: properties, issuer faults, and proof that it catches broken servers.

mod broken_servers;
mod catalogue;
mod faults;
mod helpers;
mod issuers;
mod metadata;
mod properties;
mod target_mode;
