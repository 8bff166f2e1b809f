//! Where `cargo xtask dev` gets its tokens: the mock issuer it started (the default tenant's
//! `reader` and `no-scopes` clients) or a real Auth0 tenant from the `AUTH0_*` variables (one
//! client). Both speak the same `/oauth/token`, through [`mock_issuer::IssuerClient`].

use anyhow::{Context as _, Result, bail};
use mock_issuer::config::defaults;
use mock_issuer::{ClientCredentials, Secret};
use serde_json::json;

use crate::http::Http;

/// The variables that name a real tenant; all or none must be set.
const TENANT_VARIABLES: [&str; 4] = [
    "AUTH0_DOMAIN",
    "AUTH0_AUDIENCE",
    "AUTH0_CLIENT_ID",
    "AUTH0_CLIENT_SECRET",
];

/// A real Auth0 tenant, from the `AUTH0_*` variables.
pub struct Tenant {
    issuer: String,
    audience: String,
    client_id: String,
    client_secret: Secret,
}

impl Tenant {
    /// `None` when none of the four variables is set; an error when only some are.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Tenant::from_env`] over any source of variables; an empty value counts as unset.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let values = TENANT_VARIABLES.map(get);
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = TENANT_VARIABLES
            .iter()
            .zip(&values)
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            bail!(
                "a real tenant needs all of {}; missing: {}",
                TENANT_VARIABLES.join(", "),
                missing.join(", ")
            );
        }
        let [domain, audience, client_id, client_secret] = values.map(Option::unwrap_or_default);
        let issuer = get("AUTH0_ISSUER_BASE_URL")
            .unwrap_or_else(|| format!("https://{}/", domain.trim_end_matches('/')));
        Ok(Some(Self {
            issuer: with_trailing_slash(issuer),
            audience,
            client_id,
            client_secret: client_secret.into(),
        }))
    }
}

/// `url` ending in `/`, as Auth0 writes its issuer (`iss`).
fn with_trailing_slash(url: String) -> String {
    if url.ends_with('/') { url } else { url + "/" }
}

/// An application whose token the table uses.
struct Client {
    /// Its name in the table and the curl lines' variable: `scoped`, `unscoped`, `tenant`.
    label: &'static str,
    id: String,
    secret: Secret,
}

/// The issuer the api trusts and the clients that get tokens from it.
pub struct Issuer {
    /// The issuer URL, ending in `/`.
    pub url: String,
    /// The API identifier the tokens are for.
    pub audience: String,
    clients: Vec<Client>,
    tenant: bool,
}

impl Issuer {
    /// The mock issuer at `url`, with the default tenant's API and two clients: one granted the
    /// scope `/api/private-scoped` needs, one granted no scope.
    pub fn mock(url: &str) -> Self {
        let client = |label, id: &str, secret: &str| Client {
            label,
            id: id.to_owned(),
            secret: secret.into(),
        };
        Self {
            url: with_trailing_slash(url.to_owned()),
            audience: defaults::API_AUDIENCE.to_owned(),
            clients: vec![
                client(
                    "scoped",
                    defaults::READER_CLIENT_ID,
                    defaults::READER_CLIENT_SECRET,
                ),
                client(
                    "unscoped",
                    defaults::NO_SCOPES_CLIENT_ID,
                    defaults::NO_SCOPES_CLIENT_SECRET,
                ),
            ],
            tenant: false,
        }
    }

    /// A real tenant, with its one client.
    pub fn tenant(tenant: Tenant) -> Self {
        Self {
            url: tenant.issuer,
            audience: tenant.audience,
            clients: vec![Client {
                label: "tenant",
                id: tenant.client_id,
                secret: tenant.client_secret,
            }],
            tenant: true,
        }
    }

    /// Whether this is a real tenant, whose tokens are live credentials.
    pub fn is_tenant(&self) -> bool {
        self.tenant
    }

