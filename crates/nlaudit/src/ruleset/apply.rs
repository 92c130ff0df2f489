//! `nlaudit apply`: make the kernel's rules equal, in order, to a rule set, with the least
//! kernel work and without a gap (the planning is `nlaudit_rules::plan`; this runs it).
//!
//! Order of work: read the status (refuse in immutable mode), parse the set and run it on a
//! model of an empty kernel, list the kernel's rules, plan; then the settings that do not
//! depend on the rules (`-b`, `-f`, `-r`, `--backlog_wait_time`), the rule steps (adds in
//! batches, re-adds one rule at a time, deletes of obsolete rules last, in batches), and
//! only when all of that succeeded `-e 0|1`, `--loginuid-immutable` and, last, `-e 2`.
//! Any failure stops the run; the rules in force are listed again and reported.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use nlaudit_proto::consts::{AUDIT_FEATURE_LOGINUID_IMMUTABLE, AUDIT_FILTER_PREPEND};
use nlaudit_proto::{
    BatchOp, Client, Errno, Error as ProtoError, Op, RuleData, Setting, Transport,
};
use nlaudit_rules::plan::{
    self, ErrorMode, Plan, Problem, ProblemKind, SettingChange, SettingKind, Step, Target,
};
use nlaudit_rules::{render_listing, Machine};

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
        // Nothing more to ask a locked kernel: it is refused below.
        let current = if status.enabled == 2 { Vec::new() } else { c.list_rules()? };
        Ok((c, status, current))
    });
    let src = read()?;
    let mut parsed = source::parse(&src, None);
    let (mut c, status, current) =
        kernel.join().map_err(|_| anyhow::anyhow!("the kernel connection thread panicked"))??;
    session::refuse_if_immutable(&status)?;
    if !source::default_features_hold(status.feature_bitmap) {
        parsed = source::parse(&src, status.feature_bitmap);
    }
    let (src, c) = (&src, &mut c);
    let target = plan::target(&parsed, opts.mode);
    check_problems(src, &target)?;

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

    if opts.dry_run {
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
        out.flush()?;
        return Ok(exit(&target));
    }

    for ch in changes.iter().filter(|c| !c.after_rules()) {
        if let Err(e) = change_setting(c, ch) {
            return Err(report_failure(c, src, &target, &desired, &setting_line(ch), &e));
        }
    }
    if let Err((step, e)) = execute(c, &plan, &current, &target) {
        let what = step_line(&plan, step, &current, &target, src, host);
        return Err(report_failure(c, src, &target, &desired, &what, &e));
    }
    for ch in changes.iter().filter(|c| c.after_rules()) {
        if let Err(e) = change_setting(c, ch) {
            return Err(report_failure(c, src, &target, &desired, &setting_line(ch), &e));
        }
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
    let msg = match &p.kind {
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
        other => format!("{other:?}"),
    };
    format!("{}: {msg}", src.location(p.source))
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
        SettingKind::Enabled => c.set(Setting::Enabled(ch.to == 1)),
        SettingKind::LoginuidImmutable => {
            c.set_feature(AUDIT_FEATURE_LOGINUID_IMMUTABLE, true, true)
        }
        SettingKind::Lock => c.lock_configuration_until_reboot(),
        other => Err(ProtoError::Invalid {
            op: Op::SetStatus,
            msg: format!("setting {other:?} is not known to this nlaudit"),
        }),
    }
}

