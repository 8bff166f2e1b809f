//! Who may use the admin surface of `mock-issuer serve`, decided from where it listens and what
//! the operator said: open on a loopback address, else a bearer token (given, or generated and
//! printed), unless `--open-admin` explicitly opens it.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Error;
use crate::oauth::Secret;

/// The environment variable that gives the admin token when `--admin-token` does not.
pub const ADMIN_TOKEN_ENV: &str = "MOCK_ADMIN_TOKEN";

/// How many random bytes a generated token has (256 bits, 43 base64url characters).
const GENERATED_TOKEN_BYTES: usize = 32;

/// How the admin surface under `/_mock/` is guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAccess {
    /// No token, on a loopback address: only this machine can reach the surface.
    Loopback,
    /// No token on an address others can reach, because `--open-admin` said so.
    OpenedByFlag,
    /// Every admin request must carry this bearer token.
    Token {
        /// The token (its `Debug` is redacted).
        token: Secret,
        /// Where it came from.
        source: TokenSource,
    },
}

/// Where the admin token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `--admin-token`.
    Flag,
    /// [`ADMIN_TOKEN_ENV`].
    Environment,
    /// Generated at start-up, since the address is not loopback and nothing else was given.
    Generated,
}

impl AdminAccess {
    /// The guard for a server bound to `bound`, given `--admin-token` (`flag`), the value of
    /// [`ADMIN_TOKEN_ENV`] (`env`; empty counts as unset) and `--open-admin` (`open`). A given
    /// token is always required, loopback or not; the flag's wins over the environment's.
    ///
    /// # Errors
    /// [`Error::Config`] for `--open-admin` together with a token, or a token that is empty or
    /// holds anything but visible ASCII (it must fit in an `Authorization` header).
    pub fn decide(
        bound: IpAddr,
        flag: Option<String>,
        env: Option<String>,
        open: bool,
    ) -> Result<Self, Error> {
        let given = match (flag, env.filter(|v| !v.is_empty())) {
            (Some(token), _) => Some((token, TokenSource::Flag)),
            (None, Some(token)) => Some((token, TokenSource::Environment)),
            (None, None) => None,
        };
        match given {
            Some((_, source)) if open => Err(Error::Config(format!(
                "--open-admin and an admin token ({}) exclude each other",
                source.name()
            ))),
            Some((token, source)) => {
                check_token(&token, source)?;
                Ok(Self::Token {
                    token: token.into(),
                    source,
                })
            }
            None if bound.to_canonical().is_loopback() => Ok(Self::Loopback),
            None if open => Ok(Self::OpenedByFlag),
            None => Ok(Self::Token {
                token: generate_token(),
                source: TokenSource::Generated,
            }),
        }
    }

    /// The token admin requests must carry, if any.
    pub fn token(&self) -> Option<&Secret> {
        match self {
            Self::Token { token, .. } => Some(token),
            Self::Loopback | Self::OpenedByFlag => None,
        }
    }

    /// The banner line that tells the operator how the surface is guarded. Only a generated
    /// token is shown (the operator has no other way to learn it); a given one is not repeated.
    pub fn banner_line(&self) -> String {
        match self {
            Self::Loopback => "admin: open (loopback only)".to_owned(),
            Self::OpenedByFlag => {
                "admin: OPEN to anyone who can reach this address (--open-admin)".to_owned()
            }
            Self::Token {
                token,
                source: TokenSource::Generated,
            } => format!(
                "admin: bearer token required (generated): {}",
                token.expose()
            ),
            Self::Token { source, .. } => {
                format!("admin: bearer token required (from {})", source.name())
            }
        }
    }

    /// The warning to print at start-up for a surface opened on purpose where others can reach
    /// it, naming `addr`.
    pub fn warning(&self, addr: &str) -> Option<String> {
        matches!(self, Self::OpenedByFlag).then(|| {
            format!(
                "WARNING: --open-admin: anyone who can reach {addr} can rotate the signing keys \
                 and inject faults under /_mock/; give a token with --admin-token or \
                 {ADMIN_TOKEN_ENV} instead"
            )
        })
    }
}

impl TokenSource {
    /// How the operator gave it: the flag's or the variable's name, or `generated`.
    fn name(self) -> &'static str {
        match self {
            Self::Flag => "--admin-token",
            Self::Environment => ADMIN_TOKEN_ENV,
            Self::Generated => "generated",
        }
    }
}

/// Refuses a token that cannot be sent as `Authorization: Bearer <token>`.
fn check_token(token: &str, source: TokenSource) -> Result<(), Error> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Config(format!(
            "the admin token ({}) must be non-empty visible ASCII, without spaces",
            source.name()
        )));
    }
    Ok(())
}

/// A fresh random token, base64url.
fn generate_token() -> Secret {
    let bytes: [u8; GENERATED_TOKEN_BYTES] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes).into()
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::{AdminAccess, TokenSource};

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const WILDCARD: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    fn decide(bound: IpAddr, flag: Option<&str>, env: Option<&str>, open: bool) -> AdminAccess {
        AdminAccess::decide(bound, flag.map(str::to_owned), env.map(str::to_owned), open)
            .expect("a valid choice")
    }

    #[test]
    fn loopback_without_a_token_stays_open() {
        assert_eq!(decide(LOOPBACK, None, None, false), AdminAccess::Loopback);
        assert_eq!(
            decide(IpAddr::V6(Ipv6Addr::LOCALHOST), None, Some(""), false),
            AdminAccess::Loopback
        );
    }

    #[test]
    fn a_wildcard_bind_without_a_token_gets_a_generated_one() {
        let access = decide(WILDCARD, None, None, false);
        let other = decide(IpAddr::V6(Ipv6Addr::UNSPECIFIED), None, None, false);

        let token = access.token().expect("a token").expose().to_owned();
        assert_eq!(token.len(), 43);
        assert_ne!(Some(token.as_str()), other.token().map(|t| t.expose()));
        assert!(access.banner_line().ends_with(&token));
    }

    #[test]
    fn a_given_token_is_required_even_on_loopback_and_the_flag_wins() {
        let access = decide(LOOPBACK, Some("from-flag"), Some("from-env"), false);
        let from_env = decide(WILDCARD, None, Some("from-env"), false);

        assert_eq!(access.token().map(|t| t.expose()), Some("from-flag"));
        assert_eq!(
            access.banner_line(),
            "admin: bearer token required (from --admin-token)"
        );
        assert!(matches!(
            from_env,
            AdminAccess::Token {
                source: TokenSource::Environment,
                ..
            }
        ));
        assert!(!from_env.banner_line().contains("from-env"));
    }

    #[test]
    fn open_admin_opens_without_a_token_and_warns() {
        let access = decide(WILDCARD, None, None, true);

        assert_eq!(access, AdminAccess::OpenedByFlag);
        assert!(
            access
                .warning("0.0.0.0:4000")
                .is_some_and(|w| w.starts_with("WARNING: ") && w.contains("0.0.0.0:4000"))
        );
        assert_eq!(decide(WILDCARD, Some("t"), None, false).warning("x"), None);
    }

    #[test]
    fn contradictions_and_unsendable_tokens_are_refused() {
        for (flag, env, open) in [
            (Some("t"), None, true),
            (None, Some("t"), true),
            (Some(""), None, false),
            (Some("two words"), None, false),
            (None, Some("line\nbreak"), false),
        ] {
            let decided = AdminAccess::decide(
                WILDCARD,
                flag.map(str::to_owned),
                env.map(str::to_owned),
                open,
            );
            assert!(decided.is_err(), "{flag:?} {env:?} {open}");
        }
    }
}
