//! Logging and lifecycle: refusals are logged with their reason and never with the token;
//! the server drains and stops on its shutdown signal.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::helpers::*;

#[tokio::test]
async fn refusals_are_logged_with_their_reason_and_never_with_the_token() {
    // The real binary at debug level, so logging is seen exactly as an operator sees it.
    let issuer = TestIssuer::start().await;
    let issuer_url = issuer.url();
    let (mut child, address) = start_api_binary(
        &[
            ("ISSUER_BASE_URL", issuer_url.as_str()),
            ("AUDIENCE", AUDIENCE),
            ("PORT", "0"),
            ("ALLOW_QUERY_TOKEN", "true"),
            ("RUST_LOG", "trace"),
        ],
        Stdio::piped(),
    );
    let client = reqwest::Client::new();
    let valid = issuer.token();
    let expired = issuer.token_with(json!({"exp": now() - 3600}));
    let unscoped = issuer.token_with(json!({"scope": "other"}));
    let get = |path: String, token: Option<&String>| {
        let request = client.get(format!("{address}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };

    assert_eq!(
        get("/api/private".into(), Some(&valid))
            .await
            .expect("answer")
            .status(),
        200
    );
    assert_eq!(
        get("/api/private".into(), Some(&expired))
            .await
            .expect("answer")
            .status(),
        401
    );
    assert_eq!(
        get("/api/private-scoped".into(), Some(&unscoped))
            .await
            .expect("answer")
            .status(),
        403
    );
    let query = format!("/api/private?access_token={expired}");
    assert_eq!(get(query, None).await.expect("answer").status(), 401);
    child.kill().expect("kill");
    let output = child.wait_with_output().expect("wait");

    let text = String::from_utf8(output.stderr).expect("utf-8");
    assert!(text.contains("request refused"), "{text}");
    assert!(text.contains("claim timestamp check failed"), "{text}");
    assert!(text.contains("insufficient_scope"), "{text}");
    for token in [&valid, &expired, &unscoped] {
        let signature = token.rsplit_once('.').expect("dot").1;
        assert!(!text.contains(signature), "a token reached the logs");
    }
}

#[tokio::test]
async fn serve_finishes_a_request_in_flight_then_stops_on_its_shutdown_signal() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_answer(jwks_response(&[TestKey::primary()]).set_delay(Duration::from_millis(300)))
        .mount(&issuer.server)
        .await;
    let authenticator = authenticator(&issuer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(
        listener,
        api::app(authenticator, &api::routes::CorsOrigins::default()),
        async {
            let _ = stopped.await;
        },
    ));
    // The first request with a token waits 300 ms for the JWKS: once the issuer has seen that
    // fetch, the request is surely in flight.
    let client = reqwest::Client::new();
    let in_flight = tokio::spawn(
        client
            .get(format!("{address}/api/private"))
            .bearer_auth(issuer.token())
            .send(),
    );
    for _ in 0..400 {
        if issuer.requests_to(JWKS_PATH).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    stop.send(()).expect("server listening");
    let outcome = tokio::time::timeout(Duration::from_secs(10), server).await;

    assert!(matches!(outcome, Ok(Ok(Ok(())))), "serve returned cleanly");
    let response = in_flight
        .await
        .expect("task")
        .expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
}
