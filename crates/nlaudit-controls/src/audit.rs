//! Which rules audit a path: the semantic match that replaces `auditctl -l | grep PATH`.
//!
//! A control passes when a rule audits exactly its real path: a watch (`-w PATH`) or an
//! `always` exit rule with `-F path=`/`-F dir=` whose perms include writes and attribute
//! changes, with any key. Rules that only look related (a `never` rule, a watch on a file
//! inside the directory, a watch on the benchmark's path when the real file is elsewhere)
//! are reported as evidence that does not satisfy the control.

use std::ffi::OsString;
use std::io;
use std::path::Path;

use nlaudit_proto::RuleData;
use nlaudit_rules::merge::Dialect;
use nlaudit_rules::rules_d::{self, FileKind, FileStat, Notice, RulesFs};
use nlaudit_rules::watch::{path_audit, PathAudit};
use nlaudit_rules::{parse_command, split_line, Context, Directive, Env, Machine, Renderer};

use crate::fsview::FsView;
use crate::host::{EntryKind, Host};
use crate::locate::Located;

use nlaudit_proto::consts::{
    AUDIT_PERM_ALL as PERM_ALL, AUDIT_PERM_ATTR as PERM_ATTR, AUDIT_PERM_EXEC as PERM_EXEC,
    AUDIT_PERM_READ as PERM_READ, AUDIT_PERM_WRITE as PERM_WRITE,
};

/// Where a rule is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In the kernel now.
    Kernel,
    /// A line of a rules file.
    File {
        /// The file (inside the root).
        path: String,
        /// 1-based line number.
        line: usize,
    },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Kernel => f.write_str("kernel"),
            Origin::File { path, line } => write!(f, "{path}:{line}"),
        }
    }
}

/// A rule and where it is.
#[derive(Clone, Debug)]
pub struct RuleEntry {
    /// The rule as the kernel holds (or would receive) it.
    pub rule: RuleData,
    /// Its auditctl text (`auditctl -l`).
    pub text: String,
    /// Where it is.
    pub origin: Origin,
}

/// The rules a check looks at: the kernel's, or those rules files load.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    /// The rules, in order.
    pub entries: Vec<RuleEntry>,
    /// The last `-e N` of the files (augenrules keeps only the last one).
    pub enabled: Option<u32>,
    /// The last `-f N` of the files.
    pub failure: Option<u32>,
    /// A `--loginuid-immutable` line is present.
    pub loginuid_immutable: bool,
    /// The first rule after the last `-e N` (`-e 2` must be last), as `FILE:LINE: text`.
    pub after_enable: Option<String>,
    /// Lines that do not parse, as `FILE:LINE: message`.
    pub problems: Vec<String>,
    /// The files read.
    pub files: Vec<String>,
    /// Files of a rules.d directory that augenrules skips (or reads although anyone may
    /// write them), one sentence each; not reported, kept for programs.
    pub notices: Vec<String>,
    /// The machine whose syscall tables the rules files are parsed with (`None`: this one);
    /// an image tree for another machine names it (`--machine`), and its problems say so.
    pub machine: Option<Machine>,
    /// [`RuleSet::path_rules`], once computed (the set is not changed afterwards).
    indexed: std::sync::OnceLock<Vec<(RuleEntry, PathAudit, String)>>,
}

impl RuleSet {
    /// An empty set whose rules files will be parsed for `machine` (`None`: this one).
    pub fn for_machine(machine: Option<Machine>) -> RuleSet {
        RuleSet { machine, ..RuleSet::default() }
    }

    /// The kernel's rules, rendered as one `auditctl -l` listing.
    pub fn kernel(rules: Vec<RuleData>) -> RuleSet {
        let mut r = Renderer::new(Machine::host());
        let entries = rules
            .into_iter()
            .map(|rule| RuleEntry { text: r.rule(&rule), rule, origin: Origin::Kernel })
            .collect();
        RuleSet { entries, ..RuleSet::default() }
    }

    /// The rules that audit a path, with what the kernel watches for each (computed once:
    /// resolving the parent directory reads the file system).
    fn path_rules(&self, fs: &FsView<'_>) -> &[(RuleEntry, PathAudit, String)] {
        self.indexed.get_or_init(|| {
            self.entries
                .iter()
                .filter_map(|e| {
                    let pa = path_audit(&e.rule)?;
                    let target = fs.kernel_target(&pa.path.to_string_lossy());
                    Some((e.clone(), pa, target))
                })
                .collect()
        })
    }

