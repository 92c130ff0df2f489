//! `nlaudit docker ensure`: adds the missing watches to the kernel and persists them in a
//! rules file, idempotently.
//!
//! For every applicable control without a satisfying rule, the rule added is exactly what
//! `auditctl -w PATH -p rwxa -k docker` sends. A control already satisfied by another rule
//! (any key, narrower perms) is left alone. The rules file keeps its lines; a rule is
//! appended only when no `*.rules` file of the same directory already holds one that
//! satisfies the control, and never twice (augenrules merges the directory, and the kernel
//! refuses a duplicate with EEXIST, which stops `auditctl -R`).

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use nlaudit_proto::{
    AuditEnabled, Client, Errno, Error as ProtoError, RuleData, Setting, Switch, Transport,
};
use nlaudit_rules::{normalize, parse_command, split_line, Context, Directive};

use super::audit::{RuleSet, ViewEnv};
use super::check::{assess, locate_all, AuditState, Outcome, Verdict};
use super::controls::{watch_args, watch_text};
use super::fsview::FsView;
use super::locate::Locator;
use super::{EnsureArgs, RULES_DIR};
use crate::errors::{code, explain, fail};
use crate::{atomic, output, rules_cmd, session};

/// The default rules file (inside the root).
pub const RULES_FILE: &str = "/etc/audit/rules.d/docker.rules";

/// Mode of the rules file (augenrules installs audit.rules 0640).
const FILE_MODE: u32 = 0o640;
/// Mode of directories created for it (Debian's /etc/audit and rules.d are 0750).
const DIR_MODE: u32 = 0o750;

/// A rule to add to the kernel.
struct LiveAdd {
    ids: String,
    text: String,
    rule: RuleData,
}

/// A line to append to the rules file.
struct Append {
    ids: String,
    title: &'static str,
    text: String,
}

/// Everything ensure would do.
#[derive(Default)]
struct Plan {
    live: Vec<LiveAdd>,
    enable: bool,
    append: Vec<Append>,
    volatile: Vec<(String, String)>,
}

impl Plan {
    fn changes(&self) -> bool {
        !self.live.is_empty() || self.enable || !self.append.is_empty()
    }
}

/// `nlaudit docker ensure`.
pub fn run(a: EnsureArgs) -> Result<ExitCode> {
    run_with(a, session::open)
}

