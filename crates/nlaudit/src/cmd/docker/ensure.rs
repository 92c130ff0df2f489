//! `nlaudit docker ensure`: adds the missing watches to the kernel and persists them in a
//! rules file, idempotently.
//!
//! Three parts: the library plans from a fresh report ([`nlaudit_controls::plan_ensure`]);
//! [`execute`] sends the plan through the kernel connector and writes the file; [`render`]
//! says what happened. What is added, and why nothing is added twice, is documented with
//! the plan.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use nlaudit_controls::ensure::{
    appended_file, Enable, EnsureOptions, EnsurePlan, KernelSide, Persist, RULES_FILE,
};
use nlaudit_controls::evaluate::Verdict;
use nlaudit_controls::fsview::FsView;
use nlaudit_controls::{evaluate, plan_ensure, Inputs, Persisted};
use nlaudit_proto::{Client, Error as ProtoError, Transport};

use super::check::{build_with, open_kernel, KernelSession};
use super::EnsureArgs;
use crate::support::ensure::{
    apply_live, AddResult, CheckCountsJson, EnsureJson, FileJson, KernelJson, LineJson, Mode,
    RuleResultJson,
};
use crate::support::errors::{self, code, fail};
use crate::support::{atomic, output, session, system};

/// Mode of the rules file (augenrules installs audit.rules 0640).
const FILE_MODE: u32 = 0o640;
/// Mode of directories created for it (Debian's /etc/audit and rules.d are 0750).
const DIR_MODE: u32 = 0o750;

/// What [`execute`] did.
struct Executed {
    /// One per rule of `plan.live`; empty when none was sent (immutable mode).
    adds: Vec<AddResult>,
    /// Turning auditing on, when planned and not a dry run.
    enabled: Option<Result<(), ProtoError>>,
    /// Writing the rules file, when there was something to write and not a dry run.
    persisted: Option<io::Result<()>>,
}

/// `nlaudit docker ensure`.
pub fn run(a: EnsureArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("docker ensure");
    }
    run_with(a, session::open)
}

/// [`run`], asking the kernel through the clients `connect` opens (one to change, one to
/// check afterwards; tests pass a fake kernel).
fn run_with<T: Transport>(
    a: EnsureArgs,
    connect: impl Fn() -> Result<Client<T>>,
) -> Result<ExitCode> {
    let host = system::host_for(a.root.as_deref())?;
    let fs = FsView::new(host.as_ref());
    let target = rules_file(&a, &fs)?;
    if !a.no_persist {
        atomic::check_target(&fs.on_host(&target)).with_context(|| "cannot persist the rules")?;
    }
    let session = open_kernel(host.as_ref(), &connect)?;
    let (kernel, mut client) = match session {
        Some(KernelSession { kernel, client }) => (Some(kernel), Some(client)),
        None => (None, None),
    };
    let dialect = system::augenrules_dialect(None);
    // The controls' watches name no syscall: ensure needs no other machine's tables.
    let persisted = Persisted::File(&target);
    let inputs = Inputs { kernel: kernel.as_ref(), persisted, dialect, machine: None };
    let report = evaluate(host.as_ref(), &inputs);
    let opts = EnsureOptions {
        enable: if a.enable { Enable::TurnOn } else { Enable::Leave },
        persist: if a.no_persist { Persist::Nowhere } else { Persist::To(&target) },
    };
    let plan = plan_ensure(&report, host.as_ref(), &opts)
        .map_err(|e| fail(code::FAILED, e.to_string()))?;
    let mode = if a.dry_run { Mode::DryRun } else { Mode::Apply };

    let done = execute(client.as_mut(), &plan, mode, fs);
    let failed = done.adds.iter().filter(|d| matches!(d, AddResult::Failed(_))).count();
    if a.json {
        return render_json(&plan, done, mode, fs, failed, || {
            build_with(host.as_ref(), Persisted::RulesDir, &connect)
        });
    }
    render(&plan, done, mode, fs)?;
    if failed > 0 {
        return Err(fail(code::FAILED, format!("{failed} rule(s) could not be added")));
    }
    if mode == Mode::DryRun {
        return Ok(ExitCode::from(u8::from(plan.changes())));
    }
    // The outcome is what `check` says now.
    let report = build_with(host.as_ref(), Persisted::RulesDir, connect)?;
    let counts = report.counts();
    let mut out = output::stdout();
    writeln!(
        out,
        "check: {} pass, {} fail, {} not applicable",
        counts.pass, counts.fail, counts.not_applicable
    )?;
    if plan.immutable() {
        writeln!(
            out,
            "reboot needed: the audit configuration is immutable until then; the persisted \
             rules load at the next boot"
        )?;
    }
    let failing = report.outcomes.iter().filter(|o| o.verdict == Verdict::Fail);
    if !report.state.recording {
        let only_off = failing.clone().filter(|o| o.rule_found).count();
        if only_off > 0 {
            writeln!(
                out,
                "  {only_off} control{} fail only because audit is disabled (enabled 0): rerun \
                 with --enable",
                if only_off == 1 { "" } else { "s" }
            )?;
        }
    }
    for o in failing.filter(|o| report.state.recording || !o.rule_found) {
        writeln!(out, "  FAIL {:<13}  {}", o.control.ids(), o.reason)?;
    }
    out.flush()?;
    Ok(ExitCode::from(report.exit_code()))
}

