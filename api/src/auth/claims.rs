//! The verified claims of a token, and the rules that decide whether a claim set is acceptable
//! (RFC 7519 §4.1, RFC 9068 §2.2 and §4).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::error::AuthError;
use super::jose;
use super::jose::json::{Captured, Document, Limits, Members, STRING_COST, StringList};
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

/// What a claims set may hold. An access token carries a dozen registered and Auth0 claims
/// and a few custom ones, and Auth0 RBAC's `permissions` one string per permission granted: far
/// below these limits, which bound the work a signed but hostile payload (say, one an issuer
/// filled from user-controlled metadata) can ask for.
pub(crate) const CLAIMS_LIMITS: Limits = Limits {
    members: 128,
    values: 1024,
};

/// A verified payload, read once (see [`jose::json`]): the text, kept to build the full claims
/// tree only if it is asked for, and the registered claims the checks read.
#[derive(Debug)]
pub(crate) struct Payload {
    text: String,
    registered: Registered<'static>,
    /// The heap the full claims tree takes once built.
    tree_bytes: usize,
}

/// Parses a verified payload, refusing duplicate members at any depth and anything else
/// [`jose::json`] refuses, each with a description of its own.
pub(crate) fn parse_payload(payload: &[u8]) -> Result<Payload, AuthError> {
    let scanned = jose::json::scan_object(payload, CLAIMS_LIMITS, Registered::default())
        .map_err(|error| AuthError::invalid_token(error.description(Document::ClaimsSet)))?;
    Ok(Payload {
        // The scan has checked it is UTF-8.
        text: String::from_utf8_lossy(payload).into_owned(),
        registered: scanned.members.into_owned(),
        tree_bytes: scanned.tree_bytes,
    })
}

impl Payload {
    /// The `iss` claim, unverified until the signature is: what chooses among several
    /// issuers. Refused as [`validate`] refuses it when missing or not a string.
    pub(crate) fn issuer(&self) -> Result<&str, AuthError> {
        match &self.registered.iss {
            Some(Captured::Str(iss)) => Ok(iss),
            other => Err(issuer_refusal(other.as_ref())),
        }
    }
}

/// The refusal of an `iss` that is not a string: missing, or another JSON type.
fn issuer_refusal(iss: Option<&Captured<'_>>) -> AuthError {
    match iss {
        None => AuthError::invalid_token("Missing 'iss' claim"),
        Some(_) => AuthError::invalid_token("'iss' claim must be a string"),
    }
}

/// The claims the checks and accessors read, as captured from the payload; every other claim
/// is only in the text.
#[derive(Debug, Default)]
struct Registered<'de> {
    iss: Option<Captured<'de>>,
    aud: Option<Captured<'de>>,
    exp: Option<Captured<'de>>,
    nbf: Option<Captured<'de>>,
    iat: Option<Captured<'de>>,
    sub: Option<Captured<'de>>,
    client_id: Option<Captured<'de>>,
    azp: Option<Captured<'de>>,
    jti: Option<Captured<'de>>,
    scope: Option<Captured<'de>>,
    permissions: Option<Captured<'de>>,
    /// Only whether it is there: a bearer request must know if the token is bound (RFC 9449
    /// §7.2) without building the whole claims tree.
    cnf: Option<Captured<'de>>,
}

impl<'de> Members<'de> for Registered<'de> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Captured<'de>>> {
        Some(match name {
            "iss" => &mut self.iss,
            "aud" => &mut self.aud,
            "exp" => &mut self.exp,
            "nbf" => &mut self.nbf,
            "iat" => &mut self.iat,
            "sub" => &mut self.sub,
            "client_id" => &mut self.client_id,
            "azp" => &mut self.azp,
            "jti" => &mut self.jti,
            "scope" => &mut self.scope,
            "permissions" => &mut self.permissions,
            "cnf" => &mut self.cnf,
            _ => return None,
        })
    }
}

impl Registered<'_> {
    fn into_owned(self) -> Registered<'static> {
        let owned = |claim: Option<Captured<'_>>| claim.map(Captured::into_owned);
        Registered {
            iss: owned(self.iss),
            aud: owned(self.aud),
            exp: owned(self.exp),
            nbf: owned(self.nbf),
            iat: owned(self.iat),
            sub: owned(self.sub),
            client_id: owned(self.client_id),
            azp: owned(self.azp),
            jti: owned(self.jti),
            scope: owned(self.scope),
            permissions: owned(self.permissions),
            cnf: owned(self.cnf),
        }
    }
}

