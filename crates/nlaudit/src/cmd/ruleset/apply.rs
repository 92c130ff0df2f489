//! `nlaudit apply`: make the kernel's rules what the set leaves when run on them (its `-D`
//! decides: with one, equal in order to the set), with the least kernel work and without a
//! gap. The planning is `nlaudit_rules::plan`; this module runs it in three parts, as every
//! changing command does:
//!
//! 1. [`prepare`] (decide): read the status and the rules, read and parse the set, run it on
//!    a model of the kernel as it is, plan. Nothing of the set is sent; the only change is
//!    the class probe (a rule that matches nothing, added, listed and deleted) when the set
//!    selects syscall classes.
//! 2. [`execute`] (do): the settings that do not depend on the rules (`-b`, `-f`, `-r`,
//!    `--backlog_wait_time`), the rule steps (adds in batches, re-adds one rule at a time,
//!    deletes of obsolete rules last), and only when all of that succeeded `-e 0|1`,
//!    `--loginuid-immutable` and, last, `-e 2`. A failure or a signal stops it; the rules in
//!    force are then listed again. It prints nothing but the progress line.
//! 3. [`render`] (say): the plan, the summary or the truth after a stop, as text or one
//!    JSON object ([`ApplyReport`], schema in docs/rules-files.md), and the exit code.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use nlaudit_proto::{Client, Errno, Error as ProtoError, Op, Position, RuleData, Transport};
use nlaudit_rules::normalize::class_selection;
use nlaudit_rules::plan::{self, DeleteReason, ErrorMode, OtherFormPolicy, Plan, Step, Target};
use nlaudit_rules::Machine;
use serde::Serialize;

use super::source::{rule_error, Source};
use crate::support::enforce::{execute, prepare};
use crate::support::enforce::{
    location, other_form_text, problem_message, problem_text, setting_line, Intent, Outcome,
    Prepared, Ran,
};
use crate::support::errors::{code, fail};
use crate::support::output;
use crate::support::progress::Show;

/// How to apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Print the plan and change nothing.
    pub dry_run: bool,
    /// `-c`/`-i` given on the command line.
    pub mode: ErrorMode,
    /// Report as one JSON object on standard output.
    pub json: bool,
    /// Rules in force in the other generation's form of a set line: kept, or rewritten.
    pub other_forms: OtherFormPolicy,
}

/// Applies the rule set `read` returns through the client `connect` opens. `start` is
/// when the command started (for the summary).
pub fn run<T, C, R>(connect: C, read: R, opts: Options, start: Instant) -> Result<ExitCode>
where
    T: Transport + Send + 'static,
    C: FnOnce() -> Result<Client<T>> + Send + 'static,
    R: FnOnce() -> Result<Source>,
{
    let intent = Intent {
        dry_run: opts.dry_run,
        mode: opts.mode,
        progress: Show::OnTerminal,
        other_forms: opts.other_forms,
    };
    let mut p = prepare(connect, read, intent)?;
    let outcome = if opts.dry_run || p.locked { None } else { Some(execute(&mut p)) };
    render(&p, outcome.as_ref(), opts, start)
}

