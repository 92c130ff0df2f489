//! `nlaudit apply`: make the kernel's rules equal, in order, to a rule set, with the least
//! kernel work and without a gap (the planning is `nlaudit_rules::plan`; this runs it).
//!
//! Order of work: read the status and list the kernel's rules, parse the set and run it on a
//! model of an empty kernel, plan (in immutable mode: stop there, refusing, and say whether
//! the kernel holds the set; --dry-run shows the plan); then the settings that do not
//! depend on the rules (`-b`, `-f`, `-r`, `--backlog_wait_time`), the rule steps (adds in
//! batches, re-adds one rule at a time, deletes of obsolete rules last, in batches), and
//! only when all of that succeeded `-e 0|1`, `--loginuid-immutable` and, last, `-e 2`.
//! Any failure stops the run; the rules in force are listed again and reported.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use nlaudit_proto::consts::{
    Action, FieldType, FilterList, Operator, AUDIT_FEATURE_LOGINUID_IMMUTABLE,
};
use nlaudit_proto::{
    BatchOp, Client, EncodeError, Errno, Error as ProtoError, FeatureLock, FieldData, FieldValue,
    ItemResult, OnError, Op, Position, Refusal, RuleData, Setting, Switch, Transport,
};
use nlaudit_rules::normalize::{class_selection, with_classes};
use nlaudit_rules::plan::{
    self, DeleteReason, ErrorMode, Plan, Problem, ProblemKind, SettingChange, SettingKind, Step,
    Target,
};
use nlaudit_rules::{render_listing, Machine};
use serde_json::{json, Value};

use super::source::{self, rule_error, Source};
use crate::errors::{code, fail};
use crate::{output, session};

/// How to apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Print the plan and change nothing.
    pub dry_run: bool,
    /// `-c`/`-i` given on the command line.
    pub mode: ErrorMode,
    /// Report as one JSON object on standard output.
    pub json: bool,
}

