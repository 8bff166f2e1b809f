//! Properties over generated tokens and requests, against this project's api over HTTP.

use std::sync::OnceLock;

use conformance::catalogue::{Recipe, Val};
use proptest::prelude::*;
use serde_json::json;
use tokio::runtime::Runtime;

use crate::helpers::*;

/// One runtime, harness and api shared by every generated case.
struct World {
    runtime: Runtime,
    harness: Harness,
    server: Server,
    client: reqwest::Client,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (harness, server) = runtime.block_on(async {
            let harness = Harness::start().await;
            let server = harness.api(harness.options()).await;
            (harness, server)
        });
        World {
            runtime,
            harness,
            server,
            client: client(),
        }
    })
}

/// GETs `route` with `Authorization: <header>` and returns the status.
fn status(route: &str, header: &str) -> u16 {
    let world = world();
    let request = world
        .client
        .get(format!("{}{route}", world.server.url))
        .header("authorization", header);
    world.runtime.block_on(async {
        request
            .send()
            .await
            .expect("the api answers")
            .status()
            .as_u16()
    })
}

fn token(recipe: &Recipe) -> String {
    world().harness.forge().token(recipe)
}

#[derive(Debug, Clone, Copy)]
enum Audience {
    Ours,
    Other,
    ArrayWithOurs,
    ArrayWithout,
    Missing,
}

#[derive(Debug, Clone, Copy)]
enum Issuer {
    Exact,
    WithoutSlash,
    Other,
    Missing,
}

prop_compose! {
    /// Claim sets around the validity boundaries, kept a few seconds clear of each boundary so
    /// the second ticking during a request cannot change the answer.
    fn arb_claims()(
        exp in prop::option::of(prop::sample::select(vec![-3600i64, -30, -2, 30, 3600])),
        nbf in prop::option::of(prop::sample::select(vec![-60i64, 2, 30, 3600])),
        iat in prop::option::of(prop::sample::select(vec![-60i64, 0, 3600])),
        audience in prop::sample::select(vec![Audience::Ours, Audience::Other, Audience::ArrayWithOurs, Audience::ArrayWithout, Audience::Missing]),
        issuer in prop::sample::select(vec![Issuer::Exact, Issuer::WithoutSlash, Issuer::Other, Issuer::Missing]),
    ) -> (Option<i64>, Option<i64>, Option<i64>, Audience, Issuer) {
        (exp, nbf, iat, audience, issuer)
    }
}

/// The plain rules of the contract (and RFC 7519), with the 5 s tolerance.
fn oracle_accepts(
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    audience: Audience,
    issuer: Issuer,
) -> bool {
    exp.is_some_and(|exp| exp > -5)
        && nbf.is_none_or(|nbf| nbf <= 5)
        && iat.is_none_or(|iat| iat <= 5)
        && matches!(audience, Audience::Ours | Audience::ArrayWithOurs)
        && matches!(issuer, Issuer::Exact)
}

fn recipe_for(
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    audience: Audience,
    issuer: Issuer,
) -> Recipe {
    let time = |offset: Option<i64>| offset.map_or(Val::Remove, Val::FromNow);
    let aud = match audience {
        Audience::Ours => Val::Set(json!(conformance::AUDIENCE)),
        Audience::Other => Val::Set(json!("https://other/api")),
        Audience::ArrayWithOurs => Val::Set(json!(["https://other/api", conformance::AUDIENCE])),
        Audience::ArrayWithout => Val::Set(json!(["https://other/api"])),
        Audience::Missing => Val::Remove,
    };
    let iss = match issuer {
        Issuer::Exact => Val::Set(json!("{issuer}")),
        Issuer::WithoutSlash => Val::Set(json!("{issuer-without-slash}")),
        Issuer::Other => Val::Set(json!("https://evil.example/")),
        Issuer::Missing => Val::Remove,
    };
    Recipe {
        claims: vec![
            ("exp", time(exp)),
            ("nbf", time(nbf)),
            ("iat", time(iat)),
            ("aud", aud),
            ("iss", iss),
        ],
        ..Recipe::valid()
    }
}

const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn changing_any_character_of_a_valid_token_makes_it_rejected_with_401(
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(B64URL.chars().collect::<Vec<_>>()),
    ) {
        let valid = token(&Recipe::valid());
        let index = position.index(valid.len());
        prop_assume!(valid.as_bytes()[index] as char != replacement);
        let mut tampered = valid.clone();
        tampered.replace_range(index..=index, &replacement.to_string());

        prop_assert_eq!(status("/api/private", &format!("Bearer {tampered}")), 401);
    }

    #[test]
    fn a_token_is_accepted_exactly_when_the_oracle_says_it_is_valid((exp, nbf, iat, audience, issuer) in arb_claims()) {
        let token = token(&recipe_for(exp, nbf, iat, audience, issuer));
        let expected = if oracle_accepts(exp, nbf, iat, audience, issuer) { 200 } else { 401 };

        prop_assert_eq!(status("/api/private", &format!("Bearer {token}")), expected);
    }

    #[test]
    fn the_scoped_route_admits_a_token_exactly_when_read_messages_is_a_whole_word_of_its_scope(
        words in prop::collection::vec(
            prop::sample::select(vec!["read:messages", "read:message", "read:messages:all", "READ:MESSAGES", "write:messages", "openid", "messages", "read"]),
            0..4,
        ),
    ) {
        let scope = words.join(" ");
        let recipe = Recipe { claims: vec![("scope", Val::Set(json!(scope)))], ..Recipe::valid() };
        let expected = if words.contains(&"read:messages") { 200 } else { 403 };

        prop_assert_eq!(status("/api/private-scoped", &format!("Bearer {}", token(&recipe))), expected);
    }

    #[test]
    fn no_authorization_header_makes_the_server_answer_5xx_or_hang(header in "[ -~]{0,200}") {
        let answer = status("/api/private-scoped", &header);

        prop_assert!(matches!(answer, 400 | 401 | 403), "answered {} to {:?}", answer, header);
    }
}
