//! Users who log in through the login page, and the roles that give them permissions (RBAC).

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::GrantConfig;
use super::defaults;

/// A user of the tenant's database connection (`Username-Password-Authentication`).
///
/// In a TOML file `email` and `password` are required; the rest default from the email.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The user id, the `sub` of the user's tokens. Default: `auth0|` and 24 hex digits derived
    /// from the email, so it is stable across restarts and machines.
    #[serde(default)]
    pub id: String,
    /// The email, which is also the login name.
    pub email: String,
    /// The password, in clear: this is a development tenant.
    pub password: String,
    /// The `name` claim. Default: the email.
    #[serde(default)]
    pub name: String,
    /// The `nickname` claim. Default: the email's local part.
    #[serde(default)]
    pub nickname: String,
    /// The `picture` claim. Default: Auth0's initials avatar for the nickname's first two letters.
    #[serde(default)]
    pub picture: String,
    /// The `email_verified` claim. Default `true`.
    #[serde(default = "yes")]
    pub email_verified: bool,
    /// Names of the user's roles. Default: none.
    #[serde(default)]
    pub roles: Vec<String>,
}

fn yes() -> bool {
    true
}

impl UserConfig {
    /// The default users: `manager@example.com` / `manager-password` with role `manager`, and
    /// `user@example.com` / `user-password` with no role.
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::new(defaults::MANAGER_EMAIL, defaults::MANAGER_PASSWORD)
                .role(defaults::MANAGER_ROLE),
            Self::new(defaults::USER_EMAIL, defaults::USER_PASSWORD),
        ]
    }

    /// A verified user with no role, every other field derived from `email`.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        let mut user = Self {
            id: String::new(),
            email: email.into(),
            password: password.into(),
            name: String::new(),
            nickname: String::new(),
            picture: String::new(),
            email_verified: true,
            roles: Vec::new(),
        };
        user.normalize();
        user
    }

    /// Adds the role named `name`.
    #[must_use]
    pub fn role(mut self, name: impl Into<String>) -> Self {
        self.roles.push(name.into());
        self
    }

    /// Fills the fields left empty from the email.
    pub(super) fn normalize(&mut self) {
        if self.id.is_empty() {
            let digest = Sha256::digest(self.email.to_lowercase().as_bytes());
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            self.id = format!("auth0|{hex}");
        }
        let local = self.email.split('@').next().unwrap_or_default().to_owned();
        if self.name.is_empty() {
            self.name.clone_from(&self.email);
        }
        if self.nickname.is_empty() {
            self.nickname = local;
        }
        if self.picture.is_empty() {
            let initials: String = self
                .nickname
                .chars()
                .filter(char::is_ascii_alphabetic)
                .take(2)
                .collect::<String>()
                .to_lowercase();
            self.picture = format!("https://cdn.auth0.com/avatars/{initials}.png");
        }
    }
}

/// A role: a named set of permissions (scopes of APIs) given to users.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// The role's name, as users' `roles` list it.
    pub name: String,
    /// What it grants: scopes of APIs, each defined by its API. Default: none.
    #[serde(default)]
    pub permissions: Vec<GrantConfig>,
}

impl RoleConfig {
    /// The default role: `manager`, granted `read:messages` on the default API.
    pub fn defaults() -> Vec<Self> {
        vec![Self {
            name: defaults::MANAGER_ROLE.to_owned(),
            permissions: vec![GrantConfig {
                audience: defaults::API_AUDIENCE.to_owned(),
                scopes: vec![defaults::READ_MESSAGES.to_owned()],
            }],
        }]
    }
}
