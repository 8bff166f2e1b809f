//! Discovery: both well-known paths serve Auth0's document with exact endpoint URLs.

use crate::helpers::{keys_of, spawn};

const AUTH0_FIELDS: &[&str] = &[
    "authorization_endpoint",
    "claims_supported",
    "code_challenge_methods_supported",
    "device_authorization_endpoint",
    // Listed by a tenant with DPoP, as the mock's token endpoint binds tokens to DPoP keys.
    "dpop_signing_alg_values_supported",
    "end_session_endpoint",
    "id_token_signing_alg_values_supported",
    "issuer",
    "jwks_uri",
    "mfa_challenge_endpoint",
    "registration_endpoint",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "response_modes_supported",
    "response_types_supported",
    "revocation_endpoint",
    "scopes_supported",
    "subject_types_supported",
    "token_endpoint",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "userinfo_endpoint",
];

#[tokio::test]
async fn openid_configuration_has_auth0s_fields_and_exact_endpoints() {
    // Arrange
    let t = spawn().await;
    let issuer = t.issuer.url().to_owned();

    // Act
    let (status, doc) = t.get(".well-known/openid-configuration").await;

    // Assert
    assert_eq!(status, 200);
    assert!(
        issuer.ends_with('/'),
        "the issuer keeps Auth0's trailing slash: {issuer}"
    );
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["jwks_uri"], format!("{issuer}.well-known/jwks.json"));
    assert_eq!(doc["token_endpoint"], format!("{issuer}oauth/token"));
    assert_eq!(doc["authorization_endpoint"], format!("{issuer}authorize"));
    assert_eq!(doc["userinfo_endpoint"], format!("{issuer}userinfo"));
    assert_eq!(doc["revocation_endpoint"], format!("{issuer}oauth/revoke"));
    assert_eq!(doc["end_session_endpoint"], format!("{issuer}oidc/logout"));
    assert_eq!(keys_of(&doc), AUTH0_FIELDS);
    assert!(doc.get("grant_types_supported").is_none());
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["HS256", "RS256", "PS256"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"]),
        "the mock refuses plain PKCE at /authorize, so it does not list it"
    );
    for list in [
        "scopes_supported",
        "response_types_supported",
        "claims_supported",
    ] {
        assert!(
            doc[list].as_array().is_some_and(|a| !a.is_empty()),
            "{list}"
        );
    }
}

#[tokio::test]
async fn the_rfc_8414_path_serves_the_same_document() {
    // Arrange
    let t = spawn().await;

    // Act
    let (_, openid) = t.get(".well-known/openid-configuration").await;
    let (status, oauth) = t.get(".well-known/oauth-authorization-server").await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(oauth, openid);
}

#[tokio::test]
async fn healthz_answers_ok() {
    let t = spawn().await;

    let (status, body) = t.get("healthz").await;

    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn the_issuer_url_is_the_bound_port_with_a_trailing_slash() {
    let t = spawn().await;

    let url = t.issuer.url();

    assert_eq!(url, format!("http://127.0.0.1:{}/", t.issuer.addr().port()));
    assert_eq!(t.issuer.jwks_url(), format!("{url}.well-known/jwks.json"));
}
