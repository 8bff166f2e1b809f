//! Checks a token against the keys this tenant publishes now, for the endpoints that receive
//! tokens back (`/userinfo`, `id_token_hint` at logout, the console's decode view).
//!
//! RS256 only, the key chosen by the header's `kid` among the published keys (current, next and
//! previous unless revoked), the signature checked with jsonwebtoken (an implementation
//! independent of the API's). Expiry and audience are the caller's to check:
//! [`Verified::seconds_left`] and [`Verified::expired`] help. A refusal says precisely why and
//! never carries the token, nor any header value but a well-formed `alg` name.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::server::AppState;
use crate::token::unix_now;

/// A token whose signature one of the tenant's published keys verifies.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// The protected header, a JSON object.
    pub header: Map<String, Value>,
    /// The claims set, a JSON object.
    pub claims: Map<String, Value>,
    /// The `kid` of the key that verified the signature.
    pub kid: String,
}

impl Verified {
    /// `exp` minus now, in seconds: negative once expired, `None` without a numeric `exp`.
    pub fn seconds_left(&self) -> Option<i64> {
        seconds_left(&self.claims)
    }

    /// Whether the token is past its `exp`; a token without a numeric `exp` counts as expired,
    /// since this tenant never issues one.
    pub fn expired(&self) -> bool {
        self.seconds_left().is_none_or(|left| left <= 0)
    }
}

/// A token's header and claims, read without checking anything but their form.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// The protected header, a JSON object.
    pub header: Map<String, Value>,
    /// The claims set, a JSON object.
    pub claims: Map<String, Value>,
}

/// A part of a compact JWS, for naming where a token is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Header,
    Claims,
    Signature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Claims => "claims",
            Self::Signature => "signature",
        })
    }
}

/// Why a token was refused. The messages name the rule, never the token's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VerifyError {
    /// Not three dot-separated parts.
    #[error("not a compact JWS: expected three dot-separated parts")]
    NotJws,
    /// A part is not canonical unpadded base64url.
    #[error("the {0} is not base64url without padding")]
    Base64(Part),
    /// The header or claims are not JSON.
    #[error("the {0} is not valid JSON")]
    Json(Part),
    /// The header or claims are JSON but not an object.
    #[error("the {0} is not a JSON object")]
    NotAnObject(Part),
    /// `alg` is absent or not a string.
    #[error("the header has no alg")]
    MissingAlg,
    /// `alg` is not RS256, the only algorithm this tenant signs with.
    #[error("alg {0} is not RS256")]
    AlgNotRs256(String),
    /// `kid` is absent or not a string.
    #[error("the header has no kid")]
    MissingKid,
    /// No published key has this `kid` (never published, or a revoked previous key).
    #[error("no key the tenant publishes has this kid")]
    UnknownKid,
    /// The key named by `kid` does not verify the signature.
    #[error("the signature does not verify with the key named by kid")]
    BadSignature,
}

/// Verifies `token`'s signature against the keys the tenant publishes now, then reads its claims.
///
/// # Errors
/// The first rule the token breaks, in the order: form, header, `alg`, `kid`, signature, claims.
pub(crate) fn verify(state: &AppState, token: &str) -> Result<Verified, VerifyError> {
    let jws = Jws::split(token)?;
    let kid = jws.check_signature(state)?;
    Ok(Verified {
        claims: jws.claims()?,
        header: jws.header,
        kid,
    })
}

/// A readable token and the verdict on it.
#[derive(Debug, Clone)]
pub(crate) enum Inspected {
    /// A published key verifies it.
    Verified(Verified),
    /// None does, for this reason; its header and claims are shown all the same.
    NotVerified(Decoded, VerifyError),
}

/// Reads `token`'s header and claims whether or not it verifies, then verifies it: for showing a
/// token that does not verify (a foreign key's, an old key's) next to the reason.
///
/// # Errors
/// The token is not a readable JWS (form, header or claims), so there is nothing to show.
pub(crate) fn inspect(state: &AppState, token: &str) -> Result<Inspected, VerifyError> {
    let jws = Jws::split(token)?;
    let claims = jws.claims()?;
    Ok(match jws.check_signature(state) {
        Ok(kid) => Inspected::Verified(Verified {
            header: jws.header,
            claims,
            kid,
        }),
        Err(why) => Inspected::NotVerified(
            Decoded {
                header: jws.header,
                claims,
            },
            why,
        ),
    })
}

/// `token`'s protected header, read without checking anything else (e.g. the `kid` of a token
/// this tenant just signed).
///
/// # Errors
/// The token is not a compact JWS, or its header or signature is malformed.
pub(crate) fn header(token: &str) -> Result<Map<String, Value>, VerifyError> {
    Jws::split(token).map(|jws| jws.header)
}

