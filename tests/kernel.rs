//! Kernel integration tests for the foundation (issue: status / list / add / delete), run
//! as root against the real kernel and compared with the real auditctl (the reference only).
//! Every test holds the kernel lock and restores the rules and settings it found.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use support::{auditctl, err, kernel_available, nlaudit, out, unique_key, KernelGuard};

fn have_auditctl() -> bool {
    support::auditctl_path().is_some()
}

#[test]
fn status_is_auditctl_s_line_for_line() {
    if !kernel_available("status_is_auditctl_s_line_for_line") {
        return;
    }
    let _g = KernelGuard::new();
    let ours = nlaudit(&["status"]);
    assert!(ours.status.success(), "{}", err(&ours));
    let text = out(&ours);
    for name in ["enabled", "failure", "pid", "rate_limit", "backlog_limit", "lost", "backlog"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{name} "))), "{name} in {text}");
    }
    if let Some(theirs) = auditctl(&["-s"]) {
        // `lost` and `backlog` move between the two reads only if records are being lost;
        // with audit off here they are stable.
        assert_eq!(text, out(&theirs));
    }
    let j: serde_json::Value =
        serde_json::from_slice(&nlaudit(&["status", "--json"]).stdout).expect("status json");
    assert!(j["enabled"].is_u64() && j["backlog_limit"].is_u64(), "{j}");
}

