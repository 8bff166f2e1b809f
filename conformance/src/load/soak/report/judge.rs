//! Which requests the checks judge, and which failures the issuer's faults, the replay store's
//! outages or the machine's stalls excuse; what a DPoP request's right answer is while the
//! replay store is up, down or coming back; then every request counted into the checks'
//! tallies.

use std::time::Duration;

use crate::load::soak::Settings;
use crate::load::soak::dpop::Refusal;
use crate::load::soak::keys::Keys;
use crate::load::soak::monitors::{PROBE_TIMEOUT, ProbeFailure, Stall};
use crate::load::soak::script::{Outage, ScriptLog};
use crate::load::soak::traffic::{Kind, Record};

/// Scheduling slack on the edges of fault windows and stalls.
const WINDOW_SLACK: Duration = Duration::from_millis(500);

/// How soon after a restarted replay store answers `PING` the api must be using it again: its
/// Redis client reconnects on the first command after a failure.
pub const RECOVERY_BOUND: Duration = Duration::from_secs(2);

/// Where a DPoP request stands against the replay store's outages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    /// Sent after the killed store was reaped and answered before the new one started: it
    /// must be refused 503 `replay_store_unavailable` with `Retry-After`.
    Down,
    /// In flight while the store was being killed, or between the restart and the end of the
    /// recovery bound: that 503 or the healthy answer.
    Changing,
    /// The store answers: the healthy answer.
    Up,
}

/// Why a 503 is not the api's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Excuse {
    /// The issuer was faulted: no usable key could be had, and 503 is the documented answer.
    IssuerFaulted,
    /// The issuer was too slow to answer a fetch in time because the machine was: the api's
    /// fetch failed for real, and 503 is then its documented answer. The same for the replay
    /// store's 500 ms deadline.
    MachineStalled,
    /// The replay store was down or coming back: `replay_store_unavailable` is the documented
    /// answer to a DPoP request.
    ReplayStoreDown,
}