/// `exp` minus now, in seconds, for any claims set: `None` without a numeric `exp`.
pub(crate) fn seconds_left(claims: &Map<String, Value>) -> Option<i64> {
    let exp = claims.get("exp")?;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a fractional exp rounds down to its second; out-of-range values saturate"
    )]
    let exp = exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))?;
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    Some(exp.saturating_sub(now))
}

/// A compact JWS split and its header parsed; the claims are parsed on demand.
struct Jws<'a> {
    header: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Jws<'a> {
    fn split(token: &'a str) -> Result<Self, VerifyError> {
        let token = token.trim();
        let (signing_input, signature) = token.rsplit_once('.').ok_or(VerifyError::NotJws)?;
        let (header, payload) = signing_input.split_once('.').ok_or(VerifyError::NotJws)?;
        if payload.contains('.') || signature.is_empty() {
            return Err(VerifyError::NotJws);
        }
        let header = json_object(header, Part::Header)?;
        // Decoded once here so a malformed signature is named before any key is looked at.
        decode(signature, Part::Signature)?;
        Ok(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    fn claims(&self) -> Result<Map<String, Value>, VerifyError> {
        json_object(self.payload, Part::Claims)
    }

    /// The `kid` of the published key that verifies the signature.
    fn check_signature(&self, state: &AppState) -> Result<String, VerifyError> {
        match self.header.get("alg").and_then(Value::as_str) {
            None => return Err(VerifyError::MissingAlg),
            Some("RS256") => {}
            Some(other) => return Err(VerifyError::AlgNotRs256(printable_alg(other))),
        }
        let kid = self
            .header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(VerifyError::MissingKid)?;
        let key = published_key(state, kid).ok_or(VerifyError::UnknownKid)?;
        // Err only for a signature that is not base64url, which `split` already refused.
        let valid = jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &key,
            Algorithm::RS256,
        )
        .unwrap_or(false);
        if valid {
            Ok(kid.to_owned())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

/// The published RSA key with this `kid`, from the JWKS the tenant serves now.
fn published_key(state: &AppState, kid: &str) -> Option<DecodingKey> {
    let jwks = state.jwks();
    let jwk = jwks
        .get("keys")?
        .as_array()?
        .iter()
        .find(|jwk| jwk.get("kid").and_then(Value::as_str) == Some(kid))?;
    let n = jwk.get("n")?.as_str()?;
    let e = jwk.get("e")?.as_str()?;
    DecodingKey::from_rsa_components(n, e).ok()
}

fn decode(part: &str, which: Part) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Base64(which))
}

fn json_object(part: &str, which: Part) -> Result<Map<String, Value>, VerifyError> {
    let bytes = decode(part, which)?;
    match serde_json::from_slice(&bytes).map_err(|_| VerifyError::Json(which))? {
        Value::Object(object) => Ok(object),
        _ => Err(VerifyError::NotAnObject(which)),
    }
}

/// An `alg` fit to repeat in a message: a short algorithm-like name, else a placeholder, so a
/// refusal never carries arbitrary header content.
fn printable_alg(alg: &str) -> String {
    let looks_like_a_name = (1..=16).contains(&alg.len())
        && alg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'+');
    if looks_like_a_name {
        alg.to_owned()
    } else {
        "(not an algorithm name)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::IssuerConfig;
    use crate::token::TokenSpec;

    /// A seeded tenant, so the keys are generated once per test process.
    fn tenant(seed: u64) -> AppState {
        crate::install_crypto_provider();
        AppState::new(
            IssuerConfig::default().with_seed(seed),
            "http://127.0.0.1:1/".into(),
        )
        .expect("the default tenant starts")
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_minted_token_verifies_by_the_current_kid_with_its_claims() {
        let state = tenant(7);
        let token = state
            .mint(&TokenSpec::for_client("reader").expires_in(300))
            .unwrap();
        let verified = verify(&state, &token).unwrap();
        assert_eq!(verified.kid, state.current_kid());
        assert_eq!(verified.header["alg"], "RS256");
        assert_eq!(verified.claims["sub"], "reader@clients");
        let left = verified.seconds_left().unwrap();
        assert!((290..=300).contains(&left), "{left}");
        assert!(!verified.expired());
    }

    #[test]
    fn an_expired_token_still_verifies_and_says_it_is_expired() {
        let state = tenant(7);
        let token = state
            .mint(&TokenSpec::for_client("reader").expired())
            .unwrap();
        let verified = verify(&state, &token).unwrap();
        assert!(verified.expired());
        assert!(verified.seconds_left().unwrap() < -3000);
    }

    #[test]
    fn previous_and_next_keys_verify_until_the_previous_is_revoked() {
        let state = tenant(8);
        let before = state.mint(&TokenSpec::for_client("reader")).unwrap();
        let old_kid = state.current_kid();
        state.rotate().unwrap();
        assert_eq!(verify(&state, &before).unwrap().kid, old_kid);
        state.revoke_previous().unwrap();
        assert_eq!(
            verify(&state, &before).unwrap_err(),
            VerifyError::UnknownKid
        );
    }

    #[test]
    fn another_tenants_token_with_a_borrowed_kid_fails_its_signature() {
        let ours = tenant(7);
        let theirs = tenant(9);
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": ours.current_kid()});
        let forged = theirs.sign_raw(&header, &json!({"sub": "x"})).unwrap();
        assert_eq!(
            verify(&ours, &forged).unwrap_err(),
            VerifyError::BadSignature
        );
        match inspect(&ours, &forged).unwrap() {
            Inspected::NotVerified(decoded, why) => {
                assert_eq!(decoded.claims["sub"], "x");
                assert_eq!(why, VerifyError::BadSignature);
            }
            Inspected::Verified(verified) => panic!("verified by {}", verified.kid),
        }
    }

    #[test]
    fn a_changed_claim_breaks_the_signature() {
        let state = tenant(7);
        let token = state.mint(&TokenSpec::for_client("reader")).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(br#"{"sub":"admin"}"#), parts[2]);
        assert_eq!(
            verify(&state, &tampered).unwrap_err(),
            VerifyError::BadSignature
        );
    }

    #[test]
    fn each_malformation_is_named() {
        let state = tenant(7);
        let kid = state.current_kid();
        let header = |h: Value| b64(h.to_string().as_bytes());
        let good_header = header(json!({"alg": "RS256", "kid": kid}));
        let claims = b64(b"{}");
        let cases = [
            ("garbage".to_owned(), VerifyError::NotJws),
            ("a.b.c.d".to_owned(), VerifyError::NotJws),
            (format!("{good_header}.{claims}."), VerifyError::NotJws),
            (
                format!("{good_header}=.{claims}.AA"),
                VerifyError::Base64(Part::Header),
            ),
            (
                format!("{good_header}.{claims}.A+A"),
                VerifyError::Base64(Part::Signature),
            ),
            (
                format!("{}.{claims}.AA", b64(b"{")),
                VerifyError::Json(Part::Header),
            ),
            (
                format!("{}.{claims}.AA", b64(b"[1]")),
                VerifyError::NotAnObject(Part::Header),
            ),
            (
                format!("{}.{claims}.AA", header(json!({"kid": kid}))),
                VerifyError::MissingAlg,
            ),
            (
                format!(
                    "{}.{claims}.AA",
                    header(json!({"alg": "HS256", "kid": kid}))
                ),
                VerifyError::AlgNotRs256("HS256".into()),
            ),
            (
                format!("{}.{claims}.AA", header(json!({"alg": "RS256"}))),
                VerifyError::MissingKid,
            ),
            (
                format!(
                    "{}.{claims}.AA",
                    header(json!({"alg": "RS256", "kid": "nope"}))
                ),
                VerifyError::UnknownKid,
            ),
            (
                format!("{good_header}.{claims}.AA"),
                VerifyError::BadSignature,
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(verify(&state, &token).unwrap_err(), expected, "{token}");
        }
    }

    #[test]
    fn claims_that_are_not_an_object_are_named_after_the_signature() {
        let state = tenant(7);
        let header = json!({"alg": "RS256", "kid": state.current_kid()});
        let token = state
            .sign_raw_bytes(header.to_string().as_bytes(), b"\"just a string\"")
            .unwrap();
        assert_eq!(
            verify(&state, &token).unwrap_err(),
            VerifyError::NotAnObject(Part::Claims)
        );
    }

    #[test]
    fn refusals_never_repeat_header_content() {
        let state = tenant(7);
        let hostile = "<script>alert(1)</script>";
        let header = b64(json!({"alg": hostile, "kid": hostile})
            .to_string()
            .as_bytes());
        let error = verify(&state, &format!("{header}.e30.AA")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "alg (not an algorithm name) is not RS256"
        );
        let header = b64(json!({"alg": "RS256", "kid": hostile})
            .to_string()
            .as_bytes());
        let error = verify(&state, &format!("{header}.e30.AA")).unwrap_err();
        assert!(!error.to_string().contains("script"), "{error}");
    }

    #[test]
    fn seconds_left_reads_integer_and_fractional_exp() {
        let now = i64::try_from(unix_now()).unwrap();
        let claims = |exp: Value| json!({"exp": exp}).as_object().unwrap().clone();
        let left = seconds_left(&claims(json!(now + 100))).unwrap();
        assert!((99..=100).contains(&left), "{left}");
        #[expect(
            clippy::cast_precision_loss,
            reason = "a Unix time fits in f64 exactly"
        )]
        let fractional = json!(now as f64 - 49.5);
        let left = seconds_left(&claims(fractional)).unwrap();
        assert!((-51..=-49).contains(&left), "{left}");
        assert_eq!(seconds_left(&claims(json!("soon"))), None);
        assert_eq!(seconds_left(&Map::new()), None);
    }
}
