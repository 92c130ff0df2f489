//! A profile checked against a machine: every requirement expanded (arches, `UID_MIN`,
//! setuid files), judged live (the kernel's rules and settings) and persisted (the rules
//! loaded at boot: rules.d merged by augenrules, or audit.rules), each side with its own
//! verdict ([`check_profile`]). Pure: the kernel comes in as data.

use std::path::Path;

use nlaudit_proto::RuleData;
use nlaudit_rules::merge::Dialect;
use nlaudit_rules::{
    normalize, parse_command, split_line, Context, Directive, Generation, Renderer,
};

use crate::audit::{RuleSet, ViewEnv};
use crate::controls::{watch_text, CONTROLS};
use crate::discover::{BootRules, Discovery};
use crate::evaluate::{
    evaluate, AuditState, Inputs, Kernel, Persisted, Report, Verdict, RULES_DIR,
};
use crate::fsview::FsView;
use crate::host::Host;
use crate::matcher::{find, needs, shape_all, Found, Shaped};
use crate::profile::{DockerNumbering, Expansion, KeyRule, Profile, RequirementKind};

/// The file auditctl mode loads at boot.
pub const AUDIT_RULES: &str = "/etc/audit/audit.rules";

/// A side's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideVerdict {
    /// Met.
    Pass,
    /// Not met.
    Fail,
    /// Persisted, not in force: takes effect at boot (`-e 2`, `-f 2`, `--loginuid-immutable`,
    /// which nlaudit never sets live).
    AtBoot,
    /// Does not apply here.
    NotApplicable,
    /// Not looked at (no kernel: an image tree).
    NotChecked,
}

impl SideVerdict {
    /// The JSON/text name.
    pub fn name(self) -> &'static str {
        match self {
            SideVerdict::Pass => "pass",
            SideVerdict::Fail => "fail",
            SideVerdict::AtBoot => "at-boot",
            SideVerdict::NotApplicable => "not-applicable",
            SideVerdict::NotChecked => "not-checked",
        }
    }
}

/// One side of one requirement.
#[derive(Clone, Debug)]
pub struct Side {
    /// The verdict.
    pub verdict: SideVerdict,
    /// One sentence: why.
    pub reason: String,
    /// The rules that satisfy it.
    pub by: Vec<Found>,
    /// The rule that suppresses its records, if one does.
    pub shadowed_by: Option<Found>,
    /// Warnings and remarks.
    pub notes: Vec<String>,
    /// What ensure would add for this side (rules restricted to what is missing).
    pub fix: Vec<RuleData>,
}

impl Side {
    fn simple(verdict: SideVerdict, reason: impl Into<String>) -> Side {
        Side {
            verdict,
            reason: reason.into(),
            by: Vec::new(),
            shadowed_by: None,
            notes: Vec::new(),
            fix: Vec::new(),
        }
    }
}

/// A setting a requirement asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `-e N`.
    Enabled(u32),
    /// `-f N`.
    Failure(u32),
    /// `--loginuid-immutable`.
    LoginuidImmutable,
}

impl Setting {
    /// The rules-file line.
    pub fn line(self) -> String {
        match self {
            Setting::Enabled(n) => format!("-e {n}"),
            Setting::Failure(n) => format!("-f {n}"),
            Setting::LoginuidImmutable => "--loginuid-immutable".into(),
        }
    }
}

/// What one requirement is, expanded.
#[derive(Clone, Debug)]
pub enum Expanded {
    /// Rules (one per arch).
    Rules(Vec<RuleData>),
    /// A setting.
    Setting(Setting),
    /// A CIS Docker control's watch on its real path.
    Docker {
        /// The watch line (`-w PATH -p rwxa -k docker`), when applicable.
        line: Option<String>,
        /// Why the watch cannot be persisted, if it cannot.
        volatile: Option<String>,
    },
    /// Running equals persisted.
    InSync,
    /// Nothing to do (not applicable).
    Nothing,
}