/// Carries out the plan: the kernel first (rules, then enabling, so that audit starts with
/// every rule in), then the file. Stops at a failure to enable; a refused rule does not stop
/// the others.
fn execute<T: Transport>(
    client: Option<&mut Client<T>>,
    plan: &EnsurePlan,
    mode: Mode,
    fs: FsView<'_>,
) -> Executed {
    let mut done = Executed { adds: Vec::new(), enabled: None, persisted: None };
    if let Some(c) = client {
        // Immutable: no rule can be added before a reboot; nothing is sent.
        let rules = plan.live.iter().filter(|_| !plan.immutable()).map(|l| &l.rule);
        let k = apply_live(c, rules, plan.enable, mode);
        let stop = k.enable_failed();
        done.adds = k.adds;
        done.enabled = k.enabled;
        if stop {
            return done;
        }
    }
    if let (Some(target), Mode::Apply) = (&plan.target, mode) {
        if !plan.append.is_empty() {
            done.persisted = Some(persist(fs, target, plan));
        }
    }
    done
}

/// `--json`: the plan, what became of it, the error that stopped it and, after a run, the
/// check's counts, as one object; the exit code as without --json (an error: 2, see
/// `docker::run`).
fn render_json(
    plan: &EnsurePlan,
    mut done: Executed,
    mode: Mode,
    fs: FsView<'_>,
    failed: usize,
    check: impl FnOnce() -> Result<nlaudit_controls::Report>,
) -> Result<ExitCode> {
    let immutable = plan.immutable();
    let mut j = EnsureJson {
        schema: 1,
        dry_run: mode == Mode::DryRun,
        changes: plan.changes(),
        ..EnsureJson::default()
    };
    if let KernelSide::Present { enabled } = plan.kernel {
        j.kernel = Some(KernelJson {
            enabled,
            rules: plan
                .live
                .iter()
                .enumerate()
                .map(|(i, l)| RuleResultJson::new(&l.text, l.ids.clone(), done.adds.get(i), mode))
                .collect(),
            enable: match (&done.enabled, plan.enable && !immutable, mode) {
                (_, false, _) => None,
                (Some(Err(_)), true, _) => Some("failed"),
                (_, true, Mode::DryRun) => Some("would enable"),
                (_, true, Mode::Apply) => Some("enabled"),
            },
        });
    }
    if let Some(target) = &plan.target {
        j.files.push(FileJson {
            path: target.clone(),
            append: plan
                .append
                .iter()
                .map(|a| LineJson { ids: a.ids.clone(), text: a.text.clone() })
                .collect(),
            settings: Vec::new(),
            skipped: plan
                .volatile
                .iter()
                .map(|s| LineJson { ids: s.ids.clone(), text: s.why.clone() })
                .collect(),
            written: matches!(done.persisted, Some(Ok(()))),
        });
    }
    let error = match (done.enabled.take(), done.persisted.take()) {
        (Some(Err(e)), _) => Some(anyhow::Error::new(e)),
        (_, Some(Err(e))) => Some(anyhow::Error::new(e).context(format!(
            "cannot write {}",
            plan.target.as_deref().map(|t| fs.on_host(t).display().to_string()).unwrap_or_default()
        ))),
        _ if failed > 0 => Some(fail(code::FAILED, format!("{failed} rule(s) could not be added"))),
        _ => None,
    };
    if let Some(e) = error {
        j.error = Some(errors::describe(&e).message);
        j.exit_code = code::USAGE;
        output::print_json(&j)?;
        return Err(e);
    }
    if mode == Mode::DryRun {
        j.exit_code = u8::from(plan.changes());
        output::print_json(&j)?;
        return Ok(ExitCode::from(j.exit_code));
    }
    let report = check()?;
    let counts = report.counts();
    j.check.push(CheckCountsJson {
        profile: "cis-docker".to_string(),
        pass: counts.pass,
        fail: counts.fail,
        not_applicable: counts.not_applicable,
        failing: report
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Fail)
            .map(|o| o.control.ids())
            .collect(),
    });
    j.exit_code = report.exit_code();
    output::print_json(&j)?;
    Ok(ExitCode::from(j.exit_code))
}

