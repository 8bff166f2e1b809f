//! Query and form parameters read the way an authorization server must: each at most once (two
//! parties may disagree on which of two values counts), an empty value as an absent one.

use std::collections::HashMap;

/// An OAuth error code and its description.
pub(in crate::routes) type Problem = (&'static str, String);

/// Parameters by name; several values when a name is repeated.
#[derive(Debug, Default)]
pub(in crate::routes) struct Params(HashMap<String, Vec<String>>);

impl Params {
    /// Reads `application/x-www-form-urlencoded` text: a query string or a form body.
    pub(in crate::routes) fn parse(text: &str) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
            map.entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Self(map)
    }

    /// The value of `name`, `None` when absent or empty; `invalid_request` when repeated.
    pub(in crate::routes) fn one(&self, name: &str) -> Result<Option<&str>, Problem> {
        match self.0.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([value]) => Ok(Some(value.as_str()).filter(|v| !v.is_empty())),
            Some(_) => Err((
                "invalid_request",
                format!("Parameter {name} was given more than once"),
            )),
        }
    }

    /// Like [`Params::one`], for what must be present.
    pub(in crate::routes) fn required(&self, name: &str) -> Result<&str, Problem> {
        self.one(name)?.ok_or_else(|| {
            (
                "invalid_request",
                format!("Missing required parameter: {name}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_an_error_and_an_empty_one_is_absent() {
        let params = Params::parse("a=1&a=2&b=&c=%3Cx%3E");
        assert!(params.one("a").is_err());
        assert_eq!(params.one("b"), Ok(None));
        assert!(params.required("b").is_err());
        assert_eq!(params.one("c"), Ok(Some("<x>")));
    }
}
