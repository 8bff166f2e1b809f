//! The proof's protected header (RFC 9449 §4.2): `typ`, `alg` and the embedded `jwk`, read with
//! the api's strict JSON rules.

use serde_json::{Map, Value};

use super::ProofError;
use super::algorithm::ProofAlgorithm;
use crate::auth::jose::HEADER_LIMITS;
use crate::auth::jose::json::{self, Captured, Document, JsonError, Members};

/// The `typ` RFC 9449 §4.2 requires, compared exactly.
const PROOF_TYPE: &str = "dpop+jwt";

/// Header members that are refused, each with its reason: `crit` names extensions we do not
/// implement; `b64`, `enc` and `zip` change how the JWS is read; `jku`, `x5u` and `x5c` name a
/// key other than the `jwk`, which is the only key a proof may be checked with.
const REFUSED_MEMBERS: [(&str, ProofError); 7] = [
    ("crit", ProofError::CriticalHeader),
    ("b64", ProofError::UnsupportedHeader),
    ("enc", ProofError::UnsupportedHeader),
    ("zip", ProofError::UnsupportedHeader),
    ("jku", ProofError::KeyByReference),
    ("x5u", ProofError::KeyByReference),
    ("x5c", ProofError::KeyByReference),
];

/// A checked header: the algorithm and the still unparsed key.
#[derive(Debug)]
pub(super) struct ProofHeader {
    pub alg: ProofAlgorithm,
    /// The `jwk` object's members.
    pub jwk: Map<String, Value>,
}

/// Reads the decoded header. The strict scan runs first (duplicate members at any depth,
/// nesting, member and value limits); only then is the header, at most a few KiB, read into a
/// map for its `jwk` object.
pub(super) fn parse_header(bytes: &[u8]) -> Result<ProofHeader, ProofError> {
    json::scan_object(bytes, HEADER_LIMITS, Unread).map_err(header_fault)?;
    let mut header: Map<String, Value> =
        serde_json::from_slice(bytes).map_err(|_| header_fault(JsonError::Syntax))?;
    if let Some((_, refusal)) = REFUSED_MEMBERS
        .iter()
        .find(|(member, _)| header.contains_key(*member))
    {
        return Err(*refusal);
    }
    if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYPE) {
        return Err(ProofError::Type);
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(ProofAlgorithm::from_name)
        .ok_or(ProofError::Algorithm)?;
    match header.remove("jwk") {
        Some(Value::Object(jwk)) => Ok(ProofHeader { alg, jwk }),
        Some(_) => Err(ProofError::InvalidJwk),
        None => Err(ProofError::MissingJwk),
    }
}

/// The refusal of a header the strict scan refused. A header that is not a JSON object at all
/// gets words of its own; the token parser's ("Invalid Token…") would name the wrong thing.
fn header_fault(fault: JsonError) -> ProofError {
    ProofError::Header(match fault {
        JsonError::NotUtf8 | JsonError::Syntax | JsonError::NotAnObject => {
            "DPoP proof header is not a JSON object"
        }
        other => other.description(Document::ProtectedHeader),
    })
}

/// Keeps nothing: the scan only checks the header.
struct Unread;

impl<'de> Members<'de> for Unread {
    fn slot(&mut self, _name: &str) -> Option<&mut Option<Captured<'de>>> {
        None
    }
}
