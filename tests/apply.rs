//! `nlaudit load`, `merge` and `apply` against the real kernel, with the real auditctl and
//! augenrules (Debian 3.0.9) as the reference. Kernel tests hold the kernel lock, use
//! unique keys, keep their rule sets small (a delete costs an RCU grace period) and restore
//! what they found. augenrules runs from a copy whose two paths point at a temporary
//! directory; it is never pointed at /etc/audit.
//!
//! Immutable mode cannot be set on the test machine (it lasts until reboot): the refusal is
//! tested through the same code path with a fake transport that reports `enabled 2`, in
//! crates/nlaudit/src/cmd/ruleset/apply.rs (`a_locked_kernel_is_only_asked_and_the_difference_is_told`)
//! and crates/nlaudit/src/support/session.rs.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use support::{auditctl, err, kernel_available, nlaudit, out, unique_key, KernelGuard};

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "nlaudit-apply-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("mkdir");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).expect("chmod");
        TempDir(p)
    }

    /// Writes `name` with mode 0640 and returns its path.
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, text).expect("write");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
        p
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The reference listing (`auditctl -l`); nlaudit's own when auditctl is missing outside CI.
fn listing() -> String {
    match auditctl(&["-l"]) {
        Some(o) => out(&o),
        None => out(&nlaudit(&["list"])),
    }
}

fn clear() {
    let o = nlaudit(&["delete", "--all"]);
    assert!(o.status.success(), "delete --all: {}", err(&o));
}

fn ok(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: exit {:?}\n{}\n{}", o.status.code(), out(o), err(o));
    out(o)
}

/// A dry run that would change something: exit 1 (as `docker ensure --dry-run`), the plan on
/// stdout.
fn would_change(o: &Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(1), "{what}: {}\n{}", out(o), err(o));
    out(o)
}

fn status_field(name: &str) -> String {
    let t = out(&nlaudit(&["status"]));
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_string))
        .unwrap_or_default()
}

/// A copy of the installed augenrules that reads `dir` and writes `dest` (and, with
/// `--load`, runs the real `auditctl -R dest`). None when augenrules is not installed.
fn augenrules(dir: &Path, dest: &Path, load: bool) -> Option<Output> {
    let script = ["/usr/sbin/augenrules", "/sbin/augenrules"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())?;
    let from = ["DestinationFile=/etc/audit/audit.rules", "SourceRulesDir=/etc/audit/rules.d"];
    assert!(from.iter().all(|f| script.contains(f)), "augenrules has changed shape");
    let script = script
        .replace(from[0], &format!("DestinationFile={}", s(dest)))
        .replace(from[1], &format!("SourceRulesDir={}", s(dir)));
    let copy = dest.with_extension("augenrules.sh");
    fs::write(&copy, script).expect("write script");
    let mut cmd = Command::new("sh");
    cmd.arg(&copy);
    if load {
        cmd.arg("--load");
    }
    Some(cmd.output().expect("run augenrules"))
}

fn rule(key: &str, n: usize) -> String {
    format!("-a always,exit -F arch=b64 -S openat -F auid={} -k {key}", 1000 + n)
}

#[test]
fn merge_is_what_augenrules_writes() {
    let d = TempDir::new("merge");
    d.write("10-base-config.rules", "## base\n-D\n-b 8192\n--backlog_wait_time 60000\n-f 1\n");
    d.write("9-first.rules", "-w /etc/passwd -p wa -k first\n  # indented comment\n\t-b 5\n");
    d.write("100-last.rules", "-e 2\n-a always,exit -F arch=b64 -S open -k last\n-e 1\n");
    d.write("20-nonl.rules", "-w /etc/a -k joined");
    d.write("21-after.rules", " -p wa\n-D -k only-this\n   \n-w /etc/crlf -k x\r\n\r\n");
    d.write("50-a.rules", "-D\n-r 10\n-c\n-i\n--loginuid-immutable\n");
    d.write("50-a.rules~", "-w /ignored\n");
    d.write("x.rules.bak", "-w /ignored\n");
    d.write(".hidden.rules", "-w /ignored\n");
    d.write("README", "-w /ignored\n");
    d.write("a b.rules", "-w /ignored\n");
    fs::create_dir(d.path().join("sub.rules")).expect("mkdir");
    std::os::unix::fs::symlink("/nonexistent/x", d.path().join("60-dangling.rules"))
        .expect("symlink");
    std::os::unix::fs::symlink(d.path().join("9-first.rules"), d.path().join("70-link.rules"))
        .expect("symlink");
    let ours = ok(&nlaudit(&["merge", d.arg()]), "merge");
    let out_dir = TempDir::new("merge-out");
    let dest = out_dir.path().join("audit.rules");
    let Some(r) = augenrules(d.path(), &dest, false) else {
        assert!(!support::in_ci(), "augenrules is required in CI");
        eprintln!("skipping the comparison: augenrules is not installed");
        return;
    };
    assert!(r.status.success(), "augenrules: {}", err(&r));
    let theirs = fs::read_to_string(&dest).expect("augenrules output");
    assert_eq!(ours, theirs);
    // The merge put the last -D, -b, -f first and the last -e last.
    let lines: Vec<&str> = ours.lines().collect();
    assert_eq!(lines[1..4], ["-D", "-b 8192", "-f 1"]);
    assert_eq!(lines.last(), Some(&"-e 1"));
    assert!(ours.contains("-w /etc/a -k joined -p wa\n"), "cat joins an unterminated line");
    assert!(!ours.contains("/ignored"));
}

