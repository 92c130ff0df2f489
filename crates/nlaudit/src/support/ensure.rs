//! The kernel half of an `ensure` (docker and profiles alike): add the planned rules one by
//! one (a rule already in force is not an error), then turn auditing on when planned, so
//! that audit starts with every rule in.

use nlaudit_proto::{Client, Errno, Error as ProtoError, RuleData, Setting, Switch, Transport};

use crate::support::errors::explain;

/// Whether to change anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Say what would be done.
    DryRun,
    /// Do it.
    Apply,
}

/// What became of one rule of the plan.
#[derive(Debug)]
pub enum AddResult {
    /// Sent (or, dry run, would be).
    Sent,
    /// The kernel already held it (EEXIST).
    InForce,
    /// The kernel refused it: the sentence why.
    Failed(String),
}

/// What the kernel half did.
#[derive(Debug, Default)]
pub struct KernelDone {
    /// One per rule given.
    pub adds: Vec<AddResult>,
    /// Turning auditing on, when asked for and not a dry run.
    pub enabled: Option<Result<(), ProtoError>>,
}

impl KernelDone {
    /// Whether turning auditing on failed (the caller then persists nothing).
    pub fn enable_failed(&self) -> bool {
        matches!(self.enabled, Some(Err(_)))
    }
}

/// Adds `rules` (nothing is sent in a dry run), then sets enabled 1 when `enable`.
pub fn apply_live<'r, T: Transport>(
    c: &mut Client<T>,
    rules: impl IntoIterator<Item = &'r RuleData>,
    enable: bool,
    mode: Mode,
) -> KernelDone {
    let mut done = KernelDone::default();
    for rule in rules {
        let r = if mode == Mode::DryRun { Ok(()) } else { c.add_rule(rule) };
        done.adds.push(match r {
            Ok(()) => AddResult::Sent,
            Err(ProtoError::Kernel { errno: Errno::EEXIST, .. }) => AddResult::InForce,
            Err(e) => AddResult::Failed(explain(&e).1),
        });
    }
    if enable && mode == Mode::Apply {
        done.enabled = Some(c.set(Setting::Enabled(Switch::On)));
    }
    done
}

/// `docker ensure --json` and `ensure --profile ... --json` (schema
/// docs/schemas/ensure.schema.json): the plan, what became of it, and the check after.
#[derive(Debug, Default, serde::Serialize)]
pub struct EnsureJson {
    /// 1.
    pub schema: u32,
    /// `--dry-run`: nothing was changed.
    pub dry_run: bool,
    /// Whether the plan changes anything (with --dry-run: exit code 1).
    pub changes: bool,
    /// The kernel half (absent for an image tree, `--root`).
    pub kernel: Option<KernelJson>,
    /// The rules files to write.
    pub files: Vec<FileJson>,
    /// Requirements no rule can fix (`ensure --profile`).
    pub unfixable: Vec<UnfixableJson>,
    /// After a run (not a dry run): what `check` says now, per profile.
    pub check: Vec<CheckCountsJson>,
    /// The error that stopped the run or made it fail.
    pub error: Option<String>,
    /// The exit code.
    pub exit_code: u8,
}

/// The kernel half of an ensure.
#[derive(Debug, Default, serde::Serialize)]
pub struct KernelJson {
    /// `enabled` before (2: immutable, nothing can be added).
    pub enabled: u32,
    /// One per rule of the plan.
    pub rules: Vec<RuleResultJson>,
    /// Turning auditing on: `enabled`, `would enable`, `failed`, or absent (not planned).
    pub enable: Option<&'static str>,
}

/// What became of one rule.
#[derive(Debug, serde::Serialize)]
pub struct RuleResultJson {
    /// The rule, as `list` prints it.
    pub rule: String,
    /// The controls it serves.
    pub ids: String,
    /// `added`, `would add`, `in force`, `failed` or `not sent` (immutable).
    pub result: &'static str,
    /// With `failed`: why.
    pub error: Option<String>,
}

impl RuleResultJson {
    /// The result of the rule `rule` serving `ids`: `done` is what [`apply_live`] said
    /// (`None`: not sent).
    pub fn new(rule: &str, ids: String, done: Option<&AddResult>, mode: Mode) -> RuleResultJson {
        let (result, error) = match (done, mode) {
            (Some(AddResult::Sent), Mode::DryRun) => ("would add", None),
            (Some(AddResult::Sent), Mode::Apply) => ("added", None),
            (Some(AddResult::InForce), _) => ("in force", None),
            (Some(AddResult::Failed(m)), _) => ("failed", Some(m.clone())),
            (None, _) => ("not sent", None),
        };
        RuleResultJson { rule: rule.to_string(), ids, result, error }
    }
}

/// One rules file to write.
#[derive(Debug, Default, serde::Serialize)]
pub struct FileJson {
    /// The file (inside the root).
    pub path: String,
    /// The rule lines to append, with the controls they serve.
    pub append: Vec<LineJson>,
    /// The settings lines to persist (`ensure --profile`).
    pub settings: Vec<String>,
    /// Controls left out of the file (live only), with why.
    pub skipped: Vec<LineJson>,
    /// Whether the file was written (false: a dry run, nothing to write, or an error).
    pub written: bool,
}

/// A line and the controls it serves (or why it was skipped).
#[derive(Debug, serde::Serialize)]
pub struct LineJson {
    /// The controls.
    pub ids: String,
    /// The rule text, or why it is skipped.
    pub text: String,
}

/// A requirement no rule can fix.
#[derive(Debug, serde::Serialize)]
pub struct UnfixableJson {
    /// The control.
    pub id: String,
    /// The requirement.
    pub text: String,
    /// Why.
    pub why: String,
}

/// A profile's counts after the run.
#[derive(Debug, serde::Serialize)]
pub struct CheckCountsJson {
    /// The profile (`cis-docker` for `docker ensure`).
    pub profile: String,
    /// Controls that pass.
    pub pass: usize,
    /// Controls that fail.
    pub fail: usize,
    /// Controls that do not apply here.
    pub not_applicable: usize,
    /// The failing controls' ids.
    pub failing: Vec<String>,
}
