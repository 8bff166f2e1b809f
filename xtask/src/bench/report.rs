//! The bench's report: the targets (ratios and the bounds they must meet), the table printed
//! and written to `target/bench/results.txt`, and the same figures as
//! `target/bench/results.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use conformance::load::wrk::{Measurement, Scenario};
use serde::Serialize;

use super::baseline::Comparison;
use super::https;
use super::micro::{self, Micro};
use super::tokens::POOL_SIZE;
use super::{CACHE_CAPACITY, Options, WRK_THREADS};
use super::{algorithms, dpop};

/// The bound of the verified-token cache's memory, in KiB: capacity units of 4 KiB each.
const CACHE_BOUND_KIB: u64 = CACHE_CAPACITY as u64 * 4;

/// Peak resident memory of the api (`VmHWM`), in KiB, with its token cache on and off.
#[derive(Debug, Clone, Copy)]
pub struct Peaks {
    pub cache_on: u64,
    pub cache_off: u64,
}

/// Everything one bench run measured.
pub struct Report {
    /// `None` when `--skip-micro` found no criterion results.
    pub micro: Option<Micro>,
    pub http: Vec<(Scenario, Measurement)>,
    pub peaks: Peaks,
    /// The api over HTTPS against plain HTTP.
    pub https: https::Comparison,
    pub options: Options,
    /// `Some` with `--baseline`.
    pub baseline: Option<Comparison>,
}

/// A target: the measured ratio and the bound it must meet.
pub struct Target {
    pub name: &'static str,
    pub ratio: f64,
    pub bound: f64,
    /// The ratio must be at least the bound, else at most.
    pub at_least: bool,
}

impl Target {
    pub fn holds(&self) -> bool {
        if self.at_least {
            self.ratio >= self.bound
        } else {
            self.ratio <= self.bound
        }
    }
}

impl Report {
    /// Prints the table and writes `results.txt` and `results.json` into `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        let table = self.table();
        print!("{table}");
        std::fs::write(out.join("results.json"), self.json()?)?;
        std::fs::write(out.join("results.txt"), &table)?;
        eprintln!("bench: wrote target/bench/results.json and target/bench/results.txt");
        Ok(())
    }

    /// The figures of the scenario called `name`.
    fn http(&self, name: &str) -> &Measurement {
        self.http
            .iter()
            .find(|(scenario, _)| scenario.name == name)
            .map(|(_, measurement)| measurement)
            .expect("every scenario ran")
    }

    /// Every target, in the table's order; those that need the micro-benchmarks only when
    /// they ran.
    fn targets(&self) -> Vec<Target> {
        let micro = self.micro.as_ref();
        let against = |rate: &BareRate| micro.map(|m| self.against_bare_rate(m, rate));
        let mut targets: Vec<Target> = micro.map(full_verify).into_iter().collect();
        targets.extend(micro.into_iter().flat_map(algorithms::targets));
        targets.extend(
            [
                Some(self.one_token()),
                against(&POOL_WITHOUT_CACHE),
                Some(self.cache_memory()),
                against(&TOKEN_ENDPOINT),
                micro.map(worst_rejection),
            ]
            .into_iter()
            .flatten(),
        );
        targets.extend(micro.into_iter().flat_map(hostile_refusals));
        targets.extend(https::targets(&self.https));
        targets.extend(micro.into_iter().flat_map(dpop::targets));
        targets
    }

    fn one_token(&self) -> Target {
        Target {
            name: "private, one token / public (req/s)",
            ratio: self.http("private, one token").requests_per_second
                / self.http("public").requests_per_second,
            bound: 0.9,
            at_least: true,
        }
    }

    fn cache_memory(&self) -> Target {
        Target {
            name: "peak RSS, cache on - cache off / cache bound (KiB)",
            ratio: (self.peaks.cache_on as f64 - self.peaks.cache_off as f64)
                / CACHE_BOUND_KIB as f64,
            bound: 1.0,
            at_least: false,
        }
    }

    /// How close a scenario comes to the server's cores doing nothing but the bare RSA
    /// operation for each request: at least 0.8 of that rate.
    fn against_bare_rate(&self, micro: &Micro, rate: &BareRate) -> Target {
        let bare_per_core = 1e9 / micro.medians[rate.bare];
        let measured = self.http(rate.scenario);
        Target {
            name: rate.name,
            ratio: measured.requests_per_second / (bare_per_core * measured.server_cores),
            bound: 0.8,
            at_least: true,
        }
    }
}

