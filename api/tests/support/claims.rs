//! The claims of the tokens tests and benchmarks sign: Auth0's client-credentials shape.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The API identifier every test token is issued for.
pub const AUDIENCE: &str = "https://quickstarts/api";

/// Seconds since the epoch, as the claim checks read the clock.
pub fn now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(seconds).expect("a clock before the year 292 billion")
}

/// Claims of a valid client-credentials token from `issuer`, as Auth0 mints them.
pub fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "reader@clients",
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 3600,
        "scope": "read:messages",
        "azp": "reader",
        "gty": "client-credentials",
    })
}

/// Applies `changes` to `claims`: a `null` removes the claim, anything else sets it. (The
/// api's unit tests have a `with` of their own: `#[cfg(test)]` code is out of reach here.)
pub fn with(mut claims: Value, changes: Value) -> Value {
    let object = claims.as_object_mut().expect("claims are an object");
    for (name, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    claims
}