/// Says: the plan (dry run), the refusal (locked), the summary, or the truth after a stop;
/// text or JSON; and the exit code.
pub fn render<T: Transport>(
    p: &Prepared<T>,
    outcome: Option<&Outcome>,
    opts: Options,
    start: Instant,
) -> Result<ExitCode> {
    for problem in &p.target.problems {
        eprintln!("nlaudit: {} (skipped)", problem_text(&p.src, problem));
    }
    let in_sync = p.in_sync();
    let Some(outcome) = outcome else {
        if opts.dry_run {
            return render_dry_run(p, opts);
        }
        // Locked, not a dry run.
        let e = locked_refusal(&p.plan, p.changes.len());
        if opts.json {
            let mut r = ApplyReport::new(p, false);
            r.in_sync = Some(in_sync);
            r.error = Some(e.to_string());
            print_json(&r)?;
        }
        return Err(e);
    };
    let headline = match &outcome.ran {
        Ran::Done => {
            if opts.json {
                let mut r = ApplyReport::new(p, !in_sync);
                r.in_sync = Some(true);
                r.summary.seconds = Some(start.elapsed().as_secs_f64());
                print_json(&r)?;
            } else {
                let plan = &p.plan;
                for f in &p.target.other_forms {
                    println!("{}", other_form_text(&p.src, f));
                }
                println!(
                    "apply: {} added, {} deleted, {} kept, {} re-added, {} setting{} changed, \
                     {:.3} s{}",
                    plan.added,
                    plan.deleted,
                    plan.kept,
                    plan.readded,
                    p.changes.len(),
                    if p.changes.len() == 1 { "" } else { "s" },
                    start.elapsed().as_secs_f64(),
                    outside_note(&p.target)
                );
            }
            return Ok(exit(&p.target));
        }
        Ran::Failed { what, error } => {
            let (reason, code) = failure_reason(error);
            (format!("apply stopped at {what}: {reason}"), code)
        }
        Ran::Interrupted { stop, done } => (
            format!(
                "apply interrupted by {} after {done} of {} rule changes (no rule the old and \
                 new sets share was left out); the settings after the rules were not changed",
                stop.name(),
                p.plan.steps.len()
            ),
            stop.exit_code(),
        ),
    };
    let (headline, code) = headline;
    Err(report_in_force(p, outcome.in_force.as_ref(), headline, code, opts.json))
}

fn render_dry_run<T: Transport>(p: &Prepared<T>, opts: Options) -> Result<ExitCode> {
    let (plan, changes, target) = (&p.plan, &p.changes, &p.target);
    let in_sync = p.in_sync();
    if opts.json {
        let mut r = ApplyReport::new(p, false);
        r.dry_run = true;
        r.in_sync = Some(in_sync);
        r.classes_unknown = p.classes_unknown;
        print_json(&r)?;
    } else {
        let host = Machine::host();
        let mut out = output::stdout();
        let (before, after): (Vec<_>, Vec<_>) = changes.iter().partition(|c| !c.after_rules());
        for ch in &before {
            writeln!(out, "{}", setting_line(ch))?;
        }
        for l in plan::plan_lines(plan, &p.current, &p.desired, host) {
            writeln!(out, "{l}")?;
        }
        for ch in &after {
            writeln!(out, "{}", setting_line(ch))?;
        }
        for f in &target.other_forms {
            writeln!(out, "{}", other_form_text(&p.src, f))?;
        }
        writeln!(
            out,
            "apply --dry-run: would add {}, delete {}, keep {}, re-add {}, change {} setting{}; \
             nothing was changed{}",
            plan.added,
            plan.deleted,
            plan.kept,
            plan.readded,
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            outside_note(target)
        )?;
        if p.classes_unknown {
            let n = target.rules.iter().filter(|t| class_selection(&t.rule).is_some()).count();
            writeln!(
                out,
                "note: {n} rule{} select syscall classes (-S 2032..2047): the kernel lists them \
                 with its own class tables, which only a change could ask, so the plan may show \
                 them as changed (apply asks the kernel first)",
                if n == 1 { "" } else { "s" }
            )?;
        }
        if p.locked {
            writeln!(
                out,
                "the audit configuration is locked (enabled 2, immutable mode): {}",
                if in_sync {
                    "the kernel already holds the set"
                } else {
                    "none of this can change before the machine reboots"
                }
            )?;
        }
        out.flush()?;
    }
    if p.locked && !in_sync {
        return Ok(ExitCode::from(code::IMMUTABLE));
    }
    if !in_sync {
        // As `docker ensure --dry-run`: 1 when something would change.
        return Ok(ExitCode::from(code::FAILED));
    }
    Ok(exit(target))
}

