//! Refresh tokens in families: with rotation each use spends the token and issues its successor;
//! presenting a spent one revokes the whole family, the newest token included (Auth0's reuse
//! detection, RFC 9700 §4.14.2). A family started with a DPoP proof by a public client is bound
//! to that proof's key (RFC 9449 §5): each use needs a proof by the same key.

use std::time::Duration;

use super::{STORE_CAPACITY, Store, random_handle};

/// What a refresh token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefreshGrant {
    /// The family: every token rotated from the same login.
    pub family: String,
    pub client_id: String,
    pub user_id: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    pub audience: Option<String>,
    pub auth_time: u64,
    pub sid: String,
    /// The RFC 7638 thumbprint of the DPoP key the family is bound to, if it is.
    pub jkt: Option<String>,
}

#[derive(Debug, Clone)]
struct Slot {
    grant: RefreshGrant,
    spent: bool,
}

/// Why a refresh token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshError {
    /// Never issued, expired, or its family was revoked.
    Unknown,
    /// Issued to another client.
    WrongClient,
    /// Already rotated: its family is now revoked.
    Reused,
    /// Bound to a DPoP key, and used without a proof.
    ProofRequired,
    /// Bound to a DPoP key, and used with a proof by another key.
    OtherKey,
}

/// The refresh tokens of one tenant.
#[derive(Debug)]
pub(crate) struct RefreshTokens(Store<Slot>);

impl RefreshTokens {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self(Store::new(lifetime, STORE_CAPACITY))
    }

    /// Starts a family for `grant` (its `family` field is replaced) and returns its first token
    /// and the family id.
    pub(crate) fn issue(&self, mut grant: RefreshGrant) -> (String, String) {
        let family = random_handle();
        grant.family.clone_from(&family);
        (
            self.0.insert(Slot {
                grant,
                spent: false,
            }),
            family,
        )
    }

    /// Uses `token` for `client_id`, with a DPoP proof by the key `proof_jkt` if there was one.
    /// With `rotate`, the token is spent and a successor in the same family is returned;
    /// without, the token stays valid and `None` is returned.
    ///
    /// The key binding is checked before anything is spent or revoked: someone holding a bound
    /// token without its key can neither use it nor, by presenting a spent one, revoke the family
    /// its owner is using.
    pub(crate) fn exchange(
        &self,
        token: &str,
        client_id: &str,
        rotate: bool,
        proof_jkt: Option<&str>,
    ) -> Result<(RefreshGrant, Option<String>), RefreshError> {
        let used = self
            .0
            .update(token, |slot| {
                if slot.grant.client_id != client_id {
                    return Err(RefreshError::WrongClient);
                }
                match (slot.grant.jkt.as_deref(), proof_jkt) {
                    (Some(_), None) => return Err(RefreshError::ProofRequired),
                    (Some(bound), Some(presented)) if bound != presented => {
                        return Err(RefreshError::OtherKey);
                    }
                    _ => {}
                }
                if slot.spent {
                    return Err(RefreshError::Reused);
                }
                slot.spent = rotate;
                Ok(slot.grant.clone())
            })
            .unwrap_or(Err(RefreshError::Unknown));
        match used {
            Ok(grant) if rotate => {
                let next = self.0.insert(Slot {
                    grant: grant.clone(),
                    spent: false,
                });
                Ok((grant, Some(next)))
            }
            Ok(grant) => Ok((grant, None)),
            Err(RefreshError::Reused) => {
                if let Some(family) = self.0.get(token).map(|slot| slot.grant.family) {
                    self.revoke_family(&family);
                }
                Err(RefreshError::Reused)
            }
            Err(other) => Err(other),
        }
    }

    /// Revokes every token of `family`.
    pub(crate) fn revoke_family(&self, family: &str) {
        self.0.retain(|slot| slot.grant.family != family);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> RefreshGrant {
        RefreshGrant {
            family: String::new(),
            client_id: "spa".into(),
            user_id: "auth0|1".into(),
            scope: "openid offline_access".into(),
            audience: None,
            auth_time: 0,
            sid: "s".into(),
            jkt: None,
        }
    }

    #[test]
    fn rotation_spends_each_token_and_reuse_revokes_the_family() {
        let tokens = RefreshTokens::new(Duration::from_secs(60));
        let (first, family) = tokens.issue(grant());
        let (used, second) = tokens.exchange(&first, "spa", true, None).unwrap();
        assert_eq!(used.family, family);
        let second = second.unwrap();
        let (_, third) = tokens.exchange(&second, "spa", true, None).unwrap();
        let third = third.unwrap();
        // The first token again: refused, and the newest token goes with it.
        assert_eq!(
            tokens.exchange(&first, "spa", true, None),
            Err(RefreshError::Reused)
        );
        assert_eq!(
            tokens.exchange(&third, "spa", true, None),
            Err(RefreshError::Unknown)
        );
    }

    #[test]
    fn without_rotation_a_token_is_reusable() {
        let tokens = RefreshTokens::new(Duration::from_secs(60));
        let (token, _) = tokens.issue(grant());
        assert!(
            tokens
                .exchange(&token, "spa", false, None)
                .unwrap()
                .1
                .is_none()
        );
        assert!(tokens.exchange(&token, "spa", false, None).is_ok());
    }

    #[test]
    fn another_client_cannot_use_a_token() {
        let tokens = RefreshTokens::new(Duration::from_secs(60));
        let (token, _) = tokens.issue(grant());
        assert_eq!(
            tokens.exchange(&token, "webapp", true, None),
            Err(RefreshError::WrongClient)
        );
    }

    #[test]
    fn a_bound_token_needs_its_key_and_a_refusal_spends_nothing() {
        let tokens = RefreshTokens::new(Duration::from_secs(60));
        let (first, _) = tokens.issue(RefreshGrant {
            jkt: Some("key-a".into()),
            ..grant()
        });
        assert_eq!(
            tokens.exchange(&first, "spa", true, None),
            Err(RefreshError::ProofRequired)
        );
        assert_eq!(
            tokens.exchange(&first, "spa", true, Some("key-b")),
            Err(RefreshError::OtherKey)
        );
        let (used, second) = tokens.exchange(&first, "spa", true, Some("key-a")).unwrap();
        assert_eq!(used.jkt.as_deref(), Some("key-a"));
        // The successor is bound too; the spent token presented without the key revokes nothing.
        let second = second.unwrap();
        assert_eq!(
            tokens.exchange(&first, "spa", true, None),
            Err(RefreshError::ProofRequired)
        );
        assert!(tokens.exchange(&second, "spa", true, Some("key-a")).is_ok());
    }
}
