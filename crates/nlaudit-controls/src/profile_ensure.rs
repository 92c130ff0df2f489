//! What `ensure --profile` would do, decided from the profile outcomes alone
//! ([`plan_profiles`]): the rules to add to the kernel, the lines to persist in one rules
//! file per profile, and whether to turn auditing on. Requirements already met (in any
//! form) add nothing; a requirement met for some syscalls adds a rule for the others only;
//! rules that differ only in their syscalls are merged into one (as the benchmarks write
//! them); a rule already present, normalised as the kernel lists it, is never added again.
//! Settings (`-e 2`, `-f 2`, `--loginuid-immutable`) are persisted only and take effect at
//! boot: nlaudit never sets them live (enabled 2 and the loginuid lock cannot be undone
//! before a reboot; failure 2 panics the machine on a lost record).

use nlaudit_proto::RuleData;
use nlaudit_rules::{normalize, parse_command, split_line, Context, Directive};

use crate::audit::{RuleSet, ViewEnv};
use crate::fsview::FsView;
use crate::profile_check::{rule_text, Expanded, ProfileOutcome, Setting, SideVerdict};

/// One rule to add to the kernel.
#[derive(Clone, Debug)]
pub struct Add {
    /// The control ids it serves (`cis-linux 6.2.3.9`).
    pub ids: Vec<String>,
    /// Its text.
    pub text: String,
    /// The rule.
    pub rule: RuleData,
}

/// The lines to persist for one profile.
#[derive(Clone, Debug)]
pub struct FilePlan {
    /// The profile.
    pub profile: String,
    /// The file (inside the root).
    pub path: String,
    /// Rule lines to append, with the controls they serve.
    pub rules: Vec<Add>,
    /// Settings to persist (kept at the end of the file, `-e` last).
    pub settings: Vec<Setting>,
}

/// A requirement ensure cannot fix by adding a rule.
#[derive(Clone, Debug)]
pub struct Unfixable {
    /// The control.
    pub id: String,
    /// The requirement.
    pub text: String,
    /// Why.
    pub why: String,
}

/// Everything ensure would do.
#[derive(Clone, Debug, Default)]
pub struct ProfilePlan {
    /// Rules for the kernel, in profile order.
    pub live: Vec<Add>,
    /// Turn auditing on (enabled 0 -> 1) after the rules are in.
    pub enable: bool,
    /// One file per profile (empty ones left out).
    pub files: Vec<FilePlan>,
    /// What cannot be fixed by adding.
    pub unfixable: Vec<Unfixable>,
}

impl ProfilePlan {
    /// Whether the plan changes anything.
    pub fn changes(&self) -> bool {
        !self.live.is_empty()
            || self.enable
            || self.files.iter().any(|f| !f.rules.is_empty() || !f.settings.is_empty())
    }
}

/// Whether to turn auditing on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enable {
    /// Leave it.
    Leave,
    /// Turn it on if it is off.
    TurnOn,
}

/// The file a profile persists to, in `rules_dir`: `nlaudit-NAME.rules` (after the
/// distribution's `audit.rules` in augenrules' order, so its `-f` wins).
pub fn file_for(rules_dir: &str, profile: &str) -> String {
    format!("{}/nlaudit-{profile}.rules", rules_dir.trim_end_matches('/'))
}

