//! Compact JWS parsing (RFC 7515 §7.1) with the strictness RFC 8725 asks for: canonical
//! base64url, JSON objects without duplicate members, and a protected header we fully understand.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::algorithm::Algorithm;
use super::error::AuthError;

/// The refusal of a token that is not three base64url segments, or whose payload does not
/// decode.
pub(crate) const INVALID_COMPACT_JWS: AuthError = AuthError::invalid_token("Invalid Compact JWS");

/// Decodes unpadded base64url, refusing padding, whitespace, other alphabets and
/// non-canonical trailing bits, so a token has exactly one spelling.
pub(crate) fn decode_base64url(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input).ok()
}

/// A compact JWS split into its parts, with the protected header parsed and checked.
#[derive(Debug)]
pub(crate) struct CompactJws<'a> {
    /// `BASE64URL(header) "." BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'a str,
    /// The payload segment, still encoded: it is decoded only after the signature holds.
    pub payload: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The checked protected header.
    pub header: ProtectedHeader,
}

/// The parts of the protected header that decide how the token is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProtectedHeader {
    /// The algorithm, already checked against the allow-list.
    pub alg: Algorithm,
    /// The key id, if any.
    pub kid: Option<String>,
    /// The media type, if any.
    pub typ: Option<String>,
}

impl ProtectedHeader {
    /// Checks `typ`: `JWT` or `at+jwt` (case-insensitive, optional `application/` prefix,
    /// RFC 8725 §3.11), absent allowed; `strict` (RFC 9068 §4) requires `at+jwt`.
    pub(crate) fn check_type(&self, strict: bool) -> Result<(), AuthError> {
        // Compared in place, without lower-casing into a new string: this runs for every token.
        const PREFIX: &str = "application/";
        let subtype = self
            .typ
            .as_deref()
            .map(|typ| match typ.get(..PREFIX.len()) {
                Some(prefix) if prefix.eq_ignore_ascii_case(PREFIX) => &typ[PREFIX.len()..],
                _ => typ,
            });
        let acceptable = match subtype {
            Some(subtype) if subtype.eq_ignore_ascii_case("at+jwt") => true,
            Some(subtype) if subtype.eq_ignore_ascii_case("jwt") => !strict,
            None => !strict,
            Some(_) => false,
        };
        if acceptable {
            Ok(())
        } else {
            Err(AuthError::invalid_token("Unexpected 'typ' value"))
        }
    }
}

/// Splits and checks a compact JWS. Nothing here touches the network, so every refusal is cheap:
/// a malformed token, `none`, HMAC or an algorithm off the allow-list costs no key lookup.
pub(crate) fn parse_compact<'a>(
    token: &'a str,
    allowed: &[Algorithm],
) -> Result<CompactJws<'a>, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID_COMPACT_JWS);
    };
    match parts.count() {
        0 => {}
        // Five segments is the JWE compact serialization (RFC 7516 §7.1).
        2 => {
            return Err(AuthError::invalid_token(
                "Encrypted tokens (JWE) are not accepted",
            ));
        }
        _ => return Err(INVALID_COMPACT_JWS),
    }
    if header.is_empty() {
        return Err(INVALID_COMPACT_JWS);
    }
    let header_bytes = decode_base64url(header).ok_or(AuthError::invalid_token(
        "Invalid Token or Protected Header formatting",
    ))?;
    let header = parse_protected_header(&header_bytes, allowed)?;
    if signature.is_empty() {
        return Err(AuthError::invalid_token("Missing signature"));
    }
    let signature = decode_base64url(signature).ok_or(INVALID_COMPACT_JWS)?;
    Ok(CompactJws {
        signing_input: &token[..header_len(token)],
        payload,
        signature,
        header,
    })
}

