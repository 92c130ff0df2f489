//! The semantic match of a required rule against a rule list: does some rule in force (or
//! persisted) record what the requirement asks for, whatever its spelling?
//!
//! A requirement is parsed like any rule (auditctl's parser), then reduced to [`Shape`]s,
//! one per arch it must cover, and each syscall it names is looked for separately:
//!
//! - any key (`-k K` and `-F key=K` are the same field), unless the profile requires one;
//! - the syscalls may be split over several rules or merged into one;
//! - a rule without `-F arch=` and with every syscall (a watch) covers every arch; one with
//!   a syscall list covers only the native arch, whose numbers it holds;
//! - `auid!=unset`, `auid!=-1` and `auid!=4294967295` are one value in the kernel;
//! - `-w PATH -p wa` and `-a always,exit -F path=PATH -F perm=wa` are one rule; the modern
//!   pair (`-F arch=b32`, `-F arch=b64`) covers the same need arch by arch; audit 4.x's
//!   perm-expanded syscall lists are accepted (with a note) for a perm rule on the path;
//! - a trailing `/` on the path makes no difference (auditctl trims it from `-w`);
//! - other fields must be those of the requirement (`-F auid>=1000` where the requirement
//!   has `-F auid>=$UID_MIN` with UID_MIN 1000): a rule with fewer filters records more, but
//!   is not what the benchmark asks; the perms may be wider (`-p rwa` covers `-p wa`, no
//!   perm filter covers every perm);
//! - the kernel stops at the first exit-list rule that matches (`audit_filter_syscall`,
//!   kernel/auditsc.c): an earlier `never` rule at least as broad as the requirement
//!   suppresses its records, and an `exclude` rule that drops SYSCALL records
//!   (`audit_filter` in kernel/auditfilter.c: any action on the exclude list drops) does
//!   too; the requirement then fails naming that rule.

use nlaudit_proto::consts::{FieldType as F, FilterList, Operator};
use nlaudit_proto::{FieldData, FieldValue, RuleData};
use nlaudit_rules::Machine;

use crate::audit::{Origin, RuleEntry};

/// `AUDIT_ALWAYS`.
const ALWAYS: u32 = 2;
/// `AUDIT_NEVER`.
const NEVER: u32 = 0;
/// `AUDIT_SYSCALL` (1300): the record type every exit-list rule emits.
const SYSCALL_RECORD: u32 = 1300;

/// The arches of a machine: the native one, and the 32-bit one its kernel also runs
/// (`b64` and `b32` on x86_64, aarch64, ppc64, s390x).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arches {
    /// `(name, AUDIT_ARCH value, table)`, `b32` first.
    pub list: Vec<Arch>,
    /// The native arch's AUDIT_ARCH value (whose numbers a rule without arch holds).
    pub native: u32,
}

/// One arch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arch {
    /// `b32` or `b64`.
    pub name: &'static str,
    /// Its `AUDIT_ARCH_*` value.
    pub value: u32,
    /// Its syscall table.
    pub machine: Machine,
}

/// The name tables for `machine`: libaudit 3.0.9's, which the controls match with, or 4.x's
/// for a machine only 4.x knows (riscv64, reachable with `--auditctl 4 --machine`).
pub fn tables_for(machine: Machine) -> &'static nlaudit_rules::Tables {
    let v3 = nlaudit_rules::Tables::of(nlaudit_rules::Generation::V3);
    if v3.machine_name(machine).is_some() {
        v3
    } else {
        nlaudit_rules::Tables::of(nlaudit_rules::Generation::V4)
    }
}

/// The 64-bit machines and the 32-bit arch they also run.
const COMPAT: &[(Machine, Machine)] = &[
    (Machine::X86_64, Machine::I386),
    (Machine::AARCH64, Machine::ARM),
    (Machine::PPC64, Machine::PPC),
    (Machine::S390X, Machine::S390),
];

impl Arches {
    /// The arches of `machine`.
    pub fn of(machine: Machine) -> Arches {
        let native = tables_for(machine).elf(machine).unwrap_or(0);
        let is64 = native & nlaudit_rules::tables::AUDIT_ARCH_64BIT != 0;
        let mut list = Vec::new();
        if let Some((_, m32)) = COMPAT.iter().find(|(m, _)| *m == machine) {
            if let Some(v) = m32.elf() {
                list.push(Arch { name: "b32", value: v, machine: *m32 });
            }
        }
        list.push(Arch { name: if is64 { "b64" } else { "b32" }, value: native, machine });
        Arches { list, native }
    }

