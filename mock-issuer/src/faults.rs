//! Fault injection and request counting, so tests can play a failing or slow tenant and count
//! how often a verifier fetched each document.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A served endpoint, for faults and request counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `GET /.well-known/openid-configuration`.
    OpenidConfiguration,
    /// `GET /.well-known/oauth-authorization-server` (RFC 8414).
    OauthAuthorizationServer,
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `POST /oauth/token`.
    Token,
}

impl Endpoint {
    /// Every endpoint, in a fixed order.
    pub const ALL: [Self; 4] = [
        Self::OpenidConfiguration,
        Self::OauthAuthorizationServer,
        Self::Jwks,
        Self::Token,
    ];

    /// The endpoint's name on the wire and in admin paths (`PUT /_mock/faults/{name}`):
    /// `openid_configuration`, `oauth_authorization_server`, `jwks` or `token`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OpenidConfiguration => "openid_configuration",
            Self::OauthAuthorizationServer => "oauth_authorization_server",
            Self::Jwks => "jwks",
            Self::Token => "token",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Endpoint {
    /// The wire name, as [`Endpoint::as_str`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Endpoint {
    type Err = UnknownEndpoint;

    /// Parses a wire name (see [`Endpoint::as_str`]), exactly: no other spelling is accepted.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|endpoint| endpoint.as_str() == name)
            .ok_or_else(|| UnknownEndpoint(name.to_owned()))
    }
}

/// A name that is not an [`Endpoint`]'s wire name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown endpoint `{0}`")]
pub struct UnknownEndpoint(pub String);

/// A way for an endpoint to misbehave. Several faults of different kinds combine on one
/// endpoint (e.g. latency and a status); setting a fault replaces one of the same kind.
///
/// On the wire (the admin surface's `PUT /_mock/faults/{endpoint}` body and answers) a fault is
/// an object tagged by `type`: `{"type":"latency","ms":2000}`, `{"type":"status","code":503}`,
/// `{"type":"malformed_body"}`, `{"type":"empty_key_set"}`; unknown members are refused. A
/// latency travels in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "FaultWire", from = "FaultWire")]
pub enum Fault {
    /// Answer only after this delay.
    Latency(Duration),
    /// Answer this status (100 to 999) with a small JSON error body.
    Status(u16),
    /// Answer `200` with a body that is not JSON.
    MalformedBody,
    /// JWKS only: answer `{"keys":[]}`.
    EmptyKeySet,
}

/// [`Fault`]'s wire form: the Rust shape keeps a `Duration`, the wire counts milliseconds.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum FaultWire {
    Latency { ms: u64 },
    Status { code: u16 },
    MalformedBody,
    EmptyKeySet,
}

impl From<FaultWire> for Fault {
    fn from(wire: FaultWire) -> Self {
        match wire {
            FaultWire::Latency { ms } => Self::Latency(Duration::from_millis(ms)),
            FaultWire::Status { code } => Self::Status(code),
            FaultWire::MalformedBody => Self::MalformedBody,
            FaultWire::EmptyKeySet => Self::EmptyKeySet,
        }
    }
}

impl From<Fault> for FaultWire {
    fn from(fault: Fault) -> Self {
        match fault {
            // Sub-millisecond parts are dropped; a delay beyond u64 milliseconds saturates.
            Fault::Latency(delay) => Self::Latency {
                ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            },
            Fault::Status(code) => Self::Status { code },
            Fault::MalformedBody => Self::MalformedBody,
            Fault::EmptyKeySet => Self::EmptyKeySet,
        }
    }
}

impl Fault {
    fn same_kind(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// The faults set on each endpoint and how many requests each has received.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    set: Mutex<[Vec<Fault>; 4]>,
    counts: [AtomicU64; 4],
}

impl Faults {
    /// Adds `fault` to `endpoint`, replacing a fault of the same kind.
    pub fn set(&self, endpoint: Endpoint, fault: Fault) -> Result<(), Error> {
        let applies = match fault {
            Fault::EmptyKeySet => endpoint == Endpoint::Jwks,
            Fault::Status(code) => (100..=999).contains(&code),
            Fault::Latency(_) | Fault::MalformedBody => true,
        };
        if !applies {
            return Err(Error::UnsupportedFault { endpoint, fault });
        }
        let mut set = self.lock();
        let faults = &mut set[endpoint.index()];
        faults.retain(|f| !f.same_kind(&fault));
        faults.push(fault);
        Ok(())
    }

    /// Removes every fault from every endpoint.
    pub fn clear(&self) {
        *self.lock() = Default::default();
    }

    /// Sets every request count back to zero.
    pub fn reset_counts(&self) {
        for count in &self.counts {
            count.store(0, Ordering::Relaxed);
        }
    }

    /// Counts a request to `endpoint` and returns the faults to apply to it.
    pub fn on_request(&self, endpoint: Endpoint) -> Vec<Fault> {
        self.counts[endpoint.index()].fetch_add(1, Ordering::Relaxed);
        self.lock()[endpoint.index()].clone()
    }

    /// Requests received by `endpoint` since start or the last reset, faulted ones included.
    pub fn count(&self, endpoint: Endpoint) -> u64 {
        self.counts[endpoint.index()].load(Ordering::Relaxed)
    }

    /// The faults currently set on `endpoint`.
    pub fn get(&self, endpoint: Endpoint) -> Vec<Fault> {
        self.lock()[endpoint.index()].clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [Vec<Fault>; 4]> {
        // A panic while holding this lock cannot leave the table half-written: every update
        // is a single assignment or retain/push, so the data is still consistent.
        self.set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
