//! The verified claims of a token, and the rules that decide whether a claim set is acceptable
//! (RFC 7519 §4.1, RFC 9068 §2.2 and §4).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::error::AuthError;
use super::options::AuthOptions;

/// What the claim checks need to know, taken from [`AuthOptions`].
#[derive(Debug, Clone)]
pub(crate) struct ClaimRules {
    pub audiences: Vec<String>,
    pub tolerance: i64,
    pub max_age: Option<i64>,
    pub strict: bool,
}

impl ClaimRules {
    /// The claim rules `options` describe.
    pub(crate) fn from_options(options: &AuthOptions) -> Self {
        ClaimRules {
            audiences: options.audiences.clone(),
            tolerance: seconds(options.clock_tolerance),
            max_age: options.max_token_age.map(seconds),
            strict: options.strict,
        }
    }
}

/// A duration in whole seconds, the unit of the time claims. Saturates at a quarter of
/// `i64::MAX`, so adding it to or subtracting it from a timestamp cannot overflow.
fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 4)
}

/// The current time in seconds since the epoch, as the time claims are written (0 if the
/// clock is before 1970).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, seconds)
}

/// Parses and validates the payload of a token whose signature has already been verified:
/// the claims layer of [`Authenticator::verify`](super::Authenticator::verify), for callers
/// that verify signatures themselves (and for fuzzing). `now` is in seconds since the epoch.
pub fn validate_payload(
    payload: &[u8],
    expected_issuer: &str,
    options: &AuthOptions,
    now: i64,
) -> Result<Claims, AuthError> {
    validate(
        parse_payload(payload)?,
        expected_issuer,
        &ClaimRules::from_options(options),
        now,
    )
}

/// Parses a verified payload into its claims, refusing duplicate members at any depth.
pub(crate) fn parse_payload(payload: &[u8]) -> Result<Map<String, Value>, AuthError> {
    super::jose::parse_object(payload).map_err(|_| {
        AuthError::invalid_token("JWT Claims Set must be a JSON object without duplicate members")
    })
}

/// The claims of a verified access token. Cheap to clone; reaches handlers as an extractor.
#[derive(Debug, Clone)]
pub struct Claims(Arc<ClaimsData>);

#[derive(Debug)]
struct ClaimsData {
    all: Map<String, Value>,
    audiences: Vec<String>,
    times: TimeClaims,
    scopes: Vec<String>,
    permissions: Vec<String>,
}

/// The time claims as the checks read them (NumericDates, possibly fractional), kept so that a
/// cached token is re-checked with exactly the rules a fresh one meets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeClaims {
    expires_at: f64,
    not_before: Option<f64>,
    issued_at: Option<f64>,
}

impl TimeClaims {
    /// `exp`, `nbf`, `iat` and the maximum age at time `now`, in the order and with the
    /// descriptions of [`validate`].
    pub(crate) fn check(&self, rules: &ClaimRules, now: i64) -> Result<(), AuthError> {
        check_expiry(self.expires_at, rules, now)?;
        check_not_before(self.not_before, rules, now)?;
        check_issued_at(self.issued_at, rules, now)
    }
}

impl Claims {
    /// `iss`: the issuer, already checked.
    pub fn issuer(&self) -> &str {
        // Read from the claims rather than copied at verification: `validate` only accepts a
        // string `iss`, and the copy would cost every token an allocation.
        self.string("iss").unwrap_or_default()
    }
    /// `sub`: the user, or `<client_id>@clients` for a machine-to-machine token.
    pub fn subject(&self) -> Option<&str> {
        self.string("sub")
    }
    /// `aud`, always as a list.
    pub fn audiences(&self) -> &[String] {
        &self.0.audiences
    }
    /// `exp`, in seconds since the epoch (rounded down).
    pub fn expires_at(&self) -> i64 {
        self.0.times.expires_at.floor() as i64
    }
    /// The client the token was issued to: RFC 9068's `client_id`, else Auth0's `azp`.
    pub fn client_id(&self) -> Option<&str> {
        self.string("client_id").or_else(|| self.string("azp"))
    }
    /// The granted scopes, from the space-separated `scope` string (or an array of strings).
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }
    /// Whether `scope` is one of the granted scopes (a whole word, not a prefix).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|granted| granted == scope)
    }
    /// Whether the token has a `scope` claim at all.
    pub fn has_scope_claim(&self) -> bool {
        self.0.all.contains_key("scope")
    }
    /// Auth0 RBAC's `permissions` array (empty when absent).
    pub fn permissions(&self) -> &[String] {
        &self.0.permissions
    }
    /// Any claim, by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.all.get(name)
    }
    /// Every claim.
    pub fn all(&self) -> &Map<String, Value> {
        &self.0.all
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.0.all.get(name).and_then(Value::as_str)
    }

    /// The time claims, for re-checking a cached token.
    pub(crate) fn times(&self) -> &TimeClaims {
        &self.0.times
    }

    /// An estimate of the heap memory these claims hold, in bytes: what the token cache
    /// charges an entry for them. It errs on the high side (allocator rounding, map nodes).
    pub(crate) fn estimated_heap_bytes(&self) -> usize {
        let data = &*self.0;
        let strings = |list: &[String]| -> usize {
            list.iter()
                .map(|item| STRING_COST + item.len())
                .sum::<usize>()
        };
        std::mem::size_of::<ClaimsData>()
            + map_bytes(&data.all)
            + strings(&data.audiences)
            + strings(&data.scopes)
            + strings(&data.permissions)
    }
}