    /// Adds the rules of one rules file (auditctl -R syntax). A missing file adds nothing.
    pub fn add_file(&mut self, fs: &FsView<'_>, path: &str, features: Option<u32>) {
        let Ok(text) = fs.host().read(path) else { return };
        self.indexed.take();
        self.files.push(path.to_string());
        for (i, raw) in text.lines().enumerate() {
            self.add_line(fs, path, i + 1, raw.trim_end_matches('\r'), features);
        }
    }

    /// Adds the rules a rules.d directory loads at boot: its `*.rules` files in augenrules'
    /// order, merged as augenrules merges them (the one reader `nlaudit merge` and `load`
    /// use, [`rules_d::read_rules_dir`]). Returns whether the directory exists.
    pub fn add_dir(
        &mut self,
        fs: &FsView<'_>,
        dir: &str,
        features: Option<u32>,
        dialect: Dialect,
    ) -> bool {
        let Ok(read) = rules_d::read_rules_dir(&HostFs(fs.host()), Path::new(dir), dialect) else {
            return false;
        };
        self.indexed.take();
        let files: Vec<String> = read.files.iter().map(|p| p.display().to_string()).collect();
        for l in &read.merged.lines {
            let Some(o) = l.origin else { continue };
            let Some(path) = files.get(o.file) else { continue };
            self.add_line(fs, path, o.line, &l.text, features);
        }
        self.files.extend(files);
        self.notices.extend(read.notices.iter().map(notice_text));
        if let Some(f) = read.failed {
            self.notices.push(format!("{}: cannot read: {}", f.path.display(), f.error));
        }
        true
    }

    /// Adds what one line of a rules file asks for (a rule, `-e`), or its parse error.
    fn add_line(
        &mut self,
        fs: &FsView<'_>,
        path: &str,
        line: usize,
        text: &str,
        features: Option<u32>,
    ) {
        let words = split_line(text);
        if words.first().is_none_or(|w| w.starts_with('#')) {
            return;
        }
        let env = ViewEnv(*fs);
        let mut ctx = Context::new(&env);
        ctx.lineno = Some(line);
        ctx.machine = self.machine.unwrap_or_else(Machine::host);
        if ctx.tables().machine_name(ctx.machine).is_none() {
            // A machine only libaudit 4.x has tables for (riscv64; the CLI names it only
            // under --auditctl 4): its rules parse as 4.x parses them.
            ctx.generation = nlaudit_rules::Generation::V4;
        }
        if let Some(f) = features {
            ctx.features = f;
        }
        match parse_command(&words, &ctx) {
            Ok(directives) => {
                for d in directives {
                    match d {
                        Directive::Rule(rc) if !rc.delete => {
                            let text = Renderer::new(ctx.machine).rule(&rc.rule);
                            if self.enabled.is_some() && self.after_enable.is_none() {
                                self.after_enable = Some(format!("{path}:{line}: {text}"));
                            }
                            self.entries.push(RuleEntry {
                                rule: rc.rule,
                                text,
                                origin: Origin::File { path: path.to_string(), line },
                            });
                        }
                        Directive::Enabled(v) => {
                            self.enabled = Some(v);
                            self.after_enable = None;
                        }
                        Directive::Failure(v) => self.failure = Some(v),
                        Directive::LoginuidImmutable => self.loginuid_immutable = true,
                        _ => {}
                    }
                }
            }
            Err(e) => {
                let message = e.message.lines().last().unwrap_or_default();
                let machine = self
                    .machine
                    .map(|m| format!(" (machine {})", ctx.tables().machine_name(m).unwrap_or("?")))
                    .unwrap_or_default();
                self.problems.push(format!("{path}:{line}: {message}{machine}"))
            }
        }
    }
}

