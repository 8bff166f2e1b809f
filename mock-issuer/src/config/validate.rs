//! What serde cannot check in a tenant: unique names, bounds, references between sections, and
//! clients whose type, secret and URLs agree.

use std::collections::HashSet;

use super::{
    AppType, ClientConfig, GrantConfig, IssuerConfig, MAX_TOKEN_LIFETIME, MIN_SIGNING_SECRET_BYTES,
};

/// One item of a section, by index, so a file reader can name its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    Api(usize),
    Client(usize),
    User(usize),
    Role(usize),
}

/// The first problem found, and the item it is about.
#[derive(Debug)]
pub(super) struct Problem {
    pub item: Option<Item>,
    pub message: String,
}

fn problem(item: Item, message: String) -> Problem {
    Problem {
        item: Some(item),
        message,
    }
}

/// Checks the whole tenant, section by section.
pub(super) fn check(config: &IssuerConfig) -> Result<(), Problem> {
    check_apis(config)?;
    check_clients(config)?;
    check_roles(config)?;
    check_users(config)
}

fn check_apis(config: &IssuerConfig) -> Result<(), Problem> {
    let mut seen = HashSet::new();
    for (index, api) in config.apis.iter().enumerate() {
        let item = Item::Api(index);
        if !seen.insert(api.identifier.as_str()) {
            return Err(problem(
                item,
                format!("API `{}` is defined twice", api.identifier),
            ));
        }
        if api.token_lifetime == 0 || api.token_lifetime > MAX_TOKEN_LIFETIME {
            return Err(problem(
                item,
                format!(
                    "API `{}`: token_lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds",
                    api.identifier
                ),
            ));
        }
        if let Some(secret) = &api.signing_secret {
            let length = secret.expose().len();
            if length < MIN_SIGNING_SECRET_BYTES {
                return Err(problem(
                    item,
                    format!(
                        "API `{}`: signing_secret is {length} bytes, fewer than the \
                         {MIN_SIGNING_SECRET_BYTES} HS256 needs (RFC 7518 §3.2)",
                        api.identifier
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_clients(config: &IssuerConfig) -> Result<(), Problem> {
    let mut seen = HashSet::new();
    for (index, client) in config.clients.iter().enumerate() {
        let item = Item::Client(index);
        let owner = format!("client `{}`", client.id);
        if !seen.insert(client.id.as_str()) {
            return Err(problem(item, format!("{owner} is defined twice")));
        }
        check_secret(client).map_err(|m| problem(item, format!("{owner}: {m}")))?;
        for grant in &client.grants {
            check_grant(config, grant).map_err(|m| problem(item, format!("{owner}: {m}")))?;
        }
        let urls = [
            ("callbacks", &client.callbacks),
            ("web_origins", &client.web_origins),
            ("allowed_logout_urls", &client.allowed_logout_urls),
        ];
        for (field, list) in urls {
            for url in list {
                check_url(field, url).map_err(|m| problem(item, format!("{owner}: {m}")))?;
            }
        }
    }
    Ok(())
}

/// A single-page app is public; the other types are confidential.
fn check_secret(client: &ClientConfig) -> Result<(), String> {
    match (client.app_type, client.secret.as_deref()) {
        (AppType::Spa, Some(_)) => {
            Err("a single-page app (`spa`) is public: remove `secret`".into())
        }
        (AppType::NonInteractive | AppType::RegularWeb, None | Some("")) => Err(format!(
            "a `{}` application is confidential: give it a `secret`",
            client.app_type.as_str()
        )),
        _ => Ok(()),
    }
}

/// An absolute `http` or `https` URL; a web origin has no path, query or fragment.
fn check_url(field: &str, url: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("{field}: `{url}` is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{field}: `{url}` is not an http or https URL"));
    }
    if field == "web_origins" && parsed.origin().ascii_serialization() != url {
        return Err(format!(
            "{field}: `{url}` is not an origin (scheme, host and port, no slash)"
        ));
    }
    Ok(())
}

/// The grant's API exists and defines every scope it grants.
fn check_grant(config: &IssuerConfig, grant: &GrantConfig) -> Result<(), String> {
    let Some(api) = config.api(&grant.audience) else {
        return Err(format!("names unknown API `{}`", grant.audience));
    };
    match grant.scopes.iter().find(|s| !api.scopes.contains(s)) {
        Some(scope) => Err(format!(
            "grants scope `{scope}`, which API `{}` does not define",
            api.identifier
        )),
        None => Ok(()),
    }
}

fn check_roles(config: &IssuerConfig) -> Result<(), Problem> {
    let mut seen = HashSet::new();
    for (index, role) in config.roles.iter().enumerate() {
        let item = Item::Role(index);
        let owner = format!("role `{}`", role.name);
        if !seen.insert(role.name.as_str()) {
            return Err(problem(item, format!("{owner} is defined twice")));
        }
        for grant in &role.permissions {
            check_grant(config, grant).map_err(|m| problem(item, format!("{owner}: {m}")))?;
        }
    }
    Ok(())
}

fn check_users(config: &IssuerConfig) -> Result<(), Problem> {
    let mut emails = HashSet::new();
    let mut ids = HashSet::new();
    for (index, user) in config.users.iter().enumerate() {
        let item = Item::User(index);
        let owner = format!("user `{}`", user.email);
        if !user.email.contains('@') {
            return Err(problem(item, format!("{owner}: the email has no `@`")));
        }
        if user.password.is_empty() {
            return Err(problem(item, format!("{owner}: the password is empty")));
        }
        if !emails.insert(user.email.to_lowercase()) {
            return Err(problem(item, format!("{owner} is defined twice")));
        }
        if !ids.insert(user.id.as_str()) {
            return Err(problem(item, format!("{owner}: id `{}` is taken", user.id)));
        }
        if let Some(role) = user
            .roles
            .iter()
            .find(|r| !config.roles.iter().any(|role| &role.name == *r))
        {
            return Err(problem(item, format!("{owner} has unknown role `{role}`")));
        }
    }
    Ok(())
}
