//! What a refusal costs against what a valid token costs.
//!
//! No input the API parses (the `Authorization` header, a form body, the query string, a
//! token's protected header and its signed payload) may cost more than twice a valid request of
//! the same size, so a flood of hostile requests is no dearer to serve than a flood of good
//! ones. Each hostile input sits near the size limits (a 16 KiB token, a 64 KiB form body, a
//! query string that fills the request head), and is compared with a valid request whose token,
//! body or query is as large (see [`valid_inputs`]): what a large input costs by its size alone
//! (base64 and SHA-256 over a 16 KiB token, a pass over a 64 KiB body) a valid one costs too,
//! and it is about as much again as a small token's whole verification, so only the same size
//! tells what the hostile content costs. A small valid token's cost is printed beside, for scale.
//!
//! Cost is this thread's CPU time for requests driven in-process through the router (`oneshot`
//! on the test's single-threaded runtime, so all their work runs on this thread), with the
//! token cache off so every valid token is a full verification. Each input is measured in
//! batches alternating with batches of its valid counterpart, and the medians are compared: a
//! ratio within one run, which a loaded machine shifts for both sides alike.
//!
//! Only an optimised build measures what the server does: unoptimised, our parsing runs ten
//! times slower while the RSA (aws-lc, C, optimised in every profile) does not. So the cost
//! test is ignored in a debug build, where the other test still checks that every input takes
//! the path it is meant to be measured on.

use std::fmt::Write as _;

use api::auth::{self, Authenticator, Claims};
use api::routes::CorsOrigins;
use axum::Router;
use axum::body::Body;
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cpu_time::ThreadTime;
use http::{Method, Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

use crate::helpers::*;

/// The bound: no input may cost more than this many valid requests.
const MAX_RATIO: f64 = 2.0;
/// Samples of each input (and as many of the valid request); the median is compared.
const SAMPLES: usize = 51;
/// Requests per sample, so each sample is long against the clock's granularity.
const BATCH: usize = 3;
/// The largest token the authenticator accepts by default (`AuthOptions::max_token_bytes`).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The largest body the server reads by default (`ServerLimits::max_body_bytes`).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Room for a query string in the default 32 KiB request head, beside a valid token.
const QUERY_BYTES: usize = 30 * 1024;
/// A parameter whose key decodes to one letter off `access_token`, so finding that out takes
/// decoding all of it.
const NEAR_MISS: &str = "%61%63%63%65%73%73%5F%74%6F%6B%65%58=1";
/// The route that takes a token in a form body (the quickstart's routes are GET only).
const FORM_ROUTE: &str = "/form";

/// Where an input's bulk is, and so which valid request of the same size it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bulk {
    /// A 16 KiB token.
    Token,
    /// A 64 KiB form body.
    Form,
    /// A query string filling the request head.
    Query,
}

/// One request to measure, and the status it must get (so the measured path is the intended one).
struct Input {
    name: &'static str,
    method: Method,
    uri: String,
    authorization: Option<String>,
    form: Option<String>,
    status: StatusCode,
    bulk: Bulk,
}

impl Input {
    /// A GET of `route` with `token` as a bearer token.
    fn bearer(name: &'static str, route: &str, token: String, status: StatusCode) -> Self {
        Input {
            name,
            method: Method::GET,
            uri: route.to_owned(),
            authorization: Some(format!("Bearer {token}")),
            form: None,
            status,
            bulk: Bulk::Token,
        }
    }

    /// A POST of `body` to the form route.
    fn form(name: &'static str, body: String, status: StatusCode) -> Self {
        Input {
            name,
            method: Method::POST,
            uri: FORM_ROUTE.to_owned(),
            authorization: None,
            form: Some(body),
            status,
            bulk: Bulk::Form,
        }
    }

    /// A GET of `/api/private` with `query` and a valid bearer token.
    fn query(name: &'static str, query: String, token: &str) -> Self {
        Input {
            uri: format!("/api/private?{query}"),
            bulk: Bulk::Query,
            ..Input::bearer(name, "", token.to_owned(), StatusCode::OK)
        }
    }

    fn request(&self) -> Request<Body> {
        let mut request = Request::builder()
            .method(&self.method)
            .uri(&self.uri)
            .header("host", "api.test");
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization);
        }
        let body = match &self.form {
            Some(form) => {
                request = request.header("content-type", "application/x-www-form-urlencoded");
                Body::from(form.clone())
            }
            None => Body::empty(),
        };
        request.body(body).expect("request")
    }
}