    /// A client-credentials token for each client, as any client would get it.
    pub fn tokens(&self, http: &Http) -> Result<Vec<Token>> {
        let issuer = http.issuer(&self.url)?;
        self.clients
            .iter()
            .map(|client| {
                let request =
                    ClientCredentials::new(&client.id, client.secret.clone(), &self.audience);
                let answer = http
                    .block_on(issuer.client_credentials(&request))
                    .with_context(|| format!("getting a token for client `{}`", client.id))?;
                let has_required_scope = answer.scopes().any(|s| s == defaults::READ_MESSAGES);
                Ok(Token {
                    label: client.label,
                    access_token: answer.access_token,
                    has_required_scope,
                })
            })
            .collect()
    }

    /// A curl line that gets a fresh token. A tenant's secret stays in the environment rather
    /// than in the terminal's scrollback; the mock's is public.
    pub fn token_curl(&self) -> String {
        let endpoint = format!("{}oauth/token", self.url);
        let json = "-H 'content-type: application/json'";
        if self.tenant {
            return format!(
                r#"curl -s {endpoint} {json} -d "{{\"grant_type\":\"client_credentials\",\"client_id\":\"$AUTH0_CLIENT_ID\",\"client_secret\":\"$AUTH0_CLIENT_SECRET\",\"audience\":\"$AUTH0_AUDIENCE\"}}""#
            );
        }
        let client = &self.clients[0];
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": client.id,
            "client_secret": client.secret.expose(),
            "audience": self.audience,
        });
        format!("curl -s {endpoint} {json} -d '{body}'")
    }
}

/// A token and what the contract then expects of `/api/private-scoped`.
pub struct Token {
    /// The client's label.
    pub label: &'static str,
    /// The JWT; printed only in curl lines, never on CI for a real tenant.
    pub access_token: Secret,
    /// Whether the token carries the scope `/api/private-scoped` requires.
    pub has_required_scope: bool,
}

impl Token {
    /// The shell variable the curl lines use for this token: `SCOPED`, `UNSCOPED`, `TENANT`.
    pub fn variable(&self) -> String {
        self.label.to_ascii_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn a_tenant_needs_all_four_variables_or_none() {
        assert!(Tenant::from_lookup(lookup(&[])).expect("none").is_none());
        let partial = Tenant::from_lookup(lookup(&[("AUTH0_DOMAIN", "x.auth0.com")]));
        let message = format!("{:#}", partial.err().expect("refused"));
        assert!(message.contains("missing: AUTH0_AUDIENCE, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET"));
    }

    #[test]
    fn the_issuer_comes_from_the_domain_unless_overridden() {
        let four = [
            ("AUTH0_DOMAIN", "x.eu.auth0.com/"),
            ("AUTH0_AUDIENCE", "https://api"),
            ("AUTH0_CLIENT_ID", "id"),
            ("AUTH0_CLIENT_SECRET", "secret"),
        ];
        let derived = Tenant::from_lookup(lookup(&four))
            .expect("ok")
            .expect("some");
        let mut overridden = four.to_vec();
        overridden.push(("AUTH0_ISSUER_BASE_URL", "http://127.0.0.1:4000"));
        let overridden = Tenant::from_lookup(lookup(&overridden))
            .expect("ok")
            .expect("some");

        assert_eq!(derived.issuer, "https://x.eu.auth0.com/");
        assert_eq!(overridden.issuer, "http://127.0.0.1:4000/");
    }

    #[test]
    fn a_tenants_curl_line_keeps_the_secret_in_the_environment() {
        let tenant = Issuer::tenant(Tenant {
            issuer: "https://x.auth0.com/".to_owned(),
            audience: "https://api".to_owned(),
            client_id: "id".to_owned(),
            client_secret: "s3cret".into(),
        });
        let mock = Issuer::mock("http://127.0.0.1:4000/");

        assert!(!tenant.token_curl().contains("s3cret"));
        assert!(tenant.token_curl().contains("$AUTH0_CLIENT_SECRET"));
        assert!(mock.token_curl().contains(defaults::READER_CLIENT_SECRET));
    }
}
