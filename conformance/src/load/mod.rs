//! Load tools: programs that put steady or maximal traffic on a running api and report what
//! it did under it. They are black-box clients like the rest of this crate; `cargo xtask soak`
//! and `cargo xtask bench` build and start the servers, then hand over to these.
//!
//! - [`soak`]: bounded load while a fault script cycles the mock issuer; per-phase checks.
//! - [`wrk`]: one `wrk` scenario (method, path, token source, expected status) and its figures.
//! - [`proc`]: a server process's memory and CPU time, from Linux's `/proc`.

pub mod proc;
pub mod soak;
pub mod wrk;