/// The length of `header.payload` in `header.payload.signature`.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// Header members that change how a JWS is processed, which this verifier does not implement;
/// their presence means the token is not for us (or is an attack), so it is refused.
const UNSUPPORTED_MEMBERS: [(&str, &str); 4] = [
    ("crit", "Unrecognized 'crit' header parameter"),
    ("b64", "Unsupported 'b64' header parameter"),
    ("enc", "Encrypted tokens (JWE) are not accepted"),
    ("zip", "Unsupported 'zip' header parameter"),
];

fn parse_protected_header(
    bytes: &[u8],
    allowed: &[Algorithm],
) -> Result<ProtectedHeader, AuthError> {
    let formatting = || AuthError::invalid_token("Invalid Token or Protected Header formatting");
    let header: HeaderScan = serde_json::from_slice(bytes).map_err(|_| formatting())?;

    let alg = match header.alg {
        Member::Present(alg) => check_algorithm(&alg, allowed)?,
        Member::WrongType => return Err(formatting()),
        Member::Absent => return Err(AuthError::invalid_token("Missing 'alg' header parameter")),
    };
    if let Some((_, description)) = UNSUPPORTED_MEMBERS
        .iter()
        .enumerate()
        .find_map(|(index, entry)| (header.unsupported & (1 << index) != 0).then_some(entry))
    {
        return Err(AuthError::invalid_token(description));
    }
    // `jku`, `x5u`, `jwk` and `x5c` are never read: keys come only from the issuer's JWKS.
    let optional = |member: Member| match member {
        Member::Absent => Ok(None),
        Member::Present(value) => Ok(Some(value)),
        Member::WrongType => Err(formatting()),
    };
    Ok(ProtectedHeader {
        alg,
        kid: optional(header.kid)?,
        typ: optional(header.typ)?,
    })
}

/// The protected header as one pass over its JSON reads it: the three members we use, and
/// which unsupported members appear. Parsed without building a JSON tree (it is on every
/// request's path), yet as strict as [`parse_object`]: a repeated member name is an error,
/// and members we ignore are still checked for duplicates inside.
#[derive(Default)]
struct HeaderScan {
    alg: Member,
    kid: Member,
    typ: Member,
    /// Bit `i` set when `UNSUPPORTED_MEMBERS[i]` is present.
    unsupported: u8,
}

/// A header member we read: absent, a string, or present with another JSON type.
#[derive(Default)]
enum Member {
    #[default]
    Absent,
    Present(String),
    WrongType,
}

impl Member {
    fn from_value(StrictValue(value): StrictValue) -> Self {
        match value {
            Value::String(text) => Member::Present(text),
            _ => Member::WrongType,
        }
    }
}

impl<'de> Deserialize<'de> for HeaderScan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = HeaderScan;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JOSE header object without duplicate members")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderScan, A::Error> {
        let mut header = HeaderScan::default();
        let mut seen: Vec<MemberName<'de>> = Vec::with_capacity(4);
        while let Some(name) = map.next_key::<MemberName<'de>>()? {
            if seen.contains(&name) {
                return Err(de::Error::custom("duplicate header member"));
            }
            match &*name.0 {
                "alg" => header.alg = Member::from_value(map.next_value()?),
                "kid" => header.kid = Member::from_value(map.next_value()?),
                "typ" => header.typ = Member::from_value(map.next_value()?),
                other => {
                    if let Some(index) = UNSUPPORTED_MEMBERS
                        .iter()
                        .position(|(member, _)| *member == other)
                    {
                        header.unsupported |= 1 << index;
                    }
                    // Read (and so check) the value, then drop it.
                    map.next_value::<StrictValue>()?;
                }
            }
            seen.push(name);
        }
        Ok(header)
    }
}