/// Applies the rule set `read` returns through the client `connect` opens. `start` is
/// when the command started (for the summary).
///
/// The kernel's status and rules are fetched on another thread while the set is read and
/// parsed (each reply waits for a kernel thread to be spawned); nothing is changed before
/// both are in and the status is checked.
pub fn run<T, C, R>(connect: C, read: R, opts: Options, start: Instant) -> Result<ExitCode>
where
    T: Transport + Send + 'static,
    C: FnOnce() -> Result<Client<T>> + Send + 'static,
    R: FnOnce() -> Result<Source>,
{
    let kernel = std::thread::spawn(move || -> Result<_> {
        let mut c = connect()?;
        let status = c.status()?;
        // A locked kernel (enabled 2) still lists its rules: the refusal below says whether
        // they differ from the set, and --dry-run shows how.
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
    let (src, c) = (&src, &mut c);
    let mut target = plan::target_checked(&parsed, opts.mode, missing_path);
    if locked && !opts.dry_run && target.fatal().is_some() {
        // Nothing could change anyway: the lock is the answer, not the set's problem.
        session::refuse_if_immutable(&status)?;
    }
    check_problems(src, &target)?;
    let selections: BTreeSet<u32> =
        target.rules.iter().filter_map(|t| class_selection(&t.rule)).collect();
    let classes_unknown = !selections.is_empty() && (opts.dry_run || locked);
    if !selections.is_empty() && !classes_unknown {
        let (expansions, listed) = learn_classes(c, &selections)?;
        current = listed;
        for t in &mut target.rules {
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
    let host = Machine::host();

    let report = Report { plan: &plan, current: &current, target: &target, src, changes: &changes };
    let in_sync = plan.is_empty() && changes.is_empty();
    if opts.dry_run && opts.json {
        let mut v = report.json(true, locked, false, None);
        v["in_sync"] = json!(in_sync);
        v["classes_unknown"] = json!(classes_unknown);
        print_json(&v)?;
    }
    if opts.dry_run && !opts.json {
        let mut out = output::stdout();
        let (before, after): (Vec<_>, Vec<_>) = changes.iter().partition(|c| !c.after_rules());
        for ch in &before {
            writeln!(out, "{}", setting_line(ch))?;
        }
        for l in plan::plan_lines(&plan, &current, &desired, host) {
            writeln!(out, "{l}")?;
        }
        for ch in &after {
            writeln!(out, "{}", setting_line(ch))?;
        }
        writeln!(
            out,
            "apply --dry-run: would add {}, delete {}, keep {}, re-add {}, change {} setting{}; \
             nothing was changed",
            plan.added,
            plan.deleted,
            plan.kept,
            plan.readded,
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        )?;
        if classes_unknown {
            let n = target.rules.iter().filter(|t| class_selection(&t.rule).is_some()).count();
            writeln!(
                out,
                "note: {n} rule{} select syscall classes (-S 2032..2047): the kernel lists them \
                 with its own class tables, which only a change could ask, so the plan may show \
                 them as changed (apply asks the kernel first)",
                if n == 1 { "" } else { "s" }
            )?;
        }
        if locked {
            writeln!(
                out,
                "the audit configuration is locked (enabled 2, immutable mode): {}",
                if plan.is_empty() && changes.is_empty() {
                    "the kernel already holds the set"
                } else {
                    "none of this can change before the machine reboots"
                }
            )?;
        }
        out.flush()?;
    }
    if opts.dry_run {
        if locked && !in_sync {
            return Ok(ExitCode::from(code::IMMUTABLE));
        }
        return Ok(exit(&target));
    }
    if locked {
        let e = locked_refusal(&plan, changes.len());
        if opts.json {
            let mut v = report.json(false, true, false, None);
            v["in_sync"] = json!(in_sync);
            v["error"] = json!(e.to_string());
            print_json(&v)?;
        }
        return Err(e);
    }
    let failed = |c: &mut Client<T>, what: &str, e: &ProtoError| {
        report_failure(c, &report, &desired, what, e, opts.json)
    };

    for ch in changes.iter().filter(|c| !c.after_rules()) {
        if let Err(e) = change_setting(c, ch) {
            return Err(failed(c, &setting_line(ch), &e));
        }
    }
    if let Err((step, e)) = execute(c, &plan, &current, &target) {
        let what = step_line(&plan, step, &current, &target, src, host);
        return Err(failed(c, &what, &e));
    }
    for ch in changes.iter().filter(|c| c.after_rules()) {
        if let Err(e) = change_setting(c, ch) {
            return Err(failed(c, &setting_line(ch), &e));
        }
    }
    if opts.json {
        let mut v = report.json(false, false, !in_sync, Some(start.elapsed().as_secs_f64()));
        v["in_sync"] = json!(true);
        print_json(&v)?;
        return Ok(exit(&target));
    }
    println!(
        "apply: {} added, {} deleted, {} kept, {} re-added, {} setting{} changed, {:.3} s",
        plan.added,
        plan.deleted,
        plan.kept,
        plan.readded,
        changes.len(),
        if changes.len() == 1 { "" } else { "s" },
        start.elapsed().as_secs_f64()
    );
    Ok(exit(&target))
}

/// Why the kernel would refuse `r` with ENOENT on this machine: a watch (`-w FILE`,
/// `path=`) or an `exe=` needs the file's directory (kernel/audit_watch.c `audit_add_watch`
/// and audit_fsnotify.c `audit_alloc_mark` look the parent up), a directory rule (`-w DIR/`,
/// `dir=`) the directory itself (audit_tree.c `audit_add_tree_rule`). Paths are looked up
/// as the kernel will, from this process (same mount namespace).
fn missing_path(r: &RuleData) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    r.fields.iter().find_map(|f| {
        let FieldValue::Str(p) = &f.value else { return None };
        let p = Path::new(std::ffi::OsStr::from_bytes(p));
        let (name, exists) = match f.field {
            FieldType::AUDIT_WATCH | FieldType::AUDIT_EXE => {
                let dir = p.parent()?;
                (dir, std::fs::metadata(dir).is_ok_and(|m| m.is_dir()))
            }
            FieldType::AUDIT_DIR => (p, std::fs::symlink_metadata(p).is_ok()),
            _ => return None,
        };
        (!exists).then(|| format!("{} does not exist here", name.display()))
    })
}

/// Class selector bits (mask word 63) → the syscall mask the kernel lists for them.
type ClassExpansions = HashMap<u32, [u32; 64]>;

/// The kernel's expansion of each class selection the set uses (see
/// nlaudit_rules::normalize), and the rules in force. For each selection a probe rule that
/// can match no task (`never,exit`, `pid=0`) selecting just those classes is added, the
/// rules are listed (the probe shows the expansion), and the probes are deleted again: one
/// add and one delete each, before anything of the set is changed.
fn learn_classes<T: Transport>(
    c: &mut Client<T>,
    selections: &BTreeSet<u32>,
) -> Result<(ClassExpansions, Vec<RuleData>)> {
    let prefix = format!("nlaudit-class-probe-{}-", std::process::id());
    let selections: Vec<u32> = selections.iter().copied().collect();
    let probes: Vec<RuleData> =
        selections.iter().map(|&bits| class_probe(bits, &format!("{prefix}{bits:08x}"))).collect();
    let listed: Result<Vec<RuleData>> = match c.batch(BatchOp::Add, &probes, OnError::Stop) {
        Err(e) => Err(e.into()),
        Ok(r) => match r.first_refusal() {
            Some(Refusal { errno, .. }) => {
                Err(ProtoError::Kernel { op: Op::AddRule, errno }.into())
            }
            None => c.list_rules().map_err(Into::into),
        },
    };
    // Whatever happened, no probe stays.
    let left = match c.batch(BatchOp::Delete, &probes, OnError::Continue) {
        Ok(r) => r
            .iter()
            .filter(|x| !matches!(x, ItemResult::Done | ItemResult::Refused(Errno::ENOENT)))
            .count(),
        Err(_) => probes.len(),
    };
    if left > 0 {
        return Err(fail(
            code::FAILED,
            format!(
                "{left} probe rule(s) for the kernel's syscall classes could not be deleted: \
                 delete the rules with keys {prefix}* (`nlaudit list --key {prefix}`); \
                 nothing of the set was changed"
            ),
        ));
    }
    let listed = listed.context(
        "cannot learn the kernel's syscall classes (a probe rule was added, listed and deleted \
         again); nothing of the set was changed",
    )?;
    // A listed probe differs from the one sent only in its mask.
    let probe_of = |r: &RuleData| {
        probes.iter().position(|p| (p.flags, p.action, &p.fields) == (r.flags, r.action, &r.fields))
    };
    let mut expansions = HashMap::new();
    let mut current = Vec::with_capacity(listed.len());
    for r in listed {
        match probe_of(&r) {
            Some(i) => {
                expansions.insert(selections[i], r.mask);
            }
            None => current.push(r),
        }
    }
    if expansions.len() != selections.len() {
        return Err(fail(
            code::FAILED,
            "cannot learn the kernel's syscall classes: a probe rule was not listed; nothing \
             was changed",
        ));
    }
    Ok((expansions, current))
}

/// A rule that matches no task (`-a never,exit -F pid=0 -F key=KEY`) selecting the classes
/// `bits` of mask word 63 and no syscall.
fn class_probe(bits: u32, key: &str) -> RuleData {
    let mut mask = [0u32; 64];
    mask[63] = bits;
    RuleData {
        flags: FilterList::EXIT.0,
        action: Action::NEVER.0,
        fields: vec![
            FieldData {
                field: FieldType::AUDIT_PID,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Num(0),
            },
            FieldData {
                field: FieldType::AUDIT_FILTERKEY,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Str(key.as_bytes().to_vec()),
            },
        ],
        mask,
    }
}

/// The refusal on a locked kernel, saying whether the set is what the kernel holds.
fn locked_refusal(plan: &Plan, settings: usize) -> anyhow::Error {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let state = if plan.is_empty() && settings == 0 {
        "the kernel already holds the set".to_string()
    } else {
        format!(
            "the kernel differs from the set by {}, {}, {} and {} (`nlaudit apply --dry-run` \
             lists them)",
            plural(plan.added, "rule to add", "rules to add"),
            plural(plan.deleted, "to delete", "to delete"),
            plural(plan.readded, "to re-add", "to re-add"),
            plural(settings, "setting to change", "settings to change"),
        )
    };
    fail(
        code::IMMUTABLE,
        format!(
            "the audit configuration is locked (enabled 2, immutable mode): no rule or setting \
             can change until the machine reboots; nothing was changed; {state}"
        ),
    )
}

/// Exit status after a run: 1 when `-c` let problems through (as `auditctl -R -c`).
fn exit(target: &Target) -> ExitCode {
    if target.problems.iter().any(|p| p.mode.fails_at_end()) {
        ExitCode::from(code::FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Refuses a set with a problem met while no `-c`/`-i` was in force; reports the others.
fn check_problems(src: &Source, target: &Target) -> Result<()> {
    for p in &target.problems {
        if p.mode.stops() {
            return Err(fail(
                if matches!(p.kind, ProblemKind::Parse(_)) { code::USAGE } else { code::FAILED },
                format!(
                    "{}\nnothing was changed: `auditctl -R` would stop at this line; fix it, or \
                     put `-c` or `-i` before it (or pass -c/-i) to skip such lines",
                    problem_text(src, p)
                ),
            ));
        }
        eprintln!("nlaudit: {} (skipped)", problem_text(src, p));
    }
    Ok(())
}

fn problem_text(src: &Source, p: &Problem) -> String {
    format!("{}: {}", src.location(p.source), problem_message(src, p))
}

/// What is wrong with a line (without its location).
fn problem_message(src: &Source, p: &Problem) -> String {
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

fn setting_line(ch: &SettingChange) -> String {
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

/// Runs the steps: each run of adds or of deletes is one batch (many messages per
/// datagram); a re-add's delete and add are runs of their own, so the rule is out for one
/// round trip only. Returns the failing step and why.
fn execute<T: Transport>(
    c: &mut Client<T>,
    plan: &Plan,
    current: &[RuleData],
    target: &Target,
) -> std::result::Result<(), (usize, ProtoError)> {
    let steps = &plan.steps;
    let is_add = |s: &Step| matches!(s, Step::Add { .. });
    let mut i = 0;
    while i < steps.len() {
        let add = is_add(&steps[i]);
        let n = steps[i..].iter().take_while(|s| is_add(s) == add).count();
        let rules: Vec<RuleData> =
            steps[i..i + n].iter().map(|s| step_rule(s, current, target)).collect();
        let (what, op) =
            if add { (BatchOp::Add, Op::AddRule) } else { (BatchOp::Delete, Op::DeleteRule) };
        let results = c.batch(what, &rules, OnError::Stop).map_err(|e| (i, e))?;
        for (k, r) in results.iter().enumerate() {
            match r {
                // A rule someone else deleted meanwhile is gone all the same.
                ItemResult::Done | ItemResult::NotReached => {}
                ItemResult::Refused(Errno::ENOENT) if !add => {}
                ItemResult::Refused(errno) => {
                    return Err((i + k, ProtoError::Kernel { op, errno: *errno }))
                }
            }
        }
        i += n;
    }
    Ok(())
}

fn step_line(
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
                src.location(t.source)
            )
        }
        Some(Step::Delete { index, .. }) => {
            format!("- {}", plan::rule_text(&current[*index], Position::Append, host))
        }
        None => "?".to_string(),
    }
}

/// After a failure: lists the rules again, prints them (stdout: `auditctl -l` text, or with
/// `json` the report with `error` and `in_force`), and returns the error with what is
/// missing from the set and what is in force beyond it.
fn report_failure<T: Transport>(
    c: &mut Client<T>,
    report: &Report<'_>,
    desired: &[RuleData],
    what: &str,
    e: &ProtoError,
    json: bool,
) -> anyhow::Error {
    let (src, target) = (report.src, report.target);
    let reason = match e {
        ProtoError::Kernel { errno, op } => {
            let delete = *op == Op::DeleteRule;
            if matches!(op, Op::AddRule | Op::DeleteRule) {
                rule_error(delete, *errno)
            } else {
                format!("{e}")
            }
        }
        other => format!("{other}"),
    };
    let host = Machine::host();
    let mut msg = format!("apply stopped at {what}: {reason}");
    let listed = c.list_rules();
    match &listed {
        Ok(now) => {
            if !json {
                print!("{}", render_listing(now, None, host));
            }
            let held: HashSet<&RuleData> = now.iter().collect();
            let wanted: HashSet<&RuleData> = desired.iter().collect();
            let missing: Vec<_> =
                target.rules.iter().filter(|t| !held.contains(&t.normal)).collect();
            let extra: Vec<_> = now.iter().filter(|r| !wanted.contains(r)).collect();
            let order = if missing.is_empty() && extra.is_empty() && now != desired {
                ", in another order"
            } else {
                ""
            };
            msg += &format!(
                "\nthe kernel now holds {} rules (listed on standard output): {} of the set's {}{order}, \
                 {} not in the set",
                now.len(),
                desired.len() - missing.len(),
                desired.len(),
                extra.len()
            );
            for t in missing {
                msg += &format!(
                    "\n  missing: {} ({})",
                    plan::rule_text(&t.normal, Position::Append, host),
                    src.location(t.source)
                );
            }
            for r in extra {
                msg +=
                    &format!("\n  not in the set: {}", plan::rule_text(r, Position::Append, host));
            }
        }
        Err(le) => {
            msg += &format!(
                "\ncould not list the rules in force ({le}): run `nlaudit list` to see them"
            )
        }
    }
    if json {
        let mut v = report.json(false, false, true, None);
        v["in_sync"] = json!(false);
        v["error"] = json!(msg);
        v["in_force"] = match &listed {
            Ok(now) => {
                json!(now
                    .iter()
                    .map(|r| plan::rule_text(r, Position::Append, host))
                    .collect::<Vec<_>>())
            }
            Err(_) => Value::Null,
        };
        // The error goes to stderr as well; a JSON that cannot be written changes nothing.
        let _ = print_json(&v);
    }
    let code = match e.errno() {
        Some(Errno::EPERM) => code::NOT_PERMITTED,
        _ => code::FAILED,
    };
    fail(code, msg)
}

/// What `--json` reports: the plan against what was in force, and the lines passed over.
struct Report<'a> {
    plan: &'a Plan,
    current: &'a [RuleData],
    target: &'a Target,
    src: &'a Source,
    changes: &'a [SettingChange],
}

impl Report<'_> {
    /// The object (docs/rules-files.md, "apply --json"); callers set `in_sync` and, after
    /// a failure, `error` and `in_force`.
    fn json(&self, dry_run: bool, locked: bool, changed: bool, seconds: Option<f64>) -> Value {
        let host = Machine::host();
        let (plan, target, src) = (self.plan, self.target, self.src);
        let steps: Vec<Value> = plan
            .steps
            .iter()
            .map(|s| match *s {
                Step::Add { index, position, readd } => {
                    let t = &target.rules[index];
                    json!({
                        "op": "add",
                        "rule": plan::rule_text(&t.normal, position, host),
                        "prepend": position == Position::Prepend,
                        "readd": readd,
                        "reason": Value::Null,
                        "source": src.location(t.source),
                    })
                }
                Step::Delete { index, reason } => json!({
                    "op": "delete",
                    "rule": plan::rule_text(&self.current[index], Position::Append, host),
                    "prepend": false,
                    "readd": reason == DeleteReason::Readd,
                    "reason": match reason {
                        DeleteReason::Obsolete => "obsolete",
                        DeleteReason::Readd => "readd",
                        DeleteReason::SurplusCopy => "surplus-copy",
                    },
                    "source": Value::Null,
                }),
            })
            .collect();
        let settings: Vec<Value> =
            self.changes.iter().map(|ch| json!({"option": ch.option(), "from": ch.from})).collect();
        let skipped: Vec<Value> = target
            .problems
            .iter()
            .map(|p| json!({"source": src.location(p.source), "message": problem_message(src, p)}))
            .collect();
        json!({
            "schema": 1,
            "dry_run": dry_run,
            "locked": locked,
            "changed": changed,
            "in_sync": Value::Null,
            "summary": {
                "added": plan.added,
                "deleted": plan.deleted,
                "kept": plan.kept,
                "readded": plan.readded,
                "settings_changed": self.changes.len(),
                "seconds": seconds,
            },
            "steps": steps,
            "settings": settings,
            "skipped": skipped,
            "classes_unknown": false,
            "error": Value::Null,
            "in_force": Value::Null,
        })
    }
}

fn print_json(v: &Value) -> std::io::Result<()> {
    let mut out = output::stdout();
    output::json(&mut out, v)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use nlaudit_proto::MsgType;

    use super::*;
    use crate::errors::Failure;
    use crate::ruleset_cmd::source::SourceLine;
    use crate::testsupport::Locked;

    fn set_of(text: &'static str) -> impl FnOnce() -> Result<Source> {
        move || {
            Ok(Source {
                files: vec!["/etc/audit/rules.d/x.rules".into()],
                lines: text
                    .lines()
                    .enumerate()
                    .map(|(i, t)| SourceLine { text: t.to_string(), file: 0, line: i + 1 })
                    .collect(),
                merged: None,
            })
        }
    }

    const WATCH: &str = "-w /etc/passwd -p wa -k nlaudit-immutable";

    /// Runs apply on a locked kernel holding `held`; returns the result and the message
    /// types sent.
    fn on_locked(
        held: &[&str],
        set: &'static str,
        dry_run: bool,
    ) -> (Result<ExitCode>, Vec<MsgType>) {
        on_locked_as(held, set, dry_run, false)
    }

    fn on_locked_as(
        held: &[&str],
        set: &'static str,
        dry_run: bool,
        json: bool,
    ) -> (Result<ExitCode>, Vec<MsgType>) {
        let ctx = nlaudit_rules::Context::new(&nlaudit_rules::NoEnv);
        let rules = held
            .iter()
            .map(|l| match nlaudit_rules::parse_command(&nlaudit_rules::split_words(l), &ctx) {
                Ok(mut d) => match d.pop() {
                    Some(nlaudit_rules::Directive::Rule(rc)) => nlaudit_rules::normalize(&rc.rule),
                    other => panic!("not a rule: {other:?}"),
                },
                Err(e) => panic!("{l}: {}", e.message),
            })
            .collect();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let fake = Locked { sent: Arc::clone(&sent), rules, replies: VecDeque::new() };
        let opts = Options { dry_run, mode: ErrorMode::default(), json };
        let connect = move || Ok(Client::with_transport(fake));
        let r = run(connect, set_of(set), opts, Instant::now());
        let sent = sent.lock().expect("lock").clone();
        (r, sent)
    }

    /// On a locked kernel apply changes nothing: it only asks (status, list) and refuses,
    /// saying whether the set differs; --dry-run shows the plan and exits with the
    /// immutable code when something differs, 0 when the kernel already holds the set.
    #[test]
    fn a_locked_kernel_is_only_asked_and_the_difference_is_told() {
        let differs = "-D\n-b 8192\n-w /etc/passwd -p wa -k nlaudit-immutable\n-e 1\n";
        let (r, sent) = on_locked(&[], differs, false);
        let e = r.expect_err("refused");
        let f = e.downcast_ref::<Failure>().expect("a failure with a code");
        assert_eq!(f.code, code::IMMUTABLE);
        assert!(f.message.contains("immutable"), "{}", f.message);
        assert!(
            f.message.contains("by 1 rule to add, 0 to delete, 0 to re-add and 2 settings"),
            "{}",
            f.message
        );
        assert_eq!(sent, [MsgType::AUDIT_GET, MsgType::AUDIT_LIST_RULES]);

        let (r, sent) = on_locked(&[], differs, true);
        assert_eq!(r.expect("dry run"), ExitCode::from(code::IMMUTABLE));
        assert_eq!(sent, [MsgType::AUDIT_GET, MsgType::AUDIT_LIST_RULES]);

        let same = "-w /etc/passwd -p wa -k nlaudit-immutable\n";
        let (r, sent) = on_locked(&[WATCH], same, false);
        let e = r.expect_err("refused");
        let f = e.downcast_ref::<Failure>().expect("a failure with a code");
        assert_eq!(f.code, code::IMMUTABLE);
        assert!(f.message.contains("the kernel already holds the set"), "{}", f.message);
        assert_eq!(sent, [MsgType::AUDIT_GET, MsgType::AUDIT_LIST_RULES]);

        let (r, _) = on_locked(&[WATCH], same, true);
        assert_eq!(r.expect("dry run"), ExitCode::SUCCESS);

        // A set with a problem: the lock is reported first, nothing is sent.
        let (r, sent) =
            on_locked(&[], "-w /etc/passwd -p wa -k x\n-w /etc/passwd -p wa -k x\n", false);
        let f = r.expect_err("refused");
        let f = f.downcast_ref::<Failure>().expect("a failure with a code");
        assert_eq!(f.code, code::IMMUTABLE);
        assert_eq!(sent, [MsgType::AUDIT_GET, MsgType::AUDIT_LIST_RULES]);

        // With --json the outcome (exit codes, what is sent) is the same.
        let (r, sent) = on_locked_as(&[], differs, false, true);
        let e = r.expect_err("refused");
        assert_eq!(e.downcast_ref::<Failure>().map(|f| f.code), Some(code::IMMUTABLE));
        assert_eq!(sent, [MsgType::AUDIT_GET, MsgType::AUDIT_LIST_RULES]);
        let (r, _) = on_locked_as(&[], differs, true, true);
        assert_eq!(r.expect("dry run"), ExitCode::from(code::IMMUTABLE));
        let (r, _) = on_locked_as(&[WATCH], same, true, true);
        assert_eq!(r.expect("dry run"), ExitCode::SUCCESS);
    }
}
