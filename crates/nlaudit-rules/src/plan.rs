//! Planning `nlaudit apply`: from a rule set to the fewest kernel operations that make the
//! kernel's rules equal, in order, to the set, without a gap. Pure: no I/O.
//!
//! Two steps:
//!
//! 1. [`target`] runs a parsed rule set (the lines of a rules file or of a merged `rules.d`)
//!    on a model of an empty kernel, as `auditctl -R` would run it after `-D`: `-a` appends,
//!    `-A` prepends, `-d`/`-W` delete, `-D [-k K]` deletes, settings are remembered. The
//!    result is the rule list the kernel would hold, list by list, plus the settings.
//! 2. [`plan`] compares that with the rules the kernel holds and orders the operations.
//!
//! ## The kernel's model (kernel/auditfilter.c)
//!
//! One list per filter (user, task, exit, exclude, filesystem, io_uring), listed in list
//! number order, each in its own order. `AUDIT_ADD_RULE` appends, or prepends with
//! `AUDIT_FILTER_PREPEND`; `audit_find_rule` refuses an append equal to a held rule
//! (EEXIST) — but it compares the prepend flag too, which held rules never carry, so a
//! prepend is never refused and can create a second copy. `AUDIT_DEL_RULE` removes the
//! *first* equal rule of the list.
//!
//! ## The plan
//!
//! Rules never touched keep their relative order and end up between everything prepended
//! and everything appended. So the final list is `P ++ K ++ S`, where `K` (the kept rules)
//! must be a contiguous run of the desired list that is a subsequence of the current one.
//! Every other desired rule costs one add, every other current rule one delete: the least
//! kernel work keeps the *longest* such run (ties: the first). A desired rule outside the
//! run that the kernel already holds is *re-added*: deleted, then at once added back at the
//! head (in `P`) or the tail (in `S`). Since re-adds = shared rules − kept rules, the longest
//! run also re-adds the fewest. Deleting first is forced: appending a held rule is refused,
//! and deleting after a prepend would remove the new copy (the first one). That delete/add
//! pair is the only moment a rule of both sets is missing, and the plan says which rules it
//! concerns.
//!
//! Order of the steps: for each list, the prepends (last first), then the appends; then,
//! once every replacement is in, the deletes of obsolete rules (and of surplus copies of a
//! kept rule: the kernel deletes the first copy, so the last one is the one kept).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use nlaudit_proto::{Position, RuleData, Status};

use crate::parse::{Directive, ParseError};
use crate::render::key_matches;
use crate::{normalize, Generation, Machine, Renderer};

/// How errors in a rules file are treated (`auditctl -R`: stop at the first one, unless a
/// `-c` or `-i` line came before it; both persist to the end of the file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorMode {
    /// `-c`: continue after an error; exit 1 at the end.
    pub continue_on_error: bool,
    /// `-i`: ignore errors; exit 0 (unless `-c` is also in force).
    pub ignore_errors: bool,
}

impl ErrorMode {
    /// Whether the first error stops the file.
    pub fn stops(&self) -> bool {
        !self.continue_on_error && !self.ignore_errors
    }

    /// Whether errors that did not stop the file still make it fail at the end.
    pub fn fails_at_end(&self) -> bool {
        self.continue_on_error
    }
}

/// A rule of the target list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRule {
    /// The rule to send (as parsed, without the prepend flag: the plan decides).
    pub rule: RuleData,
    /// The rule as the kernel will list it ([`normalize()`]d): what comparisons use.
    pub normal: RuleData,
    /// Where it comes from: a line of the set, or the kernel (a rule in force that the set
    /// keeps because it has no `-D`).
    pub origin: Origin,
}

/// Where a rule of the target comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The line that added it (an index chosen by the caller).
    Line(usize),
    /// A rule the kernel held before the set ran, which nothing in the set deleted.
    Kernel,
}

impl Origin {
    /// The line, for a rule the set added.
    pub fn line(self) -> Option<usize> {
        match self {
            Origin::Line(l) => Some(l),
            Origin::Kernel => None,
        }
    }
}

/// What the set runs on: `auditctl -R` adds to whatever the kernel holds, so a set without
/// `-D` keeps the rules in force that it does not delete (augenrules' result on a kernel
/// that already holds rules).
#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    /// An empty kernel (the set alone).
    Empty,
    /// The rules the kernel holds, as listed.
    Kernel(&'a [RuleData]),
}

/// The settings a rule set asks for (the last value of each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// The last `-e 0|1`.
    pub enabled: Option<u32>,
    /// Whether an `-e 2` appears: locked until reboot, applied last.
    pub lock: bool,
    /// The last `-f`.
    pub failure: Option<u32>,
    /// The last `-r`.
    pub rate_limit: Option<u32>,
    /// The last `-b`.
    pub backlog_limit: Option<u32>,
    /// The last `--backlog_wait_time`.
    pub backlog_wait_time: Option<u32>,
    /// Whether `--loginuid-immutable` appears (irreversible: applied after the rules).
    pub loginuid_immutable: bool,
}

/// Why a line of the set could not be taken as written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The line does not parse; auditctl's message.
    Parse(String),
    /// The rule is already in the set (added by line `first`). `auditctl -R` would fail
    /// here with EEXIST (or, for `-A`, load a second copy); the set keeps the first.
    Duplicate {
        /// The line that added it first.
        first: usize,
    },
    /// A `-d`/`-W` line whose rule is not in the set at that point (ENOENT).
    NoSuchRule,
    /// An option nlaudit does not implement, or that means nothing in a rule set.
    Unsupported(String),
    /// A rule the kernel would refuse here, and why (a watched path's directory missing,
    /// say); left out of the set like a duplicate.
    Refused(String),
}

/// A line that could not be taken as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The line.
    pub source: usize,
    /// What is wrong.
    pub kind: ProblemKind,
    /// The error mode in force at that line.
    pub mode: ErrorMode,
}

