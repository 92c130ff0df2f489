//! Rule-set commands change only what they were asked to change (issue 13), against the
//! real kernel: apply follows the set's `-D`, empty sources are refused, load checks every
//! line first, one lock serialises changing commands, SIGINT/SIGTERM stop at a safe point
//! and say what is in force, progress shows on a terminal only, and nlaudit's own `add`
//! refuses what auditctl would silently drop. Each test holds the kernel test lock, uses
//! unique keys and restores what it found (`KernelGuard`).

mod support;

use std::fs;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nlaudit_proto::Client;
use support::{err, kernel_available, nlaudit, out, unique_key, KernelGuard};

/// A temporary directory (mode 0700, files 0640), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("nlaudit-safety-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("mkdir");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).expect("chmod");
        TempDir(p)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).expect("write");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
        p.to_str().expect("utf-8").to_string()
    }

    fn sub(&self, name: &str) -> String {
        let p = self.0.join(name);
        fs::create_dir_all(&p).expect("mkdir");
        p.to_str().expect("utf-8").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn listing() -> String {
    out(&nlaudit(&["list"]))
}

fn rules_in_force() -> usize {
    Client::open().and_then(|mut c| c.list_rules()).map(|r| r.len()).unwrap_or(0)
}

/// `n` distinct syscall rules keyed `key` (uid 1000.. so they never match a test's process).
fn many(key: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("-a always,exit -F arch=b64 -S open -F uid={} -k {key}\n", 1000 + i))
        .collect()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(support::nlaudit_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nlaudit")
}

/// Waits until the kernel holds fewer than `below` rules (a change is under way).
fn wait_for_rules_below(below: usize) {
    let start = Instant::now();
    while rules_in_force() >= below {
        assert!(start.elapsed() < Duration::from_secs(30), "the change never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, sig).expect("kill");
}

/// Point 1: Without `-D` apply only adds (rules outside the set stay, the summary says so), as
/// augenrules --load would; with `-D` the kernel becomes the set. A dry run exits 1 when it
/// would change something, 0 when the kernel already holds the set.
#[test]
fn apply_follows_the_sets_delete_all() {
    if !kernel_available("apply_follows_the_sets_delete_all") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("dash-d");
    let d = TempDir::new("dash-d");
    let outside = format!("-w /etc/shadow -p wa -k {k}-outside");
    assert!(nlaudit(&["add", "-w", "/etc/shadow", "-p", "wa", "-k", &format!("{k}-outside")])
        .status
        .success());
    let rd = d.sub("rules.d");
    d.write("rules.d/10-x.rules", &format!("-w /etc/hosts -p wa -k {k}-set\n"));

    let dry = nlaudit(&["apply", "--dry-run", &rd]);
    assert_eq!(dry.status.code(), Some(1), "{}{}", out(&dry), err(&dry));
    assert!(out(&dry).contains("1 rule in force outside the set kept"), "{}", out(&dry));
    let o = nlaudit(&["apply", &rd]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("1 added, 0 deleted"), "{}", out(&o));
    assert!(out(&o).contains("1 rule in force outside the set kept (the set has no -D"));
    let now = listing();
    assert!(now.contains(&outside), "{now}");
    assert!(now.contains(&format!("-w /etc/hosts -p wa -k {k}-set")), "{now}");
    let again = nlaudit(&["apply", "--dry-run", &rd]);
    assert_eq!(again.status.code(), Some(0), "{}", out(&again));

    // With -D the set is all that stays.
    d.write("rules.d/00-base.rules", "-D\n");
    let o = nlaudit(&["apply", &rd]);
    assert!(o.status.success(), "{}", err(&o));
    let now = listing();
    assert!(!now.contains(&outside), "{now}");
    assert!(now.contains(&format!("-k {k}-set")), "{now}");
}

/// Point 1: A directory with no `*.rules` (a ConfigMap whose keys lack `.rules`) or a set with
/// neither rules nor `-D` is refused before anything is sent: exit 2, naming the directory
/// and the pattern; the rule in force stays.
#[test]
fn apply_refuses_an_empty_or_misnamed_source() {
    if !kernel_available("apply_refuses_an_empty_or_misnamed_source") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("empty");
    assert!(nlaudit(&["add", "-w", "/etc/hosts", "-p", "wa", "-k", &k]).status.success());
    let before = listing();
    let d = TempDir::new("empty");
    let cm = d.sub("configmap");
    d.write("configmap/audit-config", "-D\n-w /etc/passwd -p wa -k x\n");
    for args in [
        vec!["apply", cm.as_str()],
        vec!["apply", "--dry-run", cm.as_str()],
        vec!["load", cm.as_str()],
    ] {
        let o = nlaudit(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).contains(&cm) && err(&o).contains("*.rules"), "{}", err(&o));
        assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    }
    let only = d.write("comments.rules", "# nothing here\n-b 8192\n");
    let o = nlaudit(&["apply", &only]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("no rule (-a, -A, -w) and no -D"), "{}", err(&o));
    assert_eq!(listing(), before);
}

/// Point 2: load parses and checks every line of every input before the first message: a parse
/// error on line 4 after `-D`, `-b` and a rule changes nothing (exit 2, FILE:LINE); so does
/// a watch whose directory is missing, and an error in the second of two files.
#[test]
fn load_checks_everything_before_sending() {
    if !kernel_available("load_checks_everything_before_sending") {
        return;
    }
    let g = KernelGuard::new();
    let k = unique_key("load-check");
    assert!(nlaudit(&["add", "-w", "/etc/hosts", "-p", "wa", "-k", &k]).status.success());
    let before = listing();
    let backlog = g.initial_status().backlog_limit;
    let new_backlog = if backlog == 8191 { 8190 } else { 8191 };
    let d = TempDir::new("load-check");
    let bad = d.write(
        "bad.rules",
        &format!(
            "-D\n-b {new_backlog}\n-w /etc/passwd -p wa -k {k}-3\n-a always,exit -F uidd=0 -k {k}\n"
        ),
    );
    let o = nlaudit(&["load", &bad]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains(&format!("{bad}:4:")), "{}", err(&o));
    assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    assert_eq!(listing(), before);
    let s = Client::open().and_then(|mut c| c.status()).expect("status");
    assert_eq!(s.backlog_limit, backlog);

    let missing =
        d.write("missing.rules", &format!("-D\n-w /nonexistent-nlaudit-dir/file -p wa -k {k}\n"));
    let good = d.write("good.rules", &format!("-D\n-w /etc/passwd -p wa -k {k}-g\n"));
    let o = nlaudit(&["load", &good, &missing]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains(&format!("{missing}:2:")), "{}", err(&o));
    assert!(err(&o).contains("/nonexistent-nlaudit-dir does not exist"), "{}", err(&o));
    assert_eq!(listing(), before);

    // Under -c the line is passed over when the file runs, as auditctl -R -c does.
    let o = nlaudit(&["load", "-c", &missing]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(!listing().contains(&k), "{}", listing());
}

/// Takes /run/nlaudit.lock as another nlaudit would, writing `holder` into it.
fn hold_change_lock(holder: &str) -> fs::File {
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open("/run/nlaudit.lock")
        .expect("open the change lock");
    // SAFETY: flock on a valid fd owned by `f`.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock");
    f.set_len(0).expect("truncate");
    f.write_all(holder.as_bytes()).expect("write holder");
    f
}

/// Point 3: A changing command waits for the lock, naming the holder's pid and command, and fails
/// with exit 1 after the bound; a read-only command does not wait.
#[test]
fn changing_commands_wait_for_the_lock_and_say_for_whom() {
    if !kernel_available("changing_commands_wait_for_the_lock_and_say_for_whom") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("lock");
    let lock = hold_change_lock("4242 nlaudit apply /etc/audit/rules.d\n");
    let o = Command::new(support::nlaudit_bin())
        .args(["add", "-w", "/etc/hosts", "-p", "wa", "-k", &k])
        .env("NLAUDIT_LOCK_TIMEOUT", "1")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("waiting for pid 4242 (nlaudit apply /etc/audit/rules.d)"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    assert!(!listing().contains(&k));
    // Read-only commands never take it.
    let start = Instant::now();
    for args in [vec!["list"], vec!["status"], vec!["apply", "--dry-run", "/nonexistent"]] {
        let _ = nlaudit(&args);
    }
    assert!(start.elapsed() < Duration::from_secs(1), "a read-only command waited");
    // Released meanwhile, the waiter goes on.
    let child = spawn(&["add", "-w", "/etc/hosts", "-p", "wa", "-k", &k]);
    std::thread::sleep(Duration::from_millis(300));
    drop(lock);
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("waiting for pid 4242"), "{}", err(&o));
    assert!(listing().contains(&k));
}

/// Point 3: Two applies at once (the race: set Y started while X was in force, X again
/// right after): the second waits, and the kernel ends with exactly the set applied last.
#[test]
fn two_applies_at_once_end_with_one_whole_set() {
    if !kernel_available("two_applies_at_once_end_with_one_whole_set") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("race");
    let d = TempDir::new("race");
    let x = d.write("x.rules", &format!("-D\n{}", many(&format!("{k}-x"), 120)));
    let y = d.write("y.rules", &format!("-D\n{}", many(&format!("{k}-y"), 120)));
    assert!(nlaudit(&["apply", &x]).status.success());
    let x_listing = listing();
    let first = spawn(&["apply", &y]);
    wait_for_rules_below(usize::MAX); // the kernel answers
    std::thread::sleep(Duration::from_millis(20));
    let second = spawn(&["apply", &x]);
    let a = first.wait_with_output().expect("wait");
    let b = second.wait_with_output().expect("wait");
    assert!(a.status.success(), "{}", err(&a));
    assert!(b.status.success(), "{}", err(&b));
    assert_eq!(listing(), x_listing, "the kernel holds neither set whole");
}

/// Point 4: SIGINT during apply stops at a safe point: the rules both sets share and the new ones
/// are in force, the summary says it was interrupted and what is in force, exit 130.
#[test]
fn sigint_during_apply_stops_safely_and_says_what_is_in_force() {
    if !kernel_available("sigint_during_apply_stops_safely_and_says_what_is_in_force") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("sigint");
    let d = TempDir::new("sigint");
    let shared = format!("-w /etc/hosts -p wa -k {k}-shared\n");
    let old = d.write("old.rules", &format!("-D\n{shared}{}", many(&format!("{k}-old"), 250)));
    let new = d.write("new.rules", &format!("-D\n{shared}-w /etc/passwd -p wa -k {k}-new\n"));
    assert!(nlaudit(&["apply", &old]).status.success());
    let held = rules_in_force();
    let child = spawn(&["apply", &new]);
    wait_for_rules_below(held);
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", err(&o));
    assert!(err(&o).contains("apply interrupted by SIGINT"), "{}", err(&o));
    assert!(err(&o).contains("the kernel now holds"), "{}", err(&o));
    let now = listing();
    assert!(
        now.contains(&format!("-k {k}-shared")) && now.contains(&format!("-k {k}-new")),
        "{now}"
    );
    let left = now.matches(&format!("key={k}-old")).count();
    assert!(left > 0 && left < 250, "{left} old rules left: not interrupted midway");
    // What the summary says is in force is printed on stdout, as `list` prints it.
    assert_eq!(out(&o), now);
}

/// Point 4: SIGTERM during `delete --all` and SIGINT during `load` stop between datagrams, list
/// what is in force and exit 143 / 130.
#[test]
fn sigterm_during_delete_all_and_sigint_during_load() {
    if !kernel_available("sigterm_during_delete_all_and_sigint_during_load") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("sigterm");
    let d = TempDir::new("sigterm");
    let set = d.write("set.rules", &many(&k, 250));
    assert!(nlaudit(&["load", &set]).status.success());
    let held = rules_in_force();
    let child = spawn(&["delete", "--all", "--key", &k]);
    wait_for_rules_below(held);
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(143), "{}", err(&o));
    assert!(err(&o).contains("delete --all stopped after"), "{}", err(&o));
    assert!(err(&o).contains("interrupted by SIGTERM; the kernel now holds"), "{}", err(&o));
    let left = listing().matches(&k).count();
    assert!(left > 0 && left < 250, "{left}");

    let reload = d.write("reload.rules", &format!("-D\n{}", many(&k, 250)));
    assert!(nlaudit(&["load", &reload]).status.success());
    let held = rules_in_force();
    let child = spawn(&["load", &reload]);
    wait_for_rules_below(held);
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", err(&o));
    assert!(err(&o).contains("interrupted by SIGINT"), "{}", err(&o));
    let stdout = out(&o);
    assert!(stdout.lines().last().is_some_and(|l| l.starts_with("load: ")), "{stdout}");
    assert!(stdout.contains(&format!("key={k}")), "the rules in force are listed: {stdout}");
}

/// Point 4: Progress shows on a terminal (under `script`, a pseudo-terminal) and not otherwise.
#[test]
fn progress_shows_on_a_terminal_only() {
    if !kernel_available("progress_shows_on_a_terminal_only")
        || !Path::new("/usr/bin/script").exists()
    {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("progress");
    let d = TempDir::new("progress");
    let set = d.write("set.rules", &many(&k, 230));
    assert!(nlaudit(&["load", &set]).status.success());
    let quiet = nlaudit(&["delete", "--all", "--key", &format!("{k}-none")]);
    assert!(!err(&quiet).contains("rules deleted:"), "{}", err(&quiet));
    let cmd = format!("{} delete --all --key {k}", support::nlaudit_bin().display());
    let o: Output =
        Command::new("script").args(["-qec", &cmd, "/dev/null"]).output().expect("script");
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("delete --all: rules deleted: "), "{}", out(&o));
    assert!(out(&o).contains("/230, "), "{}", out(&o));
    assert!(out(&o).contains("deleted 230 rules"), "{}", out(&o));
    assert!(!listing().contains(&k));
}

/// Point 6: nlaudit's own add/delete refuse what auditctl drops silently; the drop-in keeps
/// auditctl's behaviour.
#[test]
fn add_refuses_options_auditctl_would_ignore() {
    if !kernel_available("add_refuses_options_auditctl_would_ignore") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("ignored");
    let o = nlaudit(&["add", "-w", "/etc/hosts", "-S", "open", "-k", &k]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("`-S open` has no effect on a watch (`-w /etc/hosts`)"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("-F path=FILE"), "{}", err(&o));
    let o = nlaudit(&["add", "-w", "/etc/hosts", "-p", "w", "-p", "a", "-k", &k]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("`-p` is given 2 times (-p w, -p a)"), "{}", err(&o));
    let o = nlaudit(&["delete", "-w", "/etc/hosts", "-S", "open", "-k", &k]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(!listing().contains(&k));
    // The drop-in is auditctl: a plain watch, exit 0.
    let o = nlaudit(&["auditctl", "-w", "/etc/hosts", "-S", "open", "-k", &k]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(listing().contains(&format!("-w /etc/hosts -p rwxa -k {k}")), "{}", listing());
}