/// The rule a step sends.
fn step_rule(s: &Step, current: &[RuleData], target: &Target) -> RuleData {
    match *s {
        Step::Add { index, prepend, .. } => {
            let mut r = target.rules[index].rule.clone();
            if prepend {
                r.flags |= AUDIT_FILTER_PREPEND;
            }
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
        let results = c.batch(what, &rules, true).map_err(|e| (i, e))?;
        for (k, r) in results.iter().enumerate() {
            match r {
                // A rule someone else deleted meanwhile is gone all the same.
                Some(Ok(())) | None => {}
                Some(Err(Errno::ENOENT)) if !add => {}
                Some(Err(errno)) => return Err((i + k, ProtoError::Kernel { op, errno: *errno })),
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
        Some(Step::Add { index, prepend, .. }) => {
            let t = &target.rules[*index];
            format!("+ {} ({})", plan::rule_text(&t.normal, *prepend, host), src.location(t.source))
        }
        Some(Step::Delete { index, .. }) => {
            format!("- {}", plan::rule_text(&current[*index], false, host))
        }
        None => "?".to_string(),
    }
}

/// After a failure: lists the rules again, prints them (stdout, `auditctl -l` text), and
/// returns the error with what is missing from the set and what is in force beyond it.
fn report_failure<T: Transport>(
    c: &mut Client<T>,
    src: &Source,
    target: &Target,
    desired: &[RuleData],
    what: &str,
    e: &ProtoError,
) -> anyhow::Error {
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
    match c.list_rules() {
        Ok(now) => {
            print!("{}", render_listing(&now, None, host));
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
                    plan::rule_text(&t.normal, false, host),
                    src.location(t.source)
                );
            }
            for r in extra {
                msg += &format!("\n  not in the set: {}", plan::rule_text(r, false, host));
            }
        }
        Err(le) => {
            msg += &format!(
                "\ncould not list the rules in force ({le}): run `nlaudit list` to see them"
            )
        }
    }
    let code = match e.errno() {
        Some(Errno::EPERM) => code::NOT_PERMITTED,
        _ => code::FAILED,
    };
    fail(code, msg)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::io;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use nlaudit_proto::codec::{encode_message, split_datagram, Ack};
    use nlaudit_proto::{MsgType, Received, Status};

    use super::*;
    use crate::errors::Failure;
    use crate::ruleset_cmd::source::SourceLine;

    /// A kernel whose audit configuration is locked (enabled 2): it answers AUDIT_GET and
    /// records every message it is sent.
    #[derive(Default)]
    struct Locked {
        sent: Arc<Mutex<Vec<MsgType>>>,
        replies: VecDeque<Vec<u8>>,
    }

    impl Transport for Locked {
        fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
            let msgs = split_datagram(datagram).map_err(io::Error::other)?;
            for m in msgs {
                let (ty, seq) = (m.header.ty, m.header.seq);
                self.sent.lock().map_err(|_| io::Error::other("poisoned"))?.push(ty);
                let mut out = Vec::new();
                let ack = Ack { error: 0, request_seq: seq, request_type: ty };
                encode_message(&mut out, MsgType::NLMSG_ERROR, 0, seq, &ack.encode());
                if ty == MsgType::AUDIT_GET {
                    let s =
                        Status { enabled: 2, failure: 1, backlog_limit: 64, ..Status::default() };
                    encode_message(&mut out, MsgType::AUDIT_GET, 0, seq, &s.encode());
                }
                self.replies.push_back(out);
            }
            Ok(())
        }

        fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<Received>> {
            let Some(d) = self.replies.pop_front() else { return Ok(None) };
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            Ok(Some(Received { len: d.len(), sender: 0 }))
        }
    }

    fn one_rule_set() -> Result<Source> {
        let text = "-D\n-b 8192\n-w /etc/passwd -p wa -k nlaudit-immutable\n-e 1\n";
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

    #[test]
    fn immutable_mode_is_refused_before_anything_is_sent() {
        for dry_run in [false, true] {
            let sent = Arc::new(Mutex::new(Vec::new()));
            let fake = Locked { sent: Arc::clone(&sent), replies: VecDeque::new() };
            let opts = Options { dry_run, mode: ErrorMode::default() };
            let connect = move || Ok(Client::with_transport(fake));
            let e = run(connect, one_rule_set, opts, Instant::now()).expect_err("refused");
            let f = e.downcast_ref::<Failure>().expect("a failure with a code");
            assert_eq!(f.code, code::IMMUTABLE);
            assert!(f.message.contains("immutable"), "{}", f.message);
            let sent = sent.lock().expect("lock").clone();
            assert_eq!(sent, [MsgType::AUDIT_GET], "only the status was asked");
        }
    }
}
