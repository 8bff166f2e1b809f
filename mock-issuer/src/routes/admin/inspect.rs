//! `POST /_mock/inspect`: any token read back, with the verdict of the tenant's published keys
//! and its time left. The token is never logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::body::Body;
use super::refuse;
use crate::admin::{InspectRequest, Inspection, Verification};
use crate::server::AppState;
use crate::verify::{self, Inspected, VerifiedBy};

pub(super) async fn inspect(
    State(state): State<AppState>,
    Body(request): Body<InspectRequest>,
) -> Response {
    let inspected = match verify::inspect(&state, request.token.expose()) {
        Ok(inspected) => inspected,
        Err(unreadable) => return refuse(StatusCode::BAD_REQUEST, unreadable.to_string()),
    };
    let (header, claims, verification) = match inspected {
        Inspected::Verified(verified) => (
            verified.header,
            verified.claims,
            match verified.by {
                VerifiedBy::Key(kid) => Verification::Verified {
                    key: state.key_role(&kid).map(|(_, role)| role),
                    kid,
                },
                VerifiedBy::Secret(audience) => Verification::VerifiedWithSecret { audience },
            },
        ),
        Inspected::NotVerified(decoded, why) => (
            decoded.header,
            decoded.claims,
            Verification::NotVerified {
                reason: why.to_string(),
            },
        ),
    };
    let seconds_left = verify::seconds_left(&claims);
    Json(Inspection {
        header,
        claims,
        verification,
        seconds_left,
        expiry: expiry(seconds_left),
    })
    .into_response()
}

/// `expires in 90 s (1 min 30 s)`, `expired 5 s ago`, or `no exp claim`.
fn expiry(seconds_left: Option<i64>) -> String {
    match seconds_left {
        None => "no exp claim".to_owned(),
        Some(left) if left > 0 => {
            format!("expires in {left} s ({})", duration(left.unsigned_abs()))
        }
        Some(left) => format!("expired {} s ago", left.unsigned_abs()),
    }
}

/// `seconds` in its two largest units: `1 d 2 h`, `59 min 59 s`, `5 s`.
fn duration(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3600, "h"), (60, "min"), (1, "s")];
    let mut rest = seconds;
    let parts: Vec<String> = UNITS
        .iter()
        .filter_map(|&(size, name)| {
            let count = rest / size;
            rest %= size;
            (count > 0).then(|| format!("{count} {name}"))
        })
        .take(2)
        .collect();
    if parts.is_empty() {
        "0 s".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_reads_like_a_person_would_say_it() {
        assert_eq!(expiry(None), "no exp claim");
        assert_eq!(expiry(Some(86_400)), "expires in 86400 s (1 d)");
        assert_eq!(expiry(Some(3599)), "expires in 3599 s (59 min 59 s)");
        assert_eq!(expiry(Some(90_061)), "expires in 90061 s (1 d 1 h)");
        assert_eq!(expiry(Some(0)), "expired 0 s ago");
        assert_eq!(expiry(Some(-42)), "expired 42 s ago");
    }
}