/// The claims of a verified access token. Cheap to clone; reaches handlers as an extractor.
///
/// Verification reads only the registered claims it checks; the full claims tree
/// ([`get`](Claims::get), [`all`](Claims::all)) is built from the payload the first time it is
/// asked for, so a request whose handler does not read other claims never pays for it.
#[derive(Debug, Clone)]
pub struct Claims(Arc<ClaimsData>);

#[derive(Debug)]
struct ClaimsData {
    /// The payload's text, from which `all` is built.
    text: String,
    all: OnceLock<Map<String, Value>>,
    issuer: String,
    subject: Option<String>,
    client_id: Option<String>,
    audiences: StringList,
    times: TimeClaims,
    scope: Option<Scope>,
    permissions: Option<StringList>,
    /// Whether the token has a `cnf` (confirmation) claim.
    bound: bool,
    /// `audiences`, `scopes` and `permissions` as the accessors' slices, made when first asked.
    slices: [OnceLock<Vec<String>>; 3],
    /// The heap these claims hold, or will once every lazy part is built.
    heap_bytes: usize,
}

/// The granted scopes: RFC 8693's space-separated string, or an array of strings.
#[derive(Debug)]
enum Scope {
    Words(String),
    List(StringList),
}

impl Scope {
    /// The granted scopes, in order; empty words of the string form are not scopes.
    fn iter(&self) -> impl Iterator<Item = &str> {
        let (words, list) = match self {
            Scope::Words(words) => (Some(words), None),
            Scope::List(list) => (None, Some(list)),
        };
        let words = words
            .into_iter()
            .flat_map(|words| words.split(' ').filter(|word| !word.is_empty()));
        words.chain(list.into_iter().flat_map(StringList::iter))
    }
}

/// Whether `word` is one of the space-separated words of `words`. Found by substring search and
/// checked for spaces around, rather than by splitting: thousands of one-letter words cost no
/// more than their bytes.
fn has_word(words: &str, word: &str) -> bool {
    if word.is_empty() || word.contains(' ') {
        return false;
    }
    words.match_indices(word).any(|(at, _)| {
        let before = words[..at].bytes().next_back();
        let after = words[at + word.len()..].bytes().next();
        before.is_none_or(|byte| byte == b' ') && after.is_none_or(|byte| byte == b' ')
    })
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
        &self.0.issuer
    }
    /// `sub`: the user, or `<client_id>@clients` for a machine-to-machine token.
    pub fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }
    /// `aud`, always as a list.
    pub fn audiences(&self) -> &[String] {
        self.slice(0, || self.0.audiences.iter())
    }
    /// `exp`, in seconds since the epoch (rounded down).
    pub fn expires_at(&self) -> i64 {
        self.0.times.expires_at.floor() as i64
    }
    /// The client the token was issued to: RFC 9068's `client_id`, else Auth0's `azp`.
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }
    /// The granted scopes, from the space-separated `scope` string (or an array of strings).
    pub fn scopes(&self) -> &[String] {
        self.slice(1, || self.0.scope.iter().flat_map(Scope::iter))
    }
    /// Whether `scope` is one of the granted scopes (a whole word, not a prefix).
    pub fn has_scope(&self, scope: &str) -> bool {
        match &self.0.scope {
            None => false,
            Some(Scope::Words(words)) => has_word(words, scope),
            Some(Scope::List(list)) => list.iter().any(|granted| granted == scope),
        }
    }
    /// Whether the token has a `scope` claim at all.
    pub fn has_scope_claim(&self) -> bool {
        self.0.scope.is_some()
    }
    /// Auth0 RBAC's `permissions` array (empty when absent).
    pub fn permissions(&self) -> &[String] {
        self.slice(2, || self.0.permissions.iter().flat_map(StringList::iter))
    }
    /// Whether `permission` is in the `permissions` array.
    pub(crate) fn has_permission(&self, permission: &str) -> bool {
        self.0
            .permissions
            .as_ref()
            .is_some_and(|granted| granted.iter().any(|item| item == permission))
    }
    /// Whether the token has a `permissions` claim at all.
    pub(crate) fn has_permissions_claim(&self) -> bool {
        self.0.permissions.is_some()
    }
    /// Whether the token carries a `cnf` claim, i.e. is bound to a key or a certificate
    /// (RFC 7800): such a token must not be accepted as a plain bearer token.
    pub fn is_bound(&self) -> bool {
        self.0.bound
    }
    /// Any claim, by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.all().get(name)
    }
    /// Every claim.
    pub fn all(&self) -> &Map<String, Value> {
        self.0.all.get_or_init(|| {
            serde_json::from_str(&self.0.text)
                .expect("the payload was read by the same parser, stricter, when verified")
        })
    }

    /// The slice `index` of [`ClaimsData::slices`], made from `items` when first asked for.
    fn slice<'a, I: Iterator<Item = &'a str>>(
        &'a self,
        index: usize,
        items: impl FnOnce() -> I,
    ) -> &'a [String] {
        self.0.slices[index].get_or_init(|| items().map(str::to_owned).collect())
    }

    /// The time claims, for re-checking a cached token.
    pub(crate) fn times(&self) -> &TimeClaims {
        &self.0.times
    }

    /// An estimate of the heap memory these claims hold, in bytes, counting the parts built
    /// only when asked for as built: what the token cache charges an entry for them. It errs on
    /// the high side (allocator rounding, map nodes).
    pub(crate) fn estimated_heap_bytes(&self) -> usize {
        self.0.heap_bytes
    }
}