/// The summary's note on rules in force that the set keeps because it has no `-D`.
fn outside_note(target: &Target) -> String {
    match target.kept_from_kernel() {
        0 => String::new(),
        n => format!(
            "; {n} rule{} in force outside the set kept (the set has no -D: it only adds, as \
             augenrules --load does)",
            if n == 1 { "" } else { "s" }
        ),
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

/// After a failure or an interruption: the truth from the rules listed again (stdout: the
/// `auditctl -l` text, or with `json` the report with `error` and `in_force`); returns the
/// error with what is missing from the set and what is in force beyond it.
fn report_in_force<T: Transport>(
    p: &Prepared<T>,
    listed: Option<&nlaudit_proto::Result<Vec<RuleData>>>,
    headline: String,
    code: u8,
    json: bool,
) -> anyhow::Error {
    let (src, target, desired) = (&p.src, &p.target, &p.desired);
    let host = Machine::host();
    let mut msg = headline;
    match listed {
        Some(Ok(now)) => {
            if !json {
                print!(
                    "{}",
                    nlaudit_rules::render_listing_as(
                        now,
                        None,
                        host,
                        crate::support::system::generation()
                    )
                );
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
            // Each list is named up to SHOWN rules; the listing on stdout has them all.
            const SHOWN: usize = 20;
            for t in missing.iter().take(SHOWN) {
                msg += &format!(
                    "\n  missing: {} ({})",
                    plan::rule_text(&t.normal, Position::Append, host),
                    location(src, t.origin)
                );
            }
            if missing.len() > SHOWN {
                msg += &format!("\n  ... and {} more missing", missing.len() - SHOWN);
            }
            for r in extra.iter().take(SHOWN) {
                msg +=
                    &format!("\n  not in the set: {}", plan::rule_text(r, Position::Append, host));
            }
            if extra.len() > SHOWN {
                msg += &format!("\n  ... and {} more not in the set", extra.len() - SHOWN);
            }
        }
        Some(Err(le)) => {
            msg += &format!(
                "\ncould not list the rules in force ({le}): run `nlaudit list` to see them"
            )
        }
        None => {}
    }
    if json {
        let mut r = ApplyReport::new(p, true);
        r.in_sync = Some(false);
        r.error = Some(msg.clone());
        r.in_force = match listed {
            Some(Ok(now)) => {
                Some(now.iter().map(|x| plan::rule_text(x, Position::Append, host)).collect())
            }
            _ => None,
        };
        // The error goes to stderr as well; a JSON that cannot be written changes nothing.
        let _ = print_json(&r);
    }
    fail(code, msg)
}

/// The auditctl text of a failed step's error, and the exit code.
fn failure_reason(e: &ProtoError) -> (String, u8) {
    let reason = match e {
        ProtoError::Kernel { errno, op } if matches!(op, Op::AddRule | Op::DeleteRule) => {
            rule_error(*op == Op::DeleteRule, *errno)
        }
        other => format!("{other}"),
    };
    let code = match e.errno() {
        Some(Errno::EPERM) => code::NOT_PERMITTED,
        _ => code::FAILED,
    };
    (reason, code)
}

/// `apply --json`: one object for a dry run, a run, a locked kernel and a stop (schema 1,
/// docs/rules-files.md). Fields are in alphabetical order, the order the object has always
/// been printed in.
#[derive(Debug, Serialize)]
pub struct ApplyReport {
    /// The kernel was changed.
    pub changed: bool,
    /// A dry run could not learn the kernel's syscall classes.
    pub classes_unknown: bool,
    /// `--dry-run` was given.
    pub dry_run: bool,
    /// What stopped the run, or the refusal.
    pub error: Option<String>,
    /// After a stop: the rules in force, as `list` prints them.
    pub in_force: Option<Vec<String>>,
    /// Whether the kernel holds the set (after the run).
    pub in_sync: Option<bool>,
    /// Immutable mode.
    pub locked: bool,
    /// Rules in force that the other generation's auditctl compiled from a set line.
    pub other_generation: Vec<OtherFormJson>,
    /// The schema version.
    pub schema: u32,
    /// The settings to change.
    pub settings: Vec<SettingJson>,
    /// Lines passed over (`-c`/`-i`).
    pub skipped: Vec<SkippedJson>,
    /// The rule steps, in order.
    pub steps: Vec<StepJson>,
    /// The counts.
    pub summary: SummaryJson,
}

/// One setting to change.
#[derive(Debug, Serialize)]
pub struct SettingJson {
    /// The value before, when known.
    pub from: Option<u32>,
    /// The option as auditctl writes it (`-b 8192`).
    pub option: String,
}

/// A rule in force in the other generation's form of a set line.
#[derive(Debug, Serialize)]
pub struct OtherFormJson {
    /// The generation whose form it is (3 or 4).
    pub generation: u8,
    /// The rule in force, as `list` prints it.
    pub held: String,
    /// Kept as the line (`false`: rewritten, `--rewrite-other-generation`).
    pub kept: bool,
    /// The line's `FILE:LINE`.
    pub source: String,
}

/// One line passed over.
#[derive(Debug, Serialize)]
pub struct SkippedJson {
    /// What was wrong.
    pub message: String,
    /// `FILE:LINE`.
    pub source: String,
}

/// One rule step.
#[derive(Debug, Serialize)]
pub struct StepJson {
    /// `add` or `delete`.
    pub op: &'static str,
    /// Sent with AUDIT_FILTER_PREPEND.
    pub prepend: bool,
    /// Half of a re-add.
    pub readd: bool,
    /// For a delete: `obsolete`, `readd` or `surplus-copy`.
    pub reason: Option<&'static str>,
    /// The rule, as `list` prints it (`-A` for a prepend).
    pub rule: String,
    /// For an add: the `FILE:LINE` that asks for it.
    pub source: Option<String>,
}

/// The plan's counts.
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    /// New rules added.
    pub added: usize,
    /// Rules deleted for good.
    pub deleted: usize,
    /// Rules left alone.
    pub kept: usize,
    /// Of the kept rules, those in force outside the set (it has no `-D`).
    pub outside_kept: usize,
    /// Rules deleted and added back.
    pub readded: usize,
    /// How long the run took (a completed run only).
    pub seconds: Option<f64>,
    /// Settings changed.
    pub settings_changed: usize,
}

impl ApplyReport {
    /// The report of the plan; callers set `in_sync`, `error`, `in_force`, `seconds`.
    fn new<T: Transport>(p: &Prepared<T>, changed: bool) -> ApplyReport {
        let host = Machine::host();
        let (plan, target, src) = (&p.plan, &p.target, &p.src);
        let steps = plan
            .steps
            .iter()
            .map(|s| match *s {
                Step::Add { index, position, readd } => {
                    let t = &target.rules[index];
                    StepJson {
                        op: "add",
                        prepend: position == Position::Prepend,
                        readd,
                        reason: None,
                        rule: plan::rule_text(&t.normal, position, host),
                        source: Some(location(src, t.origin)),
                    }
                }
                Step::Delete { index, reason } => StepJson {
                    op: "delete",
                    prepend: false,
                    readd: reason == DeleteReason::Readd,
                    reason: Some(match reason {
                        DeleteReason::Obsolete => "obsolete",
                        DeleteReason::Readd => "readd",
                        DeleteReason::SurplusCopy => "surplus-copy",
                    }),
                    rule: plan::rule_text(&p.current[index], Position::Append, host),
                    source: None,
                },
            })
            .collect();
        ApplyReport {
            changed,
            classes_unknown: false,
            dry_run: false,
            error: None,
            in_force: None,
            in_sync: None,
            locked: p.locked,
            other_generation: target
                .other_forms
                .iter()
                .map(|f| OtherFormJson {
                    generation: f.generation.major(),
                    held: plan::rule_text(&f.held, Position::Append, host),
                    kept: f.policy == OtherFormPolicy::Keep,
                    source: src.location(f.source),
                })
                .collect(),
            schema: 1,
            settings: p
                .changes
                .iter()
                .map(|ch| SettingJson { from: ch.from, option: ch.option() })
                .collect(),
            skipped: target
                .problems
                .iter()
                .map(|x| SkippedJson {
                    message: problem_message(src, x),
                    source: src.location(x.source),
                })
                .collect(),
            steps,
            summary: SummaryJson {
                added: plan.added,
                deleted: plan.deleted,
                kept: plan.kept,
                outside_kept: target.kept_from_kernel(),
                readded: plan.readded,
                seconds: None,
                settings_changed: p.changes.len(),
            },
        }
    }
}

fn print_json(r: &ApplyReport) -> std::io::Result<()> {
    output::print_json(r)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use nlaudit_proto::MsgType;

    use super::*;
    use crate::cmd::ruleset::source::SourceLine;
    use crate::support::errors::Failure;
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
        let opts = Options { dry_run, mode: ErrorMode::default(), json, ..Options::default() };
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
