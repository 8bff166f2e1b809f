//! What `/authorize` accepts: each parameter read at most once, and Auth0's rules for them. An
//! error about the client or its `redirect_uri` can only be shown to the user; any other goes
//! back to the client in its response mode (RFC 6749 §4.1.2.1).

use url::Url;

use super::params::{Params, Problem};
use super::response::Reply;
use crate::config::{AUTHORIZATION_CODE, ClientConfig, IssuerConfig};
use crate::login::{AuthorizeRequest, ResponseMode};

/// A request that passed every rule.
#[derive(Debug)]
pub(super) struct Validated {
    pub request: AuthorizeRequest,
    /// `prompt=none`: answer at once, `login_required` when no session will do.
    pub prompt_none: bool,
}

/// Why a request is refused, and where the refusal goes.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The client or its `redirect_uri` cannot be trusted: the error page, never a redirect.
    Page {
        error: &'static str,
        description: String,
    },
    /// Back to the client's `redirect_uri`, in the response mode it asked for.
    Redirect {
        reply: Reply,
        error: &'static str,
        description: String,
    },
}

fn page((error, description): Problem) -> Refusal {
    Refusal::Page { error, description }
}

/// Checks the query of a `GET /authorize` against `config`.
pub(super) fn validate(config: &IssuerConfig, query: &str) -> Result<Validated, Refusal> {
    let params = Params::parse(query);
    let client_id = params.required("client_id").map_err(page)?;
    let client = config
        .client(client_id)
        .ok_or_else(|| page(("invalid_request", format!("Unknown client: {client_id}"))))?;
    let redirect_uri = params.required("redirect_uri").map_err(page)?;
    if !client.callbacks.iter().any(|c| c == redirect_uri) {
        return Err(page((
            "unauthorized_client",
            format!(
                "Callback URL mismatch. {redirect_uri} is not in the list of allowed callback URLs"
            ),
        )));
    }
    // With two states the answer could not echo the right one.
    let state = params.one("state").map_err(page)?.map(str::to_owned);
    let mut reply = Reply {
        redirect_uri: redirect_uri.to_owned(),
        mode: ResponseMode::Query,
        state,
    };
    let mode = params
        .one("response_mode")
        .and_then(|mode| response_mode(mode));
    reply.mode = match mode {
        Ok(mode) => mode,
        Err((error, description)) => {
            return Err(Refusal::Redirect {
                reply,
                error,
                description,
            });
        }
    };
    if reply.mode == ResponseMode::WebMessage {
        check_web_origin(client, redirect_uri).map_err(page)?;
    }
    match rules(config, client, &params) {
        Ok((request, prompt_none)) => Ok(Validated {
            request: AuthorizeRequest {
                client_id: client.id.clone(),
                redirect_uri: reply.redirect_uri,
                response_mode: reply.mode,
                state: reply.state,
                ..request
            },
            prompt_none,
        }),
        Err((error, description)) => Err(Refusal::Redirect {
            reply,
            error,
            description,
        }),
    }
}

fn response_mode(name: Option<&str>) -> Result<ResponseMode, Problem> {
    match name {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some("web_message") => Ok(ResponseMode::WebMessage),
        Some(other) => Err((
            "invalid_request",
            format!("Unsupported response_mode: {other}"),
        )),
    }
}

/// A `web_message` answer is posted to the origin of `redirect_uri`, which must then be one
/// of the client's Allowed Web Origins.
fn check_web_origin(client: &ClientConfig, redirect_uri: &str) -> Result<(), Problem> {
    let origin = web_origin(redirect_uri);
    let allowed = origin.as_deref().is_some_and(|origin| {
        client
            .web_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin)
    });
    if allowed {
        Ok(())
    } else {
        Err((
            "unauthorized_client",
            "The origin of redirect_uri is not in the list of Allowed Web Origins".to_owned(),
        ))
    }
}