/// A target that compares a scenario's rate per server core with a bare RSA operation's.
struct BareRate {
    name: &'static str,
    scenario: &'static str,
    /// The criterion benchmark of the bare operation.
    bare: &'static str,
}

/// Verification without the cache: nearly all of a request's cost should be the signature.
const POOL_WITHOUT_CACHE: BareRate = BareRate {
    name: "token pool, cache off / (bare verify rate x server cores)",
    scenario: "private, token pool, cache off",
    bare: "verify/bare_rsa",
};

/// The mock issuer's token endpoint: nearly all of a token's cost should be its signature.
const TOKEN_ENDPOINT: BareRate = BareRate {
    name: "token endpoint / (bare sign rate x issuer cores)",
    scenario: "mock issuer /oauth/token",
    bare: "sign/bare_rsa",
};

fn full_verify(micro: &Micro) -> Target {
    Target {
        name: "full verify / bare RSA verify (paired CPU time)",
        ratio: micro.paired["verify/full"],
        bound: 1.15,
        at_least: false,
    }
}

fn worst_rejection(micro: &Micro) -> Target {
    let worst = [
        "reject/expired",
        "reject/bad_signature",
        "reject/unknown_kid",
        "reject/malformed",
    ]
    .iter()
    .map(|name| micro.paired[*name])
    .fold(0.0, f64::max);
    Target {
        name: "worst rejection / full verify (paired CPU time)",
        ratio: worst / micro.paired["verify/full"],
        bound: 1.0,
        at_least: false,
    }
}

/// The refusals of the costliest hostile tokens of the largest size (16 KiB) against a valid
/// token's verification, both as paired ratios to bare RSA: no refusal may cost more than twice
/// a valid token.
fn hostile_refusals(micro: &Micro) -> [Target; 2] {
    let target = |name, refusal: &str, valid: &str| Target {
        name,
        ratio: micro.paired[refusal] / micro.paired[valid],
        bound: 2.0,
        at_least: false,
    };
    [
        // The token that once cost 100 times a valid one (a header of about 1,300 members),
        // refused before any key is used: against a typical token.
        target(
            "hostile 16 KiB header refusal / full verify (paired)",
            "reject/header_members",
            "verify/full",
        ),
        // A signed payload of as many values as fit, refused after the signature: against a
        // valid token of its size, which costs as much again as a typical one by its size
        // alone (base64, SHA-256).
        target(
            "hostile 16 KiB payload refusal / 16 KiB verify (paired)",
            "reject/payload_values",
            "verify/full_16k",
        ),
    ]
}

/// The table.
impl Report {
    fn table(&self) -> String {
        let mut out = String::new();
        self.micro_section(&mut out);
        if let Some(micro) = &self.micro {
            dpop::section(&mut out, micro);
        }
        self.http_section(&mut out);
        https::section(&mut out, &self.https);
        let _ = writeln!(
            out,
            "\nPeak memory of the api (VmHWM): cache on {} KiB, cache off {} KiB; cache bound {CACHE_BOUND_KIB} KiB",
            self.peaks.cache_on, self.peaks.cache_off,
        );
        let _ = writeln!(out, "\nTargets");
        for t in self.targets() {
            let _ = writeln!(
                out,
                "  {:<58} {:>6.3} {} {:<5} {}",
                t.name,
                t.ratio,
                if t.at_least { ">=" } else { "<=" },
                t.bound,
                if t.holds() { "held" } else { "MISSED" }
            );
        }
        if let Some(comparison) = &self.baseline {
            baseline_section(&mut out, comparison);
        }
        out
    }

