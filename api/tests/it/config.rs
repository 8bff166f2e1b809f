//! Configuration from the environment: every variable's default and effect, the refusal of
//! nonsense naming the variable, and the binary's start-up behaviour.

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use api::ServerLimits;
use api::auth::{Algorithm, JwksPolicy, TokenCachePolicy};
use api::config::{Config, ConfigError};
use api::routes::CorsOrigins;
use axum::http::HeaderValue;
use url::Url;

use crate::helpers::{api_binary, start_api_binary};

/// The two variables the Express sample requires.
const REQUIRED: [(&str, &str); 2] = [
    ("ISSUER_BASE_URL", "https://tenant.auth0.com"),
    ("AUDIENCE", "https://quickstarts/api"),
];

/// The configuration from exactly these variables; a later pair replaces an earlier one.
fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let variables: HashMap<&str, &str> = pairs.iter().copied().collect();
    Config::from_lookup(|name| variables.get(name).map(|value| (*value).to_owned()))
}

/// The configuration from the required variables and `pairs`, which may replace them.
fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    config_from(&[&REQUIRED[..], pairs].concat())
}

/// The variable `pairs` are refused for; panics unless the refusal is an invalid setting.
fn refused_variable(pairs: &[(&str, &str)]) -> &'static str {
    match config(pairs) {
        Err(ConfigError::Invalid { variable, .. }) => variable,
        other => panic!("{pairs:?}: expected an invalid setting, got {other:?}"),
    }
}

/// Asserts every value is refused for `variable`.
fn assert_refused(variable: &str, values: &[&str]) {
    for value in values {
        assert_eq!(
            refused_variable(&[(variable, value)]),
            variable,
            "{value:?}"
        );
    }
}

#[test]
fn the_sample_variables_give_the_reference_defaults() {
    let config = config(&[]).expect("valid");
    let auth = &config.auth;

    assert_eq!(
        auth.issuer_base_url.as_ref().expect("base").as_str(),
        "https://tenant.auth0.com/"
    );
    assert_eq!(auth.audiences, ["https://quickstarts/api"]);
    assert_eq!(
        (auth.issuer.as_deref(), auth.jwks_uri.as_ref()),
        (None, None)
    );
    assert_eq!(auth.algorithms, Algorithm::ALL);
    assert_eq!(auth.clock_tolerance, Duration::from_secs(5));
    assert_eq!(auth.max_token_age, None);
    assert_eq!(auth.max_token_bytes, 16 * 1024);
    assert!(!auth.strict && !auth.allow_query_token && !auth.allow_insecure_issuer);
    assert_eq!(config.host, IpAddr::from([127, 0, 0, 1]));
    assert_eq!(config.port, 3010);
    assert_eq!(
        config.cors_origins,
        CorsOrigins::List(vec![HeaderValue::from_static("http://localhost:3000")])
    );
}

#[test]
fn the_key_and_token_caches_have_their_documented_defaults() {
    let auth = config(&[]).expect("valid").auth;

    // The documented values written out, not the policies' `default()` again, which would
    // compare a default with itself: these literals mirror the `Default` impls on purpose.
    assert_eq!(
        auth.jwks,
        JwksPolicy {
            cache_max_age: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            stale_max_age: Duration::from_secs(24 * 3600),
            retry_interval: Duration::from_secs(1),
            http_timeout: Duration::from_secs(5),
            max_response_bytes: 256 * 1024,
        }
    );
    assert_eq!(
        auth.token_cache,
        TokenCachePolicy {
            capacity: 4096,
            max_ttl: Duration::from_secs(300),
            max_token_bytes: 4096,
        }
    );
}

#[test]
fn server_limits_default_when_unset() {
    // The documented values written out, not `ServerLimits::default()` again, which would
    // compare the default with itself: these literals mirror the `Default` impl on purpose.
    assert_eq!(
        config(&[]).expect("valid").server,
        ServerLimits {
            max_connections: 512,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrent_streams: 100,
            idle_timeout: Duration::from_secs(10),
            max_requests_per_connection: 1000,
            max_connection_age: Duration::from_secs(3600),
            shutdown_timeout: Duration::from_secs(10),
        }
    );
}