/// What a rule set asks the kernel to hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// The rules, in the order the kernel would list them.
    pub rules: Vec<TargetRule>,
    /// The settings.
    pub settings: Settings,
    /// Lines that could not be taken as written, in order.
    pub problems: Vec<Problem>,
    /// The error mode at the end of the set.
    pub mode: ErrorMode,
    /// Set lines whose rule the kernel holds as the other generation compiled it (see
    /// [`target_across`]), in line order.
    pub other_forms: Vec<OtherForm>,
}

impl Target {
    /// The first problem that stops the set (one met while no `-c`/`-i` was in force).
    pub fn fatal(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.mode.stops())
    }
}

/// Runs a parsed rule set on a model of an empty kernel. `lines` are (source, parse
/// result) in order; `mode` is the error mode at the start (`-c`/`-i` lines change it).
///
/// Problems are recorded, never fatal here: a duplicate keeps the first copy, a `-d` of an
/// absent rule does nothing (see [`Target::fatal`]).
pub fn target(lines: &[(usize, Result<Vec<Directive>, ParseError>)], mode: ErrorMode) -> Target {
    target_on(Start::Empty, lines, mode, |_| None)
}

/// [`target`], with `refusal` saying which rules the kernel would refuse on this machine
/// (and why): those are problems, left out of the set.
pub fn target_checked(
    lines: &[(usize, Result<Vec<Directive>, ParseError>)],
    mode: ErrorMode,
    refusal: impl Fn(&RuleData) -> Option<String>,
) -> Target {
    target_on(Start::Empty, lines, mode, refusal)
}

/// What to do with a rule in force that is not this generation's compilation of a set line
/// but is the other generation's: the same line, loaded by the other auditctl (4.x expands
/// `-F arch=.. -F perm=..` into syscalls, 3.0.9 does not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OtherFormPolicy {
    /// Keep it as it is: the line is in force, in the other generation's form (no churn).
    #[default]
    Keep,
    /// Replace it by this generation's compilation (a delete and an add).
    Rewrite,
}

/// The other generation's compilation of the set's lines, for [`target_across`].
pub struct OtherGeneration<'a> {
    /// The other generation.
    pub generation: Generation,
    /// What to do with a rule in force in its form.
    pub policy: OtherFormPolicy,
    /// The rules (`Directive::Rule`, adds and deletes, in order) that the line with this
    /// source index compiles to in `generation`; `None` when it does not parse there.
    /// Called only for lines whose own compilation the kernel does not hold.
    pub compile: &'a dyn Fn(usize) -> Option<Vec<RuleData>>,
}

/// A set line whose rule the kernel holds in the other generation's form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherForm {
    /// The line.
    pub source: usize,
    /// The generation whose compilation the kernel holds.
    pub generation: Generation,
    /// The rule in force (as listed).
    pub held: RuleData,
    /// What the target does with it.
    pub policy: OtherFormPolicy,
}

impl OtherForm {
    /// `loaded by auditctl 4.x (generation 4) form of FILE:LINE`, `location` being the
    /// line's `FILE:LINE`.
    pub fn loaded_by(&self, location: &str) -> String {
        loaded_by(self.generation, location)
    }
}

/// `loaded by auditctl 4.x (generation 4) form of LOCATION`: how a rule in force that is
/// `generation`'s compilation of a line (at `location`) is reported.
pub fn loaded_by(generation: Generation, location: &str) -> String {
    format!(
        "loaded by auditctl {}.x (generation {}) form of {location}",
        generation.major(),
        generation.major()
    )
}

/// Whether `held` (a rule as the kernel lists it) is the other generation's compilation of a
/// line and not this one's: `this` and `other` are the line's compilations (as parsed).
pub fn is_other_form(held: &RuleData, this: &RuleData, other: &RuleData) -> bool {
    let other = normalize(other);
    *held == other && other != normalize(this)
}

/// [`target_on`], knowing how the other generation compiles each line: a rule in force that
/// is the other generation's compilation of a set line is recorded in
/// [`Target::other_forms`] and, by [`OtherFormPolicy::Keep`], taken as that line (kept where
/// it stands, or, after the set's `-D`, planned as held); by [`OtherFormPolicy::Rewrite`]
/// replaced by this generation's compilation. A `-d` line deletes the rule in either form.
pub fn target_across(
    start: Start<'_>,
    lines: &[(usize, Result<Vec<Directive>, ParseError>)],
    other: &OtherGeneration<'_>,
    mode: ErrorMode,
    refusal: impl Fn(&RuleData) -> Option<String>,
) -> Target {
    run_set(start, lines, Some(other), mode, refusal)
}

/// [`target_checked`], run on `start`: with [`Start::Kernel`] the model begins with the
/// rules in force, so the set's `-D` (or its absence) decides what becomes of them, as when
/// `auditctl -R` runs the set on this kernel. A line adding a rule the kernel already holds
/// takes that rule over where it stands (auditctl would fail with EEXIST; applying a set
/// twice must change nothing); a `-d` of it deletes it.
pub fn target_on(
    start: Start<'_>,
    lines: &[(usize, Result<Vec<Directive>, ParseError>)],
    mode: ErrorMode,
    refusal: impl Fn(&RuleData) -> Option<String>,
) -> Target {
    run_set(start, lines, None, mode, refusal)
}

/// The other generation's compilation of the `k`th rule of line `source`, normalized, when
/// it differs from this generation's (`normal`) and the kernel holds it (`in_force`).
///
/// The two generations' compilations of a line that both parse differ in the syscall mask
/// only (4.x's perm expansion, its syscall tables; what else differs, 3.0.9 refuses): so
/// a line is compiled again only when the kernel holds a rule of its list, action and
/// fields (`shapes`), which keeps a set the kernel does not hold from being parsed twice.
fn other_compilation(
    other: Option<&OtherGeneration<'_>>,
    in_force: &HashSet<&RuleData>,
    shapes: &HashSet<Shape<'_>>,
    source: usize,
    k: usize,
    normal: &RuleData,
) -> Option<(RuleData, RuleData)> {
    let o = other?;
    if in_force.contains(normal) || !shapes.contains(&shape(normal)) {
        return None;
    }
    let rule = (o.compile)(source)?.into_iter().nth(k)?;
    let alt = normalize(&rule);
    (alt != *normal && in_force.contains(&alt)).then_some((rule, alt))
}

