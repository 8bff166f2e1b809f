//! Checks a token against the keys this tenant publishes now, for the endpoints that receive
//! tokens back (`/userinfo`, `id_token_hint` at logout, the console's decode view).
//!
//! Every algorithm the tenant signs with: for RS256, PS256, ES256 and EdDSA the key named by the
//! header's `kid` among the published keys (current, next and previous unless revoked), which
//! must be published for that very `alg`; for HS256 the signing secret of an API the token's
//! `aud` names. The signature is checked with jsonwebtoken (an implementation independent of the
//! API's). Expiry and audience are the caller's to check: [`Verified::seconds_left`] and
//! [`Verified::expired`] help. A refusal says precisely why and never carries the token, nor any
//! header value but a well-formed `alg` name.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::{Map, Value};

use crate::config::SigningAlg;
use crate::server::AppState;
use crate::token::unix_now;

/// A token whose signature one of the tenant's published keys, or an API's signing secret,
/// verifies.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// The protected header, a JSON object.
    pub header: Map<String, Value>,
    /// The claims set, a JSON object.
    pub claims: Map<String, Value>,
    /// What verified the signature.
    pub by: VerifiedBy,
}

/// What verified a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VerifiedBy {
    /// The published key with this `kid`.
    Key(String),
    /// The HS256 signing secret of the API with this identifier.
    Secret(String),
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
    /// `alg` is not one this tenant signs with.
    #[error("alg {0} is not one this tenant signs with (RS256, PS256, ES256, EdDSA, HS256)")]
    UnsupportedAlg(String),
    /// `kid` is absent or not a string.
    #[error("the header has no kid")]
    MissingKid,
    /// No published key has this `kid` (never published, or a revoked previous key).
    #[error("no key the tenant publishes has this kid")]
    UnknownKid,
    /// The key named by `kid` is published for another algorithm than the header's.
    #[error("the key named by kid is published for {0}, not for the header's alg")]
    KeyForOtherAlg(String),
    /// An HS256 token whose `aud` names no API of the tenant, so no secret to check it with.
    #[error("the aud of this HS256 token names no API whose signing secret could verify it")]
    NoSecret,
    /// The key named by `kid` does not verify the signature.
    #[error("the signature does not verify with the key named by kid")]
    BadSignature,
    /// No signing secret of the APIs an HS256 token's `aud` names verifies its signature.
    #[error("the signature does not verify with the signing secret of an API the aud names")]
    BadSecretSignature,
}

