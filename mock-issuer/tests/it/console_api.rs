//! The admin endpoints behind the console: tenant summary, minting as a client or a user,
//! decoding; and the console page's own headers and files.

use mock_issuer::admin::{KeyRole, MintRequest, Verification};
use mock_issuer::config::defaults;
use mock_issuer::{ClientError, IssuerConfig, TokenSpec, UserConfig};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_FRAME_OPTIONS};
use serde_json::json;

use crate::helpers::{SHARED_SEED, decode, read, spawn, spawn_with};

/// A seed other than the shared one: another tenant's keys.
const FOREIGN_SEED: u64 = 7;

/// The default manager's user id, as the configuration derives it.
fn manager_id() -> String {
    UserConfig::defaults()
        .into_iter()
        .find(|u| u.email == defaults::MANAGER_EMAIL)
        .expect("the default manager")
        .id
}

/// The 400 message of a refused admin call.
fn refusal(result: Result<impl std::fmt::Debug, ClientError>) -> String {
    match result {
        Err(ClientError::Status {
            status: 400,
            message,
            ..
        }) => message,
        other => panic!("expected a 400 with an admin error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_tenant_summary_shows_apis_clients_users_roles_and_keys() {
    let t = spawn().await;

    let tenant = t.client().tenant().await.expect("the tenant");

    assert_eq!(tenant.issuer, t.issuer.url());
    assert_eq!(tenant.keys, t.issuer.key_summary());
    let api = &tenant.apis[0];
    assert_eq!(api.identifier, defaults::API_AUDIENCE);
    assert_eq!(api.scopes, ["read:messages", "write:messages"]);
    assert_eq!(api.dialect, "auth0");
    assert!(api.rbac && api.permissions_in_token && api.allow_offline_access);
    let client = |id: &str| {
        tenant
            .clients
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("client {id}"))
    };
    let spa = client(defaults::SPA_CLIENT_ID);
    assert_eq!(
        (spa.app_type.as_str(), spa.secret.as_deref()),
        ("spa", None)
    );
    assert_eq!(spa.web_origins, defaults::SPA_ORIGINS);
    assert_eq!(spa.callbacks.len(), 4);
    assert!(spa.rotate_refresh_tokens);
    let reader = client(defaults::READER_CLIENT_ID);
    assert_eq!(
        reader.secret.as_deref(),
        Some(defaults::READER_CLIENT_SECRET)
    );
    assert_eq!(reader.grants[0].scopes, [defaults::READ_MESSAGES]);
    let webapp = client(defaults::WEBAPP_CLIENT_ID);
    assert_eq!(webapp.app_type, "regular_web");
    assert_eq!(
        webapp.secret.as_deref(),
        Some(defaults::WEBAPP_CLIENT_SECRET)
    );
    let manager = &tenant.users[0];
    assert_eq!(manager.email, defaults::MANAGER_EMAIL);
    assert_eq!(manager.password, defaults::MANAGER_PASSWORD);
    assert_eq!(manager.id, manager_id());
    assert_eq!(manager.roles, [defaults::MANAGER_ROLE]);
    assert_eq!(manager.permissions[0].audience, defaults::API_AUDIENCE);
    assert_eq!(manager.permissions[0].scopes, [defaults::READ_MESSAGES]);
    let user = &tenant.users[1];
    assert_eq!(user.email, defaults::USER_EMAIL);
    assert!(user.roles.is_empty() && user.permissions.is_empty());
    assert_eq!(tenant.roles[0].name, defaults::MANAGER_ROLE);
}

#[tokio::test]
async fn a_token_minted_for_the_manager_is_a_users_token_with_its_permissions() {
    let t = spawn().await;
    let request = MintRequest::for_user(defaults::MANAGER_EMAIL, defaults::SPA_CLIENT_ID)
        .scopes(["read:messages"]);

    let minted = t.client().mint(&request).await.expect("minted");

    let (header, claims) = decode(minted.token.expose());
    assert_eq!(header["kid"], t.issuer.current_kid());
    assert_eq!(minted.kid, Some(t.issuer.current_kid()));
    assert_eq!(minted.alg, mock_issuer::SigningAlg::Rs256);
    assert_eq!(claims["sub"], manager_id());
    assert_eq!(claims["azp"], defaults::SPA_CLIENT_ID);
    assert_eq!(claims["aud"], defaults::API_AUDIENCE);
    assert_eq!(claims["scope"], "read:messages");
    assert_eq!(claims["permissions"], json!(["read:messages"]));
    assert!(claims.get("gty").is_none(), "{claims}");
}

#[tokio::test]
async fn a_user_without_roles_gets_no_permissions_and_openid_adds_the_userinfo_audience() {
    let t = spawn().await;
    let tenant = t.client().tenant().await.expect("the tenant");
    let user_id = tenant.users[1].id.clone();
    let request = MintRequest::for_user(&user_id, defaults::SPA_CLIENT_ID)
        .scopes(["openid", "read:messages"]);

    let minted = t.client().mint(&request).await.expect("minted");

    let (_, claims) = decode(minted.token.expose());
    assert_eq!(claims["sub"], user_id);
    assert_eq!(claims["permissions"], json!([]));
    let userinfo = format!("{}userinfo", t.issuer.url());
    assert_eq!(claims["aud"], json!([defaults::API_AUDIENCE, userinfo]));
}

#[tokio::test]
async fn a_clients_token_carries_gty_and_its_scopes_as_permissions() {
    let t = spawn().await;
    let request = MintRequest::for_client(defaults::NO_SCOPES_CLIENT_ID).scopes(["write:messages"]);

    let minted = t.client().mint(&request).await.expect("minted");

    let (_, claims) = decode(minted.token.expose());
    assert_eq!(claims["sub"], "no-scopes@clients");
    assert_eq!(claims["gty"], "client-credentials");
    // Grants are not checked: minting is a developer tool.
    assert_eq!(claims["permissions"], json!(["write:messages"]));
}

#[tokio::test]
async fn extra_claims_and_the_lifetime_are_applied() {
    let t = spawn().await;
    let request = MintRequest::for_client(defaults::READER_CLIENT_ID)
        .claim("note", "<b>hello</b>")
        .claim("tenant", json!({"plan": "free"}))
        .expires_in(120);

    let minted = t.client().mint(&request).await.expect("minted");

    let (_, claims) = decode(minted.token.expose());
    assert_eq!(claims["note"], "<b>hello</b>");
    assert_eq!(claims["tenant"], json!({"plan": "free"}));
    assert_eq!(minted.expires_in, 120);
    let lifetime = claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat");
    assert_eq!(lifetime, 120);
}

#[tokio::test]
async fn a_mint_naming_what_the_tenant_lacks_is_refused_with_the_reason() {
    let t = spawn().await;
    let client = t.client();
    let reader = || MintRequest::for_client(defaults::READER_CLIENT_ID);
    let cases = [
        (MintRequest::for_client("nobody"), "unknown client `nobody`"),
        (
            MintRequest::for_user("ghost@example.com", defaults::SPA_CLIENT_ID),
            "unknown user `ghost@example.com`",
        ),
        (
            reader().audience("https://elsewhere"),
            "unknown audience `https://elsewhere`",
        ),
        (
            reader().expires_in(0),
            "expires_in 0 is outside 1..=2592000",
        ),
        (
            reader().expires_in(2_592_001),
            "expires_in 2592001 is outside",
        ),
        (
            MintRequest {
                claims: Some(json!(["not", "an", "object"])),
                ..reader()
            },
            "claims must be a JSON object",
        ),
    ];
    for (request, expected) in cases {
        let message = refusal(client.mint(&request).await);
        assert!(message.contains(expected), "{request:?}: {message}");
    }
}

#[tokio::test]
async fn inspect_verifies_a_fresh_token_by_the_current_key() {
    let t = spawn().await;
    let token = t.reader_token().await;

    let inspection = t.client().inspect(&token).await.expect("inspected");

    assert_eq!(
        inspection.verification,
        Verification::Verified {
            kid: t.issuer.current_kid(),
            key: Some(KeyRole::Current),
        }
    );
    assert_eq!(inspection.claims["sub"], "reader@clients");
    assert_eq!(inspection.header["alg"], "RS256");
    let left = inspection.seconds_left.expect("exp");
    assert!((86_390..=86_400).contains(&left), "{left}");
    assert!(
        inspection.expiry.starts_with("expires in "),
        "{}",
        inspection.expiry
    );
}

#[tokio::test]
async fn inspect_says_how_long_ago_a_token_expired_and_still_verifies_it() {
    let t = spawn().await;
    let token = t.issuer.mint(&TokenSpec::for_client("reader").expired());

    let inspection = t.client().inspect(&token).await.expect("inspected");

    assert!(matches!(
        inspection.verification,
        Verification::Verified { .. }
    ));
    let left = inspection.seconds_left.expect("exp");
    assert!(left <= -3600, "{left}");
    assert_eq!(inspection.expiry, format!("expired {} s ago", -left));
}

#[tokio::test]
async fn inspect_shows_a_foreign_token_and_why_it_does_not_verify() {
    let ours = spawn().await;
    let theirs = spawn_with(IssuerConfig::default().with_seed(FOREIGN_SEED)).await;
    let own_kid = theirs.issuer.mint(&TokenSpec::for_client("reader"));
    let borrowed_kid = theirs.issuer.mint(
        &TokenSpec::for_client("reader")
            .header("kid", ours.issuer.current_kid())
            .claim("who", "mallory"),
    );

    let unknown = ours.client().inspect(&own_kid).await.expect("inspected");
    let forged = ours
        .client()
        .inspect(&borrowed_kid)
        .await
        .expect("inspected");

    assert_eq!(
        unknown.verification,
        Verification::NotVerified {
            reason: "no key the tenant publishes has this kid".into()
        }
    );
    assert_eq!(
        forged.verification,
        Verification::NotVerified {
            reason: "the signature does not verify with the key named by kid".into()
        }
    );
    // Readable all the same, so a person sees what the token claims.
    assert_eq!(forged.claims["who"], "mallory");
}

#[tokio::test]
async fn inspect_refuses_what_is_not_a_jws_with_the_reason() {
    let t = spawn().await;
    let client = t.client();

    let garbage = refusal(client.inspect("not a token").await);
    let bad_header = refusal(client.inspect("e30=.e30.AA").await);

    assert_eq!(
        garbage,
        "not a compact JWS: expected three dot-separated parts"
    );
    assert_eq!(bad_header, "the header is not base64url without padding");
}

#[tokio::test]
async fn a_revoked_keys_token_no_longer_verifies() {
    let t = spawn().await;
    let token = t.reader_token().await;
    let client = t.client();
    client.rotate().await.expect("rotated");
    let still = client.inspect(&token).await.expect("inspected");
    client.revoke_previous().await.expect("revoked");

    let revoked = client.inspect(&token).await.expect("inspected");

    assert!(matches!(
        still.verification,
        Verification::Verified {
            key: Some(KeyRole::Previous),
            ..
        }
    ));
    assert!(matches!(
        revoked.verification,
        Verification::NotVerified { .. }
    ));
}

#[tokio::test]
async fn with_an_admin_token_the_console_data_needs_it_and_the_page_does_not() {
    let t = spawn_with(
        IssuerConfig::default()
            .with_seed(SHARED_SEED)
            .with_admin_token("console-admin-token"),
    )
    .await;
    let token = t.reader_token().await;

    let without = t.client();
    let with = t.client().with_admin_token("console-admin-token");
    let page = t.http.get(t.issuer.url()).send().await.expect("sent");

    assert_eq!(
        without.tenant().await.err().and_then(|e| e.status()),
        Some(401)
    );
    let mint = without.mint(&MintRequest::for_client("reader")).await;
    assert_eq!(mint.err().and_then(|e| e.status()), Some(401));
    assert_eq!(
        without.inspect(&token).await.err().and_then(|e| e.status()),
        Some(401)
    );
    assert!(with.tenant().await.is_ok());
    assert!(with.inspect(&token).await.is_ok());
    assert_eq!(page.status(), 200);
}

/// The console's three files, fetched: status, headers and body of each.
async fn console_files() -> Vec<(String, reqwest::header::HeaderMap, String)> {
    let t = spawn().await;
    let mut files = Vec::new();
    for path in ["", "console.js", "console.css"] {
        let response = t
            .http
            .get(format!("{}{path}", t.issuer.url()))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "/{path}");
        let headers = response.headers().clone();
        let (_, body) = read(response).await;
        files.push((
            path.to_owned(),
            headers,
            body.as_str().unwrap_or_default().to_owned(),
        ));
    }
    files
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_policy_and_no_inline_script() {
    let files = console_files().await;

    let types: Vec<&str> = files
        .iter()
        .map(|(_, h, _)| h[CONTENT_TYPE].to_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "text/html; charset=utf-8",
            "text/javascript; charset=utf-8",
            "text/css; charset=utf-8"
        ]
    );
    for (path, headers, _) in &files {
        let csp = headers[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or_default();
        assert!(
            csp.starts_with("default-src 'self'; script-src 'self';"),
            "/{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "/{path}: {csp}");
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY", "/{path}");
        assert_eq!(headers[CACHE_CONTROL], "no-store", "/{path}");
    }
    let page = &files[0].2;
    // Every script element loads a file: the policy would block an inline one anyway.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert!(page.contains(r#"<script src="/console.js" defer></script>"#));
}

#[tokio::test]
async fn the_console_script_never_parses_data_as_html() {
    let files = console_files().await;

    let script = &files[1].2;

    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!script.contains(sink), "console.js uses {sink}");
    }
    assert!(script.contains("createTextNode"));
}

#[tokio::test]
async fn a_malformed_mint_body_is_a_400_naming_the_field() {
    let t = spawn().await;

    let response = t
        .http
        .post(format!("{}_mock/mint", t.issuer.url()))
        .json(&json!({"client_id": "reader", "expires_in": -5}))
        .send()
        .await
        .expect("sent");
    let (status, body) = read(response).await;

    assert_eq!(status, 400);
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("expires_in"), "{body}");
}