/// A notice of the rules.d reader, as a sentence.
fn notice_text(n: &Notice) -> String {
    match n {
        Notice::NotUtf8 { path } => format!("{}: skipped: the name is not UTF-8", path.display()),
        Notice::MangledByShell { path } => format!(
            "{}: skipped: augenrules splits or globs this name, so it never loads it",
            path.display()
        ),
        Notice::Unreadable { path, error } => format!("{}: skipped: {error}", path.display()),
        Notice::NotRegular { path } => format!("{}: skipped: not a regular file", path.display()),
        Notice::WorldWritable { path } => format!("{}: world writable", path.display()),
        _ => String::new(),
    }
}

/// A host's files as the rules.d reader sees them: paths inside the root, looked up as
/// `nlaudit merge ROOT/DIR` looks them up.
struct HostFs<'h>(&'h dyn Host);

impl RulesFs for HostFs<'_> {
    fn list(&self, dir: &Path) -> io::Result<Vec<io::Result<OsString>>> {
        self.0.list(&dir.to_string_lossy())
    }
    fn stat(&self, path: &Path) -> io::Result<FileStat> {
        let s = self.0.stat(&path.to_string_lossy())?;
        let kind = if s.kind == EntryKind::File { FileKind::Regular } else { FileKind::Other };
        Ok(FileStat { kind, mode: s.mode })
    }
    fn read(&self, path: &Path) -> io::Result<String> {
        self.0.read(&path.to_string_lossy())
    }
}

/// A parse environment whose directories are those of a [`FsView`] (`-w` becomes a `dir`
/// rule when the path is a directory there); names come from this machine's databases.
pub struct ViewEnv<'h>(pub FsView<'h>);

impl Env for ViewEnv<'_> {
    fn uid(&self, name: &str) -> Option<u32> {
        self.0.host().uid(name)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        self.0.host().gid(name)
    }
    fn is_dir(&self, path: &str) -> bool {
        self.0.is_dir(path)
    }
}

/// How a rule relates to a control's real path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relation {
    /// It audits exactly that path.
    Exact,
    /// It audits a directory tree that contains the path.
    InsideTree,
    /// It audits something inside the path (a directory), not the path itself.
    Below,
    /// It audits another path the control names (the benchmark's, or a link to the file).
    OtherPath,
}

impl Relation {
    /// The JSON/text name.
    pub fn name(&self) -> &'static str {
        match self {
            Relation::Exact => "exact",
            Relation::InsideTree => "ancestor-tree",
            Relation::Below => "inside",
            Relation::OtherPath => "other-path",
        }
    }
}

/// A rule found for a control, and what it is worth.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// The rule's auditctl text.
    pub text: String,
    /// Where it is.
    pub origin: Origin,
    /// How it relates to the path.
    pub relation: Relation,
    /// It satisfies the control.
    pub satisfies: bool,
    /// Why not, or (when it satisfies) what it misses.
    pub notes: Vec<String>,
    /// The rule's keys (`-k`), in order; empty when it has none.
    pub keys: Vec<String>,
    /// The rule, on exactly the path, records an execution of it: `always` on the exit list,
    /// perms with `x` (or none), and `execve` among its syscalls for this machine.
    pub records_exec: bool,
    /// Likewise for an `openat` of it for reading: perms with `r` (or none).
    pub records_read: bool,
}

