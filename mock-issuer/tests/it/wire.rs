//! The wire types against the literal JSON (and form) the issuer speaks: each serialises to
//! exactly these bytes and reads them back, so server and clients keep today's format.

use std::fmt::Debug;
use std::time::Duration;

use mock_issuer::config::defaults;
use mock_issuer::{
    AdminError, ClientCredentials, Endpoint, Fault, FaultTable, KeySummary, OAuthErrorBody,
    RequestCounts, TokenResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` serialises to exactly `json`, and `json` reads back as `value`.
fn assert_json<T>(value: &T, json: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    assert_eq!(serde_json::to_string(value).expect("serialises"), json);
    assert_eq!(
        &serde_json::from_str::<T>(json).expect("deserialises"),
        value
    );
}

#[test]
fn each_fault_has_its_tagged_form() {
    assert_json(
        &Fault::Latency(Duration::from_millis(2000)),
        r#"{"type":"latency","ms":2000}"#,
    );
    assert_json(&Fault::Status(503), r#"{"type":"status","code":503}"#);
    assert_json(&Fault::MalformedBody, r#"{"type":"malformed_body"}"#);
    assert_json(&Fault::EmptyKeySet, r#"{"type":"empty_key_set"}"#);
}

#[test]
fn a_fault_with_an_unknown_type_or_member_is_refused() {
    let unknown_type = serde_json::from_str::<Fault>(r#"{"type":"explode"}"#);
    let unknown_member = serde_json::from_str::<Fault>(r#"{"type":"status","code":503,"ms":1}"#);
    let missing_member = serde_json::from_str::<Fault>(r#"{"type":"latency"}"#);

    assert!(unknown_type.is_err());
    assert!(unknown_member.is_err());
    assert!(missing_member.is_err());
}

#[test]
fn endpoint_names_are_the_same_in_paths_and_in_json() {
    for endpoint in Endpoint::ALL {
        let json = serde_json::to_string(&endpoint).expect("serialises");

        assert_eq!(json, format!("\"{}\"", endpoint.as_str()));
        assert_eq!(endpoint.as_str().parse::<Endpoint>(), Ok(endpoint));
        assert_eq!(endpoint.to_string(), endpoint.as_str());
    }
    assert_eq!(
        Endpoint::ALL.map(Endpoint::as_str),
        [
            "openid_configuration",
            "oauth_authorization_server",
            "jwks",
            "token"
        ]
    );
    assert!("Jwks".parse::<Endpoint>().is_err());
}

#[test]
fn a_key_summary_has_a_null_previous_when_there_is_none() {
    let fresh = KeySummary {
        current: "a".to_owned(),
        next: "b".to_owned(),
        previous: None,
    };
    let rotated = KeySummary {
        current: "b".to_owned(),
        next: "c".to_owned(),
        previous: Some("a".to_owned()),
    };

    assert_json(&fresh, r#"{"current":"a","next":"b","previous":null}"#);
    assert_json(&rotated, r#"{"current":"b","next":"c","previous":"a"}"#);
    assert_eq!(fresh.published().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(rotated.published().collect::<Vec<_>>(), ["b", "c", "a"]);
}

#[test]
fn request_counts_list_every_endpoint_alphabetically() {
    let counts = RequestCounts {
        jwks: 1,
        oauth_authorization_server: 2,
        openid_configuration: 3,
        token: 4,
    };

    assert_json(
        &counts,
        r#"{"jwks":1,"oauth_authorization_server":2,"openid_configuration":3,"token":4}"#,
    );
    assert_eq!(
        Endpoint::ALL.map(|endpoint| counts.count(endpoint)),
        [3, 2, 1, 4]
    );
}

#[test]
fn a_fault_table_lists_every_endpoint_even_without_faults() {
    let table = FaultTable {
        jwks: vec![
            Fault::Latency(Duration::from_millis(300)),
            Fault::Status(500),
        ],
        ..FaultTable::default()
    };

    assert_json(
        &table,
        r#"{"jwks":[{"type":"latency","ms":300},{"type":"status","code":500}],"oauth_authorization_server":[],"openid_configuration":[],"token":[]}"#,
    );
    assert_eq!(table.get(Endpoint::Jwks).len(), 2);
    assert!(table.get(Endpoint::Token).is_empty());
}

#[test]
fn an_admin_error_is_one_member() {
    assert_json(
        &AdminError {
            error: "unknown endpoint `nowhere`".to_owned(),
        },
        r#"{"error":"unknown endpoint `nowhere`"}"#,
    );
}

#[test]
fn client_credentials_are_a_form_led_by_the_grant_type() {
    let plain = ClientCredentials::new("reader", "reader-secret", "https://quickstarts/api");
    let scoped = plain.clone().scope("read:messages");

    let plain_form = serde_urlencoded::to_string(&plain).expect("form");
    let scoped_form = serde_urlencoded::to_string(&scoped).expect("form");

    assert_eq!(
        plain_form,
        "grant_type=client_credentials&client_id=reader&client_secret=reader-secret&audience=https%3A%2F%2Fquickstarts%2Fapi"
    );
    assert_eq!(scoped_form, format!("{plain_form}&scope=read%3Amessages"));
    assert_eq!(
        serde_urlencoded::from_str::<ClientCredentials>(&scoped_form).expect("parses"),
        scoped
    );
    assert_json(
        &plain,
        r#"{"grant_type":"client_credentials","client_id":"reader","client_secret":"reader-secret","audience":"https://quickstarts/api"}"#,
    );
}

#[test]
fn client_credentials_with_another_grant_type_are_refused() {
    let form = "grant_type=password&client_id=a&client_secret=b&audience=c";

    let parsed = serde_urlencoded::from_str::<ClientCredentials>(form);

    assert!(parsed.is_err(), "{parsed:?}");
}

#[test]
fn a_token_response_has_auth0s_members_in_auth0s_order() {
    let scoped = TokenResponse {
        access_token: "h.p.s".into(),
        refresh_token: None,
        id_token: None,
        scope: Some("read:messages write:messages".to_owned()),
        expires_in: 86_400,
        token_type: "Bearer".to_owned(),
    };
    let unscoped = TokenResponse {
        scope: None,
        ..scoped.clone()
    };

    assert_json(
        &scoped,
        r#"{"access_token":"h.p.s","scope":"read:messages write:messages","expires_in":86400,"token_type":"Bearer"}"#,
    );
    assert_json(
        &unscoped,
        r#"{"access_token":"h.p.s","expires_in":86400,"token_type":"Bearer"}"#,
    );
    assert_eq!(
        scoped.scopes().collect::<Vec<_>>(),
        ["read:messages", "write:messages"]
    );
    assert_eq!(unscoped.scopes().count(), 0);
}

#[test]
fn a_users_token_response_carries_the_refresh_and_id_tokens_first() {
    let response = TokenResponse {
        access_token: "a.b.c".into(),
        refresh_token: Some("r-1".into()),
        id_token: Some("i.d.t".into()),
        scope: Some("openid offline_access".to_owned()),
        expires_in: 86_400,
        token_type: "Bearer".to_owned(),
    };

    assert_json(
        &response,
        r#"{"access_token":"a.b.c","refresh_token":"r-1","id_token":"i.d.t","scope":"openid offline_access","expires_in":86400,"token_type":"Bearer"}"#,
    );
    let parsed: TokenResponse =
        serde_json::from_str(r#"{"access_token":"a","expires_in":1,"token_type":"Bearer"}"#)
            .expect("the optional members may be absent");
    assert_eq!((parsed.refresh_token, parsed.id_token), (None, None));
}

#[test]
fn an_oauth_error_body_is_error_then_description() {
    assert_json(
        &OAuthErrorBody {
            error: "access_denied".to_owned(),
            error_description: "Unauthorized".to_owned(),
        },
        r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
    );
}

#[test]
fn debug_output_never_shows_a_secret_or_a_token() {
    let request = ClientCredentials::new("reader", "s3cret-value", "https://quickstarts/api");
    let token = TokenResponse {
        access_token: "eyJhbGciOi.secret-payload.sig".into(),
        refresh_token: Some("secret-refresh".into()),
        id_token: Some("eyJhbGciOi.secret-id-payload.sig".into()),
        scope: None,
        expires_in: 60,
        token_type: "Bearer".to_owned(),
    };

    let request_debug = format!("{request:?}");
    let token_debug = format!("{token:?}");

    assert!(request_debug.contains("reader"), "{request_debug}");
    assert!(request_debug.contains("<redacted>"), "{request_debug}");
    assert!(!request_debug.contains("s3cret-value"), "{request_debug}");
    assert!(token_debug.contains("Bearer"), "{token_debug}");
    assert!(!token_debug.contains("secret-payload"), "{token_debug}");
    assert!(!token_debug.contains("secret-refresh"), "{token_debug}");
    assert!(!token_debug.contains("secret-id-payload"), "{token_debug}");
}

#[test]
fn the_default_tenant_names_are_the_quickstarts() {
    assert_eq!(defaults::API_AUDIENCE, "https://quickstarts/api");
    assert_eq!(defaults::READ_MESSAGES, "read:messages");
    assert_eq!(
        (defaults::READER_CLIENT_ID, defaults::READER_CLIENT_SECRET),
        ("reader", "reader-secret")
    );
    assert_eq!(
        (
            defaults::NO_SCOPES_CLIENT_ID,
            defaults::NO_SCOPES_CLIENT_SECRET
        ),
        ("no-scopes", "no-scopes-secret")
    );
}
