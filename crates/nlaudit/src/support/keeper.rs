//! The rule keeper of `nlaudit daemon --rules DIR|FILE`: `apply` run again whenever the
//! daemon's schedule says so (nlaudit_daemon::drift), on the last good set, with its `-D`
//! deciding, gap-free ([`crate::support::enforce`]); and the file-system triggers — the
//! set's files (inotify on the directory, or on a file's directory; debounced) and the
//! paths rules skipped for a missing directory need (inotify on the nearest existing
//! ancestor).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use nlaudit_daemon::drift::{Check, Echo, Keeper, Repair, Trigger, Verdict};
use nlaudit_daemon::state::RuleSetReport;
use nlaudit_proto::{Client, Error as ProtoError, NetlinkTransport, Op, Position, Transport};
use nlaudit_rules::plan::{self, DeleteReason, ErrorMode, ProblemKind, Step};
use nlaudit_rules::{parse_command, split_words, Directive, Machine};

use crate::cli::AwkChoice;
use crate::support::enforce::{self, Intent, Prepared, Ran};
use crate::support::progress::Show;
use crate::support::source::{self, Fragments, Source};
use crate::support::{lock, session, system};

/// How long the set's files must be quiet before they are read again (an editor writes,
/// renames, changes modes: one change).
pub const SETTLE: Duration = Duration::from_millis(250);

/// Opens a connection to the kernel for one check (the real socket, or a fake in tests).
pub type Connector<T> = Arc<dyn Fn() -> anyhow::Result<Client<T>> + Send + Sync>;

/// Keeps the rule set at `path` in force.
pub struct RulesKeeper<T: Transport = NetlinkTransport> {
    connect: Connector<T>,
    path: PathBuf,
    good: Option<Source>,
    generation: u64,
    inotify: Option<Inotify>,
    /// The directory watched for the set, and the file name when the set is one file.
    set_watch: Option<WatchDescriptor>,
    set_name: Option<OsString>,
    /// Watches on the nearest existing ancestors of missing paths.
    path_watches: Vec<(WatchDescriptor, PathBuf)>,
    set_changed_at: Option<Instant>,
    path_changed_at: Option<Instant>,
    /// For the state report.
    skipped: Vec<String>,
    expected: usize,
    in_force: usize,
    last: String,
}

/// Why a run of the set stopped before a check.
enum RunError {
    /// The set was refused (`FILE:LINE: message`).
    Set(String),
    /// The kernel could not be read.
    Kernel(String),
}

impl RulesKeeper {
    /// A keeper of `path` on this kernel (read at the first check); the set's files are
    /// watched at once.
    pub fn new(path: &Path) -> RulesKeeper {
        RulesKeeper::with_connector(path, Arc::new(session::open))
    }
}