#[test]
fn load_runs_a_file_as_auditctl_r_does() {
    if !kernel_available("load_runs_a_file_as_auditctl_r_does") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("load");
    let d = TempDir::new("load");
    let f = d.write(
        "x.rules",
        &format!(
            "# a comment\n\n-D\n-b 8191\n--backlog_wait_time 60001\n-r 0\n   \n\
             {}\n{}\n-w /etc/passwd -p wa -k {k}\n-A always,exit -F arch=b64 -S unlink -k {k}\n\
             -w /etc/shadow -k {k}\n-W /etc/shadow -k {k}\n{}\n-a always,task -F uid=4321\n",
            rule(&k, 1),
            rule(&k, 2),
            rule(&k, 3)
        ),
    );
    clear();
    let o = nlaudit(&["load", s(&f)]);
    let summary = ok(&o, "load");
    assert!(summary.starts_with("load: 7 added, 1 deleted, 3 settings changed"), "{summary}");
    let ours = listing();
    assert_eq!(status_field("backlog_limit"), "8191");
    assert_eq!(status_field("backlog_wait_time"), "60001");
    assert_eq!(ours.lines().count(), 6, "{ours}");
    if auditctl(&["-D"]).is_some() {
        let r = auditctl(&["-R", s(&f)]).expect("auditctl -R");
        assert!(r.status.success(), "auditctl -R: {}", err(&r));
        assert_eq!(ours, listing(), "nlaudit load and auditctl -R leave the same rules");
    }
}

