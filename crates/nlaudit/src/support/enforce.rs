//! The core of `apply`, shared by `nlaudit apply` and the daemon's drift repair
//! (`nlaudit daemon --rules`): decide ([`prepare`]: read the kernel and the set, run the set
//! on a model of the kernel as it is — its `-D` decides — and plan the least change) and do
//! ([`execute`]: the settings before the rules, the rule steps without a gap, the settings
//! after). Neither prints anything but the progress line ([`Intent::progress`]); saying is
//! the caller's (`cmd/ruleset/apply.rs::render`, the daemon's log records).

use std::collections::BTreeSet;

use anyhow::Result;
use nlaudit_proto::consts::AUDIT_FEATURE_LOGINUID_IMMUTABLE;
use nlaudit_proto::probe::{ClassProbe, ProbeError};
use nlaudit_proto::{
    BatchOp, Client, EncodeError, Errno, Error as ProtoError, FeatureLock, ItemResult, OnError, Op,
    Position, RuleData, Setting, Switch, Transport,
};
use nlaudit_rules::normalize::{class_selection, with_classes};
use nlaudit_rules::plan::{
    self, DeleteReason, ErrorMode, Origin, OtherForm, OtherFormPolicy, OtherGeneration, Plan,
    Problem, ProblemKind, SettingChange, SettingKind, Start, Step, Target,
};
use nlaudit_rules::Machine;

use crate::support::batches::{self, Interruptible};
use crate::support::errors::{code, fail, fail_at};
use crate::support::interrupt::{self, Stop};
use crate::support::progress::{Progress, Show};
use crate::support::session;
use crate::support::source::{self, rule_error, Source};

/// What [`prepare`] is asked to plan for.
#[derive(Clone, Copy, Debug)]
pub struct Intent {
    /// Nothing will be executed (`--dry-run`): the class probe is not made.
    pub dry_run: bool,
    /// `-c`/`-i` given on the command line.
    pub mode: ErrorMode,
    /// Whether [`execute`] draws the progress line.
    pub progress: Show,
    /// What to do with a rule in force that the other generation's auditctl compiled from a
    /// set line (kept by default: `--rewrite-other-generation` rewrites it).
    pub other_forms: OtherFormPolicy,
}

/// What [`prepare`] found and decided.
pub struct Prepared<T: Transport> {
    /// The connection the plan is executed on.
    pub c: Client<T>,
    /// The set's lines.
    pub src: Source,
    /// The rules in force, as listed (without class probes).
    pub current: Vec<RuleData>,
    /// The set run on the kernel's rules.
    pub target: Target,
    /// The target's rules as the kernel will list them.
    pub desired: Vec<RuleData>,
    /// The least change.
    pub plan: Plan,
    /// The settings that change.
    pub changes: Vec<SettingChange>,
    /// Immutable mode (enabled 2): nothing can change.
    pub locked: bool,
    /// Class selections whose expansion a dry run (or a locked kernel) cannot learn.
    pub classes_unknown: bool,
    /// Whether [`execute`] draws the progress line.
    progress: Show,
}