impl<T: Transport + Send + 'static> RulesKeeper<T> {
    /// A keeper of `path` whose checks connect through `connect`.
    pub fn with_connector(path: &Path, connect: Connector<T>) -> RulesKeeper<T> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok();
        let mut k = RulesKeeper {
            connect,
            path: path.to_path_buf(),
            good: None,
            generation: 0,
            inotify,
            set_watch: None,
            set_name: None,
            path_watches: Vec::new(),
            set_changed_at: None,
            path_changed_at: None,
            skipped: Vec::new(),
            expected: 0,
            in_force: 0,
            last: "none yet".to_string(),
        };
        k.watch_set();
        k
    }

    fn watch_set(&mut self) {
        let Some(ino) = self.inotify.as_ref() else { return };
        let (dir, name) = if self.path.is_dir() {
            (self.path.clone(), None)
        } else {
            let dir = self.path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
            (dir, self.path.file_name().map(OsString::from))
        };
        let flags = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_ATTRIB
            | AddWatchFlags::IN_MODIFY;
        self.set_watch = ino.add_watch(&dir, flags).ok();
        self.set_name = name;
    }

    /// Watches the nearest existing ancestor of each directory the skipped rules need.
    fn watch_paths(&mut self, missing: &[PathBuf]) {
        let Some(ino) = self.inotify.as_ref() else { return };
        for (wd, _) in self.path_watches.drain(..) {
            if Some(wd) != self.set_watch {
                let _ = ino.rm_watch(wd);
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in missing {
            let Some(a) = m.ancestors().skip(1).find(|a| a.is_dir()) else { continue };
            if !seen.insert(a.to_path_buf()) {
                continue;
            }
            let flags = AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_ATTRIB
                | AddWatchFlags::IN_ONLYDIR;
            if let Ok(wd) = ino.add_watch(a, flags) {
                self.path_watches.push((wd, a.to_path_buf()));
            }
        }
    }

    fn read(&self) -> Result<Source, String> {
        let s = source::read(&self.path, AwkChoice::Auto, Fragments::Refuse)
            .map_err(|e| format!("{e:#}"))?;
        source::refuse_empty(&self.path, &s).map_err(|e| format!("{e:#}"))?;
        Ok(s)
    }

    /// Plans `src` against the kernel and, with [`Repair::Yes`], executes the plan.
    fn run(&mut self, src: Source, repair: Repair) -> Result<Check, RunError> {
        let intent = Intent {
            dry_run: repair == Repair::ReportOnly,
            mode: ErrorMode::default(),
            progress: Show::Never,
            other_forms: nlaudit_rules::plan::OtherFormPolicy::Keep,
        };
        let connect = Arc::clone(&self.connect);
        let mut p = enforce::prepare(move || connect(), move || Ok(src), intent).map_err(|e| {
            let kernel = e
                .chain()
                .any(|c| c.is::<ProtoError>() || c.is::<nlaudit_proto::probe::ProbeError>());
            if kernel {
                RunError::Kernel(format!("{e:#}"))
            } else {
                RunError::Set(format!("{e:#}"))
            }
        })?;
        self.note_skipped(&p);
        let mut check = differences(&p);
        // The set's own rules: a set without `-D` runs on the rules in force, whose other
        // rules are the kernel's, not the set's to expect.
        let own: Vec<nlaudit_proto::RuleData> = p
            .target
            .rules
            .iter()
            .filter(|t| matches!(t.origin, nlaudit_rules::plan::Origin::Line(_)))
            .map(|t| t.normal.clone())
            .collect();
        self.expected = own.len();
        check.verdict = if p.in_sync() {
            Verdict::InSync
        } else if p.locked {
            Verdict::Locked
        } else if repair == Repair::ReportOnly {
            Verdict::Held
        } else {
            check.echoes = echoes(&p);
            match enforce::execute(&mut p).ran {
                Ran::Done => Verdict::Repaired,
                Ran::Failed { what, error } => {
                    Verdict::Failed { what, error: failure_text(&error) }
                }
                Ran::Interrupted { stop, .. } => {
                    Verdict::Error(format!("interrupted by {}", stop.name()))
                }
            }
        };
        self.in_force = match check.verdict {
            Verdict::InSync | Verdict::Repaired => own.len(),
            _ => own.iter().filter(|r| p.current.contains(r)).count(),
        };
        Ok(check)
    }

    /// The rules skipped for a missing directory: told in the state, their paths watched.
    fn note_skipped(&mut self, p: &Prepared<T>) {
        let ctx = system::context(None);
        let mut missing = Vec::new();
        self.skipped.clear();
        for pr in &p.target.problems {
            self.skipped.push(enforce::problem_text(&p.src, pr));
            if !matches!(pr.kind, ProblemKind::Refused(_)) {
                continue;
            }
            let Some(line) = p.src.lines.get(pr.source) else { continue };
            let Ok(ds) = parse_command(&split_words(&line.text), &ctx) else { continue };
            for d in ds {
                if let Directive::Rule(rc) = d {
                    missing.extend(source::missing_dir(&rc.rule));
                }
            }
        }
        self.watch_paths(&missing);
    }

    fn check_now(&mut self, trigger: Trigger, repair: Repair) -> Check {
        let mut set_error = None;
        if trigger == Trigger::RulesChanged || self.good.is_none() {
            match self.read() {
                Err(e) => set_error = Some(e),
                Ok(src) => match self.run(src.clone(), repair) {
                    Ok(mut c) => {
                        self.good = Some(src);
                        self.generation += 1;
                        c.generation = self.generation;
                        return c;
                    }
                    Err(RunError::Set(e)) => set_error = Some(e),
                    Err(RunError::Kernel(e)) => return Check::only(Verdict::Error(e)),
                },
            }
        }
        let Some(src) = self.good.clone() else {
            return Check {
                set_error,
                ..Check::only(Verdict::Error(format!(
                    "{}: no rule set could be taken yet",
                    self.path.display()
                )))
            };
        };
        let mut c = match self.run(src, repair) {
            Ok(c) => c,
            Err(RunError::Set(e) | RunError::Kernel(e)) => Check::only(Verdict::Error(e)),
        };
        c.set_error = set_error;
        c.generation = self.generation;
        c
    }
}

impl<T: Transport + Send + 'static> Keeper for RulesKeeper<T> {
    fn poll(&mut self, now: Instant) -> Option<Trigger> {
        if let Some(ino) = self.inotify.as_ref() {
            while let Ok(events) = ino.read_events() {
                if events.is_empty() {
                    break;
                }
                for e in events {
                    if Some(e.wd) == self.set_watch {
                        let ours = self.set_name.is_none() || e.name == self.set_name;
                        if ours {
                            self.set_changed_at = Some(now);
                        }
                    }
                    if self.path_watches.iter().any(|(wd, _)| *wd == e.wd) {
                        self.path_changed_at = Some(now);
                    }
                }
            }
        }
        if self.set_changed_at.is_some_and(|t| now.saturating_duration_since(t) >= SETTLE) {
            self.set_changed_at = None;
            // A directory made anew (or a file replaced by one) needs its watch again.
            if let (Some(ino), Some(wd)) = (self.inotify.as_ref(), self.set_watch.take()) {
                let _ = ino.rm_watch(wd);
            }
            self.watch_set();
            return Some(Trigger::RulesChanged);
        }
        if self.path_changed_at.take().is_some() {
            return Some(Trigger::PathAppeared);
        }
        None
    }

    fn check(&mut self, trigger: Trigger, repair: Repair) -> Check {
        let start = Instant::now();
        let held = match lock::try_hold("nlaudit daemon (rule repair)") {
            Ok(Some(h)) => h,
            Ok(None) => return Check::only(Verdict::Busy),
            Err(e) => return Check::only(Verdict::Error(format!("{e:#}"))),
        };
        let mut c = self.check_now(trigger, repair);
        drop(held);
        c.took = start.elapsed();
        self.last = format!(
            "{} ({}, {:.1} ms)",
            match &c.verdict {
                Verdict::InSync => "in sync",
                Verdict::Repaired => "repaired",
                Verdict::Locked => "differs, locked",
                Verdict::Held => "differs, repair held back",
                Verdict::Busy => "busy",
                Verdict::Failed { .. } => "repair failed",
                _ => "error",
            },
            trigger.name(),
            c.took.as_secs_f64() * 1000.0
        );
        c
    }

    fn state(&self) -> RuleSetReport {
        RuleSetReport {
            source: self.path.display().to_string(),
            files: self.good.as_ref().map_or(0, |s| s.files.len() as u64),
            expected: self.expected as u64,
            in_force: self.in_force as u64,
            last_check: self.last.clone(),
            skipped: self.skipped.clone(),
            watching: self.path_watches.iter().map(|(_, p)| p.display().to_string()).collect(),
        }
    }
}

