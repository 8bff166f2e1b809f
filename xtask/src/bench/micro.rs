//! The micro-benchmarks' figures, as `cargo bench -p api --bench verify` leaves them: each
//! benchmark's median from criterion's `estimates.json`, and the ratios to bare RSA
//! verification the bench measures in alternating batches (`target/bench/paired.txt`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Deserialize;

/// The benchmarks the report reads, `group/name` as criterion files them.
const BENCHMARKS: [&str; 11] = [
    "verify/bare_rsa",
    "verify/full",
    "verify/full_16k",
    "verify/cache_hit",
    "reject/expired",
    "reject/bad_signature",
    "reject/unknown_kid",
    "reject/malformed",
    "reject/header_members",
    "reject/payload_values",
    "sign/bare_rsa",
];

/// The micro-benchmarks' results.
pub struct Micro {
    /// Criterion's medians of thread CPU time, in nanoseconds, by `group/name`.
    pub medians: BTreeMap<String, f64>,
    /// Ratios to bare RSA verification measured in alternating batches, by `group/name`.
    pub paired: BTreeMap<String, f64>,
}

/// The results under `criterion` and in `paired`. With `skip_micro` and no criterion results
/// at all, `None` and a notice: the report leaves the micro section out.
pub fn read(criterion: &Path, paired: &Path, skip_micro: bool) -> Result<Option<Micro>> {
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
    let text = std::fs::read_to_string(paired)
        .with_context(|| format!("{}: run without --skip-micro", paired.display()))?;
    let paired = parse_paired(&text).with_context(|| paired.display().to_string())?;
    Ok(Some(Micro { medians, paired }))
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

/// `paired.txt`: `group/name ratio` per line.
fn parse_paired(text: &str) -> Result<BTreeMap<String, f64>> {
    text.lines()
        .map(|line| {
            let (name, ratio) = line.split_once(' ').context("not `name ratio`")?;
            let ratio = ratio
                .parse()
                .with_context(|| format!("{name}: {ratio:?} is not a number"))?;
            Ok((name.to_owned(), ratio))
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
        let paired = parse_paired("verify/full 1.043\nreject/expired 0.012\n").expect("parses");

        assert_eq!(paired["verify/full"], 1.043);
        assert_eq!(paired.len(), 2);
        assert!(parse_paired("verify/full\n").is_err());
        assert!(parse_paired("verify/full fast\n").is_err());
    }

    #[test]
    fn skipping_with_no_results_leaves_the_section_out() {
        let nowhere = Path::new("/nonexistent/criterion");

        assert!(
            read(nowhere, Path::new("/nonexistent/paired.txt"), true)
                .expect("a notice, not an error")
                .is_none()
        );
        assert!(read(nowhere, Path::new("/nonexistent/paired.txt"), false).is_err());
    }
}