#[test]
fn list_matches_auditctl_for_rules_auditctl_loaded() {
    if !kernel_available("list_matches_auditctl") || !have_auditctl() {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("list");
    let rules = [
        format!("-w /etc/passwd -p wa -k {k}"),
        format!("-w /etc/ssh/ -k {k} -k second"),
        format!("-a always,exit -F arch=b64 -S openat,truncate -F exit=-EACCES -F auid>=1000 -F auid!=unset -k {k}"),
        format!("-a always,exit -F arch=b32 -S open,creat -F exit=-EPERM -F uid=0 -k {k}"),
        format!("-a always,exit -S mount -F success=1 -k {k}"),
        format!("-a never,exit -F arch=b64 -S all -F euid=54321 -F key={k}"),
    ];
    for r in &rules {
        let args: Vec<&str> = r.split(' ').collect();
        let o = auditctl(&args).expect("auditctl");
        assert!(o.status.success(), "auditctl {r}: {}", err(&o));
    }
    let theirs = out(&auditctl(&["-l"]).expect("auditctl -l"));
    let ours = nlaudit(&["list"]);
    assert!(ours.status.success(), "{}", err(&ours));
    assert_eq!(out(&ours), theirs);
    let ours_k = out(&nlaudit(&["list", "--key", &k]));
    assert_eq!(ours_k, out(&auditctl(&["-l", "-k", &k]).expect("auditctl -l -k")));
    assert_eq!(ours_k.lines().count(), rules.len());
    let j: serde_json::Value =
        serde_json::from_slice(&nlaudit(&["list", "--key", &k, "--json"]).stdout).expect("json");
    assert_eq!(j["schema"], 1);
    let j = &j["rules"];
    assert_eq!(j.as_array().map(Vec::len), Some(rules.len()));
    // The never rule is not a watch, but its truth (action, list) is in the JSON.
    assert_eq!(j[5]["action"], "never");
    assert_eq!(j[0]["shown_as_watch"], true);
}

#[test]
fn no_rules_prints_no_rules() {
    if !kernel_available("no_rules_prints_no_rules") {
        return;
    }
    let g = KernelGuard::new();
    let mut c = nlaudit_proto::Client::open().expect("open");
    for r in g.initial_rules() {
        c.delete_rule(r).expect("clear (restored by the guard)");
    }
    assert_eq!(out(&nlaudit(&["list"])), "No rules\n");
    if let Some(t) = auditctl(&["-l"]) {
        assert_eq!(out(&t), "No rules\n");
    }
}

#[test]
fn seed_job_dockerd_watch_shows_in_auditctl() {
    if !kernel_available("seed_job") {
        return;
    }
    let g = KernelGuard::new();
    let mut c = nlaudit_proto::Client::open().expect("open");
    // The seed's literal rule; if the machine already had it, take it away (restored later).
    let text = "-w /usr/bin/dockerd -p rwxa -k docker";
    let existing: Vec<_> = g
        .initial_rules()
        .iter()
        .filter(|r| nlaudit_rules::Renderer::new(nlaudit_rules::Machine::host()).rule(r) == text)
        .cloned()
        .collect();
    for r in &existing {
        c.delete_rule(r).expect("delete pre-existing");
    }
    let o = nlaudit(&["add", "-w", "/usr/bin/dockerd", "-k", "docker"]);
    assert!(o.status.success(), "{}", err(&o));
    if let Some(l) = auditctl(&["-l"]) {
        let listing = out(&l);
        let grep: Vec<&str> = listing.lines().filter(|x| x.contains("/usr/bin/dockerd")).collect();
        assert_eq!(grep, [text]);
    }
    assert!(out(&nlaudit(&["list"])).lines().any(|l| l == text));
    // Adding it again: its own exit code and message.
    let again = nlaudit(&["add", "-w", "/usr/bin/dockerd", "-k", "docker"]);
    assert_eq!(again.status.code(), Some(3), "{}", err(&again));
    assert!(err(&again).contains("rule already exists"), "{}", err(&again));
}

#[test]
fn add_then_delete_by_the_text_auditctl_printed() {
    if !kernel_available("delete_by_text") {
        return;
    }
    let _g = KernelGuard::new();
    let k = unique_key("del");
    let adds = [
        vec![
            "-a",
            "always,exit",
            "-F",
            "arch=b64",
            "-S",
            "unlinkat,renameat",
            "-F",
            "auid>=1000",
            "-F",
            "auid!=unset",
        ],
        vec!["-A", "always,exit", "-F", "arch=b64", "-S", "chmod", "-F", "a1&=0x12"],
        vec!["-w", "/etc/hosts", "-p", "wa"],
    ];
    for a in &adds {
        let mut args = vec!["add"];
        args.extend(a.iter().copied());
        args.extend(["-k", &k]);
        let o = nlaudit(&args);
        assert!(o.status.success(), "{args:?}: {}", err(&o));
    }
    let listed = out(&nlaudit(&["list", "--key", &k]));
    assert_eq!(listed.lines().count(), 3, "{listed}");
    if let Some(t) = auditctl(&["-l", "-k", &k]) {
        assert_eq!(listed, out(&t));
    }
    // The prepended rule is first in the exit list.
    assert!(listed.lines().next().is_some_and(|l| l.contains("-S chmod")), "{listed}");
    for line in listed.lines() {
        let mut args = vec!["delete"];
        args.extend(line.split(' '));
        let o = nlaudit(&args);
        assert!(o.status.success(), "delete {line}: {}", err(&o));
    }
    // auditctl prints `No rules` only when the kernel holds none at all.
    assert!(!out(&nlaudit(&["list", "--key", &k])).contains(&k));
    let missing = nlaudit(&["delete", "-w", "/etc/hosts", "-p", "wa", "-k", &k]);
    assert_eq!(missing.status.code(), Some(4), "{}", err(&missing));
}

#[test]
fn delete_all_with_key_removes_only_matching_rules() {
    if !kernel_available("delete_all_key") {
        return;
    }
    let _g = KernelGuard::new();
    let keep = unique_key("keep");
    let drop = unique_key("drop");
    for (k, p) in [(&keep, "/etc/hostname"), (&drop, "/etc/hosts"), (&drop, "/etc/group")] {
        assert!(nlaudit(&["add", "-w", p, "-k", k]).status.success());
    }
    let o = nlaudit(&["delete", "--all", "--key", &drop]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "deleted 2 rules\n");
    assert!(!out(&nlaudit(&["list", "--key", &drop])).contains(&drop));
    assert_eq!(out(&nlaudit(&["list", "--key", &keep])).lines().count(), 1);
}

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs nlaudit under a wrapper command (capsh, unshare, setpriv).
fn wrapped(wrapper: &[&str], args: &str) -> std::process::Output {
    let bin = support::nlaudit_bin();
    let cmd = format!("{} {args}", bin.display());
    let mut all: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
    all.push(cmd);
    Command::new(&all[0]).args(&all[1..]).output().expect("run wrapper")
}

#[test]
fn without_cap_audit_control_the_message_names_it() {
    if !kernel_available("no_cap") || !tool("capsh") {
        let in_container = std::env::var_os("NLAUDIT_IN_CONTAINER").is_some();
        assert!(
            !support::in_ci() || in_container || tool("capsh"),
            "capsh (libcap2-bin) is required in CI"
        );
        return;
    }
    let o = wrapped(&["capsh", "--drop=cap_audit_control", "--", "-c"], "list");
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(err(&o).contains("CAP_AUDIT_CONTROL"), "{}", err(&o));
    // nobody must be able to reach the binary: the checkout may sit in a 0700 directory.
    let dir = std::env::temp_dir().join(format!("nlaudit-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = dir.join("nlaudit");
    std::fs::copy(support::nlaudit_bin(), &bin).expect("copy nlaudit");
    let nobody = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .arg("status")
        .output()
        .expect("setpriv");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(nobody.status.code(), Some(5), "{}", err(&nobody));
    assert!(err(&nobody).contains("CAP_AUDIT_CONTROL"), "{}", err(&nobody));
}

#[test]
fn in_a_pid_namespace_the_message_names_pid_host() {
    if !kernel_available("pid_ns") || !tool("unshare") {
        return;
    }
    let o = wrapped(&["unshare", "-pf", "--mount-proc", "sh", "-c"], "list");
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(err(&o).contains("--pid=host"), "{}", err(&o));
}

#[test]
fn in_a_user_namespace_the_message_says_so() {
    if !kernel_available("user_ns") || !tool("unshare") {
        return;
    }
    let o = wrapped(&["unshare", "-U", "-r", "sh", "-c"], "status");
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(err(&o).contains("not available in a user namespace"), "{}", err(&o));
    // auditctl says "The audit system is disabled" here; we do not.
    assert!(!err(&o).contains("disabled"), "{}", err(&o));
}

#[test]
fn in_a_network_namespace_control_still_works() {
    if !kernel_available("net_ns") || !tool("unshare") {
        return;
    }
    let o = wrapped(&["unshare", "-n", "sh", "-c"], "status");
    assert!(o.status.success(), "{}", err(&o));
}
