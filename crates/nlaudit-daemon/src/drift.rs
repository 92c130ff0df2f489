//! Keeping the rules in force: what the daemon does between records when it was given a
//! rule set (`nlaudit daemon --rules`).
//!
//! The daemon knows *when* to look; a [`Keeper`] (the CLI's, over `apply`'s planner and
//! executor) knows *how*. The daemon looks:
//!
//! - after a rule change the kernel reports (`CONFIG_CHANGE op=add_rule|remove_rule`, by
//!   another process or by the kernel itself when a watched directory goes), gathered for
//!   [`GATHER`] so that a burst (`auditctl -D`) is one repair; the sender comes from the
//!   event's SYSCALL record when the kernel wrote one, and changes made by this process are
//!   not drift;
//! - when the keeper's [`Keeper::poll`] says so (the rules directory changed, a path a
//!   skipped rule needs appeared);
//! - every `period` (a backstop), and at start.
//!
//! Each drift and each repair is a record of the daemon's own (`DAEMON_CONFIG op=rules-*`,
//! docs/daemon.md). It never fights forever: a rule re-added again and again after someone
//! removes it is held back with an exponential [`Backoff`].

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use nlaudit_proto::records::Record;
use std::fmt::Write as _;

use nlaudit_proto::MsgType;

use crate::daemon::Level;
use crate::state::{KeepingReport, RuleSetReport};

/// `AUDIT_CONFIG_CHANGE` (1305): the kernel's record of a configuration change.
pub const AUDIT_CONFIG_CHANGE: MsgType = MsgType(1305);
/// `AUDIT_SYSCALL` (1300): the syscall record of the event, which names the sender.
pub const AUDIT_SYSCALL: MsgType = MsgType(1300);

/// How long rule changes are gathered before one check (the SYSCALL record of the event
/// comes at the sender's syscall exit, after the CONFIG_CHANGE).
pub const GATHER: Duration = Duration::from_millis(60);
/// How long a check waits before trying again when another nlaudit holds the change lock.
pub const BUSY_RETRY: Duration = Duration::from_millis(300);
/// A rule re-added again within this time of its last re-add is being fought over.
pub const FIGHT_WINDOW: Duration = Duration::from_secs(60);
/// Re-adds within [`FIGHT_WINDOW`] of each other before the back-off starts.
pub const FIGHT_STRIKES: u32 = 3;
/// The longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// The default period of the backstop check.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(60);

/// A rule change the kernel reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleChange {
    /// The event's serial (to find its SYSCALL record).
    pub serial: u64,
    /// `op=`: `add_rule`, `remove_rule`.
    pub op: String,
    /// `key=`, when the rule had one.
    pub key: Option<String>,
    /// `auid=` of the sender (4294967295: none, as for the kernel's own removals).
    pub auid: Option<u32>,
    /// The sender's pid, from the SYSCALL record.
    pub pid: Option<u32>,
    /// The sender's command, from the SYSCALL record.
    pub comm: Option<String>,
}

/// The rule change a CONFIG_CHANGE record reports, if it is one (`op=add_rule`,
/// `remove_rule`; kernel/auditfilter.c `audit_log_rule_change`, audit_watch.c
/// `audit_watch_log_rule_change`).
pub fn rule_change(ty: MsgType, payload: &[u8]) -> Option<RuleChange> {
    if ty != AUDIT_CONFIG_CHANGE {
        return None;
    }
    let r = Record::parse(ty, payload).ok()?;
    let op = r.text_of("op")?.into_owned();
    if !matches!(op.as_str(), "add_rule" | "remove_rule") {
        return None;
    }
    let key = r.text_of("key").map(|k| k.into_owned()).filter(|k| k != "(null)");
    let auid = r.text_of("auid").and_then(|a| a.parse().ok());
    Some(RuleChange { serial: r.stamp.serial, op, key, auid, pid: None, comm: None })
}

/// The sender a SYSCALL record names: its serial, `pid=`, `comm=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    /// The event's serial.
    pub serial: u64,
    /// `pid=`.
    pub pid: Option<u32>,
    /// `comm=`, decoded.
    pub comm: Option<String>,
}

