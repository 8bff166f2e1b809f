//! Which requests the checks judge, and which failures the issuer's faults or the machine's
//! stalls excuse; then every request counted into the checks' tallies.

use std::time::Duration;

use crate::load::soak::Settings;
use crate::load::soak::keys::Keys;
use crate::load::soak::monitors::{PROBE_TIMEOUT, ProbeFailure, Stall};
use crate::load::soak::script::ScriptLog;
use crate::load::soak::traffic::Record;

/// Scheduling slack on the edges of fault windows and stalls.
const WINDOW_SLACK: Duration = Duration::from_millis(500);

/// Why a 503 is not the api's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Excuse {
    /// The issuer was faulted: no usable key could be had, and 503 is the documented answer.
    IssuerFaulted,
    /// The issuer was too slow to answer a fetch in time because the machine was: the api's
    /// fetch failed for real, and 503 is then its documented answer.
    MachineStalled,
}

/// The run's key registry, fault windows and stalls, which decide how a request is judged.
pub struct Judge<'a> {
    keys: &'a Keys,
    fault_windows: &'a [(u64, u64)],
    stalls: &'a [Stall],
    /// How long after a window a request that may need a fetch may still get the documented
    /// 503: the api's last fetch attempt started at the latest as the window ended; if it
    /// failed, the api answers 503 (with `Retry-After`) until the cooldown lets it try again,
    /// and a fetch may take a fetch timeout; plus [`WINDOW_SLACK`] for scheduling.
    window_tail_us: u64,
}

impl<'a> Judge<'a> {
    /// A judge for a run with the api's `settings`.
    pub fn new(
        settings: Settings,
        script: &'a ScriptLog,
        keys: &'a Keys,
        stalls: &'a [Stall],
    ) -> Self {
        Judge {
            keys,
            fault_windows: &script.fault_windows,
            stalls,
            window_tail_us: (settings.cooldown + settings.http_timeout + WINDOW_SLACK).as_micros()
                as u64,
        }
    }

    /// Whether `record` is a valid-token request whose key was known before it was sent and
    /// still published when it was answered (see [`crate::load::soak::keys`]): its answer
    /// must be the contract's, whatever the issuer does.
    pub fn judged(&self, record: &Record) -> bool {
        record.kind.is_valid()
            && record
                .key
                .and_then(|index| self.keys.get(index))
                .is_some_and(|key| key.covers(record.sent_us, record.done_us))
    }

    /// Whether `failure`, a probe, was sent in or near a machine stall.
    pub fn probe_in_stall(&self, failure: &ProbeFailure) -> bool {
        let sent = (failure.at_s * 1e6) as u64;
        self.in_stall(sent, sent + PROBE_TIMEOUT.as_micros() as u64)
    }

    /// Whether a machine stall overlaps the span from `start_us` to `end_us`, give or take
    /// [`WINDOW_SLACK`].
    pub fn in_stall(&self, start_us: u64, end_us: u64) -> bool {
        let slack = WINDOW_SLACK.as_micros() as u64;
        let (start, end) = (start_us.saturating_sub(slack), end_us + slack);
        self.stalls
            .iter()
            .any(|stall| stall.end_us >= start && stall.start_us <= end)
    }

    /// Whether `record` was in flight during the span, or within the window tail after it.
    fn overlaps(&self, record: &Record, start_us: u64, end_us: u64) -> bool {
        record.done_us >= start_us && record.sent_us <= end_us.saturating_add(self.window_tail_us)
    }

    /// What excuses a 503 to `record`, if anything: only a request that may need a fetch (an
    /// unknown `kid`, or a valid token not judged) can meet a failed one.
    fn excuse(&self, record: &Record) -> Option<Excuse> {
        let may_need_fetch =
            !self.judged(record) && (record.kind.is_unknown_kid() || record.kind.is_valid());
        if !may_need_fetch {
            None
        } else if self
            .fault_windows
            .iter()
            .any(|&(start, end)| self.overlaps(record, start, end))
        {
            Some(Excuse::IssuerFaulted)
        } else if self
            .stalls
            .iter()
            .any(|stall| self.overlaps(record, stall.start_us, stall.end_us))
        {
            Some(Excuse::MachineStalled)
        } else {
            None
        }
    }
}