/// What differs between the kernel and the set, from the plan: the rules to add (not
/// re-adds), the rules to delete for good, the re-adds, the settings.
fn differences<T: nlaudit_proto::Transport>(p: &Prepared<T>) -> Check {
    let host = Machine::host();
    let mut c = Check::only(Verdict::InSync);
    for s in &p.plan.steps {
        match *s {
            Step::Add { index, position, readd: false } => {
                if let Some(t) = p.target.rules.get(index) {
                    c.missing.push(plan::rule_text(&t.normal, position, host));
                }
            }
            Step::Delete { index, reason: DeleteReason::Obsolete | DeleteReason::SurplusCopy } => {
                if let Some(r) = p.current.get(index) {
                    c.extra.push(plan::rule_text(r, Position::Append, host));
                }
            }
            _ => {}
        }
    }
    c.readded = p.plan.readded;
    c.settings = p.changes.iter().map(|ch| ch.option()).collect();
    c
}

/// The rule changes the plan makes, as the kernel reports them (CONFIG_CHANGE `op`, `key`).
fn echoes<T: nlaudit_proto::Transport>(p: &Prepared<T>) -> Vec<Echo> {
    let key = |r: &nlaudit_proto::RuleData| {
        let keys: Vec<String> = r.keys().map(|k| String::from_utf8_lossy(k).into_owned()).collect();
        (!keys.is_empty()).then(|| keys.join("\u{1}"))
    };
    p.plan
        .steps
        .iter()
        .filter_map(|s| match *s {
            Step::Add { index, .. } => {
                p.target.rules.get(index).map(|t| Echo { op: "add_rule", key: key(&t.rule) })
            }
            Step::Delete { index, .. } => {
                p.current.get(index).map(|r| Echo { op: "remove_rule", key: key(r) })
            }
        })
        .collect()
}

