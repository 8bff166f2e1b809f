//! Authorization codes: single use, short-lived, bound to the client, the `redirect_uri` and the
//! PKCE challenge; a second use revokes what the first one earned (RFC 6749 §4.1.2).

use std::time::Duration;

use super::{STORE_CAPACITY, Store};

/// What a code was issued for, checked when it is redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    /// The S256 `code_challenge`, if the request had one.
    pub code_challenge: Option<String>,
    pub user_id: String,
    /// The requested scopes, space-separated as sent.
    pub scope: String,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    /// `max_age` was sent: the ID token must carry `auth_time`.
    pub max_age_sent: bool,
    pub auth_time: u64,
    pub sid: String,
}

#[derive(Debug, Clone)]
struct Slot {
    grant: CodeGrant,
    /// A code stays in the store after use (until it expires), so a second use is recognised.
    used: Use,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Use {
    Unused,
    /// Redeemed, its refresh token not yet recorded; `reused` if another use came meanwhile.
    InProgress {
        reused: bool,
    },
    /// Redeemed, and the refresh-token family it started, if any.
    Done {
        family: Option<String>,
    },
}

/// Why a code cannot be redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodeError {
    /// Never issued, or expired.
    Unknown,
    /// Used before. Carries the refresh-token family the first use started, which the caller
    /// must revoke.
    Reused { family: Option<String> },
}

/// The codes of one tenant.
#[derive(Debug)]
pub(crate) struct Codes(Store<Slot>);

impl Codes {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self(Store::new(lifetime, STORE_CAPACITY))
    }

    /// Issues a code for `grant`.
    pub(crate) fn issue(&self, grant: CodeGrant) -> String {
        self.0.insert(Slot {
            grant,
            used: Use::Unused,
        })
    }

    /// Marks `code` used and returns what it was issued for. The caller checks the client,
    /// `redirect_uri` and verifier, then calls [`Codes::record_family`] if it issues a refresh
    /// token.
    pub(crate) fn redeem(&self, code: &str) -> Result<CodeGrant, CodeError> {
        self.0
            .update(code, |slot| match &mut slot.used {
                Use::Done { family } => Err(CodeError::Reused {
                    family: family.clone(),
                }),
                Use::InProgress { reused } => {
                    // The first use has not recorded its family yet: it will see this flag.
                    *reused = true;
                    Err(CodeError::Reused { family: None })
                }
                Use::Unused => {
                    slot.used = Use::InProgress { reused: false };
                    Ok(slot.grant.clone())
                }
            })
            .unwrap_or(Err(CodeError::Unknown))
    }

    /// Remembers the refresh-token family `code`'s first use started, so a later reuse revokes
    /// it. Returns whether the code was used again while the first use was being answered: the
    /// caller must then revoke the family itself.
    pub(crate) fn record_family(&self, code: &str, family: &str) -> bool {
        self.0
            .update(code, |slot| {
                let reused = slot.used == (Use::InProgress { reused: true });
                slot.used = Use::Done {
                    family: Some(family.to_owned()),
                };
                reused
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> CodeGrant {
        CodeGrant {
            client_id: "spa".into(),
            redirect_uri: "http://localhost:3000".into(),
            code_challenge: None,
            user_id: "auth0|1".into(),
            scope: "openid".into(),
            audience: None,
            nonce: None,
            max_age_sent: false,
            auth_time: 0,
            sid: "s".into(),
        }
    }

    #[test]
    fn a_code_works_once_and_its_reuse_names_the_family() {
        let codes = Codes::new(Duration::from_secs(60));
        let code = codes.issue(grant());
        assert_eq!(codes.redeem(&code), Ok(grant()));
        assert!(!codes.record_family(&code, "fam"));
        assert_eq!(
            codes.redeem(&code),
            Err(CodeError::Reused {
                family: Some("fam".into())
            })
        );
    }

    #[test]
    fn a_reuse_before_the_first_use_records_its_family_is_reported_to_it() {
        let codes = Codes::new(Duration::from_secs(60));
        let code = codes.issue(grant());
        assert_eq!(codes.redeem(&code), Ok(grant()));
        assert_eq!(codes.redeem(&code), Err(CodeError::Reused { family: None }));
        assert!(codes.record_family(&code, "fam"));
    }

    #[test]
    fn an_expired_or_unknown_code_is_unknown() {
        let codes = Codes::new(Duration::ZERO);
        let code = codes.issue(grant());
        assert_eq!(codes.redeem(&code), Err(CodeError::Unknown));
        assert_eq!(codes.redeem("nope"), Err(CodeError::Unknown));
    }
}