/// Decides: reads the kernel and the set and plans. The kernel's status and rules are
/// fetched on another thread while the set is read and parsed (each reply waits for a
/// kernel thread to be spawned). A set `auditctl -R` would stop on is refused here, before
/// anything is sent.
pub fn prepare<T, C, R>(connect: C, read: R, opts: Intent) -> Result<Prepared<T>>
where
    T: Transport + Send + 'static,
    C: FnOnce() -> Result<Client<T>> + Send + 'static,
    R: FnOnce() -> Result<Source>,
{
    let kernel = std::thread::spawn(move || -> Result<_> {
        let mut c = connect()?;
        let status = c.status()?;
        // A locked kernel (enabled 2) still lists its rules: the refusal says whether they
        // differ from the set, and --dry-run shows how.
        let current = c.list_rules()?;
        Ok((c, status, current))
    });
    let src = read()?;
    let mut parsed = source::parse(&src, None);
    let (mut c, status, mut current) =
        kernel.join().map_err(|_| anyhow::anyhow!("the kernel connection thread panicked"))??;
    let locked = status.enabled.is_locked();
    if !source::default_features_hold(status.feature_bitmap) {
        parsed = source::parse(&src, status.feature_bitmap);
    }
    // The set runs on the rules in force: its `-D` decides what becomes of them. A rule in
    // force that the other generation compiled from a line is that line (or rewritten).
    let features = status.feature_bitmap;
    let generation = crate::support::system::generation().other();
    let compile = |i: usize| source::compile_line(&src, i, features, generation);
    let other = OtherGeneration { generation, policy: opts.other_forms, compile: &compile };
    let mut target = plan::target_across(
        Start::Kernel(&current),
        &parsed,
        &other,
        opts.mode,
        source::missing_path,
    );
    if locked && !opts.dry_run && target.fatal().is_some() {
        // Nothing could change anyway: the lock is the answer, not the set's problem.
        session::refuse_if_immutable(&status)?;
    }
    refuse_fatal(&src, &target)?;
    let from_set = |t: &&plan::TargetRule| t.origin != Origin::Kernel;
    let selections: BTreeSet<u32> =
        target.rules.iter().filter(from_set).filter_map(|t| class_selection(&t.rule)).collect();
    let classes_unknown = !selections.is_empty() && (opts.dry_run || locked);
    if !selections.is_empty() && !classes_unknown {
        let ClassProbe { expansions, rules } = learn_classes(&mut c, &selections)?;
        current = rules;
        for t in target.rules.iter_mut().filter(|t| t.origin != Origin::Kernel) {
            if let Some(expansion) = class_selection(&t.rule).and_then(|b| expansions.get(&b)) {
                t.normal = with_classes(&t.rule, expansion);
            }
        }
    }
    let desired: Vec<RuleData> = target.rules.iter().map(|t| t.normal.clone()).collect();
    let plan = plan::plan(&current, &desired);
    let loginuid = if target.settings.loginuid_immutable {
        let bit = AUDIT_FEATURE_LOGINUID_IMMUTABLE;
        c.features().ok().map(|f| (f.is_on(bit), f.is_locked(bit)))
    } else {
        None
    };
    let changes = plan::setting_changes(&target.settings, &status, loginuid);
    Ok(Prepared {
        c,
        src,
        current,
        target,
        desired,
        plan,
        changes,
        locked,
        classes_unknown,
        progress: opts.progress,
    })
}

impl<T: Transport> Prepared<T> {
    /// Whether the kernel already holds the set and its settings.
    pub fn in_sync(&self) -> bool {
        self.plan.is_empty() && self.changes.is_empty()
    }
}

/// How a run ended.
pub enum Ran {
    /// Every step and setting went through.
    Done,
    /// `what` (a step or setting, as text) failed.
    Failed {
        /// The step or setting.
        what: String,
        /// Why.
        error: ProtoError,
    },
    /// A signal stopped it after `done` rule steps.
    Interrupted {
        /// The signal.
        stop: Stop,
        /// Rule steps done.
        done: usize,
    },
}

/// What [`execute`] did.
pub struct Outcome {
    /// How it ended.
    pub ran: Ran,
    /// After a stop: the rules in force, listed again.
    pub in_force: Option<nlaudit_proto::Result<Vec<RuleData>>>,
}

/// Does: runs the plan on the kernel (see the module docs). Prints only the progress line.
pub fn execute<T: Transport>(p: &mut Prepared<T>) -> Outcome {
    let ran = execute_steps(p);
    let in_force = match ran {
        Ran::Done => None,
        _ => Some(p.c.list_rules()),
    };
    Outcome { ran, in_force }
}

fn execute_steps<T: Transport>(p: &mut Prepared<T>) -> Ran {
    let host = Machine::host();
    for ch in p.changes.iter().filter(|c| !c.after_rules()) {
        if let Err(error) = change_setting(&mut p.c, ch) {
            return Ran::Failed { what: setting_line(ch), error };
        }
    }
    let slow = p.plan.deleted + p.plan.readded;
    let mut progress = Progress::new("apply: rules changed", p.plan.steps.len(), slow, p.progress);
    let halted = run_steps(&mut p.c, &p.plan, &p.current, &p.target, &mut progress);
    progress.finish();
    match halted {
        Ok(()) => {}
        Err(Halt::Failed(step, error)) => {
            let what = step_line(&p.plan, step, &p.current, &p.target, &p.src, host);
            return Ran::Failed { what, error };
        }
        Err(Halt::Interrupted { stop, done }) => return Ran::Interrupted { stop, done },
    }
    for ch in p.changes.iter().filter(|c| c.after_rules()) {
        if let Err(error) = change_setting(&mut p.c, ch) {
            return Ran::Failed { what: setting_line(ch), error };
        }
    }
    Ran::Done
}
/// `FILE:LINE` of a target rule's line, or where a rule kept from the kernel came from.
pub fn location(src: &Source, origin: Origin) -> String {
    match origin {
        Origin::Line(l) => src.location(l),
        Origin::Kernel => "in force before, kept: the set has no -D".to_string(),
    }
}

