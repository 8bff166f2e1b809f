//! Reading a `WWW-Authenticate` header into its challenges (RFC 9110 §11.6.1): a server that
//! accepts DPoP answers `Bearer realm="api", DPoP algs="…"` (RFC 9449 §7.1), one that does not
//! answers a Bearer challenge alone (RFC 6750 §3).

use std::collections::BTreeMap;

/// One challenge: its scheme and its auth-params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// The auth-scheme as sent (`Bearer`, `DPoP`); compare it case-insensitively.
    pub scheme: String,
    /// The auth-params, by lower-cased name (`realm`, `error`, `error_description`, `scope`,
    /// `algs`…).
    pub params: BTreeMap<String, String>,
}

impl AuthChallenge {
    /// The `error` parameter, if any.
    pub fn error(&self) -> Option<&str> {
        self.params.get("error").map(String::as_str)
    }

    /// The `scope` parameter, if any.
    pub fn scope(&self) -> Option<&str> {
        self.params.get("scope").map(String::as_str)
    }

    /// Whether this is a challenge of `scheme` (schemes are case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// Every challenge of a `WWW-Authenticate` header, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenges(pub Vec<AuthChallenge>);

impl Challenges {
    /// Parses `Bearer realm="api", error="invalid_token", DPoP algs="ES256"`; `None` if the
    /// header is not a well-formed list of challenges with auth-params (a token68 challenge,
    /// such as `Basic` credentials, is not one a resource server sends).
    pub fn parse(header: &str) -> Option<Self> {
        let mut challenges: Vec<AuthChallenge> = Vec::new();
        let mut rest = header;
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let (name, after) = split_token(rest)?;
            let after_space = after.trim_start_matches([' ', '\t']);
            if let Some(value) = after_space.strip_prefix('=') {
                // `name=value`: a parameter of the challenge before it.
                let current = challenges.last_mut()?;
                let value = value.trim_start_matches([' ', '\t']);
                let (value, remainder) = match value.strip_prefix('"') {
                    Some(quoted) => quoted_string(quoted)?,
                    None => split_token(value).map(|(token, rest)| (token.to_owned(), rest))?,
                };
                current.params.insert(name.to_ascii_lowercase(), value);
                rest = remainder.trim_start_matches([' ', '\t']);
                if !(rest.is_empty() || rest.starts_with(',')) {
                    return None;
                }
            } else {
                // A token not followed by `=`: the next challenge's scheme.
                if !(after.is_empty() || after.starts_with([' ', '\t', ','])) {
                    return None;
                }
                challenges.push(AuthChallenge {
                    scheme: name.to_owned(),
                    params: BTreeMap::new(),
                });
                rest = after;
            }
        }
        (!challenges.is_empty()).then_some(Challenges(challenges))
    }

    /// The first challenge of `scheme`, if any.
    pub fn scheme(&self, scheme: &str) -> Option<&AuthChallenge> {
        self.0.iter().find(|challenge| challenge.is(scheme))
    }

    /// The first challenge that carries an `error` parameter, if any.
    pub fn with_error(&self) -> Option<&AuthChallenge> {
        self.0.iter().find(|challenge| challenge.error().is_some())
    }
}

/// Splits a non-empty RFC 9110 token off the front of `input`.
fn split_token(input: &str) -> Option<(&str, &str)> {
    let end = input
        .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)))
        .unwrap_or(input.len());
    (end > 0).then(|| input.split_at(end))
}

/// Reads a quoted-string body (after the opening quote): the unescaped value and what follows.
fn quoted_string(input: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = input.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((value, &input[index + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(header: &str) -> Vec<AuthChallenge> {
        Challenges::parse(header).expect("parses").0
    }

    #[test]
    fn a_full_bearer_challenge_is_read_parameter_by_parameter() {
        let parsed = parse(
            r#"Bearer realm="api", error="insufficient_scope", error_description="Insufficient Scope", scope="read:messages""#,
        );
        assert_eq!(parsed.len(), 1);
        assert!(parsed[0].is("bearer"));
        assert_eq!(parsed[0].params["realm"], "api");
        assert_eq!(parsed[0].error(), Some("insufficient_scope"));
        assert_eq!(parsed[0].scope(), Some("read:messages"));
        assert_eq!(parsed[0].params["error_description"], "Insufficient Scope");
    }

    #[test]
    fn a_dpop_challenge_after_the_bearer_one_is_a_challenge_of_its_own() {
        let challenges = Challenges::parse(
            r#"Bearer realm="api", DPoP algs="ES256 EdDSA", error="invalid_dpop_proof", error_description="a, b""#,
        )
        .expect("parses");
        let bearer = challenges.scheme("Bearer").expect("Bearer");
        assert_eq!(bearer.params.len(), 1);
        assert_eq!(bearer.error(), None);
        let dpop = challenges.scheme("dpop").expect("DPoP");
        assert_eq!(dpop.params["algs"], "ES256 EdDSA");
        assert_eq!(dpop.error(), Some("invalid_dpop_proof"));
        assert_eq!(dpop.params["error_description"], "a, b");
        assert_eq!(challenges.with_error(), Some(dpop));
    }

    #[test]
    fn a_challenge_without_parameters_may_come_first() {
        let challenges = Challenges::parse("DPoP, Bearer error=invalid_token").expect("parses");
        assert_eq!(challenges.0.len(), 2);
        assert!(challenges.0[0].params.is_empty());
        assert_eq!(
            challenges.scheme("Bearer").and_then(AuthChallenge::error),
            Some("invalid_token")
        );
    }

    #[test]
    fn quoted_commas_and_escapes_stay_inside_values() {
        let parsed = parse(r#"Bearer error_description="a, \"b\"", error=invalid_token"#);
        assert_eq!(parsed[0].params["error_description"], "a, \"b\"");
        assert_eq!(parsed[0].error(), Some("invalid_token"));
    }

    #[test]
    fn broken_quotes_stray_text_and_empty_headers_are_not_challenges() {
        for header in [
            "Bearer realm=\"unterminated",
            "Bearer realm=\"api\" stray",
            "realm=\"api\"",
            "Basic abc==",
            "",
            " , ",
        ] {
            assert_eq!(Challenges::parse(header), None, "{header:?}");
        }
        assert!(parse("Bearer")[0].params.is_empty());
    }
}