    /// The arch of this AUDIT_ARCH value.
    pub fn by_value(&self, v: u32) -> Option<&Arch> {
        self.list.iter().find(|a| a.value == v)
    }
}

/// What a rule does, reduced to what matching looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Filter list.
    pub list: FilterList,
    /// `always`/`never`.
    pub action: u32,
    /// `-F arch=` (AUDIT_ARCH value), if any.
    pub arch: Option<u32>,
    /// The syscall mask.
    pub mask: [u32; 64],
    /// Every syscall (a watch, `-S all`).
    pub all_syscalls: bool,
    /// The other fields, normalised and sorted (no arch, key or perm).
    pub conds: Vec<FieldData>,
    /// `AUDIT_PERM` bits; 0 when none.
    pub perm: u32,
    /// Its keys.
    pub keys: Vec<String>,
}

impl Shape {
    /// The shape of a rule.
    pub fn of(r: &RuleData) -> Shape {
        let mut arch = None;
        let mut conds = Vec::new();
        let mut perm = 0;
        let mut keys = Vec::new();
        for f in &r.fields {
            match (f.field, &f.value) {
                (F::AUDIT_ARCH, FieldValue::Num(n)) if f.op == Operator::AUDIT_EQUAL => {
                    arch = Some(*n)
                }
                (F::AUDIT_PERM, FieldValue::Num(n)) => perm |= n,
                (F::AUDIT_FILTERKEY, FieldValue::Str(s)) => keys.extend(
                    s.split(|b| *b == 1)
                        .filter(|k| !k.is_empty())
                        .map(|k| String::from_utf8_lossy(k).into_owned()),
                ),
                (F::AUDIT_WATCH | F::AUDIT_DIR, FieldValue::Str(s)) => {
                    let mut s = s.clone();
                    while s.len() > 1 && s.ends_with(b"/") {
                        s.pop();
                    }
                    conds.push(FieldData { field: f.field, op: f.op, value: FieldValue::Str(s) });
                }
                _ => conds.push(f.clone()),
            }
        }
        conds.sort_by_key(sort_key);
        let all_syscalls =
            r.mask.iter().take(63).all(|w| *w == u32::MAX) && r.mask[63] & 0xFFFF == 0xFFFF;
        Shape {
            list: r.list(),
            action: r.action,
            arch,
            mask: r.mask,
            all_syscalls,
            conds,
            perm,
            keys,
        }
    }

    fn has_syscall(&self, nr: u32) -> bool {
        let word = usize::try_from(nr / 32).ok().and_then(|i| self.mask.get(i));
        word.is_some_and(|w| w & (1 << (nr % 32)) != 0)
    }

    /// The path the rule audits (watch or dir), if any.
    pub fn path(&self) -> Option<String> {
        self.conds.iter().find_map(|c| match (&c.field, &c.value) {
            (&F::AUDIT_WATCH | &F::AUDIT_DIR, FieldValue::Str(s)) => {
                Some(String::from_utf8_lossy(s).into_owned())
            }
            _ => None,
        })
    }
}

fn sort_key(f: &FieldData) -> (u32, u32, u32, Vec<u8>) {
    match &f.value {
        FieldValue::Num(n) => (f.field.0, f.op.0, *n, Vec::new()),
        FieldValue::Str(s) => (f.field.0, f.op.0, 0, s.clone()),
    }
}

/// One thing a requirement needs on one arch: the records of these syscalls (or of every
/// syscall, for a watch) under these conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    /// The arch.
    pub arch: Arch,
    /// The syscall numbers on that arch; `None`: every syscall (a watch).
    pub syscalls: Option<Vec<u32>>,
    /// The shape required.
    pub shape: Shape,
    /// The key the rule must carry, when the profile requires one.
    pub key: Option<String>,
}

/// The needs of a required rule: one per arch it must cover.
pub fn needs(rule: &RuleData, arches: &Arches, key: Option<String>) -> Vec<Need> {
    let shape = Shape::of(rule);
    let per_arch: Vec<Arch> = match shape.arch.and_then(|v| arches.by_value(v)) {
        Some(a) => vec![*a],
        None if shape.arch.is_some() => Vec::new(),
        None if shape.all_syscalls => arches.list.clone(),
        None => arches.by_value(arches.native).into_iter().copied().collect(),
    };
    per_arch
        .into_iter()
        .map(|arch| {
            let syscalls = (!shape.all_syscalls)
                .then(|| (0..64 * 32).filter(|nr| shape.has_syscall(*nr)).collect());
            Need { arch, syscalls, shape: shape.clone(), key: key.clone() }
        })
        .collect()
}

