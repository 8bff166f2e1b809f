//! `cargo xtask dev`'s table: each route called without a token and with each token, the
//! answer next to what the contract (CONTRACT.md) expects, then curl lines to try it by hand.

use anyhow::{Context as _, Result};
use conformance::catalogue::Route;
use serde::Deserialize;

use super::issuer::Token;
use crate::http::Http;

/// One call to the api and what the contract expects of it.
pub struct Row {
    route: Route,
    token: &'static str,
    expected_status: u16,
    status: u16,
    message: Option<String>,
}

impl Row {
    /// The status is the contract's, and so is the `message` of a 200.
    pub fn matches(&self) -> bool {
        self.status == self.expected_status
            && (self.expected_status != 200
                || self.message.as_deref() == Some(self.route.message()))
    }
}

/// The contract's status for `route` called with `token` (`None`: no `Authorization`).
fn expected_status(route: Route, token: Option<&Token>) -> u16 {
    match (route, token) {
        (Route::Public, _) => 200,
        (_, None) => 401,
        (Route::Private, Some(_)) => 200,
        (Route::Scoped, Some(token)) if token.has_required_scope => 200,
        (Route::Scoped, Some(_)) => 403,
    }
}

/// The api's JSON bodies: `{"message": "…"}`.
#[derive(Deserialize)]
struct Body {
    message: String,
}

/// Calls each route without a token and with each token.
pub fn check_routes(http: &Http, api_url: &str, tokens: &[Token]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for token in std::iter::once(None).chain(tokens.iter().map(Some)) {
        for route in [Route::Public, Route::Private, Route::Scoped] {
            let url = format!("{api_url}{}", route.path());
            let bearer = token.map(|t| t.access_token.expose());
            let response = http
                .get(&url, bearer)
                .with_context(|| format!("calling {}", route.path()))?;
            rows.push(Row {
                route,
                token: token.map_or("none", |t| t.label),
                expected_status: expected_status(route, token),
                status: response.status,
                message: serde_json::from_str::<Body>(&response.body)
                    .ok()
                    .map(|body| body.message),
            });
        }
    }
    Ok(rows)
}

/// The table: route, token, expected and actual status, and `ok` or `MISMATCH`.
pub fn print_table(rows: &[Row]) {
    println!(
        "{:<24} {:<10} {:>8} {:>5}  result",
        "route", "token", "expected", "got"
    );
    for row in rows {
        let result = if row.matches() {
            "ok".to_owned()
        } else if row.status == row.expected_status {
            format!("MISMATCH: body {:?}", row.message.as_deref().unwrap_or(""))
        } else {
            "MISMATCH".to_owned()
        };
        println!(
            "GET {:<20} {:<10} {:>8} {:>5}  {result}",
            row.route.path(),
            row.token,
            row.expected_status,
            row.status
        );
    }
}

/// Shell lines that set each token and call each route with it, then `token_curl` if any.
pub fn print_curl_lines(api_url: &str, tokens: &[Token], token_curl: Option<&str>, redact: bool) {
    println!("\ntry it:");
    for token in tokens {
        let value = if redact {
            "<not printed on CI>"
        } else {
            token.access_token.expose()
        };
        println!("  {}='{value}'", token.variable());
    }
    println!("  curl -si {api_url}{}", Route::Public.path());
    for token in tokens {
        for route in [Route::Private, Route::Scoped] {
            println!(
                "  curl -si {api_url}{} -H \"Authorization: Bearer ${}\"",
                route.path(),
                token.variable()
            );
        }
    }
    if let Some(token_curl) = token_curl {
        println!("a fresh token:\n  {token_curl}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(route: Route, status: u16, message: &str) -> Row {
        Row {
            route,
            token: "none",
            expected_status: 200,
            status,
            message: Some(message.to_owned()),
        }
    }

    #[test]
    fn a_200_with_the_wrong_message_is_a_mismatch() {
        assert!(!row(Route::Public, 200, "hello").matches());
        assert!(!row(Route::Public, 200, Route::Private.message()).matches());
        assert!(row(Route::Public, 200, Route::Public.message()).matches());
        assert!(!row(Route::Public, 401, Route::Public.message()).matches());
    }

    #[test]
    fn the_scoped_route_wants_the_scope() {
        let token = |has_required_scope| Token {
            label: "t",
            access_token: "".into(),
            has_required_scope,
        };

        assert_eq!(expected_status(Route::Scoped, Some(&token(true))), 200);
        assert_eq!(expected_status(Route::Scoped, Some(&token(false))), 403);
        assert_eq!(expected_status(Route::Private, Some(&token(false))), 200);
        assert_eq!(expected_status(Route::Private, None), 401);
        assert_eq!(expected_status(Route::Public, None), 200);
    }
}
