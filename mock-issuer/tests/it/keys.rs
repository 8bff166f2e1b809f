//! Keys over time: rotation and revocation, seeded determinism, persistence across restarts.

use mock_issuer::{IssuerConfig, KeySummary, TokenSpec};
use serde_json::Value;

use crate::helpers::{SHARED_SEED, decode, spawn, spawn_with, temp_dir};

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn rotation_promotes_next_publishes_a_new_next_and_keeps_previous_until_revoked() {
    // Arrange
    let t = spawn().await;
    let (_, before) = t.get(".well-known/jwks.json").await;
    let [current, next] = <[String; 2]>::try_from(kids(&before)).expect("two keys");

    // Act
    t.issuer.rotate().expect("rotate");
    let (_, rotated) = t.get(".well-known/jwks.json").await;
    let token = t.reader_token().await;
    t.issuer.revoke_previous().expect("revoke");
    let (_, revoked) = t.get(".well-known/jwks.json").await;

    // Assert
    let rotated = kids(&rotated);
    assert_eq!(rotated.len(), 3);
    assert_eq!(rotated[0], next, "next became current");
    assert!(
        !before["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == rotated[1].as_str()),
        "a new next"
    );
    assert_eq!(rotated[2], current, "previous is still published");
    assert_eq!(t.issuer.current_kid(), next);
    assert_eq!(
        decode(&token).0["kid"],
        next.as_str(),
        "new tokens use the new current key"
    );
    assert_eq!(kids(&revoked), rotated[..2]);
}

#[tokio::test]
async fn the_admin_surface_rotates_revokes_and_reports_keys() {
    // Arrange
    let t = spawn().await;
    let post = |path: &str| {
        t.http
            .post(format!("{}_mock/{path}", t.issuer.url()))
            .send()
    };

    // Act
    let (_, before) = t.get("_mock/keys").await;
    let rotated = crate::helpers::read(post("rotate").await.expect("sent")).await;
    let revoked = crate::helpers::read(post("revoke-previous").await.expect("sent")).await;

    // Assert
    let summary =
        |body: Value| -> KeySummary { serde_json::from_value(body).expect("kids by role") };
    let before = summary(before);
    assert_eq!(rotated.0, 200);
    let rotated = summary(rotated.1);
    assert_eq!(rotated.current, before.next);
    assert_eq!(rotated.previous, Some(before.current));
    assert_eq!(revoked.0, 200);
    let revoked = summary(revoked.1);
    assert_eq!(revoked.previous, None);
    assert_eq!(revoked.current, before.next);
}

#[tokio::test]
async fn the_same_seed_and_claims_give_a_byte_identical_token() {
    // Arrange: two separate issuers, same seed, same port-independent claims.
    let a = spawn().await;
    let b = spawn().await;
    let spec = TokenSpec::for_client("reader")
        .scopes(["read:messages"])
        .issued_at(1_700_000_000)
        .claim("iss", "https://tenant.example/");

    // Act
    let token_a = a.issuer.mint(&spec);
    let token_b = b.issuer.mint(&spec);

    // Assert
    assert_eq!(token_a, token_b);
    let (_, jwks_a) = a.get(".well-known/jwks.json").await;
    let (_, jwks_b) = b.get(".well-known/jwks.json").await;
    assert_eq!(
        jwks_a, jwks_b,
        "keys and certificates are deterministic too"
    );
}

#[tokio::test]
async fn seeded_rotation_is_deterministic() {
    let a = spawn().await;
    let b = spawn().await;

    a.issuer.rotate().expect("rotate");
    b.issuer.rotate().expect("rotate");

    assert_eq!(a.issuer.key_summary(), b.issuer.key_summary());
}

#[tokio::test]
async fn different_seeds_and_random_keys_differ() {
    let seeded = spawn().await;
    let other = spawn_with(IssuerConfig::default().with_seed(SHARED_SEED + 1)).await;
    let random = spawn_with(IssuerConfig::default()).await;

    let kids = [&seeded, &other, &random].map(|t| t.issuer.current_kid());

    assert_ne!(kids[0], kids[1]);
    assert_ne!(kids[0], kids[2]);
    assert_ne!(kids[1], kids[2]);
}

#[tokio::test]
async fn keys_persist_across_a_restart_with_the_same_data_dir() {
    // Arrange: random keys, rotated once, so only the data dir can reproduce them.
    let dir = temp_dir("persist");
    let first = spawn_with(IssuerConfig::default().with_data_dir(&dir)).await;
    first.issuer.rotate().expect("rotate");
    let (_, jwks_before) = first.get(".well-known/jwks.json").await;
    let token = first.issuer.mint(
        &TokenSpec::for_client("reader")
            .issued_at(1_700_000_000)
            .claim("iss", "x"),
    );
    first.issuer.shutdown().await.expect("clean shutdown");

    // Act
    let second = spawn_with(IssuerConfig::default().with_data_dir(&dir)).await;
    let (_, jwks_after) = second.get(".well-known/jwks.json").await;
    let again = second.issuer.mint(
        &TokenSpec::for_client("reader")
            .issued_at(1_700_000_000)
            .claim("iss", "x"),
    );

    // Assert
    assert_eq!(jwks_after, jwks_before);
    assert_eq!(again, token);
}

#[cfg(unix)]
#[tokio::test]
async fn the_persisted_key_ring_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("perms");

    let _t = spawn_with(
        IssuerConfig::default()
            .with_seed(SHARED_SEED)
            .with_data_dir(&dir),
    )
    .await;

    let mode = std::fs::metadata(dir.join("keyring.json"))
        .expect("keyring")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn a_shut_down_issuer_stops_serving() {
    // Arrange
    let t = spawn().await;
    let url = t.issuer.jwks_url();
    let http = t.http.clone();

    // Act
    t.issuer.shutdown().await.expect("clean shutdown");
    let result = http.get(url).send().await;

    // Assert
    assert!(result.is_err(), "nothing listens any more");
}
