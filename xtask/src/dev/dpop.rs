//! The DPoP walkthrough `cargo xtask dev` prints beside the bearer `curl` lines: a key, a token
//! bound to it, and a fresh proof for each request, all made by the mock issuer's binary.

use std::path::Path;

use mock_issuer::config::defaults;

/// Where the walkthrough keeps its key: outside the repository, owner-only (the binary refuses a
/// key file others can read).
const KEY_FILE: &str = "/tmp/dpop-dev.pem";

/// The lines, for the mock at `issuer_url` (with its trailing slash) and the api at `api_url`
/// (without one), running `mock` to make the key and the proofs.
pub fn lines(mock: &Path, issuer_url: &str, api_url: &str) -> Vec<String> {
    let mock = mock.display();
    let token_endpoint = format!("{issuer_url}oauth/token");
    let scoped = format!("{api_url}/api/private-scoped");
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{}","client_secret":"{}","audience":"{}"}}"#,
        defaults::READER_CLIENT_ID,
        defaults::READER_CLIENT_SECRET,
        defaults::API_AUDIENCE,
    );
    vec![
        format!("M={mock}"),
        format!("[ -f {KEY_FILE} ] || $M dpop-key {KEY_FILE}"),
        format!(
            "DPOP_TOKEN=$(curl -s {token_endpoint} -H \"DPoP: $($M proof --key {KEY_FILE} --method POST --url {token_endpoint})\" -H 'content-type: application/json' -d '{body}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')"
        ),
        format!(
            "curl -si {scoped} -H \"Authorization: DPoP $DPOP_TOKEN\" -H \"DPoP: $($M proof --key {KEY_FILE} --url {scoped} --token $DPOP_TOKEN)\""
        ),
    ]
}

/// Prints [`lines`] under a heading.
pub fn print(mock: &Path, issuer_url: &str, api_url: &str) {
    println!("DPoP (a token bound to a key; each request proves it with a fresh proof):");
    for line in lines(mock, issuer_url, api_url) {
        println!("  {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proofs_name_the_token_endpoint_and_the_route_they_are_sent_to() {
        let lines = lines(
            Path::new("/t/mock-issuer"),
            "http://127.0.0.1:4000/",
            "http://127.0.0.1:3010",
        );
        assert_eq!(lines[0], "M=/t/mock-issuer");
        assert!(
            lines[2].contains(
                "--method POST --url http://127.0.0.1:4000/oauth/token)\" -H 'content-type"
            )
        );
        assert!(lines[2].contains(r#""client_id":"reader""#));
        assert!(lines[3].starts_with(
            "curl -si http://127.0.0.1:3010/api/private-scoped -H \"Authorization: DPoP $DPOP_TOKEN\""
        ));
        assert!(
            lines[3].contains("--url http://127.0.0.1:3010/api/private-scoped --token $DPOP_TOKEN")
        );
    }
}
