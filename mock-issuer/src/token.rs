//! Access tokens: the [`TokenSpec`] builder, the claims of each dialect in Auth0's order, and
//! compact JWS signing with a ring's current key or an API's HS256 secret.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::Error;
use crate::config::{ApiConfig, Dialect, IssuerConfig, SigningAlg, UserConfig, defaults};
use crate::keys::KeyMaterial;
use crate::oauth::Secret;

/// What to put in a token minted with [`MockIssuer::mint`](crate::MockIssuer::mint) or the
/// `mint` command. Minting signs what it is told: it does not check the client's grants.
///
/// Defaults: audience = the first configured API (`https://quickstarts/api` by default); dialect,
/// lifetime and signing algorithm = that API's if it is configured, else Auth0's, 86400 s and
/// RS256; `iat` = now; no `scope`, `permissions`, `nbf` or `cnf` claim (a bearer token).
///
/// ```
/// # use mock_issuer::TokenSpec;
/// let spec = TokenSpec::for_client("reader")
///     .audience("https://quickstarts/api")
///     .scopes(["read:messages"])
///     .expires_in(300);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenSpec {
    client_id: String,
    /// `Some(user id)` for a user's token: then `sub` is the user and there is no `gty`.
    user: Option<String>,
    audience: Option<String>,
    scopes: Vec<String>,
    permissions: Option<Vec<String>>,
    lifetime: Option<u64>,
    issued_at: Option<u64>,
    expired: bool,
    not_before: Option<i64>,
    dialect: Option<Dialect>,
    signing_alg: Option<SigningAlg>,
    /// The DPoP key thumbprint for `cnf.jkt`, if the token is bound to a key.
    jkt: Option<String>,
    claims: Vec<(String, Option<Value>)>,
    header: Vec<(String, Option<Value>)>,
}

impl TokenSpec {
    /// A token for `client_id`: `sub` = `<client_id>@clients`, `azp` (or `client_id`) = it.
    pub fn for_client(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            user: None,
            audience: None,
            scopes: Vec::new(),
            permissions: None,
            lifetime: None,
            issued_at: None,
            expired: false,
            not_before: None,
            dialect: None,
            signing_alg: None,
            jkt: None,
            claims: Vec::new(),
            header: Vec::new(),
        }
    }

    /// A token issued to `client_id` on behalf of the user `user_id`, as after a login: `sub` =
    /// the user id, `azp` (or `client_id`) = the client, no `gty`.
    pub fn for_user(user_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            user: Some(user_id.into()),
            ..Self::for_client(client_id)
        }
    }

    /// The `aud` claim. Default: the first configured API.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The `scope` claim, space-separated. Default: none (no `scope` claim when empty).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A `permissions` array claim (RBAC), even when empty. Default: no such claim.
    pub fn permissions<S: Into<String>>(
        mut self,
        permissions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.permissions = Some(permissions.into_iter().map(Into::into).collect());
        self
    }

    /// `exp` - `iat`, in seconds. Default: the API's lifetime, else 86400.
    pub fn expires_in(mut self, seconds: u64) -> Self {
        self.lifetime = Some(seconds);
        self
    }

    /// A fixed `iat` (Unix seconds), for byte-identical tokens. Default: now.
    pub fn issued_at(mut self, unix_seconds: u64) -> Self {
        self.issued_at = Some(unix_seconds);
        self
    }

    /// Makes the token already expired: `exp` one hour before `iat`'s now, `iat` a lifetime
    /// before that, so no clock tolerance accepts it.
    pub fn expired(mut self) -> Self {
        self.expired = true;
        self
    }

    /// Adds `nbf` = now + `offset_seconds` (positive: not yet valid).
    pub fn not_before(mut self, offset_seconds: i64) -> Self {
        self.not_before = Some(offset_seconds);
        self
    }

    /// The token profile. Default: the API's dialect, else [`Dialect::Auth0`].
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Signs with `alg` whatever the audience's API signs with: the current key of `alg`'s ring
    /// (its `kid` in the header), or for [`SigningAlg::Hs256`] the audience API's signing secret
    /// (no `kid`, as Auth0; see [`MockIssuer::signing_secret`](crate::MockIssuer::signing_secret)).
    /// Default: the API's algorithm, else RS256.
    ///
    /// The JWKS publishes a ring's keys only when some API of the tenant signs with its
    /// algorithm (RS256's always): for tokens of several algorithms for one audience that verify
    /// against the JWKS, give the tenant one more API per algorithm. A token signed with a ring
    /// that is not published is a token whose `kid` the JWKS does not have.
    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.signing_alg = Some(alg);
        self
    }

    /// Binds the token to a DPoP key (RFC 9449 §6.1): `cnf` = `{"jkt": jkt}`, the key's RFC 7638
    /// SHA-256 thumbprint (e.g. [`DpopKey::thumbprint`](crate::oauth::dpop::DpopKey::thumbprint)).
    /// Default: unbound, no `cnf` claim.
    pub fn bound_to_key(mut self, jkt: impl Into<String>) -> Self {
        self.jkt = Some(jkt.into());
        self
    }

    /// Sets a claim, replacing a standard one of the same name (a JSON `null` is set as is).
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.push((name.into(), Some(value.into())));
        self
    }

    /// Removes a claim, standard or not (e.g. `exp`, to prove a verifier requires it).
    pub fn remove_claim(mut self, name: impl Into<String>) -> Self {
        self.claims.push((name.into(), None));
        self
    }

    /// Sets a header member, replacing a standard one (`alg` only changes what the header
    /// claims: the signature is made as [`TokenSpec::signing_alg`] says, and `kid` names the
    /// key that signed until replaced here).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.header.push((name.into(), Some(value.into())));
        self
    }

    /// Removes a header member (e.g. `kid`).
    pub fn remove_header(mut self, name: impl Into<String>) -> Self {
        self.header.push((name.into(), None));
        self
    }
}