/// The origin (`scheme://host[:port]`) of `url`, `None` for a URL without one.
pub(super) fn web_origin(url: &str) -> Option<String> {
    let origin = Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The rules whose errors go back to the client; returns the request (its client, callback,
/// mode and state left for the caller to fill) and whether `prompt=none` was asked.
fn rules(
    config: &IssuerConfig,
    client: &ClientConfig,
    params: &Params,
) -> Result<(AuthorizeRequest, bool), Problem> {
    if !client.allows_grant(AUTHORIZATION_CODE) {
        return Err((
            "unauthorized_client",
            "Grant type 'authorization_code' not allowed for the client.".to_owned(),
        ));
    }
    match params.required("response_type")? {
        "code" => {}
        other => {
            return Err((
                "unsupported_response_type",
                format!("Unsupported response type: {other}"),
            ));
        }
    }
    let (prompt_none, force_login) = prompt(params.one("prompt")?)?;
    let code_challenge = pkce(
        client,
        params.one("code_challenge")?,
        params.one("code_challenge_method")?,
    )?;
    let audience = params.one("audience")?;
    if let Some(audience) = audience
        && config.api(audience).is_none()
    {
        return Err(("access_denied", format!("Service not found: {audience}")));
    }
    let max_age = match params.one("max_age")? {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            (
                "invalid_request",
                "max_age must be a whole number of seconds".to_owned(),
            )
        })?),
    };
    // `screen_hint` (signup), `connection`, `auth0Client`, `ui_locales`: accepted, unused.
    let request = AuthorizeRequest {
        client_id: String::new(),
        redirect_uri: String::new(),
        response_mode: ResponseMode::Query,
        scope: params.one("scope")?.unwrap_or_default().to_owned(),
        audience: audience.map(str::to_owned),
        state: None,
        nonce: params.one("nonce")?.map(str::to_owned),
        code_challenge,
        max_age,
        login_hint: params.one("login_hint")?.map(str::to_owned),
        force_login,
    };
    Ok((request, prompt_none))
}

/// `prompt`, a space-separated list: returns (`none` asked, `login` asked). `consent` and
/// `select_account` are accepted and ignored, as Auth0 does for first-party applications with
/// one database connection; `none` with anything else is an error (OpenID Connect Core §3.1.2.1).
fn prompt(value: Option<&str>) -> Result<(bool, bool), Problem> {
    let values: Vec<&str> = value.unwrap_or_default().split_whitespace().collect();
    if let Some(other) = values
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
    {
        return Err(("invalid_request", format!("Unsupported prompt: {other}")));
    }
    let none = values.contains(&"none");
    if none && values.len() > 1 {
        return Err((
            "invalid_request",
            "prompt=none cannot be combined with other values".to_owned(),
        ));
    }
    Ok((none, values.contains(&"login")))
}

/// The PKCE challenge. Public clients must send one; only `S256` is accepted. Auth0 takes a
/// challenge without a method as `plain` and accepts it; this tenant refuses `plain`, which
/// gives no protection once the challenge is seen (RFC 9700 §2.1.1: use S256).
fn pkce(
    client: &ClientConfig,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<String>, Problem> {
    let Some(challenge) = challenge else {
        if client.is_public() {
            return Err((
                "invalid_request",
                "Parameter 'code_challenge' is required for a public client".to_owned(),
            ));
        }
        return Ok(None);
    };
    if method != Some("S256") {
        return Err((
            "invalid_request",
            "code_challenge_method must be S256 (plain is not supported)".to_owned(),
        ));
    }
    // base64url of a SHA-256 digest: 43 characters, no padding (RFC 7636 §4.2).
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err((
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the code verifier".to_owned(),
        ));
    }
    Ok(Some(challenge.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_none_stands_alone() {
        assert_eq!(prompt(Some("none")), Ok((true, false)));
        assert_eq!(prompt(Some("login consent")), Ok((false, true)));
        assert!(prompt(Some("none login")).is_err());
        assert!(prompt(Some("create")).is_err());
    }

    #[test]
    fn the_web_origin_drops_path_and_default_port() {
        assert_eq!(
            web_origin("http://localhost:3000/callback?x=1").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(
            web_origin("https://app.example:443/").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(web_origin("myapp:/cb"), None);
    }
}
