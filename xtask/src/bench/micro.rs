//! The micro-benchmarks' figures, as `cargo bench -p api --bench verify` leaves them: each
//! benchmark's median from criterion's `estimates.json`, the ratios the bench measures in
//! alternating batches (`target/bench/paired.txt`: to bare RSA verification, save those
//! [`super::algorithms`] and [`super::dpop`] name other baselines for) and the DPoP replay
//! store's costs (`target/bench/replay.txt`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::report::round;
use super::{algorithms, dpop};

/// The benchmarks the report reads, `group/name` as criterion files them.
const BENCHMARKS: [&str; 19] = [
    "verify/bare_rsa",
    "verify/full",
    "verify/full_16k",
    "verify/cache_hit",
    "verify/bare_es256",
    "verify/full_es256",
    "verify/bare_eddsa",
    "verify/full_eddsa",
    "reject/expired",
    "reject/bad_signature",
    "reject/unknown_kid",
    "reject/malformed",
    "reject/header_members",
    "reject/payload_values",
    "sign/bare_rsa",
    "dpop/bare_es256",
    "dpop/proof_check",
    "request/bearer",
    "request/dpop",
];

/// The micro-benchmarks' results.
pub struct Micro {
    /// Criterion's medians of thread CPU time, in nanoseconds, by `group/name`.
    pub medians: BTreeMap<String, f64>,
    /// Ratios measured in alternating batches, by `group/name`: each to the baseline
    /// [`baseline_of`] names.
    pub paired: BTreeMap<String, f64>,
    /// The DPoP replay store's costs, by name (see [`super::dpop`]).
    pub replay: BTreeMap<String, f64>,
}

/// The baseline of every paired ratio not named in [`other_baselines`].
const BARE_RSA: &str = "bare RSA";

/// The paired ratios whose baseline is not bare RSA verification, with the baseline of each.
fn other_baselines() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    algorithms::PAIRED.iter().chain(&dpop::PAIRED)
}

/// The baseline the paired ratio `name` is to: bare RSA verification unless
/// [`super::algorithms`] or [`super::dpop`] names another.
pub fn baseline_of(name: &str) -> &'static str {
    other_baselines()
        .find(|(paired, _)| *paired == name)
        .map_or(BARE_RSA, |(_, baseline)| baseline)
}

/// Whether `name` is a paired ratio to bare RSA verification.
pub fn is_to_bare_rsa(name: &str) -> bool {
    baseline_of(name) == BARE_RSA
}

/// A paired ratio in `results.json`, with the baseline it is to.
#[derive(Serialize)]
pub struct Paired {
    ratio: f64,
    baseline: &'static str,
}

/// The paired ratios `names` (each with its baseline) for `results.json`, rounded to their
/// precision.
pub fn paired_results(
    micro: &Micro,
    names: &[(&'static str, &'static str)],
) -> BTreeMap<&'static str, Paired> {
    names
        .iter()
        .map(|&(name, baseline)| {
            let ratio = round(micro.paired[name], 4);
            (name, Paired { ratio, baseline })
        })
        .collect()
}

/// The results under `criterion` and in `paired.txt` and `replay.txt` in `out`. With
/// `skip_micro` and no criterion results at all, `None` and a notice: the report leaves the
/// micro section out.
pub fn read(criterion: &Path, out: &Path, skip_micro: bool) -> Result<Option<Micro>> {
    if skip_micro && !criterion.join(BENCHMARKS[0]).exists() {
        eprintln!(
            "bench: --skip-micro and no criterion results in {}: the micro-benchmarks and the targets that need them are left out (run once without --skip-micro)",
            criterion.display()
        );
        return Ok(None);
    }
    let mut medians = BTreeMap::new();
    for name in BENCHMARKS {
        let path = criterion.join(name).join("new/estimates.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: run without --skip-micro", path.display()))?;
        medians.insert(
            name.to_owned(),
            median_ns(&text).with_context(|| path.display().to_string())?,
        );
    }
    Ok(Some(Micro {
        medians,
        paired: read_figures(&out.join("paired.txt"))?,
        replay: read_figures(&out.join("replay.txt"))?,
    }))
}

/// A file of `name value` lines the bench wrote.
fn read_figures(path: &Path) -> Result<BTreeMap<String, f64>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: run without --skip-micro", path.display()))?;
    parse_figures(&text).with_context(|| path.display().to_string())
}

/// The part of criterion's `estimates.json` the report uses:
/// `{"mean":{…},"median":{"confidence_interval":{…},"point_estimate":X,…},…}`.
#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// The median's point estimate, in nanoseconds.
fn median_ns(estimates: &str) -> Result<f64> {
    let estimates: Estimates = serde_json::from_str(estimates)?;
    Ok(estimates.median.point_estimate)
}

/// `paired.txt` or `replay.txt`: `group/name value` per line.
fn parse_figures(text: &str) -> Result<BTreeMap<String, f64>> {
    text.lines()
        .map(|line| {
            let (name, value) = line.split_once(' ').context("not `name value`")?;
            let value = value
                .parse()
                .with_context(|| format!("{name}: {value:?} is not a number"))?;
            Ok((name.to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_read_from_criterions_estimates() {
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.0,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":19000.0,"upper_bound":21000.0},"point_estimate":20123.5,"standard_error":12.0},"std_dev":null}"#;

        assert!((median_ns(estimates).expect("parses") - 20123.5).abs() < 1e-9);
        assert!(median_ns(r#"{"mean":{"point_estimate":2.0}}"#).is_err());
    }

    #[test]
    fn paired_ratios_are_read_by_name() {
        let paired = parse_figures("verify/full 1.043\nreject/expired 0.012\n").expect("parses");

        assert_eq!(paired["verify/full"], 1.043);
        assert_eq!(paired.len(), 2);
        assert!(parse_figures("verify/full\n").is_err());
        assert!(parse_figures("verify/full fast\n").is_err());
    }

    #[test]
    fn each_paired_ratio_names_its_baseline() {
        assert_eq!(baseline_of("verify/full"), "bare RSA");
        assert_eq!(baseline_of("verify/full_es256"), "bare ES256");
        assert_eq!(baseline_of("verify/full_eddsa"), "bare EdDSA");
        assert_eq!(baseline_of("dpop/proof_check"), "bare ES256");
        assert_eq!(baseline_of("request/dpop"), "bearer request");
        assert!(is_to_bare_rsa("reject/expired"));
        assert!(is_to_bare_rsa("verify/full_16k"));
        assert!(!is_to_bare_rsa("verify/full_es256"));
        assert!(!is_to_bare_rsa("verify/full_eddsa"));
        assert!(!is_to_bare_rsa("request/dpop_over_bearer_and_proof_check"));
    }

    #[test]
    fn skipping_with_no_results_leaves_the_section_out() {
        let nowhere = Path::new("/nonexistent/criterion");

        assert!(
            read(nowhere, Path::new("/nonexistent"), true)
                .expect("a notice, not an error")
                .is_none()
        );
        assert!(read(nowhere, Path::new("/nonexistent"), false).is_err());
    }
}