/// The sender of a SYSCALL record.
pub fn sender(ty: MsgType, payload: &[u8]) -> Option<Sender> {
    if ty != AUDIT_SYSCALL {
        return None;
    }
    let r = Record::parse(ty, payload).ok()?;
    Some(Sender {
        serial: r.stamp.serial,
        pid: r.text_of("pid").and_then(|p| p.parse().ok()),
        comm: r.text_of("comm").map(|c| c.into_owned()),
    })
}

/// Why a check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// The daemon started.
    Start,
    /// The kernel reported rule changes.
    KernelChange,
    /// The rule set's files changed.
    RulesChanged,
    /// A path a skipped rule needs appeared (or one of its parents).
    PathAppeared,
    /// The backstop period passed.
    Periodic,
    /// A check that could not run (busy, held back) runs now.
    Retry,
}

impl Trigger {
    /// Its name in the records (`trigger=`).
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Start => "start",
            Trigger::KernelChange => "config-change",
            Trigger::RulesChanged => "rules-changed",
            Trigger::PathAppeared => "path-appeared",
            Trigger::Periodic => "periodic",
            Trigger::Retry => "retry",
        }
    }
}

/// How a check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The kernel holds the set.
    InSync,
    /// It did not; now it does.
    Repaired,
    /// It does not, and cannot change (immutable mode, enabled 2): reported only.
    Locked,
    /// Another nlaudit holds the change lock: try again soon.
    Busy,
    /// It did not, and the repair is held back ([`Repair::ReportOnly`]: a fight).
    Held,
    /// The repair stopped at `what` (a rule the kernel refuses, a failure).
    Failed {
        /// The step (`+ -w /x -k k (FILE:LINE)`).
        what: String,
        /// Why.
        error: String,
    },
    /// Nothing could be checked (the kernel cannot be read, no good set).
    Error(String),
}

/// What a check found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// How it ended.
    pub verdict: Verdict,
    /// Rules of the set that were not in force (auditctl text).
    pub missing: Vec<String>,
    /// Rules in force that the set does not hold.
    pub extra: Vec<String>,
    /// Rules in force out of place (re-added).
    pub readded: usize,
    /// Settings that differed (`-b 8192`).
    pub settings: Vec<String>,
    /// How long the check and repair took.
    pub took: Duration,
    /// The set was read again and refused (`FILE:LINE: message`): the last good set is
    /// the one checked.
    pub set_error: Option<String>,
    /// Bumped by the keeper each time it takes a new set (refusals are told once per set).
    pub generation: u64,
    /// The rule changes the repair made, as the kernel will report them (`op`, `key`):
    /// their CONFIG_CHANGE records are not drift.
    pub echoes: Vec<Echo>,
}

/// A rule change this process made, which the kernel will report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Echo {
    /// `add_rule` or `remove_rule`.
    pub op: &'static str,
    /// The rule's key as the kernel writes it (keys joined by 0x01), if it has one.
    pub key: Option<String>,
}

/// How long a change made by this process may take to come back as a record.
pub const ECHO_WAIT: Duration = Duration::from_secs(5);

impl Check {
    /// A check that found `verdict` and nothing else.
    pub fn only(verdict: Verdict) -> Check {
        Check {
            verdict,
            missing: Vec::new(),
            extra: Vec::new(),
            readded: 0,
            settings: Vec::new(),
            took: Duration::ZERO,
            set_error: None,
            generation: 0,
            echoes: Vec::new(),
        }
    }

    /// Whether the kernel differed from the set.
    pub fn drifted(&self) -> bool {
        !(self.missing.is_empty()
            && self.extra.is_empty()
            && self.readded == 0
            && self.settings.is_empty())
    }
}

/// Whether a check may change the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repair {
    /// Compare and repair.
    Yes,
    /// Compare only (held back).
    ReportOnly,
}

/// What keeps the rules: compares the kernel with the set and repairs.
pub trait Keeper {
    /// A trigger from the file system (the set's files, paths skipped rules need), if one
    /// is due; never blocks.
    fn poll(&mut self, now: Instant) -> Option<Trigger>;
    /// Compares and (with [`Repair::Yes`]) repairs, gap-free.
    fn check(&mut self, trigger: Trigger, repair: Repair) -> Check;
    /// The set's part of the state report.
    fn state(&self) -> RuleSetReport;
}

