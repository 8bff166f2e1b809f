//! The catalogue: every case the suite runs, as data.
//!
//! Expectations are written from the project's `CONTRACT.md` and the RFCs, never copied from
//! what a server answers; each group of cases below names the contract rows it checks. Each
//! case says whose rule it checks: [`Origin::Reference`] cases are the Express original's
//! contract (the rows marked R), which any conforming server keeps; [`Origin::Project`] cases
//! are this project's stricter rules (the rows marked P: RFC 8725 hardening, refusing query
//! tokens, …), which the original is expected to fail.
//!
//! The DPoP cases (RFC 9449) are in [`dpop`]; a server that does not accept DPoP fails them,
//! which [`Case::needs_dpop`] lets the runner expect.

use serde_json::{Value, json};

mod dpop;

pub use dpop::{DpopRequest, Htu, ProofHeaders, ProofKey, ProofRecipe, ProofTamper, nonce_probe};

/// Whose rule a case checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The reference contract (the Express quickstart on `express-oauth2-jwt-bearer` 1.10.0):
    /// a row marked R in `CONTRACT.md`.
    Reference,
    /// This project's stricter rules: a row marked P in `CONTRACT.md`.
    Project,
}

/// The three routes (`CONTRACT.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /api/public`: no guard.
    Public,
    /// `GET /api/private`: a valid token.
    Private,
    /// `GET /api/private-scoped`: a valid token with scope `read:messages`.
    Scoped,
}

impl Route {
    /// The path.
    pub fn path(self) -> &'static str {
        match self {
            Route::Public => "/api/public",
            Route::Private => "/api/private",
            Route::Scoped => "/api/private-scoped",
        }
    }

    /// The exact `message` of the route's 200 body (`CONTRACT.md` §1 rows 1–3).
    pub fn message(self) -> &'static str {
        match self {
            Route::Public => {
                "Hello from a public endpoint! You don't need to be authenticated to see this."
            }
            Route::Private => {
                "Hello from a private endpoint! You need to be authenticated to see this."
            }
            Route::Scoped => {
                "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."
            }
        }
    }
}

/// A change to a claim or header member of the default token.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Set to this JSON value.
    Set(Value),
    /// Set to now plus this many seconds (a NumericDate).
    FromNow(i64),
    /// Remove.
    Remove,
}

/// Which key signs the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The issuer's current key: what a real token is signed with.
    Issuer,
    /// The issuer's current P-256 key (ES256), published for its ES256 API.
    IssuerEs256,
    /// The issuer's current Ed25519 key (EdDSA), published for its EdDSA API.
    IssuerEdDsa,
    /// A key the issuer never published.
    Foreign,
}

/// The forms of the issuer's public key an attacker may use as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// SubjectPublicKeyInfo, PEM.
    SpkiPem,
    /// PKCS#1 RSAPublicKey, PEM.
    Pkcs1Pem,
    /// SubjectPublicKeyInfo, DER.
    SpkiDer,
    /// The JWK as published (JSON text).
    JwkJson,
    /// The modulus bytes.
    Modulus,
}

/// What is done to the token after signing (or instead of signing).
#[derive(Debug, Clone, PartialEq)]
pub enum Tamper {
    /// Nothing: the token as signed.
    None,
    /// `alg` set to this spelling of `none`; the signature kept or emptied.
    AlgNone {
        /// How `none` is spelled.
        spelling: &'static str,
        /// Keep the original signature bytes instead of an empty signature.
        keep_signature: bool,
    },
    /// HS256 with the issuer's public key, in this form, as the secret (RFC 8725 §2.1).
    HmacWithPublicKey(KeyForm),
    /// HS256 keyed with the issuer's published P-256 key, as JWK text.
    HmacWithEcPublicKey,
    /// `header.payload.` with nothing after the last dot.
    StripSignature,
    /// The signature cut short.
    TruncateSignature,
    /// The last signature character changed so only its unused bits differ.
    NonCanonicalSignature,
    /// One payload character changed after signing.
    ChangePayload,
    /// Signed by a foreign key that is embedded as the header's `jwk`.
    EmbedForeignJwk,
    /// A payload with the member `aud` twice: a wrong one first, ours last.
    DuplicateAudience,
    /// A header with `alg` twice: `none` first, `RS256` last.
    DuplicateAlg,
    /// A five-segment token, as JWE's compact serialization.
    Jwe,
    /// A valid signature over a payload padded with this many bytes: 18 KiB gives a token over
    /// the api's 16 KiB token cap but a request head under its 32 KiB limit (which is a 431).
    Oversized(usize),
    /// A valid signature over a payload with a claim nested this deep.
    DeepJson(usize),
    /// A space in the middle of the token.
    Whitespace,
}