#[test]
fn auth0_domain_and_audience_are_an_alternative() {
    let config = config_from(&[
        ("AUTH0_DOMAIN", "tenant.eu.auth0.com"),
        ("AUTH0_AUDIENCE", "https://api"),
    ])
    .expect("valid");

    assert_eq!(
        config.auth.issuer_base_url.expect("base").as_str(),
        "https://tenant.eu.auth0.com/"
    );
    assert_eq!(config.auth.audiences, ["https://api"]);
    let error = config_from(&[
        ("AUTH0_DOMAIN", "tenant.eu.auth0.com/path"),
        ("AUTH0_AUDIENCE", "https://api"),
    ])
    .expect_err("a domain, not a URL");
    assert!(
        matches!(
            error,
            ConfigError::Invalid {
                variable: "AUTH0_DOMAIN",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_missing_issuer_or_audience_is_the_missing_configuration() {
    for pairs in [
        &[][..],
        &REQUIRED[..1],
        &REQUIRED[1..],
        &[("ISSUER_BASE_URL", "https://t/"), ("AUDIENCE", " ")][..],
    ] {
        let error = config_from(pairs).expect_err("incomplete");
        assert_eq!(error, ConfigError::Missing, "{pairs:?}");
    }
}

#[test]
fn malformed_settings_name_the_variable() {
    let cases = [
        ("ISSUER_BASE_URL", "tenant.auth0.com"),
        ("ISSUER_BASE_URL", "http://tenant.auth0.com"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("HOST", "localhost:80"),
        ("CLOCK_TOLERANCE", "soon"),
        ("MAX_TOKEN_AGE", "old"),
        ("STRICT", "maybe"),
        ("ALLOW_QUERY_TOKEN", "sometimes"),
        ("ALGORITHMS", "HS256"),
        ("ALGORITHMS", "RS256,none"),
        ("CORS_ORIGINS", "localhost:3000"),
        ("CORS_ORIGINS", "http://localhost:3000/app"),
        ("JWKS_URI", "http://keys.example/jwks.json"),
        ("JWKS_COOLDOWN", "-1"),
        ("HTTP_TIMEOUT", "0"),
    ];
    for (variable, value) in cases {
        assert_eq!(
            refused_variable(&[(variable, value)]),
            variable,
            "{variable}={value}"
        );
    }
}

#[test]
fn a_refusal_is_one_line_naming_the_variable_and_what_it_expects() {
    let error = config(&[("PORT", "http")]).expect_err("invalid");

    assert_eq!(
        error.to_string(),
        "PORT: expected a port number from 0 to 65535"
    );
}

#[test]
fn optional_settings_are_read() {
    let config = config(&[
        ("AUDIENCE", "https://a, https://b"),
        ("ISSUER", "https://tenant.auth0.com/"),
        ("HOST", "0.0.0.0"),
        ("PORT", "0"),
        ("CORS_ORIGINS", "http://localhost:3000, https://app.example"),
        ("CLOCK_TOLERANCE", "10"),
        ("MAX_TOKEN_AGE", "1h"),
        ("STRICT", "true"),
        ("ALGORITHMS", "PS256, RS256"),
        ("ALLOW_QUERY_TOKEN", "yes"),
        ("JWKS_COOLDOWN", "500ms"),
        // A plain-http JWKS URI on another host is accepted only because of this flag.
        ("ALLOW_INSECURE_ISSUER", "true"),
        ("JWKS_URI", "http://keys.internal/jwks.json"),
    ])
    .expect("valid");
    let auth = &config.auth;

    assert_eq!(auth.audiences, ["https://a", "https://b"]);
    assert_eq!(auth.issuer.as_deref(), Some("https://tenant.auth0.com/"));
    assert_eq!(config.host, IpAddr::from([0, 0, 0, 0]));
    assert_eq!(config.port, 0);
    assert_eq!(
        config.cors_origins,
        CorsOrigins::List(vec![
            HeaderValue::from_static("http://localhost:3000"),
            HeaderValue::from_static("https://app.example"),
        ])
    );
    assert_eq!(auth.clock_tolerance, Duration::from_secs(10));
    assert_eq!(auth.max_token_age, Some(Duration::from_secs(3600)));
    assert!(auth.strict);
    assert_eq!(auth.algorithms, [Algorithm::PS256, Algorithm::RS256]);
    assert!(auth.allow_query_token);
    assert_eq!(
        auth.jwks,
        JwksPolicy {
            cooldown: Duration::from_millis(500),
            ..JwksPolicy::default()
        }
    );
    assert!(auth.allow_insecure_issuer);
    assert_eq!(
        auth.jwks_uri.as_ref().expect("jwks").as_str(),
        "http://keys.internal/jwks.json"
    );
}

#[test]
fn cors_origins_may_be_anyone() {
    let config = config(&[("CORS_ORIGINS", "*")]).expect("valid");

    assert_eq!(config.cors_origins, CorsOrigins::Any);
}

#[test]
fn flags_take_the_usual_spellings() {
    for (value, expected) in [
        ("1", true),
        ("true", true),
        ("YES", true),
        ("on", true),
        ("0", false),
        ("false", false),
        ("No", false),
        ("off", false),
    ] {
        let config = config(&[("STRICT", value)]).expect("valid");
        assert_eq!(config.auth.strict, expected, "STRICT={value}");
    }
}

#[test]
fn the_jwks_policy_is_read_from_its_four_variables() {
    let config = config(&[
        ("JWKS_CACHE_MAX_AGE", "1m"),
        ("JWKS_COOLDOWN", "10"),
        ("JWKS_STALE_MAX_AGE", "2h"),
        ("HTTP_TIMEOUT", "1500ms"),
    ])
    .expect("valid");

    assert_eq!(
        config.auth.jwks,
        JwksPolicy {
            cache_max_age: Duration::from_secs(60),
            cooldown: Duration::from_secs(10),
            stale_max_age: Duration::from_secs(2 * 3600),
            http_timeout: Duration::from_millis(1500),
            // Not configurable from the environment.
            retry_interval: Duration::from_secs(1),
            max_response_bytes: 256 * 1024,
        }
    );
}

#[test]
fn the_token_cache_is_read_from_its_three_variables() {
    let set = config(&[
        ("TOKEN_CACHE_CAPACITY", "0"),
        ("TOKEN_CACHE_MAX_TTL", "30s"),
        ("TOKEN_CACHE_MAX_TOKEN_BYTES", "2048"),
    ])
    .expect("valid")
    .auth
    .token_cache;

    assert_eq!(
        set,
        TokenCachePolicy {
            capacity: 0,
            max_ttl: Duration::from_secs(30),
            max_token_bytes: 2048,
        }
    );
    assert_eq!(
        config(&[("TOKEN_CACHE_CAPACITY", "-1")]).expect_err("refused"),
        ConfigError::Invalid {
            variable: "TOKEN_CACHE_CAPACITY",
            expected: "a whole number, 0 or more"
        }
    );
    assert_refused("TOKEN_CACHE_MAX_TTL", &["forever"]);
    assert_refused("TOKEN_CACHE_MAX_TOKEN_BYTES", &["4KiB", "-1"]);
}

#[test]
fn max_connections_is_read_and_must_be_above_zero() {
    let config = config(&[("MAX_CONNECTIONS", "64")]).expect("valid");

    assert_eq!(config.server.max_connections, 64);
    assert_refused("MAX_CONNECTIONS", &["0", "-1", "many"]);
}

#[test]
fn header_read_timeout_is_read_and_must_be_above_zero() {
    let config = config(&[("HEADER_READ_TIMEOUT", "2500ms")]).expect("valid");

    assert_eq!(
        config.server.header_read_timeout,
        Duration::from_millis(2500)
    );
    assert_refused("HEADER_READ_TIMEOUT", &["0", "soon"]);
}

#[test]
fn connection_lifetime_settings_are_read_and_checked() {
    let config = config(&[
        ("IDLE_TIMEOUT", "90s"),
        ("MAX_REQUESTS_PER_CONNECTION", "0"),
        ("MAX_CONNECTION_AGE", "10m"),
    ])
    .expect("valid");

    assert_eq!(config.server.idle_timeout, Duration::from_secs(90));
    assert_eq!(config.server.max_requests_per_connection, 0);
    assert_eq!(config.server.max_connection_age, Duration::from_secs(600));
    assert_refused("IDLE_TIMEOUT", &["0", "later"]);
    assert_refused("MAX_CONNECTION_AGE", &["0s", "forever"]);
    assert_refused("MAX_REQUESTS_PER_CONNECTION", &["-1", "many", "1.5"]);
}

/// The server limits `pairs` give.
fn server_limits(pairs: &[(&str, &str)]) -> ServerLimits {
    config(pairs).expect("valid").server
}

#[test]
fn max_header_bytes_is_read_with_units_and_must_be_at_least_8_kib() {
    let bytes = |value| server_limits(&[("MAX_HEADER_BYTES", value)]).max_header_bytes;

    assert_eq!(bytes("65536"), 65536);
    assert_eq!(bytes("16KiB"), 16 * 1024);
    assert_eq!(bytes("8192"), 8 * 1024);
    assert_refused("MAX_HEADER_BYTES", &["8191", "4KiB", "32KB", "lots"]);
}

#[test]
fn max_body_bytes_is_read_with_units() {
    let bytes = |value| server_limits(&[("MAX_BODY_BYTES", value)]).max_body_bytes;

    assert_eq!(bytes("1MiB"), 1024 * 1024);
    assert_eq!(bytes("2kib"), 2 * 1024);
    assert_eq!(bytes("0"), 0);
    assert_refused("MAX_BODY_BYTES", &["-1", "1GB", "big"]);
}

#[test]
fn request_timeout_is_read_and_must_be_above_zero() {
    let config = config(&[("REQUEST_TIMEOUT", "1m")]).expect("valid");

    assert_eq!(config.server.request_timeout, Duration::from_secs(60));
    assert_refused("REQUEST_TIMEOUT", &["0", "later"]);
}

#[test]
fn the_binary_stops_with_one_clear_line_when_configuration_is_missing() {
    let output = api_binary(&[]).output().expect("run api");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(
        stderr,
        format!("error: {}\n", ConfigError::Missing),
        "one line, naming the variables"
    );
    assert!(
        stderr.contains("set ISSUER_BASE_URL and AUDIENCE"),
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

#[test]
fn several_issuers_are_listed_comma_separated_and_each_stands_alone() {
    let several = config(&[(
        "ISSUER_BASE_URL",
        "https://tenant.auth0.com, https://login.example.com/realms/api",
    )])
    .expect("valid");
    assert_eq!(
        several.auth.issuer_base_url.as_ref().map(Url::as_str),
        Some("https://tenant.auth0.com/")
    );
    let more: Vec<_> = several.auth.more_issuers.iter().map(Url::as_str).collect();
    assert_eq!(more, ["https://login.example.com/realms/api"]);
    let domains = config_from(&[
        ("AUTH0_DOMAIN", "a.example.com,b.example.com"),
        ("AUDIENCE", "https://quickstarts/api"),
    ])
    .expect("valid");
    assert_eq!(domains.auth.more_issuers.len(), 1);

    // One issuer's settings cannot apply to several; the same issuer twice is a typo.
    for one_issuer_setting in ["ISSUER", "JWKS_URI"] {
        let refused = config(&[
            (
                "ISSUER_BASE_URL",
                "https://a.example.com,https://b.example.com",
            ),
            (one_issuer_setting, "https://a.example.com/"),
        ]);
        assert!(
            matches!(&refused, Err(ConfigError::Conflict(message)) if message.contains("ISSUER_BASE_URL") && message.contains(one_issuer_setting)),
            "{refused:?}"
        );
    }
    assert_refused(
        "ISSUER_BASE_URL",
        &[
            "https://a.example.com,https://a.example.com/",
            "https://a.example.com,http://b.example.com",
            "https://a.example.com,not a url",
        ],
    );
}