/// [`run`], asking the kernel through the clients `connect` opens (one to change, one to
/// check afterwards; tests pass a fake kernel).
fn run_with<T: Transport>(
    a: EnsureArgs,
    connect: impl Fn() -> Result<Client<T>>,
) -> Result<ExitCode> {
    let fs = match &a.root {
        Some(dir) => super::image_view(dir)?,
        None => FsView::live(),
    };
    let target = rules_file(&a, &fs)?;
    if !a.no_persist {
        atomic::check_target(&fs.host(&target)).with_context(|| "cannot persist the rules")?;
    }
    let mut locator = Locator::new(fs.clone());
    let located = locate_all(&mut locator);

    let mut kernel: Option<(Client<T>, nlaudit_proto::Status)> = None;
    let (live, features, state) = if fs.is_live() {
        let mut c = connect()?;
        let status = c.status()?;
        let rules = RuleSet::kernel(c.list_rules()?);
        let state = AuditState::kernel(&status);
        let f = status.feature_bitmap;
        kernel = Some((c, status));
        (rules, f, state)
    } else {
        let mut rules = RuleSet::default();
        let found = rules.add_dir(&fs, RULES_DIR, None);
        let state = AuditState::image(&fs, &rules, RULES_DIR, found);
        (rules, None, state)
    };
    let disk = persisted_rules(&fs, &target, features);
    let outcomes = assess(&fs, located, &live, Some(&disk), &state);

    let immutable = state.immutable && kernel.is_some();
    let mut plan = Plan::default();
    if let Some((_, status)) = &kernel {
        plan_live(&outcomes, &live, status.feature_bitmap, &mut plan)?;
        plan.enable = a.enable && status.enabled == AuditEnabled::Disabled;
    }
    if !a.no_persist {
        plan_disk(&fs, &outcomes, &disk, features, &mut plan)?;
    }

    let mut out = output::stdout();
    let (add, append) = if a.dry_run { ("would add", "would append") } else { ("add", "append") };
    let mut errors = Vec::new();

    // The kernel first: rules, then enabling, so that audit starts with every rule in.
    if let Some((c, status)) = kernel.as_mut() {
        if plan.changes() || status.enabled == AuditEnabled::Disabled || immutable {
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
            for l in &plan.live {
                let r = if a.dry_run { Ok(()) } else { c.add_rule(&l.rule) };
                match r {
                    Ok(()) => writeln!(out, "  {add:<12} {:<13}  {}", l.ids, l.text)?,
                    Err(ProtoError::Kernel { errno: Errno::EEXIST, .. }) => {
                        writeln!(out, "  {:<12} {:<13}  {}", "in force", l.ids, l.text)?;
                    }
                    Err(e) => {
                        let (_, msg) = explain(&e);
                        errors.push(format!("{} ({}): {msg}", l.text, l.ids));
                    }
                }
            }
        }
        if plan.enable && !immutable {
            if !a.dry_run {
                c.set(Setting::Enabled(Switch::On))?;
            }
            let verb = if a.dry_run { "would enable" } else { "enable" };
            writeln!(out, "  {verb:<12} auditing (enabled 0 -> 1)")?;
        } else if status.enabled == AuditEnabled::Disabled {
            writeln!(
                out,
                "  audit is disabled (enabled 0): the rules record nothing until it is turned \
                 on; rerun with --enable"
            )?;
        }
    }

    if !a.no_persist && (!plan.append.is_empty() || !plan.volatile.is_empty()) {
        writeln!(out, "{target}:")?;
        for ap in &plan.append {
            writeln!(out, "  {append:<12} {:<13}  {}", ap.ids, ap.text)?;
        }
        for (ids, why) in &plan.volatile {
            writeln!(
                out,
                "  {:<12} {ids:<13}  live only: {why}; rerun `nlaudit docker ensure \
                 --no-persist` once docker runs",
                "skip"
            )?;
        }
        if !a.dry_run && !plan.append.is_empty() {
            persist(&fs, &target, &plan.append)
                .with_context(|| format!("cannot write {}", fs.host(&target).display()))?;
        }
    }

    if !plan.changes() {
        let where_ = match (kernel.is_some(), a.no_persist) {
            (true, false) => "in the kernel and on disk",
            (true, true) => "in the kernel",
            (false, _) => "on disk",
        };
        writeln!(out, "nothing to change: every applicable control is already audited {where_}")?;
    }
    for e in &errors {
        writeln!(out, "error: {e}")?;
    }
    out.flush()?;
    drop(out);

    if !errors.is_empty() {
        return Err(fail(code::FAILED, format!("{} rule(s) could not be added", errors.len())));
    }
    if a.dry_run {
        return Ok(ExitCode::from(u8::from(plan.changes())));
    }
    // The outcome is what `check` says now.
    let report = super::check::build_with(a.root.as_deref(), connect)?;
    let (pass, fail_n, na) = report.counts();
    let mut out = output::stdout();
    writeln!(out, "check: {pass} pass, {fail_n} fail, {na} not applicable")?;
    if immutable {
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
    Ok(report.exit_code())
}

/// The rules file, inside the root: `--rules-file` (absolute; relative to the current
/// directory on the live machine) or /etc/audit/rules.d/docker.rules.
fn rules_file(a: &EnsureArgs, fs: &FsView) -> Result<String> {
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

/// The rules already persisted next to the target: every `*.rules` of its directory (which
/// augenrules merges) and the target itself.
fn persisted_rules(fs: &FsView, target: &str, features: Option<u32>) -> RuleSet {
    let mut disk = RuleSet::default();
    let dir = Path::new(target).parent().and_then(Path::to_str).unwrap_or("/");
    disk.add_dir(fs, dir, features);
    if !disk.files.iter().any(|f| f == target) {
        disk.add_file(fs, target, features);
    }
    disk
}

fn plan_live(
    outcomes: &[Outcome],
    live: &RuleSet,
    features: Option<u32>,
    plan: &mut Plan,
) -> Result<()> {
    let mut have: Vec<RuleData> = live.entries.iter().map(|e| normalize(&e.rule)).collect();
    for o in outcomes.iter().filter(|o| o.verdict != Verdict::NotApplicable) {
        let Some(real) = o.located.watch_path() else { continue };
        if o.rule_found {
            continue;
        }
        // Exactly the bytes auditctl sends for `-w PATH -p rwxa -k docker`.
        let rc = rules_cmd::parse_rule(&watch_args(real), features)?;
        let n = normalize(&rc.rule);
        if have.contains(&n) {
            continue;
        }
        have.push(n);
        plan.live.push(LiveAdd { ids: o.control.ids(), text: watch_text(real), rule: rc.rule });
    }
    Ok(())
}

fn plan_disk(
    fs: &FsView,
    outcomes: &[Outcome],
    disk: &RuleSet,
    features: Option<u32>,
    plan: &mut Plan,
) -> Result<()> {
    let env = ViewEnv(fs);
    let mut ctx = Context::new(&env);
    if let Some(f) = features {
        ctx.features = f;
    }
    let mut have: Vec<RuleData> = disk.entries.iter().map(|e| normalize(&e.rule)).collect();
    for o in outcomes.iter().filter(|o| o.verdict != Verdict::NotApplicable) {
        let Some(real) = o.located.watch_path() else { continue };
        if o.persisted.is_some() {
            continue;
        }
        if let Some(why) = &o.volatile {
            plan.volatile.push((o.control.ids(), why.clone()));
            continue;
        }
        let text = watch_text(real);
        let rule = match parse_command(&split_line(&text), &ctx) {
            Ok(d) => d.into_iter().find_map(|d| match d {
                Directive::Rule(r) => Some(r.rule),
                _ => None,
            }),
            Err(e) => return Err(fail(code::FAILED, format!("`{text}`: {}", e.message))),
        };
        let Some(rule) = rule.map(|r| normalize(&r)) else { continue };
        if have.contains(&rule) {
            continue;
        }
        have.push(rule);
        plan.append.push(Append { ids: o.control.ids(), title: o.control.title, text });
    }
    Ok(())
}

/// Appends the lines to the rules file, atomically (the old lines are kept byte for byte).
fn persist(fs: &FsView, target: &str, lines: &[Append]) -> io::Result<()> {
    let path = fs.host(target);
    let mut content = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            b"## CIS Docker Benchmark audit rules (nlaudit docker ensure).\n\
              ## auditctl -R / augenrules syntax; lines are only ever appended.\n"
                .to_vec()
        }
        Err(e) => return Err(e),
    };
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    for l in lines {
        content.extend_from_slice(format!("# {} {}\n{}\n", l.ids, l.title, l.text).as_bytes());
    }
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