/// A failed step's error as auditctl says it.
fn failure_text(e: &ProtoError) -> String {
    match e {
        ProtoError::Kernel { errno, op } if matches!(op, Op::AddRule | Op::DeleteRule) => {
            source::rule_error(*op == Op::DeleteRule, *errno)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use nlaudit_proto::MsgType;

    use super::*;
    use crate::testsupport::Locked;

    /// In immutable mode the keeper only reports: it reads the status and the rules and
    /// sends nothing else, whatever the trigger.
    #[test]
    fn a_locked_kernel_is_only_reported() {
        let dir = std::env::temp_dir().join(format!("nlaudit-keeper-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("k.rules");
        std::fs::write(&file, "-w /etc/passwd -p wa -k nlaudit-keeper-locked\n").expect("write");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let for_fake = Arc::clone(&sent);
        let connect: Connector<Locked> = Arc::new(move || {
            Ok(Client::with_transport(Locked { sent: Arc::clone(&for_fake), ..Locked::default() }))
        });
        let mut k = RulesKeeper::with_connector(&file, connect);
        let mut ran = 0;
        for trigger in [Trigger::Start, Trigger::KernelChange, Trigger::Periodic] {
            let mut c = k.check(trigger, Repair::Yes);
            for _ in 0..100 {
                if c.verdict != Verdict::Busy {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
                c = k.check(trigger, Repair::Yes);
            }
            // Another nlaudit may hold the change lock on a shared test machine.
            if c.verdict == Verdict::Busy {
                continue;
            }
            assert_eq!(c.verdict, Verdict::Locked, "{trigger:?}");
            assert_eq!(c.missing, ["-w /etc/passwd -p wa -k nlaudit-keeper-locked"]);
            assert!(c.echoes.is_empty());
            ran += 1;
        }
        assert!(ran > 0, "the change lock was never free");
        let sent = sent.lock().expect("lock").clone();
        assert!(
            sent.iter().all(|t| [MsgType::AUDIT_GET, MsgType::AUDIT_LIST_RULES].contains(t)),
            "{sent:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