/// A rule but its syscall mask: (flags, action, fields).
type Shape<'a> = (u32, u32, &'a [nlaudit_proto::FieldData]);

fn shape(r: &RuleData) -> Shape<'_> {
    (r.flags, r.action, &r.fields)
}

fn run_set(
    start: Start<'_>,
    lines: &[(usize, Result<Vec<Directive>, ParseError>)],
    other: Option<&OtherGeneration<'_>>,
    mode: ErrorMode,
    refusal: impl Fn(&RuleData) -> Option<String>,
) -> Target {
    let mut t = Target { mode, ..Target::default() };
    let mut lists: HashMap<u32, VecDeque<TargetRule>> = HashMap::new();
    let mut held: HashMap<RuleData, Origin> = HashMap::new();
    let mut in_force: HashSet<&RuleData> = HashSet::new();
    let mut shapes: HashSet<Shape<'_>> = HashSet::new();
    if let Start::Kernel(current) = start {
        for r in current {
            held.entry(r.clone()).or_insert(Origin::Kernel);
            in_force.insert(r);
            if other.is_some() {
                shapes.insert(shape(r));
            }
            let entry = TargetRule { rule: r.clone(), normal: r.clone(), origin: Origin::Kernel };
            lists.entry(r.list().0).or_default().push_back(entry);
        }
    }
    for (source, parsed) in lines {
        let source = *source;
        let directives = match parsed {
            Ok(d) => d,
            Err(e) => {
                t.problems.push(Problem {
                    source,
                    kind: ProblemKind::Parse(e.message.clone()),
                    mode: t.mode,
                });
                continue;
            }
        };
        // The index of each rule directive in its line (to find its other compilation).
        let mut k = 0;
        for d in directives {
            let mut problem = |kind| t.problems.push(Problem { source, kind, mode: t.mode });
            let nth = k;
            if matches!(d, Directive::Rule(_)) {
                k += 1;
            }
            match d {
                Directive::Rule(rc) if !rc.delete => {
                    if let Some(why) = refusal(&rc.rule) {
                        problem(ProblemKind::Refused(why));
                        continue;
                    }
                    let mut normal = normalize(&rc.rule);
                    let mut rule = rc.rule.clone();
                    rule.set_position(Position::Append);
                    match held.get(&normal) {
                        Some(Origin::Line(first)) => {
                            problem(ProblemKind::Duplicate { first: *first });
                            continue;
                        }
                        Some(Origin::Kernel) => {
                            // In force already: the set takes it over where it stands.
                            let list = lists.entry(normal.list().0).or_default();
                            let found = list
                                .iter_mut()
                                .find(|e| e.origin == Origin::Kernel && e.normal == normal);
                            if let Some(e) = found {
                                e.rule = rule;
                                e.origin = Origin::Line(source);
                            }
                            held.insert(normal, Origin::Line(source));
                            continue;
                        }
                        None => {}
                    }
                    let across = other_compilation(other, &in_force, &shapes, source, nth, &normal)
                        .filter(|(_, alt)| !matches!(held.get(alt), Some(Origin::Line(_))));
                    if let (Some((alt_rule, alt)), Some(o)) = (across, other) {
                        t.other_forms.push(OtherForm {
                            source,
                            generation: o.generation,
                            held: alt.clone(),
                            policy: o.policy,
                        });
                        // This line's own form counts as given, for later duplicates.
                        held.insert(normal.clone(), Origin::Line(source));
                        if o.policy == OtherFormPolicy::Keep {
                            // The line is in force in the other form: that is its rule.
                            rule = alt_rule;
                            rule.set_position(Position::Append);
                            normal = alt.clone();
                        }
                        let in_place = held.get(&alt) == Some(&Origin::Kernel);
                        let list = lists.entry(normal.list().0).or_default();
                        let found = list
                            .iter_mut()
                            .find(|e| e.origin == Origin::Kernel && e.normal == alt)
                            .filter(|_| in_place);
                        held.remove(&alt);
                        if let Some(e) = found {
                            // Kept, or rewritten, where it stands.
                            e.rule = rule;
                            e.normal = normal.clone();
                            e.origin = Origin::Line(source);
                            held.insert(normal, Origin::Line(source));
                            continue;
                        }
                    }
                    held.insert(normal.clone(), Origin::Line(source));
                    let list = lists.entry(normal.list().0).or_default();
                    let entry = TargetRule { rule, normal, origin: Origin::Line(source) };
                    if rc.rule.prepend() {
                        list.push_front(entry);
                    } else {
                        list.push_back(entry);
                    }
                }
                Directive::Rule(rc) => {
                    let normal = normalize(&rc.rule);
                    let alt = other_compilation(other, &in_force, &shapes, source, nth, &normal);
                    let list = lists.entry(normal.list().0).or_default();
                    let at = list.iter().position(|e| e.normal == normal).map(|i| (i, normal));
                    let at = at.or_else(|| {
                        let (_, alt) = alt?;
                        list.iter().position(|e| e.normal == alt).map(|i| (i, alt))
                    });
                    match at {
                        Some((i, n)) => {
                            list.remove(i);
                            held.remove(&n);
                        }
                        None => problem(ProblemKind::NoSuchRule),
                    }
                }
                Directive::DeleteAll { key } => {
                    for list in lists.values_mut() {
                        list.retain(|e| {
                            let keep = !key_matches(&e.normal, key.as_deref());
                            if !keep {
                                held.remove(&e.normal);
                            }
                            keep
                        });
                    }
                }
                Directive::Enabled(2) => t.settings.lock = true,
                Directive::Enabled(n) => t.settings.enabled = Some(*n),
                Directive::Failure(n) => t.settings.failure = Some(*n),
                Directive::RateLimit(n) => t.settings.rate_limit = Some(*n),
                Directive::BacklogLimit(n) => t.settings.backlog_limit = Some(*n),
                Directive::BacklogWaitTime(n) => t.settings.backlog_wait_time = Some(*n),
                Directive::LoginuidImmutable => t.settings.loginuid_immutable = true,
                Directive::IgnoreErrors => t.mode.ignore_errors = true,
                Directive::ContinueOnError => t.mode.continue_on_error = true,
                // Queries and counter resets change no rule or setting; `possible` rules are
                // dropped by auditctl itself.
                Directive::List { .. }
                | Directive::Status { .. }
                | Directive::Version
                | Directive::Help
                | Directive::ResetLost
                | Directive::ResetBacklogWaitTimeActual
                | Directive::Ignored(_) => {}
                Directive::Unsupported(what) => problem(ProblemKind::Unsupported(what.clone())),
            }
        }
    }
    let mut numbers: Vec<u32> = lists.keys().copied().collect();
    numbers.sort_unstable();
    for n in numbers {
        if let Some(list) = lists.remove(&n) {
            t.rules.extend(list);
        }
    }
    t
}