/// The quickstart's app plus a POST route that takes its token from a form body, sharing one
/// authenticator with the token cache off.
fn router(issuer: &TestIssuer) -> Router {
    let mut options = options(issuer);
    options.token_cache.capacity = 0;
    let authenticator = Authenticator::new(options).expect("valid options");
    let form = Router::new()
        .route(FORM_ROUTE, post(|_claims: Claims| async { "ok" }))
        .route_layer(from_fn_with_state(
            authenticator.clone(),
            auth::require_auth,
        ));
    api::app(authenticator, &CorsOrigins::default()).merge(form)
}

/// `open`, then as many items `item(0)`, `item(1)`, … separated by `separator` as keep the
/// whole (with `close`) within `budget` bytes, then `close`.
fn fill(
    open: &str,
    item: impl Fn(usize) -> String,
    separator: &str,
    close: &str,
    budget: usize,
) -> String {
    let mut out = open.to_owned();
    for index in 0.. {
        let next = item(index);
        let extra = if index == 0 { 0 } else { separator.len() };
        if out.len() + extra + next.len() + close.len() > budget {
            break;
        }
        if index > 0 {
            out.push_str(separator);
        }
        out.push_str(&next);
    }
    out.push_str(close);
    out
}

/// The shortest distinct member names: `0`…`z`, then `00`…, so the most members fit.
fn name(index: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let base = ALPHABET.len();
    let (mut rest, mut width) = (index, 1);
    while rest >= base.pow(width) {
        rest -= base.pow(width);
        width += 1;
    }
    (0..width)
        .rev()
        .map(|place| ALPHABET[rest / base.pow(place) % base] as char)
        .collect()
}

/// The most bytes of JSON whose base64url fits in `encoded` characters.
fn decoded_budget(encoded: usize) -> usize {
    encoded * 3 / 4
}

/// Tokens whose protected header is hostile: refused before any key is used, so they need no
/// signature (a stand-in keeps the segment non-empty).
fn header_inputs() -> Vec<Input> {
    const REST: &str = ".e30.AAAA";
    let budget = decoded_budget(MAX_TOKEN_BYTES - REST.len());
    let token = |header: String| format!("{}{REST}", URL_SAFE_NO_PAD.encode(header));
    let member = |index| format!("\"{}\":0", name(index));
    let alg = r#"{"alg":"RS256","#;
    let refused = |name, header| {
        Input::bearer(
            name,
            "/api/private",
            token(header),
            StatusCode::UNAUTHORIZED,
        )
    };
    vec![
        refused(
            "header: as many distinct members as fit",
            fill(alg, member, ",", "}", budget),
        ),
        refused(
            "header: a duplicate after as many members as fit",
            fill(alg, member, ",", r#","alg":"RS256"}"#, budget),
        ),
        refused(
            "header: 5,000-deep nesting",
            format!("{alg}\"x\":{}{}}}", "[".repeat(5000), "]".repeat(5000)),
        ),
        refused(
            "header: a nested object with as many members as fit",
            fill(&format!("{alg}\"x\":{{"), member, ",", "}}", budget),
        ),
        refused(
            "header: an array of one-member objects",
            fill(
                &format!("{alg}\"x\":["),
                |_| r#"{"a":0}"#.into(),
                ",",
                "]}",
                budget,
            ),
        ),
        refused(
            "header: a long array",
            fill(&format!("{alg}\"x\":["), |_| "0".into(), ",", "]}", budget),
        ),
        refused(
            "header: a string of \\u escapes",
            fill(
                &format!("{alg}\"x\":\""),
                |_| r"\u0041".into(),
                "",
                "\"}",
                budget,
            ),
        ),
        refused(
            "header: member names of \\u escapes",
            fill(
                alg,
                |i| format!(r#""\u0041{}":0"#, name(i)),
                ",",
                "}",
                budget,
            ),
        ),
    ]
}

/// A token of the issuer's usual header over `payload`, signed with its key.
fn signed(payload: &str) -> String {
    let key = TestKey::primary();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid()}).to_string();
    let token = key.sign_bytes(header.as_bytes(), payload.as_bytes());
    assert!(token.len() <= MAX_TOKEN_BYTES, "{} bytes", token.len());
    token
}

/// The most payload bytes that keep a token [`signed`] within the size limit: the header, two
/// dots and a 2048-bit signature's 342 characters take the rest.
fn payload_budget() -> usize {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": TestKey::primary().kid()});
    decoded_budget(MAX_TOKEN_BYTES - URL_SAFE_NO_PAD.encode(header.to_string()).len() - 2 - 342)
}

/// The issuer's claims with `changes`, without their closing brace, to append members to.
fn open_claims(issuer: &TestIssuer, changes: serde_json::Value) -> String {
    let claims = with(claims(&issuer.url()), changes).to_string();
    format!("{},", &claims[..claims.len() - 1])
}

