//! The tenant TOML file: users, roles and client types, their defaults, and errors that name the line.

use std::process::Command;

use mock_issuer::config::defaults;
use mock_issuer::{AppType, Error, IssuerConfig};

use crate::helpers::temp_dir;
use crate::served::{BIN, output};

/// The message of the configuration error `toml_text` makes; panics if it is accepted.
pub fn config_error(toml_text: &str) -> String {
    match IssuerConfig::default().with_tenant_toml(toml_text) {
        Ok(_) => panic!("accepted:\n{toml_text}"),
        Err(Error::Config(message)) => message,
        Err(other) => panic!("not a configuration error: {other}"),
    }
}

#[test]
fn the_default_tenant_has_the_quickstart_users_and_their_permissions() {
    let config = IssuerConfig::default();
    let manager = config
        .user_by_email(defaults::MANAGER_EMAIL)
        .expect("the manager exists");
    let user = config
        .user_by_email("USER@example.com")
        .expect("emails match without case");

    assert_eq!(manager.password, "manager-password");
    assert_eq!(user.password, "user-password");
    assert_eq!(manager.roles, ["manager"]);
    assert!(user.roles.is_empty());
    assert_eq!(
        config.permissions(manager, defaults::API_AUDIENCE),
        ["read:messages"]
    );
    assert!(config.permissions(user, defaults::API_AUDIENCE).is_empty());
    for someone in [manager, user] {
        let hex = someone.id.strip_prefix("auth0|").expect("an auth0| id");
        assert_eq!(hex.len(), 24, "{}", someone.id);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{}", someone.id);
        assert!(someone.email_verified);
    }
    assert_ne!(manager.id, user.id);
    assert_eq!(manager.nickname, "manager");
    assert_eq!(manager.name, "manager@example.com");
    assert_eq!(manager.picture, "https://cdn.auth0.com/avatars/ma.png");
}

#[test]
fn user_ids_are_stable_across_tenants_and_restarts() {
    let first = IssuerConfig::default();
    let second = IssuerConfig::default().with_seed(7);
    assert_eq!(first.users, second.users);
}

#[test]
fn the_default_api_has_rbac_with_permissions_and_offline_access() {
    let config = IssuerConfig::default();
    let api = config
        .api(defaults::API_AUDIENCE)
        .expect("the quickstart API");
    assert!(api.rbac);
    assert!(api.permissions_in_token);
    assert!(api.allow_offline_access);
}

#[test]
fn the_default_spa_is_public_with_pkce_origins_and_rotation() {
    let config = IssuerConfig::default();
    let spa = config.client("spa").expect("the spa client");

    assert_eq!(spa.app_type, AppType::Spa);
    assert!(spa.is_public());
    assert!(spa.rotates_refresh_tokens());
    assert_eq!(spa.grant_types, ["authorization_code", "refresh_token"]);
    assert_eq!(
        spa.callbacks,
        [
            "http://localhost:3000",
            "http://localhost:3000/callback",
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/callback",
        ]
    );
    assert_eq!(
        spa.web_origins,
        ["http://localhost:3000", "http://127.0.0.1:3000"]
    );
    assert_eq!(spa.allowed_logout_urls, spa.web_origins);
    assert!(spa.grants.is_empty());
}

#[test]
fn the_default_webapp_is_confidential_and_the_machine_clients_are_unchanged() {
    let config = IssuerConfig::default();
    let webapp = config.client("webapp").expect("the webapp client");
    assert_eq!(webapp.app_type, AppType::RegularWeb);
    assert_eq!(webapp.secret.as_deref(), Some("webapp-secret"));
    assert_eq!(webapp.callbacks, ["http://localhost:3000/callback"]);
    assert_eq!(webapp.allowed_logout_urls, ["http://localhost:3000"]);
    assert!(!webapp.rotates_refresh_tokens());

    let reader = config.client("reader").expect("the reader client");
    assert_eq!(reader.app_type, AppType::NonInteractive);
    assert_eq!(reader.secret.as_deref(), Some("reader-secret"));
    assert_eq!(reader.grant_types, ["client_credentials"]);
    assert!(reader.callbacks.is_empty());
    let no_scopes = config.client("no-scopes").expect("the no-scopes client");
    assert_eq!(no_scopes.secret.as_deref(), Some("no-scopes-secret"));
}