/// One requirement's outcome.
#[derive(Clone, Debug)]
pub struct ReqOutcome {
    /// The requirement as expanded (`-a always,exit -F arch=b64 -S chmod ...`).
    pub text: String,
    /// The ComplianceAsCode rule id.
    pub cac: Option<String>,
    /// The profile line it comes from.
    pub line: usize,
    /// The kernel side.
    pub live: Side,
    /// The boot side.
    pub persisted: Side,
    /// What it is.
    pub expanded: Expanded,
}

/// The verdict of a control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlVerdict {
    /// Every requirement is met on both sides (settings that take effect at boot count).
    Pass,
    /// One is not.
    Fail,
    /// No requirement applies here.
    NotApplicable,
}

impl ControlVerdict {
    /// The JSON/text name.
    pub fn name(self) -> &'static str {
        match self {
            ControlVerdict::Pass => "pass",
            ControlVerdict::Fail => "fail",
            ControlVerdict::NotApplicable => "not-applicable",
        }
    }
}

/// One control's outcome.
#[derive(Clone, Debug)]
pub struct ControlOutcome {
    /// Its id in the chosen variant.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The verdict.
    pub verdict: ControlVerdict,
    /// Which side fails: `live`, `persisted`, `both`, or empty.
    pub failing: &'static str,
    /// Its requirements.
    pub requirements: Vec<ReqOutcome>,
}

/// One profile's outcome.
#[derive(Clone, Debug)]
pub struct ProfileOutcome {
    /// The profile's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// The variant used.
    pub variant: Option<String>,
    /// The controls, in profile order.
    pub controls: Vec<ControlOutcome>,
}

/// Counts of control verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProfileCounts {
    /// Pass.
    pub pass: usize,
    /// Fail.
    pub fail: usize,
    /// Not applicable.
    pub not_applicable: usize,
}

impl ProfileOutcome {
    /// Counts of control verdicts.
    pub fn counts(&self) -> ProfileCounts {
        let n = |v| self.controls.iter().filter(|c| c.verdict == v).count();
        ProfileCounts {
            pass: n(ControlVerdict::Pass),
            fail: n(ControlVerdict::Fail),
            not_applicable: n(ControlVerdict::NotApplicable),
        }
    }
}

/// What the kernel holds, beyond [`Kernel`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelExtra {
    /// AUDIT_GET_FEATURE: loginuid immutable (`None`: not asked or not answered).
    pub loginuid_immutable: Option<bool>,
}

/// Everything a profile check reads.
pub struct ProfileContext<'a> {
    /// The machine.
    pub host: &'a dyn Host,
    /// The kernel (`None`: an image tree).
    pub kernel: Option<&'a Kernel>,
    /// What else the kernel said.
    pub extra: KernelExtra,
    /// How augenrules merges.
    pub dialect: Dialect,
    /// What was discovered.
    pub discovery: &'a Discovery,
    /// A rules.d directory to use instead of the boot rules (inside the root).
    pub rules_dir: Option<&'a str>,
    /// The machine whose syscall tables requirements and rules files are parsed with
    /// (`None`: this one; an image tree for another machine names it, `--machine`).
    pub machine: Option<nlaudit_rules::Machine>,
    /// The reference auditctl generation: a rule in force that is the other generation's
    /// compilation of a requirement is said to be so.
    pub generation: Generation,
}

/// The rules and settings every requirement is judged against.
pub struct Sides {
    /// The kernel's rules (`None`: no kernel).
    pub live: Option<RuleSet>,
    /// The rules loaded at boot.
    pub persisted: RuleSet,
    /// Where they are.
    pub persisted_from: String,
    /// Whether that directory or file exists.
    pub persisted_found: bool,
    /// The audit state.
    pub state: AuditState,
}