/// The back-off of rules someone keeps removing.
#[derive(Debug, Default)]
pub struct Backoff {
    strikes: HashMap<String, Strike>,
}

#[derive(Clone, Copy, Debug)]
struct Strike {
    count: u32,
    last: Instant,
}

/// A rule being fought over: how often it was re-added and for how long repairs hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fight {
    /// The rules (auditctl text).
    pub rules: Vec<String>,
    /// Re-adds within [`FIGHT_WINDOW`] of each other.
    pub count: u32,
    /// How long the next repair waits.
    pub hold: Duration,
}

impl Backoff {
    /// Notes that `rules` were re-added at `now` after someone removed them; returns the
    /// fight when one of them has been re-added [`FIGHT_STRIKES`] times or more, each within
    /// [`FIGHT_WINDOW`] of the previous: the next repair waits 1 s, then 2, 4 ... up to
    /// [`MAX_BACKOFF`].
    pub fn readded(&mut self, rules: &[String], now: Instant) -> Option<Fight> {
        let mut worst = 0;
        let mut fought = Vec::new();
        for r in rules {
            let s = self.strikes.entry(r.clone()).or_insert(Strike { count: 0, last: now });
            let calm = now.saturating_duration_since(s.last) > FIGHT_WINDOW + self_hold(s.count);
            s.count = if calm { 1 } else { s.count + 1 };
            s.last = now;
            if s.count >= FIGHT_STRIKES {
                worst = worst.max(s.count);
                fought.push(r.clone());
            }
        }
        // Rules not seen for long are forgotten.
        self.strikes.retain(|_, s| {
            now.saturating_duration_since(s.last) <= FIGHT_WINDOW + self_hold(s.count)
        });
        (worst > 0).then(|| Fight { rules: fought, count: worst, hold: self_hold(worst) })
    }
}

/// The hold after `count` re-adds.
fn self_hold(count: u32) -> Duration {
    if count < FIGHT_STRIKES {
        return Duration::ZERO;
    }
    let shift = (count - FIGHT_STRIKES).min(20);
    Duration::from_secs(1u64 << shift).min(MAX_BACKOFF)
}

/// The daemon's side of keeping: when to check, and what to tell once.
#[derive(Debug)]
pub struct Schedule {
    /// The backstop period (`None`: off).
    pub period: Option<Duration>,
    next_periodic: Option<Instant>,
    /// Rule changes gathered, and when to check them.
    pending: Vec<RuleChange>,
    due: Option<(Instant, Trigger)>,
    /// Repairs held back until then (a fight).
    hold_until: Option<Instant>,
    backoff: Backoff,
    /// Changes this process made whose records are still to come.
    echoes: Vec<(Echo, Instant)>,
    /// Failures already told for the current set generation.
    told: HashSet<String>,
    generation: u64,
    /// Counters for the state report.
    pub counts: Counts,
}

/// What keeping has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Checks run.
    pub checks: u64,
    /// Drifts found.
    pub drifts: u64,
    /// Repairs made.
    pub repairs: u64,
    /// Repairs that failed.
    pub failures: u64,
}

impl Schedule {
    /// A schedule with the backstop every `period` (`None`: off), the first check now.
    pub fn new(period: Option<Duration>, now: Instant) -> Schedule {
        Schedule {
            period,
            next_periodic: period.map(|p| now + p),
            pending: Vec::new(),
            due: Some((now, Trigger::Start)),
            hold_until: None,
            backoff: Backoff::default(),
            echoes: Vec::new(),
            told: HashSet::new(),
            generation: 0,
            counts: Counts::default(),
        }
    }

    /// A rule change the kernel reported: checked after [`GATHER`].
    pub fn rule_change(&mut self, c: RuleChange, now: Instant) {
        self.echoes.retain(|(_, at)| now.saturating_duration_since(*at) <= ECHO_WAIT);
        // The daemon's task may have no audit context (no SYSCALL record names it): its own
        // changes are recognised by what it changed.
        if let Some(i) = self.echoes.iter().position(|(e, _)| e.op == c.op && e.key == c.key) {
            self.echoes.remove(i);
            return;
        }
        self.pending.push(c);
        self.soon(now + GATHER, Trigger::KernelChange);
    }

    /// Whether rule changes are waiting for their SYSCALL record.
    pub fn gathering(&self) -> bool {
        !self.pending.is_empty()
    }

