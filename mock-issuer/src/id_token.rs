//! ID tokens (OpenID Connect Core §2), and the profile claims they share with `/userinfo`: who
//! logged in, when, into which client, and what the granted scopes reveal of the user.

use std::sync::OnceLock;

use serde_json::Value;

use crate::config::{Dialect, SigningAlg, UserConfig, defaults};
use crate::token::{TokenSpec, unix_now};

/// What an ID token states. No `Debug`: the user's configuration holds the password.
pub(crate) struct IdToken<'a> {
    /// Who logged in (`sub` and the profile claims).
    pub user: &'a UserConfig,
    /// The client the login was for (`aud`).
    pub client_id: &'a str,
    /// The granted scopes, which choose the profile claims.
    pub scopes: &'a [String],
    /// Echoed when the login sent one.
    pub nonce: Option<&'a str>,
    /// When the user entered the password, in Unix seconds.
    pub auth_time: u64,
    /// The login session's public id.
    pub sid: &'a str,
}

impl IdToken<'_> {
    /// The token to sign, in the shape Auth0 issues: header `alg: RS256, typ: JWT, kid`; claims
    /// `iss`, `sub`, `aud` (the client id), `iat`, `exp` (10 hours later), the scopes' profile
    /// claims, `nonce` (when the login sent one), `sid` and `auth_time` (always: auth0-spa-js
    /// requires it whenever `max_age` was sent, and it costs nothing otherwise).
    pub(crate) fn spec(&self) -> TokenSpec {
        let mut spec = TokenSpec::for_user(&self.user.id, self.client_id)
            .audience(self.client_id)
            .expires_in(defaults::ID_TOKEN_LIFETIME)
            .dialect(Dialect::Auth0)
            // The client's algorithm, whatever its APIs sign with: Auth0's default for clients.
            .signing_alg(SigningAlg::Rs256)
            // The token is for the client itself: `azp` only matters when `aud` names several.
            .remove_claim("azp");
        for (name, value) in profile_claims(self.user, self.scopes) {
            spec = spec.claim(name, value);
        }
        if let Some(nonce) = self.nonce {
            spec = spec.claim("nonce", nonce);
        }
        spec.claim("sid", self.sid)
            .claim("auth_time", self.auth_time)
    }
}

/// The claims `scopes` reveal of `user`, in Auth0's order: `profile` gives `nickname`, `name`,
/// `picture` and `updated_at`; `email` gives `email` and `email_verified`; other scopes nothing.
pub(crate) fn profile_claims<S: AsRef<str>>(
    user: &UserConfig,
    scopes: &[S],
) -> Vec<(&'static str, Value)> {
    let has = |scope: &str| scopes.iter().any(|s| s.as_ref() == scope);
    let mut claims = Vec::new();
    if has("profile") {
        claims.push(("nickname", user.nickname.clone().into()));
        claims.push(("name", user.name.clone().into()));
        claims.push(("picture", user.picture.clone().into()));
        claims.push(("updated_at", updated_at().into()));
    }
    if has("email") {
        claims.push(("email", user.email.clone().into()));
        claims.push(("email_verified", user.email_verified.into()));
    }
    claims
}

/// `updated_at`, an ISO 8601 string as Auth0 gives it (not OIDC's number): the tenant's users
/// come from its configuration, so their profiles date from when this process first stated one.
fn updated_at() -> &'static str {
    static FIRST_READ: OnceLock<String> = OnceLock::new();
    FIRST_READ.get_or_init(|| iso8601(unix_now()))
}

/// `unix_seconds` as `YYYY-MM-DDTHH:MM:SS.000Z` (UTC; the proleptic Gregorian calendar).
fn iso8601(unix_seconds: u64) -> String {
    let (days, seconds) = (unix_seconds / 86_400, unix_seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The date `days` after 1970-01-01: Howard Hinnant's `civil_from_days`, for days since the epoch
/// (eras of 400 years, each 146097 days, starting on March 1st so leap days come last).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_out_in_the_gregorian_calendar() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        // A leap day, and the second before a new year.
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_704_067_199), "2023-12-31T23:59:59.000Z");
        assert_eq!(iso8601(1_709_210_096), "2024-02-29T12:34:56.000Z");
    }

    #[test]
    fn each_scope_reveals_its_own_claims() {
        let user = UserConfig::new("ada@example.com", "pw");
        let names = |scopes: &[&str]| -> Vec<&'static str> {
            profile_claims(&user, scopes)
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        assert!(names(&["openid"]).is_empty());
        assert_eq!(names(&["openid", "email"]), ["email", "email_verified"]);
        assert_eq!(
            names(&["profile"]),
            ["nickname", "name", "picture", "updated_at"]
        );
    }
}
