//! The DPoP cases (RFC 9449): how a case's proof is made and sent, and the cases themselves.
//!
//! A DPoP request is `Authorization: DPoP <token>` with a `DPoP` header holding a proof: a JWS
//! the client signs with its own key, naming the request (`htm`, `htu`), the time (`iat`), a
//! unique `jti` and the token's hash (`ath`). The token names the key in `cnf.jkt`. Each case
//! below is a valid such request with one thing changed.

use serde_json::json;

use super::{Builder, Expect, Origin, Placement, Recipe, Val};

/// The client key that signs a proof and whose public JWK its header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKey {
    /// A P-256 key, `ES256`: what most clients use. A bound token names it as `{jkt}`.
    P256,
    /// An Ed25519 key, `EdDSA`. A bound token names it as `{ed25519-jkt}`.
    Ed25519,
}

/// The `htu` a proof names, from the request URL (its origin and path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Htu {
    /// The request URL, as a client writes it.
    Request,
    /// The request URL with `?page=2#top`: query and fragment are ignored (RFC 9449 §4.3).
    WithQueryAndFragment,
    /// Scheme and host in capitals: both are case-insensitive (RFC 3986 §6.2.2.1).
    Capitalised,
    /// The path's last segment with its first letter percent-encoded (`/api/%70rivate`), the
    /// same URL once normalised (RFC 3986 §6.2.2.2).
    PercentEncoded,
    /// The same origin, another path (the public route).
    OtherPath,
    /// The same path on another host.
    OtherHost,
}

/// What is done to a proof as it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofTamper {
    /// Nothing: the proof as the client signs it.
    None,
    /// `alg` `none` and an empty signature.
    AlgNone,
    /// `alg` `HS256`, keyed with the proof's own public JWK: a MAC anyone can compute.
    Hmac,
    /// The header's `jwk` carries the private key (`d`) too.
    PrivateJwk,
    /// Signed by another key than the one the header's `jwk` names.
    SignedByOtherKey,
}

/// How a case's proof is made: a valid proof for the request, by a client key, changed as
/// listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofRecipe {
    /// Protected header changes (`typ`, `alg`, `jwk`).
    pub header: Vec<(&'static str, Val)>,
    /// Claim changes (`jti`, `htm`, `iat`, `ath`); `htu` is [`ProofRecipe::htu`].
    pub claims: Vec<(&'static str, Val)>,
    /// The signing key.
    pub key: ProofKey,
    /// The `htu` claim.
    pub htu: Htu,
    /// What is done as it is signed.
    pub tamper: ProofTamper,
}

impl ProofRecipe {
    /// A valid proof by the P-256 key.
    pub fn valid() -> Self {
        ProofRecipe {
            header: Vec::new(),
            claims: Vec::new(),
            key: ProofKey::P256,
            htu: Htu::Request,
            tamper: ProofTamper::None,
        }
    }
}

/// A valid proof but for one header member.
fn with_header(name: &'static str, value: Val) -> ProofRecipe {
    ProofRecipe {
        header: vec![(name, value)],
        ..ProofRecipe::valid()
    }
}

/// A valid proof but for one claim.
fn with_claim(name: &'static str, value: Val) -> ProofRecipe {
    ProofRecipe {
        claims: vec![(name, value)],
        ..ProofRecipe::valid()
    }
}

/// A valid proof naming another `htu`.
fn with_htu(htu: Htu) -> ProofRecipe {
    ProofRecipe {
        htu,
        ..ProofRecipe::valid()
    }
}

/// A valid proof tampered with as it is signed.
fn with_tamper(tamper: ProofTamper) -> ProofRecipe {
    ProofRecipe {
        tamper,
        ..ProofRecipe::valid()
    }
}

/// A valid proof by the Ed25519 key.
fn by_ed25519() -> ProofRecipe {
    ProofRecipe {
        key: ProofKey::Ed25519,
        ..ProofRecipe::valid()
    }
}

/// How the proofs go with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofHeaders {
    /// One `DPoP` header: the request as a client sends it.
    One,
    /// Two `DPoP` headers, each a valid proof of its own.
    Two,
    /// No `DPoP` header.
    None,
    /// One `DPoP` header, and the request sent twice with the same proof: the first must be
    /// accepted, the second is the case's answer.
    Replayed,
}

/// A DPoP request: `Authorization: <scheme> <token>` and the `DPoP` header(s).
#[derive(Debug, Clone, PartialEq)]
pub struct DpopRequest {
    /// The `Authorization` scheme: `DPoP` in any case (schemes are case-insensitive, RFC 9110
    /// §11.1), or `Bearer` for a proof sent beside a bearer token.
    pub scheme: &'static str,
    /// The proof(s) sent.
    pub headers: ProofHeaders,
    /// How each proof is made.
    pub proof: ProofRecipe,
}