    /// A SYSCALL record: the sender of a gathered change.
    pub fn sender(&mut self, s: &Sender) {
        for c in self.pending.iter_mut().filter(|c| c.serial == s.serial) {
            c.pid = s.pid;
            c.comm.clone_from(&s.comm);
        }
    }

    /// Asks for a check at `at` (the earlier one wins; a start or a file-system trigger
    /// keeps its name).
    pub fn soon(&mut self, at: Instant, trigger: Trigger) {
        self.due = match self.due {
            Some((t, tr)) if t <= at => Some((t, tr)),
            _ => Some((at, trigger)),
        };
    }

    /// How long the loop may wait for records before [`Schedule::take_due`] has something.
    pub fn wait(&self, now: Instant, most: Duration) -> Duration {
        let next = [self.due.map(|d| d.0), self.next_periodic].into_iter().flatten().min();
        next.map_or(most, |t| t.saturating_duration_since(now).min(most))
    }

    /// The check due now, with the changes gathered for it (changes made by `me` are not
    /// drift: they are dropped, and a check only for them does not run).
    pub fn take_due(&mut self, now: Instant, me: u32) -> Option<(Trigger, Vec<RuleChange>)> {
        if self.next_periodic.is_some_and(|t| t <= now) {
            self.next_periodic = self.period.map(|p| now + p);
            self.soon(now, Trigger::Periodic);
        }
        let (at, trigger) = self.due?;
        if at > now {
            return None;
        }
        self.due = None;
        let changes: Vec<RuleChange> =
            std::mem::take(&mut self.pending).into_iter().filter(|c| c.pid != Some(me)).collect();
        if trigger == Trigger::KernelChange && changes.is_empty() {
            return None;
        }
        Some((trigger, changes))
    }

    /// Whether repairs are held back now (a fight); when they are, a check for later is
    /// asked for.
    pub fn repair(&mut self, now: Instant) -> Repair {
        match self.hold_until {
            Some(t) if t > now => {
                self.soon(t, Trigger::Retry);
                Repair::ReportOnly
            }
            _ => Repair::Yes,
        }
    }

    /// Notes a check's outcome; returns the fight when its re-adds (after `trigger`) are
    /// fought over, and whether its failure is new (told once per set).
    pub fn checked(&mut self, trigger: Trigger, check: &Check, now: Instant) -> Noted {
        self.counts.checks += 1;
        if check.generation != self.generation {
            self.generation = check.generation;
            self.told.clear();
        }
        if check.drifted() {
            self.counts.drifts += 1;
        }
        self.echoes.extend(check.echoes.iter().map(|e| (e.clone(), now)));
        let tell_set = check.set_error.as_ref().is_some_and(|e| self.told.insert(e.clone()));
        let mut noted = Noted { fight: None, tell: true, tell_set };
        match &check.verdict {
            Verdict::Repaired => {
                self.counts.repairs += 1;
                if trigger == Trigger::KernelChange {
                    noted.fight = self.backoff.readded(&check.missing, now);
                    if let Some(f) = &noted.fight {
                        self.hold_until = Some(now + f.hold);
                    }
                }
            }
            Verdict::Busy => self.soon(now + BUSY_RETRY, Trigger::Retry),
            Verdict::Failed { what, error } => {
                self.counts.failures += 1;
                noted.tell = self.told.insert(format!("{what}\n{error}"));
            }
            Verdict::Locked | Verdict::Error(_) => {
                let sig = format!("{:?}{:?}{:?}", check.verdict, check.missing, check.extra);
                noted.tell = self.told.insert(sig);
            }
            _ => {}
        }
        noted
    }

    /// The schedule's part of the state report (the set's is the keeper's).
    pub fn state(&self, now: Instant) -> KeepingReport {
        KeepingReport {
            checks: self.counts.checks,
            drifts: self.counts.drifts,
            repairs: self.counts.repairs,
            repairs_failed: self.counts.failures,
            check_period_secs: self.period.map(|p| p.as_secs()),
            held_back_secs: self
                .hold_until
                .filter(|t| *t > now)
                .map(|t| t.saturating_duration_since(now).as_secs()),
            set: None,
        }
    }
}

