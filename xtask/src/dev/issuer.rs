//! Where `cargo xtask dev` gets its tokens: the mock issuer it started (the default tenant's
//! `reader` and `no-scopes` clients) or a real Auth0 tenant from the `AUTH0_*` variables (a
//! machine-to-machine client, a single-page app, or both). Both speak the same `/oauth/token`,
//! through [`mock_issuer::IssuerClient`].

use anyhow::{Context as _, Result, bail};
use mock_issuer::config::defaults;
use mock_issuer::{ClientCredentials, Secret};
use serde_json::json;

use crate::http::Http;

/// The variables that name a real tenant and its API; both are required once any `AUTH0_*`
/// variable is set.
const TENANT_VARIABLES: [&str; 2] = ["AUTH0_DOMAIN", "AUTH0_AUDIENCE"];
/// A machine-to-machine application of the tenant, for the contract table's token: both or
/// neither.
const CLIENT_VARIABLES: [&str; 2] = ["AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"];
/// A single-page application of the tenant, for the demo app to log users in with.
const SPA_CLIENT_VARIABLE: &str = "AUTH0_SPA_CLIENT_ID";

/// A real Auth0 tenant, from the `AUTH0_*` variables.
pub struct Tenant {
    issuer: String,
    audience: String,
    /// The machine-to-machine client (id, secret), if one is given.
    client: Option<(String, Secret)>,
    /// The single-page app's client id, if one is given.
    spa_client_id: Option<String>,
}