impl DpopRequest {
    fn new(proof: ProofRecipe) -> Self {
        DpopRequest {
            scheme: "DPoP",
            headers: ProofHeaders::One,
            proof,
        }
    }
    fn headers(mut self, headers: ProofHeaders) -> Self {
        self.headers = headers;
        self
    }
}

/// The `ath` of RFC 9449 §7.1's example token: a well-formed hash of some other token.
const OTHER_ATH: &str = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo";

/// A token bound to the key a placeholder names (`{jkt}`, `{ed25519-jkt}`, `{other-jkt}`).
fn bound_to(jkt: &str) -> Recipe {
    Recipe::valid().claim("cnf", Val::Set(json!({ "jkt": jkt })))
}

/// Appends the DPoP cases, each citing its `CONTRACT.md` row.
pub(super) fn cases(b: &mut Builder) {
    accepted(b);
    refused_proofs(b);
    refused_requests(b);
    bindings(b);
    nonces(b);
    // The scope check is the same whatever the scheme: 403 `insufficient_scope` on the Bearer
    // challenge alone, as the original answers: CONTRACT.md §11 row 11.
    b.scope_refused_as(
        "dpop-other-scopes",
        Origin::Reference,
        bound_to("{jkt}").claim("scope", Val::Set(json!("write:messages openid"))),
        Placement::Dpop(DpopRequest::new(ProofRecipe::valid())),
    );
}

impl Builder {
    /// A DPoP request on both protected routes.
    fn dpop(
        &mut self,
        what: &str,
        origin: Origin,
        token: Recipe,
        request: DpopRequest,
        expect: Expect,
    ) {
        let what = format!("dpop-{what}");
        self.protected(&what, origin, token, Placement::Dpop(request), expect);
    }

    /// A request with a token bound to the P-256 key and this proof, refused as the proof is.
    fn bad_proof(&mut self, what: &str, origin: Origin, proof: ProofRecipe) {
        self.dpop(
            what,
            origin,
            bound_to("{jkt}"),
            DpopRequest::new(proof),
            Expect::INVALID_PROOF,
        );
    }
}

/// Valid DPoP requests, as clients write them: CONTRACT.md §2 row 10 and §11 rows 1–3.
fn accepted(b: &mut Builder) {
    use Origin::Reference;
    let valid = ProofRecipe::valid;
    let ok = |b: &mut Builder, what: &str, token: Recipe, request: DpopRequest| {
        b.dpop(what, Reference, token, request, Expect::OK);
    };
    ok(
        b,
        "valid-proof",
        bound_to("{jkt}"),
        DpopRequest::new(valid()),
    );
    ok(
        b,
        "valid-proof-eddsa",
        bound_to("{ed25519-jkt}"),
        DpopRequest::new(by_ed25519()),
    );
    ok(
        b,
        "lowercase-scheme",
        bound_to("{jkt}"),
        DpopRequest {
            scheme: "dpop",
            ..DpopRequest::new(valid())
        },
    );
    for (what, proof) in [
        // The `iat` window is [now - 300 s, now + 30 s] by default.
        ("iat-a-minute-old", with_claim("iat", Val::FromNow(-60))),
        ("iat-slightly-ahead", with_claim("iat", Val::FromNow(10))),
        (
            "htu-with-query-and-fragment",
            with_htu(Htu::WithQueryAndFragment),
        ),
        ("htu-capitalised", with_htu(Htu::Capitalised)),
        ("htu-percent-encoded", with_htu(Htu::PercentEncoded)),
    ] {
        ok(b, what, bound_to("{jkt}"), DpopRequest::new(proof));
    }
}

