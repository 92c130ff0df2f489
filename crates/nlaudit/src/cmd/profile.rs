//! `nlaudit check --profile ...`, `nlaudit check --list-profiles` and `nlaudit ensure
//! --profile ...`: compliance profiles (docs/profiles.md) checked live and persisted, and
//! fixed. The profiles, the matching and the plan are the `nlaudit-controls` library; this
//! module reads the kernel, runs the plan through the connector, writes the file and prints.
//!
//! Exit codes, as `docker check`/`docker ensure`: 0 every control passes; 1 one fails (for
//! `ensure --dry-run`: something would change); 2 error (a bad profile: `FILE:LINE: ...`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use nlaudit_controls::discover::{discover, setuid_files, BootRules, Discovery};
use nlaudit_controls::fsview::FsView;
use nlaudit_controls::host::Target;
use nlaudit_controls::profile::{self, Expansion, Profile, RequirementKind, BUILTINS};
use nlaudit_controls::profile_check::{
    check_profile, read_sides, ControlVerdict, KernelExtra, ProfileContext, ProfileOutcome, Side,
    SideVerdict, Sides,
};
use nlaudit_controls::profile_ensure::{file_content, plan_profiles, Enable, ProfilePlan};
use nlaudit_controls::{Host, Kernel, RULES_DIR};
use nlaudit_proto::consts::AUDIT_FEATURE_LOGINUID_IMMUTABLE;
use nlaudit_proto::{Client, Error as ProtoError, Transport};
use nlaudit_rules::Machine;
use serde::Serialize;

use crate::cli::{ProfileCheckArgs, ProfileEnsureArgs};
use crate::support::ensure::{
    apply_live, AddResult, CheckCountsJson, EnsureJson, FileJson, KernelJson, LineJson, Mode,
    RuleResultJson, UnfixableJson,
};
use crate::support::errors::{self, code, explain, fail};
use crate::support::{atomic, output, session, system};

/// Mode of a profile's rules file (augenrules installs audit.rules 0640).
const FILE_MODE: u32 = 0o640;

/// `nlaudit check --list-profiles | --profile ...`.
pub fn check(a: ProfileCheckArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("check");
    }
    if a.list_profiles {
        let format = if a.json { Format::Json } else { Format::Text };
        return list(format);
    }
    let machine = a.machine.as_deref().map(system::machine_named).transpose()?;
    let host = system::host_for(a.root.as_deref())?;
    let profiles = load_profiles(&a.profile, host.as_ref())?;
    let run = run_check(host.as_ref(), &profiles, a.rules_dir.as_deref(), machine, session::open)?;
    if a.json {
        output::print_json(&json(&run))?;
    } else {
        let mut out = output::stdout();
        print_text(&mut out, &run)?;
        out.flush()?;
    }
    Ok(ExitCode::from(run.exit_code()))
}

/// Text for people, or one JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// `check --list-profiles --json` (schema docs/schemas/check.schema.json, `$defs/list`).
#[derive(Serialize)]
struct ProfileListJson {
    schema: u32,
    profiles: Vec<ProfileEntryJson>,
}

#[derive(Serialize)]
struct ProfileEntryJson {
    name: String,
    title: String,
    controls: usize,
    variants: Vec<String>,
}

