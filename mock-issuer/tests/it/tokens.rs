//! Token contents: Auth0's dialect by default, RFC 9068 per API, RBAC permissions, and what
//! `mint` and `sign_raw` produce.

use mock_issuer::{ApiConfig, ClientConfig, Dialect, IssuerConfig, TokenSpec};
use serde_json::json;

use crate::helpers::{SHARED_SEED, decode, ordered_keys, raw_part, spawn, spawn_with};

const AUDIENCE: &str = "https://quickstarts/api";

#[tokio::test]
async fn an_issued_token_has_auth0s_header_and_claims_in_auth0s_order() {
    // Arrange
    let t = spawn().await;

    // Act
    let token = t.reader_token().await;

    // Assert
    let (header, claims) = decode(&token);
    assert_eq!(ordered_keys(&raw_part(&token, 0)), ["alg", "typ", "kid"]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], t.issuer.current_kid());
    // The default API adds permissions to its tokens: a client's are its granted scopes.
    assert_eq!(
        ordered_keys(&raw_part(&token, 1)),
        [
            "iss",
            "sub",
            "aud",
            "iat",
            "exp",
            "scope",
            "gty",
            "azp",
            "permissions"
        ]
    );
    assert_eq!(claims["iss"], t.issuer.url());
    assert_eq!(claims["sub"], "reader@clients");
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["scope"], "read:messages");
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["azp"], "reader");
    assert_eq!(claims["permissions"], json!(["read:messages"]));
    let iat = claims["iat"].as_u64().expect("iat");
    assert_eq!(claims["exp"].as_u64(), Some(iat + 86400));
}

fn tenant_with(api: ApiConfig) -> IssuerConfig {
    IssuerConfig {
        clients: vec![
            ClientConfig::new("svc", "svc-secret").grant(api.identifier.clone(), ["read:messages"]),
        ],
        apis: vec![api],
        ..IssuerConfig::default().with_seed(SHARED_SEED)
    }
}

async fn svc_token(t: &crate::helpers::TestIssuer) -> (u16, serde_json::Value) {
    t.token_json(&json!({
        "grant_type": "client_credentials",
        "client_id": "svc",
        "client_secret": "svc-secret",
        "audience": AUDIENCE,
    }))
    .await
}

#[tokio::test]
async fn an_rfc_9068_api_gets_at_jwt_tokens_with_client_id_and_jti() {
    // Arrange: random keys, as `xtask bench` runs the issuer (it needs distinct tokens). A
    // seeded issuer derives `jti` from the seed and the claims, so that its tokens are
    // reproducible: two identical requests within a second then get the same token.
    let t = spawn_with(IssuerConfig {
        seed: None,
        ..tenant_with(ApiConfig {
            dialect: Dialect::Rfc9068,
            ..ApiConfig::default()
        })
    })
    .await;

    // Act
    let (status, body) = svc_token(&t).await;
    let (_, again) = svc_token(&t).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let (header, claims) = decode(body["access_token"].as_str().expect("token"));
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["client_id"], "svc");
    assert_eq!(claims["sub"], "svc@clients");
    assert!(
        claims.get("azp").is_none() && claims.get("gty").is_none(),
        "{claims}"
    );
    let jti = claims["jti"].as_str().expect("jti");
    assert!(!jti.is_empty());
    let (_, other) = decode(again["access_token"].as_str().expect("token"));
    assert_ne!(
        other["jti"].as_str().expect("a second jti"),
        jti,
        "each token gets its own jti"
    );
}

#[tokio::test]
async fn an_api_with_rbac_permissions_adds_a_permissions_array() {
    let t = spawn_with(tenant_with(ApiConfig {
        permissions_in_token: true,
        ..ApiConfig::default()
    }))
    .await;

    let (status, body) = svc_token(&t).await;

    assert_eq!(status, 200, "{body}");
    let (_, claims) = decode(body["access_token"].as_str().expect("token"));
    assert_eq!(claims["permissions"], json!(["read:messages"]));
}

#[tokio::test]
async fn an_api_lifetime_sets_expires_in_and_exp() {
    let t = spawn_with(tenant_with(ApiConfig {
        token_lifetime: 600,
        ..ApiConfig::default()
    }))
    .await;

    let (_, body) = svc_token(&t).await;

    assert_eq!(body["expires_in"], 600);
    let (_, claims) = decode(body["access_token"].as_str().expect("token"));
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        600
    );
}

#[tokio::test]
async fn mint_builds_the_described_token() {
    // Arrange
    let t = spawn().await;
    let spec = TokenSpec::for_client("reader")
        .audience("https://other/api")
        .scopes(["read:messages", "write:messages"])
        .permissions(["read:messages"])
        .expires_in(60)
        .issued_at(1_700_000_000)
        .claim("https://example.com/roles", json!(["admin"]))
        .header("x-test", "yes");

    // Act
    let token = t.issuer.mint(&spec);

    // Assert
    let (header, claims) = decode(&token);
    assert_eq!(header["x-test"], "yes");
    assert_eq!(header["kid"], t.issuer.current_kid());
    assert_eq!(claims["aud"], "https://other/api");
    assert_eq!(claims["scope"], "read:messages write:messages");
    assert_eq!(claims["permissions"], json!(["read:messages"]));
    assert_eq!(claims["iat"], 1_700_000_000);
    assert_eq!(claims["exp"], 1_700_000_060);
    assert_eq!(claims["https://example.com/roles"], json!(["admin"]));
}

#[tokio::test]
async fn mint_can_make_expired_and_not_yet_valid_tokens() {
    let t = spawn().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();

    let (_, expired) = decode(&t.issuer.mint(&TokenSpec::for_client("reader").expired()));
    let (_, early) = decode(
        &t.issuer
            .mint(&TokenSpec::for_client("reader").not_before(3600)),
    );

    assert!(
        expired["exp"].as_u64().expect("exp") + 3000 < now,
        "{expired}"
    );
    let nbf = early["nbf"].as_u64().expect("nbf");
    assert!(nbf >= now + 3600 && nbf <= now + 3700, "{early}");
}

#[tokio::test]
async fn mint_can_remove_standard_claims_and_header_members() {
    let t = spawn().await;

    let token = t.issuer.mint(
        &TokenSpec::for_client("reader")
            .remove_claim("exp")
            .remove_header("kid"),
    );

    let (header, claims) = decode(&token);
    assert!(header.get("kid").is_none());
    assert!(claims.get("exp").is_none());
    assert_eq!(claims["sub"], "reader@clients");
}

#[tokio::test]
async fn sign_raw_signs_the_header_and_payload_as_given() {
    let t = spawn().await;
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let payload = json!({ "sub": "mallory" });

    let token = t.issuer.sign_raw(&header, &payload);

    let (got_header, got_payload) = decode(&token);
    assert_eq!(got_header, header);
    assert_eq!(got_payload, payload);
    assert_eq!(token.split('.').count(), 3);
}