/// Validates a verified payload against the rules and the expected issuer, at time `now`
/// (seconds since the epoch).
pub(crate) fn validate(
    payload: Payload,
    expected_issuer: &str,
    rules: &ClaimRules,
    now: i64,
) -> Result<Claims, AuthError> {
    let invalid = AuthError::invalid_token;
    let Registered {
        iss,
        aud,
        exp,
        nbf,
        iat,
        sub,
        client_id,
        azp,
        jti,
        scope,
        permissions,
        cnf,
    } = payload.registered;

    let issuer = match iss {
        Some(Captured::Str(iss)) if iss == expected_issuer => iss.into_owned(),
        Some(Captured::Str(_)) => return Err(invalid("Unexpected 'iss' value")),
        other => return Err(issuer_refusal(other.as_ref())),
    };

    let audiences = accepted_audiences(aud, rules)?;

    // Each time claim is type-checked, then checked, in turn: a token with several faults is
    // refused for the first, as before the checks were shared with the token cache.
    let expires_at = match numeric_date(exp, "exp")? {
        None => return Err(invalid("Missing 'exp' claim")),
        Some(exp) => exp,
    };
    check_expiry(expires_at, rules, now)?;
    let not_before = numeric_date(nbf, "nbf")?;
    check_not_before(not_before, rules, now)?;
    let issued_at = numeric_date(iat, "iat")?;
    check_issued_at(issued_at, rules, now)?;

    let [subject, client_id, jti] = [
        ("sub", sub, "Missing 'sub' claim"),
        ("client_id", client_id, "Missing 'client_id' claim"),
        ("jti", jti, "Missing 'jti' claim"),
    ]
    .map(|(name, claim, missing)| match claim {
        None if rules.strict => Err(invalid(missing)),
        None => Ok(None),
        Some(Captured::Str(text)) => Ok(Some(text.into_owned())),
        Some(_) => Err(AuthError::InvalidToken(
            format!("'{name}' claim must be a string").into(),
        )),
    });
    let (subject, client_id, _) = (subject?, client_id?, jti?);
    if rules.strict && issued_at.is_none() {
        return Err(invalid("Missing 'iat' claim"));
    }

    let scope = scope_claim(scope)?;
    let permissions = permissions_claim(permissions)?;

    let mut data = ClaimsData {
        issuer,
        subject,
        client_id: client_id.or_else(|| match azp {
            Some(Captured::Str(azp)) => Some(azp.into_owned()),
            _ => None,
        }),
        audiences,
        times: TimeClaims {
            expires_at,
            not_before,
            issued_at,
        },
        scope,
        permissions,
        bound: cnf.is_some(),
        slices: Default::default(),
        all: OnceLock::new(),
        heap_bytes: 0,
        text: payload.text,
    };
    data.heap_bytes = data.heap_estimate(payload.tree_bytes);
    Ok(Claims(Arc::new(data)))
}

