//! Authorization on verified claims: the reference's `requiredScopes`, `scopeIncludesAny`,
//! `claimEquals`, `claimIncludes` and `claimCheck`, plus a check on Auth0 RBAC's
//! `permissions` claim that answers 403 as a missing scope does. The middleware that applies a
//! [`Requirement`] to a route is [`authorize`](super::authorize()).
//!
//! ```no_run
//! use api::auth::{self, Requirement};
//! use axum::{Router, middleware, routing::get};
//! # fn demo(authenticator: api::auth::Authenticator) {
//! let app: Router = Router::new()
//!     .route("/messages", get(|| async { "hi" }))
//!     // Layers run outside-in: authentication (added last) runs first.
//!     .route_layer(middleware::from_fn_with_state(Requirement::scopes(["read:messages"]), auth::authorize))
//!     .route_layer(middleware::from_fn_with_state(authenticator, auth::require_auth));
//! # }
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use super::claims::Claims;
use super::error::AuthError;

/// A condition a verified token must meet. Cheap to clone.
#[derive(Clone)]
pub struct Requirement(Arc<Rule>);

type Predicate = dyn Fn(&Claims) -> bool + Send + Sync;

enum Rule {
    AllScopes(Vec<String>),
    AnyScope(Vec<String>),
    AllPermissions(Vec<String>),
    AnyPermission(Vec<String>),
    ClaimEquals(String, Value),
    ClaimIncludes(String, Vec<Value>),
    ClaimCheck(Box<Predicate>, Cow<'static, str>),
}

fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

impl Requirement {
    /// Every listed scope must be granted (`requiredScopes`); else 403 `insufficient_scope`.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Self {
        Requirement(Arc::new(Rule::AllScopes(strings(scopes))))
    }
    /// At least one listed scope must be granted (`scopeIncludesAny`); else 403.
    pub fn any_scope<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Self {
        Requirement(Arc::new(Rule::AnyScope(strings(scopes))))
    }
    /// Every listed permission must be in Auth0 RBAC's `permissions` claim; else 403.
    pub fn permissions<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Requirement(Arc::new(Rule::AllPermissions(strings(permissions))))
    }
    /// At least one listed permission must be in `permissions`; else 403.
    pub fn any_permission<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Requirement(Arc::new(Rule::AnyPermission(strings(permissions))))
    }
    /// The claim must equal `value` (`claimEquals`); else 401 `invalid_token`.
    pub fn claim_equals(claim: impl Into<String>, value: impl Into<Value>) -> Self {
        Requirement(Arc::new(Rule::ClaimEquals(claim.into(), value.into())))
    }
    /// The claim (a space-separated string or an array) must include every value
    /// (`claimIncludes`); else 401 `invalid_token`.
    pub fn claim_includes<I: IntoIterator<Item = V>, V: Into<Value>>(
        claim: impl Into<String>,
        values: I,
    ) -> Self {
        let values = values.into_iter().map(Into::into).collect();
        Requirement(Arc::new(Rule::ClaimIncludes(claim.into(), values)))
    }
    /// A custom predicate (`claimCheck`); when it returns false, 401 `invalid_token` with
    /// `description` (write it for clients: it is sent to them).
    pub fn claim_check(
        predicate: impl Fn(&Claims) -> bool + Send + Sync + 'static,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Requirement(Arc::new(Rule::ClaimCheck(
            Box::new(predicate),
            description.into(),
        )))
    }

    /// Checks the requirement against verified claims.
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        match &*self.0 {
            Rule::AllScopes(required) => scope_check(claims, required, true),
            Rule::AnyScope(required) => scope_check(claims, required, false),
            Rule::AllPermissions(required) => permission_check(
                claims,
                required,
                required.iter().all(|p| claims.has_permission(p)),
            ),
            Rule::AnyPermission(required) => permission_check(
                claims,
                required,
                required.iter().any(|p| claims.has_permission(p)),
            ),
            Rule::ClaimEquals(name, expected) => match claims.get(name) {
                None => Err(missing_claim(name)),
                Some(actual) if actual == expected => Ok(()),
                Some(_) => Err(unexpected_claim(name)),
            },
            Rule::ClaimIncludes(name, expected) => {
                let actual: Vec<Value> = match claims.get(name) {
                    None => return Err(missing_claim(name)),
                    Some(Value::String(words)) => words
                        .split(' ')
                        .filter(|word| !word.is_empty())
                        .map(|word| Value::String(word.to_owned()))
                        .collect(),
                    Some(Value::Array(items)) => items.clone(),
                    Some(_) => return Err(unexpected_claim(name)),
                };
                if expected.iter().all(|value| actual.contains(value)) {
                    Ok(())
                } else {
                    Err(unexpected_claim(name))
                }
            }
            Rule::ClaimCheck(predicate, description) => {
                if predicate(claims) {
                    Ok(())
                } else {
                    Err(AuthError::InvalidToken(description.clone()))
                }
            }
        }
    }
}

fn scope_check(claims: &Claims, required: &[String], all: bool) -> Result<(), AuthError> {
    let granted = |scope: &String| claims.has_scope(scope);
    let satisfied = if all {
        required.iter().all(granted)
    } else {
        required.iter().any(granted)
    };
    if satisfied {
        return Ok(());
    }
    Err(AuthError::InsufficientScope {
        description: if claims.has_scope_claim() {
            "Insufficient Scope"
        } else {
            "Missing 'scope' claim"
        },
        required: required.join(" "),
    })
}

fn permission_check(
    claims: &Claims,
    required: &[String],
    satisfied: bool,
) -> Result<(), AuthError> {
    if satisfied {
        return Ok(());
    }
    Err(AuthError::InsufficientScope {
        // Read without the full claims tree, which a refusal should not have to build.
        description: if claims.has_permissions_claim() {
            "Insufficient Permissions"
        } else {
            "Missing 'permissions' claim"
        },
        required: required.join(" "),
    })
}

fn missing_claim(name: &str) -> AuthError {
    AuthError::InvalidToken(format!("Missing '{name}' claim").into())
}

fn unexpected_claim(name: &str) -> AuthError {
    AuthError::InvalidToken(format!("Unexpected '{name}' value").into())
}
