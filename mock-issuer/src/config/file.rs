//! Reading a tenant TOML file: every section optional, each error naming its line.

use serde::Deserialize;
use toml::Spanned;

use super::validate::{self, Item};
use super::{ApiConfig, ClientConfig, IssuerConfig, RoleConfig, UserConfig};

/// The shape of a tenant TOML file; every section is optional and replaces the default when given.
///
/// ```toml
/// body_limit = 16384
///
/// [[apis]]
/// identifier = "https://quickstarts/api"
/// scopes = ["read:messages", "write:messages"]
/// token_lifetime = 86400        # seconds, at most 2592000
/// dialect = "auth0"             # or "rfc9068"
/// rbac = true                   # "Enable RBAC": users get only the scopes their roles hold
/// permissions_in_token = true   # "Add Permissions in the Access Token"
/// allow_offline_access = true   # refresh tokens for logins asking for offline_access
/// signing_alg = "RS256"         # or "PS256", "ES256", "EdDSA", "HS256"
/// # signing_secret = "…"        # HS256's key, 32 bytes or more; default: generated, kept
///
/// [[clients]]
/// id = "reader"
/// secret = "reader-secret"      # app_type defaults to "non_interactive" (machine to machine)
/// grants = [{ audience = "https://quickstarts/api", scopes = ["read:messages"] }]
///
/// [[clients]]
/// id = "spa"
/// app_type = "spa"              # public: no secret, PKCE, refresh-token rotation
/// callbacks = ["http://localhost:3000", "http://localhost:3000/callback"]
/// web_origins = ["http://localhost:3000"]
/// allowed_logout_urls = ["http://localhost:3000"]
///
/// [[users]]
/// email = "manager@example.com" # id, name, nickname and picture default from the email
/// password = "manager-password"
/// roles = ["manager"]
///
/// [[roles]]
/// name = "manager"
/// permissions = [{ audience = "https://quickstarts/api", scopes = ["read:messages"] }]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// Replaces [`IssuerConfig::body_limit`].
    pub body_limit: Option<usize>,
    /// Replaces [`IssuerConfig::apis`].
    pub apis: Option<Vec<Spanned<ApiConfig>>>,
    /// Replaces [`IssuerConfig::clients`].
    pub clients: Option<Vec<Spanned<ClientConfig>>>,
    /// Replaces [`IssuerConfig::users`].
    pub users: Option<Vec<Spanned<UserConfig>>>,
    /// Replaces [`IssuerConfig::roles`].
    pub roles: Option<Vec<Spanned<RoleConfig>>>,
}

/// A problem in a tenant document, with the line it is on when known.
#[derive(Debug)]
pub(super) struct FileError {
    line: Option<usize>,
    message: String,
}

impl std::fmt::Display for FileError {
    /// `line N: what is wrong`, or only what is wrong when no line applies.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses `text`, replaces the sections it gives in `config`, and validates the result; a
/// problem with one item of the file names the line where that item starts.
pub(super) fn apply(mut config: IssuerConfig, text: &str) -> Result<IssuerConfig, FileError> {
    let file: TenantFile = toml::from_str(text).map_err(|e| FileError {
        line: e.span().map(|span| line_of(text, span.start)),
        message: e.message().trim_end().to_owned(),
    })?;
    // Where each item starts, by section, to place a validation problem.
    let mut starts: Vec<(Item, usize)> = Vec::new();
    let wrote_clients = file.clients.is_some();
    if let Some(limit) = file.body_limit {
        config.body_limit = limit;
    }
    if let Some(apis) = file.apis {
        config.apis = unspan(apis, Item::Api, &mut starts);
    }
    if let Some(clients) = file.clients {
        config.clients = unspan(clients, Item::Client, &mut starts);
        config.clients.iter_mut().for_each(ClientConfig::normalize);
    }
    if let Some(users) = file.users {
        config.users = unspan(users, Item::User, &mut starts);
        config.users.iter_mut().for_each(UserConfig::normalize);
    }
    if let Some(roles) = file.roles {
        config.roles = unspan(roles, Item::Role, &mut starts);
    } else {
        let roles = config.roles.iter_mut().map(|r| &mut r.permissions);
        retain_known_apis(&config.apis, roles);
    }
    if !wrote_clients {
        let clients = config.clients.iter_mut().map(|c| &mut c.grants);
        retain_known_apis(&config.apis, clients);
    }
    validate::check(&config).map_err(|problem| FileError {
        line: problem.item.and_then(|item| {
            starts
                .iter()
                .find(|(i, _)| *i == item)
                .map(|&(_, at)| line_of(text, at))
        }),
        message: problem.message,
    })?;
    Ok(config)
}

/// Drops grants on APIs not in `apis`, from sections the file did not write: a file that
/// replaces the APIs must not fail on the defaults' grants for the quickstart's API.
fn retain_known_apis<'a>(
    apis: &[super::ApiConfig],
    grant_lists: impl Iterator<Item = &'a mut Vec<super::GrantConfig>>,
) {
    for grants in grant_lists {
        grants.retain(|grant| apis.iter().any(|api| api.identifier == grant.audience));
    }
}

fn unspan<T>(
    items: Vec<Spanned<T>>,
    item: fn(usize) -> Item,
    starts: &mut Vec<(Item, usize)>,
) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, spanned)| {
            starts.push((item(index), spanned.span().start));
            spanned.into_inner()
        })
        .collect()
}

/// The 1-based line of byte offset `at` (a table of an array of tables spans from its `[[…]]`
/// header, so an item's line is its header's).
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        match apply(IssuerConfig::default(), text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let message = error_of("body_limit = 10\n\n[[clients]\nid = \"x\"\n");
        assert!(message.starts_with("line 3: "), "{message}");
    }

    #[test]
    fn an_unknown_field_names_its_line_and_the_field() {
        let message = error_of("[[users]]\nemail = \"a@b\"\npassword = \"p\"\nrole = \"x\"\n");
        assert!(message.starts_with("line 4: "), "{message}");
        assert!(message.contains("`role`"), "{message}");
    }

    #[test]
    fn a_consistency_error_names_the_line_of_the_item() {
        let text = "\
[[users]]
email = \"a@example.com\"
password = \"p\"

[[users]]
email = \"b@example.com\"
password = \"p\"
roles = [\"nobody\"]
";
        let message = error_of(text);
        assert!(message.starts_with("line 5: "), "{message}");
        assert!(message.contains("`nobody`"), "{message}");
    }
}