/// Plans ensure for the outcomes of a check (`kernel_enabled`: `None` without a kernel).
pub fn plan_profiles(
    outcomes: &[ProfileOutcome],
    live: Option<&RuleSet>,
    disk: &RuleSet,
    kernel_enabled: Option<u32>,
    fs: FsView<'_>,
    rules_dir: &str,
    enable: Enable,
) -> ProfilePlan {
    let env = ViewEnv(fs);
    let ctx = Context::new(&env);
    let mut plan = ProfilePlan {
        enable: enable == Enable::TurnOn && kernel_enabled == Some(0),
        ..ProfilePlan::default()
    };
    let mut have_live: Vec<RuleData> =
        live.map(|l| l.entries.iter().map(|e| normalize(&e.rule)).collect()).unwrap_or_default();
    let mut have_disk: Vec<RuleData> = disk.entries.iter().map(|e| normalize(&e.rule)).collect();
    for p in outcomes {
        let mut file = FilePlan {
            profile: p.name.clone(),
            path: file_for(rules_dir, &p.name),
            rules: Vec::new(),
            settings: Vec::new(),
        };
        for c in &p.controls {
            let id = format!("{} {}", p.name, c.id);
            for r in &c.requirements {
                let (live_fix, disk_fix): (Vec<RuleData>, Vec<RuleData>) = match &r.expanded {
                    Expanded::Rules(_) => (r.live.fix.clone(), r.persisted.fix.clone()),
                    Expanded::Docker { line: Some(l), volatile } => {
                        let rule = parse_one(l, &ctx);
                        let lf =
                            if r.live.verdict == SideVerdict::Fail { rule.clone() } else { None };
                        let df = if r.persisted.verdict == SideVerdict::Fail && volatile.is_none() {
                            rule
                        } else {
                            None
                        };
                        (lf.into_iter().collect(), df.into_iter().collect())
                    }
                    Expanded::Setting(s) => {
                        if r.persisted.verdict == SideVerdict::Fail && !file.settings.contains(s) {
                            file.settings.push(*s);
                        }
                        continue;
                    }
                    Expanded::InSync | Expanded::Nothing | Expanded::Docker { line: None, .. } => {
                        continue
                    }
                };
                for (side, why) in [(&r.live, "kernel"), (&r.persisted, "persisted")] {
                    if let Some(sh) = &side.shadowed_by {
                        plan.unfixable.push(Unfixable {
                            id: id.clone(),
                            text: r.text.clone(),
                            why: format!(
                                "{why}: suppressed by `{}` ({}); adding a rule after it would not \
                                 record (remove that rule)",
                                sh.text, sh.origin
                            ),
                        });
                    }
                }
                if kernel_enabled.is_some() && kernel_enabled != Some(2) {
                    for rule in live_fix {
                        add(&mut plan.live, &mut have_live, &id, rule);
                    }
                }
                for rule in disk_fix {
                    add(&mut file.rules, &mut have_disk, &id, rule);
                }
            }
        }
        if !file.rules.is_empty() || !file.settings.is_empty() {
            plan.files.push(file);
        }
    }
    plan
}

fn parse_one(line: &str, ctx: &Context<'_>) -> Option<RuleData> {
    parse_command(&split_line(line), ctx).ok()?.into_iter().find_map(|d| match d {
        Directive::Rule(r) => Some(r.rule),
        _ => None,
    })
}

/// Adds a rule unless it is already there; merges it into an earlier planned rule that
/// differs only in its syscalls.
fn add(list: &mut Vec<Add>, have: &mut Vec<RuleData>, id: &str, rule: RuleData) {
    let n = normalize(&rule);
    if have.contains(&n) {
        return;
    }
    let mergeable = |a: &RuleData| {
        a.flags == rule.flags
            && a.action == rule.action
            && a.fields == rule.fields
            && !a.mask.iter().take(63).all(|w| *w == u32::MAX)
            && !rule.mask.iter().take(63).all(|w| *w == u32::MAX)
    };
    if let Some(a) = list.iter_mut().find(|a| mergeable(&a.rule)) {
        for (w, m) in a.rule.mask.iter_mut().zip(rule.mask.iter()) {
            *w |= m;
        }
        a.text = rule_text(&a.rule);
        if !a.ids.iter().any(|i| i == id) {
            a.ids.push(id.to_string());
        }
        have.push(normalize(&a.rule));
        return;
    }
    have.push(n);
    list.push(Add { ids: vec![id.to_string()], text: rule_text(&rule), rule });
}

/// The new content of a profile's rules file: its existing lines (byte for byte, but `-e`
/// lines, which move to the end), the new rules with a comment naming their controls, then
/// the settings, `-e` last.
pub fn file_content(existing: Option<&str>, plan: &FilePlan) -> String {
    let mut out = String::new();
    let mut enable: Option<String> = None;
    match existing {
        Some(text) => {
            for l in text.lines() {
                if l.trim_start().starts_with("-e ") {
                    enable = Some(l.to_string());
                } else {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        None => out.push_str(&format!(
            "## Audit rules of the {} profile (nlaudit ensure --profile {}).\n\
             ## auditctl -R / augenrules syntax; nlaudit only appends, and keeps -e last.\n",
            plan.profile, plan.profile
        )),
    }
    for r in &plan.rules {
        out.push_str(&format!("# {}\n{}\n", r.ids.join(", "), r.text));
    }
    for s in &plan.settings {
        match s {
            Setting::Enabled(_) => enable = Some(s.line()),
            _ => out.push_str(&format!("{}\n", s.line())),
        }
    }
    if let Some(e) = enable {
        out.push_str(&e);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_keeps_its_lines_and_e_last() {
        let plan = FilePlan {
            profile: "p".into(),
            path: "/x".into(),
            rules: Vec::new(),
            settings: vec![Setting::Failure(2)],
        };
        let got = file_content(Some("-w /a -p wa\n-e 2\n-w /b -p wa\n"), &plan);
        assert_eq!(got, "-w /a -p wa\n-w /b -p wa\n-f 2\n-e 2\n");
        let fresh = file_content(None, &FilePlan { settings: vec![Setting::Enabled(2)], ..plan });
        assert!(
            fresh.starts_with("## Audit rules of the p profile") && fresh.ends_with("\n-e 2\n")
        );
    }
}