/// Reads both sides.
pub fn read_sides(cx: &ProfileContext<'_>) -> Sides {
    let fs = FsView::new(cx.host);
    let features = cx.kernel.and_then(|k| k.status.feature_bitmap);
    let mut persisted = RuleSet::for_machine(cx.machine);
    let (from, found) = match (cx.rules_dir, &cx.discovery.boot) {
        (Some(dir), _) => (dir, persisted.add_dir(&fs, dir, features, cx.dialect)),
        (None, BootRules::RulesDir) => {
            (RULES_DIR, persisted.add_dir(&fs, RULES_DIR, features, cx.dialect))
        }
        (None, BootRules::AuditRules) => {
            persisted.add_file(&fs, AUDIT_RULES, features);
            (AUDIT_RULES, !persisted.files.is_empty())
        }
    };
    let (live, state) = match cx.kernel {
        Some(k) => (Some(RuleSet::kernel(k.rules.clone())), AuditState::kernel(&k.status, cx.host)),
        None => (None, AuditState::image(&fs, &persisted, from, found)),
    };
    Sides { live, persisted, persisted_from: from.to_string(), persisted_found: found, state }
}

/// Checks one profile in one variant.
pub fn check_profile(
    cx: &ProfileContext<'_>,
    sides: &Sides,
    profile: &Profile,
    variant: Option<&str>,
) -> ProfileOutcome {
    let fs = FsView::new(cx.host);
    let live = sides.live.as_ref().map(|l| shape_all(&l.entries));
    let disk = shape_all(&sides.persisted.entries);
    let docker = profile
        .controls
        .iter()
        .any(|c| c.requirements.iter().any(|r| matches!(r.kind, RequirementKind::Docker(_))))
        .then(|| {
            let inputs = Inputs {
                kernel: cx.kernel,
                persisted: Persisted::RulesDir,
                dialect: cx.dialect,
                machine: cx.machine,
            };
            evaluate(cx.host, &inputs)
        });
    let in_variant =
        |only: &[String]| only.is_empty() || variant.is_some_and(|v| only.iter().any(|o| o == v));
    let mut controls = Vec::new();
    for c in profile.controls.iter().filter(|c| in_variant(&c.only)) {
        let mut reqs = Vec::new();
        for r in c.requirements.iter().filter(|r| in_variant(&r.only)) {
            let key = match r.key {
                KeyRule::Required => Some(()),
                KeyRule::Any => None,
            };
            match &r.kind {
                RequirementKind::Rule(text) => {
                    let files: Vec<Option<&str>> = match r.expansion {
                        Expansion::Once => vec![None],
                        Expansion::SetuidFiles => cx
                            .discovery
                            .setuid_files
                            .iter()
                            .flatten()
                            .map(|f| Some(f.as_str()))
                            .collect(),
                    };
                    for file in files {
                        let t = text.replace("$UID_MIN", &cx.discovery.uid_min.to_string());
                        let t = match file {
                            Some(f) => t.replace("$FILE", f),
                            None => t,
                        };
                        let arch_texts: Vec<String> = if t.contains("$ARCH") {
                            cx.discovery
                                .arches
                                .list
                                .iter()
                                .filter_map(|a| for_arch(&t, a))
                                .collect()
                        } else {
                            vec![t.clone()]
                        };
                        for at in arch_texts {
                            let mut req = rule_requirement(
                                cx,
                                &fs,
                                sides,
                                live.as_deref(),
                                &disk,
                                &at,
                                key.is_some(),
                                r.cac.clone(),
                                r.line,
                            );
                            let at = format!("profile {}:{}", profile.name, r.line);
                            note_other_forms(cx, &fs, sides, &mut req, &at);
                            reqs.push(req);
                        }
                    }
                }
                RequirementKind::Docker(id) => reqs.push(docker_requirement(
                    docker.as_ref(),
                    profile.docker_numbering,
                    id,
                    r.cac.clone(),
                    r.line,
                    sides,
                )),
                RequirementKind::InSync => reqs.push(in_sync(sides, r.line)),
            }
        }
        let fails =
            |f: fn(&ReqOutcome) -> SideVerdict| reqs.iter().any(|r| f(r) == SideVerdict::Fail);
        let (lf, pf) = (fails(|r| r.live.verdict), fails(|r| r.persisted.verdict));
        let all_na = reqs.iter().all(|r| {
            matches!(r.live.verdict, SideVerdict::NotApplicable | SideVerdict::NotChecked)
                && r.persisted.verdict == SideVerdict::NotApplicable
        });
        let verdict = if lf || pf {
            ControlVerdict::Fail
        } else if all_na {
            ControlVerdict::NotApplicable
        } else {
            ControlVerdict::Pass
        };
        let failing = match (lf, pf) {
            (true, true) => "both",
            (true, false) => "live",
            (false, true) => "persisted",
            (false, false) => "",
        };
        controls.push(ControlOutcome {
            id: c.id_in(variant).to_string(),
            title: c.title.clone(),
            verdict,
            failing,
            requirements: reqs,
        });
    }
    ProfileOutcome {
        name: profile.name.clone(),
        title: profile.title.clone(),
        variant: variant.map(str::to_string),
        controls,
    }
}