#[test]
fn load_stops_at_the_first_error_like_auditctl() {
    if !kernel_available("load_stops_at_the_first_error_like_auditctl") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("stop");
    let d = TempDir::new("stop");
    // Line 6 repeats line 3: the kernel refuses it (EEXIST) in the middle of a batch, and
    // the rules after it, which the kernel processed in the same datagram, are taken back.
    let dup: Vec<String> = [1, 2, 3, 4, 2, 5, 6, 7].iter().map(|&n| rule(&k, n)).collect();
    let f = d.write("dup.rules", &format!("-D\n{}\n", dup.join("\n")));
    clear();
    let o = nlaudit(&["load", s(&f)]);
    assert_eq!(o.status.code(), Some(3), "EEXIST exit code: {}", err(&o));
    assert!(
        err(&o)
            .contains(&format!("{}:6: Error sending add rule data request (Rule exists)", s(&f))),
        "{}",
        err(&o)
    );
    let ours = listing();
    assert_eq!(ours.lines().count(), 4, "rules before line 6 only: {ours}");
    if let Some(r) = auditctl(&["-R", s(&f)]) {
        assert_eq!(r.status.code(), Some(1));
        assert!(err(&r).contains("There was an error in line 6"), "{}", err(&r));
        assert_eq!(ours, listing(), "same rules as auditctl -R left");
    }

    // A parse error in the middle: nothing is sent (auditctl -R loads the lines before it).
    let before = listing();
    let f = d.write(
        "parse.rules",
        &format!(
            "-D\n{}\n{}\n-a always,exit -S no_such_call -k {k}\n{}\n",
            rule(&k, 1),
            rule(&k, 2),
            rule(&k, 3)
        ),
    );
    let o = nlaudit(&["load", s(&f)]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains(&format!("{}:4: Syscall name unknown: no_such_call", s(&f))),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    assert_eq!(listing(), before, "a parse error changes nothing");
    if let Some(r) = auditctl(&["-R", s(&f)]) {
        assert_eq!(r.status.code(), Some(1));
        assert_eq!(listing().lines().count(), 2, "auditctl -R ran lines 1-3");
    }
}

#[test]
fn load_c_continues_and_i_ignores() {
    if !kernel_available("load_c_continues_and_i_ignores") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("cont");
    let d = TempDir::new("cont");
    let body: Vec<String> = [1, 2, 1, 3].iter().map(|&n| rule(&k, n)).collect();
    let body =
        format!("{}\n-a always,exit -S no_such_call -k {k}\n{}\n", body.join("\n"), rule(&k, 4));
    let c = d.write("c.rules", &format!("-D\n-c\n{body}"));
    let i = d.write("i.rules", &format!("-D\n-i\n{body}"));
    let plain = d.write("plain.rules", &format!("-D\n{body}"));
    clear();
    let o = nlaudit(&["load", s(&c)]);
    assert_eq!(o.status.code(), Some(1), "-c fails at the end: {}", err(&o));
    assert!(err(&o)
        .contains(&format!("{}:5: Error sending add rule data request (Rule exists)", s(&c))));
    assert!(err(&o).contains(&format!("{}:7: Syscall name unknown", s(&c))), "{}", err(&o));
    let ours = listing();
    assert_eq!(ours.lines().count(), 4, "{ours}");
    if let Some(r) = auditctl(&["-R", s(&c)]) {
        assert_eq!(r.status.code(), Some(1));
        assert_eq!(ours, listing());
    }
    let o = nlaudit(&["load", s(&i)]);
    assert_eq!(o.status.code(), Some(0), "-i: {}", err(&o));
    assert_eq!(listing(), ours);
    // The same from the command line.
    assert_eq!(nlaudit(&["load", "-c", s(&plain)]).status.code(), Some(1));
    assert_eq!(listing(), ours);
    assert_eq!(nlaudit(&["load", "-i", s(&plain)]).status.code(), Some(0));
    assert_eq!(listing(), ours);
}

#[test]
fn load_refuses_unsafe_or_missing_files() {
    if !kernel_available("load_refuses_unsafe_or_missing_files") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("unsafe");
    let d = TempDir::new("unsafe");
    let f = d.write("ww.rules", &format!("{}\n", rule(&k, 1)));
    fs::set_permissions(&f, fs::Permissions::from_mode(0o666)).expect("chmod");
    let before = listing();
    let o = nlaudit(&["load", s(&f)]);
    assert!(!o.status.success());
    assert!(err(&o).contains("is world writable"), "{}", err(&o));
    if let Some(r) = auditctl(&["-R", s(&f)]) {
        assert!(!r.status.success(), "auditctl refuses it too");
    }
    // A world-writable fragment of a directory is refused by load and apply too.
    let dir = TempDir::new("unsafe-dir");
    let frag = dir.write("10.rules", &format!("{}\n", rule(&k, 2)));
    fs::set_permissions(&frag, fs::Permissions::from_mode(0o646)).expect("chmod");
    assert!(err(&nlaudit(&["load", dir.arg()])).contains("is world writable"));
    assert!(err(&nlaudit(&["apply", dir.arg()])).contains("is world writable"));
    let fifo = d.path().join("fifo.rules");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let o = nlaudit(&["load", s(&fifo)]);
    assert!(!o.status.success());
    assert!(err(&o).contains("is not a regular file"), "{}", err(&o));
    let o = nlaudit(&["load", s(&d.path().join("missing.rules"))]);
    assert!(err(&o).contains("doesn't exist"), "{}", err(&o));
    assert_eq!(listing(), before, "nothing was loaded");
}

/// `apply: 3 added, 1 deleted, 42 kept, 0 re-added, 0 settings changed, 0.05 s` without
/// the time, from a successful run.
fn counts(o: &Output) -> String {
    ok(o, "apply");
    counts_of(o)
}

/// [`counts`] whatever the exit status (a `-c` run exits 1 after printing it).
fn counts_of(o: &Output) -> String {
    let s = out(o).lines().last().unwrap_or_default().to_string();
    s.rsplit_once(", ").map(|x| x.0.to_string()).unwrap_or(s)
}

#[test]
fn apply_equals_augenrules_load_and_is_idempotent() {
    if !kernel_available("apply_equals_augenrules_load_and_is_idempotent") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("aug");
    let d = TempDir::new("aug");
    d.write("10-base-config.rules", "## base\n-D\n-b 8190\n--backlog_wait_time 60002\n-f 1\n");
    d.write(
        "30-ident.rules",
        &format!(
            "-w /etc/passwd -p wa -k {k}\n-w /etc/group -p wa -k {k}\n{}\n{}\n\
             -A always,exit -F arch=b64 -S unlink -k {k}-head\n-a always,user -F uid=4322\n",
            rule(&k, 1),
            rule(&k, 2)
        ),
    );
    d.write(
        "40-more.rules",
        &format!(
            "{}\n-d always,exit -F arch=b64 -S openat -F auid=1001 -k {k}\n{}\n",
            rule(&k, 3),
            rule(&k, 4)
        ),
    );
    // The kernel holds other rules first: some of the set, some obsolete.
    clear();
    for line in [rule(&k, 4), format!("-w /etc/hosts -p wa -k {k}-old"), rule(&k, 2)] {
        let args: Vec<&str> = line.split(' ').collect();
        let mut a = vec!["add"];
        a.extend(args);
        ok(&nlaudit(&a), "add");
    }
    let o = nlaudit(&["apply", d.arg()]);
    let first = counts(&o);
    assert!(first.contains(" kept") && first.contains("2 settings changed"), "{first}");
    let ours = listing();
    assert_eq!(status_field("backlog_limit"), "8190");
    assert_eq!(status_field("backlog_wait_time"), "60002");

    // Idempotent: nothing to do the second time, and nothing changes.
    let again = nlaudit(&["apply", d.arg()]);
    assert_eq!(counts(&again), "apply: 0 added, 0 deleted, 7 kept, 0 re-added, 0 settings changed");
    assert_eq!(listing(), ours);
    let dry = nlaudit(&["apply", "--dry-run", d.arg()]);
    assert_eq!(ok(&dry, "dry run").lines().count(), 1, "an empty plan");

    // What augenrules --load of the same directory leaves (from an empty kernel: the set
    // begins with -D).
    let out_dir = TempDir::new("aug-out");
    let dest = out_dir.path().join("audit.rules");
    if let Some(r) = augenrules(d.path(), &dest, true) {
        assert!(r.status.success(), "augenrules --load: {}{}", out(&r), err(&r));
        assert_eq!(listing(), ours, "auditctl -l after apply = after augenrules --load");
        // And nlaudit load of the directory is the same again.
        ok(&nlaudit(&["load", d.arg()]), "load dir");
        assert_eq!(listing(), ours);
    }
}

#[test]
fn apply_keeps_order_and_readds_only_the_shorter_side() {
    if !kernel_available("apply_keeps_order_and_readds_only_the_shorter_side") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("order");
    let d = TempDir::new("order");
    let base: Vec<String> = (0..12).map(|n| rule(&k, n)).collect();
    let set = |rules: &[String]| format!("-D\n{}\n", rules.join("\n"));
    let f = d.write("set.rules", &set(&base));
    clear();
    assert_eq!(
        counts(&nlaudit(&["apply", s(&f)])),
        "apply: 12 added, 0 deleted, 0 kept, 0 re-added, 0 settings changed"
    );

    // Inserted after the 3rd rule: the 3 before it are re-prepended, the 9 after kept.
    let mut v = base.clone();
    v.insert(3, format!("-a always,exit -F arch=b64 -S unlink -k {k}-new"));
    let f2 = d.write("set2.rules", &set(&v));
    let before = listing();
    let plan = would_change(&nlaudit(&["apply", "--dry-run", s(&f2)]), "dry run");
    assert_eq!(listing(), before, "--dry-run changes nothing");
    let readds = plan.lines().filter(|l| l.starts_with("+ ") && l.ends_with("# re-add")).count();
    assert_eq!(readds, 3, "{plan}");
    assert!(
        plan.lines()
            .next()
            .is_some_and(|l| l.starts_with("+ -A always,exit") && l.contains("-new")),
        "{plan}"
    );
    assert!(plan.contains("would add 1, delete 0, keep 9, re-add 3"), "{plan}");
    assert_eq!(
        counts(&nlaudit(&["apply", s(&f2)])),
        "apply: 1 added, 0 deleted, 9 kept, 3 re-added, 0 settings changed"
    );
    let after = listing();
    let keys: Vec<String> =
        after.lines().map(|l| l.split("auid=").nth(1).unwrap_or("new").to_string()).collect();
    assert_eq!(keys.len(), 13);
    assert!(keys[3].starts_with("new"), "{after}");
    // The same order auditctl -R gives from scratch.
    if auditctl(&["-D"]).is_some() {
        assert!(auditctl(&["-R", s(&f2)]).expect("auditctl").status.success());
        assert_eq!(listing(), after);
        ok(&nlaudit(&["apply", s(&f2)]), "apply after auditctl -R");
        assert_eq!(listing(), after);
    }

    // Inserted two before the end: the last two are re-appended.
    let mut v3 = v.clone();
    v3.insert(11, format!("-a always,exit -F arch=b64 -S rmdir -k {k}-tail"));
    let f3 = d.write("set3.rules", &set(&v3));
    assert_eq!(
        counts(&nlaudit(&["apply", s(&f3)])),
        "apply: 1 added, 0 deleted, 11 kept, 2 re-added, 0 settings changed"
    );
    // The last rule changed: one add, one delete, nothing re-added.
    let mut v4 = v3.clone();
    let last = v4.len() - 1;
    v4[last] = rule(&k, 99);
    let f4 = d.write("set4.rules", &set(&v4));
    assert_eq!(
        counts(&nlaudit(&["apply", s(&f4)])),
        "apply: 1 added, 1 deleted, 13 kept, 0 re-added, 0 settings changed"
    );
    // Rules added in front of the list: prepended, nothing re-added.
    let mut v5 = vec![rule(&k, 200), rule(&k, 201)];
    v5.extend(v4.iter().cloned());
    let f5 = d.write("set5.rules", &set(&v5));
    assert_eq!(
        counts(&nlaudit(&["apply", s(&f5)])),
        "apply: 2 added, 0 deleted, 14 kept, 0 re-added, 0 settings changed"
    );
    let got: Vec<String> = listing().lines().map(str::to_string).collect();
    assert!(got[0].contains("auid=1200") && got[1].contains("auid=1201"), "{got:?}");
    if auditctl(&["-D"]).is_some() {
        assert!(auditctl(&["-R", s(&f5)]).expect("auditctl").status.success());
        assert_eq!(listing().lines().map(str::to_string).collect::<Vec<_>>(), got);
    }
}

#[test]
fn apply_places_dash_a_rules_at_the_head() {
    if !kernel_available("apply_places_dash_a_rules_at_the_head") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("prepend");
    let d = TempDir::new("prepend");
    let f = d.write(
        "p.rules",
        &format!(
            "-D\n{}\n{}\n-A always,exit -F arch=b64 -S unlink -k {k}-z\n",
            rule(&k, 1),
            rule(&k, 2)
        ),
    );
    clear();
    ok(
        &nlaudit(&[
            "add",
            "-a",
            "always,exit",
            "-F",
            "arch=b64",
            "-S",
            "openat",
            "-F",
            "auid=1001",
            "-k",
            &k,
        ]),
        "add",
    );
    ok(
        &nlaudit(&[
            "add",
            "-a",
            "always,exit",
            "-F",
            "arch=b64",
            "-S",
            "openat",
            "-F",
            "auid=1002",
            "-k",
            &k,
        ]),
        "add",
    );
    assert_eq!(
        counts(&nlaudit(&["apply", s(&f)])),
        "apply: 1 added, 0 deleted, 2 kept, 0 re-added, 0 settings changed"
    );
    let got = listing();
    assert!(got.lines().next().is_some_and(|l| l.contains(&format!("key={k}-z"))), "{got}");
    if auditctl(&["-D"]).is_some() {
        assert!(auditctl(&["-R", s(&f)]).expect("auditctl").status.success());
        assert_eq!(listing(), got);
    }
}

#[test]
fn apply_refuses_a_set_auditctl_would_stop_on() {
    if !kernel_available("apply_refuses_a_set_auditctl_would_stop_on") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("refuse");
    let d = TempDir::new("refuse");
    let f =
        d.write("dup.rules", &format!("-D\n{}\n{}\n{}\n", rule(&k, 1), rule(&k, 2), rule(&k, 1)));
    clear();
    let before = listing();
    let o = nlaudit(&["apply", s(&f)]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains(&format!("{}:4: Error sending add rule data request (Rule exists)", s(&f))),
        "{e}"
    );
    assert!(e.contains(&format!("from {}:2", s(&f))) && e.contains("nothing was changed"), "{e}");
    assert_eq!(listing(), before);
    let bad =
        d.write("bad.rules", &format!("-D\n{}\n-a always,exit -S no_such_call\n", rule(&k, 1)));
    let o = nlaudit(&["apply", s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains(&format!("{}:3: Syscall name unknown: no_such_call", s(&bad))));
    assert_eq!(listing(), before);
    // With -c the bad lines are skipped, the rest applied, and the exit status is 1.
    let o = nlaudit(&["apply", "-c", s(&f)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("(skipped)"));
    assert_eq!(listing().lines().count(), 2);
}

#[test]
fn apply_failing_midway_reports_the_rules_in_force() {
    if !kernel_available("apply_failing_midway_reports_the_rules_in_force") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("midway");
    let d = TempDir::new("midway");
    // A refusal apply cannot foresee: procfs answers the lookup of a missing name with
    // ENOENT instead of a negative dentry, so the kernel refuses this watch although its
    // directory exists. (A missing directory is seen before sending: the test below.)
    let missing = PathBuf::from("/proc/self/nlaudit-no-such-entry");
    let f = d.write(
        "m.rules",
        &format!(
            "-D\n{}\n{}\n-w {} -p wa -k {k}\n{}\n",
            rule(&k, 1),
            rule(&k, 2),
            s(&missing),
            rule(&k, 3)
        ),
    );
    clear();
    let old = format!("-w /etc/hosts -p wa -k {k}-old");
    let mut a = vec!["add"];
    a.extend(old.split(' '));
    ok(&nlaudit(&a), "add");
    let o = nlaudit(&["apply", s(&f)]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains(&format!("apply stopped at + -w {} -p wa -k {k} ({}:4)", s(&missing), s(&f))),
        "{e}"
    );
    assert!(e.contains("(No such file or directory)"), "{e}");
    // The report is the truth: stdout is the listing, the obsolete rule is still in force
    // (deletes come last), the watch is missing.
    let now = listing();
    assert_eq!(out(&o), now);
    assert!(now.contains(&format!("key={k}-old")) || now.contains(&format!("-k {k}-old")), "{now}");
    assert!(e.contains(&format!("missing: -w {}", s(&missing))), "{e}");
    assert!(e.contains(&format!("not in the set: -w /etc/hosts -p wa -k {k}-old")), "{e}");
    assert!(e.contains(&format!("the kernel now holds {} rules", now.lines().count())), "{e}");
}

/// Syscall-class selectors (`-S 2047`, `-S 2046` beside a syscall) list as the kernel's
/// own class tables expand them. apply learns the expansion from probe rules (added,
/// listed, deleted), so a second apply keeps every rule instead of failing on "Rule
/// exists"; no probe stays behind; --dry-run, which changes nothing, says it cannot tell.
#[test]
fn apply_learns_the_kernels_syscall_classes() {
    if !kernel_available("apply_learns_the_kernels_syscall_classes") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("cls");
    let d = TempDir::new("cls");
    let set = d.write(
        "set.rules",
        &format!(
            "-D\n-w /etc/hosts -p wa -k {k}\n-a always,exit -F arch=b64 -S 2047 -k {k}-dir\n\
             {}\n-a always,exit -F arch=b32 -S 2046 -S open -k {k}-dir32\n",
            rule(&k, 1)
        ),
    );
    let set = set.to_str().expect("utf-8 path");
    clear();
    assert_eq!(
        counts(&nlaudit(&["apply", set])),
        "apply: 4 added, 0 deleted, 0 kept, 0 re-added, 0 settings changed"
    );
    let ours = listing();
    assert!(ours.contains(&format!("-S rename,mkdir,rmdir,creat,link,unlink,symlink,mknod,mkdirat,mknodat,unlinkat,renameat,linkat,symlinkat,renameat2 -F key={k}-dir\n")), "{ours}");
    assert!(!ours.contains("nlaudit-class-probe"), "a probe stayed:\n{ours}");
    let again = nlaudit(&["apply", set]);
    assert_eq!(counts(&again), "apply: 0 added, 0 deleted, 4 kept, 0 re-added, 0 settings changed");
    assert_eq!(listing(), ours);
    // A dry run cannot ask the kernel's class tables, so it may see changes: exit 1.
    let dry = would_change(&nlaudit(&["apply", "--dry-run", set]), "dry run");
    assert!(dry.contains("note: 2 rules select syscall classes"), "{dry}");
    // What auditctl -R leaves is the same.
    clear();
    if let Some(r) = auditctl(&["-R", set]) {
        assert!(r.status.success(), "auditctl -R: {}", err(&r));
        assert_eq!(listing(), ours);
    }
}

/// A watch whose directory is missing is refused by the kernel (ENOENT), as sets written
/// for other machines have (the Debian examples watch /etc/NetworkManager/, say). apply
/// sees it before sending: without `-c`/`-i` it refuses the set and changes nothing; after
/// a `-c` it skips the line, loads the rest (what `auditctl -R` leaves), exits 1, and a
/// second apply keeps everything instead of re-adding around the hole.
#[test]
fn apply_skips_what_the_kernel_would_refuse_for_a_missing_path() {
    if !kernel_available("apply_skips_what_the_kernel_would_refuse_for_a_missing_path") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("gone");
    let d = TempDir::new("gone");
    let missing = d.path().join("no-such-dir");
    let body = format!(
        "{}\n-w {}/f -p wa -k {k}\n-a always,exit -F arch=b64 -S openat -F dir={}/ -F key={k}\n{}\n",
        rule(&k, 1),
        missing.display(),
        missing.display(),
        rule(&k, 2)
    );
    let strict = d.write("strict.rules", &format!("-D\n{body}"));
    let lenient = d.write("lenient.rules", &format!("-D\n-c\n{body}"));
    let (strict, lenient) = (strict.to_str().expect("path"), lenient.to_str().expect("path"));
    clear();

    let o = nlaudit(&["apply", strict]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("strict.rules:3: Error sending add rule data request (No such file or directory): the kernel would refuse it:"), "{e}");
    assert!(e.contains("nothing was changed"), "{e}");
    assert_eq!(listing(), "No rules\n");

    let o = nlaudit(&["apply", lenient]);
    assert_eq!(o.status.code(), Some(1), "-c: the skipped lines fail the run at the end");
    let e = err(&o);
    assert!(e.contains("lenient.rules:4: ") && e.contains("lenient.rules:5: "), "{e}");
    assert_eq!(counts_of(&o), "apply: 2 added, 0 deleted, 0 kept, 0 re-added, 0 settings changed");
    let ours = listing();
    let again = nlaudit(&["apply", lenient]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        counts_of(&again),
        "apply: 0 added, 0 deleted, 2 kept, 0 re-added, 0 settings changed"
    );
    assert_eq!(listing(), ours);
    if let Some(r) = auditctl(&["-R", lenient]) {
        assert_eq!(r.status.code(), Some(1), "auditctl -R -c: {}", err(&r));
        assert_eq!(listing(), ours, "what auditctl -R leaves");
    }
}

/// `apply --json`: one object on standard output for a dry run, a run, a run with nothing
/// to do and a run that fails midway (then with `error` and `in_force`, the rules listed).
#[test]
fn apply_json_reports_the_plan_and_the_outcome() {
    if !kernel_available("apply_json_reports_the_plan_and_the_outcome") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("json");
    let d = TempDir::new("json");
    let set = d.write("set.rules", &format!("-D\n-w /etc/hosts -p wa -k {k}\n{}\n", rule(&k, 1)));
    let set = s(&set);
    clear();
    let old = format!("-w /etc/group -p wa -k {k}-old");
    let mut a = vec!["add"];
    a.extend(old.split(' '));
    ok(&nlaudit(&a), "add");
    let json = |args: &[&str]| -> (Option<i32>, serde_json::Value) {
        let o = nlaudit(args);
        let v = serde_json::from_str(&out(&o)).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
        (o.status.code(), v)
    };

    let (code, v) = json(&["apply", "--dry-run", "--json", set]);
    assert_eq!(code, Some(1), "a dry run that would change something exits 1");
    assert_eq!(
        (v["schema"].as_u64(), &v["dry_run"], &v["changed"]),
        (Some(1), &true.into(), &false.into())
    );
    assert_eq!(v["in_sync"], false);
    let steps = v["steps"].as_array().expect("steps");
    let ops: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| (s["op"].as_str().unwrap_or(""), s["rule"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(ops[0], ("add", format!("-w /etc/hosts -p wa -k {k}").as_str()));
    assert_eq!(ops.last().copied(), Some(("delete", old.as_str())));
    assert_eq!(steps[0]["source"], format!("{set}:2").as_str());
    assert_eq!(steps.last().map(|s| &s["reason"]), Some(&"obsolete".into()));
    assert_eq!(v["summary"]["added"], 2);
    assert_eq!(v["summary"]["deleted"], 1);

    let (code, v) = json(&["apply", "--json", set]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (&v["changed"], &v["in_sync"], &v["error"]),
        (&true.into(), &true.into(), &serde_json::Value::Null)
    );
    assert!(v["summary"]["seconds"].as_f64().is_some_and(|t| t >= 0.0), "{v}");
    let (_, v) = json(&["apply", "--json", set]);
    assert_eq!((&v["changed"], &v["summary"]["kept"]), (&false.into(), &2.into()));
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(0));

    // A refusal nothing can foresee (see apply_failing_midway_reports_the_rules_in_force).
    let bad = d.write(
        "bad.rules",
        &format!("-D\n{}\n-w /proc/self/nlaudit-no-such-entry -p wa -k {k}\n", rule(&k, 1)),
    );
    let (code, v) = json(&["apply", "--json", s(&bad)]);
    assert_eq!(code, Some(1));
    assert!(
        v["error"].as_str().is_some_and(|e| e.starts_with("apply stopped at + -w /proc/self/")),
        "{v}"
    );
    let in_force: Vec<String> = v["in_force"]
        .as_array()
        .expect("in_force")
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string() + "\n")
        .collect();
    assert_eq!(in_force.concat(), listing());
    assert_eq!(v["in_sync"], false);
}

/// A kernel whose rules the other generation's auditctl loaded: `apply` finds each rule that
/// is the other generation's compilation of a set line, says so and keeps it (no delete and
/// add), unless `--rewrite-other-generation` asks for this generation's form; both
/// directions, with and without the set's `-D`. (Generation 4 expands `-F arch=.. -F
/// perm=..` into syscalls; generation 3 sends `-S all`.)
#[test]
fn apply_keeps_what_the_other_generation_loaded() {
    if !kernel_available("apply_keeps_what_the_other_generation_loaded") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("crossgen");
    let d = TempDir::new("crossgen");
    let perm = format!("-a always,exit -F arch=b64 -F perm=wa -F path=/etc/hosts -k {k}");
    let plain = format!("-a always,exit -F arch=b64 -S openat -k {k}-plain");
    for (this, other) in [("3", "4"), ("4", "3")] {
        for (name, head, line) in [("no-d.rules", "", 1), ("d.rules", "-D\n", 2)] {
            let f = d.write(name, &format!("{head}{perm}\n{plain}\n"));
            let what = format!("{name}, loaded by generation {other}, applied by {this}");
            clear();
            ok(&nlaudit(&["--auditctl", other, "load", s(&f)]), "load");
            let loaded = out(&nlaudit(&["list"]));
            let note = format!(
                "loaded by auditctl {other}.x (generation {other}) form of {}:{line}",
                s(&f)
            );
            let o = nlaudit(&["--auditctl", this, "apply", "--dry-run", s(&f)]);
            let plan = ok(&o, &what);
            assert!(plan.contains(&note), "{what}: {plan}");
            assert!(plan.contains("would add 0, delete 0, keep 2, re-add 0"), "{what}: {plan}");
            let o = nlaudit(&["--auditctl", this, "apply", s(&f)]);
            let said = ok(&o, &what);
            assert!(said.contains(&note) && said.contains("kept as that line"), "{what}: {said}");
            assert!(said.contains("apply: 0 added, 0 deleted, 2 kept"), "{what}: {said}");
            assert_eq!(out(&nlaudit(&["list"])), loaded, "{what}: nothing changed");
            // Asked to, apply rewrites it in its own form; then nothing is left to say.
            let o = nlaudit(&["--auditctl", this, "apply", "--rewrite-other-generation", s(&f)]);
            let said = ok(&o, &what);
            assert!(said.contains(&note) && said.contains("rewritten"), "{what}: {said}");
            assert!(said.contains("apply: 1 added, 1 deleted, 1 kept"), "{what}: {said}");
            let o = nlaudit(&["--auditctl", this, "apply", "--dry-run", s(&f)]);
            let plan = ok(&o, &what);
            assert!(!plan.contains("loaded by"), "{what}: {plan}");
            assert!(plan.contains("would add 0, delete 0, keep 2"), "{what}: {plan}");
        }
    }
    clear();
}