/// The kernel's expansion of each class selection the set uses (see
/// nlaudit_rules::normalize and `Client::probe_classes`), and the rules in force, before
/// anything of the set is changed.
fn learn_classes<T: Transport>(
    c: &mut Client<T>,
    selections: &BTreeSet<u32>,
) -> Result<ClassProbe> {
    let prefix = format!("nlaudit-class-probe-{}-", std::process::id());
    let selections: Vec<u32> = selections.iter().copied().collect();
    match c.probe_classes(&selections, &prefix) {
        Ok(p) => Ok(p),
        Err(ProbeError::Left { count, key_prefix }) => Err(fail(
            code::FAILED,
            format!(
                "{count} probe rule(s) for the kernel's syscall classes could not be deleted: \
                 delete the rules with keys {key_prefix}* (`nlaudit list --key {key_prefix}`); \
                 nothing of the set was changed"
            ),
        )),
        Err(e) => Err(anyhow::Error::new(e).context(
            "cannot learn the kernel's syscall classes (a probe rule was added, listed and \
             deleted again); nothing of the set was changed",
        )),
    }
}
/// What to say of a rule in force that the other generation compiled from a set line:
/// `note: RULE in force: loaded by auditctl 4.x (generation 4) form of FILE:LINE; kept ...`.
pub fn other_form_text(src: &Source, f: &OtherForm) -> String {
    let rule = plan::rule_text(&f.held, Position::Append, Machine::host());
    let this = f.generation.other().major();
    let done = match f.policy {
        OtherFormPolicy::Rewrite => {
            format!("rewritten in auditctl {this}.x's form (--rewrite-other-generation)")
        }
        _ => format!(
            "kept as that line (--rewrite-other-generation replaces it by auditctl {this}.x's \
             form)"
        ),
    };
    format!("note: `{rule}` in force: {}; {done}", f.loaded_by(&src.location(f.source)))
}

/// Refuses a set with a problem met while no `-c`/`-i` was in force (the others are
/// reported as skipped when rendering).
pub fn refuse_fatal(src: &Source, target: &Target) -> Result<()> {
    match target.fatal() {
        None => Ok(()),
        Some(p) => Err(fail_at(
            if matches!(p.kind, ProblemKind::Parse(_)) { code::USAGE } else { code::FAILED },
            src.location(p.source),
            format!(
                "{}\nnothing was changed: `auditctl -R` would stop at this line; fix it, or \
                 put `-c` or `-i` before it (or pass -c/-i) to skip such lines",
                problem_message(src, p)
            ),
        )),
    }
}

pub fn problem_text(src: &Source, p: &Problem) -> String {
    format!("{}: {}", src.location(p.source), problem_message(src, p))
}

/// What is wrong with a line (without its location).
pub fn problem_message(src: &Source, p: &Problem) -> String {
    match &p.kind {
        ProblemKind::Parse(m) => m.clone(),
        ProblemKind::Duplicate { first } => format!(
            "{}: the set already holds this rule (from {})",
            rule_error(false, Errno::EEXIST),
            src.location(*first)
        ),
        ProblemKind::NoSuchRule => {
            format!("{}: the set holds no such rule at this point", rule_error(true, Errno::ENOENT))
        }
        ProblemKind::Unsupported(w) => format!("{w} is not supported in a rule set"),
        ProblemKind::Refused(why) => {
            format!("{}: the kernel would refuse it: {why}", rule_error(false, Errno::ENOENT))
        }
        other => format!("{other:?}"),
    }
}

pub fn setting_line(ch: &SettingChange) -> String {
    let note = match (ch.kind, ch.from) {
        (SettingKind::Lock, _) => "  # last: locks the configuration until reboot".to_string(),
        (_, Some(v)) => format!("  # now {v}"),
        (_, None) => String::new(),
    };
    format!("+ {}{note}", ch.option())
}