/// Notes, on the kernel side, each rule in force that is not the reference generation's
/// compilation of the requirement but the other generation's (audit 4.x expands `-F arch=..
/// -F perm=..` into syscalls): `loaded by auditctl 4.x (generation 4) form of profile P:L`.
/// The match itself is semantic and counts it (see crate::matcher).
fn note_other_forms(
    cx: &ProfileContext<'_>,
    fs: &FsView<'_>,
    sides: &Sides,
    req: &mut ReqOutcome,
    at: &str,
) {
    let Some(live) = &sides.live else { return };
    if !matches!(req.expanded, Expanded::Rules(_)) {
        return;
    }
    let env = ViewEnv(*fs);
    let mut ctx = Context::new(&env);
    if let Some(f) = cx.kernel.and_then(|k| k.status.feature_bitmap) {
        ctx.features = f;
    }
    let compile = |g: Generation| -> Vec<RuleData> {
        parse_command(&split_line(&req.text), &ctx.with_generation(g))
            .map(|d| {
                d.into_iter()
                    .filter_map(|d| match d {
                        Directive::Rule(rc) if !rc.delete => Some(rc.rule),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (this, other) = (compile(cx.generation), compile(cx.generation.other()));
    for (t, o) in this.iter().zip(&other) {
        for e in &live.entries {
            if nlaudit_rules::plan::is_other_form(&e.rule, t, o) {
                let said = format!("`{}` lists syscalls with its perm filter", e.text);
                req.live.notes.retain(|n| !n.starts_with(&said));
                req.live.notes.push(format!(
                    "`{}` (kernel): {}; counted as that requirement",
                    e.text,
                    nlaudit_rules::plan::loaded_by(cx.generation.other(), at)
                ));
            }
        }
    }
}

/// The text for one arch: `$ARCH` replaced, `-S` lists keeping only the syscalls the arch
/// has (x86_64 has no 64-bit `umount` or `stime`); `None` when none is left.
fn for_arch(text: &str, arch: &crate::matcher::Arch) -> Option<String> {
    let t = text.replace("$ARCH", arch.name);
    let mut words: Vec<String> = t.split_whitespace().map(str::to_string).collect();
    let mut i = 0;
    while i + 1 < words.len() {
        if words[i] == "-S" {
            let kept: Vec<&str> = words[i + 1]
                .split(',')
                .filter(|n| {
                    *n == "all"
                        || n.parse::<u32>().is_ok()
                        || crate::matcher::tables_for(arch.machine)
                            .syscall_number(arch.machine, n)
                            .is_some()
                })
                .collect();
            if kept.is_empty() {
                return None;
            }
            words[i + 1] = kept.join(",");
        }
        i += 1;
    }
    Some(words.join(" "))
}

/// The directory a path rule needs (the kernel answers ENOENT otherwise): the parent of a
/// watched path, the directory itself for a tree (`-F dir=`). `Some(dir)` when it is missing.
fn missing_parent(fs: &FsView<'_>, rule: &RuleData) -> Option<String> {
    use nlaudit_proto::consts::FieldType as F;
    let shape = crate::matcher::Shape::of(rule);
    let path = shape.path()?;
    let tree = shape.conds.iter().any(|c| c.field == F::AUDIT_DIR);
    let need = if tree { path } else { Path::new(&path).parent()?.to_str()?.to_string() };
    (!need.is_empty() && !fs.is_dir(&need)).then_some(need)
}

#[allow(clippy::too_many_arguments)]
fn rule_requirement(
    cx: &ProfileContext<'_>,
    fs: &FsView<'_>,
    sides: &Sides,
    live: Option<&[Shaped]>,
    disk: &[Shaped],
    text: &str,
    key_required: bool,
    cac: Option<String>,
    line: usize,
) -> ReqOutcome {
    let env = ViewEnv(*fs);
    let mut ctx = Context::new(&env);
    if let Some(m) = cx.machine {
        ctx.machine = m;
        if ctx.tables().machine_name(m).is_none() {
            // riscv64: only libaudit 4.x has its tables.
            ctx.generation = Generation::V4;
        }
    }
    if let Some(f) = cx.kernel.and_then(|k| k.status.feature_bitmap) {
        ctx.features = f;
    }
    let na = |why: String| ReqOutcome {
        text: text.to_string(),
        cac: cac.clone(),
        line,
        live: Side::simple(SideVerdict::NotApplicable, why.clone()),
        persisted: Side::simple(SideVerdict::NotApplicable, why),
        expanded: Expanded::Nothing,
    };
    let directives = match parse_command(&split_line(text), &ctx) {
        Ok(d) => d,
        Err(e) => return na(format!("the requirement does not parse here: {e}")),
    };
    let mut rules = Vec::new();
    let mut setting = None;
    for d in directives {
        match d {
            Directive::Rule(rc) => rules.push(rc.rule),
            Directive::Enabled(n) => setting = Some(Setting::Enabled(n)),
            Directive::Failure(n) => setting = Some(Setting::Failure(n)),
            Directive::LoginuidImmutable => setting = Some(Setting::LoginuidImmutable),
            _ => {}
        }
    }
    if let Some(s) = setting {
        return setting_requirement(cx, sides, s, text, cac, line);
    }
    if let Some(dir) = rules.iter().find_map(|r| missing_parent(fs, r)) {
        return na(format!("{dir} does not exist here (the kernel cannot watch a path in it)"));
    }
    let key = key_required
        .then(|| rules.iter().find_map(|r| crate::matcher::Shape::of(r).keys.first().cloned()))
        .flatten();
    let arches = &cx.discovery.arches;
    let judge = |list: &[Shaped], recording: bool, side: &str| -> Side {
        let mut s = Side::simple(SideVerdict::Pass, "");
        let mut missing = Vec::new();
        for r in &rules {
            let mut fix = r.clone();
            let mut fix_mask = [0u32; 64];
            let mut need_fix = false;
            for n in needs(r, arches, key.clone()) {
                let res = find(&n, list, arches);
                for f in res.by {
                    if !s.by.contains(&f) {
                        s.by.push(f);
                    }
                }
                s.notes.extend(res.notes);
                if res.shadowed_by.is_some() && s.shadowed_by.is_none() {
                    s.shadowed_by = res.shadowed_by.clone();
                }
                if res.shadowed_by.is_none() && !res.missing.is_empty() {
                    need_fix = true;
                    if let Some(list) = &n.syscalls {
                        for name in &res.missing {
                            let nr = crate::matcher::tables_for(n.arch.machine)
                                .syscall_number(n.arch.machine, name)
                                .or_else(|| name.parse().ok());
                            if let Some(nr) = nr.filter(|nr| list.contains(nr)) {
                                if let Some(w) =
                                    usize::try_from(nr / 32).ok().and_then(|i| fix_mask.get_mut(i))
                                {
                                    *w |= 1 << (nr % 32);
                                }
                            }
                        }
                    }
                    missing.extend(res.missing.iter().map(|m| format!("{} {m}", n.arch.name)));
                }
            }
            if need_fix {
                if !crate::matcher::Shape::of(r).all_syscalls && fix_mask.iter().any(|w| *w != 0) {
                    fix.mask = fix_mask;
                }
                s.fix.push(fix);
            }
        }
        s.notes.dedup();
        if let Some(sh) = &s.shadowed_by {
            s.verdict = SideVerdict::Fail;
            s.reason =
                format!("its records are suppressed by the earlier `{}` ({})", sh.text, sh.origin);
        } else if !missing.is_empty() {
            s.verdict = SideVerdict::Fail;
            s.reason = if s.by.is_empty() {
                format!("no {side} rule records it")
            } else {
                format!("not recorded for {}", missing.join(", "))
            };
        } else if !recording {
            s.verdict = SideVerdict::Fail;
            s.reason =
                "the rule is in force but audit is disabled (enabled 0): nothing is recorded"
                    .into();
        } else {
            s.reason =
                s.by.iter()
                    .map(|f| format!("`{}` ({})", f.text, f.origin))
                    .collect::<Vec<_>>()
                    .join(", ");
        }
        s
    };
    let live_side = match live {
        Some(l) => judge(l, sides.state.recording, "kernel"),
        None => Side::simple(SideVerdict::NotChecked, "no kernel (image tree)"),
    };
    let disk_side = if sides.persisted_found {
        judge(disk, true, "persisted")
    } else {
        let mut s = judge(disk, true, "persisted");
        s.reason = format!("{} does not exist", sides.persisted_from);
        s
    };
    ReqOutcome {
        text: text.to_string(),
        cac,
        line,
        live: live_side,
        persisted: disk_side,
        expanded: Expanded::Rules(rules),
    }
}

fn setting_requirement(
    cx: &ProfileContext<'_>,
    sides: &Sides,
    s: Setting,
    text: &str,
    cac: Option<String>,
    line: usize,
) -> ReqOutcome {
    let p = &sides.persisted;
    let from = &sides.persisted_from;
    let persisted = match s {
        Setting::Enabled(n) => match (p.enabled, &p.after_enable) {
            (Some(v), None) if v == n => {
                Side::simple(SideVerdict::Pass, format!("{from} ends with `-e {n}`"))
            }
            (Some(v), Some(after)) if v == n => Side::simple(
                SideVerdict::Fail,
                format!("`-e {n}` is not last: {after} follows it (it must be the last line)"),
            ),
            (Some(v), _) => {
                Side::simple(SideVerdict::Fail, format!("{from} sets `-e {v}`, not `-e {n}`"))
            }
            (None, _) => Side::simple(SideVerdict::Fail, format!("{from} has no `-e {n}`")),
        },
        Setting::Failure(n) => match p.failure {
            Some(v) if v == n => Side::simple(SideVerdict::Pass, format!("{from} sets `-f {n}`")),
            Some(v) => {
                Side::simple(SideVerdict::Fail, format!("{from} sets `-f {v}` last, not `-f {n}`"))
            }
            None => Side::simple(SideVerdict::Fail, format!("{from} has no `-f {n}`")),
        },
        Setting::LoginuidImmutable if p.loginuid_immutable => {
            Side::simple(SideVerdict::Pass, format!("{from} has `--loginuid-immutable`"))
        }
        Setting::LoginuidImmutable => {
            Side::simple(SideVerdict::Fail, format!("{from} has no `--loginuid-immutable`"))
        }
    };
    let live = match cx.kernel {
        None => Side::simple(SideVerdict::NotChecked, "no kernel (image tree)"),
        Some(k) => {
            let (now, have) = match s {
                Setting::Enabled(n) => {
                    (k.status.enabled.raw() == n, format!("enabled {}", k.status.enabled.raw()))
                }
                Setting::Failure(n) => {
                    (k.status.failure == n, format!("failure {}", k.status.failure))
                }
                Setting::LoginuidImmutable => (
                    cx.extra.loginuid_immutable == Some(true),
                    match cx.extra.loginuid_immutable {
                        Some(true) => "loginuid_immutable 1".to_string(),
                        Some(false) => "loginuid_immutable 0".to_string(),
                        None => "loginuid_immutable unknown".to_string(),
                    },
                ),
            };
            if now {
                Side::simple(SideVerdict::Pass, format!("the kernel has {have}"))
            } else if persisted.verdict == SideVerdict::Pass {
                Side::simple(
                    SideVerdict::AtBoot,
                    format!("persisted, takes effect at boot (the kernel has {have}; nlaudit never sets it live)"),
                )
            } else {
                Side::simple(
                    SideVerdict::Fail,
                    format!("the kernel has {have}, and it is not persisted"),
                )
            }
        }
    };
    ReqOutcome {
        text: text.to_string(),
        cac,
        line,
        live,
        persisted,
        expanded: Expanded::Setting(s),
    }
}

fn docker_requirement(
    report: Option<&Report>,
    numbering: DockerNumbering,
    id: &str,
    cac: Option<String>,
    line: usize,
    sides: &Sides,
) -> ReqOutcome {
    let outcome = report.and_then(|r| {
        r.outcomes.iter().find(|o| match numbering {
            DockerNumbering::Cis => o.control.cis == id,
            DockerNumbering::Datadog => o.control.datadog == Some(id),
        })
    });
    let Some(o) = outcome else {
        let why = format!(
            "no CIS Docker control {id} (known: {})",
            CONTROLS.iter().map(|c| c.cis).collect::<Vec<_>>().join(", ")
        );
        return ReqOutcome {
            text: format!("docker {id}"),
            cac,
            line,
            live: Side::simple(SideVerdict::Fail, why.clone()),
            persisted: Side::simple(SideVerdict::Fail, why),
            expanded: Expanded::Nothing,
        };
    };
    let real = o.located.watch_path().map(str::to_string);
    let text = real.as_deref().map_or(format!("docker {id}"), watch_text);
    if o.verdict == Verdict::NotApplicable {
        return ReqOutcome {
            text,
            cac,
            line,
            live: Side::simple(SideVerdict::NotApplicable, o.reason.clone()),
            persisted: Side::simple(SideVerdict::NotApplicable, o.reason.clone()),
            expanded: Expanded::Nothing,
        };
    }
    let live = if sides.live.is_some() {
        let v = if o.verdict == Verdict::Pass { SideVerdict::Pass } else { SideVerdict::Fail };
        Side::simple(v, o.reason.clone())
    } else {
        Side::simple(SideVerdict::NotChecked, "no kernel (image tree)")
    };
    let on_disk = if sides.live.is_some() {
        o.persisted.clone()
    } else {
        o.rule_found.then(|| o.evidence[0].origin.clone())
    };
    let persisted = match (&on_disk, &o.volatile) {
        (Some(origin), _) => Side::simple(SideVerdict::Pass, format!("persisted at {origin}")),
        (None, Some(why)) => {
            Side::simple(SideVerdict::NotApplicable, format!("cannot be persisted: {why}"))
        }
        (None, None) => Side::simple(
            SideVerdict::Fail,
            format!("no persisted rule audits {}", real.clone().unwrap_or_default()),
        ),
    };
    ReqOutcome {
        text: text.clone(),
        cac,
        line,
        live,
        persisted,
        expanded: Expanded::Docker { line: real.map(|_| text), volatile: o.volatile.clone() },
    }
}

/// "The running and on-disk configuration is the same": the kernel's rules equal the
/// persisted ones (normalised as the kernel lists them, as multisets).
fn in_sync(sides: &Sides, line: usize) -> ReqOutcome {
    let text = "running rules = persisted rules".to_string();
    let Some(live) = &sides.live else {
        return ReqOutcome {
            text,
            cac: None,
            line,
            live: Side::simple(SideVerdict::NotChecked, "no kernel (image tree)"),
            persisted: Side::simple(SideVerdict::NotApplicable, "compared with the kernel's"),
            expanded: Expanded::InSync,
        };
    };
    let mut only_disk = Vec::new();
    let mut kernel: Vec<(RuleData, String)> =
        live.entries.iter().map(|e| (normalize(&e.rule), e.text.clone())).collect();
    for e in &sides.persisted.entries {
        let n = normalize(&e.rule);
        match kernel.iter().position(|(k, _)| *k == n) {
            Some(i) => {
                kernel.remove(i);
            }
            None => only_disk.push(format!("`{}` ({})", e.text, e.origin)),
        }
    }
    let only_kernel: Vec<String> = kernel.into_iter().map(|(_, t)| format!("`{t}`")).collect();
    let live_side = if only_disk.is_empty() && only_kernel.is_empty() {
        Side::simple(
            SideVerdict::Pass,
            format!(
                "the kernel's {} rules are those of {}",
                live.entries.len(),
                sides.persisted_from
            ),
        )
    } else {
        let mut parts = Vec::new();
        let list = |v: &[String]| {
            let mut s = v.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if v.len() > 5 {
                s.push_str(&format!(" and {} more", v.len() - 5));
            }
            s
        };
        if !only_kernel.is_empty() {
            parts.push(format!("{} only in the kernel: {}", only_kernel.len(), list(&only_kernel)));
        }
        if !only_disk.is_empty() {
            parts.push(format!("{} only persisted: {}", only_disk.len(), list(&only_disk)));
        }
        Side::simple(
            SideVerdict::Fail,
            format!(
                "{} (`nlaudit apply {}` makes them equal)",
                parts.join("; "),
                sides.persisted_from
            ),
        )
    };
    ReqOutcome {
        text,
        cac: None,
        line,
        live: live_side,
        persisted: Side::simple(SideVerdict::NotApplicable, "compared with the kernel's"),
        expanded: Expanded::InSync,
    }
}

/// Renders a rule as auditctl text (for the ensure plan and the report).
pub fn rule_text(r: &RuleData) -> String {
    Renderer::new(nlaudit_rules::Machine::host()).rule(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::discover;
    use crate::host::RootHost;
    use nlaudit_proto::{AuditEnabled, Status};
    use nlaudit_rules::NoEnv;

    /// The rules `text` compiles to in generation `g` (as the kernel lists them).
    fn compiled(text: &str, g: Generation) -> Vec<RuleData> {
        let ctx = Context::new(&NoEnv).with_generation(g);
        parse_command(&split_line(text), &ctx)
            .expect(text)
            .into_iter()
            .filter_map(|d| match d {
                Directive::Rule(rc) => Some(normalize(&rc.rule)),
                _ => None,
            })
            .collect()
    }

    /// A kernel whose perm rule the other generation loaded: the requirement passes, and its
    /// kernel side says which generation's form of which profile line it is; in both
    /// directions. A rule both generations compile alike gets no such note.
    #[test]
    fn a_rule_in_force_in_the_other_generations_form_is_said_to_be() {
        let dir = std::env::temp_dir().join(format!("nlaudit-crossgen-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
        let host = RootHost::new(&dir);
        let profile = crate::profile::parse(
            "x.profile",
            "profile x\ntitle X\n\ncontrol C1\ntitle group\n\
             rule -a always,exit -F arch=b64 -F path=/etc/group -F perm=wa -k identity\n\
             rule -a always,exit -F arch=b64 -S chmod -k perm_mod\n",
        )
        .expect("profile");
        let group = "-a always,exit -F arch=b64 -F path=/etc/group -F perm=wa -k identity";
        let chmod = "-a always,exit -F arch=b64 -S chmod -k perm_mod";
        for g in [Generation::V3, Generation::V4] {
            let mut rules = compiled(group, g.other());
            rules.extend(compiled(chmod, g.other()));
            let status = Status { enabled: AuditEnabled::Enabled, ..Status::default() };
            let kernel = Kernel { status, rules };
            let discovery = discover(&host);
            let cx = ProfileContext {
                host: &host,
                kernel: Some(&kernel),
                extra: KernelExtra::default(),
                dialect: Dialect::default(),
                discovery: &discovery,
                rules_dir: None,
                machine: None,
                generation: g,
            };
            let sides = read_sides(&cx);
            let out = check_profile(&cx, &sides, &profile, None);
            let reqs = &out.controls[0].requirements;
            assert_eq!(reqs[0].live.verdict, SideVerdict::Pass, "{:?}", reqs[0].live);
            // So `ensure --profile` adds nothing for it.
            assert_eq!(reqs[0].live.fix, []);
            let want = format!(
                "loaded by auditctl {0}.x (generation {0}) form of profile x:6",
                g.other().major()
            );
            assert_eq!(reqs[0].live.notes.len(), 1, "{:?}", reqs[0].live.notes);
            assert!(reqs[0].live.notes[0].contains(&want), "{:?}", reqs[0].live.notes);
            assert_eq!(reqs[1].live.verdict, SideVerdict::Pass);
            assert!(reqs[1].live.notes.iter().all(|n| !n.contains("loaded by")));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