/// A rule of the list, shaped once.
#[derive(Clone, Debug)]
pub struct Shaped {
    /// The rule.
    pub entry: RuleEntry,
    /// Its shape.
    pub shape: Shape,
}

/// Shapes every rule of a list.
pub fn shape_all(entries: &[RuleEntry]) -> Vec<Shaped> {
    entries.iter().map(|e| Shaped { entry: e.clone(), shape: Shape::of(&e.rule) }).collect()
}

/// A rule that satisfies (part of) a need, or stops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its text (`auditctl -l` form).
    pub text: String,
    /// Where it is.
    pub origin: Origin,
}

/// What a need found in a rule list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeedResult {
    /// The rules that record it (each counted once).
    pub by: Vec<Found>,
    /// The syscall names (or `all`) no rule records.
    pub missing: Vec<String>,
    /// The rule that suppresses its records, when one does.
    pub shadowed_by: Option<Found>,
    /// Things worth saying that do not fail it.
    pub notes: Vec<String>,
}

impl NeedResult {
    /// Whether the need is met.
    pub fn met(&self) -> bool {
        self.missing.is_empty() && self.shadowed_by.is_none()
    }
}

/// Whether rule `r` applies to arch `a` and syscall `nr` (`None`: every syscall).
fn reaches(r: &Shape, a: &Arch, native: u32, nr: Option<u32>) -> bool {
    match r.arch {
        Some(v) if v != a.value => return false,
        None if !r.all_syscalls && a.value != native => return false,
        _ => {}
    }
    match nr {
        Some(n) => r.all_syscalls || r.has_syscall(n),
        None => r.all_syscalls,
    }
}

/// Whether an exclude-list rule drops SYSCALL records: `Some(true)` all of them (only
/// msgtype conditions, all true of 1300), `Some(false)` some of them, `None` none.
fn drops_syscall_records(r: &Shape) -> Option<bool> {
    let mut only_msgtype = true;
    for c in &r.conds {
        match (c.field, &c.value) {
            (F::AUDIT_MSGTYPE, FieldValue::Num(v)) => {
                if !op_holds(c.op, SYSCALL_RECORD, *v) {
                    return None;
                }
            }
            _ => only_msgtype = false,
        }
    }
    Some(only_msgtype)
}

fn op_holds(op: Operator, x: u32, v: u32) -> bool {
    match op {
        Operator::AUDIT_EQUAL => x == v,
        Operator::AUDIT_NOT_EQUAL => x != v,
        Operator::AUDIT_GREATER_THAN => x > v,
        Operator::AUDIT_GREATER_THAN_OR_EQUAL => x >= v,
        Operator::AUDIT_LESS_THAN => x < v,
        Operator::AUDIT_LESS_THAN_OR_EQUAL => x <= v,
        _ => false,
    }
}

