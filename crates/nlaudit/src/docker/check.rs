//! `nlaudit docker check`: where each control's file is, which rules audit it, and the state
//! of audit around the rules.

use std::process::ExitCode;

use anyhow::Result;
use nlaudit_proto::{AuditEnabled, Client, Status as KernelStatus, Transport};

use super::audit::{evidence, Evidence, Origin, RuleSet};
use super::controls::{watch_text, Control, CONTROLS};
use super::fsview::FsView;
use super::locate::{Located, Locator};
use super::verify::{self, Verification, VerifyStatus};
use super::{report, CheckArgs, RULES_DIR};
use crate::session;

/// A control's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A rule in force audits the file, and audit records.
    Pass,
    /// It does not.
    Fail,
    /// The file does not exist here (or the unit is masked).
    NotApplicable,
}

impl Verdict {
    /// The JSON/text name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "not-applicable",
        }
    }
}

/// How much a fact about the audit state matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// It makes every applicable control fail.
    Fail,
    /// Worth acting on.
    Warning,
    /// For the record.
    Info,
}

impl Level {
    /// The JSON/text name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Fail => "fail",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// One fact about the audit state.
#[derive(Clone, Debug)]
pub struct Note {
    /// How much it matters.
    pub level: Level,
    /// A stable identifier (`audit-disabled`, `no-auditd`, `immutable`, ...).
    pub code: &'static str,
    /// The sentence for people.
    pub text: String,
}

/// The state around the rules.
#[derive(Clone, Debug)]
pub struct AuditState {
    /// `enabled` (kernel), or the last `-e` of the rules files (image; `None` if absent).
    pub enabled: Option<u32>,
    /// auditd's pid from AUDIT_GET (kernel only).
    pub auditd_pid: Option<u32>,
    /// enabled 2: no rule can change until reboot.
    pub immutable: bool,
    /// Rules in force record events (audit is not disabled).
    pub recording: bool,
    /// The facts, most important first.
    pub notes: Vec<Note>,
}

impl AuditState {
    /// The state of the running kernel.
    pub fn kernel(s: &KernelStatus) -> AuditState {
        let mut notes = Vec::new();
        match s.enabled.raw() {
            0 => notes.push(Note {
                level: Level::Fail,
                code: "audit-disabled",
                text: "audit is disabled (enabled 0): rules are loaded but nothing is recorded; \
                       `nlaudit docker ensure --enable` (or `nlaudit set --enabled 1`) turns it \
                       on"
                .into(),
            }),
            2 => notes.push(Note {
                level: Level::Warning,
                code: "immutable",
                text: "the audit configuration is immutable (enabled 2): no rule can be added or \
                       removed until reboot; `nlaudit docker ensure` can only persist rules for \
                       the next boot"
                    .into(),
            }),
            n => notes.push(Note {
                level: Level::Info,
                code: "audit-enabled",
                text: format!("audit is enabled (enabled {n})"),
            }),
        }
        if s.pid == 0 {
            notes.push(Note {
                level: Level::Warning,
                code: "no-auditd",
                text: "no auditd registered (pid 0): records reach only the kernel log (printk, \
                       rate-limited, dropped when it overflows) unless a READLOG reader such as \
                       `nlaudit events` runs; the kernel cannot tell whether one does"
                    .into(),
            });
        } else {
            let name = std::fs::read_to_string(format!("/proc/{}/comm", s.pid))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "not visible here".into());
            notes.push(Note {
                level: Level::Info,
                code: "auditd",
                text: format!(
                    "pid {} ({name}) is registered as the audit daemon and receives \
                               the records",
                    s.pid
                ),
            });
        }
        if s.lost > 0 {
            notes.push(Note {
                level: Level::Info,
                code: "lost",
                text: format!(
                    "the kernel has lost {} records since boot (backlog or rate \
                               limit)",
                    s.lost
                ),
            });
        }
        AuditState {
            enabled: Some(s.enabled.raw()),
            auditd_pid: Some(s.pid),
            immutable: s.enabled.is_locked(),
            recording: s.enabled != AuditEnabled::Disabled,
            notes,
        }
    }

