//! Reading a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3) into its parameters.

use std::collections::BTreeMap;

/// A parsed Bearer challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The auth-params, by lower-cased name (`realm`, `error`, `error_description`, `scope`…).
    pub params: BTreeMap<String, String>,
}

impl BearerChallenge {
    /// Parses `Bearer realm="api", error="invalid_token", …`; `None` if it is not a Bearer
    /// challenge or its parameters are not well formed.
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut rest = rest.trim_start();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=')?;
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
                quoted_string(quoted)?
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            };
            params.insert(name, value);
            rest = remainder.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        Some(BearerChallenge { params })
    }

    /// The `error` parameter, if any.
    pub fn error(&self) -> Option<&str> {
        self.params.get("error").map(String::as_str)
    }

    /// The `scope` parameter, if any.
    pub fn scope(&self) -> Option<&str> {
        self.params.get("scope").map(String::as_str)
    }
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

    #[test]
    fn a_full_challenge_is_read_parameter_by_parameter() {
        let parsed = BearerChallenge::parse(
            r#"Bearer realm="api", error="insufficient_scope", error_description="Insufficient Scope", scope="read:messages""#,
        )
        .expect("parses");
        assert_eq!(parsed.params["realm"], "api");
        assert_eq!(parsed.error(), Some("insufficient_scope"));
        assert_eq!(parsed.scope(), Some("read:messages"));
        assert_eq!(parsed.params["error_description"], "Insufficient Scope");
    }

    #[test]
    fn quoted_commas_and_escapes_stay_inside_values() {
        let parsed =
            BearerChallenge::parse(r#"Bearer error_description="a, \"b\"", error=invalid_token"#)
                .expect("parses");
        assert_eq!(parsed.params["error_description"], "a, \"b\"");
        assert_eq!(parsed.error(), Some("invalid_token"));
    }

    #[test]
    fn other_schemes_and_broken_quotes_are_not_bearer_challenges() {
        assert_eq!(BearerChallenge::parse("Basic realm=\"x\""), None);
        assert_eq!(BearerChallenge::parse("Bearer realm=\"unterminated"), None);
        assert!(
            BearerChallenge::parse("Bearer")
                .expect("bare")
                .params
                .is_empty()
        );
    }
}