#[test]
fn a_file_gives_users_roles_and_a_spa_with_derived_defaults() {
    let config = IssuerConfig::default()
        .with_tenant_toml(
            r#"
            [[apis]]
            identifier = "https://orders/api"
            scopes = ["read:orders", "write:orders"]
            rbac = true

            [[roles]]
            name = "clerk"
            permissions = [{ audience = "https://orders/api", scopes = ["read:orders"] }]

            [[users]]
            email = "Ada@Example.com"
            password = "pw"
            roles = ["clerk"]

            [[clients]]
            id = "shop-spa"
            app_type = "spa"
            callbacks = ["https://shop.example/callback"]
            web_origins = ["https://shop.example"]
            "#,
        )
        .expect("a valid tenant");

    let ada = config.user_by_email("ada@example.com").expect("Ada");
    assert_eq!(ada.nickname, "Ada");
    assert_eq!(ada.picture, "https://cdn.auth0.com/avatars/ad.png");
    assert_eq!(
        config.permissions(ada, "https://orders/api"),
        ["read:orders"]
    );
    let spa = config.client("shop-spa").expect("the spa");
    assert_eq!(spa.grant_types, ["authorization_code", "refresh_token"]);
    assert!(spa.rotates_refresh_tokens());
}

#[test]
fn a_file_that_replaces_the_apis_keeps_working_with_the_default_users() {
    // The default role grants on the quickstart's API; a file with other APIs must still load.
    let config = IssuerConfig::default()
        .with_tenant_toml(
            r#"
            [[apis]]
            identifier = "https://orders/api"
            "#,
        )
        .expect("a valid tenant");
    let manager = config.user_by_email(defaults::MANAGER_EMAIL).expect("kept");
    assert!(config.permissions(manager, "https://orders/api").is_empty());
}

#[test]
fn inconsistent_clients_are_refused_with_the_line_and_the_reason() {
    let cases = [
        (
            "[[clients]]\nid = \"a\"\napp_type = \"spa\"\nsecret = \"s\"\n",
            "client `a`: a single-page app (`spa`) is public: remove `secret`",
        ),
        (
            "[[clients]]\nid = \"m2m\"\n",
            "client `m2m`: a `non_interactive` application is confidential: give it a `secret`",
        ),
        (
            "[[clients]]\nid = \"w\"\napp_type = \"regular_web\"\nsecret = \"s\"\nweb_origins = [\"http://localhost:3000/\"]\n",
            "client `w`: web_origins: `http://localhost:3000/` is not an origin",
        ),
        (
            "[[clients]]\nid = \"w\"\napp_type = \"regular_web\"\nsecret = \"s\"\ncallbacks = [\"javascript:alert(1)\"]\n",
            "client `w`: callbacks: `javascript:alert(1)` is not an http or https URL",
        ),
    ];
    for (text, expected) in cases {
        let message = config_error(text);
        assert!(message.starts_with("line 1: "), "{message}");
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn users_and_roles_are_checked_against_each_other() {
    let unknown_role = config_error(
        "[[roles]]\nname = \"r\"\n\n[[users]]\nemail = \"a@b.c\"\npassword = \"p\"\nroles = [\"s\"]\n",
    );
    assert_eq!(unknown_role, "line 4: user `a@b.c` has unknown role `s`");

    let twice = config_error(
        "[[users]]\nemail = \"a@b.c\"\npassword = \"p\"\n[[users]]\nemail = \"A@b.c\"\npassword = \"q\"\n",
    );
    assert_eq!(twice, "line 4: user `A@b.c` is defined twice");

    let bad_scope = config_error(
        "[[roles]]\nname = \"r\"\npermissions = [{ audience = \"https://quickstarts/api\", scopes = [\"fly\"] }]\n",
    );
    assert_eq!(
        bad_scope,
        "line 1: role `r`: grants scope `fly`, which API `https://quickstarts/api` does not define"
    );

    let no_password = config_error("[[users]]\nemail = \"a@b.c\"\n");
    assert!(no_password.starts_with("line 1: "), "{no_password}");
    assert!(no_password.contains("`password`"), "{no_password}");
}

#[test]
fn the_binary_names_the_file_and_the_line_of_a_bad_tenant() {
    let dir = temp_dir("tenant-error");
    let file = dir.join("tenant.toml");
    std::fs::write(
        &file,
        "# my tenant\n\n[[users]]\nemail = \"a@b.c\"\npassword = \"p\"\nroles = [\"ghost\"]\n",
    )
    .expect("written");

    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(&dir)
        .arg("--config")
        .arg(&file)
        .arg("jwks");
    let result = output(command);

    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    let expected = format!(
        "{}, line 3: user `a@b.c` has unknown role `ghost`",
        file.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}