impl ClaimsData {
    /// What [`Claims::estimated_heap_bytes`] says: everything held now, plus the tree and the
    /// accessors' slices as if built.
    fn heap_estimate(&self, tree_bytes: usize) -> usize {
        let own = |text: &Option<String>| text.as_ref().map_or(0, |text| STRING_COST + text.len());
        let lists = self.audiences.heap_bytes()
            + self.permissions.as_ref().map_or(0, StringList::heap_bytes)
            + match &self.scope {
                Some(Scope::Words(words)) => STRING_COST + words.len(),
                Some(Scope::List(list)) => list.heap_bytes(),
                None => 0,
            };
        let slices = self.audiences.vec_heap_bytes()
            + self
                .permissions
                .as_ref()
                .map_or(0, StringList::vec_heap_bytes)
            + match &self.scope {
                // At most one word per space and one more: counted, not split.
                Some(Scope::Words(words)) => {
                    (words.bytes().filter(|&byte| byte == b' ').count() + 1) * STRING_COST
                        + words.len()
                }
                Some(Scope::List(list)) => list.vec_heap_bytes(),
                None => 0,
            };
        std::mem::size_of::<ClaimsData>()
            + self.text.len()
            + tree_bytes
            + STRING_COST
            + self.issuer.len()
            + own(&self.subject)
            + own(&self.client_id)
            + lists
            + slices
    }
}

/// `scope`, when present: a space-separated string or an array of strings.
fn scope_claim(scope: Option<Captured<'static>>) -> Result<Option<Scope>, AuthError> {
    match scope {
        None => Ok(None),
        Some(Captured::Str(words)) => Ok(Some(Scope::Words(words.into_owned()))),
        Some(Captured::Strings(list)) => Ok(Some(Scope::List(list))),
        Some(_) => Err(AuthError::invalid_token(
            "'scope' claim must be a string or an array of strings",
        )),
    }
}

/// `permissions`, when present: an array of strings.
fn permissions_claim(
    permissions: Option<Captured<'static>>,
) -> Result<Option<StringList>, AuthError> {
    match permissions {
        None => Ok(None),
        Some(Captured::Strings(list)) => Ok(Some(list)),
        Some(_) => Err(AuthError::invalid_token(
            "'permissions' claim must be an array of strings",
        )),
    }
}

/// `aud` as a list of strings, at least one of which is an accepted audience.
fn accepted_audiences(
    aud: Option<Captured<'static>>,
    rules: &ClaimRules,
) -> Result<StringList, AuthError> {
    const WRONG_TYPE: &str = "'aud' claim must be a string or an array of strings";
    let audiences = match aud {
        None => return Err(AuthError::invalid_token("Missing 'aud' claim")),
        Some(Captured::Str(aud)) => StringList::one(&aud),
        Some(Captured::Strings(list)) => list,
        Some(_) => return Err(AuthError::invalid_token(WRONG_TYPE)),
    };
    if !audiences
        .iter()
        .any(|aud| rules.audiences.iter().any(|accepted| accepted == aud))
    {
        return Err(AuthError::invalid_token("Unexpected 'aud' value"));
    }
    Ok(audiences)
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
fn numeric_date(
    claim: Option<Captured<'static>>,
    name: &'static str,
) -> Result<Option<f64>, AuthError> {
    match claim {
        None => Ok(None),
        Some(Captured::Number(value)) if value.is_finite() => Ok(Some(value)),
        Some(_) => Err(AuthError::InvalidToken(
            format!("'{name}' claim must be a number").into(),
        )),
    }
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

    /// The claims as a verified payload would carry them, validated.
    fn validate(
        claims: Map<String, Value>,
        issuer: &str,
        rules: &ClaimRules,
        now: i64,
    ) -> Result<Claims, AuthError> {
        let payload = parse_payload(Value::Object(claims).to_string().as_bytes())?;
        super::validate(payload, issuer, rules, now)
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
    fn other_claims_are_read_when_asked_for_and_charged_as_if_read() {
        let plain = validate(base(), ISSUER, &rules(), NOW).expect("valid");
        let nested = json!({"a": [1, 2.5, "three", null], "b": {"c": true}});
        let rich = validate(with(json!({ "x": nested })), ISSUER, &rules(), NOW).expect("valid");

        assert_eq!(rich.get("x"), Some(&nested));
        assert_eq!(rich.all().len(), plain.all().len() + 1);
        assert_eq!(rich.all()["sub"], "c@clients");
        // Two objects, an array and six values besides the member itself.
        let tree = 6 * std::mem::size_of::<Value>();
        assert!(rich.estimated_heap_bytes() > plain.estimated_heap_bytes() + tree);
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