/// Looks for one need in a rule list (in kernel order).
pub fn find(need: &Need, rules: &[Shaped], arches: &Arches) -> NeedResult {
    let mut res = NeedResult::default();
    let found = |s: &Shaped| Found { text: s.entry.text.clone(), origin: s.entry.origin.clone() };
    for s in rules.iter().filter(|s| s.shape.list == FilterList::EXCLUDE) {
        match drops_syscall_records(&s.shape) {
            Some(true) => {
                res.shadowed_by = Some(found(s));
            }
            Some(false) => res.notes.push(format!(
                "warning: the exclude rule `{}` ({}) drops some SYSCALL records",
                s.entry.text, s.entry.origin
            )),
            None => {}
        }
    }
    let targets: Vec<Option<u32>> = match &need.syscalls {
        Some(list) => list.iter().map(|n| Some(*n)).collect(),
        None => vec![None],
    };
    let name = |nr: Option<u32>| match nr {
        Some(n) => tables_for(need.arch.machine)
            .syscall_name(need.arch.machine, n)
            .map_or(n.to_string(), str::to_string),
        None => "all".to_string(),
    };
    for nr in targets {
        let mut covered = false;
        for s in rules.iter().filter(|s| s.shape.list == FilterList::EXIT) {
            let r = &s.shape;
            let reach = reaches(r, &need.arch, arches.native, nr);
            // audit 4.x lists a perm rule on a path with the syscalls of the perm classes.
            let perm_expanded = nr.is_none()
                && !reach
                && !r.all_syscalls
                && need.shape.perm != 0
                && r.perm != 0
                && r.mask.iter().any(|w| *w != 0)
                && reaches(
                    &Shape { all_syscalls: true, ..r.clone() },
                    &need.arch,
                    arches.native,
                    None,
                );
            if !reach && !perm_expanded {
                continue;
            }
            let subset = r.conds.iter().all(|c| need.shape.conds.contains(c));
            let perm_covers = r.perm == 0
                || (need.shape.perm != 0 && r.perm & need.shape.perm == need.shape.perm);
            if r.action == NEVER {
                if subset && perm_covers && !perm_expanded {
                    if res.shadowed_by.is_none() {
                        res.shadowed_by = Some(found(s));
                    }
                    covered = true;
                    break;
                }
                res.notes.push(format!(
                    "warning: the earlier `{}` ({}) suppresses some of these records (the kernel \
                     stops at the first matching rule)",
                    s.entry.text, s.entry.origin
                ));
                continue;
            }
            if r.action != ALWAYS || r.conds != need.shape.conds || !perm_covers {
                continue;
            }
            if let Some(k) = &need.key {
                if !r.keys.contains(k) {
                    continue;
                }
            }
            if perm_expanded {
                res.notes.push(format!(
                    "`{}` lists syscalls with its perm filter (as audit 4.x lists a perm rule): \
                     taken to be the perm classes",
                    s.entry.text
                ));
            }
            let f = found(s);
            if !res.by.contains(&f) {
                res.by.push(f);
            }
            covered = true;
            break;
        }
        if !covered {
            res.missing.push(name(nr));
        }
    }
    res.notes.dedup();
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use nlaudit_rules::{parse_command, split_line, Context, Directive, NoEnv};

    fn rule(text: &str) -> RuleData {
        let ctx = Context { machine: Machine::X86_64, ..Context::new(&NoEnv) };
        let d = parse_command(&split_line(text), &ctx).unwrap_or_else(|e| panic!("{text}: {e}"));
        match d.into_iter().next() {
            Some(Directive::Rule(rc)) => rc.rule,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn entries(rules: &str) -> Vec<Shaped> {
        let list: Vec<RuleEntry> = rules
            .split(';')
            .filter(|t| !t.trim().is_empty())
            .enumerate()
            .map(|(i, t)| RuleEntry {
                rule: rule(t.trim()),
                text: t.trim().to_string(),
                origin: Origin::File { path: "/r".into(), line: i + 1 },
            })
            .collect();
        shape_all(&list)
    }

    /// One case: the requirement, the rule list (`;`-separated, in order), whether every
    /// need is met, and a fragment of what is said (missing syscalls, shadowing rule).
    fn check(req: &str, rules: &str, met: bool, say: &str) {
        let arches = Arches::of(Machine::X86_64);
        let list = entries(rules);
        let mut all = Vec::new();
        let mut ok = true;
        for n in needs(&rule(req), &arches, None) {
            let r = find(&n, &list, &arches);
            ok &= r.met();
            all.push(format!(
                "{}: missing {:?} shadowed {:?} {:?}",
                n.arch.name,
                r.missing,
                r.shadowed_by.map(|f| f.text),
                r.notes
            ));
        }
        let said = all.join(" | ");
        assert_eq!(ok, met, "{req} vs {rules}: {said}");
        assert!(said.contains(say), "{req} vs {rules}: {said} lacks {say:?}");
    }

    #[test]
    fn semantic_matches() {
        let chmod = "-a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset -k perm_mod";
        check(chmod, chmod, true, "");
        // Any key, -k or -F key=, none at all; auid!= spellings.
        check(
            chmod,
            "-a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=-1 -F key=x",
            true,
            "",
        );
        check(
            chmod,
            "-a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=4294967295",
            true,
            "",
        );
        // Merged with other syscalls, field order, exit,always.
        check(
            chmod,
            "-a exit,always -F auid!=unset -F arch=b64 -S fchmod,chmod -F auid>=1000 -k a",
            true,
            "",
        );
        // Fewer or other filters, another arch, another syscall, never: not what is asked.
        check(
            chmod,
            "-a always,exit -F arch=b64 -S chmod -F auid!=unset -k a",
            false,
            "missing [\"chmod\"]",
        );
        check(
            chmod,
            "-a always,exit -F arch=b64 -S chmod -F auid>=500 -F auid!=unset -k a",
            false,
            "chmod",
        );
        check(
            chmod,
            "-a always,exit -F arch=b32 -S chmod -F auid>=1000 -F auid!=unset -k a",
            false,
            "chmod",
        );
        check(
            chmod,
            "-a always,exit -F arch=b64 -S fchmod -F auid>=1000 -F auid!=unset",
            false,
            "chmod",
        );
        check(
            chmod,
            "-a never,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset",
            false,
            "shadowed Some(\"-a never",
        );
        // Split over rules.
        let three =
            "-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat -F auid>=1000 -F auid!=unset";
        check(three, "-a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset -k a; -a always,exit -F arch=b64 -S fchmod,fchmodat -F auid>=1000 -F auid!=unset -k b", true, "");
        check(
            three,
            "-a always,exit -F arch=b64 -S chmod,fchmod -F auid>=1000 -F auid!=unset -k a",
            false,
            "missing [\"fchmodat\"]",
        );
        // An earlier never rule shadows, a later one does not; a narrower one warns.
        check(chmod, "-a never,exit -F arch=b64 -S chmod; -a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset", false, "shadowed Some(\"-a never,exit -F arch=b64 -S chmod\")");
        check(chmod, "-a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset; -a never,exit -F arch=b64 -S chmod", true, "");
        check(chmod, "-a never,exit -F arch=b64 -S chmod -F uid=5; -a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset", true, "suppresses some");
        check(chmod, "-a never,exit -F arch=b64 -S all; -a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset", false, "shadowed");
        // An exclude rule dropping SYSCALL records.
        check(chmod, "-a always,exclude -F msgtype=SYSCALL; -a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset", false, "shadowed Some(\"-a always,exclude");
        check(chmod, "-a always,exclude -F msgtype=PATH; -a always,exit -F arch=b64 -S chmod -F auid>=1000 -F auid!=unset", true, "");
        // The execve comparison, either order.
        let emu =
            "-a always,exit -F arch=b64 -S execve -C euid!=uid -F auid!=unset -k user_emulation";
        check(
            emu,
            "-a always,exit -F arch=b64 -S execve -C uid!=euid -F auid!=-1 -F key=x",
            true,
            "",
        );
    }

    #[test]
    fn watches_in_every_spelling() {
        let w = "-w /etc/passwd -p wa -k identity";
        check(w, w, true, "");
        check(w, "-w /etc/passwd -p rwa", true, "");
        check(w, "-w /etc/passwd", true, "");
        check(w, "-w /etc/passwd -p w", false, "b32: missing [\"all\"]");
        check(w, "-a always,exit -F path=/etc/passwd -F perm=wa -k x", true, "");
        check(w, "-a always,exit -F arch=b32 -F path=/etc/passwd -F perm=wa; -a always,exit -F arch=b64 -F path=/etc/passwd -F perm=wa", true, "");
        check(
            w,
            "-a always,exit -F arch=b64 -F path=/etc/passwd -F perm=wa",
            false,
            "b32: missing [\"all\"]",
        );
        check(w, "-a always,exit -F arch=b32 -S open,creat,chmod -F path=/etc/passwd -F perm=wa; -a always,exit -F arch=b64 -S open,creat,chmod -F path=/etc/passwd -F perm=wa", true, "audit 4.x");
        check(w, "-w /etc/passwd/ -p wa", true, "");
        check(w, "-w /etc/shadow -p wa", false, "missing");
        check(w, "-a never,exit -F path=/etc/passwd; -w /etc/passwd -p wa", false, "shadowed");
        let modern = "-a always,exit -F arch=b32 -F path=/etc/passwd -F perm=wa -k identity";
        check(modern, "-w /etc/passwd -p wa", true, "");
        // Perm x on a program, and extra filters are not the same rule.
        let x = "-a always,exit -F path=/usr/bin/chcon -F perm=x -F auid>=1000 -F auid!=unset -k k";
        check(x, "-a always,exit -S all -F path=/usr/bin/chcon -F perm=x -F auid>=1000 -F auid!=-1 -F key=k", true, "");
        check(x, "-a always,exit -F path=/usr/bin/chcon -F auid>=1000 -F auid!=unset", true, "");
        check(
            x,
            "-a always,exit -F path=/usr/bin/chcon -F perm=x -F auid!=unset",
            false,
            "missing",
        );
        check(x, "-w /usr/bin/chcon -p x", false, "missing");
    }

    #[test]
    fn arches_of_machines() {
        let a = Arches::of(Machine::X86_64);
        let names: Vec<_> = a.list.iter().map(|a| a.name).collect();
        assert_eq!(names, ["b32", "b64"]);
        assert_eq!(Arches::of(Machine::I386).list.len(), 1);
    }
}
