//! Two servers measured against each other under wrk in alternating rounds, the order flipping
//! each round, so the noise of a shared machine falls on both alike; each side's figures are
//! the medians of its rounds. Used by `--baseline` (the api at a revision against this one)
//! and by the HTTPS rows (the api over HTTPS against the same binary over plain HTTP).

use anyhow::Result;
use conformance::load::wrk::{Measurement, Scenario, Wrk};
use serde::Serialize;

use super::report::round;

use crate::process::Server;

/// One side's medians over the rounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Side {
    pub requests_per_second: f64,
    /// The 99th percentile latency, in microseconds.
    pub p99_us: f64,
    /// The server's CPU time per request, in microseconds.
    pub cpu_us_per_request: f64,
}

impl Side {
    fn of(measurements: &[Measurement]) -> Self {
        Side {
            requests_per_second: median(measurements.iter().map(|m| m.requests_per_second)),
            p99_us: median(measurements.iter().map(|m| m.p99_us as f64)),
            cpu_us_per_request: median(
                measurements
                    .iter()
                    .map(|m| m.server_cores / m.requests_per_second * 1e6),
            ),
        }
    }

    /// The figures to the precision they have, for `results.json`.
    pub fn rounded(&self) -> Self {
        Side {
            requests_per_second: round(self.requests_per_second, 1),
            p99_us: self.p99_us,
            cpu_us_per_request: round(self.cpu_us_per_request, 2),
        }
    }
}

/// `rounds` rounds of `scenario` on both servers, which goes first alternating; each side's
/// medians, in the order given.
pub fn rounds(
    wrk: &Wrk,
    scenario: &Scenario,
    rounds: usize,
    [first, second]: [&Server; 2],
) -> Result<[Side; 2]> {
    let mut firsts = Vec::with_capacity(rounds);
    let mut seconds = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut turns = [(first, &mut firsts), (second, &mut seconds)];
        if round % 2 == 1 {
            turns.reverse();
        }
        for (server, figures) in turns {
            figures.push(wrk.run(&super::target(server), scenario)?);
        }
    }
    Ok([Side::of(&firsts), Side::of(&seconds)])
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_resists_one_noisy_round() {
        assert_eq!(median([10_000.0, 3_000.0, 10_400.0].into_iter()), 10_000.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
    }

    #[test]
    fn a_sides_figures_are_the_medians_of_its_rounds() {
        let round = |requests_per_second, p99_us, server_cores| Measurement {
            requests_per_second,
            p50_us: 100,
            p99_us,
            server_cores,
        };

        let side = Side::of(&[
            round(10_000.0, 900, 1.0),
            round(2_000.0, 5_000, 0.5),
            round(12_000.0, 800, 1.5),
        ]);

        assert_eq!(side.requests_per_second, 10_000.0);
        assert_eq!(side.p99_us, 900.0);
        assert_eq!(side.cpu_us_per_request, 125.0);
    }
}
