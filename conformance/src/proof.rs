//! The DPoP client the suite plays (RFC 9449 §4.2): its keys, made fresh for each run, their
//! RFC 7638 thumbprints (what a bound token's `cnf.jkt` names), and a proof for each request,
//! made as a case's [`ProofRecipe`] says.
//!
//! Keys come from aws-lc-rs; proofs are signed with jsonwebtoken, as a Rust client would.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::AsBigEndian as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};

use crate::catalogue::{Htu, ProofKey, ProofRecipe, ProofTamper};
use crate::forge::{apply, now};

/// The request a proof is made for.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The method (`htm`).
    pub method: &'a str,
    /// The URL the request goes to, without query: what the server compares `htu` with.
    pub url: &'a str,
    /// The access token the request carries (`ath`).
    pub token: &'a str,
    /// The nonce the server handed out (RFC 9449 §9), put in the proof's `nonce` before the
    /// recipe's changes; `None` for a server that hands out none.
    pub nonce: Option<&'a str>,
}

/// One key pair of the client.
struct ClientKey {
    /// The private key, PKCS#8, as jsonwebtoken signs with it.
    signing: EncodingKey,
    algorithm: Algorithm,
    /// The public JWK a proof's header carries.
    public_jwk: Value,
    /// The JWK's private member `d`, base64url: what a careless client might leak.
    private_d: String,
    /// The RFC 7638 SHA-256 thumbprint of the public JWK.
    jkt: String,
}

impl ClientKey {
    /// A fresh P-256 key (`ES256`).
    fn p256() -> Self {
        let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(alg, &SystemRandom::new()).expect("P-256 key generation");
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref()).expect("a fresh P-256 key");
        // The uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        let (x, y) = (b64(&point[1..33]), b64(&point[33..65]));
        let private = pair
            .private_key()
            .as_be_bytes()
            .expect("the private scalar");
        ClientKey {
            signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
            algorithm: Algorithm::ES256,
            jkt: thumbprint(&[("crv", "P-256"), ("kty", "EC"), ("x", &x), ("y", &y)]),
            public_jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            private_d: b64(private.as_ref()),
        }
    }

    /// A fresh Ed25519 key (`EdDSA`).
    fn ed25519() -> Self {
        let pkcs8 =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("Ed25519 key generation");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a fresh Ed25519 key");
        let x = b64(pair.public_key().as_ref());
        let seed = pair.seed().expect("the seed");
        let private = seed.as_be_bytes().expect("the seed's bytes");
        ClientKey {
            signing: EncodingKey::from_ed_der(pkcs8.as_ref()),
            algorithm: Algorithm::EdDSA,
            jkt: thumbprint(&[("crv", "Ed25519"), ("kty", "OKP"), ("x", &x)]),
            public_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            private_d: b64(private.as_ref()),
        }
    }

    fn sign(&self, input: &str) -> String {
        jsonwebtoken::crypto::sign(input.as_bytes(), &self.signing, self.algorithm)
            .expect("signing with a fresh key")
    }
}

/// The client's keys: the two it proves possession with, and another one a token may be
/// bound to, or a proof signed with, by mistake or by an attacker.
pub struct DpopClient {
    p256: ClientKey,
    ed25519: ClientKey,
    other: ClientKey,
}

impl Default for DpopClient {
    fn default() -> Self {
        Self::new()
    }
}

impl DpopClient {
    /// Fresh keys: nothing a server saw in an earlier run can be replayed into this one.
    pub fn new() -> Self {
        DpopClient {
            p256: ClientKey::p256(),
            ed25519: ClientKey::ed25519(),
            other: ClientKey::p256(),
        }
    }

    fn key(&self, key: ProofKey) -> &ClientKey {
        match key {
            ProofKey::P256 => &self.p256,
            ProofKey::Ed25519 => &self.ed25519,
        }
    }

    /// The thumbprint of `key`: what a token bound to it has as `cnf.jkt`.
    pub fn jkt(&self, key: ProofKey) -> &str {
        &self.key(key).jkt
    }

    /// The thumbprint of a key no proof names.
    pub fn other_jkt(&self) -> &str {
        &self.other.jkt
    }

