//! Reading a token request: the body's parameters (form or JSON) and the client's credentials
//! (`Authorization: Basic` or the body), with RFC 6749's rules on repeats and mixed methods.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::refusal::Refusal;

/// A request's parameters by name; an empty value is absent.
pub(super) type Params = HashMap<String, String>;

/// The body's parameters, from a form or a JSON object of strings. A parameter given twice is
/// refused (RFC 6749 §3.2); an empty value counts as absent, as Auth0 treats it.
pub(super) fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Params, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let pairs: Vec<(String, String)> = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes(body).map_err(|_| Refusal::MalformedForm)?
        }
        "application/json" => {
            let object: serde_json::Map<String, Value> =
                serde_json::from_slice(body).map_err(|_| Refusal::MalformedJson)?;
            object
                .into_iter()
                .map(|(name, value)| match value {
                    Value::String(s) => Ok((name, s)),
                    _ => Err(Refusal::NotAString { name }),
                })
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(Refusal::UnsupportedContentType);
        }
    };
    let mut params = HashMap::new();
    for (name, value) in pairs {
        if params.contains_key(&name) {
            return Err(Refusal::DuplicateParameter { name });
        }
        if !value.is_empty() {
            params.insert(name, value);
        }
    }
    Ok(params)
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: id and secret are form-urlencoded
/// before base64). No header is `None`; any other scheme or a malformed value is refused.
pub(super) fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || Refusal::MalformedAuthorization;
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> Result<String, Refusal> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={}", s.replace('&', "%26")))
                .map_err(|_| malformed())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// The client id and secret, from `Authorization: Basic` or the body but not both (the id may
/// be repeated in the body if it matches). Takes them out of `params`. A public client sends its
/// id alone: the secret is then `None`.
pub(super) fn client_credentials(
    basic: Option<(String, String)>,
    params: &mut Params,
) -> Result<(String, Option<String>), Refusal> {
    let body_id = params.remove("client_id");
    let body_secret = params.remove("client_secret");
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(Refusal::TwoAuthenticationMethods),
        (Some((id, _)), Some(body_id), None) if id != body_id => Err(Refusal::ClientIdMismatch),
        (Some((id, secret)), _, None) => Ok((id, Some(secret))),
        (None, Some(id), secret) => Ok((id, secret)),
        (None, None, _) => Err(Refusal::Missing("client_id")),
    }
}