/// Verifies `token`'s signature against the keys the tenant publishes now, then reads its claims.
///
/// # Errors
/// The first rule the token breaks, in the order: form, header, `alg`, `kid`, signature, claims.
pub(crate) fn verify(state: &AppState, token: &str) -> Result<Verified, VerifyError> {
    let jws = Jws::split(token)?;
    let by = jws.check_signature(state)?;
    Ok(Verified {
        claims: jws.claims()?,
        header: jws.header,
        by,
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
        Ok(by) => Inspected::Verified(Verified {
            header: jws.header,
            claims,
            by,
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

    /// What verifies the signature: the published key the `kid` names, or for HS256 the
    /// signing secret of an API the claims' `aud` names (read here for that, before the
    /// signature is known to be good).
    fn check_signature(&self, state: &AppState) -> Result<VerifiedBy, VerifyError> {
        let alg = match self.header.get("alg").and_then(Value::as_str) {
            None => return Err(VerifyError::MissingAlg),
            Some(name) => name
                .parse::<SigningAlg>()
                .map_err(|_| VerifyError::UnsupportedAlg(printable_alg(name)))?,
        };
        if alg == SigningAlg::Hs256 {
            return self.check_secret(state);
        }
        let kid = self
            .header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(VerifyError::MissingKid)?;
        let jwk = published_jwk(state, kid).ok_or(VerifyError::UnknownKid)?;
        match jwk.get("alg").and_then(Value::as_str) {
            Some(published) if published == alg.as_str() => {}
            published => {
                return Err(VerifyError::KeyForOtherAlg(printable_alg(
                    published.unwrap_or("no alg"),
                )));
            }
        }
        let key = serde_json::from_value::<Jwk>(jwk)
            .ok()
            .and_then(|jwk| DecodingKey::from_jwk(&jwk).ok())
            .ok_or(VerifyError::UnknownKid)?;
        if self.verifies(&key, alg) {
            Ok(VerifiedBy::Key(kid.to_owned()))
        } else {
            Err(VerifyError::BadSignature)
        }
    }

    /// HS256: the first API among the token's audiences whose signing secret verifies it.
    fn check_secret(&self, state: &AppState) -> Result<VerifiedBy, VerifyError> {
        let claims = self.claims()?;
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut any_secret = false;
        for audience in audiences {
            let Some(secret) = state.signing_secret(audience) else {
                continue;
            };
            any_secret = true;
            // Err only for an empty secret, which no API has.
            let Ok(key) = DecodingKey::from_secret(secret.expose().as_bytes()) else {
                continue;
            };
            if self.verifies(&key, SigningAlg::Hs256) {
                return Ok(VerifiedBy::Secret(audience.to_owned()));
            }
        }
        Err(if any_secret {
            VerifyError::BadSecretSignature
        } else {
            VerifyError::NoSecret
        })
    }

    fn verifies(&self, key: &DecodingKey, alg: SigningAlg) -> bool {
        // Err only for a signature that is not base64url, which `split` already refused, or a
        // key of another type than `alg`'s, which the published `alg` already ruled out.
        jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            key,
            alg.jwt_algorithm(),
        )
        .unwrap_or(false)
    }
}

/// The published JWK with this `kid`, from the JWKS the tenant serves now.
fn published_jwk(state: &AppState, kid: &str) -> Option<Value> {
    let mut jwks = state.jwks();
    let keys = jwks.get_mut("keys")?.as_array_mut()?;
    let at = keys
        .iter()
        .position(|jwk| jwk.get("kid").and_then(Value::as_str) == Some(kid))?;
    Some(keys.swap_remove(at))
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
    use crate::config::{IssuerConfig, SigningAlg};
    use crate::token::TokenSpec;

    /// A seeded tenant, so the keys are generated once per test process.
    fn tenant(seed: u64) -> AppState {
        tenant_with(IssuerConfig::default().with_seed(seed))
    }

    fn tenant_with(config: IssuerConfig) -> AppState {
        crate::install_crypto_provider();
        AppState::new(config, "http://127.0.0.1:1/".into()).expect("the tenant starts")
    }

    /// A seeded tenant whose default API signs with `alg`, beside an ES256 API (so the ES256
    /// keys are published too).
    fn signing_tenant(alg: SigningAlg) -> AppState {
        let mut config = IssuerConfig::default().with_seed(7);
        config.apis[0].signing_alg = alg;
        config
            .apis
            .push(crate::ApiConfig::default().with_signing_alg(SigningAlg::Es256));
        config.apis[1].identifier = "https://es256/api".into();
        tenant_with(config)
    }

    #[test]
    fn every_algorithm_verifies_by_its_own_key_or_secret() {
        for alg in SigningAlg::ALL {
            let state = signing_tenant(alg);
            let token = state.mint(&TokenSpec::for_client("reader")).unwrap();
            let verified = verify(&state, &token).unwrap();
            assert_eq!(verified.header["alg"], alg.as_str());
            let expected = match state.current_kid_for(alg) {
                Some(kid) => VerifiedBy::Key(kid),
                None => VerifiedBy::Secret(crate::config::defaults::API_AUDIENCE.into()),
            };
            assert_eq!(verified.by, expected, "{alg}");
        }
    }

    #[test]
    fn a_key_published_for_another_alg_is_refused() {
        let state = signing_tenant(SigningAlg::Rs256);
        let es256_kid = state.current_kid_for(SigningAlg::Es256).unwrap();
        // Signed by the ES256 key, claiming RS256.
        let token = state
            .mint(
                &TokenSpec::for_client("reader")
                    .signing_alg(SigningAlg::Es256)
                    .header("alg", "RS256")
                    .header("kid", es256_kid),
            )
            .unwrap();
        assert_eq!(
            verify(&state, &token).unwrap_err(),
            VerifyError::KeyForOtherAlg("ES256".into())
        );
    }

    #[test]
    fn an_unpublished_rings_key_is_unknown() {
        // No API signs EdDSA: its keys exist but are not published.
        let state = signing_tenant(SigningAlg::Rs256);
        let token = state
            .mint(&TokenSpec::for_client("reader").signing_alg(SigningAlg::EdDsa))
            .unwrap();
        assert_eq!(verify(&state, &token).unwrap_err(), VerifyError::UnknownKid);
    }

    #[test]
    fn an_hs256_token_under_another_secret_fails_its_signature() {
        let ours = signing_tenant(SigningAlg::Hs256);
        let theirs = tenant_with(IssuerConfig::default().with_seed(9));
        let token = theirs
            .mint(&TokenSpec::for_client("reader").signing_alg(SigningAlg::Hs256))
            .unwrap();
        assert_eq!(
            verify(&ours, &token).unwrap_err(),
            VerifyError::BadSecretSignature
        );
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
        assert_eq!(verified.by, VerifiedBy::Key(state.current_kid()));
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
        assert_eq!(
            verify(&state, &before).unwrap().by,
            VerifiedBy::Key(old_kid)
        );
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
            Inspected::Verified(verified) => panic!("verified by {:?}", verified.by),
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
                format!("{}.{claims}.AA", header(json!({"alg": "none", "kid": kid}))),
                VerifyError::UnsupportedAlg("none".into()),
            ),
            (
                format!("{}.{claims}.AA", header(json!({"alg": "HS256"}))),
                VerifyError::NoSecret,
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
            "alg (not an algorithm name) is not one this tenant signs with (RS256, PS256, ES256, \
             EdDSA, HS256)"
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
