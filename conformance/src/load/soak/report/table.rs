//! The printed report: one row per phase, the key changes, the attacker's connections, the
//! replay store's outages, the machine's stalls, discovery and memory, then PASS/FAIL per check
//! and the `N passed, M failed` line.

use std::fmt::Write as _;

use super::Report;
use super::connections::AttackSummary;
use super::dpop::{OutageSummary, statuses_text};
use super::figures::{MEMORY_GROWTH_PERCENT, PhaseStats, mib};
use crate::load::soak::keys::{KeyEvent, seen_text};
use crate::load::soak::monitors::STALL_THRESHOLD;

/// The statuses with a column of their own; 0 is no answer.
const COLUMNS: [u16; 5] = [0, 200, 401, 403, 503];

impl Report {
    /// The printed report.
    pub fn table(&self) -> String {
        let mut out = String::new();
        self.write_phases(&mut out);
        self.write_key_changes(&mut out);
        self.write_attacks(&mut out);
        for outage in &self.outages {
            write_outage(&mut out, outage);
        }
        self.write_machine(&mut out);
        self.write_checks(&mut out);
        out
    }

    fn write_phases(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n{:<3} {:<20} {:>5} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>4} {:>7} {:>7} {:>9} {:>13} {:>11} {:>10} {:>9} {:>4} {:>9} {:>7}",
            "#",
            "phase",
            "s",
            "reqs",
            "200",
            "401",
            "403",
            "503",
            "other",
            "err",
            "p50 ms",
            "p99 ms",
            "valid p99",
            "valid ok/all",
            "dpop ok/all",
            "replay ref",
            "jwks/max",
            "disc",
            "new p99",
            "new err"
        );
        for (index, phase) in self.phases.iter().enumerate() {
            write_phase(out, index, phase);
        }
    }

    fn write_key_changes(&self, out: &mut String) {
        let _ = writeln!(out, "\nkey changes:");
        for event in &self.key_events {
            let _ = writeln!(out, "  {}", key_line(event));
        }
    }

    /// What the attacker did in each phase that held every slot, way by way.
    fn write_attacks(&self, out: &mut String) {
        for attack in &self.attacks {
            write_attack(out, attack);
        }
    }

    /// The machine's stalls, discovery and memory.
    fn write_machine(&self, out: &mut String) {
        let stalls = &self.stalls;
        let _ = writeln!(
            out,
            "machine stalls (a control over {} ms late): {} ({} by the driver's timer, {} by the issuer's /healthz), {:.2} s in all, longest {:.0} ms",
            STALL_THRESHOLD.as_millis(),
            stalls.count,
            stalls.by_driver_timer,
            stalls.by_issuer_healthz,
            stalls.seconds,
            stalls.longest_ms,
        );
        let _ = writeln!(
            out,
            "discovery: {} fetch(es) before the first phase, {} during the run",
            self.discovery.before_first_phase, self.discovery.during_run
        );
        let memory = &self.memory;
        let _ = writeln!(
            out,
            "memory: {} samples of VmRSS; median of the first third after warm-up {}, of the last third {} (bound: +{} KiB or +{MEMORY_GROWTH_PERCENT}%)",
            memory.samples.len(),
            mib(memory.first_third_median_kib),
            mib(memory.last_third_median_kib),
            memory.bound_kib,
        );
    }

    fn write_checks(&self, out: &mut String) {
        let _ = writeln!(out, "\nchecks:");
        for check in &self.checks {
            let verdict = if check.passed { "PASS" } else { "FAIL" };
            let _ = writeln!(out, "  {verdict} {}\n       {}", check.name, check.detail);
        }
        let failed = self.failed();
        let passed = self.checks.len() - failed;
        let _ = writeln!(out, "\n{passed} passed, {failed} failed");
    }
}

/// Phase `index`'s row.
fn write_phase(out: &mut String, index: usize, phase: &PhaseStats) {
    let other: u64 = phase
        .statuses
        .iter()
        .filter(|(status, _)| !COLUMNS.contains(status))
        .map(|(_, n)| n)
        .sum();
    let valid_ok = phase.valid_judged - phase.valid_failed;
    let _ = writeln!(
        out,
        "{index:<3} {:<20} {:>5.1} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>4} {:>7.2} {:>7.2} {:>9.2} {:>13} {:>11} {:>10} {:>9} {:>4} {:>9.2} {:>7}",
        phase.name,
        phase.seconds,
        phase.requests,
        phase.count(200),
        phase.count(401),
        phase.count(403),
        phase.count(503),
        other,
        phase.count(0),
        phase.p50_ms,
        phase.p99_ms,
        phase.valid_p99_ms,
        format!("{valid_ok}/{}", phase.valid_judged),
        format!(
            "{}/{}",
            phase.dpop_judged - phase.dpop_failed,
            phase.dpop_judged
        ),
        format!("{}/{}", phase.replays_refused, phase.replays_judged),
        format!("{}/{}", phase.jwks_fetches, phase.jwks_fetch_bound),
        phase.discovery_fetches,
        phase.new_connections.p99_ms,
        phase.new_connections.failures.len(),
    );
}

/// One attacker phase: a line per way of holding a slot.
fn write_attack(out: &mut String, attack: &AttackSummary) {
    let _ = writeln!(
        out,
        "\nattacker in phase {}: {} connections held on top of the load's",
        attack.phase, attack.attacker.slots
    );
    for way in &attack.attacker.ways {
        let _ = writeln!(
            out,
            "  {:<20} {:>4} slots: {:>5} opened, {:>5} closed by the server, {:>4} still open at the end, {:>4} refused; answers {} x 200, {} other",
            way.way,
            way.slots,
            way.opened,
            way.closed_by_server,
            way.open_at_end(),
            way.refused,
            way.answered_200,
            way.answered_other,
        );
    }
}

/// One outage of the replay store: the DPoP answers while it was down, the rest of the
/// traffic meanwhile, and the recovery.
fn write_outage(out: &mut String, outage: &OutageSummary) {
    let ms = |value: Option<f64>| value.map_or("never".to_owned(), |v| format!("{v:.0} ms"));
    let _ = writeln!(
        out,
        "\nreplay store (redis-server) killed in phase {}, down {:.1} s, restarted (PONG {:.0} ms after the start)",
        outage.phase, outage.down_s, outage.start_ms
    );
    let _ = writeln!(
        out,
        "  DPoP while down: {} ({} replay_store_unavailable with Retry-After); latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        statuses_text(&outage.dpop_statuses),
        outage.dpop_store_down,
        outage.dpop_p50_ms,
        outage.dpop_p99_ms,
        outage.dpop_max_ms,
    );
    let _ = writeln!(
        out,
        "  bearer and no-token requests while down: {}, {} answered otherwise; /api/public probes failed: {}",
        outage.others_sent,
        outage.others_wrong.len(),
        outage.probe_failures,
    );
    let _ = writeln!(
        out,
        "  after the restart: first DPoP 200 {}, last 503 {}; replays refused {}/{}",
        ms(outage.first_200_ms),
        ms(outage.last_503_ms),
        outage.replays_after_refused,
        outage.replays_after,
    );
}

/// A key change, as one line.
fn key_line(event: &KeyEvent) -> String {
    format!(
        "phase {}: {} {}: {} (bound {:.1} s; answers while waiting: {})",
        event.phase,
        event.change.name(),
        event.kid,
        event
            .latency
            .map_or("never".to_owned(), |l| format!("{:.3} s", l.as_secs_f64())),
        event.bound.as_secs_f64(),
        seen_text(&event.seen)
    )
}