    /// The state an image tree will boot into, as far as its files tell.
    pub fn image(fs: &FsView, rules: &RuleSet, rules_dir: &str, found_dir: bool) -> AuditState {
        let mut notes = vec![Note {
            level: Level::Info,
            code: "image",
            text: format!(
                "image tree {}: no kernel asked; the rules are those {rules_dir}/*.rules load \
                 at boot ({} file{}{})",
                fs.root().display(),
                rules.files.len(),
                if rules.files.len() == 1 { "" } else { "s" },
                if found_dir { "" } else { ", directory missing" }
            ),
        }];
        match rules.enabled {
            Some(0) => notes.push(Note {
                level: Level::Fail,
                code: "audit-disabled",
                text: "the rules files end with `-e 0`: audit is off once they are loaded".into(),
            }),
            Some(2) => notes.push(Note {
                level: Level::Info,
                code: "immutable",
                text: "the rules files end with `-e 2`: rules are locked once loaded".into(),
            }),
            _ => {}
        }
        let has = |names: &[&str]| names.iter().any(|n| fs.resolve(n).kind.is_some());
        if !has(&["/usr/sbin/auditd", "/sbin/auditd"]) {
            notes.push(Note {
                level: Level::Warning,
                code: "no-auditd",
                text: "the image has no auditd: records will reach only the kernel log unless \
                       a reader such as `nlaudit events` runs"
                    .into(),
            });
        }
        if !has(&["/usr/sbin/augenrules", "/sbin/augenrules"]) {
            notes.push(Note {
                level: Level::Warning,
                code: "no-loader",
                text: format!(
                    "the image has no augenrules: nothing loads {rules_dir} at boot unless the \
                     image arranges it (e.g. `nlaudit load {rules_dir}` early in boot)"
                ),
            });
        }
        for p in &rules.problems {
            notes.push(Note { level: Level::Warning, code: "rules-file-error", text: p.clone() });
        }
        AuditState {
            enabled: rules.enabled,
            auditd_pid: None,
            immutable: rules.enabled == Some(2),
            recording: rules.enabled != Some(0),
            notes,
        }
    }
}

/// What the check found for one control.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The control.
    pub control: &'static Control,
    /// Where its file is.
    pub located: Located,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence: why.
    pub reason: String,
    /// A rule that satisfies the control is in force (whatever the audit state).
    pub rule_found: bool,
    /// Related rules, satisfying ones first.
    pub evidence: Vec<Evidence>,
    /// The rule line that fixes it (for applicable controls).
    pub remediation: Option<String>,
    /// Why a watch on the file cannot be persisted, if it cannot.
    pub volatile: Option<String>,
    /// Where a satisfying rule is persisted (kernel checks: rules.d), if anywhere.
    pub persisted: Option<Origin>,
    /// What `--verify` found (`None`: not asked, or the control has no probe).
    pub verify: Option<Verification>,
}

/// The whole check.
#[derive(Clone, Debug)]
pub struct Report {
    /// `None`: the running kernel; `Some(DIR)`: an image tree.
    pub root: Option<std::path::PathBuf>,
    /// The rules.d directory looked at for persisted rules (inside the root).
    pub rules_dir: String,
    /// The audit state.
    pub state: AuditState,
    /// One per control, in table order.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// Counts of (pass, fail, not applicable).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |v| self.outcomes.iter().filter(|o| o.verdict == v).count();
        (n(Verdict::Pass), n(Verdict::Fail), n(Verdict::NotApplicable))
    }

    /// Whether a `--verify` proof failed (a rule and audit on, but no event).
    pub fn verify_failed(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| o.verify.as_ref().is_some_and(|v| v.status == VerifyStatus::Failed))
    }

    /// Exit code: 0 when nothing fails (controls, or a `--verify` proof), 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.counts().1 == 0 && !self.verify_failed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}

/// Finds every control's file.
pub fn locate_all(locator: &mut Locator) -> Vec<Located> {
    CONTROLS.iter().map(|c| locator.locate(c)).collect()
}