    fn micro_section(&self, out: &mut String) {
        let Some(micro) = &self.micro else {
            let _ = writeln!(
                out,
                "\nMicro-benchmarks: not run (--skip-micro, and no criterion results on disk)"
            );
            return;
        };
        let _ = writeln!(
            out,
            "\nMicro-benchmarks (criterion medians of thread CPU time; x = paired ratio to the baseline named)"
        );
        for (name, ns) in &micro.medians {
            let paired = micro.paired.get(name).map_or(String::new(), |ratio| {
                format!("{ratio:>8.3} x {}", micro::baseline_of(name))
            });
            let _ = writeln!(out, "  {name:<24} {:>12} {paired}", format_ns(*ns));
        }
    }

    fn http_section(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\nHTTP on loopback (wrk, {WRK_THREADS} threads, {} connections, {} s; server cores = CPU time / wall time)",
            self.options.connections, self.options.seconds
        );
        let _ = writeln!(
            out,
            "  {:<34} {:>10} {:>9} {:>9} {:>7} {:>11}",
            "scenario", "req/s", "p50 µs", "p99 µs", "cores", "CPU µs/req"
        );
        for (scenario, m) in &self.http {
            let _ = writeln!(
                out,
                "  {:<34} {:>10.0} {:>9} {:>9} {:>7.2} {:>11.1}",
                scenario.name,
                m.requests_per_second,
                m.p50_us,
                m.p99_us,
                m.server_cores,
                m.server_cores / m.requests_per_second * 1e6
            );
        }
    }
}

/// `--baseline`'s section: each scenario's medians on both apis, req/s and the server's CPU
/// time per request, with current over baseline.
fn baseline_section(out: &mut String, comparison: &Comparison) {
    let _ = writeln!(
        out,
        "\nAgainst the api at {} ({}): medians of {} alternating rounds of {} s",
        comparison.rev,
        &comparison.commit[..comparison.commit.len().min(12)],
        comparison.rounds,
        comparison.seconds
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>9} {:>9} {:>7}   {:>12} {:>12} {:>7}",
        "scenario", "req/s was", "req/s now", "ratio", "CPU µs/req was", "now", "ratio"
    );
    for row in &comparison.scenarios {
        let _ = writeln!(
            out,
            "  {:<28} {:>9.0} {:>9.0} {:>7.3}   {:>12.1} {:>12.1} {:>7.3}",
            row.scenario,
            row.baseline_requests_per_second,
            row.current_requests_per_second,
            row.ratio,
            row.baseline_cpu_us_per_request,
            row.current_cpu_us_per_request,
            row.cpu_ratio
        );
    }
}

fn format_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// `results.json`.
#[derive(Serialize)]
struct Results<'a> {
    micro_median_ns: BTreeMap<&'a str, f64>,
    micro_paired_ratio_to_bare_rsa: BTreeMap<&'a str, f64>,
    /// ES256 and EdDSA verification's ratios, each to its own bare verification. Left out when
    /// the micro-benchmarks did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithms: Option<algorithms::Results>,
    /// Left out when the micro-benchmarks did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop: Option<dpop::Results>,
    http: Vec<HttpResult<'a>>,
    peak_memory_kib: PeakMemory,
    /// The api over HTTPS against plain HTTP: medians of alternating rounds, and the ratios.
    https: &'a https::Comparison,
    settings: Settings,
    targets: Vec<TargetResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a Comparison>,
}

#[derive(Serialize)]
struct HttpResult<'a> {
    scenario: &'a str,
    requests_per_second: f64,
    p50_us: u64,
    p99_us: u64,
    server_cores: f64,
}

#[derive(Serialize)]
struct PeakMemory {
    cache_on: u64,
    cache_off: u64,
    cache_bound: u64,
}

#[derive(Serialize)]
struct Settings {
    seconds: u64,
    connections: u32,
    wrk_threads: u32,
    pool_size: usize,
    cache_capacity: usize,
}

#[derive(Serialize)]
struct TargetResult {
    target: &'static str,
    ratio: f64,
    bound: f64,
    at_least: bool,
    held: bool,
}

