//! Configuration from the environment, and the binary's start-up behaviour.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use api::config::{Config, ConfigError};
use api::routes::CorsOrigins;

use crate::helpers::{api_binary, start_api_binary};

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

fn error_line(pairs: &[(&str, &str)]) -> String {
    config(pairs)
        .expect_err("invalid configuration")
        .to_string()
}

const REQUIRED: [(&str, &str); 2] = [
    ("ISSUER_BASE_URL", "https://tenant.auth0.com"),
    ("AUDIENCE", "https://quickstarts/api"),
];

#[test]
fn the_sample_variables_give_the_reference_defaults() {
    let config = config(&REQUIRED).expect("valid");

    assert_eq!(
        config.auth.issuer_base_url.expect("base").as_str(),
        "https://tenant.auth0.com/"
    );
    assert_eq!(config.auth.audiences, ["https://quickstarts/api"]);
    assert_eq!(
        (config.host.to_string(), config.port),
        ("127.0.0.1".into(), 3010)
    );
    assert_eq!(config.cors_origins, CorsOrigins::default());
    assert_eq!(config.auth.clock_tolerance, Duration::from_secs(5));
    assert_eq!(config.auth.algorithms, [api::auth::Algorithm::RS256]);
    assert!(!config.auth.strict && !config.auth.allow_query_token);
    assert_eq!(config.auth.jwks, api::auth::JwksPolicy::default());
}

#[test]
fn auth0_domain_and_audience_are_an_alternative() {
    let config = config(&[
        ("AUTH0_DOMAIN", "tenant.eu.auth0.com"),
        ("AUTH0_AUDIENCE", "https://api"),
    ])
    .expect("valid");

    assert_eq!(
        config.auth.issuer_base_url.expect("base").as_str(),
        "https://tenant.eu.auth0.com/"
    );
    assert_eq!(config.auth.audiences, ["https://api"]);
}

#[test]
fn a_missing_issuer_or_audience_names_both_variables() {
    for pairs in [
        &[][..],
        &REQUIRED[..1],
        &REQUIRED[1..],
        &[("ISSUER_BASE_URL", "https://t/"), ("AUDIENCE", " ")][..],
    ] {
        let line = error_line(pairs);
        assert!(
            line.contains("ISSUER_BASE_URL") && line.contains("AUDIENCE"),
            "{line}"
        );
    }
}

#[test]
fn malformed_settings_name_the_variable_and_what_it_expects() {
    let cases = [
        ("ISSUER_BASE_URL", "tenant.auth0.com"),
        ("ISSUER_BASE_URL", "http://tenant.auth0.com"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("HOST", "localhost:80"),
        ("CLOCK_TOLERANCE", "soon"),
        ("STRICT", "maybe"),
        ("ALGORITHMS", "HS256"),
        ("ALGORITHMS", "RS256,none"),
        ("CORS_ORIGINS", "localhost:3000"),
        ("CORS_ORIGINS", "http://localhost:3000/app"),
        ("JWKS_URI", "http://keys.example/jwks.json"),
        ("HTTP_TIMEOUT", "0"),
    ];
    for (variable, value) in cases {
        let mut pairs = REQUIRED.to_vec();
        pairs.retain(|(name, _)| *name != variable);
        pairs.push((variable, value));
        let line = error_line(&pairs);
        assert!(
            line.starts_with(&format!("{variable}: expected ")),
            "{variable}={value}: {line}"
        );
    }
}

#[test]
fn optional_settings_are_read() {
    let mut pairs = REQUIRED.to_vec();
    pairs.extend([
        ("AUDIENCE", "https://a, https://b"),
        ("ISSUER", "https://tenant.auth0.com/"),
        ("HOST", "0.0.0.0"),
        ("PORT", "0"),
        ("CORS_ORIGINS", "http://localhost:3000, https://app.example"),
        ("CLOCK_TOLERANCE", "10"),
        ("MAX_TOKEN_AGE", "1h"),
        ("STRICT", "true"),
        ("ALGORITHMS", "RS256, PS256"),
        ("ALLOW_QUERY_TOKEN", "yes"),
        ("JWKS_COOLDOWN", "500ms"),
        ("ALLOW_INSECURE_ISSUER", "true"),
        ("JWKS_URI", "http://keys.internal/jwks.json"),
    ]);
    pairs.remove(1);
    let config = config(&pairs).expect("valid");

    assert_eq!(config.auth.audiences, ["https://a", "https://b"]);
    assert_eq!(
        config.auth.issuer.as_deref(),
        Some("https://tenant.auth0.com/")
    );
    assert_eq!(config.port, 0);
    assert!(matches!(config.cors_origins, CorsOrigins::List(ref origins) if origins.len() == 2));
    assert_eq!(config.auth.clock_tolerance, Duration::from_secs(10));
    assert_eq!(config.auth.max_token_age, Some(Duration::from_secs(3600)));
    assert!(config.auth.strict && config.auth.allow_query_token);
    assert_eq!(config.auth.algorithms.len(), 2);
    assert_eq!(config.auth.jwks.cooldown, Duration::from_millis(500));
    assert_eq!(
        config.auth.jwks_uri.expect("jwks").as_str(),
        "http://keys.internal/jwks.json"
    );
}

#[test]
fn the_binary_stops_with_one_clear_line_when_configuration_is_missing() {
    let output = api_binary(&[]).output().expect("run api");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: missing configuration: set ISSUER_BASE_URL and AUDIENCE"),
        "{stderr}"
    );
}

#[test]
fn the_binary_starts_even_when_the_issuer_is_unreachable() {
    let (mut child, address) = start_api_binary(UNREACHABLE_ISSUER, Stdio::null());
    child.kill().expect("kill");
    let _ = child.wait();

    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
}

/// An issuer nobody listens for, so the binary must start without it.
const UNREACHABLE_ISSUER: &[(&str, &str)] = &[
    ("ISSUER_BASE_URL", "http://127.0.0.1:1/"),
    ("AUDIENCE", "x"),
    ("PORT", "0"),
    ("RUST_LOG", "off"),
];

#[test]
fn the_binary_exits_cleanly_on_sigterm() {
    let (mut child, _address) = start_api_binary(UNREACHABLE_ISSUER, Stdio::null());

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = child.wait().expect("wait");

    assert_eq!(status.code(), Some(0));
}