/// What one `String` costs beyond its bytes: its header and allocator rounding.
const STRING_COST: usize = std::mem::size_of::<String>() + 16;
/// What one map member costs beyond its key and value: B-tree node space and rounding.
const MEMBER_COST: usize = 32;

fn map_bytes(map: &Map<String, Value>) -> usize {
    map.iter()
        .map(|(key, value)| {
            MEMBER_COST
                + STRING_COST
                + key.len()
                + std::mem::size_of::<Value>()
                + value_bytes(value)
        })
        .sum()
}

/// Heap bytes of a JSON value beyond its own inline size.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(text) => 16 + text.len(),
        Value::Array(items) => items
            .iter()
            .map(|item| std::mem::size_of::<Value>() + value_bytes(item))
            .sum(),
        Value::Object(map) => map_bytes(map),
    }
}

/// Validates a verified payload against the rules and the expected issuer, at time `now`
/// (seconds since the epoch).
pub(crate) fn validate(
    all: Map<String, Value>,
    expected_issuer: &str,
    rules: &ClaimRules,
    now: i64,
) -> Result<Claims, AuthError> {
    let invalid = AuthError::invalid_token;

    match all.get("iss") {
        None => return Err(invalid("Missing 'iss' claim")),
        Some(Value::String(iss)) if iss == expected_issuer => {}
        Some(Value::String(_)) => return Err(invalid("Unexpected 'iss' value")),
        Some(_) => return Err(invalid("'iss' claim must be a string")),
    }

    let audiences = accepted_audiences(&all, rules)?;

    // Each time claim is type-checked, then checked, in turn: a token with several faults is
    // refused for the first, as before the checks were shared with the token cache.
    let expires_at = match numeric_date(&all, "exp")? {
        None => return Err(invalid("Missing 'exp' claim")),
        Some(exp) => exp,
    };
    check_expiry(expires_at, rules, now)?;
    let not_before = numeric_date(&all, "nbf")?;
    check_not_before(not_before, rules, now)?;
    let issued_at = numeric_date(&all, "iat")?;
    check_issued_at(issued_at, rules, now)?;

    for (name, missing) in [
        ("sub", "Missing 'sub' claim"),
        ("client_id", "Missing 'client_id' claim"),
        ("jti", "Missing 'jti' claim"),
    ] {
        match all.get(name) {
            None if rules.strict => return Err(invalid(missing)),
            None | Some(Value::String(_)) => {}
            Some(_) => {
                return Err(AuthError::InvalidToken(
                    format!("'{name}' claim must be a string").into(),
                ));
            }
        }
    }
    if rules.strict && issued_at.is_none() {
        return Err(invalid("Missing 'iat' claim"));
    }

    let scopes = scopes(&all)?;
    let permissions = match all.get("permissions") {
        None => Vec::new(),
        Some(value) => {
            string_array(value).ok_or(invalid("'permissions' claim must be an array of strings"))?
        }
    };

    Ok(Claims(Arc::new(ClaimsData {
        audiences,
        times: TimeClaims {
            expires_at,
            not_before,
            issued_at,
        },
        scopes,
        permissions,
        all,
    })))
}

