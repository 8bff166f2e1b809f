//! Compact JWS parsing (RFC 7515 §7.1) with the strictness RFC 8725 asks for: canonical
//! base64url, strict JSON (no duplicate members; see [`json`]), and a protected header we fully
//! understand.

use super::algorithm::Algorithm;
use super::error::AuthError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use json::{Captured, Document, Limits, Members};

pub(crate) mod json;

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

/// What a protected header may hold. RFC 7515 and RFC 7519 register a dozen header parameters
/// and a real header carries two to five values (with an embedded JWK, which we never read,
/// about twenty); a header beyond these limits is refused without reading the rest.
pub(crate) const HEADER_LIMITS: Limits = Limits {
    members: 32,
    values: 64,
};

fn parse_protected_header(
    bytes: &[u8],
    allowed: &[Algorithm],
) -> Result<ProtectedHeader, AuthError> {
    let formatting = || AuthError::invalid_token("Invalid Token or Protected Header formatting");
    let header = json::scan_object(bytes, HEADER_LIMITS, HeaderScan::default())
        .map_err(|error| AuthError::invalid_token(error.description(Document::ProtectedHeader)))?
        .members;

    let alg = match header.alg {
        Some(Captured::Str(alg)) => check_algorithm(&alg, allowed)?,
        Some(_) => return Err(formatting()),
        None => return Err(AuthError::invalid_token("Missing 'alg' header parameter")),
    };
    if let Some((_, description)) = UNSUPPORTED_MEMBERS
        .iter()
        .enumerate()
        .find_map(|(index, entry)| (header.unsupported & (1 << index) != 0).then_some(entry))
    {
        return Err(AuthError::invalid_token(description));
    }
    // `jku`, `x5u`, `jwk` and `x5c` are never read: keys come only from the issuer's JWKS or
    // the configured key.
    let optional = |member: Option<Captured<'_>>| match member {
        None => Ok(None),
        Some(Captured::Str(value)) => Ok(Some(value.into_owned())),
        Some(_) => Err(formatting()),
    };
    Ok(ProtectedHeader {
        alg,
        kid: optional(header.kid)?,
        typ: optional(header.typ)?,
    })
}

/// The protected header as one strict pass over its JSON reads it (see [`json`]): the three
/// members we use, and which unsupported members appear; every other member is checked (for
/// duplicates inside, depth, numbers) and dropped.
#[derive(Default)]
struct HeaderScan<'de> {
    alg: Option<Captured<'de>>,
    kid: Option<Captured<'de>>,
    typ: Option<Captured<'de>>,
    /// Bit `i` set when `UNSUPPORTED_MEMBERS[i]` is present.
    unsupported: u8,
}

impl<'de> Members<'de> for HeaderScan<'de> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Captured<'de>>> {
        match name {
            "alg" => Some(&mut self.alg),
            "kid" => Some(&mut self.kid),
            "typ" => Some(&mut self.typ),
            other => {
                if let Some(index) = UNSUPPORTED_MEMBERS
                    .iter()
                    .position(|(member, _)| *member == other)
                {
                    self.unsupported |= 1 << index;
                }
                None
            }
        }
    }
}

/// Maps an `alg` name to an allowed algorithm, naming the dangerous families explicitly. An
/// HMAC algorithm passes only when `allowed` names it (a configured secret); `none` never does.
fn check_algorithm(name: &str, allowed: &[Algorithm]) -> Result<Algorithm, AuthError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(AuthError::invalid_token(
            "Unsecured tokens ('alg' none) are not accepted",
        ));
    }
    if let Some(alg) = Algorithm::from_any_name(name).filter(|alg| allowed.contains(alg)) {
        return Ok(alg);
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
    Err(AuthError::invalid_token("Unsupported 'alg' value"))
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
    fn hmac_passes_only_when_the_allow_list_names_it() {
        let hs256 = &[Algorithm::HS256];
        let header = |alg: &str| token(&format!(r#"{{"alg":"{alg}"}}"#), "{}");
        let hs256_token = header("HS256");
        let jws = parse_compact(&hs256_token, hs256).expect("parses");
        assert_eq!(jws.header.alg, Algorithm::HS256);
        let refused = |alg: &str, allowed: &[Algorithm]| match parse_compact(&header(alg), allowed)
        {
            Err(AuthError::InvalidToken(description)) => description.into_owned(),
            other => panic!("expected invalid_token, got {other:?}"),
        };
        for alg in ["HS384", "HS512", "hs256"] {
            assert_eq!(
                refused(alg, hs256),
                "Symmetric algorithms (HMAC) are not accepted",
                "{alg}"
            );
        }
        assert_eq!(
            refused("HS256", &Algorithm::ALL),
            "Symmetric algorithms (HMAC) are not accepted"
        );
        assert_eq!(refused("RS256", hs256), "Unsupported 'alg' value");
        assert_eq!(
            refused("none", &[Algorithm::HS256, Algorithm::RS256]),
            "Unsecured tokens ('alg' none) are not accepted"
        );
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
        const DUPLICATE: &str = "Protected Header must be a JSON object without duplicate members";
        for header in [
            r#"{"alg":"RS256","alg":"none"}"#,
            r#"{"alg":"RS256","x":{"b":1,"b":2}}"#,
            r#"{"alg":"RS256","x":[{"b":1,"\u0062":2}]}"#,
            r#"{"alg":"RS256","kid":{"b":1,"b":2}}"#,
        ] {
            assert_eq!(refusal(&token(header, "{}")), DUPLICATE, "{header}");
        }
    }

    #[test]
    fn headers_beyond_the_limits_are_refused_for_what_they_are() {
        let members = |count: usize| {
            let extra: String = (0..count).map(|i| format!(r#","m{i}":0"#)).collect();
            format!(r#"{{"alg":"RS256"{extra}}}"#)
        };
        assert!(parse_compact(&token(&members(HEADER_LIMITS.members - 1), "{}"), RS256).is_ok());
        let deep = format!(
            r#"{{"alg":"RS256","x":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        for (header, description) in [
            (
                members(HEADER_LIMITS.members),
                "Protected Header has an object with too many members",
            ),
            (deep, "Protected Header is nested too deeply"),
            (
                r#"{"alg":"RS256","x":1e999}"#.to_owned(),
                "Protected Header has a number out of range",
            ),
            (
                "\u{feff}{\"alg\":\"RS256\"}".to_owned(),
                "Protected Header must not start with a byte-order mark",
            ),
        ] {
            assert_eq!(refusal(&token(&header, "{}")), description);
        }
        let not_utf8 = format!(
            "{}.e30.c2ln",
            URL_SAFE_NO_PAD.encode(b"{\"alg\":\"RS256\",\"x\":\"\xff\"}")
        );
        assert_eq!(
            refusal(&not_utf8),
            "Invalid Token or Protected Header formatting"
        );
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
