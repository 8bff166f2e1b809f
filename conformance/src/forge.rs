//! Making each case's token: the default Auth0 token changed as the recipe says, signed by the
//! issuer (or a foreign key), then tampered with; and, for DPoP cases, its proof.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mock_issuer::{MockIssuer, SigningAlg};
use serde_json::{Map, Value, json};

use crate::catalogue::{KeyForm, ProofKey, ProofRecipe, Recipe, Signer, Tamper, Val};
use crate::proof::{DpopClient, ProofRequest};

/// What tokens are made with: the issuer under test's key and a foreign one; and the DPoP
/// client whose keys tokens are bound to and proofs signed with.
pub struct Forge<'a> {
    issuer: &'a MockIssuer,
    foreign: &'a MockIssuer,
    /// The issuer's current public JWK, for the HMAC-confusion attacks.
    public_jwk: Value,
    /// The issuer's current P-256 JWK, its kid, and its current Ed25519 key's kid (empty when
    /// the tenant has no ES256 or EdDSA API, and the cases that use them fail).
    es256_jwk: Value,
    es256_kid: String,
    eddsa_kid: String,
    foreign_jwk: Value,
    client: DpopClient,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl<'a> Forge<'a> {
    /// A forge for tokens of `issuer`; `foreign` signs what the issuer never would.
    pub fn new(issuer: &'a MockIssuer, foreign: &'a MockIssuer) -> Self {
        let es256_kid = issuer
            .current_kid_for(SigningAlg::Es256)
            .unwrap_or_default();
        Forge {
            public_jwk: current_jwk(issuer),
            es256_jwk: published_jwk(issuer, &es256_kid),
            es256_kid,
            eddsa_kid: issuer
                .current_kid_for(SigningAlg::EdDsa)
                .unwrap_or_default(),
            foreign_jwk: current_jwk(foreign),
            issuer,
            foreign,
            client: DpopClient::new(),
        }
    }

    /// A DPoP proof for `request`, by this forge's client, made as `recipe` says: the key
    /// a token's `{jkt}` names proves possession.
    pub fn proof(&self, recipe: &ProofRecipe, request: &ProofRequest<'_>) -> String {
        self.client.proof(recipe, request)
    }

    /// The default claims: a client-credentials token as Auth0 mints it, scope `read:messages`.
    pub fn default_claims(&self) -> Map<String, Value> {
        let now = now();
        let Value::Object(claims) = json!({
            "iss": self.issuer.url(),
            "sub": "reader@clients",
            "aud": crate::AUDIENCE,
            "iat": now,
            "exp": now + 3600,
            "scope": "read:messages",
            "azp": "reader",
            "gty": "client-credentials",
        }) else {
            unreachable!("a JSON object literal")
        };
        claims
    }

    /// The default protected header: `{"alg":"RS256","typ":"JWT","kid":<current>}`.
    pub fn default_header(&self) -> Map<String, Value> {
        let Value::Object(header) =
            json!({"alg": "RS256", "typ": "JWT", "kid": self.issuer.current_kid()})
        else {
            unreachable!("a JSON object literal")
        };
        header
    }

    /// Signs `header` and `claims` with `signer`'s key (RS256 for the RSA keys, ES256, EdDSA),
    /// whatever `alg` says.
    pub fn sign(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
        signer: Signer,
    ) -> String {
        let (header, claims) = (Value::Object(header.clone()), Value::Object(claims.clone()));
        match signer {
            Signer::Issuer => self.issuer.sign_raw(&header, &claims),
            Signer::Foreign => self.foreign.sign_raw(&header, &claims),
            Signer::IssuerEs256 => self.issuer.sign_raw_as(SigningAlg::Es256, &header, &claims),
            Signer::IssuerEdDsa => self.issuer.sign_raw_as(SigningAlg::EdDsa, &header, &claims),
        }
    }

    /// Makes the token a recipe describes.
    pub fn token(&self, recipe: &Recipe) -> String {
        let mut claims = self.default_claims();
        let mut header = self.default_header();
        let placeholders = |value: &Value| self.placeholders(value);
        apply(&mut claims, &recipe.claims, placeholders);
        apply(&mut header, &recipe.header, placeholders);
        if recipe.tamper == Tamper::EmbedForeignJwk {
            header.insert("jwk".into(), self.foreign_jwk.clone());
            let token = self.sign(&header, &claims, Signer::Foreign);
            return token;
        }
        match &recipe.tamper {
            Tamper::DuplicateAudience => {
                return self.sign_text(
                    &Value::Object(header).to_string(),
                    &with_duplicate(&claims, "aud", &json!("https://other/api")),
                );
            }
            Tamper::DuplicateAlg => {
                let header_text = Value::Object(header.clone()).to_string();
                let duplicated = format!("{{\"alg\":\"none\",{}", &header_text[1..]);
                return self.sign_text(&duplicated, &Value::Object(claims).to_string());
            }
            Tamper::Oversized(size) => {
                claims.insert("padding".into(), json!("x".repeat(*size)));
            }
            Tamper::DeepJson(depth) => {
                let nested = format!("{}1{}", "[".repeat(*depth), "]".repeat(*depth));
                let text = Value::Object(claims).to_string();
                let payload = format!("{},\"deep\":{nested}}}", &text[..text.len() - 1]);
                return self.sign_text(&Value::Object(header).to_string(), &payload);
            }
            _ => {}
        }
        let token = self.sign(&header, &claims, recipe.signer);
        self.tamper(token, &header, &claims, &recipe.tamper)
    }

    /// Replaces, in string values at any depth, `{issuer}` and `{issuer-without-slash}`, and
    /// the thumbprints of the DPoP client's keys: `{jkt}` (P-256), `{ed25519-jkt}` and
    /// `{other-jkt}` (a key no proof names).
    fn placeholders(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(
                text.replace(
                    "{issuer-without-slash}",
                    self.issuer.url().trim_end_matches('/'),
                )
                .replace("{issuer}", self.issuer.url())
                .replace("{es256-kid}", &self.es256_kid)
                .replace("{eddsa-kid}", &self.eddsa_kid)
                .replace("{jkt}", self.client.jkt(ProofKey::P256))
                .replace("{ed25519-jkt}", self.client.jkt(ProofKey::Ed25519))
                .replace("{other-jkt}", self.client.other_jkt()),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.placeholders(item)).collect())
            }
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(name, member)| (name.clone(), self.placeholders(member)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Signs raw header and payload text with the issuer's key (RS256), for payloads that are
    /// not what a JSON serializer would write.
    fn sign_text(&self, header: &str, payload: &str) -> String {
        self.issuer
            .sign_raw_bytes(header.as_bytes(), payload.as_bytes())
    }

    fn tamper(
        &self,
        token: String,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
        tamper: &Tamper,
    ) -> String {
        let (input, signature) = token.rsplit_once('.').expect("a compact JWS has dots");
        let (header_segment, payload_segment) = input.split_once('.').expect("three segments");
        match tamper {
            Tamper::None => token.clone(),
            Tamper::AlgNone {
                spelling,
                keep_signature,
            } => {
                let mut header = header.clone();
                header.insert("alg".into(), json!(spelling));
                let header = b64(Value::Object(header).to_string().as_bytes());
                let signature = if *keep_signature { signature } else { "" };
                format!("{header}.{payload_segment}.{signature}")
            }
            Tamper::HmacWithPublicKey(form) => {
                hmac_with(header, claims, &key_form(&self.public_jwk, *form))
            }
            Tamper::HmacWithEcPublicKey => {
                hmac_with(header, claims, self.es256_jwk.to_string().as_bytes())
            }
            Tamper::StripSignature => format!("{input}."),
            // Cut at a multiple of four characters, so what is left is still canonical base64url
            // (whole bytes) and the case always tests the signature check, not the decoding.
            Tamper::TruncateSignature => {
                format!("{input}.{}", &signature[..(signature.len() / 2) & !3])
            }
            Tamper::NonCanonicalSignature => format!("{input}.{}", flip_unused_bits(signature)),
            Tamper::ChangePayload => {
                let mut claims = claims.clone();
                claims.insert("scope".into(), json!("read:messages admin"));
                format!(
                    "{header_segment}.{}.{signature}",
                    b64(Value::Object(claims).to_string().as_bytes())
                )
            }
            Tamper::Jwe => format!(
                "{header_segment}.{payload_segment}.{signature}.{payload_segment}.{signature}"
            ),
            Tamper::Whitespace => {
                let middle = token.len() / 2;
                format!("{} {}", &token[..middle], &token[middle..])
            }
            Tamper::Oversized(_)
            | Tamper::DeepJson(_)
            | Tamper::DuplicateAudience
            | Tamper::DuplicateAlg
            | Tamper::EmbedForeignJwk => token.clone(),
        }
    }
}

