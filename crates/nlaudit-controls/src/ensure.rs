//! What `docker ensure` would do, decided from a [`Report`] and nothing else
//! ([`plan_ensure`]); the CLI executes the plan through its kernel connector and writes the
//! file.
//!
//! For every applicable control without a satisfying rule, the rule added is exactly what
//! `auditctl -w PATH -p rwxa -k docker` sends. A control already satisfied by another rule
//! (any key, narrower perms) is left alone. The rules file keeps its lines; a rule is
//! appended only when no `*.rules` file of the same directory already holds one that
//! satisfies the control, and never twice (augenrules merges the directory, and the kernel
//! refuses a duplicate with EEXIST, which stops `auditctl -R`).

use nlaudit_proto::RuleData;
use nlaudit_rules::{normalize, parse_command, split_line, Context, Directive};

use crate::audit::{RuleSet, ViewEnv};
use crate::controls::{watch_args, watch_text};
use crate::evaluate::{Report, Verdict};
use crate::fsview::FsView;
use crate::host::Host;

/// The default rules file (inside the root).
pub const RULES_FILE: &str = "/etc/audit/rules.d/docker.rules";

/// Whether to turn auditing on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enable {
    /// Leave `enabled` as it is.
    Leave,
    /// Turn auditing on (enabled 1) if it is off.
    TurnOn,
}

/// Where to persist the missing watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persist<'a> {
    /// Append them to this rules file (inside the root).
    To(&'a str),
    /// Change only the kernel's rules.
    Nowhere,
}

/// What ensure is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct EnsureOptions<'a> {
    /// Turn auditing on?
    pub enable: Enable,
    /// Persist where?
    pub persist: Persist<'a>,
}

/// A rule to add to the kernel.
#[derive(Clone, Debug)]
pub struct LiveAdd {
    /// The control's ids (`1.1.3/1.2.3`).
    pub ids: String,
    /// The rule's text.
    pub text: String,
    /// The rule, exactly as auditctl would send it.
    pub rule: RuleData,
}

/// A line to append to the rules file.
#[derive(Clone, Debug)]
pub struct Append {
    /// The control's ids.
    pub ids: String,
    /// The control's title (written as a comment above the rule).
    pub title: &'static str,
    /// The rule's text.
    pub text: String,
}

/// A control whose watch is not persisted, and why.
#[derive(Clone, Debug)]
pub struct Skip {
    /// The control's ids.
    pub ids: String,
    /// Why (its parent directory is created at run time).
    pub why: String,
}

/// The kernel as ensure found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelSide {
    /// An image tree: no kernel.
    Absent,
    /// The running kernel.
    Present {
        /// Its `enabled` (0, 1 or 2).
        enabled: u32,
    },
}

/// Everything ensure would do.
#[derive(Clone, Debug)]
pub struct EnsurePlan {
    /// The kernel it was planned against.
    pub kernel: KernelSide,
    /// The rules to add to the kernel, in control order.
    pub live: Vec<LiveAdd>,
    /// Turn auditing on (after the rules are in).
    pub enable: bool,
    /// The rules file to append to, when persisting.
    pub target: Option<String>,
    /// The lines to append to it.
    pub append: Vec<Append>,
    /// The watches that are not persisted.
    pub volatile: Vec<Skip>,
}

impl EnsurePlan {
    /// Whether the plan changes anything.
    pub fn changes(&self) -> bool {
        !self.live.is_empty() || self.enable || !self.append.is_empty()
    }

    /// Whether the kernel is in immutable mode (enabled 2): no rule or setting can change.
    pub fn immutable(&self) -> bool {
        self.kernel == KernelSide::Present { enabled: 2 }
    }
}

/// A watch that does not parse (it always does: the text is built from a real path).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    /// The rule for the kernel was refused by the parser or would be by the kernel.
    LiveRule {
        /// The rule's arguments.
        text: String,
        /// auditctl's message.
        message: String,
    },
    /// The line for the rules file was refused by the parser.
    FileRule {
        /// The line.
        text: String,
        /// auditctl's message.
        message: String,
    },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::LiveRule { text, message } => write!(f, "invalid rule `{text}`: {message}"),
            PlanError::FileRule { text, message } => write!(f, "`{text}`: {message}"),
        }
    }
}

impl std::error::Error for PlanError {}