/// The run's key registry, fault windows and stalls, which decide how a request is judged.
pub struct Judge<'a> {
    keys: &'a Keys,
    fault_windows: &'a [(u64, u64)],
    outages: &'a [Outage],
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
            outages: &script.outages,
            stalls,
            window_tail_us: (settings.cooldown + settings.http_timeout + WINDOW_SLACK).as_micros()
                as u64,
        }
    }

    /// Whether `record` is a valid-token request whose key was known before it was sent and
    /// still published when it was answered (see [`crate::load::soak::keys`]): its answer
    /// must be the contract's, whatever the issuer does.
    pub fn judged(&self, record: &Record) -> bool {
        record.kind.is_valid() && self.key_covers(record)
    }

    /// Whether `record` is a DPoP request whose token's key the api holds (the rule of
    /// [`Judge::judged`]): its answer is judged by [`Judge::dpop_right`].
    pub fn dpop_judged(&self, record: &Record) -> bool {
        record.kind.is_dpop() && self.key_covers(record)
    }

    /// Whether `record`'s token is of a key known before it was sent and still published when
    /// it was answered.
    fn key_covers(&self, record: &Record) -> bool {
        record
            .key
            .and_then(|index| self.keys.get(index))
            .is_some_and(|key| key.covers(record.sent_us, record.done_us))
    }

    /// Where the DPoP request `record` stands against the replay store's outages.
    pub fn store_state(&self, record: &Record) -> StoreState {
        let recovery = RECOVERY_BOUND.as_micros() as u64;
        let (sent, done) = (record.sent_us, record.done_us);
        if self
            .outages
            .iter()
            .any(|o| sent >= o.down_us && done <= o.restart_us)
        {
            StoreState::Down
        } else if self
            .outages
            .iter()
            .any(|o| done >= o.kill_us && sent <= o.answering_us + recovery)
        {
            StoreState::Changing
        } else {
            StoreState::Up
        }
    }

    /// Whether the DPoP request `record` got its right answer: 200 with a fresh proof; 401
    /// `invalid_dpop_proof` for a replay ("already used"), or 200 when the store that accepted
    /// the original was lost since; 503 `replay_store_unavailable` with `Retry-After` while the
    /// store is down (and, while it changes or the machine stalls, either).
    pub fn dpop_right(&self, record: &Record) -> bool {
        let store_down = record.status == 503 && record.refusal == Refusal::StoreDown;
        let healthy = if record.kind == Kind::PrivateDpopReplay {
            (record.status == 401 && record.refusal == Refusal::Replayed)
                || (record.status == 200 && self.forgotten(record))
        } else {
            record.status == 200
        };
        match self.store_state(record) {
            StoreState::Down => store_down,
            StoreState::Changing => store_down || healthy,
            StoreState::Up => {
                healthy || (store_down && self.in_stall(record.sent_us, record.done_us))
            }
        }
    }

    /// Whether `record` replays a request sent before a kill of the replay store that came
    /// before the replay: the store that remembered the proof is gone.
    pub fn forgotten(&self, record: &Record) -> bool {
        record.replay_of_us.is_some_and(|original| {
            self.outages
                .iter()
                .any(|o| original <= o.kill_us && o.kill_us <= record.sent_us)
        })
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

    /// What excuses a 503 to `record`, if anything: the replay store's outage or a stall for
    /// a DPoP request told the store is unavailable; else only a request that may need a fetch
    /// (an unknown `kid`, or a valid or DPoP token not judged) can meet a failed one.
    fn excuse(&self, record: &Record) -> Option<Excuse> {
        if record.kind.is_dpop() && record.refusal == Refusal::StoreDown {
            return match self.store_state(record) {
                StoreState::Down | StoreState::Changing => Some(Excuse::ReplayStoreDown),
                StoreState::Up if self.in_stall(record.sent_us, record.done_us) => {
                    Some(Excuse::MachineStalled)
                }
                StoreState::Up => None,
            };
        }
        let may_need_fetch = !self.key_covers(record)
            && (record.kind.is_unknown_kid() || record.kind.is_valid() || record.kind.is_dpop());
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
    /// DPoP requests judged (see [`Judge::dpop_judged`] and [`Judge::dpop_right`]).
    pub dpop: Counted,
    /// Requests without a valid or DPoP token; their failures are the ones answered below 500
    /// (no answer included): 5xx are the server errors' tally.
    pub others: Counted,
    /// 5xx answers nothing excuses.
    pub server_errors: Vec<Record>,
    /// 503 answers while the issuer was faulted: the documented answer.
    pub documented_503: u64,
    /// 503 answers while the machine stalled.
    pub stall_503: u64,
    /// 503 `replay_store_unavailable` answers while the replay store was down or coming back.
    pub replay_store_503: u64,
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
                (503, Some(Excuse::ReplayStoreDown)) => self.replay_store_503 += 1,
                _ => self.server_errors.push(*record),
            }
        }
        if record.kind.is_dpop() {
            if judge.dpop_judged(record) {
                self.dpop.total += 1;
                if !judge.dpop_right(record) {
                    self.dpop.failures.push(*record);
                }
            }
            return;
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
            refusal: Refusal::None,
            replay_of_us: None,
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

    /// A store killed at 10 s, reaped at 10.1 s, restarted at 20 s, answering at 20.05 s.
    const OUTAGE: Outage = Outage {
        phase: 0,
        kill_us: 10_000_000,
        down_us: 10_100_000,
        restart_us: 20_000_000,
        answering_us: 20_050_000,
    };

    /// A registry with key 0 known from the start.
    fn known_key() -> Keys {
        let mut keys = Keys::default();
        let key = keys.register("k1", "token");
        keys.mark_known(key, 0);
        keys
    }

    /// A script log with [`OUTAGE`].
    fn with_outage() -> ScriptLog {
        ScriptLog {
            outages: vec![OUTAGE],
            ..ScriptLog::default()
        }
    }

    /// A DPoP request of a known key: `kind`, answered `status` with `refusal` at `sent_s`.
    fn dpop(kind: Kind, status: u16, refusal: Refusal, sent_s: u64) -> Record {
        Record {
            refusal,
            ..record(kind, Some(0), status, sent_s)
        }
    }

    #[test]
    fn while_the_store_is_down_only_its_503_is_right_and_after_it_only_the_healthy_answer() {
        let (keys, script) = (known_key(), with_outage());
        let judge = Judge::new(SETTINGS, &script, &keys, &[]);
        let fresh = |status, refusal, sent_s| dpop(Kind::ScopedDpop, status, refusal, sent_s);

        let tally = Tally::new(
            &[
                fresh(200, Refusal::None, 5),
                fresh(503, Refusal::StoreDown, 15),
                // Accepted unchecked while the store is down.
                fresh(200, Refusal::None, 16),
                // A 503 without the store's message or `Retry-After`.
                fresh(503, Refusal::Other, 17),
                // Within the recovery bound after the restart: either answer.
                fresh(503, Refusal::StoreDown, 21),
                fresh(200, Refusal::None, 21),
                // Past it: the store must be used again.
                fresh(503, Refusal::StoreDown, 30),
            ],
            &judge,
        );

        assert_eq!(tally.dpop.total, 7);
        let wrong: Vec<u64> = tally
            .dpop
            .failures
            .iter()
            .map(|r| r.sent_us / 1_000_000)
            .collect();
        assert_eq!(wrong, [16, 17, 30]);
        assert_eq!(tally.replay_store_503, 2);
        assert_eq!(tally.server_errors.len(), 2);
        assert!(tally.valid.total == 0 && tally.others.total == 0);
    }

    #[test]
    fn a_replay_must_be_refused_as_one_unless_the_store_that_saw_the_original_was_lost() {
        let (keys, script) = (known_key(), with_outage());
        let judge = Judge::new(SETTINGS, &script, &keys, &[]);
        let replay = |status, refusal, original_s: u64, sent_s| Record {
            replay_of_us: Some(original_s * 1_000_000),
            ..dpop(Kind::PrivateDpopReplay, status, refusal, sent_s)
        };

        let refused = replay(401, Refusal::Replayed, 4, 5);
        let accepted = replay(200, Refusal::None, 4, 5);
        let refused_otherwise = replay(401, Refusal::ProofRefused, 4, 5);
        let forgotten = replay(200, Refusal::None, 9, 30);
        let remembered = replay(200, Refusal::None, 25, 30);

        assert!(judge.dpop_right(&refused));
        assert!(!judge.dpop_right(&accepted));
        assert!(!judge.dpop_right(&refused_otherwise));
        assert!(judge.forgotten(&forgotten) && judge.dpop_right(&forgotten));
        assert!(!judge.forgotten(&remembered) && !judge.dpop_right(&remembered));
    }
}