/// Says what [`execute`] did; returns the error that stopped it, if one did.
fn render(plan: &EnsurePlan, done: Executed, mode: Mode, fs: FsView<'_>) -> Result<()> {
    let mut out = output::stdout();
    let dry = mode == Mode::DryRun;
    let (add, append) = if dry { ("would add", "would append") } else { ("add", "append") };
    let immutable = plan.immutable();
    if let KernelSide::Present { enabled } = plan.kernel {
        if plan.changes() || enabled == 0 || immutable {
            writeln!(out, "kernel:")?;
        }
        if immutable && !plan.live.is_empty() {
            writeln!(
                out,
                "  immutable (enabled 2): {} rule{} cannot be added until reboot",
                plan.live.len(),
                if plan.live.len() == 1 { "" } else { "s" }
            )?;
        } else {
            for (l, d) in plan.live.iter().zip(&done.adds) {
                match d {
                    AddResult::Sent => writeln!(out, "  {add:<12} {:<13}  {}", l.ids, l.text)?,
                    AddResult::InForce => {
                        writeln!(out, "  {:<12} {:<13}  {}", "in force", l.ids, l.text)?
                    }
                    AddResult::Failed(_) => {}
                }
            }
        }
        if plan.enable && !immutable {
            if let Some(Err(e)) = done.enabled {
                out.flush()?;
                return Err(e.into());
            }
            let verb = if dry { "would enable" } else { "enable" };
            writeln!(out, "  {verb:<12} auditing (enabled 0 -> 1)")?;
        } else if enabled == 0 {
            writeln!(
                out,
                "  audit is disabled (enabled 0): the rules record nothing until it is turned \
                 on; rerun with --enable"
            )?;
        }
    }
    if let Some(target) = &plan.target {
        if !plan.append.is_empty() || !plan.volatile.is_empty() {
            writeln!(out, "{target}:")?;
            for ap in &plan.append {
                writeln!(out, "  {append:<12} {:<13}  {}", ap.ids, ap.text)?;
            }
            for s in &plan.volatile {
                writeln!(
                    out,
                    "  {:<12} {:<13}  live only: {}; rerun `nlaudit docker ensure \
                     --no-persist` once docker runs",
                    "skip", s.ids, s.why
                )?;
            }
            if let Some(Err(e)) = done.persisted {
                out.flush()?;
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot write {}", fs.on_host(target).display())));
            }
        }
    }
    if !plan.changes() {
        let where_ = match (plan.kernel, &plan.target) {
            (KernelSide::Present { .. }, Some(_)) => "in the kernel and on disk",
            (KernelSide::Present { .. }, None) => "in the kernel",
            (KernelSide::Absent, _) => "on disk",
        };
        writeln!(out, "nothing to change: every applicable control is already audited {where_}")?;
    }
    for (l, d) in plan.live.iter().zip(&done.adds) {
        if let AddResult::Failed(msg) = d {
            writeln!(out, "error: {} ({}): {msg}", l.text, l.ids)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The rules file, inside the root: `--rules-file` (absolute; relative to the current
/// directory on the live machine) or /etc/audit/rules.d/docker.rules.
fn rules_file(a: &EnsureArgs, fs: &FsView<'_>) -> Result<String> {
    let Some(p) = &a.rules_file else { return Ok(RULES_FILE.to_string()) };
    let abs: PathBuf = if p.is_absolute() {
        p.clone()
    } else if fs.is_live() {
        std::env::current_dir()?.join(p)
    } else {
        return Err(fail(
            code::USAGE,
            "with --root, --rules-file must be an absolute path (inside DIR)",
        ));
    };
    let s = abs.to_str().ok_or_else(|| fail(code::USAGE, "--rules-file: not valid UTF-8"))?;
    if s.ends_with('/') {
        return Err(fail(code::USAGE, format!("--rules-file {s}: names a directory")));
    }
    Ok(s.to_string())
}

/// Appends the plan's lines to the rules file, atomically (the old lines are kept byte for
/// byte).
fn persist(fs: FsView<'_>, target: &str, plan: &EnsurePlan) -> io::Result<()> {
    let path = fs.on_host(target);
    let existing = match fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let content = appended_file(existing, &plan.append);
    if let Some(dir) = path.parent() {
        create_dirs(dir)?;
    }
    atomic::write_atomic(&path, &content, FILE_MODE)
}

/// Creates missing directories (mode 0750), making each new entry durable.
fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(parent) = dir.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use nlaudit_proto::MsgType;

    use super::*;
    use crate::testsupport::Locked;

    /// Immutable mode (enabled 2), which a test machine cannot enter: ensure sends no rule
    /// and no setting (not even with --enable), persists the missing watches for the next
    /// boot, and the check afterwards still fails (exit 1) until the reboot.
    #[test]
    fn immutable_mode_persists_and_sends_nothing() {
        if !["/usr/sbin/dockerd", "/usr/bin/dockerd"].iter().any(|p| Path::new(p).exists()) {
            eprintln!("skipping: no dockerd here (apt-get install docker.io)");
            return;
        }
        let dir =
            std::env::temp_dir().join(format!("nlaudit-ensure-locked-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let file = dir.join("docker.rules");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let connect =
            || Ok(Client::with_transport(Locked { sent: Arc::clone(&sent), ..Locked::default() }));
        let a = EnsureArgs {
            dry_run: false,
            rules_file: Some(file.clone()),
            no_persist: false,
            enable: true,
            root: None,
            json: false,
        };
        let code = run_with(a, connect).expect("ensure runs");
        assert_eq!(code, ExitCode::from(1), "the controls fail until the reboot");
        let sent = sent.lock().expect("lock").clone();
        assert!(!sent.is_empty());
        assert!(
            sent.iter().all(|t| *t == MsgType::AUDIT_GET || *t == MsgType::AUDIT_LIST_RULES),
            "only asked, never changed: {sent:?}"
        );
        let text = fs::read_to_string(&file).expect("the watches were persisted");
        assert!(text.contains("-p rwxa -k docker"), "{text}");
        assert!(text.lines().any(|l| l.starts_with("-w ") && l.contains("dockerd")), "{text}");
        let _ = fs::remove_dir_all(&dir);
    }
}