/// Every rule related to the located file of a control, satisfying ones first.
pub fn evidence(fs: &FsView<'_>, located: &Located, rules: &RuleSet) -> Vec<Evidence> {
    let Some(real) = located.watch_path() else { return Vec::new() };
    let mut others: Vec<&str> = located.candidates.iter().map(|c| c.path.as_str()).collect();
    if let Some(r) = &located.resolved {
        others.extend(r.links.iter().map(|l| l.path.as_str()));
    }
    let mut out = Vec::new();
    // The kernel stops at the first exit-list rule that matches (kernel/auditsc.c
    // `audit_filter_syscall`): a `never` rule on the path shadows the rules after it.
    let mut shadow: Option<(String, bool)> = None;
    for (e, pa, target) in rules.path_rules(fs) {
        let (relation, satisfies, notes) = if target == real {
            let (mut ok, mut notes) = judge(pa);
            match &shadow {
                Some((never, true)) if ok => {
                    ok = false;
                    notes.push(format!(
                        "shadowed by the earlier `{never}`: the kernel stops at the first \
                         matching rule"
                    ));
                }
                Some((never, false)) if ok => notes.push(format!(
                    "warning: partly shadowed by the earlier `{never}` (the kernel stops at the \
                     first matching rule)"
                )),
                _ => {}
            }
            if !pa.records && shadow.is_none() {
                let full = !pa.narrowed
                    && !pa.syscall_subset
                    && (pa.perms == 0
                        || pa.perms & (PERM_WRITE | PERM_ATTR) == PERM_WRITE | PERM_ATTR);
                shadow = Some((e.text.clone(), full));
            }
            (Relation::Exact, ok, notes)
        } else if pa.tree && real.strip_prefix(target.as_str()).is_some_and(|r| r.starts_with('/'))
        {
            let note = format!(
                "audits the tree {target}, which contains {real}; the benchmark asks for a rule \
                 on {real} itself"
            );
            (Relation::InsideTree, false, vec![note])
        } else if target.strip_prefix(real).is_some_and(|r| r.starts_with('/')) {
            let note = format!(
                "audits {target}, inside {real}, not {real} itself (`auditctl -l | grep {real}` \
                 would wrongly match it)"
            );
            (Relation::Below, false, vec![note])
        } else if others.iter().any(|o| std::path::Path::new(o) == pa.path || *o == target) {
            let r = fs.resolve(target);
            let note = if r.real == real && r.links.last().is_some_and(|l| l.last) {
                format!(
                    "audits {target}, a symbolic link to {real}: the kernel watches the link \
                     itself, not the file"
                )
            } else {
                format!("audits {target}, not the file in use here, {real}")
            };
            (Relation::OtherPath, false, vec![note])
        } else {
            continue;
        };
        let exact = relation == Relation::Exact;
        out.push(Evidence {
            text: e.text.clone(),
            origin: e.origin.clone(),
            relation,
            satisfies,
            notes,
            keys: pa.keys.clone(),
            records_exec: exact && records(&e.rule, pa, PERM_EXEC, "execve"),
            records_read: exact && records(&e.rule, pa, PERM_READ, "openat"),
        });
    }
    out.sort_by_key(|e| !e.satisfies);
    out
}

/// Whether a rule on exactly the path satisfies the control, and what to say about it.
fn judge(pa: &PathAudit) -> (bool, Vec<String>) {
    let mut notes = Vec::new();
    if !pa.records {
        notes.push("a `never` rule (or not on the exit list): it records nothing".to_string());
        return (false, notes);
    }
    let perms = pa.perms;
    if perms == 0 && pa.syscall_subset {
        notes.push(
            "no perm filter and only some syscalls: writes and attribute changes are not \
             known to be covered (use -p wa or -F perm=wa)"
                .to_string(),
        );
        return (false, notes);
    }
    if perms != 0 && perms & (PERM_WRITE | PERM_ATTR) != PERM_WRITE | PERM_ATTR {
        notes.push(format!(
            "perm={} lacks {}: writes and attribute changes must both be audited",
            letters(perms),
            letters((PERM_WRITE | PERM_ATTR) & !perms)
        ));
        return (false, notes);
    }
    if perms != 0 && perms != PERM_ALL {
        notes.push(format!(
            "warning: perm={} is narrower than the benchmark's rwxa ({} not recorded)",
            letters(perms),
            letters(PERM_ALL & !perms)
        ));
    }
    if pa.narrowed {
        notes.push(
            "warning: other fields (arch, uid, ...) narrow the rule: accesses outside them are \
             not recorded"
                .to_string(),
        );
    }
    if pa.syscall_subset && perms != 0 {
        notes.push("warning: the rule covers only some syscalls".to_string());
    }
    (true, notes)
}

/// Whether a rule on the path records `syscall` on it by this machine's native ABI, the
/// access being `perm` (`audit_match_perm` in kernel/auditsc.c maps execve to
/// `AUDIT_PERM_EXEC` and an open for reading to `AUDIT_PERM_READ`).
fn records(rule: &RuleData, pa: &PathAudit, perm: u32, syscall: &str) -> bool {
    let in_mask = Machine::host().syscall_number(syscall).is_some_and(|nr| {
        let word = usize::try_from(nr / 32).ok().and_then(|i| rule.mask.get(i));
        word.is_some_and(|w| w & (1 << (nr % 32)) != 0)
    });
    pa.records && (pa.perms == 0 || pa.perms & perm != 0) && in_mask
}