/// What [`Schedule::checked`] noted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Noted {
    /// The re-added rules are being fought over: repairs hold.
    pub fight: Option<Fight>,
    /// The outcome is news (a failure or a locked drift not told before for this set).
    pub tell: bool,
    /// The set's error is news (each refusal of the set's files is told once).
    pub tell_set: bool,
}

/// One thing to tell about a check.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Told {
    /// A record body for the daemon's log (`DAEMON_CONFIG`).
    Record(String),
    /// A notice for the operator.
    Notice(Level, String),
}

/// What to tell about a check, in order: the records of the daemon's log (`op=rules-set`,
/// `rules-drift`, `rules-repair`, `rules-fight`, `rules-check`; docs/daemon.md) and the
/// notices for the operator. `nlaudit apply --watch` prints the same.
pub fn told(trigger: Trigger, changes: &[RuleChange], check: &Check, noted: &Noted) -> Vec<Told> {
    let mut out = Vec::new();
    let tr = trigger.name();
    if let Some(e) = check.set_error.as_ref().filter(|_| noted.tell_set) {
        out.push(Told::Notice(
            Level::Error,
            format!("rule set not taken, the last good set stays: {e}"),
        ));
        let body = format!("op=rules-set trigger={tr} error={} res=failed", hex(e));
        out.push(Told::Record(body));
    }
    let quiet = matches!(check.verdict, Verdict::Locked | Verdict::Held) && !noted.tell;
    if check.drifted() && !quiet {
        let mut body = format!(
            "op=rules-drift trigger={tr} missing={} extra={} readded={} settings={}",
            check.missing.len(),
            check.extra.len(),
            check.readded,
            check.settings.len()
        );
        // The change to name: one whose sender is known, else the first.
        if let Some(c) = changes.iter().find(|c| c.pid.is_some()).or(changes.first()) {
            let comm = c.comm.as_deref().map_or_else(|| "?".to_string(), quoted_or_hex);
            let key = c.key.as_deref().map_or_else(|| "(null)".to_string(), quoted_or_hex);
            let _ = write!(
                body,
                " kernel_op={} key={key} auid={} pid={} comm={comm} changes={}",
                c.op,
                c.auid.map_or(-1, i64::from),
                c.pid.map_or(-1, i64::from),
                changes.len()
            );
        }
        let mut rules: Vec<String> = check.missing.iter().map(|r| format!("+ {r}")).collect();
        rules.extend(check.extra.iter().map(|r| format!("- {r}")));
        rules.extend(check.settings.iter().map(|r| format!("+ {r}")));
        let _ = write!(body, " rules={} res=success", hex_list(&rules, 4096));
        out.push(Told::Record(body));
        let named = changes.iter().find(|c| c.pid.is_some()).or(changes.first());
        let who = named.map_or(String::new(), |c| {
            format!(
                " ({} by pid {} {}, auid {})",
                c.op,
                c.pid.map_or_else(|| "?".to_string(), |p| p.to_string()),
                c.comm.as_deref().unwrap_or("?"),
                c.auid.map_or_else(|| "?".to_string(), |a| a.to_string())
            )
        });
        out.push(Told::Notice(
            Level::Warning,
            format!(
                "rules drifted{who}, found by {tr}: {} missing, {} not in the set, {} out of \
                 place, {} settings: {}",
                check.missing.len(),
                check.extra.len(),
                check.readded,
                check.settings.len(),
                rules.join("; ")
            ),
        ));
    }
    let ms = check.took.as_secs_f64() * 1000.0;
    let counts = format!(
        "added={} deleted={} readded={} settings={}",
        check.missing.len(),
        check.extra.len(),
        check.readded,
        check.settings.len()
    );
    match &check.verdict {
        Verdict::Repaired => {
            let body = format!("op=rules-repair trigger={tr} {counts} ms={ms:.3} res=success");
            out.push(Told::Record(body));
            out.push(Told::Notice(Level::Info, format!("rules repaired in {ms:.1} ms ({counts})")));
        }
        Verdict::Locked if noted.tell => {
            let body = format!("op=rules-repair trigger={tr} locked=yes res=failed");
            out.push(Told::Record(body));
            out.push(Told::Notice(
                Level::Error,
                "the audit configuration is locked (enabled 2): the drift is only reported"
                    .to_string(),
            ));
        }
        Verdict::Held if noted.tell => {
            let body = format!("op=rules-repair trigger={tr} held=yes res=failed");
            out.push(Told::Record(body));
        }
        Verdict::Failed { what, error } if noted.tell => {
            let body = format!(
                "op=rules-repair trigger={tr} step={} error={} ms={ms:.3} res=failed",
                hex(what),
                hex(error)
            );
            out.push(Told::Record(body));
            out.push(Told::Notice(
                Level::Error,
                format!("rule repair stopped at {what}: {error} (told once for this set)"),
            ));
        }
        Verdict::Error(e) if noted.tell => {
            let body = format!("op=rules-check trigger={tr} error={} res=failed", hex(e));
            out.push(Told::Record(body));
            out.push(Told::Notice(Level::Error, format!("cannot check the rules: {e}")));
        }
        _ => {}
    }
    if let Some(f) = &noted.fight {
        let body = format!(
            "op=rules-fight rules={} count={} hold={} res=failed",
            hex_list(&f.rules, 4096),
            f.count,
            f.hold.as_secs()
        );
        out.push(Told::Record(body));
        out.push(Told::Notice(
            Level::Warning,
            format!(
                "another agent keeps removing {} (re-added {} times, each within {} s): the \
                 next repair waits {} s",
                f.rules.join("; "),
                f.count,
                FIGHT_WINDOW.as_secs(),
                f.hold.as_secs()
            ),
        ));
    }
    out
}

