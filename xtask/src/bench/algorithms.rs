//! ES256 and EdDSA verification in the bench's report: their targets, beside RS256's, and
//! their paired ratios in `results.json`.
//!
//! The bench (`api/benches/verify/algorithms.rs`) measures, in the same run as RS256's
//! `verify/full`, the full verification of a valid token signed with a P-256 key
//! (`verify/full_es256`) and with an Ed25519 key (`verify/full_eddsa`), the token cache off,
//! each paired with a bare aws-lc verification of the same token's signature, its key parsed
//! once (`verify/bare_es256`, `verify/bare_eddsa`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::micro::{Micro, Paired, paired_results};
use super::report::Target;

/// A valid ES256 token's full verification, paired with a bare ES256 verification.
const FULL_ES256: &str = "verify/full_es256";

/// A valid EdDSA token's full verification, paired with a bare Ed25519 verification.
const FULL_EDDSA: &str = "verify/full_eddsa";

/// The paired ratios that are these algorithms', and the baseline each is a ratio to.
pub const PAIRED: [(&str, &str); 2] = [(FULL_ES256, "bare ES256"), (FULL_EDDSA, "bare EdDSA")];

/// The targets on ES256 and EdDSA verification.
pub fn targets(micro: &Micro) -> [Target; 2] {
    // What a full verification adds to its signature check is the same work whatever the
    // algorithm: the header and the payload base64url-decoded and read as strict JSON in one
    // pass, the key found by `kid` among the cached keys (parsed once, when the JWKS was
    // fetched, not per token) and the claims checked: 3 to 4 µs of CPU. An ES256 check costs
    // about 3 times an RSA-2048 one and an Ed25519 check 2.3 times, so that work is a smaller
    // share of them: 1.05 (ES256) and 1.06 (EdDSA) measured on a loaded 2-core machine,
    // against 1.16 for RS256. The bound is RS256's, 1.15, one rule for every algorithm: it
    // leaves room for the ratios' noise (about ±0.03) and is missed when the work around the
    // signature grows to about 2.5 times what it is now.
    let target = |name, paired: &str| Target {
        name,
        ratio: micro.paired[paired],
        bound: 1.15,
        at_least: false,
    };
    [
        target(
            "full ES256 verify / bare ES256 verify (paired CPU time)",
            FULL_ES256,
        ),
        target(
            "full EdDSA verify / bare EdDSA verify (paired CPU time)",
            FULL_EDDSA,
        ),
    ]
}

/// The ES256 and EdDSA figures in `results.json`.
#[derive(Serialize)]
pub struct Results {
    paired: BTreeMap<&'static str, Paired>,
}

/// The ES256 and EdDSA figures for `results.json`, rounded to their precision.
pub fn results(micro: &Micro) -> Results {
    Results {
        paired: paired_results(micro, &PAIRED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::judged;

    fn micro() -> Micro {
        Micro {
            medians: BTreeMap::new(),
            paired: [
                ("verify/full", 1.18),
                (FULL_ES256, 1.06),
                (FULL_EDDSA, 1.16),
            ]
            .into_iter()
            .map(|(name, ratio)| (name.to_owned(), ratio))
            .collect(),
            replay: BTreeMap::new(),
        }
    }

    #[test]
    fn each_algorithm_is_judged_on_its_own_ratio() {
        assert_eq!(
            judged(&targets(&micro())),
            [
                (
                    "full ES256 verify / bare ES256 verify (paired CPU time)",
                    1.06,
                    true
                ),
                (
                    "full EdDSA verify / bare EdDSA verify (paired CPU time)",
                    1.16,
                    false
                ),
            ]
        );
    }

    #[test]
    fn the_json_names_each_ratios_baseline() {
        let json = serde_json::to_value(results(&micro())).expect("JSON");

        assert_eq!(json["paired"][FULL_ES256]["ratio"], 1.06);
        assert_eq!(json["paired"][FULL_ES256]["baseline"], "bare ES256");
        assert_eq!(json["paired"][FULL_EDDSA]["ratio"], 1.16);
        assert_eq!(json["paired"][FULL_EDDSA]["baseline"], "bare EdDSA");
        assert!(json["paired"].get("verify/full").is_none(), "RS256's");
    }
}