/// A member name, borrowed from the input when it has no escapes.
#[derive(PartialEq, Eq)]
struct MemberName<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(std::borrow::Cow::Borrowed(name)))
            }
            fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
                Ok(MemberName(std::borrow::Cow::Owned(name.to_owned())))
            }
            fn visit_string<E>(self, name: String) -> Result<Self::Value, E> {
                Ok(MemberName(std::borrow::Cow::Owned(name)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Maps an `alg` name to an allowed algorithm, naming the dangerous families explicitly.
fn check_algorithm(name: &str, allowed: &[Algorithm]) -> Result<Algorithm, AuthError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(AuthError::invalid_token(
            "Unsecured tokens ('alg' none) are not accepted",
        ));
    }
    // Compared as bytes: `alg` is attacker input and may start with a multi-byte character,
    // where slicing the string would panic (found by `cargo xtask fuzz`).
    if name
        .as_bytes()
        .get(..2)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"HS"))
    {
        return Err(AuthError::invalid_token(
            "Symmetric algorithms (HMAC) are not accepted",
        ));
    }
    match Algorithm::from_name(name) {
        Some(alg) if allowed.contains(&alg) => Ok(alg),
        _ => Err(AuthError::invalid_token("Unsupported 'alg' value")),
    }
}

/// A JSON parse failure; deliberately opaque, the caller picks the client-facing description.
#[derive(Debug)]
pub(crate) struct JsonError;

/// Parses a JSON object, refusing duplicate member names at every depth (RFC 7515 §5.2 and
/// RFC 7519 §4: a parser must either reject them or use the last one; differing parsers are an
/// attack surface, so we reject). serde_json's recursion limit bounds nesting.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(map))) => Ok(map),
        _ => Err(JsonError),
    }
}

