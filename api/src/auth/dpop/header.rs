//! The proof's protected header (RFC 9449 §4.2): `typ`, `alg` and the embedded `jwk`, read with
//! the api's strict JSON rules.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ProofError;
use super::jwk::JwkMembers;
use crate::auth::algorithm::Algorithm;
use crate::auth::jose::HEADER_LIMITS;
use crate::auth::jose::json::{self, Captured, Document, JsonError, Members};

/// The `typ` RFC 9449 §4.2 requires, compared exactly.
const PROOF_TYPE: &str = "dpop+jwt";

/// Header members that are refused, each with its reason: `crit` names extensions we do not
/// implement; `b64`, `enc` and `zip` change how the JWS is read; `jku`, `x5u` and `x5c` name a
/// key other than the `jwk`, which is the only key a proof may be checked with. When several
/// are present, the first here is the refusal.
const REFUSED_MEMBERS: [(HeaderField, ProofError); 7] = [
    (HeaderField::Crit, ProofError::CriticalHeader),
    (HeaderField::B64, ProofError::UnsupportedHeader),
    (HeaderField::Enc, ProofError::UnsupportedHeader),
    (HeaderField::Zip, ProofError::UnsupportedHeader),
    (HeaderField::Jku, ProofError::KeyByReference),
    (HeaderField::X5u, ProofError::KeyByReference),
    (HeaderField::X5c, ProofError::KeyByReference),
];

/// The header members read, by name; every other member is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum HeaderField {
    Typ,
    Alg,
    Jwk,
    Crit,
    B64,
    Enc,
    Zip,
    Jku,
    X5u,
    X5c,
    #[serde(other)]
    Other,
}

/// A checked header: the algorithm and the still unparsed key.
#[derive(Debug)]
pub(super) struct ProofHeader<'a> {
    pub alg: Algorithm,
    /// The `jwk` object's members.
    pub jwk: JwkMembers<'a>,
}

/// Reads the decoded header. The strict scan runs first (duplicate members at any depth,
/// nesting, member and value limits); only then is the header, at most a few KiB, read again
/// for the members used, building no tree.
pub(super) fn parse_header(bytes: &[u8]) -> Result<ProofHeader<'_>, ProofError> {
    json::scan_object(bytes, HEADER_LIMITS, Unread).map_err(header_fault)?;
    let header = match serde_json::from_slice(bytes) {
        Ok(Member::Object(header)) => header,
        _ => return Err(header_fault(JsonError::Syntax)),
    };
    let RawHeader {
        typ,
        alg,
        jwk,
        refused,
    } = header;
    if let Some((_, refusal)) = REFUSED_MEMBERS
        .iter()
        .zip(refused)
        .find_map(|(member, present)| present.then_some(member))
    {
        return Err(*refusal);
    }
    if !matches!(typ, Member::Text(typ) if typ == PROOF_TYPE) {
        return Err(ProofError::Type);
    }
    let alg = match alg {
        Member::Text(alg) => Algorithm::from_name(&alg),
        _ => None,
    }
    .ok_or(ProofError::Algorithm)?;
    match jwk {
        Member::Object(jwk) => Ok(ProofHeader { alg, jwk }),
        Member::Absent => Err(ProofError::MissingJwk),
        _ => Err(ProofError::InvalidJwk),
    }
}

/// The header's members that matter, as read.
#[derive(Default)]
struct RawHeader<'a> {
    typ: Member<'a, Skipped>,
    alg: Member<'a, Skipped>,
    jwk: Member<'a, JwkMembers<'a>>,
    /// Which of [`REFUSED_MEMBERS`] are present, in its order.
    refused: [bool; REFUSED_MEMBERS.len()],
}