    /// A fresh proof (its own `jti`, `iat` now) for `request`, made as `recipe` says.
    pub fn proof(&self, recipe: &ProofRecipe, request: &ProofRequest<'_>) -> String {
        let key = self.key(recipe.key);
        let mut header = object(json!({
            "typ": "dpop+jwt",
            "alg": alg_name(key.algorithm),
            "jwk": key.public_jwk,
        }));
        let mut claims = object(json!({
            "jti": jti(),
            "htm": request.method,
            "htu": htu(request.url, recipe.htu),
            "iat": now(),
            "ath": b64(digest(&SHA256, request.token.as_bytes()).as_ref()),
        }));
        if let Some(nonce) = request.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        apply(&mut header, &recipe.header, Value::clone);
        apply(&mut claims, &recipe.claims, Value::clone);
        match recipe.tamper {
            ProofTamper::AlgNone => {
                header.insert("alg".into(), json!("none"));
            }
            ProofTamper::Hmac => {
                header.insert("alg".into(), json!("HS256"));
            }
            ProofTamper::PrivateJwk => {
                header.insert(
                    "jwk".into(),
                    with_private_d(&key.public_jwk, &key.private_d),
                );
            }
            ProofTamper::None | ProofTamper::SignedByOtherKey => {}
        }
        let input = format!(
            "{}.{}",
            b64(Value::Object(header).to_string().as_bytes()),
            b64(Value::Object(claims).to_string().as_bytes())
        );
        let signature = match recipe.tamper {
            ProofTamper::AlgNone => String::new(),
            ProofTamper::Hmac => {
                let secret = EncodingKey::from_secret(key.public_jwk.to_string().as_bytes())
                    .expect("any bytes are an HMAC secret");
                jsonwebtoken::crypto::sign(input.as_bytes(), &secret, Algorithm::HS256)
                    .expect("HMAC signing")
            }
            ProofTamper::SignedByOtherKey => self.other.sign(&input),
            ProofTamper::None | ProofTamper::PrivateJwk => key.sign(&input),
        };
        format!("{input}.{signature}")
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(members) => members,
        _ => unreachable!("a JSON object literal"),
    }
}

fn alg_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::EdDSA => "EdDSA",
        _ => "ES256",
    }
}

fn with_private_d(public_jwk: &Value, d: &str) -> Value {
    let mut jwk = public_jwk.clone();
    jwk["d"] = json!(d);
    jwk
}

/// 128 random bits, base64url: RFC 9449 §4.2 asks for enough entropy that a `jti` is unique.
fn jti() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    b64(&bytes)
}

/// The RFC 7638 thumbprint of a JWK given by its required members, already in lexicographic
/// order: their JSON without whitespace, hashed with SHA-256, base64url. The values are
/// base64url and names, which JSON writes as they are.
pub fn thumbprint(required: &[(&str, &str)]) -> String {
    let members: Vec<String> = required
        .iter()
        .map(|(name, value)| format!("\"{name}\":\"{value}\""))
        .collect();
    let json = format!("{{{}}}", members.join(","));
    b64(digest(&SHA256, json.as_bytes()).as_ref())
}