/// `aud` as a list of strings, at least one of which is an accepted audience.
fn accepted_audiences(
    all: &Map<String, Value>,
    rules: &ClaimRules,
) -> Result<Vec<String>, AuthError> {
    const WRONG_TYPE: &str = "'aud' claim must be a string or an array of strings";
    let audiences = match all.get("aud") {
        None => return Err(AuthError::invalid_token("Missing 'aud' claim")),
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(value) => string_array(value).ok_or(AuthError::invalid_token(WRONG_TYPE))?,
    };
    if !audiences.iter().any(|aud| rules.audiences.contains(aud)) {
        return Err(AuthError::invalid_token("Unexpected 'aud' value"));
    }
    Ok(audiences)
}

/// The granted scopes: the words of a space-separated `scope` string, or an array of strings.
fn scopes(all: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
    match all.get("scope") {
        None => Ok(Vec::new()),
        Some(Value::String(scope)) => Ok(scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        Some(value) => string_array(value).ok_or(AuthError::invalid_token(
            "'scope' claim must be a string or an array of strings",
        )),
    }
}

fn check_expiry(expires_at: f64, rules: &ClaimRules, now: i64) -> Result<(), AuthError> {
    if expires_at <= (now - rules.tolerance) as f64 {
        return Err(AuthError::invalid_token(
            "\"exp\" claim timestamp check failed",
        ));
    }
    Ok(())
}

fn check_not_before(
    not_before: Option<f64>,
    rules: &ClaimRules,
    now: i64,
) -> Result<(), AuthError> {
    match not_before {
        Some(nbf) if nbf > (now + rules.tolerance) as f64 => Err(AuthError::invalid_token(
            "\"nbf\" claim timestamp check failed",
        )),
        _ => Ok(()),
    }
}

/// `iat` not in the future and, with a maximum age, present and recent enough.
fn check_issued_at(issued_at: Option<f64>, rules: &ClaimRules, now: i64) -> Result<(), AuthError> {
    let invalid = AuthError::invalid_token;
    if let Some(iat) = issued_at
        && iat > (now + rules.tolerance) as f64
    {
        return Err(invalid(
            "\"iat\" claim timestamp check failed (in the future)",
        ));
    }
    if let Some(max_age) = rules.max_age {
        match issued_at {
            None => return Err(invalid("Missing 'iat' claim")),
            Some(iat) if iat < (now - max_age - rules.tolerance) as f64 => {
                return Err(invalid(
                    "\"iat\" claim timestamp check failed (too far in the past)",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A NumericDate claim (RFC 7519 §2): a JSON number, possibly fractional.
fn numeric_date(all: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, AuthError> {
    match all.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => match number.as_f64() {
            Some(value) if value.is_finite() => Ok(Some(value)),
            _ => Err(number_error(name)),
        },
        Some(_) => Err(number_error(name)),
    }
}

fn number_error(name: &str) -> AuthError {
    AuthError::InvalidToken(format!("'{name}' claim must be a number").into())
}

fn string_array(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://tenant.example/";
    const NOW: i64 = 1_800_000_000;

    fn rules() -> ClaimRules {
        ClaimRules {
            audiences: vec!["https://api".into()],
            tolerance: 5,
            max_age: None,
            strict: false,
        }
    }

    fn base() -> Map<String, Value> {
        let Value::Object(map) =
            json!({"iss": ISSUER, "aud": "https://api", "exp": NOW + 60, "sub": "c@clients"})
        else {
            unreachable!()
        };
        map
    }

    fn with(changes: Value) -> Map<String, Value> {
        let mut claims = base();
        for (name, value) in changes.as_object().expect("object") {
            if value.is_null() {
                claims.remove(name);
            } else {
                claims.insert(name.clone(), value.clone());
            }
        }
        claims
    }

    fn refusal(claims: Map<String, Value>, rules: &ClaimRules) -> String {
        match validate(claims, ISSUER, rules, NOW) {
            Err(AuthError::InvalidToken(description)) => description.into_owned(),
            other => panic!("expected invalid_token, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_auth0_claim_set_is_accepted() {
        let claims = validate(base(), ISSUER, &rules(), NOW).expect("valid");
        assert_eq!(claims.issuer(), ISSUER);
        assert_eq!(claims.audiences(), ["https://api"]);
        assert_eq!(claims.expires_at(), NOW + 60);
        assert!(claims.scopes().is_empty());
    }

    #[test]
    fn the_expiry_allows_exactly_the_tolerance() {
        assert!(validate(with(json!({"exp": NOW - 4})), ISSUER, &rules(), NOW).is_ok());
        assert_eq!(
            refusal(with(json!({"exp": NOW - 5})), &rules()),
            "\"exp\" claim timestamp check failed"
        );
        assert_eq!(
            refusal(with(json!({"exp": null})), &rules()),
            "Missing 'exp' claim"
        );
        assert_eq!(
            refusal(with(json!({"exp": "soon"})), &rules()),
            "'exp' claim must be a number"
        );
    }

    #[test]
    fn not_before_and_issued_at_may_be_at_most_the_tolerance_ahead() {
        assert!(
            validate(
                with(json!({"nbf": NOW + 5, "iat": NOW + 5})),
                ISSUER,
                &rules(),
                NOW
            )
            .is_ok()
        );
        assert_eq!(
            refusal(with(json!({"nbf": NOW + 6})), &rules()),
            "\"nbf\" claim timestamp check failed"
        );
        assert!(refusal(with(json!({"iat": NOW + 6})), &rules()).contains("iat"));
        assert_eq!(
            refusal(with(json!({"nbf": true})), &rules()),
            "'nbf' claim must be a number"
        );
    }

    #[test]
    fn a_maximum_age_requires_a_recent_iat() {
        let rules = ClaimRules {
            max_age: Some(60),
            ..rules()
        };
        assert!(validate(with(json!({"iat": NOW - 65})), ISSUER, &rules, NOW).is_ok());
        assert!(refusal(with(json!({"iat": NOW - 66})), &rules).contains("too far in the past"));
        assert_eq!(refusal(base(), &rules), "Missing 'iat' claim");
    }

    #[test]
    fn issuer_must_be_the_exact_string() {
        assert_eq!(
            refusal(with(json!({"iss": null})), &rules()),
            "Missing 'iss' claim"
        );
        assert_eq!(
            refusal(with(json!({"iss": "https://tenant.example"})), &rules()),
            "Unexpected 'iss' value"
        );
        assert_eq!(
            refusal(with(json!({"iss": ["https://tenant.example/"]})), &rules()),
            "'iss' claim must be a string"
        );
    }

    #[test]
    fn audience_matches_when_any_element_matches() {
        assert!(
            validate(
                with(json!({"aud": ["x", "https://api"]})),
                ISSUER,
                &rules(),
                NOW
            )
            .is_ok()
        );
        assert_eq!(
            refusal(with(json!({"aud": ["x"]})), &rules()),
            "Unexpected 'aud' value"
        );
        assert_eq!(
            refusal(with(json!({"aud": []})), &rules()),
            "Unexpected 'aud' value"
        );
        assert_eq!(
            refusal(with(json!({"aud": null})), &rules()),
            "Missing 'aud' claim"
        );
        assert!(
            refusal(with(json!({"aud": ["https://api", 1]})), &rules())
                .contains("array of strings")
        );
        assert!(refusal(with(json!({"aud": 1})), &rules()).contains("must be a string"));
    }

    #[test]
    fn registered_string_claims_are_type_checked() {
        for name in ["sub", "client_id", "jti"] {
            assert_eq!(
                refusal(with(json!({ name: 42 })), &rules()),
                format!("'{name}' claim must be a string")
            );
        }
    }

    #[test]
    fn strict_mode_requires_the_rfc_9068_claims() {
        let strict = ClaimRules {
            strict: true,
            ..rules()
        };
        assert_eq!(refusal(base(), &strict), "Missing 'client_id' claim");
        let complete = with(json!({"client_id": "c", "jti": "j", "iat": NOW}));
        assert!(validate(complete.clone(), ISSUER, &strict, NOW).is_ok());
        let mut no_iat = complete;
        no_iat.remove("iat");
        assert_eq!(refusal(no_iat, &strict), "Missing 'iat' claim");
    }

    #[test]
    fn scopes_are_whole_words_of_a_string_or_an_array() {
        let claims = validate(
            with(json!({"scope": "read:messages  write:messages"})),
            ISSUER,
            &rules(),
            NOW,
        )
        .expect("valid");
        assert_eq!(claims.scopes(), ["read:messages", "write:messages"]);
        assert!(claims.has_scope("read:messages"));
        assert!(!claims.has_scope("read"));
        let claims =
            validate(with(json!({"scope": ["a", "b"]})), ISSUER, &rules(), NOW).expect("valid");
        assert_eq!(claims.scopes(), ["a", "b"]);
        assert!(refusal(with(json!({"scope": 7})), &rules()).contains("'scope'"));
        assert!(refusal(with(json!({"permissions": "a"})), &rules()).contains("'permissions'"));
    }
}
