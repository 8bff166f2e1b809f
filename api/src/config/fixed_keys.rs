//! `PUBLIC_KEY` or `SECRET`, with `ISSUER`: tokens verified with a key fixed at start-up, for an
//! issuer with no JWKS to fetch (or none at all). Nothing is discovered or fetched, ever.
//!
//! The rules, each broken one stopping start-up with one line naming the variables:
//! - not both: a secret is never mixed with a public key (RFC 8725 §2.1);
//! - not with `ISSUER_BASE_URL`, `AUTH0_DOMAIN` or `JWKS_URI`: one way to get keys;
//! - `ISSUER` is required: the exact `iss` the tokens carry;
//! - `PUBLIC_KEY` is a PEM public key, a JWK or a JWKS, inline or the path of a file holding
//!   one; its algorithms follow from the key unless `TOKEN_SIGNING_ALG` or `ALGORITHMS`
//!   narrows them, and never include HMAC;
//! - `SECRET` needs `TOKEN_SIGNING_ALG` set to HS256, HS384 or HS512, and at least as many
//!   bytes as the hash (RFC 7518 §3.2).

use crate::auth::{Algorithm, AuthOptions, public_key_set, secret_key_set};

use super::{ConfigError, audiences};

/// Where the fixed key comes from.
enum Source {
    PublicKey(String),
    Secret(String),
}

/// The options for a fixed key, or `None` when neither `PUBLIC_KEY` nor `SECRET` is set.
/// `algorithms` is `ALGORITHMS` or `TOKEN_SIGNING_ALG`, when set.
pub(super) fn options(
    get: &impl Fn(&str) -> Option<String>,
    algorithms: Option<&[Algorithm]>,
) -> Result<Option<AuthOptions>, ConfigError> {
    let (variable, source) = match (get("PUBLIC_KEY"), get("SECRET")) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(ConfigError::Together {
                first: "PUBLIC_KEY",
                second: "SECRET",
                why: "a secret is never mixed with a public key",
            });
        }
        (Some(key), None) => ("PUBLIC_KEY", Source::PublicKey(key)),
        (None, Some(secret)) => ("SECRET", Source::Secret(secret)),
    };
    for fetching in ["ISSUER_BASE_URL", "AUTH0_DOMAIN", "JWKS_URI"] {
        if get(fetching).is_some() {
            return Err(ConfigError::Together {
                first: variable,
                second: fetching,
                why: "a fixed key replaces the issuer's discovery and JWKS: set one or the other",
            });
        }
    }
    let issuer = get("ISSUER").ok_or(ConfigError::Needs {
        variable,
        needs: "ISSUER",
        why: "the exact 'iss' of the tokens it verifies",
    })?;
    let audiences = audiences(get);
    let Some(first_audience) = audiences.first().cloned() else {
        return Err(ConfigError::Missing);
    };
    let keys = match source {
        Source::PublicKey(value) => {
            let allowed = algorithms.unwrap_or(&Algorithm::ALL);
            if allowed.iter().any(|alg| alg.is_symmetric()) {
                return Err(ConfigError::Together {
                    first: "PUBLIC_KEY",
                    second: "TOKEN_SIGNING_ALG",
                    why: "HS256, HS384 and HS512 verify with SECRET, never with a public key",
                });
            }
            public_key_set(&key_text(&value)?, allowed).map_err(|error| ConfigError::Unusable {
                variable: "PUBLIC_KEY",
                reason: error.to_string(),
            })?
        }
        Source::Secret(secret) => {
            let alg = match algorithms {
                Some(&[alg]) if alg.is_symmetric() => alg,
                _ => {
                    return Err(ConfigError::Needs {
                        variable: "SECRET",
                        needs: "TOKEN_SIGNING_ALG",
                        why: "set to HS256, HS384 or HS512, and no ALGORITHMS",
                    });
                }
            };
            secret_key_set(secret.as_bytes(), alg).map_err(|error| ConfigError::Unusable {
                variable: "SECRET",
                reason: error.to_string(),
            })?
        }
    };
    let mut options = AuthOptions::fixed(issuer, first_audience, keys);
    options.audiences = audiences;
    Ok(Some(options))
}

/// `PUBLIC_KEY`'s key: given inline (a PEM block or a JSON object), else read from the file it
/// names. A PEM block written on one line with `\n` escapes, as environment files often hold
/// it, gets its line breaks back.
fn key_text(value: &str) -> Result<String, ConfigError> {
    if value.starts_with("-----BEGIN") {
        return Ok(if value.contains('\n') {
            value.to_owned()
        } else {
            value.replace("\\n", "\n")
        });
    }
    if value.starts_with('{') {
        return Ok(value.to_owned());
    }
    std::fs::read_to_string(value).map_err(|error| ConfigError::Unusable {
        variable: "PUBLIC_KEY",
        reason: format!(
            "neither an inline PEM block or JSON object, nor a readable file ({error})"
        ),
    })
}