impl Target {
    /// How many rules in force the set keeps without naming them (it has no `-D`).
    pub fn kept_from_kernel(&self) -> usize {
        self.rules.iter().filter(|r| r.origin == Origin::Kernel).count()
    }
}

/// Why a rule is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    /// Not in the desired set.
    Obsolete,
    /// In the set, but out of place: deleted and added back at once.
    Readd,
    /// A surplus copy (left by an earlier prepend) of a rule that is kept.
    SurplusCopy,
}

/// One kernel operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// AUDIT_ADD_RULE of `desired[index]`, at the list's head or tail.
    Add {
        /// Index into the desired rules.
        index: usize,
        /// [`Position::Prepend`]: send with `AUDIT_FILTER_PREPEND`.
        position: Position,
        /// The rule was deleted just before (a re-add).
        readd: bool,
    },
    /// AUDIT_DEL_RULE of `current[index]` (the kernel removes the first equal rule).
    Delete {
        /// Index into the current rules.
        index: usize,
        /// Why.
        reason: DeleteReason,
    },
}

/// The operations that make the kernel's rules equal to the desired ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps, in the order to run them.
    pub steps: Vec<Step>,
    /// Rules left alone.
    pub kept: usize,
    /// New rules added.
    pub added: usize,
    /// Rules deleted for good (obsolete rules and surplus copies).
    pub deleted: usize,
    /// Rules deleted and added back to restore the order.
    pub readded: usize,
}

impl Plan {
    /// Whether the kernel's rules already are the desired ones.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Plans the least kernel work that turns `current` (as listed) into `desired` (normalized,
/// in listing order; later duplicates within a list are ignored). See the module docs.
pub fn plan(current: &[RuleData], desired: &[RuleData]) -> Plan {
    let mut p = Plan::default();
    let mut last = Vec::new();
    let lists: BTreeSet<u32> = current.iter().chain(desired).map(|r| r.list().0).collect();
    for list in lists {
        let c: Vec<usize> = (0..current.len()).filter(|&i| current[i].list().0 == list).collect();
        let mut seen = HashSet::new();
        let d: Vec<usize> = (0..desired.len())
            .filter(|&i| desired[i].list().0 == list && seen.insert(&desired[i]))
            .collect();
        plan_list(current, desired, &c, &d, &mut p, &mut last);
    }
    p.steps.extend(last);
    p
}

fn plan_list(
    current: &[RuleData],
    desired: &[RuleData],
    c: &[usize],
    d: &[usize],
    p: &mut Plan,
    last: &mut Vec<Step>,
) {
    // Only the last copy of a rule can be kept: a delete removes the first.
    let mut position: HashMap<&RuleData, usize> = HashMap::with_capacity(c.len());
    for (k, &ci) in c.iter().enumerate() {
        position.insert(&current[ci], k);
    }
    let pos: Vec<Option<usize>> = d.iter().map(|&di| position.get(&desired[di]).copied()).collect();

    // The longest run of desired rules held in the same relative order.
    let (mut best_start, mut best_len, mut start) = (0, 0, 0);
    for j in 0..d.len() {
        let Some(here) = pos[j] else {
            start = j + 1;
            continue;
        };
        let extends = j > start && pos[j - 1].is_some_and(|before| before < here);
        if !extends {
            start = j;
        }
        if j + 1 - start > best_len {
            best_len = j + 1 - start;
            best_start = start;
        }
    }
    let window = best_start..best_start + best_len;
    let kept: HashSet<usize> = window.clone().filter_map(|j| pos[j]).collect();
    p.kept += kept.len();

    let slot: HashMap<&RuleData, usize> =
        d.iter().enumerate().map(|(j, &di)| (&desired[di], j)).collect();
    let mut readd_copies: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &ci) in c.iter().enumerate() {
        if kept.contains(&k) {
            continue;
        }
        match slot.get(&current[ci]) {
            Some(j) if window.contains(j) => {
                last.push(Step::Delete { index: ci, reason: DeleteReason::SurplusCopy });
                p.deleted += 1;
            }
            Some(&j) => readd_copies.entry(j).or_default().push(ci),
            None => {
                last.push(Step::Delete { index: ci, reason: DeleteReason::Obsolete });
                p.deleted += 1;
            }
        }
    }

    let mut emit = |j: usize, position: Position| {
        let readd = match readd_copies.get(&j) {
            Some(copies) => {
                for &ci in copies {
                    p.steps.push(Step::Delete { index: ci, reason: DeleteReason::Readd });
                }
                // Copies beyond the one added back are gone for good.
                p.deleted += copies.len() - 1;
                true
            }
            None => false,
        };
        p.steps.push(Step::Add { index: d[j], position, readd });
        if readd {
            p.readded += 1;
        } else {
            p.added += 1;
        }
    };
    for j in (0..best_start).rev() {
        emit(j, Position::Prepend);
    }
    for j in best_start + best_len..d.len() {
        emit(j, Position::Append);
    }
}