/// The `htu` a recipe asks for, from the request URL (an origin and a path).
pub fn htu(url: &str, htu: Htu) -> String {
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    let path_start = url[authority_start..]
        .find('/')
        .map_or(url.len(), |index| authority_start + index);
    let (origin, path) = url.split_at(path_start);
    match htu {
        Htu::Request => url.to_owned(),
        Htu::WithQueryAndFragment => format!("{url}?page=2#top"),
        Htu::Capitalised => format!("{}{path}", origin.to_ascii_uppercase()),
        Htu::PercentEncoded => {
            let segment = path.rfind('/').map_or(0, |index| index + 1);
            match path[segment..].chars().next() {
                Some(first) if first.is_ascii_alphanumeric() => format!(
                    "{origin}{}%{:02X}{}",
                    &path[..segment],
                    u32::from(first),
                    &path[segment + 1..]
                ),
                _ => url.to_owned(),
            }
        }
        Htu::OtherPath => format!("{origin}/api/public"),
        Htu::OtherHost => format!("{}other.example{path}", &url[..authority_start]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_is_rfc_8037s_for_its_ed25519_example() {
        assert_eq!(
            thumbprint(&[
                ("crv", "Ed25519"),
                ("kty", "OKP"),
                ("x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            ]),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn each_htu_variant_changes_only_what_it_says() {
        let url = "http://127.0.0.1:3010/api/private";
        let cases = [
            (Htu::Request, url),
            (
                Htu::WithQueryAndFragment,
                "http://127.0.0.1:3010/api/private?page=2#top",
            ),
            (Htu::Capitalised, "HTTP://127.0.0.1:3010/api/private"),
            (Htu::PercentEncoded, "http://127.0.0.1:3010/api/%70rivate"),
            (Htu::OtherPath, "http://127.0.0.1:3010/api/public"),
            (Htu::OtherHost, "http://other.example/api/private"),
        ];
        for (variant, expected) in cases {
            assert_eq!(htu(url, variant), expected, "{variant:?}");
        }
        assert_eq!(
            htu("https://api.example/base/api/x", Htu::Capitalised),
            "HTTPS://API.EXAMPLE/base/api/x"
        );
    }

    fn decode(segment: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
    }

    const REQUEST: ProofRequest<'static> = ProofRequest {
        nonce: None,
        method: "GET",
        url: "http://127.0.0.1:1/api/private",
        // RFC 9449 §7.1's example token.
        token: "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU",
    };

    /// The proof's header and claims, and whether its signature verifies with its own `jwk`
    /// under `algorithm`.
    fn open(proof: &str, algorithm: Algorithm) -> (Value, Value, bool) {
        let (input, signature) = proof.rsplit_once('.').expect("three segments");
        let (header, claims) = input.split_once('.').expect("three segments");
        let (header, claims) = (decode(header), decode(claims));
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(header["jwk"].clone()).expect("a JWK");
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a public key");
        let verifies = jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, algorithm)
            .expect("a signature to check");
        (header, claims, verifies)
    }

    #[test]
    fn a_valid_proof_verifies_with_its_own_jwk_and_names_the_request() {
        let client = DpopClient::new();
        for (key, algorithm) in [
            (ProofKey::P256, Algorithm::ES256),
            (ProofKey::Ed25519, Algorithm::EdDSA),
        ] {
            let recipe = ProofRecipe {
                key,
                ..ProofRecipe::valid()
            };
            let (header, claims, verifies) = open(&client.proof(&recipe, &REQUEST), algorithm);
            assert!(verifies, "{key:?}");
            assert_eq!(header["typ"], "dpop+jwt");
            assert_eq!(header["alg"], alg_name(algorithm));
            assert_eq!(claims["htm"], "GET");
            assert_eq!(claims["htu"], REQUEST.url);
            // The example's `ath`, as RFC 9449 §7.1 gives it.
            assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
            assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 22));
            assert!((now() - claims["iat"].as_i64().expect("iat")).abs() <= 1);
            assert_eq!(client.jkt(key).len(), 43);
        }
        assert_ne!(client.jkt(ProofKey::P256), client.other_jkt());
    }

    #[test]
    fn tampered_proofs_differ_from_valid_ones_as_their_recipe_says() {
        let client = DpopClient::new();
        let proof = |tamper| {
            let recipe = ProofRecipe {
                tamper,
                ..ProofRecipe::valid()
            };
            client.proof(&recipe, &REQUEST)
        };
        let alg = |proof: &str| decode(proof.split('.').next().expect("a header"))["alg"].clone();
        let none = proof(ProofTamper::AlgNone);
        assert!(none.ends_with('.'));
        assert_eq!(alg(&none), "none");
        let hmac = proof(ProofTamper::Hmac);
        assert_eq!(alg(&hmac), "HS256");
        // Keyed with the public JWK's JSON, which anyone who reads the proof has.
        let (input, mac) = hmac.rsplit_once('.').expect("three segments");
        let jwk = decode(input.split('.').next().expect("a header"))["jwk"].to_string();
        let secret = jsonwebtoken::DecodingKey::from_secret(jwk.as_bytes()).expect("a secret");
        assert!(
            jsonwebtoken::crypto::verify(mac, input.as_bytes(), &secret, Algorithm::HS256)
                .expect("a MAC to check")
        );
        let (private, _, verifies) = open(&proof(ProofTamper::PrivateJwk), Algorithm::ES256);
        assert!(private["jwk"]["d"].as_str().is_some_and(|d| d.len() == 43));
        assert!(verifies, "only the jwk is changed");
        let (_, _, verifies) = open(&proof(ProofTamper::SignedByOtherKey), Algorithm::ES256);
        assert!(!verifies, "signed by a key the jwk does not name");
        assert_ne!(
            proof(ProofTamper::None),
            proof(ProofTamper::None),
            "each proof has its own jti"
        );
    }
}
