//! The check as a pure function of what was read: where each control's file is, which rules
//! audit it, and the state of audit around the rules ([`evaluate`]).

use std::path::{Path, PathBuf};

use nlaudit_proto::AuditEnabled;
use nlaudit_proto::{RuleData, Status as KernelStatus};
use nlaudit_rules::merge::Dialect;

use crate::audit::{evidence, Evidence, Origin, RuleSet};
use crate::controls::{watch_text, Control, CONTROLS};
use crate::fsview::FsView;
use crate::host::Host;
use crate::locate::{Located, Locator};
use crate::verify::{Verification, VerifyStatus};

/// The rules.d directory augenrules (and `nlaudit load`) reads, inside the root.
pub const RULES_DIR: &str = "/etc/audit/rules.d";

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

/// Who receives the records, and where they go: an `nlaudit daemon` (its `--log-file`, or
/// the `log_file` of its auditd.conf), auditd, or another program.
fn daemon_note(host: &dyn Host, pid: u32) -> Note {
    let name = host.process_name(pid).unwrap_or_else(|| "not visible here".into());
    let args: Vec<String> = host
        .read(&format!("/proc/{pid}/cmdline"))
        .map(|c| c.split('\0').filter(|a| !a.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let exe = host.read_link(&format!("/proc/{pid}/exe")).unwrap_or_default();
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let is_nlaudit = base(&exe).starts_with("nlaudit")
        || args.first().is_some_and(|a| base(a) == "nlaudit")
            && args.get(1).is_some_and(|a| a == "daemon");
    let log_file = args.iter().enumerate().find_map(|(i, a)| match a.strip_prefix("--log-file") {
        Some("") => args.get(i + 1).cloned(),
        Some(v) => v.strip_prefix('=').map(str::to_string),
        None => None,
    });
    let dest = match log_file.as_deref() {
        Some("-") => "its standard output".to_string(),
        Some(f) => f.to_string(),
        None => "the log_file of its auditd.conf (default /var/log/audit/audit.log)".to_string(),
    };
    if is_nlaudit {
        Note {
            level: Level::Info,
            code: "nlaudit-daemon",
            text: format!(
                "pid {pid} (nlaudit daemon) is registered as the audit daemon: it receives the \
                 records and writes them to {dest}"
            ),
        }
    } else {
        Note {
            level: Level::Info,
            code: "auditd",
            text: format!(
                "pid {pid} ({name}) is registered as the audit daemon and receives the records{}",
                if name == "auditd" {
                    format!(" (it writes them to {dest})")
                } else {
                    String::new()
                }
            ),
        }
    }
}

impl AuditState {
    /// The state of the running kernel (`host` names the registered daemon).
    pub fn kernel(s: &KernelStatus, host: &dyn Host) -> AuditState {
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
            notes.push(daemon_note(host, s.pid));
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
    pub fn image(fs: &FsView<'_>, rules: &RuleSet, rules_dir: &str, found_dir: bool) -> AuditState {
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

/// How many controls have each verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Controls that pass.
    pub pass: usize,
    /// Controls that fail.
    pub fail: usize,
    /// Controls that do not apply here.
    pub not_applicable: usize,
}

/// The whole check.
#[derive(Clone, Debug)]
pub struct Report {
    /// `None`: the running kernel; `Some(DIR)`: an image tree.
    pub root: Option<PathBuf>,
    /// The rules.d directory looked at for persisted rules (inside the root).
    pub rules_dir: String,
    /// The audit state.
    pub state: AuditState,
    /// One per control, in table order.
    pub outcomes: Vec<Outcome>,
    /// The rules in force: the kernel's, or (image) those rules.d loads at boot.
    pub live: RuleSet,
    /// The persisted rules the outcomes were checked against, when not the live ones.
    pub disk: Option<RuleSet>,
    /// The kernel's `feature_bitmap` (`None`: an image, or a kernel that does not say).
    pub features: Option<u32>,
}

impl Report {
    /// How many controls pass, fail, do not apply.
    pub fn counts(&self) -> Counts {
        let n = |v| self.outcomes.iter().filter(|o| o.verdict == v).count();
        Counts {
            pass: n(Verdict::Pass),
            fail: n(Verdict::Fail),
            not_applicable: n(Verdict::NotApplicable),
        }
    }

    /// Whether a `--verify` proof failed (a rule and audit on, but no event).
    pub fn verify_failed(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| o.verify.as_ref().is_some_and(|v| v.status == VerifyStatus::Failed))
    }

    /// Exit code: 0 when nothing fails (controls, or a `--verify` proof), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.counts().fail != 0 || self.verify_failed())
    }
}

/// What the kernel holds, read by the caller (the library does no netlink).
#[derive(Clone, Debug)]
pub struct Kernel {
    /// AUDIT_GET.
    pub status: KernelStatus,
    /// AUDIT_LIST_RULES.
    pub rules: Vec<RuleData>,
}

/// Where the persisted rules are looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persisted<'a> {
    /// rules.d ([`RULES_DIR`]), as `docker check` reads it.
    RulesDir,
    /// A rules file and the rules.d directory it is in, as `docker ensure` writes it.
    File(&'a str),
}

/// What to evaluate against.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The running kernel's state; `None` for an image tree.
    pub kernel: Option<&'a Kernel>,
    /// Where the persisted rules are.
    pub persisted: Persisted<'a>,
    /// How augenrules merges rules.d on this machine.
    pub dialect: Dialect,
    /// The machine an image tree's rules files are parsed for (`None`: this one).
    pub machine: Option<nlaudit_rules::Machine>,
}

/// Finds every control's file.
pub fn locate_all(locator: &mut Locator<'_>) -> Vec<Located> {
    CONTROLS.iter().map(|c| locator.locate(c)).collect()
}

/// Judges every control against the rules in force (`live`), and records where each is
/// persisted (`disk`, for kernel checks).
pub fn assess(
    fs: &FsView<'_>,
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

/// The check: every control located on `host` and judged against the rules in force (the
/// kernel's, or for an image the rules.d it boots with), and where each is persisted.
pub fn evaluate(host: &dyn Host, inputs: &Inputs<'_>) -> Report {
    let fs = FsView::new(host);
    let mut locator = Locator::new(fs);
    let located = locate_all(&mut locator);
    let features = inputs.kernel.and_then(|k| k.status.feature_bitmap);
    let (live, state) = match inputs.kernel {
        Some(k) => (RuleSet::kernel(k.rules.clone()), AuditState::kernel(&k.status, host)),
        None => {
            let mut rules = RuleSet::for_machine(inputs.machine);
            let found = rules.add_dir(&fs, RULES_DIR, None, inputs.dialect);
            let state = AuditState::image(&fs, &rules, RULES_DIR, found);
            (rules, state)
        }
    };
    let disk = match inputs.persisted {
        Persisted::RulesDir if inputs.kernel.is_some() => {
            let mut disk = RuleSet::for_machine(inputs.machine);
            disk.add_dir(&fs, RULES_DIR, features, inputs.dialect);
            Some(disk)
        }
        Persisted::RulesDir => None,
        Persisted::File(target) => Some(persisted_rules(&fs, target, features, inputs.dialect)),
    };
    let outcomes = assess(&fs, located, &live, disk.as_ref(), &state);
    let root = (!fs.is_live()).then(|| fs.root().to_path_buf());
    Report { root, rules_dir: RULES_DIR.into(), state, outcomes, live, disk, features }
}

/// The rules already persisted next to a rules file: every `*.rules` of its directory
/// (which augenrules merges) and the file itself.
fn persisted_rules(
    fs: &FsView<'_>,
    target: &str,
    features: Option<u32>,
    dialect: Dialect,
) -> RuleSet {
    let mut disk = RuleSet::default();
    let dir = Path::new(target).parent().and_then(Path::to_str).unwrap_or("/");
    disk.add_dir(fs, dir, features, dialect);
    if !disk.files.iter().any(|f| f == target) {
        disk.add_file(fs, target, features);
    }
    disk
}