/// A client's access token for `api`, as the client-credentials grant issues it: `scopes`, the
/// API's lifetime and dialect, and, when the API adds permissions to its tokens, the same list as
/// `permissions` (as Auth0's `access_token_authz` dialect does).
pub(crate) fn client_access_token(
    client_id: &str,
    api: &ApiConfig,
    scopes: &[String],
) -> TokenSpec {
    let spec = TokenSpec::for_client(client_id);
    let spec = if api.permissions_in_token {
        spec.permissions(scopes.to_vec())
    } else {
        spec
    };
    spec.audience(&api.identifier)
        .scopes(scopes.to_vec())
        .expires_in(api.token_lifetime)
        .dialect(api.dialect)
}

/// `user`'s access token for `api` through `client_id`, as after a login on the tenant `issuer`:
/// `scopes`, the API's lifetime and dialect; `aud` = `[api, "{issuer}userinfo"]` when `openid` is
/// among the scopes; and, when the API adds permissions to its tokens, all the user's permissions
/// on it (whatever the scopes).
pub(crate) fn user_access_token(
    config: &IssuerConfig,
    issuer: &str,
    user: &UserConfig,
    client_id: &str,
    api: &ApiConfig,
    scopes: &[String],
) -> TokenSpec {
    let mut spec = TokenSpec::for_user(&user.id, client_id)
        .audience(&api.identifier)
        .scopes(scopes.to_vec())
        .expires_in(api.token_lifetime)
        .dialect(api.dialect);
    if scopes.iter().any(|s| s == "openid") {
        let userinfo = format!("{issuer}userinfo");
        spec = spec.claim("aud", Value::from(vec![api.identifier.clone(), userinfo]));
    }
    if api.permissions_in_token {
        spec = spec.permissions(config.permissions(user, &api.identifier));
    }
    spec
}

/// What signs a token: a key of one of the rings, or an API's HS256 signing secret.
pub(crate) enum Signer<'a> {
    Key(&'a KeyMaterial),
    Secret(&'a Secret),
}

impl Signer<'_> {
    fn alg(&self) -> SigningAlg {
        match self {
            Self::Key(key) => key.alg().signing_alg(),
            Self::Secret(_) => SigningAlg::Hs256,
        }
    }
}

/// What signing needs from the issuer besides the spec.
pub(crate) struct MintContext<'a> {
    pub issuer: &'a str,
    pub signer: Signer<'a>,
    /// The `aud`, from [`audience_and_alg`].
    pub audience: &'a str,
    pub config: &'a IssuerConfig,
    pub seed: Option<u64>,
}

/// The audience `spec` names (default: the first API) and the algorithm it is signed with (the
/// spec's, else that API's, else RS256).
pub(crate) fn audience_and_alg(spec: &TokenSpec, config: &IssuerConfig) -> (String, SigningAlg) {
    let audience = spec.audience.clone().unwrap_or_else(|| {
        config.apis.first().map_or_else(
            || defaults::API_AUDIENCE.to_owned(),
            |a| a.identifier.clone(),
        )
    });
    let alg = spec
        .signing_alg
        .or_else(|| config.api(&audience).map(|api| api.signing_alg))
        .unwrap_or_default();
    (audience, alg)
}

