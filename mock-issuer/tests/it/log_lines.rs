//! Log lines cannot be forged: whatever control characters a request carries, in any field that
//! can reach a log, the real binary logging at `trace` writes them escaped, and never writes a
//! client secret or the admin token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use crate::helpers::temp_dir;
use crate::served::{Served, serve_command};

/// What each injection tries to start a line with.
const MARKER: &str = "FORGED";
/// Put in every secret field: it must not reach the log, escaped or not.
const SECRET_MARKER: &str = "SECRET-MARKER";
/// The line breaks and terminal controls an attacker would use to start a line of their own.
const BREAKS: &[&str] = &[
    "\r\n",
    "\n",
    "\r",
    "\0",
    "\x1b[2K\r",
    "\x1b[1A",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
];
/// Characters a log line must never hold raw.
const RAW_CONTROLS: &[char] = &['\r', '\0', '\x1b', '\u{85}', '\u{2028}', '\u{2029}'];

const AUDIENCE: &str = "https://quickstarts/api";
/// The admin token the server requires: admin requests are sent both with it (to reach the
/// routes) and without (to be refused, which is logged).
const ADMIN_TOKEN: &str = "ADMIN-TOKEN-MARKER";

/// The default tenant's valid request for `reader`, with `field` replaced by `value`.
fn token_params(field: &str, value: &str) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = [
        ("grant_type", "client_credentials"),
        ("client_id", "reader"),
        ("client_secret", "reader-secret"),
        ("audience", AUDIENCE),
        ("scope", "read:messages"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    for param in &mut params {
        if param.0 == field {
            param.1 = value.to_owned();
        }
    }
    params
}

/// Each token-endpoint field with `injection` appended to a value that lets the request get
/// as far as it can (a valid prefix), so that the refusal, if any, is about that field.
fn injected_params(injection: &str) -> Vec<Vec<(String, String)>> {
    [
        ("grant_type", format!("client_credentials{injection}")),
        ("client_id", format!("reader{injection}")),
        ("client_secret", format!("{SECRET_MARKER}{injection}")),
        ("audience", format!("{AUDIENCE}{injection}")),
        ("scope", format!("read:messages{injection}")),
    ]
    .iter()
    .map(|(field, value)| token_params(field, value))
    .collect()
}

/// Percent-encodes every byte but ASCII letters and digits, for a path segment.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends every token request that carries `injection`: as a form and as JSON, in a parameter
/// name, and in Basic credentials.
async fn send_token_requests(http: &reqwest::Client, base: &str, injection: &str) {
    let url = format!("{base}oauth/token");
    let name = format!("x{injection}");
    for params in injected_params(injection) {
        let object: Map<String, Value> = params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        http.post(&url).form(&params).send().await.expect("sent");
        http.post(&url).json(&object).send().await.expect("sent");
    }
    // A parameter name: twice in a form (a duplicate), not a string in JSON.
    let twice = [(name.as_str(), "1"), (name.as_str(), "1")];
    http.post(&url).form(&twice).send().await.expect("sent");
    let mut object = Map::new();
    object.insert(name.clone(), json!(1));
    http.post(&url).json(&object).send().await.expect("sent");
    // Basic credentials, whose id and secret the body does not repeat.
    let basic = STANDARD.encode(format!("reader{injection}:{SECRET_MARKER}{injection}"));
    http.post(&url)
        .header(AUTHORIZATION, format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials"), ("audience", AUDIENCE)])
        .send()
        .await
        .expect("sent");
}

/// Sends every admin request that carries `injection`: in paths and in fault bodies.
async fn send_admin_requests(http: &reqwest::Client, base: &str, injection: &str) {
    let segment = path_segment(&format!("jwks{injection}"));
    http.put(format!("{base}_mock/faults/{segment}"))
        .json(&json!({ "type": "status", "code": 503 }))
        .send()
        .await
        .expect("sent");
    http.put(format!("{base}_mock/faults/jwks"))
        .json(&json!({ "type": format!("status{injection}"), "code": 503 }))
        .send()
        .await
        .expect("sent");
    // Raw, unescaped bytes in the JSON text.
    http.put(format!("{base}_mock/faults/jwks"))
        .header(CONTENT_TYPE, "application/json")
        .body(format!(r#"{{"type":"status{injection}","code":503}}"#))
        .send()
        .await
        .expect("sent");
    for path in [
        format!("_mock/{segment}"),
        segment.clone(),
        format!("oauth/{segment}"),
    ] {
        http.get(format!("{base}{path}"))
            .send()
            .await
            .expect("sent");
    }
}

/// The lines of `log` that are forged or hold a raw control character.
fn bad_lines(log: &str) -> Vec<&str> {
    log.split('\n')
        .filter(|line| {
            line.trim_start().starts_with(MARKER) || line.contains(|c| RAW_CONTROLS.contains(&c))
        })
        .collect()
}

#[tokio::test]
async fn control_characters_in_any_request_field_never_start_a_log_line() {
    // Arrange
    let dir = temp_dir("log-lines");
    let served = Served::start(
        serve_command(
            &dir,
            "trace",
            &["--seed", "42", "--admin-token", ADMIN_TOKEN],
        ),
        dir.join("log"),
    );
    let http = reqwest::Client::new();
    let mut admin_headers = HeaderMap::new();
    admin_headers.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer ADMIN-TOKEN-MARKER"),
    );
    let admin = reqwest::Client::builder()
        .default_headers(admin_headers)
        .build()
        .expect("HTTP client");
    let base = served.loopback_url();

    // Act
    for br in BREAKS {
        let injection = format!("{br}{MARKER} line of the attacker's choosing");
        send_token_requests(&http, &base, &injection).await;
        send_admin_requests(&http, &base, &injection).await;
        send_admin_requests(&admin, &base, &injection).await;
    }
    let (exit, log) = served.stop();

    // Assert
    assert!(exit.success(), "{exit:?}\n{log}");
    assert_eq!(bad_lines(&log), Vec::<&str>::new(), "{log}");
    // The refusals were logged, escaped: without this the check above could pass on silence.
    assert!(log.contains(r"\r\nFORGED line"), "{log}");
    assert!(
        !log.contains(SECRET_MARKER),
        "a secret reached the log:\n{log}"
    );
    assert!(
        !log.contains("reader-secret"),
        "a secret reached the log:\n{log}"
    );
    assert!(
        !log.contains(ADMIN_TOKEN),
        "the admin token reached the log:\n{log}"
    );
}