impl Tenant {
    /// `None` when no `AUTH0_*` variable is set; an error when they do not name a tenant, its
    /// API and at least one application.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Tenant::from_env`] over any source of variables; an empty value counts as unset.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let [domain, audience] = TENANT_VARIABLES.map(get);
        let [client_id, client_secret] = CLIENT_VARIABLES.map(get);
        let spa_client_id = get(SPA_CLIENT_VARIABLE);
        if [
            &domain,
            &audience,
            &client_id,
            &client_secret,
            &spa_client_id,
        ]
        .iter()
        .all(|value| value.is_none())
        {
            return Ok(None);
        }
        let mut missing: Vec<&str> = TENANT_VARIABLES
            .into_iter()
            .zip([&domain, &audience])
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect();
        let client = match (client_id, client_secret) {
            (Some(id), Some(secret)) => Some((id, Secret::from(secret))),
            (Some(_), None) => {
                missing.push("AUTH0_CLIENT_SECRET");
                None
            }
            (None, Some(_)) => {
                missing.push("AUTH0_CLIENT_ID");
                None
            }
            (None, None) if spa_client_id.is_none() => {
                missing.push("an application");
                None
            }
            (None, None) => None,
        };
        let (Some(domain), Some(audience), true) = (domain, audience, missing.is_empty()) else {
            bail!(
                "a real tenant needs AUTH0_DOMAIN, AUTH0_AUDIENCE and an application: \
                 AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET (machine to machine, for the table), \
                 {SPA_CLIENT_VARIABLE} (single page, for the demo app) or both; missing: {}",
                missing.join(", ")
            );
        };
        let issuer = get("AUTH0_ISSUER_BASE_URL")
            .unwrap_or_else(|| format!("https://{}/", domain.trim_end_matches('/')));
        Ok(Some(Self {
            issuer: with_trailing_slash(issuer),
            audience,
            client,
            spa_client_id,
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
    /// The single-page app the demo app logs users in as, if the issuer has one.
    pub spa_client_id: Option<String>,
    clients: Vec<Client>,
    tenant: bool,
}

impl Issuer {
    /// The mock issuer at `url`, with the default tenant's API, two clients (one granted the
    /// scope `/api/private-scoped` needs, one granted no scope) and its single-page app.
    pub fn mock(url: &str) -> Self {
        let client = |label, id: &str, secret: &str| Client {
            label,
            id: id.to_owned(),
            secret: secret.into(),
        };
        Self {
            url: with_trailing_slash(url.to_owned()),
            audience: defaults::API_AUDIENCE.to_owned(),
            spa_client_id: Some(defaults::SPA_CLIENT_ID.to_owned()),
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

    /// A real tenant, with its machine-to-machine client and its single-page app, as given.
    pub fn tenant(tenant: Tenant) -> Self {
        let clients = tenant.client.map(|(id, secret)| Client {
            label: "tenant",
            id,
            secret,
        });
        Self {
            url: tenant.issuer,
            audience: tenant.audience,
            spa_client_id: tenant.spa_client_id,
            clients: clients.into_iter().collect(),
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

    /// A curl line that gets a fresh token, if there is a client to get it. A tenant's secret
    /// stays in the environment rather than in the terminal's scrollback; the mock's is public.
    pub fn token_curl(&self) -> Option<String> {
        let client = self.clients.first()?;
        let endpoint = format!("{}oauth/token", self.url);
        let json = "-H 'content-type: application/json'";
        if self.tenant {
            return Some(format!(
                r#"curl -s {endpoint} {json} -d "{{\"grant_type\":\"client_credentials\",\"client_id\":\"$AUTH0_CLIENT_ID\",\"client_secret\":\"$AUTH0_CLIENT_SECRET\",\"audience\":\"$AUTH0_AUDIENCE\"}}""#
            ));
        }
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": client.id,
            "client_secret": client.secret.expose(),
            "audience": self.audience,
        });
        Some(format!("curl -s {endpoint} {json} -d '{body}'"))
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

    /// The error message for `pairs`, which must be refused.
    fn refusal(pairs: &[(&str, &str)]) -> String {
        let refused = Tenant::from_lookup(lookup(pairs));
        format!("{:#}", refused.err().expect("refused"))
    }

    #[test]
    fn a_tenant_needs_its_domain_audience_and_an_application_or_nothing() {
        assert!(Tenant::from_lookup(lookup(&[])).expect("none").is_none());
        let tenant = [
            ("AUTH0_DOMAIN", "x.auth0.com"),
            ("AUTH0_AUDIENCE", "https://api"),
        ];

        assert!(refusal(&tenant[..1]).ends_with("missing: AUTH0_AUDIENCE, an application"));
        assert!(refusal(&tenant).ends_with("missing: an application"));
        assert!(
            refusal(&[tenant[0], tenant[1], ("AUTH0_CLIENT_ID", "id")])
                .ends_with("missing: AUTH0_CLIENT_SECRET")
        );
        assert!(
            refusal(&[("AUTH0_SPA_CLIENT_ID", "spa"), ("AUTH0_CLIENT_SECRET", "s")])
                .ends_with("missing: AUTH0_DOMAIN, AUTH0_AUDIENCE, AUTH0_CLIENT_ID")
        );
    }

    #[test]
    fn a_single_page_app_alone_is_a_tenant_without_tokens() {
        let pairs = [
            ("AUTH0_DOMAIN", "x.auth0.com"),
            ("AUTH0_AUDIENCE", "https://api"),
            ("AUTH0_SPA_CLIENT_ID", "spa-id"),
        ];
        let tenant = Tenant::from_lookup(lookup(&pairs))
            .expect("ok")
            .expect("some");
        let issuer = Issuer::tenant(tenant);

        assert_eq!(issuer.spa_client_id.as_deref(), Some("spa-id"));
        assert!(issuer.clients.is_empty());
        assert!(issuer.token_curl().is_none());
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
            client: Some(("id".to_owned(), "s3cret".into())),
            spa_client_id: None,
        });
        let mock = Issuer::mock("http://127.0.0.1:4000/");
        let tenant_curl = tenant.token_curl().expect("a client");
        let mock_curl = mock.token_curl().expect("a client");

        assert!(!tenant_curl.contains("s3cret"));
        assert!(tenant_curl.contains("$AUTH0_CLIENT_SECRET"));
        assert!(mock_curl.contains(defaults::READER_CLIENT_SECRET));
    }
}