/// Builds the header and claims `spec` describes and signs them with `ctx.signer`.
pub(crate) fn mint(spec: &TokenSpec, ctx: &MintContext<'_>) -> Result<String, Error> {
    let audience = ctx.audience;
    let api = ctx.config.api(audience);
    let dialect = spec.dialect.or(api.map(|a| a.dialect)).unwrap_or_default();
    let lifetime = spec
        .lifetime
        .or(api.map(|a| a.token_lifetime))
        .unwrap_or(defaults::TOKEN_LIFETIME);
    let now = spec.issued_at.unwrap_or_else(unix_now);
    let (iat, exp) = if spec.expired {
        let exp = now.saturating_sub(3600);
        (exp.saturating_sub(lifetime), exp)
    } else {
        (now, now.saturating_add(lifetime))
    };

    let mut header = Ordered::default();
    header.set("alg", ctx.signer.alg().as_str().into());
    header.set(
        "typ",
        match dialect {
            Dialect::Auth0 => "JWT",
            Dialect::Rfc9068 => "at+jwt",
        }
        .into(),
    );
    if let Signer::Key(key) = ctx.signer {
        header.set("kid", key.kid.clone().into());
    }
    header.apply(&spec.header);

    // Auth0's claim order, so tokens read like a tenant's when decoded.
    let mut claims = Ordered::default();
    claims.set("iss", ctx.issuer.into());
    let subject = match &spec.user {
        Some(user) => user.clone(),
        None => format!("{}@clients", spec.client_id),
    };
    claims.set("sub", subject.into());
    claims.set("aud", audience.to_owned().into());
    claims.set("iat", iat.into());
    claims.set("exp", exp.into());
    if let Some(offset) = spec.not_before {
        claims.set("nbf", now.saturating_add_signed(offset).into());
    }
    if !spec.scopes.is_empty() {
        claims.set("scope", spec.scopes.join(" ").into());
    }
    match dialect {
        Dialect::Auth0 => {
            if spec.user.is_none() {
                claims.set("gty", "client-credentials".into());
            }
            claims.set("azp", spec.client_id.clone().into());
        }
        Dialect::Rfc9068 => {
            claims.set("client_id", spec.client_id.clone().into());
        }
    }
    if let Some(permissions) = &spec.permissions {
        claims.set("permissions", permissions.clone().into());
    }
    if let Some(jkt) = &spec.jkt {
        claims.set("cnf", serde_json::json!({ "jkt": jkt }));
    }
    if dialect == Dialect::Rfc9068 {
        claims.set("jti", jti(ctx.seed, &claims.to_json()).into());
    }
    claims.apply(&spec.claims);

    sign_compact(
        header.to_json().as_bytes(),
        claims.to_json().as_bytes(),
        &ctx.signer,
    )
}

/// `base64url(header).base64url(payload).signature`, made by `signer` with its algorithm,
/// whatever the header says.
pub(crate) fn sign_compact(
    header: &[u8],
    payload: &[u8],
    signer: &Signer<'_>,
) -> Result<String, Error> {
    crate::install_crypto_provider();
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let algorithm = signer.alg().jwt_algorithm();
    let signature = match signer {
        Signer::Key(key) => {
            jsonwebtoken::crypto::sign(message.as_bytes(), key.encoding_key(), algorithm)?
        }
        Signer::Secret(secret) => {
            let key = jsonwebtoken::EncodingKey::from_secret(secret.expose().as_bytes())?;
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, algorithm)?
        }
    };
    Ok(format!("{message}.{signature}"))
}

/// A unique token id: random, or for a seeded issuer derived from the seed and the other claims,
/// so that seeded tokens stay byte-identical.
fn jti(seed: Option<u64>, claims_json: &str) -> String {
    let bytes: [u8; 16] = match seed {
        None => rand::rng().random(),
        Some(seed) => {
            let digest = Sha256::new()
                .chain_update(seed.to_be_bytes())
                .chain_update(claims_json.as_bytes())
                .finalize();
            let mut out = [0u8; 16];
            out.copy_from_slice(&digest[..16]);
            out
        }
    };
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A JSON object that keeps insertion order whatever serde_json's features are, so the bytes
/// of a token depend only on its content.
#[derive(Default)]
struct Ordered(Vec<(String, Value)>);

impl Ordered {
    fn set(&mut self, name: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    fn apply(&mut self, edits: &[(String, Option<Value>)]) {
        for (name, value) in edits {
            match value {
                Some(value) => self.set(name, value.clone()),
                None => self.0.retain(|(k, _)| k != name),
            }
        }
    }

    fn to_json(&self) -> String {
        let members: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
            .collect();
        format!("{{{}}}", members.join(","))
    }
}
