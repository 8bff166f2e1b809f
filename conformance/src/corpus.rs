//! Fuzzing seeds from the catalogue: every case's token, as each fuzz target reads its input.

use std::io;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_issuer::{ApiConfig, IssuerConfig, MockIssuer, SigningAlg};

use crate::catalogue::{Case, KeyForm, Placement};
use crate::forge::{Forge, key_form};
use crate::proof::ProofRequest;

/// The origin the `dpop_proof` seeds name in `htu`: the api's default address.
const SEED_ORIGIN: &str = "http://127.0.0.1:3010";

/// The `request` target's input: `[route, selector, header length (2 bytes, big-endian),
/// Authorization header…, body…]`; see `fuzz/fuzz_targets/request.rs`.
pub fn request_input(route: u8, selector: u8, header: &[u8], body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(header.len()).unwrap_or(u16::MAX);
    let mut input = vec![route, selector];
    input.extend_from_slice(&length.to_be_bytes());
    input.extend_from_slice(&header[..usize::from(length)]);
    input.extend_from_slice(body);
    input
}

/// The `mock_login` target's input: `[surface, flags, cookie length, cookie…, rest]`; see
/// `fuzz/fuzz_targets/mock_login.rs` for the surfaces and flags.
pub fn login_input(surface: u8, flags: u8, cookie: &[u8], rest: &[u8]) -> Vec<u8> {
    let length = u8::try_from(cookie.len()).unwrap_or(u8::MAX);
    let mut input = vec![surface, flags, length];
    input.extend_from_slice(&cookie[..usize::from(length)]);
    input.extend_from_slice(rest);
    input
}

/// One seed per request of a user's login, in the `mock_login` layout: each reaches the parser
/// of its surface with a well-formed input the fuzzer then mutates.
const LOGIN_SEEDS: [(&str, u8, u8, &str); 8] = [
    (
        "authorize",
        0,
        1,
        "response_type=code&client_id=spa&redirect_uri=http%3A%2F%2Flocalhost%3A3000&scope=openid%20profile%20email%20offline_access&audience=https%3A%2F%2Fquickstarts%2Fapi&state=xyz&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&response_mode=web_message&prompt=none&max_age=60",
    ),
    ("login-page", 1, 0, "state=abc"),
    (
        "login-form",
        2,
        0,
        "state=abc&username=manager%40example.com&password=manager-password&action=default",
    ),
    ("resume", 3, 1, "state=abc"),
    (
        "v2-logout",
        4,
        1,
        "client_id=spa&returnTo=http%3A%2F%2Flocalhost%3A3000",
    ),
    (
        "oidc-logout",
        5,
        1,
        "client_id=spa&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000&state=s&id_token_hint=a.b.c",
    ),
    (
        "code-grant",
        6,
        0,
        "grant_type=authorization_code&client_id=spa&code=abc&redirect_uri=http%3A%2F%2Flocalhost%3A3000&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ),
    ("userinfo", 7, 0, "Bearer a.b.c"),
];

/// Writes seeds under `dir/verify_jws`, `dir/request`, `dir/claims`, `dir/dpop_proof` (each
/// DPoP case's proof), `dir/jwks`, `dir/static_key`, `dir/metadata` and `dir/mock_login`, and
/// returns how many files were written.
pub async fn write(
    dir: &Path,
    issuer: &MockIssuer,
    forge: &Forge<'_>,
    cases: &[Case],
) -> io::Result<usize> {
    let mut written = 0;
    let mut put = |target: &str, name: &str, bytes: &[u8]| -> io::Result<()> {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name.replace('/', "_")), bytes)?;
        written += 1;
        Ok(())
    };
    for case in cases {
        let token = forge.token(&case.recipe);
        put("verify_jws", &case.name, token.as_bytes())?;
        let header = format!("Bearer {token}");
        put(
            "request",
            &case.name,
            &request_input(1, 0, header.as_bytes(), b""),
        )?;
        let form = format!("access_token={token}");
        put(
            "request",
            &format!("{}-form", case.name),
            &request_input(2, 3, b"", form.as_bytes()),
        )?;
        if let Some(payload) = token
            .split('.')
            .nth(1)
            .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
        {
            put("claims", &case.name, &payload)?;
        }
        if let Placement::Dpop(dpop) = &case.placement {
            let url = format!("{SEED_ORIGIN}{}", case.route.path());
            let request = ProofRequest {
                nonce: None,
                method: "GET",
                url: &url,
                token: &token,
            };
            put(
                "dpop_proof",
                &case.name,
                forge.proof(&dpop.proof, &request).as_bytes(),
            )?;
        }
    }
    for (target, name, bytes) in key_seeds(issuer).await? {
        put(target, &name, &bytes)?;
    }
    let discovery = reqwest::get(format!("{}.well-known/openid-configuration", issuer.url()))
        .await
        .map_err(io::Error::other)?
        .bytes()
        .await
        .map_err(io::Error::other)?;
    put("metadata", "openid-configuration", &discovery)?;
    for (name, surface, flags, rest) in LOGIN_SEEDS {
        let input = login_input(surface, flags, b"auth0=unknown", rest.as_bytes());
        put("mock_login", name, &input)?;
    }
    put(
        "mock_login",
        "refresh-grant-json",
        &login_input(
            6,
            2,
            b"",
            br#"{"grant_type":"refresh_token","client_id":"spa","refresh_token":"abc"}"#,
        ),
    )?;
    Ok(written)
}

/// The seeds of the two key parsers: the issuer's JWKS, and a tenant's whose APIs sign with
/// every algorithm the mock has (RSA, PS256, P-256 and Ed25519 keys in one JWKS) for the JWKS
/// target; that JWKS, each of its keys and the issuer's RSA key as SPKI and PKCS#1 PEM for
/// the configured-key target.
async fn key_seeds(issuer: &MockIssuer) -> io::Result<Vec<(&'static str, String, Vec<u8>)>> {
    let jwks = issuer.state().jwks();
    let every = every_algorithm_jwks().await?;
    let mut seeds = vec![
        ("jwks", "issuer".to_owned(), jwks.to_string().into_bytes()),
        (
            "jwks",
            "every-algorithm".to_owned(),
            every.to_string().into_bytes(),
        ),
        (
            "static_key",
            "jwks".to_owned(),
            every.to_string().into_bytes(),
        ),
        (
            "static_key",
            "rsa-spki-pem".to_owned(),
            key_form(&jwks["keys"][0], KeyForm::SpkiPem),
        ),
        (
            "static_key",
            "rsa-pkcs1-pem".to_owned(),
            key_form(&jwks["keys"][0], KeyForm::Pkcs1Pem),
        ),
    ];
    for (index, jwk) in every["keys"].as_array().into_iter().flatten().enumerate() {
        seeds.push((
            "static_key",
            format!("jwk-{index}"),
            jwk.to_string().into_bytes(),
        ));
    }
    Ok(seeds)
}

/// The JWKS of a tenant with one API per signing algorithm the mock has.
async fn every_algorithm_jwks() -> io::Result<serde_json::Value> {
    let mut config = IssuerConfig::default().with_seed(31);
    for alg in [SigningAlg::Ps256, SigningAlg::Es256, SigningAlg::EdDsa] {
        config.apis.push(
            ApiConfig {
                identifier: format!("https://{}.example/api", alg.as_str().to_lowercase()),
                ..ApiConfig::default()
            }
            .with_signing_alg(alg),
        );
    }
    let tenant = MockIssuer::start(config).await.map_err(io::Error::other)?;
    Ok(tenant.state().jwks())
}