impl<'de> ObjectReader<'de> for RawHeader<'de> {
    fn read<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut header = RawHeader::default();
        while let Some(field) = map.next_key()? {
            match field {
                HeaderField::Typ => header.typ = map.next_value()?,
                HeaderField::Alg => header.alg = map.next_value()?,
                HeaderField::Jwk => header.jwk = map.next_value()?,
                other => {
                    if let Some(index) = REFUSED_MEMBERS.iter().position(|(f, _)| *f == other) {
                        header.refused[index] = true;
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(header)
    }
}

/// A member's value as the proof check reads it: a string, an object read by `O`, or anything
/// else (`null` included), or no member at all.
#[derive(Debug, Default)]
pub(super) enum Member<'a, O> {
    #[default]
    Absent,
    /// A string, borrowed from the document unless it had escapes.
    Text(Cow<'a, str>),
    Object(O),
    Other,
}

/// Reads an object's members into `Self`, skipping those it does not keep.
pub(super) trait ObjectReader<'de>: Sized {
    fn read<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// An object whose members are not read.
#[derive(Debug)]
pub(super) struct Skipped;

impl<'de> ObjectReader<'de> for Skipped {
    fn read<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Skipped)
    }
}

impl<'de, O: ObjectReader<'de>> Deserialize<'de> for Member<'de, O> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MemberVisitor(PhantomData))
    }
}

struct MemberVisitor<O>(PhantomData<O>);

impl<'de, O: ObjectReader<'de>> Visitor<'de> for MemberVisitor<O> {
    type Value = Member<'de, O>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Borrowed(text)))
    }
    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Owned(text.to_owned())))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        O::read(map).map(Member::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Member::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Member::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Member::Other)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A header of `members` (JSON text after `{`) followed by a valid `typ`, `alg` and `jwk`.
    fn parse(members: &str) -> Result<Algorithm, ProofError> {
        let header = format!(
            r#"{{{members}"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-256"}}}}"#
        );
        parse_header(header.as_bytes()).map(|header| header.alg)
    }

    #[test]
    fn a_refused_member_is_refused_whatever_its_value_and_the_first_listed_wins() {
        assert!(parse("").is_ok());
        assert_eq!(parse(r#""crit":null,"#), Err(ProofError::CriticalHeader));
        assert_eq!(parse(r#""x5c":{},"#), Err(ProofError::KeyByReference));
        assert_eq!(
            parse(r#""x5u":1,"zip":"DEF","crit":[],"#),
            Err(ProofError::CriticalHeader)
        );
        assert_eq!(
            parse(r#""x5u":1,"zip":"DEF","#),
            Err(ProofError::UnsupportedHeader)
        );
    }

    #[test]
    fn names_and_values_are_read_after_their_escapes() {
        // `\u0063rit` is `crit`, `\u0064` is `d`.
        assert_eq!(parse(r#""\u0063rit":[],"#), Err(ProofError::CriticalHeader));
        let header = br#"{"t\u0079p":"dpop\u002bjwt","alg":"ES256","jwk":{"\u0064":"AQAB"}}"#;
        assert!(parse_header(header).is_ok_and(|header| header.jwk.has_private_member()));
    }

    #[test]
    fn a_typ_or_alg_that_is_not_a_string_is_refused_as_a_wrong_one() {
        for (header, refusal) in [
            (r#"{"typ":null,"alg":"ES256","jwk":{}}"#, ProofError::Type),
            (
                r#"{"typ":["dpop+jwt"],"alg":"ES256","jwk":{}}"#,
                ProofError::Type,
            ),
            (
                r#"{"typ":"dpop+jwt","alg":{"ES256":1},"jwk":{}}"#,
                ProofError::Algorithm,
            ),
            (
                r#"{"typ":"dpop+jwt","alg":"ES256","jwk":null}"#,
                ProofError::InvalidJwk,
            ),
            (
                r#"{"typ":"dpop+jwt","alg":"ES256"}"#,
                ProofError::MissingJwk,
            ),
        ] {
            assert_eq!(
                parse_header(header.as_bytes()).map(|header| header.alg),
                Err(refusal),
                "{header}"
            );
        }
    }
}
