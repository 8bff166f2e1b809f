//! The authorization-code grant: a code from `/authorize`, redeemed once by the client it was
//! issued to, with the same `redirect_uri` and the PKCE verifier of its challenge (RFC 6749 §4.1.3,
//! RFC 7636 §4.6).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use super::refusal::{CodeProblem, Refusal, VerifierProblem};
use super::request::Params;
use super::user::{self, Login};
use crate::config::ClientConfig;
use crate::login::{CodeError, CodeGrant, RefreshGrant};
use crate::oauth::TokenResponse;
use crate::server::AppState;

/// Redeems the code, checks what it is bound to, and issues what the login earns; a refresh token
/// starts a family that a second use of the code revokes. With a DPoP proof by the key `jkt` the
/// access token is bound to it, and so is a public client's refresh token family (RFC 9449 §5:
/// a confidential client's refresh token is bound to its credentials already).
///
/// The code is spent by any attempt that names it, refused or not (RFC 6749 §10.5): a stolen code
/// tried without the verifier is then useless to its owner too, which is the safe side.
pub(super) fn issue(
    state: &AppState,
    client: &ClientConfig,
    params: &mut Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, Refusal> {
    let code = params.remove("code").ok_or(Refusal::Missing("code"))?;
    let stores = state.login();
    let grant = match stores.codes.redeem(&code) {
        Ok(grant) => grant,
        Err(CodeError::Unknown) => return Err(Refusal::InvalidCode(CodeProblem::Unknown)),
        Err(CodeError::Reused { family }) => {
            // RFC 6749 §4.1.2: a code used twice revokes what its first use earned.
            if let Some(family) = family {
                stores.refresh.revoke_family(&family);
            }
            return Err(Refusal::InvalidCode(CodeProblem::Reused));
        }
    };
    check_binding(client, &grant, params)?;
    let earned = user::earn(
        state,
        client,
        &Login {
            user_id: &grant.user_id,
            scope: &grant.scope,
            audience: grant.audience.as_deref(),
            nonce: grant.nonce.as_deref(),
            auth_time: grant.auth_time,
            sid: &grant.sid,
            jkt,
        },
    )?;
    let refresh_token = if earned.offline {
        let (token, family) = stores.refresh.issue(RefreshGrant {
            family: String::new(),
            client_id: client.id.clone(),
            user_id: grant.user_id.clone(),
            scope: earned.scope(),
            audience: grant.audience.clone(),
            auth_time: grant.auth_time,
            sid: grant.sid.clone(),
            jkt: jkt.filter(|_| client.is_public()).map(str::to_owned),
        });
        if stores.codes.record_family(&code, &family) {
            // The code was tried again while this answer was being made: the family goes
            // before anyone holds it, and this use is refused like the other.
            stores.refresh.revoke_family(&family);
            return Err(Refusal::InvalidCode(CodeProblem::Reused));
        }
        Some(token)
    } else {
        None
    };
    Ok(earned.answer(refresh_token))
}

/// The code was issued to this client, for this exact `redirect_uri`, and the verifier proves
/// its challenge.
fn check_binding(client: &ClientConfig, grant: &CodeGrant, params: &Params) -> Result<(), Refusal> {
    if grant.client_id != client.id {
        return Err(Refusal::InvalidCode(CodeProblem::OtherClient));
    }
    if params.get("redirect_uri") != Some(&grant.redirect_uri) {
        return Err(Refusal::InvalidCode(CodeProblem::RedirectUriMismatch));
    }
    check_verifier(
        grant.code_challenge.as_deref(),
        params.get("code_verifier").map(String::as_str),
        client.is_public(),
    )
    .map_err(Refusal::CodeVerifier)
}

/// PKCE with S256 (the only method `/authorize` accepts): `BASE64URL(SHA256(verifier))` must be
/// the challenge. A code issued with a challenge needs a verifier; one issued without must not get
/// one (RFC 9700 §2.1.1); a public client's code always has one, since nothing else proves the
/// caller is the client the user logged in to.
fn check_verifier(
    challenge: Option<&str>,
    verifier: Option<&str>,
    public_client: bool,
) -> Result<(), VerifierProblem> {
    match (challenge, verifier) {
        (None, Some(_)) => Err(VerifierProblem::Unexpected),
        (None, None) if public_client => Err(VerifierProblem::NoChallenge),
        (None, None) => Ok(()),
        (Some(_), None) => Err(VerifierProblem::Missing),
        (Some(_), Some(verifier)) if !well_formed(verifier) => Err(VerifierProblem::Malformed),
        // The challenge was public (it travelled in a URL): no need to compare in constant time.
        (Some(challenge), Some(verifier)) => {
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge {
                Ok(())
            } else {
                Err(VerifierProblem::Mismatch)
            }
        }
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B's example pair.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies_and_anything_else_does_not() {
        assert!(check_verifier(Some(CHALLENGE), Some(VERIFIER), true).is_ok());
        let other = VERIFIER.replace('d', "e");
        assert!(matches!(
            check_verifier(Some(CHALLENGE), Some(&other), true),
            Err(VerifierProblem::Mismatch)
        ));
    }

    #[test]
    fn a_verifier_is_needed_exactly_when_a_challenge_was_sent() {
        assert!(matches!(
            check_verifier(Some(CHALLENGE), None, false),
            Err(VerifierProblem::Missing)
        ));
        assert!(matches!(
            check_verifier(None, Some(VERIFIER), false),
            Err(VerifierProblem::Unexpected)
        ));
        assert!(check_verifier(None, None, false).is_ok());
        assert!(matches!(
            check_verifier(None, None, true),
            Err(VerifierProblem::NoChallenge)
        ));
    }

    #[test]
    fn verifiers_outside_the_alphabet_or_length_are_malformed() {
        for verifier in ["short", &"a".repeat(129), &format!("{}+", &VERIFIER[1..])] {
            assert!(
                matches!(
                    check_verifier(Some(CHALLENGE), Some(verifier), true),
                    Err(VerifierProblem::Malformed)
                ),
                "{verifier}"
            );
        }
        assert!(well_formed(&"~".repeat(43)) && well_formed(&"Z".repeat(128)));
    }
}