/// A setting `apply` changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingKind {
    /// `-b`.
    BacklogLimit,
    /// `-f`.
    Failure,
    /// `-r`.
    RateLimit,
    /// `--backlog_wait_time`.
    BacklogWaitTime,
    /// `-e 0|1`.
    Enabled,
    /// `--loginuid-immutable` (irreversible).
    LoginuidImmutable,
    /// `-e 2` (irreversible until reboot).
    Lock,
}

/// One setting to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingChange {
    /// Which.
    pub kind: SettingKind,
    /// The new value.
    pub to: u32,
    /// The value now, when the kernel reported one.
    pub from: Option<u32>,
}

impl SettingChange {
    /// Whether it runs after the rules (enabling, and what cannot be undone).
    pub fn after_rules(&self) -> bool {
        matches!(
            self.kind,
            SettingKind::Enabled | SettingKind::LoginuidImmutable | SettingKind::Lock
        )
    }

    /// The auditctl option that makes this change, e.g. `-b 8192`.
    pub fn option(&self) -> String {
        match self.kind {
            SettingKind::BacklogLimit => format!("-b {}", self.to),
            SettingKind::Failure => format!("-f {}", self.to),
            SettingKind::RateLimit => format!("-r {}", self.to),
            SettingKind::BacklogWaitTime => format!("--backlog_wait_time {}", self.to),
            SettingKind::Enabled | SettingKind::Lock => format!("-e {}", self.to),
            SettingKind::LoginuidImmutable => "--loginuid-immutable".to_string(),
        }
    }
}

/// The settings to change, in the order to change them: those the set asks for that differ
/// from the kernel's (`loginuid` = (on, locked) from AUDIT_GET_FEATURE, if known). The lock
/// (`-e 2`) comes last.
pub fn setting_changes(
    want: &Settings,
    now: &Status,
    loginuid: Option<(bool, bool)>,
) -> Vec<SettingChange> {
    let mut out = Vec::new();
    let mut push = |kind, to: Option<u32>, from: Option<u32>| {
        if let Some(to) = to {
            if from != Some(to) {
                out.push(SettingChange { kind, to, from });
            }
        }
    };
    push(SettingKind::BacklogLimit, want.backlog_limit, Some(now.backlog_limit));
    push(SettingKind::Failure, want.failure, Some(now.failure));
    push(SettingKind::RateLimit, want.rate_limit, Some(now.rate_limit));
    push(SettingKind::BacklogWaitTime, want.backlog_wait_time, now.backlog_wait_time);
    push(SettingKind::Enabled, want.enabled, Some(now.enabled.raw()));
    if want.loginuid_immutable && loginuid != Some((true, true)) {
        let from = loginuid.map(|(on, _)| u32::from(on));
        out.push(SettingChange { kind: SettingKind::LoginuidImmutable, to: 1, from });
    }
    if want.lock && !now.enabled.is_locked() {
        out.push(SettingChange { kind: SettingKind::Lock, to: 2, from: Some(now.enabled.raw()) });
    }
    out
}

/// A rule as a plan line shows it: auditctl's `-l` text, with `-A` for a prepend (a watch
/// has no `-A` form: a note says where it goes).
pub fn rule_text(rule: &RuleData, position: Position, host: Machine) -> String {
    let text = Renderer::new(host).rule(rule);
    match (position, text.strip_prefix("-a ")) {
        (Position::Append, _) => text,
        (Position::Prepend, Some(rest)) => format!("-A {rest}"),
        (Position::Prepend, None) => format!("{text}  # at the head of its list"),
    }
}

