//! The `WWW-Authenticate` challenges of a refusal (RFC 6750 §3, RFC 9449 §7.1 and §7.2): which
//! schemes are offered, which one carries the error parameters, and, when asked, the URL of
//! the resource metadata on every scheme (RFC 9728 §5.1).

use std::sync::LazyLock;

use super::dpop::ALGORITHMS;

/// The realm every `Bearer` challenge names, as the Express reference does.
pub const REALM: &str = "api";

/// The `algs` parameter of the `DPoP` challenge: the proof algorithms accepted, space-separated.
static DPOP_ALGS: LazyLock<String> = LazyLock::new(|| ALGORITHMS.join(" "));

/// The authentication scheme of a request's credentials: `Authorization: DPoP …` is DPoP, any
/// other way of sending a token (or none) counts as Bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer …`, a token in the body or the query, or no token.
    Bearer,
    /// `Authorization: DPoP …` with a `DPoP` proof header (RFC 9449 §7.1).
    Dpop,
}

/// Which challenges a refusal's `WWW-Authenticate` carries (RFC 9449 §7.2): the schemes the API
/// accepts, and the scheme the client used, whose challenge carries the error parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenges {
    /// The schemes accepted.
    pub offered: Offered,
    /// The scheme of the request's credentials.
    pub used: Scheme,
    /// The absolute URL of the resource metadata (RFC 9728 §5.1), which a 401's challenges
    /// name as `resource_metadata="…"`; `None` leaves the parameter out (the default).
    pub resource_metadata: Option<String>,
}

/// The schemes an API accepts, as [`DpopOptions`](super::DpopOptions) sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Bearer only (DPoP disabled): `Bearer realm="api"[, error…]`.
    Bearer,
    /// Both, as by default: `Bearer realm="api", DPoP algs="…"`, the error parameters on the
    /// scheme the client used, which comes first (the reference's order).
    BearerAndDpop,
    /// DPoP only (DPoP required): `DPoP [error…, ]algs="…"`.
    Dpop,
}

impl Challenges {
    /// Bearer only: what a refusal outside authentication answers (the scope check, the `Host`
    /// check, the [`Claims`](super::Claims) extractor's fail-closed 401).
    pub const BEARER: Challenges = Challenges {
        offered: Offered::Bearer,
        used: Scheme::Bearer,
        resource_metadata: None,
    };

    /// The `WWW-Authenticate` value for `params` (`error="…", error_description="…"`, or
    /// `None` for a bare challenge). With `unauthorized` (a 401) and a metadata URL, every
    /// challenge ends with `resource_metadata="…"`.
    pub(crate) fn header(&self, params: Option<&str>, unauthorized: bool) -> String {
        let metadata = match self.resource_metadata.as_deref().filter(|_| unauthorized) {
            Some(url) => format!(", resource_metadata=\"{url}\""),
            None => String::new(),
        };
        let bearer = |with_error: bool| match params.filter(|_| with_error) {
            Some(params) => format!("Bearer realm=\"{REALM}\", {params}{metadata}"),
            None => format!("Bearer realm=\"{REALM}\"{metadata}"),
        };
        let dpop = |with_error: bool| match params.filter(|_| with_error) {
            Some(params) => format!("DPoP {params}, algs=\"{}\"{metadata}", *DPOP_ALGS),
            None => format!("DPoP algs=\"{}\"{metadata}", *DPOP_ALGS),
        };
        match (self.offered, self.used) {
            (Offered::Bearer, _) => bearer(true),
            (Offered::Dpop, _) => dpop(true),
            (Offered::BearerAndDpop, Scheme::Bearer) => {
                format!("{}, {}", bearer(true), dpop(false))
            }
            (Offered::BearerAndDpop, Scheme::Dpop) => format!("{}, {}", dpop(true), bearer(false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALGS: &str =
        "algs=\"RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES256K ES384 ES512 EdDSA\"";
    const ERROR: &str = "error=\"invalid_token\", error_description=\"x\"";

    fn header(offered: Offered, used: Scheme, params: Option<&str>) -> String {
        Challenges {
            offered,
            used,
            resource_metadata: None,
        }
        .header(params, true)
    }

    #[test]
    fn the_error_goes_on_the_scheme_used_which_comes_first() {
        use Offered::BearerAndDpop;
        assert_eq!(
            header(BearerAndDpop, Scheme::Bearer, Some(ERROR)),
            format!("Bearer realm=\"api\", {ERROR}, DPoP {ALGS}")
        );
        assert_eq!(
            header(BearerAndDpop, Scheme::Dpop, Some(ERROR)),
            format!("DPoP {ERROR}, {ALGS}, Bearer realm=\"api\"")
        );
        assert_eq!(
            header(BearerAndDpop, Scheme::Bearer, None),
            format!("Bearer realm=\"api\", DPoP {ALGS}")
        );
        assert_eq!(
            header(BearerAndDpop, Scheme::Dpop, None),
            format!("DPoP {ALGS}, Bearer realm=\"api\"")
        );
    }

    #[test]
    fn a_single_scheme_offered_carries_the_error_whatever_was_used() {
        for used in [Scheme::Bearer, Scheme::Dpop] {
            assert_eq!(
                header(Offered::Bearer, used, Some(ERROR)),
                format!("Bearer realm=\"api\", {ERROR}")
            );
            assert_eq!(
                header(Offered::Dpop, used, Some(ERROR)),
                format!("DPoP {ERROR}, {ALGS}")
            );
            assert_eq!(header(Offered::Dpop, used, None), format!("DPoP {ALGS}"));
        }
        assert_eq!(
            Challenges::BEARER.header(None, true),
            "Bearer realm=\"api\""
        );
    }

    #[test]
    fn the_metadata_url_ends_every_challenge_of_a_401_only() {
        const URL: &str = "https://api.test/.well-known/oauth-protected-resource";
        let named = format!("resource_metadata=\"{URL}\"");
        let challenges = |offered, used| Challenges {
            offered,
            used,
            resource_metadata: Some(URL.to_owned()),
        };
        let both = challenges(Offered::BearerAndDpop, Scheme::Dpop);
        assert_eq!(
            both.header(Some(ERROR), true),
            format!("DPoP {ERROR}, {ALGS}, {named}, Bearer realm=\"api\", {named}")
        );
        assert_eq!(
            challenges(Offered::Bearer, Scheme::Bearer).header(None, true),
            format!("Bearer realm=\"api\", {named}")
        );
        assert_eq!(
            both.header(Some(ERROR), false),
            format!("DPoP {ERROR}, {ALGS}, Bearer realm=\"api\"")
        );
    }
}