fn letters(perms: u32) -> String {
    nlaudit_rules::render::perm_letters(perms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsview::Resolved;
    use crate::host::RootHost;
    use crate::locate::Candidate;
    use nlaudit_rules::NoEnv;

    /// A rule parsed as auditctl would, with /d a directory.
    fn rule(text: &str) -> RuleEntry {
        struct DirEnv;
        impl Env for DirEnv {
            fn uid(&self, n: &str) -> Option<u32> {
                NoEnv.uid(n)
            }
            fn gid(&self, n: &str) -> Option<u32> {
                NoEnv.gid(n)
            }
            fn is_dir(&self, p: &str) -> bool {
                p == "/d" || p == "/etc"
            }
        }
        let ctx = Context::new(&DirEnv);
        let d = parse_command(&split_line(text), &ctx).expect(text);
        let Some(Directive::Rule(rc)) = d.into_iter().next() else { panic!("{text}") };
        RuleEntry { text: text.to_string(), rule: rc.rule, origin: Origin::Kernel }
    }

    fn located(real: &str, others: &[&str]) -> Located {
        let mut candidates: Vec<Candidate> = others
            .iter()
            .map(|p| Candidate {
                path: p.to_string(),
                source: "test".into(),
                exists: false,
                real: None,
            })
            .collect();
        candidates.push(Candidate {
            path: real.into(),
            source: "test".into(),
            exists: true,
            real: Some(real.into()),
        });
        Located {
            chosen: Some(candidates.len() - 1),
            candidates,
            resolved: Some(Resolved { real: real.into(), links: vec![], kind: None }),
            notes: vec![],
            not_applicable: None,
        }
    }

    /// One case: rules (`;`-separated, in kernel order), control path, expected (relation,
    /// satisfies, note fragment) of the best evidence.
    fn check(text: &str, real: &str, want: Option<(&str, bool, &str)>) {
        let host = RootHost::new(std::path::Path::new("/nonexistent-root"));
        let fs = FsView::new(&host);
        let entries = text.split(';').map(|t| rule(t.trim())).collect();
        let rules = RuleSet { entries, ..RuleSet::default() };
        let ev = evidence(&fs, &located(real, &["/usr/bin/dockerd"]), &rules);
        let exact = ev.iter().rev().find(|e| e.relation == Relation::Exact);
        let best = ev.iter().find(|e| e.satisfies).or(exact).or(ev.first());
        let got = best.map(|e| (e.relation.name(), e.satisfies, e.notes.join("; ")));
        match (got, want) {
            (None, None) => {}
            (Some((rel, ok, notes)), Some((wrel, wok, wnote))) => {
                assert_eq!((rel, ok), (wrel, wok), "{text} vs {real}: {notes}");
                assert!(notes.contains(wnote), "{text}: {notes:?} lacks {wnote:?}");
            }
            (got, want) => panic!("{text} vs {real}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn semantic_match() {
        let p = "/usr/sbin/dockerd";
        check("-w /usr/sbin/dockerd -k docker", p, Some(("exact", true, "")));
        check("-w /usr/sbin/dockerd -p rwxa -k x", p, Some(("exact", true, "")));
        check("-w /usr/sbin/dockerd/ -p wa", p, Some(("exact", true, "narrower than")));
        check("-w /usr/sbin/dockerd -p rx", p, Some(("exact", false, "lacks wa")));
        check("-w /usr/sbin/dockerd -p rwx", p, Some(("exact", false, "lacks a")));
        check(
            "-a always,exit -F path=/usr/sbin/dockerd -F perm=wa -k docker",
            p,
            Some(("exact", true, "narrower")),
        );
        check(
            "-a always,exit -F arch=b64 -S all -F path=/usr/sbin/dockerd -F perm=rwxa",
            p,
            Some(("exact", true, "other fields")),
        );
        check(
            "-a always,exit -F arch=b64 -S chmod -F path=/usr/sbin/dockerd",
            p,
            Some(("exact", false, "no perm filter")),
        );
        check(
            "-a always,exit -F arch=b64 -S chmod,write -F path=/usr/sbin/dockerd -F perm=wa",
            p,
            Some(("exact", true, "only some syscalls")),
        );
        check(
            "-a never,exit -F path=/usr/sbin/dockerd -F perm=rwxa",
            p,
            Some(("exact", false, "`never`")),
        );
        // First match wins: a `never` rule before the watch shadows it; after, it does not.
        check(
            "-a never,exit -F path=/usr/sbin/dockerd -F perm=wa; -w /usr/sbin/dockerd -k docker",
            p,
            Some(("exact", false, "shadowed by the earlier `-a never,exit")),
        );
        check(
            "-w /usr/sbin/dockerd -k docker; -a never,exit -F path=/usr/sbin/dockerd -F perm=wa",
            p,
            Some(("exact", true, "")),
        );
        check(
            "-a never,exit -F path=/usr/sbin/dockerd -F perm=x; -w /usr/sbin/dockerd -k docker",
            p,
            Some(("exact", true, "partly shadowed")),
        );
        check("-w /usr/sbin/dockerd2 -k docker", p, None);
        check("-w /usr/sbin -k docker", p, None);
        check("-w /usr/bin/dockerd -k docker", p, Some(("other-path", false, "not the file")));
        // The containerd.sock watch does not satisfy /run/containerd (aquasecurity#106).
        check(
            "-w /run/containerd/containerd.sock -k docker",
            "/run/containerd",
            Some(("inside", false, "would wrongly match")),
        );
        // A tree watch on a parent covers the file but is not a rule on it.
        check("-w /etc -k etc", "/etc/docker", Some(("ancestor-tree", false, "contains")));
        check("-w /d -p wa", "/d", Some(("exact", true, "narrower")));
        check("-a always,exit -F dir=/d -F perm=wa", "/d", Some(("exact", true, "")));
        check("-a always,exit -F path!=/usr/sbin/dockerd -F perm=wa", p, None);
        check("-a always,exit -F arch=b64 -S open -F key=x", p, None);
    }

    #[test]
    fn which_rules_record_an_execution_or_a_read() {
        let p = "/usr/sbin/dockerd";
        // (rule, records an execve, records an openat for reading)
        for (text, exec, read) in [
            ("-w /usr/sbin/dockerd -p rwxa -k docker", true, true),
            ("-w /usr/sbin/dockerd -k docker", true, true),
            ("-w /usr/sbin/dockerd -p wa -k docker", false, false),
            ("-w /usr/sbin/dockerd -p r -k docker", false, true),
            (
                "-a always,exit -F arch=b64 -S execve -F path=/usr/sbin/dockerd -F perm=wax",
                true,
                false,
            ),
            (
                "-a always,exit -F arch=b64 -S openat -F path=/usr/sbin/dockerd -F perm=wax",
                false,
                false,
            ),
            (
                "-a always,exit -F arch=b64 -S openat -F path=/usr/sbin/dockerd -F perm=r",
                false,
                true,
            ),
            ("-a never,exit -F path=/usr/sbin/dockerd -F perm=x", false, false),
            ("-w /usr/bin/dockerd -p rwxa -k docker", false, false),
        ] {
            let host = RootHost::new(std::path::Path::new("/nonexistent-root"));
            let fs = FsView::new(&host);
            let rules = RuleSet { entries: vec![rule(text)], ..RuleSet::default() };
            let ev = evidence(&fs, &located(p, &["/usr/bin/dockerd"]), &rules);
            let got = ev.first().map(|e| (e.records_exec, e.records_read));
            assert_eq!(got, Some((exec, read)), "{text}");
        }
        let keys = |text| {
            let host = RootHost::new(std::path::Path::new("/nonexistent-root"));
            let fs = FsView::new(&host);
            let rules = RuleSet { entries: vec![rule(text)], ..RuleSet::default() };
            evidence(&fs, &located(p, &[]), &rules).remove(0).keys
        };
        assert_eq!(keys("-w /usr/sbin/dockerd -k a -k b"), ["a", "b"]);
        assert!(keys("-w /usr/sbin/dockerd").is_empty());
    }

    #[test]
    fn rules_files_in_augenrules_order() {
        let names = ["99-finalize.rules", "docker.rules", "10-base.rules", "9-x.rules"];
        let names = nlaudit_rules::merge::select_files(&names);
        assert_eq!(names, ["9-x.rules", "10-base.rules", "99-finalize.rules", "docker.rules"]);
    }
}