/// Every request of the run, counted for the checks.
#[derive(Debug, Default)]
pub struct Tally {
    /// Valid-token requests judged (see [`Judge::judged`]).
    pub valid: Counted,
    /// Requests without a valid token; their failures are the ones answered below 500 (no
    /// answer included): 5xx are the server errors' tally.
    pub others: Counted,
    /// 5xx answers nothing excuses.
    pub server_errors: Vec<Record>,
    /// 503 answers while the issuer was faulted: the documented answer.
    pub documented_503: u64,
    /// 503 answers while the machine stalled.
    pub stall_503: u64,
}

impl Tally {
    /// Counts every one of `records`.
    pub fn new(records: &[Record], judge: &Judge<'_>) -> Self {
        let mut tally = Tally::default();
        for record in records {
            tally.add(record, judge);
        }
        tally
    }

    fn add(&mut self, record: &Record, judge: &Judge<'_>) {
        if record.status >= 500 {
            match (record.status, judge.excuse(record)) {
                (503, Some(Excuse::IssuerFaulted)) => self.documented_503 += 1,
                (503, Some(Excuse::MachineStalled)) => self.stall_503 += 1,
                _ => self.server_errors.push(*record),
            }
        }
        let wrong = record.status != record.kind.expected();
        if judge.judged(record) {
            self.valid.total += 1;
            if wrong {
                self.valid.failures.push(*record);
            }
        } else if !record.kind.is_valid() {
            self.others.total += 1;
            if record.status < 500 && wrong {
                self.others.failures.push(*record);
            }
        }
    }
}

/// Requests of one sort, and those of them that got another answer than the contract's.
#[derive(Debug, Default)]
pub struct Counted {
    /// How many there were.
    pub total: u64,
    /// The ones answered otherwise.
    pub failures: Vec<Record>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mock_issuer::KeySummary;

    use super::*;
    use crate::load::soak::traffic::Kind;

    const SETTINGS: Settings = Settings {
        cooldown: Duration::from_secs(2),
        cache_max_age: Duration::from_secs(5),
        http_timeout: Duration::from_secs(1),
        max_connections: 128,
    };

    fn record(kind: Kind, key: Option<usize>, status: u16, sent_s: u64) -> Record {
        Record {
            phase: 0,
            kind,
            key,
            status,
            sent_us: sent_s * 1_000_000,
            done_us: sent_s * 1_000_000 + 1_000,
        }
    }

    #[test]
    fn a_valid_request_is_judged_only_while_its_key_is_known_and_published() {
        let mut keys = Keys::default();
        let key = keys.register("k1", "token");
        keys.mark_known(key, 5_000_000);
        let rotated = KeySummary {
            current: "k2".to_owned(),
            next: "k3".to_owned(),
            previous: None,
        };
        keys.retire_unpublished(&rotated, 50_000_000);
        let script = ScriptLog::default();
        let judge = Judge::new(SETTINGS, &script, &keys, &[]);
        let valid = |sent_s| record(Kind::PrivateScoped, Some(key), 200, sent_s);

        assert!(!judge.judged(&valid(1)), "before the key was known");
        assert!(judge.judged(&valid(10)));
        assert!(!judge.judged(&valid(60)), "after the key was retired");
    }

    #[test]
    fn a_503_to_an_unknown_kid_is_excused_only_while_the_issuer_is_faulted() {
        let script = ScriptLog {
            fault_windows: vec![(10_000_000, 20_000_000)],
            ..ScriptLog::default()
        };
        let keys = Keys::default();
        let judge = Judge::new(SETTINGS, &script, &keys, &[]);
        let unknown_kid = |status, sent_s| record(Kind::PrivateUnknownKid, None, status, sent_s);

        let tally = Tally::new(
            &[
                unknown_kid(503, 15),
                // Within a cooldown of the window's end: the api's last fetch failed.
                unknown_kid(503, 22),
                unknown_kid(503, 30),
                unknown_kid(401, 30),
            ],
            &judge,
        );

        assert_eq!(tally.documented_503, 2);
        assert_eq!(tally.server_errors.len(), 1);
        assert_eq!(tally.server_errors[0].sent_us, 30_000_000);
        assert_eq!(tally.others.total, 4);
        assert!(tally.others.failures.is_empty());
    }
}