fn list(format: Format) -> Result<ExitCode> {
    if format == Format::Json {
        let mut profiles = Vec::new();
        for b in BUILTINS {
            let p = profile::parse(&format!("builtin:{}", b.name), b.text)?;
            profiles.push(ProfileEntryJson {
                name: p.name.clone(),
                title: p.title.clone(),
                controls: p.controls.len(),
                variants: p.variants.clone(),
            });
        }
        output::print_json(&ProfileListJson { schema: 1, profiles })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = output::stdout();
    for b in BUILTINS {
        let p = profile::parse(&format!("builtin:{}", b.name), b.text)?;
        let variants = if p.variants.is_empty() {
            String::new()
        } else {
            format!(" (variants: {})", p.variants.join(", "))
        };
        writeln!(out, "{:<15} {} controls  {}{variants}", p.name, p.controls.len(), p.title)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A profile and the variant chosen.
struct Chosen {
    profile: Profile,
    variant: Option<String>,
}

/// `NAME[:VARIANT]` or `FILE[:VARIANT]`.
fn load_profiles(args: &[String], host: &dyn Host) -> Result<Vec<Chosen>> {
    let os = nlaudit_controls::discover::os_ids(host);
    let mut out = Vec::new();
    for arg in args {
        let (name, variant) = match arg.rsplit_once(':') {
            Some((n, v)) if !v.contains('/') => (n, Some(v)),
            _ => (arg.as_str(), None),
        };
        let p = match BUILTINS.iter().find(|b| b.name == name) {
            Some(b) => profile::parse(&format!("builtin:{}", b.name), b.text)?,
            None => {
                let text = std::fs::read_to_string(name).map_err(|e| {
                    fail(
                        code::USAGE,
                        format!(
                            "--profile {name}: not a built-in profile ({}) and not a readable \
                             file: {e}",
                            BUILTINS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
                        ),
                    )
                })?;
                profile::parse(name, &text).map_err(|e| fail(code::USAGE, e.to_string()))?
            }
        };
        let variant = match variant {
            Some(v) if p.has_variant(v) => Some(v.to_string()),
            Some(v) => {
                return Err(fail(
                    code::USAGE,
                    format!(
                        "--profile {arg}: {} has no variant {v} (variants: {})",
                        p.name,
                        if p.variants.is_empty() { "none".into() } else { p.variants.join(", ") }
                    ),
                ))
            }
            None => p.variant_for_os(&os).map(str::to_string),
        };
        if out.iter().any(|c: &Chosen| c.profile.name == p.name) {
            return Err(fail(code::USAGE, format!("--profile {arg}: {} given twice", p.name)));
        }
        out.push(Chosen { profile: p, variant });
    }
    Ok(out)
}

/// Everything one check found.
struct Run {
    root: Option<PathBuf>,
    discovery: Discovery,
    sides: Sides,
    kernel_enabled: Option<u32>,
    outcomes: Vec<ProfileOutcome>,
}

impl Run {
    fn exit_code(&self) -> u8 {
        u8::from(self.outcomes.iter().any(|o| o.counts().fail > 0))
    }
}

/// Reads the kernel (live machine only), discovers, checks every profile.
fn run_check<T: Transport>(
    host: &dyn Host,
    profiles: &[Chosen],
    rules_dir: Option<&str>,
    machine: Option<Machine>,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<Run> {
    let (kernel, extra) = read_kernel(host, connect)?
        .map_or((None, KernelExtra::default()), |(k, e, _)| (Some(k), e));
    check_with(host, profiles, rules_dir, machine, kernel, extra)
}

fn check_with(
    host: &dyn Host,
    profiles: &[Chosen],
    rules_dir: Option<&str>,
    machine: Option<Machine>,
    kernel: Option<Kernel>,
    extra: KernelExtra,
) -> Result<Run> {
    let mut discovery = discover(host);
    if let Some(m) = machine {
        // The image's machine: its arches (b32+b64 or one), its syscall numbers.
        discovery.arches = nlaudit_controls::matcher::Arches::of(m);
    }
    let wants_setuid = profiles.iter().any(|c| {
        c.profile.controls.iter().any(|ctl| {
            ctl.requirements.iter().any(|r| {
                r.expansion == Expansion::SetuidFiles && matches!(r.kind, RequirementKind::Rule(_))
            })
        })
    });
    if wants_setuid {
        discovery.setuid_files = Some(setuid_files(host));
    }
    let cx = ProfileContext {
        host,
        kernel: kernel.as_ref(),
        extra,
        dialect: system::augenrules_dialect(None),
        discovery: &discovery,
        rules_dir,
        machine,
        generation: system::generation(),
    };
    let sides = read_sides(&cx);
    let outcomes = profiles
        .iter()
        .map(|c| check_profile(&cx, &sides, &c.profile, c.variant.as_deref()))
        .collect();
    let root = (host.target() == Target::Image).then(|| host.root().to_path_buf());
    let kernel_enabled = kernel.as_ref().map(|k| k.status.enabled.raw());
    Ok(Run { root, discovery, sides, kernel_enabled, outcomes })
}

/// The kernel's status, rules and loginuid lock, and the client that read them.
fn read_kernel<T: Transport>(
    host: &dyn Host,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<Option<(Kernel, KernelExtra, Client<T>)>> {
    if host.target() == Target::Image {
        return Ok(None);
    }
    let mut client = connect()?;
    let status = client.status()?;
    let rules = client.list_rules()?;
    let loginuid_immutable =
        client.features().ok().map(|f| f.features & (1 << AUDIT_FEATURE_LOGINUID_IMMUTABLE) != 0);
    Ok(Some((Kernel { status, rules }, KernelExtra { loginuid_immutable }, client)))
}

fn print_text(out: &mut impl std::io::Write, run: &Run) -> Result<()> {
    let d = &run.discovery;
    match &run.root {
        Some(r) => writeln!(out, "image tree {}: no kernel asked", r.display())?,
        None => {
            for n in &run.sides.state.notes {
                writeln!(out, "{:<7} {}", n.level.name(), n.text)?;
            }
        }
    }
    let arches: Vec<&str> = d.arches.list.iter().map(|a| a.name).collect();
    writeln!(
        out,
        "machine: UID_MIN {} ({}), arches {}, persisted rules: {}{}",
        d.uid_min,
        d.uid_min_source,
        arches.join("+"),
        run.sides.persisted_from,
        if run.sides.persisted_found { "" } else { " (missing)" }
    )?;
    if let Some(f) = &d.setuid_files {
        writeln!(out, "machine: {} setuid/setgid programs on local file systems", f.len())?;
    }
    for p in &run.sides.persisted.problems {
        writeln!(out, "warning {p}")?;
    }
    for o in &run.outcomes {
        writeln!(out)?;
        let v = o.variant.as_deref().map_or(String::new(), |v| format!(" [{v}]"));
        writeln!(out, "profile {}{v}: {}", o.name, o.title)?;
        for c in &o.controls {
            let failing = if c.failing.is_empty() {
                String::new()
            } else {
                format!(" ({} fails)", c.failing)
            };
            writeln!(
                out,
                "{:<6} {:<15} {}{failing}",
                // "N/A" keeps the column as wide as PASS and FAIL (JSON says not-applicable).
                match c.verdict {
                    ControlVerdict::NotApplicable => "N/A".to_string(),
                    v => v.name().to_uppercase(),
                },
                c.id,
                c.title
            )?;
            for r in &c.requirements {
                let bad = |s: &Side| s.verdict == SideVerdict::Fail;
                let boot = |s: &Side| s.verdict == SideVerdict::AtBoot;
                if !bad(&r.live) && !bad(&r.persisted) && !boot(&r.live) {
                    continue;
                }
                let cac = r.cac.as_deref().map_or(String::new(), |c| format!(" [{c}]"));
                writeln!(out, "         {}{cac}", r.text)?;
                for (name, s) in [("live", &r.live), ("persisted", &r.persisted)] {
                    if matches!(s.verdict, SideVerdict::Fail | SideVerdict::AtBoot) {
                        writeln!(out, "           {name:<9} {:<7} {}", s.verdict.name(), s.reason)?;
                    }
                }
            }
        }
        let n = o.counts();
        writeln!(
            out,
            "{}: {} pass, {} fail, {} not applicable",
            o.name, n.pass, n.fail, n.not_applicable
        )?;
    }
    Ok(())
}

/// The JSON report, schema 1 (docs/profiles.md).
#[derive(Serialize)]
struct JsonReport<'a> {
    schema: u32,
    root: Option<String>,
    machine: JsonMachine<'a>,
    audit: JsonAudit,
    profiles: Vec<JsonProfile<'a>>,
}

#[derive(Serialize)]
struct JsonMachine<'a> {
    uid_min: u32,
    uid_min_source: &'a str,
    arches: Vec<&'static str>,
    persisted_from: &'a str,
    persisted_found: bool,
    boot_rules: &'static str,
    boot_source: &'a str,
    setuid_files: Option<&'a [String]>,
}

#[derive(Serialize)]
struct JsonAudit {
    enabled: Option<u32>,
    recording: bool,
    notes: Vec<JsonNote>,
}

#[derive(Serialize)]
struct JsonNote {
    level: &'static str,
    code: &'static str,
    text: String,
}

#[derive(Serialize)]
struct JsonProfile<'a> {
    name: &'a str,
    title: &'a str,
    variant: Option<&'a str>,
    counts: JsonCounts,
    controls: Vec<JsonControl<'a>>,
}

#[derive(Serialize)]
struct JsonCounts {
    pass: usize,
    fail: usize,
    not_applicable: usize,
}

#[derive(Serialize)]
struct JsonControl<'a> {
    id: &'a str,
    title: &'a str,
    verdict: &'static str,
    failing: Option<&'static str>,
    requirements: Vec<JsonReq<'a>>,
}

#[derive(Serialize)]
struct JsonReq<'a> {
    text: &'a str,
    cac: Option<&'a str>,
    profile_line: usize,
    live: JsonSide<'a>,
    persisted: JsonSide<'a>,
}