/// The JSON.
impl Report {
    fn json(&self) -> Result<String> {
        let results = Results {
            micro_median_ns: rounded(self.micro.as_ref().map(|m| &m.medians), 1),
            micro_paired_ratio_to_bare_rsa: rounded(self.micro.as_ref().map(|m| &m.paired), 4)
                .into_iter()
                .filter(|(name, _)| micro::is_to_bare_rsa(name))
                .collect(),
            algorithms: self.micro.as_ref().map(algorithms::results),
            dpop: self.micro.as_ref().map(dpop::results),
            http: self.http.iter().map(http_result).collect(),
            peak_memory_kib: PeakMemory {
                cache_on: self.peaks.cache_on,
                cache_off: self.peaks.cache_off,
                cache_bound: CACHE_BOUND_KIB,
            },
            https: &self.https,
            settings: Settings {
                seconds: self.options.seconds,
                connections: self.options.connections,
                wrk_threads: WRK_THREADS,
                pool_size: POOL_SIZE,
                cache_capacity: CACHE_CAPACITY,
            },
            targets: self.targets().iter().map(target_result).collect(),
            baseline: self.baseline.as_ref(),
        };
        Ok(serde_json::to_string_pretty(&results)? + "\n")
    }
}

/// The figures of `map` (none when the micro-benchmarks did not run), rounded.
fn rounded(map: Option<&BTreeMap<String, f64>>, places: i32) -> BTreeMap<&str, f64> {
    map.into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str(), round(*value, places)))
        .collect()
}

fn http_result((scenario, m): &(Scenario, Measurement)) -> HttpResult<'_> {
    HttpResult {
        scenario: scenario.name,
        requests_per_second: round(m.requests_per_second, 1),
        p50_us: m.p50_us,
        p99_us: m.p99_us,
        server_cores: round(m.server_cores, 3),
    }
}

fn target_result(target: &Target) -> TargetResult {
    TargetResult {
        target: target.name,
        ratio: round(target.ratio, 4),
        bound: target.bound,
        at_least: target.at_least,
        held: target.holds(),
    }
}

/// Each target's name, ratio to 3 decimals and whether it holds, for tests to compare at once;
/// checks that every name fits the table's column.
#[cfg(test)]
pub fn judged(targets: &[Target]) -> Vec<(&'static str, f64, bool)> {
    assert!(
        targets.iter().all(|t| t.name.len() <= 58),
        "the table's column"
    );
    targets
        .iter()
        .map(|t| (t.name, round(t.ratio, 3), t.holds()))
        .collect()
}

