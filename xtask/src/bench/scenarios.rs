//! The HTTP scenarios, as data: which request, carrying what, and the one status every answer
//! must have. Grouped by the server they run against.

use anyhow::Result;
use conformance::catalogue::Route;
use conformance::load::wrk::{Scenario, Source};
use mock_issuer::config::defaults;

use super::tokens::{Tokens, reader_request};

/// The scenarios `--baseline` measures on both apis: the routes' cost without the cache's
/// and the pool's larger effects.
pub const BASELINE: [&str; 3] = ["public", "private, one token", "private-scoped, one token"];

/// A `GET` of `route` with `source`, expecting `expected_status`.
fn get(name: &'static str, route: Route, source: Source, expected_status: u16) -> Scenario {
    Scenario {
        name,
        method: "GET",
        path: route.path(),
        source,
        expected_status,
    }
}

/// Against the api with its token cache on.
pub fn cached(tokens: &Tokens) -> Vec<Scenario> {
    let reused = Source::Header(format!("Bearer {}", tokens.one));
    vec![
        get("public", Route::Public, Source::None, 200),
        // The same request bytes as the next scenario on a route that ignores them: separates
        // what carrying a 700-byte header costs (kernel, hyper, wrk) from what authenticating
        // costs.
        get(
            "public, same Authorization header",
            Route::Public,
            reused.clone(),
            200,
        ),
        get("private, one token", Route::Private, reused.clone(), 200),
        get("private-scoped, one token", Route::Scoped, reused, 200),
        get(
            "private, token pool, cache on",
            Route::Private,
            Source::Pool(tokens.pool.clone()),
            200,
        ),
        get(
            "private, invalid pool, cache on",
            Route::Private,
            Source::Pool(tokens.invalid_pool.clone()),
            401,
        ),
    ]
}

/// Against the api over HTTPS and the same api over plain HTTP, in alternating rounds: the
/// public and the private route on connections kept alive (as clients and proxies keep them,
/// so a handshake is rare), then the public route with a new connection for each request,
/// which costs a full handshake each over HTTPS.
pub fn https(tokens: &Tokens) -> Vec<Scenario> {
    let reused = Source::Header(format!("Bearer {}", tokens.one));
    vec![
        get("public", Route::Public, Source::None, 200),
        get("private, one token", Route::Private, reused, 200),
        get(NEW_CONNECTIONS, Route::Public, Source::NewConnection, 200),
    ]
}

/// The HTTPS scenario whose every request opens a new connection.
pub const NEW_CONNECTIONS: &str = "public, a new connection each";

/// Against the api with its token cache off.
pub fn uncached(tokens: &Tokens) -> Vec<Scenario> {
    vec![get(
        "private, token pool, cache off",
        Route::Private,
        Source::Pool(tokens.pool.clone()),
        200,
    )]
}

/// Against the mock issuer: its token endpoint, with the reader client's form.
pub fn issuer() -> Result<Vec<Scenario>> {
    let form = serde_urlencoded::to_string(reader_request(defaults::API_AUDIENCE))?;
    Ok(vec![Scenario {
        name: "mock issuer /oauth/token",
        method: "POST",
        path: "/oauth/token",
        source: Source::Form(form),
        expected_status: 200,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_form_is_the_reader_clients_request() {
        let Source::Form(form) = &issuer().expect("encodes")[0].source else {
            panic!("the token endpoint takes a form");
        };

        assert_eq!(
            form,
            "grant_type=client_credentials&client_id=reader&client_secret=reader-secret&audience=https%3A%2F%2Fquickstarts%2Fapi"
        );
    }

    #[test]
    fn the_baseline_scenarios_are_cached_scenarios() {
        let tokens = Tokens {
            one: "t".to_owned(),
            pool: "pool.txt".into(),
            invalid_pool: "invalid.txt".into(),
        };
        let names: Vec<&str> = cached(&tokens).iter().map(|s| s.name).collect();

        assert!(BASELINE.iter().all(|name| names.contains(name)));
    }
}