/// A `serde_json::Value` that fails to deserialize when an object repeats a member name.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value without duplicate object members")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(value) = map.next_value()?;
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate object member"));
            }
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(header.as_bytes()),
            b64(payload.as_bytes()),
            b64(b"sig")
        )
    }

    const RS256: &[Algorithm] = &[Algorithm::RS256];

    fn refusal(token: &str) -> String {
        match parse_compact(token, RS256) {
            Err(AuthError::InvalidToken(description)) => description.into_owned(),
            other => panic!("expected invalid_token, got {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_token_yields_its_header_and_signing_input() {
        let token = token(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, "{}");
        let jws = parse_compact(&token, RS256).expect("parses");
        assert_eq!(jws.header.alg, Algorithm::RS256);
        assert_eq!(jws.header.kid.as_deref(), Some("k1"));
        assert_eq!(jws.header.typ.as_deref(), Some("JWT"));
        assert_eq!(jws.signature, b"sig");
        assert_eq!(jws.signing_input, token.rsplit_once('.').expect("dot").0);
    }

    #[test]
    fn none_in_any_spelling_is_refused() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let description = refusal(&token(&format!(r#"{{"alg":"{alg}"}}"#), "{}"));
            assert_eq!(
                description, "Unsecured tokens ('alg' none) are not accepted",
                "{alg}"
            );
        }
    }

    #[test]
    fn hmac_and_unlisted_algorithms_are_refused() {
        for alg in ["HS256", "hs384", "HS512"] {
            let description = refusal(&token(&format!(r#"{{"alg":"{alg}"}}"#), "{}"));
            assert_eq!(
                description, "Symmetric algorithms (HMAC) are not accepted",
                "{alg}"
            );
        }
        for alg in ["RS384", "rs256", "ES256", "EdDSA", ""] {
            assert_eq!(
                refusal(&token(&format!(r#"{{"alg":"{alg}"}}"#), "{}")),
                "Unsupported 'alg' value"
            );
        }
    }

    #[test]
    fn an_alg_starting_with_a_multibyte_character_is_refused_without_panicking() {
        // Regression: the fuzzer's crash input had `"alg":"ʳ…"`; the HMAC prefix check sliced
        // the string inside that character.
        for alg in ["\u{2b3}S256", "\u{e9}", "H\u{e9}256", "\u{1f600}"] {
            assert_eq!(
                refusal(&token(&format!(r#"{{"alg":"{alg}"}}"#), "{}")),
                "Unsupported 'alg' value"
            );
        }
    }

    #[test]
    fn crit_b64_enc_and_zip_headers_are_refused() {
        for (header, description) in [
            (
                r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
                "Unrecognized 'crit' header parameter",
            ),
            (
                r#"{"alg":"RS256","crit":[]}"#,
                "Unrecognized 'crit' header parameter",
            ),
            // `crit` is checked first: a `b64` it names is refused as the `crit`.
            (
                r#"{"alg":"RS256","b64":false,"crit":["b64"]}"#,
                "Unrecognized 'crit' header parameter",
            ),
            (
                r#"{"alg":"RS256","b64":false}"#,
                "Unsupported 'b64' header parameter",
            ),
            (
                r#"{"alg":"RS256","enc":"A128GCM"}"#,
                "Encrypted tokens (JWE) are not accepted",
            ),
            (
                r#"{"alg":"RS256","zip":"DEF"}"#,
                "Unsupported 'zip' header parameter",
            ),
        ] {
            assert_eq!(refusal(&token(header, "{}")), description, "{header}");
        }
    }

    #[test]
    fn duplicate_header_members_are_refused() {
        assert_eq!(
            refusal(&token(r#"{"alg":"RS256","alg":"none"}"#, "{}")),
            "Invalid Token or Protected Header formatting"
        );
        assert!(parse_object(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(parse_object(br#"{"a":[{"b":1,"b":2}]}"#).is_err());
    }

    #[test]
    fn wrongly_typed_header_members_are_refused() {
        for header in [
            r#"{"alg":256}"#,
            r#"{"alg":"RS256","kid":7}"#,
            r#"{"alg":"RS256","typ":null}"#,
            r#"[]"#,
            r#""RS256""#,
        ] {
            assert_eq!(
                refusal(&token(header, "{}")),
                "Invalid Token or Protected Header formatting",
                "{header}"
            );
        }
        assert_eq!(
            refusal(&token(r#"{"kid":"k"}"#, "{}")),
            "Missing 'alg' header parameter"
        );
    }

    #[test]
    fn segment_counts_other_than_three_are_refused() {
        assert_eq!(refusal("abc"), "Invalid Compact JWS");
        assert_eq!(refusal("a.b"), "Invalid Compact JWS");
        assert_eq!(refusal("a.b.c.d"), "Invalid Compact JWS");
        assert_eq!(
            refusal("a.b.c.d.e"),
            "Encrypted tokens (JWE) are not accepted"
        );
        assert_eq!(refusal(".."), "Invalid Compact JWS");
    }

    #[test]
    fn an_empty_signature_is_refused() {
        let unsigned = token(r#"{"alg":"RS256"}"#, "{}");
        let (input, _) = unsigned.rsplit_once('.').expect("dot");
        assert_eq!(refusal(&format!("{input}.")), "Missing signature");
    }

    #[test]
    fn the_type_header_accepts_jwt_and_at_jwt_unless_strict() {
        let header = |typ: Option<&str>| ProtectedHeader {
            alg: Algorithm::RS256,
            kid: None,
            typ: typ.map(str::to_owned),
        };
        let accepts = |typ, strict| header(typ).check_type(strict).is_ok();
        for typ in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/at+JWT"),
        ] {
            assert!(accepts(typ, false), "{typ:?}");
        }
        assert!(!accepts(Some("JOSE"), false));
        assert!(!accepts(Some("id_token+jwt"), false));
        assert!(accepts(Some("at+jwt"), true));
        assert!(accepts(Some("application/at+jwt"), true));
        assert!(!accepts(Some("JWT"), true));
        assert!(!accepts(None, true));
    }

    #[test]
    fn non_canonical_base64url_is_refused() {
        assert!(decode_base64url("AQAB").is_some());
        // Padding, the standard alphabet, whitespace and set trailing bits are all refused.
        for input in ["AQAB=", "AQ==", "a+b/", "AQ AB", "AR"] {
            assert!(decode_base64url(input).is_none(), "{input}");
        }
        assert!(decode_base64url("AQ").is_some());
    }
}