/// Plans ensure from the report `evaluate` made with [`crate::Persisted::File`] (its
/// persisted side is the target's directory); `host` is the one it was made on.
pub fn plan_ensure(
    report: &Report,
    host: &dyn Host,
    opts: &EnsureOptions<'_>,
) -> Result<EnsurePlan, PlanError> {
    let fs = FsView::new(host);
    let kernel = match (&report.root, report.state.enabled) {
        (None, Some(enabled)) => KernelSide::Present { enabled },
        _ => KernelSide::Absent,
    };
    let mut plan = EnsurePlan {
        kernel,
        live: Vec::new(),
        enable: false,
        target: None,
        append: Vec::new(),
        volatile: Vec::new(),
    };
    if let KernelSide::Present { enabled } = kernel {
        plan_live(report, fs, &mut plan)?;
        plan.enable = opts.enable == Enable::TurnOn && enabled == 0;
    }
    if let Persist::To(target) = opts.persist {
        plan.target = Some(target.to_string());
        let empty = RuleSet::default();
        let disk = report.disk.as_ref().unwrap_or(&empty);
        plan_disk(report, fs, disk, &mut plan)?;
    }
    Ok(plan)
}

fn plan_live(report: &Report, fs: FsView<'_>, plan: &mut EnsurePlan) -> Result<(), PlanError> {
    let env = ViewEnv(fs);
    let mut ctx = Context::new(&env);
    if let Some(f) = report.features {
        ctx.features = f;
    }
    let mut have: Vec<RuleData> = report.live.entries.iter().map(|e| normalize(&e.rule)).collect();
    for o in report.outcomes.iter().filter(|o| o.verdict != Verdict::NotApplicable) {
        let Some(real) = o.located.watch_path() else { continue };
        if o.rule_found {
            continue;
        }
        // Exactly the bytes auditctl sends for `-w PATH -p rwxa -k docker`.
        let rule = one_rule(&watch_args(real), &ctx)?;
        let n = normalize(&rule);
        if have.contains(&n) {
            continue;
        }
        have.push(n);
        plan.live.push(LiveAdd { ids: o.control.ids(), text: watch_text(real), rule });
    }
    Ok(())
}

/// Parses arguments that must describe exactly one rule the kernel accepts.
fn one_rule(args: &[String], ctx: &Context<'_>) -> Result<RuleData, PlanError> {
    let text = args.join(" ");
    let refused = |message: String| PlanError::LiveRule { text: text.clone(), message };
    let directives = parse_command(args, ctx).map_err(|e| refused(e.message))?;
    let mut it = directives.into_iter();
    match (it.next(), it.next()) {
        (Some(Directive::Rule(r)), None) => {
            match nlaudit_rules::validate::kernel_refusal(&r.rule) {
                Some(why) => Err(refused(format!("the kernel would refuse it: {why}"))),
                None => Ok(r.rule),
            }
        }
        _ => Err(refused("not a rule".to_string())),
    }
}

fn plan_disk(
    report: &Report,
    fs: FsView<'_>,
    disk: &RuleSet,
    plan: &mut EnsurePlan,
) -> Result<(), PlanError> {
    let env = ViewEnv(fs);
    let mut ctx = Context::new(&env);
    if let Some(f) = report.features {
        ctx.features = f;
    }
    let mut have: Vec<RuleData> = disk.entries.iter().map(|e| normalize(&e.rule)).collect();
    for o in report.outcomes.iter().filter(|o| o.verdict != Verdict::NotApplicable) {
        let Some(real) = o.located.watch_path() else { continue };
        if o.persisted.is_some() {
            continue;
        }
        if let Some(why) = &o.volatile {
            plan.volatile.push(Skip { ids: o.control.ids(), why: why.clone() });
            continue;
        }
        let text = watch_text(real);
        let rule = match parse_command(&split_line(&text), &ctx) {
            Ok(d) => d.into_iter().find_map(|d| match d {
                Directive::Rule(r) => Some(r.rule),
                _ => None,
            }),
            Err(e) => return Err(PlanError::FileRule { text, message: e.message }),
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

/// The text appended to a rules file for `lines`: a comment naming the control, then the
/// rule. `existing` is the file's content (`None`: the file does not exist yet, and gets a
/// header); its bytes are kept as they are.
pub fn appended_file(existing: Option<Vec<u8>>, lines: &[Append]) -> Vec<u8> {
    let mut content = existing.unwrap_or_else(|| {
        b"## CIS Docker Benchmark audit rules (nlaudit docker ensure).\n\
          ## auditctl -R / augenrules syntax; lines are only ever appended.\n"
            .to_vec()
    });
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    for l in lines {
        content.extend_from_slice(format!("# {} {}\n{}\n", l.ids, l.title, l.text).as_bytes());
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_keeps_the_old_bytes() {
        let a = [Append { ids: "1.1.6/1.2.5".into(), title: "T", text: "-w /etc/docker".into() }];
        let fresh = String::from_utf8(appended_file(None, &a)).expect("utf-8");
        assert!(
            fresh.starts_with("## CIS Docker")
                && fresh.ends_with("# 1.1.6/1.2.5 T\n-w /etc/docker\n")
        );
        let kept = appended_file(Some(b"-w /x".to_vec()), &a);
        assert_eq!(kept, b"-w /x\n# 1.1.6/1.2.5 T\n-w /etc/docker\n");
    }
}