#[derive(Serialize)]
struct JsonSide<'a> {
    verdict: &'static str,
    reason: &'a str,
    rules: Vec<JsonRule>,
    shadowed_by: Option<JsonRule>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonRule {
    text: String,
    origin: String,
}

fn json(run: &Run) -> JsonReport<'_> {
    let d = &run.discovery;
    JsonReport {
        schema: 1,
        root: run.root.as_ref().map(|r| r.display().to_string()),
        machine: JsonMachine {
            uid_min: d.uid_min,
            uid_min_source: &d.uid_min_source,
            arches: d.arches.list.iter().map(|a| a.name).collect(),
            persisted_from: &run.sides.persisted_from,
            persisted_found: run.sides.persisted_found,
            boot_rules: match d.boot {
                BootRules::RulesDir => "rules.d",
                BootRules::AuditRules => "audit.rules",
            },
            boot_source: &d.boot_source,
            setuid_files: d.setuid_files.as_deref(),
        },
        audit: JsonAudit {
            enabled: run.kernel_enabled,
            recording: run.sides.state.recording,
            notes: run
                .sides
                .state
                .notes
                .iter()
                .map(|n| JsonNote { level: n.level.name(), code: n.code, text: n.text.clone() })
                .collect(),
        },
        profiles: run
            .outcomes
            .iter()
            .map(|o| {
                let n = o.counts();
                JsonProfile {
                    name: &o.name,
                    title: &o.title,
                    variant: o.variant.as_deref(),
                    counts: JsonCounts {
                        pass: n.pass,
                        fail: n.fail,
                        not_applicable: n.not_applicable,
                    },
                    controls: o
                        .controls
                        .iter()
                        .map(|c| JsonControl {
                            id: &c.id,
                            title: &c.title,
                            verdict: c.verdict.name(),
                            failing: (!c.failing.is_empty()).then_some(c.failing),
                            requirements: c
                                .requirements
                                .iter()
                                .map(|r| JsonReq {
                                    text: &r.text,
                                    cac: r.cac.as_deref(),
                                    profile_line: r.line,
                                    live: json_side(&r.live),
                                    persisted: json_side(&r.persisted),
                                })
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

fn json_side(s: &Side) -> JsonSide<'_> {
    let rule = |f: &nlaudit_controls::matcher::Found| JsonRule {
        text: f.text.clone(),
        origin: f.origin.to_string(),
    };
    JsonSide {
        verdict: s.verdict.name(),
        reason: &s.reason,
        rules: s.by.iter().map(rule).collect(),
        shadowed_by: s.shadowed_by.as_ref().map(rule),
        notes: &s.notes,
    }
}

/// What [`execute`] did.
struct Executed {
    adds: Vec<AddResult>,
    enabled: Option<Result<(), ProtoError>>,
    files: Vec<(String, std::io::Result<()>)>,
}

/// `nlaudit ensure --profile ...`.
pub fn ensure(a: ProfileEnsureArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("ensure");
    }
    ensure_with(a, session::open)
}

fn ensure_with<T: Transport>(
    a: ProfileEnsureArgs,
    connect: impl Fn() -> Result<Client<T>>,
) -> Result<ExitCode> {
    let host = system::host_for(a.root.as_deref())?;
    let fs = FsView::new(host.as_ref());
    let profiles = load_profiles(&a.profile, host.as_ref())?;
    let rules_dir = a.rules_dir.clone().unwrap_or_else(|| RULES_DIR.to_string());
    if !rules_dir.starts_with('/') {
        return Err(fail(
            code::USAGE,
            format!("--rules-dir {rules_dir}: must be an absolute path"),
        ));
    }
    let session = read_kernel(host.as_ref(), &connect)?;
    let (kernel, extra, mut client) = match session {
        Some((k, e, c)) => (Some(k), e, Some(c)),
        None => (None, KernelExtra::default(), None),
    };
    let machine = a.machine.as_deref().map(system::machine_named).transpose()?;
    let run = check_with(host.as_ref(), &profiles, Some(&rules_dir), machine, kernel, extra)?;
    let enable = if a.enable { Enable::TurnOn } else { Enable::Leave };
    let plan = plan_profiles(
        &run.outcomes,
        run.sides.live.as_ref(),
        &run.sides.persisted,
        run.kernel_enabled,
        fs,
        &rules_dir,
        enable,
    );
    for f in &plan.files {
        atomic::check_target(&fs.on_host(&f.path)).with_context(|| "cannot persist the rules")?;
    }
    let mode = if a.dry_run { Mode::DryRun } else { Mode::Apply };
    let done = execute(client.as_mut(), &plan, mode, fs);
    let failed = done.adds.iter().filter(|d| matches!(d, AddResult::Failed(_))).count();
    if a.json {
        return render_json(&plan, &done, mode, &run, failed, || {
            run_check(host.as_ref(), &profiles, Some(&rules_dir), machine, &connect)
        });
    }
    render(&plan, &done, mode, &run)?;
    if let Some((p, Err(e))) = done.files.iter().find(|(_, r)| r.is_err()) {
        return Err(fail(code::FAILED, format!("cannot write {p}: {e}")));
    }
    if failed > 0 {
        return Err(fail(code::FAILED, format!("{failed} rule(s) could not be added")));
    }
    if mode == Mode::DryRun {
        return Ok(ExitCode::from(u8::from(plan.changes())));
    }
    // The outcome is what `check` says now.
    let after = run_check(host.as_ref(), &profiles, Some(&rules_dir), machine, &connect)?;
    let mut out = output::stdout();
    for o in &after.outcomes {
        let n = o.counts();
        writeln!(
            out,
            "check {}: {} pass, {} fail, {} not applicable",
            o.name, n.pass, n.fail, n.not_applicable
        )?;
        for c in o.controls.iter().filter(|c| c.verdict.name() == "fail") {
            writeln!(out, "  FAIL {:<15} {} ({} fails)", c.id, c.title, c.failing)?;
        }
    }
    if run.discovery.boot == BootRules::AuditRules && a.rules_dir.is_none() {
        writeln!(
            out,
            "warning: auditd.service loads /etc/audit/audit.rules ({}), not rules.d: run \
             `augenrules` or `nlaudit merge {rules_dir} > /etc/audit/audit.rules` to persist",
            run.discovery.boot_source
        )?;
    }
    out.flush()?;
    Ok(ExitCode::from(after.exit_code()))
}

/// The kernel first (rules, then enabling, so audit starts with every rule in), then the
/// files. A refused rule does not stop the others; a failure to enable stops before the
/// files.
fn execute<T: Transport>(
    client: Option<&mut Client<T>>,
    plan: &ProfilePlan,
    mode: Mode,
    fs: FsView<'_>,
) -> Executed {
    let mut done = Executed { adds: Vec::new(), enabled: None, files: Vec::new() };
    if let Some(c) = client {
        let k = apply_live(c, plan.live.iter().map(|l| &l.rule), plan.enable, mode);
        let stop = k.enable_failed();
        done.adds = k.adds;
        done.enabled = k.enabled;
        if stop {
            return done;
        }
    }
    if mode == Mode::Apply {
        for f in plan.files.iter().filter(|f| !f.rules.is_empty() || !f.settings.is_empty()) {
            let path = fs.on_host(&f.path);
            let r = (|| {
                let existing = match std::fs::read_to_string(&path) {
                    Ok(t) => Some(t),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                atomic::write_atomic(
                    &path,
                    file_content(existing.as_deref(), f).as_bytes(),
                    FILE_MODE,
                )
            })();
            done.files.push((path.display().to_string(), r));
        }
    }
    done
}

/// `--json`: the plan, what became of it, the error that stopped it and, after a run, the
/// check's counts, as one object; the exit code as without --json.
fn render_json(
    plan: &ProfilePlan,
    done: &Executed,
    mode: Mode,
    run: &Run,
    failed: usize,
    check: impl FnOnce() -> Result<Run>,
) -> Result<ExitCode> {
    let mut j = EnsureJson {
        schema: 1,
        dry_run: mode == Mode::DryRun,
        changes: plan.changes(),
        ..EnsureJson::default()
    };
    if let Some(enabled) = run.kernel_enabled {
        j.kernel = Some(KernelJson {
            enabled,
            rules: plan
                .live
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    RuleResultJson::new(&l.text, l.ids.join(", "), done.adds.get(i), mode)
                })
                .collect(),
            enable: match (&done.enabled, plan.enable, mode) {
                (_, false, _) => None,
                (Some(Err(_)), true, _) => Some("failed"),
                (_, true, Mode::DryRun) => Some("would enable"),
                (_, true, Mode::Apply) => Some("enabled"),
            },
        });
    }
    for f in &plan.files {
        j.files.push(FileJson {
            path: f.path.clone(),
            append: f
                .rules
                .iter()
                .map(|r| LineJson { ids: r.ids.join(", "), text: r.text.clone() })
                .collect(),
            settings: f.settings.iter().map(|s| s.line()).collect(),
            skipped: Vec::new(),
            written: done.files.iter().any(|(p, r)| p.ends_with(&f.path) && r.is_ok()),
        });
    }
    j.unfixable = plan
        .unfixable
        .iter()
        .map(|u| UnfixableJson { id: u.id.clone(), text: u.text.clone(), why: u.why.clone() })
        .collect();
    let error = if let Some(Err(e)) = &done.enabled {
        Some(fail(explain(e).0, format!("cannot enable auditing: {}", explain(e).1)))
    } else if let Some((p, Err(e))) = done.files.iter().find(|(_, r)| r.is_err()) {
        Some(fail(code::FAILED, format!("cannot write {p}: {e}")))
    } else if failed > 0 {
        Some(fail(code::FAILED, format!("{failed} rule(s) could not be added")))
    } else {
        None
    };
    if let Some(e) = error {
        let d = errors::describe(&e);
        j.error = Some(d.message);
        j.exit_code = d.code;
        output::print_json(&j)?;
        return Err(e);
    }
    if mode == Mode::DryRun {
        j.exit_code = u8::from(plan.changes());
        output::print_json(&j)?;
        return Ok(ExitCode::from(j.exit_code));
    }
    let after = check()?;
    for o in &after.outcomes {
        let n = o.counts();
        j.check.push(CheckCountsJson {
            profile: o.name.clone(),
            pass: n.pass,
            fail: n.fail,
            not_applicable: n.not_applicable,
            failing: o
                .controls
                .iter()
                .filter(|c| c.verdict.name() == "fail")
                .map(|c| c.id.clone())
                .collect(),
        });
    }
    j.exit_code = after.exit_code();
    output::print_json(&j)?;
    Ok(ExitCode::from(j.exit_code))
}

fn render(plan: &ProfilePlan, done: &Executed, mode: Mode, run: &Run) -> Result<()> {
    let mut out = output::stdout();
    let dry = mode == Mode::DryRun;
    let (add, append) = if dry { ("would add", "would append") } else { ("add", "append") };
    if run.kernel_enabled.is_some() && (!plan.live.is_empty() || plan.enable) {
        writeln!(out, "kernel:")?;
        for (l, d) in plan.live.iter().zip(&done.adds) {
            match d {
                AddResult::Sent => writeln!(out, "  {add:<12} {}  ({})", l.text, l.ids.join(", "))?,
                AddResult::InForce => writeln!(out, "  {:<12} {}", "in force", l.text)?,
                AddResult::Failed(m) => writeln!(out, "  {:<12} {}: {m}", "error", l.text)?,
            }
        }
        if plan.enable {
            if let Some(Err(e)) = &done.enabled {
                writeln!(out, "  error        cannot enable auditing: {}", explain(e).1)?;
            } else {
                let verb = if dry { "would enable" } else { "enable" };
                writeln!(out, "  {verb:<12} auditing (enabled 0 -> 1)")?;
            }
        }
    }
    if run.kernel_enabled == Some(0) && !plan.enable {
        writeln!(
            out,
            "kernel: audit is disabled (enabled 0): the rules record nothing; rerun with --enable"
        )?;
    }
    if run.kernel_enabled == Some(2) {
        writeln!(
            out,
            "kernel: immutable (enabled 2): no rule can be added until reboot; persisting only"
        )?;
    }
    for f in &plan.files {
        writeln!(out, "{}:", f.path)?;
        for r in &f.rules {
            writeln!(out, "  {append:<12} {}  ({})", r.text, r.ids.join(", "))?;
        }
        for s in &f.settings {
            writeln!(out, "  {append:<12} {}  (persisted, takes effect at boot)", s.line())?;
        }
    }
    for u in &plan.unfixable {
        writeln!(out, "cannot fix {} `{}`: {}", u.id, u.text, u.why)?;
    }
    if !plan.changes() {
        writeln!(
            out,
            "nothing to change: every requirement is already met in the kernel and on disk"
        )?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests;