/// Proofs that break one rule of RFC 9449 §4.3: 401 `invalid_dpop_proof` on the DPoP
/// challenge (RFC 9449 §7.1), where the original answers 400: CONTRACT.md §11 row 4 (and
/// rows 2–3 for `iat` and `htu`). Each is this project's rule for that reason alone.
fn refused_proofs(b: &mut Builder) {
    use Origin::Project;
    let set = |value: serde_json::Value| Val::Set(value);
    for (what, proof) in [
        ("typ-jwt", with_header("typ", set(json!("JWT")))),
        ("alg-none", with_tamper(ProofTamper::AlgNone)),
        ("alg-hs256", with_tamper(ProofTamper::Hmac)),
        // A P-256 key labelled as P-384's algorithm.
        (
            "alg-mismatches-jwk",
            with_header("alg", set(json!("ES384"))),
        ),
        ("jwk-with-private-key", with_tamper(ProofTamper::PrivateJwk)),
        ("jwk-missing", with_header("jwk", Val::Remove)),
        (
            "signature-by-other-key",
            with_tamper(ProofTamper::SignedByOtherKey),
        ),
        ("jti-missing", with_claim("jti", Val::Remove)),
        ("htm-post", with_claim("htm", set(json!("POST")))),
        ("htu-other-path", with_htu(Htu::OtherPath)),
        ("htu-other-host", with_htu(Htu::OtherHost)),
        ("iat-stale", with_claim("iat", Val::FromNow(-600))),
        ("iat-in-the-future", with_claim("iat", Val::FromNow(120))),
        ("iat-missing", with_claim("iat", Val::Remove)),
        (
            "ath-of-another-token",
            with_claim("ath", set(json!(OTHER_ATH))),
        ),
        ("ath-missing", with_claim("ath", Val::Remove)),
        // HTTP methods are case-sensitive (RFC 9110 §9.1); the original compares them
        // case-insensitively and accepts this one.
        ("htm-lowercase", with_claim("htm", set(json!("get")))),
    ] {
        b.bad_proof(what, Project, proof);
    }
    // `Ed25519` is the fully-specified name for what the allow-list (the original's) calls
    // `EdDSA`: the proof is sound but for its algorithm's name.
    b.dpop(
        "alg-not-allowed",
        Project,
        bound_to("{ed25519-jkt}"),
        DpopRequest::new(ProofRecipe {
            header: vec![("alg", set(json!("Ed25519")))],
            ..by_ed25519()
        }),
        Expect::INVALID_PROOF,
    );
}

/// Requests whose proof headers are wrong, and a replayed proof: CONTRACT.md §11 rows 5–7.
/// The original answers the first two 400 and never checks replay.
fn refused_requests(b: &mut Builder) {
    use Origin::Project;
    for (what, headers) in [
        ("two-proof-headers", ProofHeaders::Two),
        ("no-proof-header", ProofHeaders::None),
        ("replayed-proof", ProofHeaders::Replayed),
    ] {
        b.dpop(
            what,
            Project,
            bound_to("{jkt}"),
            DpopRequest::new(ProofRecipe::valid()).headers(headers),
            Expect::INVALID_PROOF,
        );
    }
}

/// Proofs without the server's current nonce, for a target that hands nonces out (RFC 9449
/// §9): 401 `use_dpop_nonce` on the DPoP challenge with the nonce to use in `DPoP-Nonce`, where
/// the original has no nonces: CONTRACT.md §11 row 13. Every other DPoP case carries the nonce
/// the target handed out; a target that hands out none is not asked these
/// ([`Case::needs_nonces`](super::Case::needs_nonces)).
fn nonces(b: &mut Builder) {
    for (what, nonce) in [
        ("nonce-missing", Val::Remove),
        // Well-formed base64url of the right length for this project's nonces, minted by no one.
        (
            "nonce-not-the-servers",
            Val::Set(json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        ),
        ("nonce-not-a-string", Val::Set(json!(7))),
    ] {
        b.dpop(
            what,
            Origin::Project,
            bound_to("{jkt}"),
            DpopRequest::new(with_claim("nonce", nonce)),
            Expect::USE_NONCE,
        );
    }
}

/// A valid DPoP request on `/api/private` whose proof carries no nonce: the runner sends it
/// first to learn whether the target hands nonces out, and the nonce to use.
pub fn nonce_probe() -> (Recipe, DpopRequest) {
    (bound_to("{jkt}"), DpopRequest::new(ProofRecipe::valid()))
}

/// The binding between token and proof: 401 `invalid_token` on the scheme the client used,
/// as the original answers: CONTRACT.md §11 rows 8–10; and a proof beside a bearer token,
/// which is no DPoP request: §11 row 12.
fn bindings(b: &mut Builder) {
    use Origin::Reference;
    b.dpop(
        "bound-to-another-key",
        Reference,
        bound_to("{other-jkt}"),
        DpopRequest::new(ProofRecipe::valid()),
        Expect::INVALID_DPOP_TOKEN,
    );
    b.dpop(
        "unbound-token",
        Reference,
        Recipe::valid(),
        DpopRequest::new(ProofRecipe::valid()),
        Expect::INVALID_DPOP_TOKEN,
    );
    b.protected(
        "dpop-bound-token-as-bearer",
        Reference,
        bound_to("{jkt}"),
        Placement::Bearer,
        Expect::INVALID_TOKEN,
    );
    b.dpop(
        "proof-beside-a-bearer-token",
        Reference,
        Recipe::valid(),
        DpopRequest {
            scheme: "Bearer",
            ..DpopRequest::new(ProofRecipe::valid())
        },
        Expect::INVALID_REQUEST,
    );
}