fn change_setting<T: Transport>(
    c: &mut Client<T>,
    ch: &SettingChange,
) -> nlaudit_proto::Result<()> {
    match ch.kind {
        SettingKind::BacklogLimit => c.set(Setting::BacklogLimit(ch.to)),
        SettingKind::Failure if ch.to == 2 => c.set_failure_panic(),
        SettingKind::Failure => c.set(Setting::Failure(ch.to)),
        SettingKind::RateLimit => c.set(Setting::RateLimit(ch.to)),
        SettingKind::BacklogWaitTime => c.set(Setting::BacklogWaitTime(ch.to)),
        SettingKind::Enabled => {
            c.set(Setting::Enabled(if ch.to == 1 { Switch::On } else { Switch::Off }))
        }
        SettingKind::LoginuidImmutable => {
            c.set_feature(AUDIT_FEATURE_LOGINUID_IMMUTABLE, Switch::On, FeatureLock::Locked)
        }
        SettingKind::Lock => c.lock_configuration_until_reboot(),
        other => Err(ProtoError::Invalid {
            op: Op::SetStatus,
            source: EncodeError::NotReversible(format!(
                "setting {other:?} is not known to this nlaudit"
            )),
        }),
    }
}

/// The rule a step sends.
fn step_rule(s: &Step, current: &[RuleData], target: &Target) -> RuleData {
    match *s {
        Step::Add { index, position, .. } => {
            let mut r = target.rules[index].rule.clone();
            r.set_position(position);
            r
        }
        Step::Delete { index, .. } => current[index].clone(),
    }
}

/// Why the steps stopped before the end.
enum Halt {
    /// Step `.0` failed.
    Failed(usize, ProtoError),
    /// A signal asked to stop; the steps before `done` ran.
    Interrupted { stop: Stop, done: usize },
}

/// Runs the steps: each run of adds or of deletes is one batch (many messages per
/// datagram, sent in chunks); a re-add's delete and add are runs of their own, so the rule
/// is out for one round trip only. A SIGINT/SIGTERM stops the steps before a chunk, never
/// between a re-add's delete and its add: no rule both sets share goes missing because of
/// it.
fn run_steps<T: Transport>(
    c: &mut Client<T>,
    plan: &Plan,
    current: &[RuleData],
    target: &Target,
    progress: &mut Progress,
) -> std::result::Result<(), Halt> {
    let steps = &plan.steps;
    let is_add = |s: &Step| matches!(s, Step::Add { .. });
    let is_readd_delete = |s: &Step| matches!(s, Step::Delete { reason: DeleteReason::Readd, .. });
    let mut i = 0;
    while i < steps.len() {
        let add = is_add(&steps[i]);
        let n = steps[i..].iter().take_while(|s| is_add(s) == add).count();
        let run = &steps[i..i + n];
        // The add of a re-add follows its delete at once, whatever is pending.
        let after_readd_delete = i > 0 && is_readd_delete(&steps[i - 1]);
        let interruptible = if after_readd_delete || run.iter().any(is_readd_delete) {
            Interruptible::No
        } else {
            Interruptible::Yes
        };
        if after_readd_delete {
            // Checked before the pair only.
        } else if let Some(stop) = interrupt::pending() {
            return Err(Halt::Interrupted { stop, done: i });
        }
        let rules: Vec<RuleData> = run.iter().map(|s| step_rule(s, current, target)).collect();
        let (what, op) =
            if add { (BatchOp::Add, Op::AddRule) } else { (BatchOp::Delete, Op::DeleteRule) };
        let sent = batches::send(c, what, &rules, OnError::Stop, progress, interruptible)
            .map_err(|e| Halt::Failed(i, e))?;
        for (k, r) in sent.results.iter().enumerate() {
            match r {
                // A rule someone else deleted meanwhile is gone all the same.
                ItemResult::Done | ItemResult::NotReached => {}
                ItemResult::Refused(Errno::ENOENT) if !add => {}
                ItemResult::Refused(errno) => {
                    return Err(Halt::Failed(i + k, ProtoError::Kernel { op, errno: *errno }))
                }
            }
        }
        if let Some(stop) = sent.interrupted {
            let done = sent.results.iter().take_while(|r| **r != ItemResult::NotReached).count();
            return Err(Halt::Interrupted { stop, done: i + done });
        }
        i += n;
    }
    Ok(())
}

pub fn step_line(
    plan: &Plan,
    i: usize,
    current: &[RuleData],
    target: &Target,
    src: &Source,
    host: Machine,
) -> String {
    match plan.steps.get(i) {
        Some(Step::Add { index, position, .. }) => {
            let t = &target.rules[*index];
            format!(
                "+ {} ({})",
                plan::rule_text(&t.normal, *position, host),
                location(src, t.origin)
            )
        }
        Some(Step::Delete { index, .. }) => {
            format!("- {}", plan::rule_text(&current[*index], Position::Append, host))
        }
        None => "?".to_string(),
    }
}