/// Judges every control against the rules in force (`live`), and records where each is
/// persisted (`disk`, for kernel checks).
pub fn assess(
    fs: &FsView,
    located: Vec<Located>,
    live: &RuleSet,
    disk: Option<&RuleSet>,
    state: &AuditState,
) -> Vec<Outcome> {
    CONTROLS
        .iter()
        .zip(located)
        .map(|(control, located)| {
            let Some(real) = located.watch_path().map(str::to_string) else {
                let reason = located.not_applicable.clone().unwrap_or_default();
                return Outcome {
                    control,
                    located,
                    verdict: Verdict::NotApplicable,
                    reason,
                    rule_found: false,
                    evidence: Vec::new(),
                    remediation: None,
                    volatile: None,
                    persisted: None,
                    verify: None,
                };
            };
            let ev = evidence(fs, &located, live);
            let found = ev.iter().find(|e| e.satisfies);
            let (verdict, reason) = match found {
                Some(e) if state.recording => {
                    (Verdict::Pass, format!("audited by `{}` ({})", e.text, e.origin))
                }
                Some(e) => (
                    Verdict::Fail,
                    format!(
                        "`{}` ({}) audits it, but audit is disabled: nothing is recorded",
                        e.text, e.origin
                    ),
                ),
                None if ev.is_empty() => (Verdict::Fail, format!("no rule audits {real}")),
                None => (
                    Verdict::Fail,
                    format!(
                        "no rule audits {real}; {} related rule{} do{} not qualify",
                        ev.len(),
                        if ev.len() == 1 { "" } else { "s" },
                        if ev.len() == 1 { "es" } else { "" }
                    ),
                ),
            };
            let rule_found = found.is_some();
            let persisted = match disk {
                Some(d) => evidence(fs, &located, d).into_iter().find(|e| e.satisfies),
                None => found.cloned(),
            }
            .map(|e| e.origin);
            Outcome {
                control,
                verdict,
                reason,
                rule_found,
                remediation: Some(watch_text(&real)),
                volatile: fs.volatile(&real),
                persisted,
                evidence: ev,
                located,
                verify: None,
            }
        })
        .collect()
}

/// Builds the report for the running kernel or an image tree.
pub fn build(root: Option<&std::path::Path>) -> Result<Report> {
    build_with(root, session::open)
}

/// [`build`], asking the kernel through the client `connect` opens (tests pass a fake).
pub fn build_with<T: Transport>(
    root: Option<&std::path::Path>,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<Report> {
    let fs = match root {
        Some(dir) => super::image_view(dir)?,
        None => FsView::live(),
    };
    let mut locator = Locator::new(fs.clone());
    let located = locate_all(&mut locator);
    let mut disk = RuleSet::default();
    if fs.is_live() {
        let mut c = connect()?;
        let status = c.status()?;
        let live = RuleSet::kernel(c.list_rules()?);
        disk.add_dir(&fs, RULES_DIR, status.feature_bitmap);
        let state = AuditState::kernel(&status);
        let outcomes = assess(&fs, located, &live, Some(&disk), &state);
        Ok(Report { root: None, rules_dir: RULES_DIR.into(), state, outcomes })
    } else {
        let found = disk.add_dir(&fs, RULES_DIR, None);
        let state = AuditState::image(&fs, &disk, RULES_DIR, found);
        let outcomes = assess(&fs, located, &disk, None, &state);
        Ok(Report {
            root: Some(fs.root().to_path_buf()),
            rules_dir: RULES_DIR.into(),
            state,
            outcomes,
        })
    }
}

/// `nlaudit docker check`.
pub fn run(a: CheckArgs) -> Result<ExitCode> {
    let mut report = build(a.root.as_deref())?;
    if a.verify {
        // Turns "a rule is in force" into "a record was seen" (clap refuses it with --root).
        verify::run(&mut report)?;
    }
    if a.json {
        report::print_json(&report)?;
    } else {
        report::print_text(&report)?;
    }
    Ok(report.exit_code())
}