/// Applies a recipe's changes to a header or claims set, `resolve` filling in placeholders
/// of the values set.
pub(crate) fn apply(
    members: &mut Map<String, Value>,
    changes: &[(&'static str, Val)],
    resolve: impl Fn(&Value) -> Value,
) {
    for (name, change) in changes {
        match change {
            Val::Remove => {
                members.remove(*name);
            }
            Val::FromNow(offset) => {
                members.insert((*name).into(), json!(now() + offset));
            }
            Val::Set(value) => {
                members.insert((*name).into(), resolve(value));
            }
        }
    }
}

/// `header` (its `alg` made HS256) and `claims`, HMAC-SHA256-signed with `secret`: the public
/// key as an HMAC secret, the algorithm confusion of RFC 8725 §2.1.
fn hmac_with(header: &Map<String, Value>, claims: &Map<String, Value>, secret: &[u8]) -> String {
    let mut header = header.clone();
    header.insert("alg".into(), json!("HS256"));
    let input = format!(
        "{}.{}",
        b64(Value::Object(header).to_string().as_bytes()),
        b64(Value::Object(claims.clone()).to_string().as_bytes())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(secret).expect("any bytes are an HMAC secret");
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
            .expect("HMAC signing");
    format!("{input}.{signature}")
}

/// The issuer's current key as published in its JWKS.
fn current_jwk(issuer: &MockIssuer) -> Value {
    let jwk = published_jwk(issuer, &issuer.current_kid());
    assert!(jwk.is_object(), "the current key is published");
    jwk
}

/// The key `kid` as the issuer publishes it, or `null`.
fn published_jwk(issuer: &MockIssuer, kid: &str) -> Value {
    issuer
        .state()
        .jwks()
        .get("keys")
        .and_then(Value::as_array)
        .and_then(|keys| keys.iter().find(|key| key["kid"] == kid).cloned())
        .unwrap_or(Value::Null)
}

/// `claims` serialized with `name` appearing twice: `first` before the real value.
fn with_duplicate(claims: &Map<String, Value>, name: &str, first: &Value) -> String {
    let text = Value::Object(claims.clone()).to_string();
    format!("{{\"{name}\":{first},{}", &text[1..])
}

/// Flips the lowest bit of the last character: for a 2048-bit signature (342 characters, the
/// last carrying 4 unused bits) the decoded bytes are unchanged but the spelling is not canonical.
fn flip_unused_bits(segment: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (head, last) = segment.split_at(segment.len() - 1);
    let index = ALPHABET
        .iter()
        .position(|&c| c == last.as_bytes()[0])
        .expect("base64url");
    format!("{head}{}", ALPHABET[index ^ 1] as char)
}

/// The issuer's public key in one of the forms an HMAC-confusion attacker would try.
pub fn key_form(jwk: &Value, form: KeyForm) -> Vec<u8> {
    let component = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("RSA JWK member"))
            .expect("base64url")
    };
    let (n, e) = (component("n"), component("e"));
    let pkcs1 = der_sequence(&[der_integer(&n), der_integer(&e)].concat());
    // AlgorithmIdentifier { rsaEncryption, NULL }.
    let algorithm = der_sequence(
        &[
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
            ][..],
            &[0x05, 0x00],
        ]
        .concat(),
    );
    let bit_string = der(0x03, &[&[0u8][..], &pkcs1].concat());
    let spki = der_sequence(&[algorithm, bit_string].concat());
    match form {
        KeyForm::SpkiPem => pem("PUBLIC KEY", &spki),
        KeyForm::Pkcs1Pem => pem("RSA PUBLIC KEY", &pkcs1),
        KeyForm::SpkiDer => spki,
        KeyForm::JwkJson => jwk.to_string().into_bytes(),
        KeyForm::Modulus => n,
    }
}

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
    .into_bytes()
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn der_sequence(content: &[u8]) -> Vec<u8> {
    der(0x30, content)
}

/// A DER INTEGER of an unsigned big-endian value (a zero byte keeps it positive).
fn der_integer(unsigned: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = unsigned.iter().copied().skip_while(|&b| b == 0).collect();
    let content = if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
        [&[0u8][..], &trimmed].concat()
    } else {
        trimmed
    };
    der(0x02, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_use_the_long_form_above_127_bytes() {
        assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = der(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn integers_with_the_high_bit_set_get_a_leading_zero() {
        assert_eq!(der_integer(&[0x80]), vec![0x02, 2, 0, 0x80]);
        assert_eq!(der_integer(&[0, 0, 1]), vec![0x02, 1, 1]);
    }
}