/// How the token of a case is made: the default valid token (Auth0's client-credentials
/// claims with scope `read:messages`), changed as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// Claim changes.
    pub claims: Vec<(&'static str, Val)>,
    /// Protected header changes.
    pub header: Vec<(&'static str, Val)>,
    /// The signing key.
    pub signer: Signer,
    /// What is done after signing.
    pub tamper: Tamper,
}

impl Recipe {
    /// The default valid token.
    pub fn valid() -> Self {
        Recipe {
            claims: Vec::new(),
            header: Vec::new(),
            signer: Signer::Issuer,
            tamper: Tamper::None,
        }
    }
    fn claim(mut self, name: &'static str, value: Val) -> Self {
        self.claims.push((name, value));
        self
    }
    fn header(mut self, name: &'static str, value: Val) -> Self {
        self.header.push((name, value));
        self
    }
    fn signed_by(mut self, signer: Signer) -> Self {
        self.signer = signer;
        self
    }
    fn tamper(mut self, tamper: Tamper) -> Self {
        self.tamper = tamper;
        self
    }
}

/// Where the token goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// No token at all.
    Nowhere,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: <this text with {token} replaced>`.
    Header(&'static str),
    /// Two `Authorization: Bearer <token>` headers.
    TwoHeaders,
    /// `?access_token=<token>`.
    Query,
    /// Both the header and the query.
    HeaderAndQuery,
    /// `Authorization: <scheme> <token>` with `DPoP` proof headers: a DPoP request (RFC 9449
    /// §7), or not quite one, as the request says.
    Dpop(DpopRequest),
}

/// The challenge a case expects (`CONTRACT.md` §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// No `WWW-Authenticate` header.
    Absent,
    /// A Bearer challenge without an `error` parameter.
    Bare,
    /// A Bearer challenge with this `error`.
    Error(&'static str),
    /// `insufficient_scope` with this `scope` parameter.
    InsufficientScope(&'static str),
    /// A DPoP challenge with this `error` (RFC 9449 §7.1): the error goes on the scheme the
    /// client used, so the Bearer challenge, if any, carries none.
    DpopError(&'static str),
}

/// What must come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The status code.
    pub status: u16,
    /// The challenge.
    pub challenge: Challenge,
}

impl Expect {
    const fn new(status: u16, challenge: Challenge) -> Self {
        Expect { status, challenge }
    }
    /// 200 with the route's body.
    pub const OK: Expect = Expect::new(200, Challenge::Absent);
    /// 401 with a bare challenge: no token (`CONTRACT.md` §3 row 1).
    pub const NO_TOKEN: Expect = Expect::new(401, Challenge::Bare);
    /// 400 with a bare challenge: a malformed `Authorization` header (§3 row 2).
    pub const MALFORMED: Expect = Expect::new(400, Challenge::Bare);
    /// 400 `invalid_request` (§3 row 3).
    pub const INVALID_REQUEST: Expect = Expect::new(400, Challenge::Error("invalid_request"));
    /// 401 `invalid_token` (§3 row 4).
    pub const INVALID_TOKEN: Expect = Expect::new(401, Challenge::Error("invalid_token"));
    /// 403 `insufficient_scope` for `read:messages` (§3 row 5).
    pub const MISSING_SCOPE: Expect =
        Expect::new(403, Challenge::InsufficientScope("read:messages"));
    /// 401 `invalid_dpop_proof` on the DPoP challenge: a proof refused (RFC 9449 §7.1).
    pub const INVALID_PROOF: Expect = Expect::new(401, Challenge::DpopError("invalid_dpop_proof"));
    /// 401 `invalid_token` on the DPoP challenge: a token sent as DPoP that is not bound to
    /// the proof's key.
    pub const INVALID_DPOP_TOKEN: Expect = Expect::new(401, Challenge::DpopError("invalid_token"));
    /// 401 `use_dpop_nonce` on the DPoP challenge, with the nonce to use in a `DPoP-Nonce`
    /// header: a proof without the server's current nonce (RFC 9449 §9).
    pub const USE_NONCE: Expect = Expect::new(401, Challenge::DpopError("use_dpop_nonce"));

    /// `200`, `401 invalid_token`, … for tables.
    pub fn describe(&self) -> String {
        match &self.challenge {
            Challenge::Absent => self.status.to_string(),
            Challenge::Bare => format!("{} bare", self.status),
            Challenge::Error(code) => format!("{} {code}", self.status),
            Challenge::InsufficientScope(scope) => {
                format!("{} insufficient_scope {scope}", self.status)
            }
            Challenge::DpopError(code) => format!("{} DPoP {code}", self.status),
        }
    }
}

/// One case: a request and the answer it must get.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// A unique, stable name, `route/what`.
    pub name: String,
    /// Whose rule it checks.
    pub origin: Origin,
    /// The route.
    pub route: Route,
    /// How the token is made.
    pub recipe: Recipe,
    /// Where it goes.
    pub placement: Placement,
    /// What must come back.
    pub expect: Expect,
}

impl Case {
    /// Whether the case needs a server that accepts DPoP: it sends a DPoP request, or a
    /// DPoP-bound token (one with `cnf`). A server without DPoP fails it as expected.
    pub fn needs_dpop(&self) -> bool {
        matches!(self.placement, Placement::Dpop(_))
            || self.recipe.claims.iter().any(|(name, _)| *name == "cnf")
    }
}

impl Case {
    /// Whether the case is about the server's DPoP nonces (its proof's `nonce` is changed):
    /// only a target that hands nonces out is asked it.
    pub fn needs_nonces(&self) -> bool {
        matches!(&self.placement, Placement::Dpop(dpop)
            if dpop.proof.claims.iter().any(|(name, _)| *name == "nonce"))
    }
}

/// Collects cases, naming each after its route.
struct Builder(Vec<Case>);

impl Builder {
    fn add(
        &mut self,
        route: Route,
        what: &str,
        origin: Origin,
        recipe: Recipe,
        placement: Placement,
        expect: Expect,
    ) {
        let prefix = match route {
            Route::Public => "public",
            Route::Private => "private",
            Route::Scoped => "scoped",
        };
        self.0.push(Case {
            name: format!("{prefix}/{what}"),
            origin,
            route,
            recipe,
            placement,
            expect,
        });
    }

    /// The same case on both protected routes.
    fn protected(
        &mut self,
        what: &str,
        origin: Origin,
        recipe: Recipe,
        placement: Placement,
        expect: Expect,
    ) {
        for route in [Route::Private, Route::Scoped] {
            self.add(
                route,
                what,
                origin,
                recipe.clone(),
                placement.clone(),
                expect.clone(),
            );
        }
    }

    /// A bearer token that must be refused with 401 `invalid_token` on both protected routes.
    fn invalid(&mut self, what: &str, origin: Origin, recipe: Recipe) {
        self.protected(
            what,
            origin,
            recipe,
            Placement::Bearer,
            Expect::INVALID_TOKEN,
        );
    }

    /// A bearer token that must be accepted on both protected routes.
    fn accepted(&mut self, what: &str, origin: Origin, recipe: Recipe) {
        self.protected(what, origin, recipe, Placement::Bearer, Expect::OK);
    }

    /// A bearer token whose scope decides: refused on the scoped route, accepted on the
    /// private one.
    fn scope_refused(&mut self, what: &str, origin: Origin, recipe: Recipe) {
        self.scope_refused_as(what, origin, recipe, Placement::Bearer);
    }

    /// A token sent as `placement` whose scope decides, as [`Builder::scope_refused`].
    fn scope_refused_as(
        &mut self,
        what: &str,
        origin: Origin,
        recipe: Recipe,
        placement: Placement,
    ) {
        self.add(
            Route::Private,
            what,
            origin,
            recipe.clone(),
            placement.clone(),
            Expect::OK,
        );
        self.add(
            Route::Scoped,
            what,
            origin,
            recipe,
            placement,
            Expect::MISSING_SCOPE,
        );
    }
}

use Origin::{Project, Reference};

/// Every case of the suite, in a stable order (the snapshot of our answers follows it). Each
/// group names the `CONTRACT.md` rows it checks.
#[expect(
    clippy::too_many_lines,
    reason = "a data table: one entry per case, grouped as CONTRACT.md's sections are"
)]
pub fn catalogue() -> Vec<Case> {
    let mut b = Builder(Vec::new());
    let valid = Recipe::valid;
    let set = |value: Value| Val::Set(value);

    // The public route is untouched by authentication: §1 row 1.
    b.add(
        Route::Public,
        "no-token",
        Reference,
        valid(),
        Placement::Nowhere,
        Expect::OK,
    );
    b.add(
        Route::Public,
        "malformed-header",
        Reference,
        valid(),
        Placement::Header("Basic {token}"),
        Expect::OK,
    );
    b.add(
        Route::Public,
        "expired-token",
        Reference,
        valid().claim("exp", Val::FromNow(-3600)),
        Placement::Bearer,
        Expect::OK,
    );

    // A valid token on both protected routes: §1 rows 2 and 3. No token: §3 row 1.
    b.accepted("valid-token", Reference, valid());
    b.protected(
        "no-token",
        Reference,
        valid(),
        Placement::Nowhere,
        Expect::NO_TOKEN,
    );
    // Where the token is, and the 400s for everything else: §2 rows 1–3, 6 and 7.
    b.protected(
        "lowercase-scheme",
        Reference,
        valid(),
        Placement::Header("bearer {token}"),
        Expect::OK,
    );
    b.protected(
        "uppercase-scheme",
        Reference,
        valid(),
        Placement::Header("BEARER {token}"),
        Expect::OK,
    );
    for (what, header) in [
        ("scheme-only", "Bearer"),
        ("basic-scheme", "Basic {token}"),
        ("two-spaces", "Bearer  {token}"),
        ("extra-word", "Bearer {token} extra"),
        ("other-scheme", "Token {token}"),
    ] {
        b.protected(
            what,
            Reference,
            valid(),
            Placement::Header(header),
            Expect::MALFORMED,
        );
    }
    b.protected(
        "header-and-query",
        Reference,
        valid(),
        Placement::HeaderAndQuery,
        Expect::INVALID_REQUEST,
    );
    b.protected(
        "two-authorization-headers",
        Project,
        valid(),
        Placement::TwoHeaders,
        Expect::INVALID_REQUEST,
    );
    b.protected(
        "query-token-refused",
        Project,
        valid(),
        Placement::Query,
        Expect::INVALID_REQUEST,
    );
    b.protected(
        "whitespace-in-token",
        Reference,
        valid().tamper(Tamper::Whitespace),
        Placement::Bearer,
        Expect::MALFORMED,
    );

    // Time: §6 rows 4–6.
    b.invalid(
        "expired",
        Reference,
        valid().claim("exp", Val::FromNow(-3600)),
    );
    b.invalid(
        "expired-beyond-tolerance",
        Reference,
        valid().claim("exp", Val::FromNow(-30)),
    );
    b.accepted(
        "expired-within-tolerance",
        Reference,
        valid().claim("exp", Val::FromNow(-2)),
    );
    b.invalid(
        "not-yet-valid",
        Reference,
        valid().claim("nbf", Val::FromNow(3600)),
    );
    b.accepted(
        "nbf-within-tolerance",
        Reference,
        valid().claim("nbf", Val::FromNow(2)),
    );
    b.invalid(
        "iat-in-the-future",
        Project,
        valid().claim("iat", Val::FromNow(3600)),
    );
    b.invalid("missing-exp", Reference, valid().claim("exp", Val::Remove));
    b.invalid(
        "exp-is-a-string",
        Reference,
        valid().claim("exp", set(json!("2099-01-01"))),
    );
    b.invalid(
        "nbf-is-a-string",
        Reference,
        valid().claim("nbf", set(json!("0"))),
    );

    // Audience: §6 row 3.
    b.invalid(
        "wrong-audience",
        Reference,
        valid().claim("aud", set(json!("https://other/api"))),
    );
    b.invalid(
        "missing-audience",
        Reference,
        valid().claim("aud", Val::Remove),
    );
    b.accepted(
        "audience-array-with-ours",
        Reference,
        valid().claim("aud", set(json!(["https://other/api", crate::AUDIENCE]))),
    );
    b.invalid(
        "audience-array-without-ours",
        Reference,
        valid().claim("aud", set(json!(["https://other/api"]))),
    );
    b.invalid(
        "audience-empty-array",
        Reference,
        valid().claim("aud", set(json!([]))),
    );
    b.invalid(
        "audience-is-a-number",
        Reference,
        valid().claim("aud", set(json!(7))),
    );

    // Issuer: §6 row 2 (the forge replaces `{issuer}` and `{issuer-without-slash}`).
    b.invalid(
        "wrong-issuer",
        Reference,
        valid().claim("iss", set(json!("https://evil.example/"))),
    );
    b.invalid(
        "missing-issuer",
        Reference,
        valid().claim("iss", Val::Remove),
    );
    b.invalid(
        "issuer-without-trailing-slash",
        Reference,
        valid().claim("iss", set(json!("{issuer-without-slash}"))),
    );
    b.invalid(
        "issuer-is-an-array",
        Reference,
        valid().claim("iss", set(json!(["{issuer}"]))),
    );

    // Other claim types (RFC 9068 §2.2): §6 row 8.
    b.invalid(
        "sub-is-a-number",
        Reference,
        valid().claim("sub", set(json!(42))),
    );
    b.invalid(
        "jti-is-an-object",
        Reference,
        valid().claim("jti", set(json!({"id": 1}))),
    );

    // Scopes: §7 rows 1 and 2, §6 row 10.
    b.scope_refused(
        "no-scope-claim",
        Reference,
        valid().claim("scope", Val::Remove),
    );
    b.scope_refused(
        "other-scopes",
        Reference,
        valid().claim("scope", set(json!("write:messages openid"))),
    );
    b.scope_refused(
        "scope-prefix",
        Reference,
        valid().claim("scope", set(json!("read:message"))),
    );
    b.scope_refused(
        "scope-extension",
        Reference,
        valid().claim("scope", set(json!("read:messages:all"))),
    );
    b.scope_refused(
        "scope-wrong-case",
        Reference,
        valid().claim("scope", set(json!("READ:MESSAGES"))),
    );
    b.scope_refused(
        "permissions-are-not-scopes",
        Reference,
        valid()
            .claim("scope", Val::Remove)
            .claim("permissions", set(json!(["read:messages"]))),
    );
    b.accepted(
        "several-scopes",
        Reference,
        valid().claim("scope", set(json!("openid read:messages write:messages"))),
    );
    b.accepted(
        "scope-as-array",
        Reference,
        valid().claim("scope", set(json!(["write:messages", "read:messages"]))),
    );

    // Hostile tokens (RFC 8725), each group with its row. `alg` none: §4 row 8.
    for spelling in ["none", "None", "NONE", "nOnE"] {
        b.invalid(
            &format!("alg-{spelling}-unsigned"),
            Reference,
            valid().tamper(Tamper::AlgNone {
                spelling,
                keep_signature: false,
            }),
        );
    }
    b.invalid(
        "alg-none-with-signature",
        Reference,
        valid().tamper(Tamper::AlgNone {
            spelling: "none",
            keep_signature: true,
        }),
    );
    // HMAC with the issuer's public key as the secret: §4 row 9.
    for (what, form) in [
        ("hs256-with-public-key-spki-pem", KeyForm::SpkiPem),
        ("hs256-with-public-key-pkcs1-pem", KeyForm::Pkcs1Pem),
        ("hs256-with-public-key-der", KeyForm::SpkiDer),
        ("hs256-with-public-key-jwk", KeyForm::JwkJson),
        ("hs256-with-public-key-modulus", KeyForm::Modulus),
    ] {
        b.invalid(
            what,
            Reference,
            valid().tamper(Tamper::HmacWithPublicKey(form)),
        );
    }
    // No signature: §4 row 5.
    b.invalid(
        "signature-stripped",
        Reference,
        valid().tamper(Tamper::StripSignature),
    );
    // A signature that does not verify: §5 row 2.
    b.invalid(
        "signature-truncated",
        Reference,
        valid().tamper(Tamper::TruncateSignature),
    );
    b.invalid(
        "payload-changed",
        Reference,
        valid().tamper(Tamper::ChangePayload),
    );
    b.invalid(
        "other-key-same-kid",
        Reference,
        valid().signed_by(Signer::Foreign),
    );
    // Keys only from the issuer's JWKS, never from the header: §5 row 1.
    b.invalid(
        "unknown-kid",
        Reference,
        valid()
            .signed_by(Signer::Foreign)
            .header("kid", set(json!("unknown-kid"))),
    );
    b.invalid(
        "embedded-jwk",
        Reference,
        valid().tamper(Tamper::EmbedForeignJwk),
    );
    b.invalid(
        "jku-header",
        Reference,
        valid()
            .signed_by(Signer::Foreign)
            .header("jku", set(json!("{issuer}attacker/jwks.json"))),
    );
    b.invalid(
        "x5u-header",
        Reference,
        valid()
            .signed_by(Signer::Foreign)
            .header("x5u", set(json!("https://attacker.example/cert.pem"))),
    );
    b.invalid(
        "x5c-header",
        Reference,
        valid().signed_by(Signer::Foreign).header(
            "x5c",
            set(json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"])),
        ),
    );
    // Unsupported header members: §4 row 11; five segments (JWE): §4 row 4.
    b.invalid(
        "unknown-crit",
        Reference,
        valid()
            .header("crit", set(json!(["urn:example:unknown"])))
            .header("urn:example:unknown", set(json!(true))),
    );
    b.invalid("jwe", Reference, valid().tamper(Tamper::Jwe));
    algorithm_cases(&mut b);
    // Not an algorithm at all (names are exact, RFC 7515 §4.1.1): §4 row 10.
    b.invalid(
        "alg-misspelt",
        Project,
        valid().header("alg", set(json!("rs256"))),
    );
    // An allowed algorithm, but not the one the issuer's key names in its `alg`: §5 row 3.
    b.invalid(
        "alg-other-than-the-keys",
        Reference,
        valid().header("alg", set(json!("RS384"))),
    );
    // One spelling per token: §4 row 3.
    b.invalid(
        "non-canonical-base64url",
        Project,
        valid().tamper(Tamper::NonCanonicalSignature),
    );
    // A member twice: §6 row 1 (claims), §4 row 7 (header).
    b.invalid(
        "duplicate-claim",
        Project,
        valid().tamper(Tamper::DuplicateAudience),
    );
    b.invalid(
        "duplicate-header-member",
        Project,
        valid().tamper(Tamper::DuplicateAlg),
    );
    // Bounded work: §4 row 1 (size), §6 row 1 (nesting).
    b.invalid(
        "oversized-token",
        Project,
        valid().tamper(Tamper::Oversized(18 * 1024)),
    );
    b.invalid(
        "deeply-nested-json",
        Project,
        valid().tamper(Tamper::DeepJson(1000)),
    );
    // Explicit typing: §4 row 12.
    b.invalid(
        "typ-not-a-jwt",
        Project,
        valid().header("typ", set(json!("JOSE"))),
    );
    b.accepted(
        "typ-at-jwt",
        Reference,
        valid().header("typ", set(json!("at+jwt"))),
    );
    b.accepted("no-typ", Reference, valid().header("typ", Val::Remove));

    dpop::cases(&mut b);
    b.0
}

/// Tokens signed with the issuer's EC and Ed25519 keys (its ES256 and EdDSA APIs publish them
/// beside the RSA keys), and each key named under another algorithm: a key verifies only the
/// algorithm of its own type and curve (§5 row 3), and a public key of any type is never an
/// HMAC secret (§4 row 9).
fn algorithm_cases(b: &mut Builder) {
    let valid = Recipe::valid;
    let set = |value: Value| Val::Set(value);
    let es256 = || {
        valid()
            .signed_by(Signer::IssuerEs256)
            .header("alg", set(json!("ES256")))
            .header("kid", set(json!("{es256-kid}")))
    };
    let eddsa = || {
        valid()
            .signed_by(Signer::IssuerEdDsa)
            .header("alg", set(json!("EdDSA")))
            .header("kid", set(json!("{eddsa-kid}")))
    };
    b.accepted("es256", Reference, es256());
    b.accepted("eddsa", Reference, eddsa());
    b.invalid(
        "es256-key-named-es384",
        Reference,
        es256().header("alg", set(json!("ES384"))),
    );
    b.invalid(
        "es256-key-named-rs256",
        Reference,
        es256().header("alg", set(json!("RS256"))),
    );
    b.invalid(
        "eddsa-key-named-es256",
        Reference,
        eddsa().header("alg", set(json!("ES256"))),
    );
    b.invalid(
        "rsa-key-named-es256",
        Reference,
        valid().header("alg", set(json!("ES256"))),
    );
    b.invalid(
        "hs256-with-ec-public-key-jwk",
        Reference,
        es256().tamper(Tamper::HmacWithEcPublicKey),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Asserts that each of `expects` is the answer of one of `cases` on both protected routes.
    fn assert_on_both_routes(cases: &[&Case], expects: &[Expect]) {
        for expect in expects {
            for route in [Route::Private, Route::Scoped] {
                assert!(
                    cases
                        .iter()
                        .any(|case| case.route == route && case.expect == *expect),
                    "{route:?} {}",
                    expect.describe()
                );
            }
        }
    }

    #[test]
    fn case_names_are_unique() {
        let cases = catalogue();
        let names: HashSet<_> = cases.iter().map(|case| case.name.as_str()).collect();
        assert_eq!(names.len(), cases.len());
    }

    #[test]
    fn every_contract_error_row_is_covered_on_both_protected_routes() {
        let cases = catalogue();
        let reference: Vec<&Case> = cases
            .iter()
            .filter(|case| case.origin == Origin::Reference)
            .collect();
        assert_on_both_routes(
            &reference,
            &[
                Expect::NO_TOKEN,
                Expect::MALFORMED,
                Expect::INVALID_REQUEST,
                Expect::INVALID_TOKEN,
            ],
        );
        assert!(cases.iter().any(|c| c.expect == Expect::MISSING_SCOPE));
        assert!(cases.iter().any(|c| c.route == Route::Public));
    }

    #[test]
    fn the_dpop_cases_are_the_ones_that_need_dpop_and_cover_every_answer() {
        let cases = catalogue();
        for case in &cases {
            assert_eq!(
                case.needs_dpop(),
                case.name.contains("/dpop-"),
                "{}",
                case.name
            );
        }
        let dpop: Vec<&Case> = cases.iter().filter(|case| case.needs_dpop()).collect();
        assert_on_both_routes(
            &dpop,
            &[
                Expect::OK,
                Expect::INVALID_PROOF,
                Expect::INVALID_DPOP_TOKEN,
                Expect::INVALID_TOKEN,
            ],
        );
        assert!(dpop.iter().any(|c| c.expect == Expect::MISSING_SCOPE));
        // The binding is the original's rule; only the proof's answers differ from it.
        assert!(
            dpop.iter()
                .any(|c| c.origin == Origin::Reference && c.expect == Expect::INVALID_DPOP_TOKEN)
        );
    }
}
