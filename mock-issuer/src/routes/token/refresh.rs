//! The refresh-token grant: a new access token and ID token for the login a refresh token stands
//! for; with rotation, a new refresh token too, and a spent one presented again revokes its family
//! (the store does that). A family bound to a DPoP key needs a proof by that key every time.

use super::refusal::{DpopProblem, Refusal};
use super::request::Params;
use super::user::{self, Login};
use crate::config::ClientConfig;
use crate::login::RefreshError;
use crate::oauth::TokenResponse;
use crate::server::AppState;

/// Exchanges the refresh token and issues what its login earns now, `sid` and `auth_time` kept.
///
/// A `scope` parameter narrows the answer to the scopes it names that the login was granted; a
/// scope it was not granted is dropped, never added (RFC 6749 §6), and not refused: auth0-spa-js
/// sends its whole configured scope with every refresh, which holds scopes RBAC denied the user,
/// and a refusal would also spend a rotating token on an answer the client could not use. The
/// refresh token keeps the login's scopes. `redirect_uri` and `audience`, which auth0-spa-js
/// sends too, are ignored: the token stays for the API of the login.
///
/// With a DPoP proof by the key `jkt` the new access token is bound to that key, whether or not
/// the refresh token is; a refresh token keeps the binding its family started with (a bound one
/// refuses any other key, and no proof at all, with `400 invalid_dpop_proof`).
pub(super) fn issue(
    state: &AppState,
    client: &ClientConfig,
    params: &mut Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, Refusal> {
    let token = params
        .remove("refresh_token")
        .ok_or(Refusal::Missing("refresh_token"))?;
    let (grant, successor) = state
        .login()
        .refresh
        .exchange(&token, &client.id, client.rotates_refresh_tokens(), jkt)
        .map_err(|error| match error {
            RefreshError::ProofRequired => Refusal::Dpop(DpopProblem::BoundRefreshWithoutProof),
            RefreshError::OtherKey => Refusal::Dpop(DpopProblem::BoundRefreshOtherKey),
            other => Refusal::InvalidRefreshToken(other),
        })?;
    let scope = match params.get("scope") {
        Some(asked) => narrowed(&grant.scope, asked),
        None => grant.scope.clone(),
    };
    let earned = user::earn(
        state,
        client,
        &Login {
            user_id: &grant.user_id,
            scope: &scope,
            audience: grant.audience.as_deref(),
            // The nonce belonged to the authorization request; refreshed ID tokens carry none.
            nonce: None,
            auth_time: grant.auth_time,
            sid: &grant.sid,
            jkt,
        },
    )?;
    Ok(earned.answer(successor))
}

/// The scopes of `asked` (space-separated) that `granted` holds, in the order asked.
fn narrowed(granted: &str, asked: &str) -> String {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    asked
        .split_whitespace()
        .filter(|scope| granted.contains(scope))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::narrowed;

    #[test]
    fn a_scope_can_be_narrowed_but_never_widened() {
        let granted = "openid profile offline_access read:messages";
        assert_eq!(
            narrowed(granted, "openid read:messages"),
            "openid read:messages"
        );
        assert_eq!(narrowed(granted, "openid write:messages"), "openid");
    }
}