/// Tokens whose payload is hostile, signed with the issuer's key so the signature holds and the
/// payload is parsed and checked, on the scoped route so the scope check runs too.
fn payload_inputs(issuer: &TestIssuer) -> Vec<Input> {
    let budget = payload_budget();
    let valid = open_claims(issuer, json!({}));
    let signed = |name, payload: String, status| {
        Input::bearer(name, "/api/private-scoped", signed(&payload), status)
    };
    let member = |index| format!("\"{}\":0", name(index));
    let strings = |open: &str, word: &'static str, close: &str| {
        fill(open, |_| word.into(), ",", close, budget)
    };
    vec![
        signed(
            "payload: 5,000-deep nesting",
            format!("{valid}\"x\":{}{}}}", "[".repeat(5000), "]".repeat(5000)),
            StatusCode::UNAUTHORIZED,
        ),
        signed(
            "payload: as many claims as fit",
            fill(&valid, member, ",", "}", budget),
            StatusCode::UNAUTHORIZED,
        ),
        signed(
            "payload: a duplicate after as many claims as fit",
            fill(&valid, member, ",", r#","iss":"x"}"#, budget),
            StatusCode::UNAUTHORIZED,
        ),
        signed(
            "payload: a 16 KiB aud array",
            strings(
                &format!("{}\"aud\":[", open_claims(issuer, json!({"aud": null}))),
                r#""x""#,
                &format!(r#","{AUDIENCE}"]}}"#),
            ),
            StatusCode::UNAUTHORIZED,
        ),
        signed(
            "payload: 1,000 permissions (within the value limit)",
            format!("{valid}\"permissions\":[{}\"p\"]}}", r#""p","#.repeat(999)),
            StatusCode::OK,
        ),
        signed(
            "payload: a huge permissions array",
            strings(&format!("{valid}\"permissions\":["), r#""p""#, "]}"),
            StatusCode::UNAUTHORIZED,
        ),
        signed(
            "payload: an array of one-member objects",
            strings(&format!("{valid}\"x\":["), r#"{"a":0}"#, "]}"),
            StatusCode::UNAUTHORIZED,
        ),
        signed(
            "payload: 500 one-member objects (within the value limit)",
            format!("{valid}\"x\":[{}{{\"a\":0}}]}}", r#"{"a":0},"#.repeat(499)),
            StatusCode::OK,
        ),
        signed(
            "payload: a scope of thousands of words",
            fill(
                &format!(
                    "{}\"scope\":\"",
                    open_claims(issuer, json!({"scope": null}))
                ),
                |_| "x".into(),
                " ",
                " read:messages\"}",
                budget,
            ),
            StatusCode::OK,
        ),
        signed(
            "payload: a string of \\u escapes",
            fill(
                &format!("{valid}\"x\":\""),
                |_| r"\u0041".into(),
                "",
                "\"}",
                budget,
            ),
            StatusCode::OK,
        ),
    ]
}

/// Requests whose hostile part is where the token is looked for: the `Authorization` header,
/// a form body, the query string.
fn request_inputs(issuer: &TestIssuer) -> Vec<Input> {
    let token = issuer.token();
    let then_token = format!("&access_token={token}");
    let fields = |field: &'static str| fill("", |_| field.into(), "&", &then_token, MAX_BODY_BYTES);
    let query = |name, pair: &'static str| {
        Input::query(
            name,
            fill("", |_| pair.into(), "&", "", QUERY_BYTES),
            &token,
        )
    };
    vec![
        Input::bearer(
            "Authorization: a 16 KiB token of one segment",
            "/api/private",
            "A".repeat(MAX_TOKEN_BYTES),
            StatusCode::UNAUTHORIZED,
        ),
        Input::form(
            "form body: thousands of fields, then the token",
            fields("a=b"),
            StatusCode::OK,
        ),
        Input::form(
            "form body: thousands of percent-encoded fields, then the token",
            fields("%61=%62"),
            StatusCode::OK,
        ),
        Input::form(
            "form body: thousands of near-miss keys, then the token",
            fields("access_tokeX=1"),
            StatusCode::OK,
        ),
        Input::form(
            "form body: thousands of percent-encoded near-miss keys, then the token",
            fields(NEAR_MISS),
            StatusCode::OK,
        ),
        Input::form(
            "form body: thousands of access_token fields",
            fill("", |_| "access_token=x".into(), "&", "", MAX_BODY_BYTES),
            StatusCode::BAD_REQUEST,
        ),
        query("query: thousands of parameters", "a=b"),
        query("query: thousands of percent-encoded parameters", "%61=%62"),
        query(
            "query: thousands of percent-encoded near-miss keys",
            NEAR_MISS,
        ),
    ]
}

/// The valid requests of each [`Bulk`], as large as the hostile ones, and a small valid token:
/// a 16 KiB token padded with one plain string claim (the cheapest payload of its size), and a
/// form body and a query of ordinary fields (`field0001=value+0001`), which is what a form or a
/// query of that size holds.
fn valid_inputs(issuer: &TestIssuer) -> [Input; 4] {
    let token = issuer.token();
    let open = open_claims(issuer, json!({}));
    let claims = format!(
        "{open}\"padding\":\"{}\"}}",
        "x".repeat(payload_budget() - open.len() - r#""padding":""}"#.len())
    );
    let field = |index| format!("field{index:04}=value+{index:04}");
    let body = fill(
        "",
        field,
        "&",
        &format!("&access_token={token}"),
        MAX_BODY_BYTES,
    );
    [
        Input::bearer(
            "a small valid token",
            "/api/private-scoped",
            token.clone(),
            StatusCode::OK,
        ),
        Input::bearer(
            "a valid 16 KiB token",
            "/api/private-scoped",
            signed(&claims),
            StatusCode::OK,
        ),
        Input::form("a valid token after 64 KiB of fields", body, StatusCode::OK),
        Input::query(
            "a valid token and a query of parameters",
            fill("", field, "&", "", QUERY_BYTES),
            &token,
        ),
    ]
}

/// The CPU time of one batch of `input`'s request, in nanoseconds.
async fn batch_cost(router: &Router, input: &Input) -> u64 {
    let requests: Vec<_> = (0..BATCH).map(|_| input.request()).collect();
    let start = ThreadTime::now();
    for request in requests {
        let response = router.clone().oneshot(request).await.expect("an answer");
        drop(response);
    }
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The median cost of one request of `input` and of `valid`, in µs, measured in alternating
/// batches.
async fn medians(router: &Router, valid: &Input, input: &Input) -> (f64, f64) {
    let (mut hostile, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        baseline.push(batch_cost(router, valid).await);
        hostile.push(batch_cost(router, input).await);
    }
    let median = |mut samples: Vec<u64>| {
        samples.sort_unstable();
        samples[samples.len() / 2] as f64 / BATCH as f64 / 1e3
    };
    (median(hostile), median(baseline))
}

/// The router, and the valid requests and hostile inputs for it. Every request is sent once,
/// which also fetches the keys, and must be answered as its input says.
async fn setup(issuer: &TestIssuer) -> (Router, [Input; 4], Vec<Input>) {
    let router = router(issuer);
    let valid = valid_inputs(issuer);
    let mut inputs = header_inputs();
    inputs.extend(payload_inputs(issuer));
    inputs.extend(request_inputs(issuer));
    let mut wrong = String::new();
    for input in valid.iter().chain(&inputs) {
        let response = router
            .clone()
            .oneshot(input.request())
            .await
            .expect("an answer");
        if response.status() != input.status {
            let _ = writeln!(
                wrong,
                "{}: status {}, expected {}",
                input.name,
                response.status(),
                input.status
            );
        }
    }
    assert!(wrong.is_empty(), "inputs that take another path:\n{wrong}");
    (router, valid, inputs)
}

#[tokio::test]
async fn every_input_takes_the_path_it_is_measured_on() {
    let issuer = TestIssuer::start().await;
    let (_, _, inputs) = setup(&issuer).await;
    assert!(inputs.len() > 20);
}

#[tokio::test]
#[cfg_attr(
    debug_assertions,
    ignore = "costs mean something only optimised: cargo nextest run -p api --release refusal_cost"
)]
async fn no_input_costs_more_than_twice_a_valid_request_of_its_size() {
    let issuer = TestIssuer::start().await;
    let (router, [small, token, form, query], inputs) = setup(&issuer).await;

    let (small_cost, _) = medians(&router, &small, &small).await;
    let mut report = format!("(a small valid token: {small_cost:.0} µs)\n");
    let mut failed = false;
    for input in &inputs {
        let valid = match input.bulk {
            Bulk::Token => &token,
            Bulk::Form => &form,
            Bulk::Query => &query,
        };
        let (cost, baseline) = medians(&router, valid, input).await;
        let ratio = cost / baseline;
        failed |= ratio > MAX_RATIO;
        let _ = writeln!(
            report,
            "{:<72} {ratio:>5.2}x ({cost:>4.0} µs against {baseline:>3.0} µs for {})",
            input.name, valid.name
        );
    }
    eprint!("{report}");
    assert!(
        !failed,
        "every input must cost at most {MAX_RATIO}x a valid request of its size:\n{report}"
    );
}