/// A value as auditd writes a string field: quoted, or hex when it holds a space, a quote
/// or a control character (auparse decodes both).
fn quoted_or_hex(s: &str) -> String {
    if s.bytes().any(|b| b <= b' ' || b == b'"' || b >= 0x7f) {
        hex(s)
    } else {
        format!("\"{s}\"")
    }
}

/// Hex of a text, as the kernel writes untrusted strings (auparse decodes such fields).
pub fn hex(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes().fold(String::with_capacity(s.len() * 2), |mut h, b| {
        let _ = write!(h, "{b:02X}");
        h
    })
}

/// Texts joined by newlines and hex-encoded (at most `max` bytes of text).
pub fn hex_list(items: &[String], max: usize) -> String {
    let mut s = items.join("\n");
    if s.len() > max {
        let cut = (0..=max).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s.truncate(cut);
    }
    if s.is_empty() {
        "(none)".to_string()
    } else {
        hex(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_change_records_are_read() {
        let p = b"audit(1700000000.123:42): auid=1000 ses=3 subj=unconfined op=remove_rule \
                  key=\"nlaudit-x\" list=4 res=1";
        let c = rule_change(AUDIT_CONFIG_CHANGE, p).expect("a rule change");
        assert_eq!(c.serial, 42);
        assert_eq!(c.op, "remove_rule");
        assert_eq!(c.key.as_deref(), Some("nlaudit-x"));
        assert_eq!(c.auid, Some(1000));
        let p = b"audit(1.1:43): auid=0 ses=1 op=add_rule key=(null) list=4 res=1";
        assert_eq!(rule_change(AUDIT_CONFIG_CHANGE, p).and_then(|c| c.key), None);
        let p = b"audit(1.1:44): op=set audit_enabled=1 old=0 auid=0 ses=1 res=1";
        assert_eq!(rule_change(AUDIT_CONFIG_CHANGE, p), None);
        let p = b"audit(1.1:43): arch=c000003e syscall=44 success=yes exit=1 pid=77 \
                  auid=0 comm=\"auditctl\" exe=\"/usr/sbin/auditctl\"";
        let s = sender(AUDIT_SYSCALL, p).expect("a syscall");
        assert_eq!((s.serial, s.pid, s.comm.as_deref()), (43, Some(77), Some("auditctl")));
    }

    #[test]
    fn changes_are_gathered_and_our_own_are_not_drift() {
        let t0 = Instant::now();
        let mut s = Schedule::new(None, t0);
        assert_eq!(s.take_due(t0, 1).map(|d| d.0), Some(Trigger::Start));
        let ch = |serial| RuleChange { serial, op: "remove_rule".into(), ..RuleChange::default() };
        s.rule_change(ch(5), t0);
        s.rule_change(ch(6), t0);
        s.sender(&Sender { serial: 6, pid: Some(1), comm: Some("nlaudit".into()) });
        assert_eq!(s.take_due(t0, 1), None, "gathered first");
        assert_eq!(s.wait(t0, Duration::from_secs(1)), GATHER);
        let (tr, changes) = s.take_due(t0 + GATHER, 1).expect("due");
        assert_eq!(tr, Trigger::KernelChange);
        assert_eq!(changes, [ch(5)], "the change made by pid 1 (us) is dropped");
        s.rule_change(ch(7), t0);
        s.sender(&Sender { serial: 7, pid: Some(1), comm: None });
        assert_eq!(s.take_due(t0 + GATHER, 1), None, "only our own: no check");
    }

    #[test]
    fn periodic_checks_come_every_period() {
        let t0 = Instant::now();
        let p = Duration::from_secs(2);
        let mut s = Schedule::new(Some(p), t0);
        assert!(s.take_due(t0, 1).is_some());
        assert_eq!(s.take_due(t0 + Duration::from_secs(1), 1), None);
        assert_eq!(s.take_due(t0 + p, 1).map(|d| d.0), Some(Trigger::Periodic));
        assert_eq!(s.take_due(t0 + p, 1), None);
    }

    fn repaired(missing: &[&str]) -> Check {
        Check {
            missing: missing.iter().map(|s| s.to_string()).collect(),
            ..Check::only(Verdict::Repaired)
        }
    }

    /// A rule removed again and again: re-added twice at once, then held back 1, 2, 4 s...
    /// and a calm rule starts over.
    #[test]
    fn a_fought_rule_is_backed_off_exponentially() {
        let t0 = Instant::now();
        let mut s = Schedule::new(None, t0);
        let c = repaired(&["-w /etc/x -p wa -k k"]);
        let mut t = t0;
        let mut holds = Vec::new();
        for _ in 0..6 {
            assert_eq!(s.repair(t), Repair::Yes);
            let n = s.checked(Trigger::KernelChange, &c, t);
            let hold = n.fight.map_or(Duration::ZERO, |f| f.hold);
            holds.push(hold.as_secs());
            t += hold;
            assert_eq!(s.repair(t - Duration::from_millis(1).min(hold)), {
                if hold.is_zero() {
                    Repair::Yes
                } else {
                    Repair::ReportOnly
                }
            });
        }
        assert_eq!(holds, [0, 0, 1, 2, 4, 8]);
        // A periodic repair of the same rule is not a fight.
        assert_eq!(s.checked(Trigger::Periodic, &c, t).fight, None);
        // Long calm: it starts over.
        let later = t + FIGHT_WINDOW + MAX_BACKOFF + Duration::from_secs(1);
        assert_eq!(s.checked(Trigger::KernelChange, &c, later).fight, None);
    }

    /// A refusal is told once per set: again only after the set changed.
    #[test]
    fn a_refusal_is_told_once_per_set() {
        let t0 = Instant::now();
        let mut s = Schedule::new(None, t0);
        let failed = |generation| Check {
            generation,
            ..Check::only(Verdict::Failed { what: "+ -w /x".into(), error: "ENOENT".into() })
        };
        assert!(s.checked(Trigger::Start, &failed(1), t0).tell);
        assert!(!s.checked(Trigger::Periodic, &failed(1), t0).tell);
        assert!(!s.checked(Trigger::KernelChange, &failed(1), t0).tell);
        assert!(s.checked(Trigger::RulesChanged, &failed(2), t0).tell);
        let bad = Check { set_error: Some("x.rules:2: bad".into()), ..failed(2) };
        assert!(s.checked(Trigger::Periodic, &bad, t0).tell_set);
        assert!(!s.checked(Trigger::Periodic, &bad, t0).tell_set, "told once");
        let locked = Check { missing: vec!["-w /y".into()], ..Check::only(Verdict::Locked) };
        assert!(s.checked(Trigger::Periodic, &locked, t0).tell);
        assert!(!s.checked(Trigger::Periodic, &locked, t0).tell);
    }

    #[test]
    fn hex_lists() {
        assert_eq!(hex("-w a"), "2D772061");
        assert_eq!(hex_list(&[], 10), "(none)");
        assert_eq!(hex_list(&["ab".into(), "cd".into()], 4), hex("ab\nc"));
    }
}