/// `value` to `places` decimals, so the JSON shows the precision the figures have.
pub fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use conformance::load::wrk::Source;

    use super::*;

    fn measured(name: &'static str, requests_per_second: f64) -> (Scenario, Measurement) {
        let scenario = Scenario {
            name,
            method: "GET",
            path: "/",
            source: Source::None,
            expected_status: 200,
        };
        let measurement = Measurement {
            requests_per_second,
            p50_us: 100,
            p99_us: 900,
            server_cores: 1.25,
        };
        (scenario, measurement)
    }

    /// A run with `--skip-micro` and no criterion results: only the HTTP targets.
    fn report() -> Report {
        Report {
            micro: None,
            http: vec![
                measured("public", 20_000.0),
                measured("private, one token", 19_000.0),
            ],
            peaks: Peaks {
                cache_on: 30_000,
                cache_off: 20_000,
            },
            https: https::tests::comparison(),
            options: Options {
                seconds: 2,
                connections: 32,
                skip_micro: true,
                baseline: None,
            },
            baseline: None,
        }
    }

    #[test]
    fn without_micro_results_only_the_http_targets_are_judged() {
        let targets = report().targets();

        let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "private, one token / public (req/s)",
                "peak RSS, cache on - cache off / cache bound (KiB)",
                "HTTPS / HTTP, public, kept alive (req/s)",
                "HTTPS / HTTP, public, kept alive (p99)",
                "HTTPS / HTTP, private, one token, kept alive (req/s)",
                "HTTPS / HTTP, private, one token, kept alive (p99)",
                "HTTPS / HTTP, public, a new connection each (req/s)",
            ]
        );
        assert!(targets[0].holds(), "0.95 >= 0.9");
        assert!(targets[1].holds(), "10000 KiB of a 16384 KiB bound");
    }

    #[test]
    fn the_json_holds_every_scenario_and_target() {
        let json: serde_json::Value =
            serde_json::from_str(&report().json().expect("serializes")).expect("JSON");

        assert_eq!(json["http"][1]["scenario"], "private, one token");
        assert_eq!(json["http"][1]["requests_per_second"], 19_000.0);
        assert_eq!(json["peak_memory_kib"]["cache_bound"], 16_384);
        assert_eq!(json["settings"]["seconds"], 2);
        assert_eq!(json["targets"][0]["ratio"], 0.95);
        assert_eq!(json["targets"][0]["held"], true);
        assert_eq!(json["https"]["scenarios"][0]["ratio"], 0.85);
        assert_eq!(
            json["targets"][2]["target"],
            "HTTPS / HTTP, public, kept alive (req/s)"
        );
        assert!(json.get("baseline").is_none());
    }

    #[test]
    fn the_table_says_the_micro_section_was_not_run() {
        let table = report().table();

        assert!(table.contains("Micro-benchmarks: not run"));
        let public = table
            .lines()
            .find(|line| line.starts_with("  public "))
            .expect("a public row");
        assert_eq!(
            public.split_whitespace().collect::<Vec<_>>(),
            ["public", "20000", "100", "900", "1.25", "62.5"]
        );
        assert!(table.contains("held"));
    }

    #[test]
    fn hostile_tokens_are_judged_against_a_valid_token_of_their_size() {
        let paired = [
            ("verify/full", 1.2),
            ("verify/full_16k", 2.5),
            ("reject/header_members", 0.6),
            ("reject/payload_values", 5.5),
        ];
        let micro = Micro {
            medians: BTreeMap::new(),
            paired: paired
                .iter()
                .map(|(name, ratio)| ((*name).to_owned(), *ratio))
                .collect(),
            replay: BTreeMap::new(),
        };

        let [header, payload] = hostile_refusals(&micro);

        assert!((header.ratio - 0.5).abs() < 1e-9 && header.holds());
        assert!((payload.ratio - 2.2).abs() < 1e-9 && !payload.holds());
        assert!(
            header.name.len() <= 58 && payload.name.len() <= 58,
            "the table's column"
        );
    }

    #[test]
    fn the_micro_rows_name_the_baseline_of_each_ratio() {
        let micro = Micro {
            medians: [
                ("verify/full", 24_500.0),
                ("verify/full_es256", 61_000.0),
                ("verify/full_eddsa", 52_000.0),
            ]
            .into_iter()
            .map(|(name, ns)| (name.to_owned(), ns))
            .collect(),
            paired: [
                ("verify/full", 1.185),
                ("verify/full_es256", 1.061),
                ("verify/full_eddsa", 1.072),
            ]
            .into_iter()
            .map(|(name, ratio)| (name.to_owned(), ratio))
            .collect(),
            replay: BTreeMap::new(),
        };
        let mut table = String::new();
        Report {
            micro: Some(micro),
            ..report()
        }
        .micro_section(&mut table);

        let row = |name: &str| {
            let row = table
                .lines()
                .find(|line| line.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("no {name} row in {table}"));
            row.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(row("verify/full"), "24.50 µs 1.185 x bare RSA");
        assert_eq!(row("verify/full_es256"), "61.00 µs 1.061 x bare ES256");
        assert_eq!(row("verify/full_eddsa"), "52.00 µs 1.072 x bare EdDSA");
    }

    #[test]
    fn figures_are_rounded_to_their_precision() {
        assert_eq!(round(1.234_56, 2), 1.23);
        assert_eq!(round(19_000.04, 1), 19_000.0);
    }
}