/// The plan as `+`/`-` lines in auditctl syntax, in the order the steps run, re-adds marked.
pub fn plan_lines(
    plan: &Plan,
    current: &[RuleData],
    desired: &[RuleData],
    host: Machine,
) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| match *s {
            Step::Add { index, position, readd } => {
                let t = rule_text(&desired[index], position, host);
                if readd {
                    format!("+ {t}  # re-add")
                } else {
                    format!("+ {t}")
                }
            }
            Step::Delete { index, reason } => {
                let t = rule_text(&current[index], Position::Append, host);
                match reason {
                    DeleteReason::Obsolete => format!("- {t}"),
                    DeleteReason::Readd => format!("- {t}  # re-add: deleted, then added back"),
                    DeleteReason::SurplusCopy => format!("- {t}  # surplus copy"),
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_command, split_line, Context, NoEnv};
    use nlaudit_proto::consts::AUDIT_FILTER_PREPEND;

    fn parse_lines(text: &str) -> Vec<(usize, Result<Vec<Directive>, ParseError>)> {
        let env = NoEnv;
        let ctx = Context::new(&env);
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(i, l)| (i + 1, parse_command(&split_line(l), &ctx)))
            .collect()
    }

    /// A rule from a short name: `x` = an exit rule keyed x; `t:x` and `u:x` = a task or
    /// user rule whose uid is the code of the letter x (those lists take no key).
    fn rule(name: &str) -> RuleData {
        let text = match name.split_once(':') {
            Some(("t", k)) => format!("-a always,task -F uid={}", u32::from(k.as_bytes()[0])),
            Some(("u", k)) => format!("-a always,user -F uid={}", u32::from(k.as_bytes()[0])),
            _ => format!("-a always,exit -F arch=b64 -S open -k {name}"),
        };
        let t = target(&parse_lines(&text), ErrorMode::default());
        assert_eq!(t.problems, [], "{text}");
        t.rules[0].normal.clone()
    }

    fn rules(names: &str) -> Vec<RuleData> {
        names.split_whitespace().map(rule).collect()
    }

    fn name(r: &RuleData) -> String {
        let t = Renderer::new(Machine::X86_64).rule(r);
        let tail = |k: &str| t.rsplit_once(k).map(|x| x.1.to_string()).unwrap_or_default();
        let letter = || tail("uid=").parse::<u8>().map(char::from).unwrap_or('?');
        match r.list().0 {
            1 => format!("t:{}", letter()),
            0 => format!("u:{}", letter()),
            _ => tail("key="),
        }
    }

    /// The kernel's model: per list, append refuses a held rule, prepend never does,
    /// delete removes the first equal rule; listing is list by list.
    #[derive(Default)]
    struct Kernel {
        lists: std::collections::BTreeMap<u32, Vec<RuleData>>,
    }

    impl Kernel {
        fn with(rules: &[RuleData]) -> Kernel {
            let mut k = Kernel::default();
            for r in rules {
                k.lists.entry(r.list().0).or_default().push(r.clone());
            }
            k
        }
        fn listing(&self) -> Vec<RuleData> {
            self.lists.values().flatten().cloned().collect()
        }
        fn add(&mut self, r: &RuleData, position: Position) {
            let l = self.lists.entry(r.list().0).or_default();
            if position == Position::Prepend {
                l.insert(0, r.clone());
            } else {
                assert!(!l.contains(r), "EEXIST: append of held rule {}", name(r));
                l.push(r.clone());
            }
        }
        fn delete(&mut self, r: &RuleData) {
            let l = self.lists.entry(r.list().0).or_default();
            let i = l.iter().position(|x| x == r).unwrap_or_else(|| panic!("ENOENT {}", name(r)));
            l.remove(i);
        }
    }

    /// Runs the plan on the model; checks the result, that no shared rule is ever missing
    /// outside its own re-add, and the counts. Returns (kept, added, deleted, readded).
    fn run(cur: &[RuleData], want: &[RuleData]) -> (usize, usize, usize, usize) {
        let p = plan(cur, want);
        let mut k = Kernel::with(cur);
        let shared: Vec<&RuleData> = want.iter().filter(|r| cur.contains(r)).collect();
        let mut in_readd: Option<RuleData> = None;
        for s in &p.steps {
            match *s {
                Step::Add { index, position, readd } => {
                    k.add(&want[index], position);
                    if readd {
                        assert_eq!(in_readd.take().as_ref(), Some(&want[index]));
                    }
                }
                Step::Delete { index, reason } => {
                    k.delete(&cur[index]);
                    if reason == DeleteReason::Readd {
                        in_readd = Some(cur[index].clone());
                    }
                }
            }
            let now = k.listing();
            for r in &shared {
                assert!(
                    now.contains(r) || in_readd.as_ref() == Some(*r),
                    "{} missing after {s:?}",
                    name(r)
                );
            }
        }
        assert_eq!(k.listing(), want, "final list");
        let ops = p.steps.len();
        assert_eq!(ops, p.added + p.deleted + 2 * p.readded);
        (p.kept, p.added, p.deleted, p.readded)
    }

    fn check(cur: &str, want: &str, expect: (usize, usize, usize, usize)) {
        assert_eq!(run(&rules(cur), &rules(want)), expect, "{cur} -> {want}");
    }

    #[test]
    fn plans() {
        // (kept, added, deleted, re-added)
        check("", "a b c", (0, 3, 0, 0));
        check("a b c", "a b c", (3, 0, 0, 0));
        check("a b c", "", (0, 0, 3, 0));
        check("a b c", "a b c d", (3, 1, 0, 0));
        check("a b c", "z a b c", (3, 1, 0, 0));
        check("a b c", "y z a b c", (3, 2, 0, 0));
        check("a b c", "a b x", (2, 1, 1, 0));
        check("a b c", "x b c", (2, 1, 1, 0));
        // A change in the middle re-adds the shorter side.
        check("a b c d e", "a b c x d e", (3, 1, 0, 2));
        check("a b c d e", "a x b c d e", (4, 1, 0, 1));
        check("a b c d e", "a b c d x e", (4, 1, 0, 1));
        check("a b c d e", "a b X d e", (2, 1, 1, 2));
        check("a b c", "c b a", (1, 0, 0, 2));
        check("a b c", "b c a", (2, 0, 0, 1));
        check("a x b y c", "a b c", (3, 0, 2, 0));
        check("p q", "a b", (0, 2, 2, 0));
        // Lists are planned apart; task (1) lists before exit (4).
        check("t:a a b", "t:a t:b a b", (3, 1, 0, 0));
        check("u:a t:a a", "t:a a", (2, 0, 1, 0));
    }

    #[test]
    fn surplus_copies_keep_the_last() {
        // A prepend left a second copy of `a` at the head: the kernel deletes the first.
        let cur = rules("a b a c");
        assert_eq!(run(&cur, &rules("b a c")), (3, 0, 1, 0));
        assert_eq!(run(&cur, &rules("a b c")), (2, 0, 1, 1));
    }

    #[test]
    fn steps_and_lines() {
        let cur = rules("a b c d");
        let want = rules("a x b c d");
        let p = plan(&cur, &want);
        let lines = plan_lines(&p, &cur, &want, Machine::X86_64);
        assert_eq!(
            lines,
            [
                "+ -A always,exit -F arch=b64 -S open -F key=x",
                "- -a always,exit -F arch=b64 -S open -F key=a  # re-add: deleted, then added back",
                "+ -A always,exit -F arch=b64 -S open -F key=a  # re-add",
            ]
        );
        let cur = rules("a b c");
        let want = rules("a b C");
        let p = plan(&cur, &want);
        assert_eq!(
            plan_lines(&p, &cur, &want, Machine::X86_64),
            [
                "+ -a always,exit -F arch=b64 -S open -F key=C",
                "- -a always,exit -F arch=b64 -S open -F key=c",
            ]
        );
    }

    /// Every window of `want` that is a subsequence of `cur` (unique rules), the longest.
    fn brute_kept(cur: &[RuleData], want: &[RuleData]) -> usize {
        let mut best = 0;
        for i in 0..=want.len() {
            for j in i..=want.len() {
                let mut it = cur.iter();
                if want[i..j].iter().all(|w| it.any(|c| c == w)) {
                    best = best.max(j - i);
                }
            }
        }
        best
    }

    #[test]
    fn random_sets_are_optimal_and_gap_free() {
        // A small deterministic generator: permutations and subsets of 8 rules.
        let pool: Vec<RuleData> = "a b c d e f t:g t:h".split_whitespace().map(rule).collect();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut pick = || -> Vec<RuleData> {
            let mut v: Vec<RuleData> = pool.clone();
            for i in (1..v.len()).rev() {
                v.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            v.truncate((next() % (v.len() as u64 + 1)) as usize);
            // Kernel listing order: by list.
            v.sort_by_key(|r| r.list().0);
            v
        };
        for _ in 0..400 {
            let cur = pick();
            let want = pick();
            let (kept, added, deleted, readded) = run(&cur, &want);
            let mut best = 0;
            for list in [1, 4] {
                let c: Vec<_> = cur.iter().filter(|r| r.list().0 == list).cloned().collect();
                let w: Vec<_> = want.iter().filter(|r| r.list().0 == list).cloned().collect();
                best += brute_kept(&c, &w);
            }
            assert_eq!(
                kept,
                best,
                "{:?} -> {:?}",
                cur.iter().map(name).collect::<Vec<_>>(),
                want.iter().map(name).collect::<Vec<_>>()
            );
            let shared = want.iter().filter(|r| cur.contains(r)).count();
            assert_eq!(readded, shared - kept);
            assert_eq!(added + readded + kept, want.len());
            assert_eq!(deleted + readded + kept, cur.len());
        }
    }

    /// A set runs on the rules in force: without `-D` they are kept where they are (and a
    /// line adding one takes it over), `-d` and `-D -k` delete them, a leading `-D` makes
    /// the result the set alone.
    #[test]
    fn target_on_the_kernel_follows_the_sets_delete_all() {
        let held = rules("old keep gone");
        let check = |set: &str, want: &str, kept: usize| {
            let t =
                target_on(Start::Kernel(&held), &parse_lines(set), ErrorMode::default(), |_| None);
            assert_eq!(t.problems, [], "{set}");
            let names: Vec<String> = t.rules.iter().map(|r| name(&r.normal)).collect();
            assert_eq!(names.join(" "), want, "{set}");
            assert_eq!(t.kept_from_kernel(), kept, "{set}");
        };
        let r = |k: &str| format!("-a always,exit -F arch=b64 -S open -k {k}");
        check(&format!("{}\n{}", r("new"), r("keep")), "old keep gone new", 2);
        check(&format!("-D\n{}\n{}", r("new"), r("keep")), "new keep", 0);
        check(&format!("{}\n-d{}", r("new"), &r("gone")[2..]), "old keep new", 2);
        check(&format!("-D -k ol\n{}", r("new")), "keep gone new", 2);
        check("", "old keep gone", 3);
        // The set's own duplicates are still problems; a rule in force is not one.
        let t = target_on(
            Start::Kernel(&held),
            &parse_lines(&format!("{}\n{}", r("keep"), r("keep"))),
            ErrorMode::default(),
            |_| None,
        );
        assert_eq!(t.problems.len(), 1);
        assert_eq!(t.problems[0].kind, ProblemKind::Duplicate { first: 1 });
        assert_eq!(t.rules[1].origin, Origin::Line(1));
        // Planned on the kernel, a set without -D adds and deletes nothing else.
        let t =
            target_on(Start::Kernel(&held), &parse_lines(&r("new")), ErrorMode::default(), |_| {
                None
            });
        let desired: Vec<RuleData> = t.rules.iter().map(|x| x.normal.clone()).collect();
        let p = plan(&held, &desired);
        assert_eq!((p.added, p.deleted, p.kept, p.readded), (1, 0, 3, 0));
    }

    fn parse_as(text: &str, g: Generation) -> Vec<(usize, Result<Vec<Directive>, ParseError>)> {
        let env = NoEnv;
        let ctx = Context::new(&env).with_generation(g);
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, parse_command(&split_line(l), &ctx)))
            .collect()
    }

    /// What a set (in generation `this`) plans on a kernel whose rules the other
    /// generation's auditctl loaded from `loaded`: (other forms, added, deleted, kept).
    fn across(
        loaded: &str,
        set: &str,
        this: Generation,
        policy: OtherFormPolicy,
    ) -> (Vec<(usize, Generation)>, usize, usize, usize) {
        let held: Vec<RuleData> = target(&parse_as(loaded, this.other()), ErrorMode::default())
            .rules
            .into_iter()
            .map(|t| t.normal)
            .collect();
        let theirs = parse_as(set, this.other());
        let compile = |source: usize| {
            let (_, parsed) = theirs.iter().find(|(s, _)| *s == source)?;
            let d = parsed.as_ref().ok()?;
            Some(
                d.iter()
                    .filter_map(|d| match d {
                        Directive::Rule(rc) => Some(rc.rule.clone()),
                        _ => None,
                    })
                    .collect(),
            )
        };
        let other = OtherGeneration { generation: this.other(), policy, compile: &compile };
        let t = target_across(
            Start::Kernel(&held),
            &parse_as(set, this),
            &other,
            ErrorMode::default(),
            |_| None,
        );
        assert_eq!(t.problems, [], "{set}");
        let desired: Vec<RuleData> = t.rules.iter().map(|x| x.normal.clone()).collect();
        let p = plan(&held, &desired);
        let forms = t.other_forms.iter().map(|f| (f.source, f.generation)).collect();
        (forms, p.added, p.deleted, p.kept)
    }

    /// A rule in force that the other generation compiled from a set line is that line: kept
    /// (or, asked to, rewritten), in both directions, with and without the set's `-D`.
    #[test]
    fn a_rule_loaded_by_the_other_generation_is_its_line() {
        use Generation::{V3, V4};
        use OtherFormPolicy::{Keep, Rewrite};
        let perm = "-a always,exit -F arch=b64 -F perm=wa -F path=/etc/x -k p";
        let same = "-a always,exit -F arch=b64 -S open -k s";
        let both = format!("{perm}\n{same}");
        for this in [V3, V4] {
            let other = this.other();
            let with_d = format!("-D\n{both}");
            for set in [both.as_str(), with_d.as_str()] {
                let line = if set.starts_with("-D") { 2 } else { 1 };
                assert_eq!(across(&both, set, this, Keep), (vec![(line, other)], 0, 0, 2), "{set}");
                assert_eq!(
                    across(&both, set, this, Rewrite),
                    (vec![(line, other)], 1, 1, 1),
                    "{set}"
                );
            }
            // A rule the generations compile alike is simply held; a -d deletes either form.
            assert_eq!(across(same, same, this, Keep), (vec![], 0, 0, 1));
            let delete = format!("-d{}", &perm[2..]);
            assert_eq!(across(&both, &delete, this, Keep), (vec![], 0, 1, 1));
            // A set line that is a duplicate in this generation is still reported once.
            let twice = format!("{perm}\n{perm}");
            let held: Vec<RuleData> = target(&parse_as(perm, other), ErrorMode::default())
                .rules
                .into_iter()
                .map(|t| t.normal)
                .collect();
            let compile = |_: usize| -> Option<Vec<RuleData>> {
                Some(vec![target(&parse_as(perm, other), ErrorMode::default()).rules[0]
                    .rule
                    .clone()])
            };
            let o = OtherGeneration { generation: other, policy: Keep, compile: &compile };
            let t = target_across(
                Start::Kernel(&held),
                &parse_as(&twice, this),
                &o,
                ErrorMode::default(),
                |_| None,
            );
            assert_eq!(t.other_forms.len(), 1);
            assert_eq!(t.problems.len(), 1);
            assert_eq!(t.problems[0].kind, ProblemKind::Duplicate { first: 1 });
        }
        // A line is compiled again only when the kernel holds a rule like it but for the
        // syscall mask: not for rules it holds as they are, nor for rules it has nothing of.
        let calls = std::cell::Cell::new(0);
        let compile = |_: usize| -> Option<Vec<RuleData>> {
            calls.set(calls.get() + 1);
            None
        };
        let held = rules("a b");
        let o = OtherGeneration { generation: V4, policy: Keep, compile: &compile };
        let set = "-a always,exit -F arch=b64 -S open -k a\n-a always,exit -F arch=b64 -S open -k new\n-a always,exit -F arch=b64 -S openat -k a";
        let t = target_across(
            Start::Kernel(&held),
            &parse_as(set, V3),
            &o,
            ErrorMode::default(),
            |_| None,
        );
        assert_eq!(t.problems, []);
        assert_eq!(calls.get(), 1, "only the line that differs from a held rule by its syscalls");
        // The wording.
        assert_eq!(
            loaded_by(V4, "a.rules:3"),
            "loaded by auditctl 4.x (generation 4) form of a.rules:3"
        );
    }

    #[test]
    fn target_runs_the_set() {
        let set = "\
-D
-b 8192
-a always,exit -F arch=b64 -S open -k a
-a always,exit -F arch=b64 -S open -k b
-A always,exit -F arch=b64 -S open -k first
-a always,exit -F arch=b64 -S open -k a
-a always,task -F uid=116
-d always,exit -F arch=b64 -S open -k b
-d always,exit -F arch=b64 -S open -k nothere
-c
-a always,exit -F arch=b64 -S open -k del-me
-D -k del-
-e 2
-f 1
-e 1
--loginuid-immutable
-a bogus
";
        let t = target(&parse_lines(set), ErrorMode::default());
        let names: Vec<String> = t.rules.iter().map(|r| name(&r.normal)).collect();
        assert_eq!(names, ["t:t", "first", "a"]);
        assert_eq!(t.rules[1].origin, Origin::Line(5));
        assert_eq!(t.rules[1].rule.flags & AUDIT_FILTER_PREPEND, 0);
        assert_eq!(
            t.settings,
            Settings {
                enabled: Some(1),
                lock: true,
                failure: Some(1),
                backlog_limit: Some(8192),
                loginuid_immutable: true,
                ..Settings::default()
            }
        );
        let kinds: Vec<(usize, bool)> =
            t.problems.iter().map(|p| (p.source, p.mode.stops())).collect();
        assert_eq!(kinds, [(6, true), (9, true), (17, false)]);
        assert_eq!(t.problems[0].kind, ProblemKind::Duplicate { first: 3 });
        assert_eq!(t.problems[1].kind, ProblemKind::NoSuchRule);
        assert!(matches!(&t.problems[2].kind, ProblemKind::Parse(m) if m.contains("bogus")));
        assert_eq!(t.fatal().map(|p| p.source), Some(6));
        assert!(t.mode.continue_on_error);
    }

    #[test]
    fn a_rule_the_kernel_would_refuse_is_a_problem_left_out() {
        let set = "-a always,exit -F arch=b64 -S open -k a\n-c\n-a always,exit -F arch=b64 -S open -k gone\n-a always,exit -F arch=b64 -S open -k b\n";
        let refusal = |r: &RuleData| (name(r) == "gone").then(|| "missing".to_string());
        let t = target_checked(&parse_lines(set), ErrorMode::default(), refusal);
        let names: Vec<String> = t.rules.iter().map(|r| name(&r.normal)).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(t.problems.len(), 1);
        assert_eq!(t.problems[0].kind, ProblemKind::Refused("missing".into()));
        assert!(t.problems[0].mode.continue_on_error && t.fatal().is_none());
    }

    #[test]
    fn settings_that_differ() {
        let now = Status {
            enabled: nlaudit_proto::AuditEnabled::Enabled,
            failure: 1,
            backlog_limit: 64,
            backlog_wait_time: Some(60000),
            ..Status::default()
        };
        let want = Settings {
            enabled: Some(1),
            failure: Some(1),
            backlog_limit: Some(8192),
            backlog_wait_time: Some(60000),
            rate_limit: Some(0),
            lock: true,
            loginuid_immutable: true,
        };
        let ch: Vec<String> =
            setting_changes(&want, &now, Some((true, false))).iter().map(|c| c.option()).collect();
        assert_eq!(ch, ["-b 8192", "--loginuid-immutable", "-e 2"]);
        let none = setting_changes(
            &Settings { lock: false, loginuid_immutable: false, ..want },
            &Status { backlog_limit: 8192, ..now },
            None,
        );
        assert_eq!(none, []);
    }
}
