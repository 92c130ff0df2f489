//! `--machine ARCH`: rules checked against another machine's syscall tables without the
//! kernel (`merge`, `check --root`, `docker check --root`, `ensure --root`), so an image
//! build for aarch64 learns that `-S open` does not exist there before the image boots. No
//! kernel is touched.

mod support;

use std::fs;
use std::path::PathBuf;

use support::{err, nlaudit, out};

/// An image tree with one rules.d file; removed on drop.
struct Image(PathBuf);

impl Image {
    fn new(tag: &str, rules: &str) -> Image {
        let p = std::env::temp_dir().join(format!("nlaudit-machine-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(p.join("etc/audit/rules.d")).expect("mkdir");
        fs::write(p.join("etc/audit/rules.d/10-x.rules"), rules).expect("write");
        Image(p)
    }
    fn root(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
    fn rules_d(&self) -> String {
        format!("{}/etc/audit/rules.d", self.root())
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const RULES: &str = "-D\n-a always,exit -F arch=b64 -S open -k o\n\
                     -a always,exit -F arch=b64 -S openat -k ok\n-w /etc/passwd -p wa -k id\n";

/// `merge --machine`: every machine whose table has `open` prints the merge; aarch64 and
/// riscv64 (which have only `openat`) refuse, naming FILE:LINE, the call and the machine.
#[test]
fn merge_checks_the_set_for_the_named_machine() {
    let img = Image::new("merge", RULES);
    let dir = img.rules_d();
    for m in ["x86_64", "s390x", "ppc64le"] {
        let o = nlaudit(&["merge", "--machine", m, &dir]);
        assert!(o.status.success(), "{m}: {}", err(&o));
        assert!(out(&o).contains("-S open -k o\n"), "{m}: {}", out(&o));
    }
    for (g, m) in [("3", "aarch64"), ("4", "aarch64"), ("4", "riscv64")] {
        let o = nlaudit(&["--auditctl", g, "merge", "--machine", m, &dir]);
        assert_eq!(o.status.code(), Some(2), "{g} {m}: {}", out(&o));
        assert_eq!(out(&o), "", "nothing is printed");
        let want = format!("{dir}/10-x.rules:2: Syscall name unknown: open (machine {m})");
        assert!(err(&o).contains(&want), "{g} {m}: {}", err(&o));
        assert!(err(&o).contains("1 line(s) of the set do not parse"), "{}", err(&o));
    }
    // Without --machine, merge checks nothing (augenrules does not either).
    let o = nlaudit(&["merge", &dir]);
    assert!(o.status.success(), "{}", err(&o));
}

/// An unknown machine, and one only the other generation knows, are usage errors that say
/// which machines there are.
#[test]
fn an_unknown_machine_is_named() {
    let img = Image::new("unknown", RULES);
    let o = nlaudit(&["merge", "--machine", "vax", &img.rules_d()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--machine vax: auditctl 3.0.9 has no such machine"), "{}", err(&o));
    assert!(err(&o).contains("aarch64"), "{}", err(&o));
    let o = nlaudit(&["--auditctl", "3", "merge", "--machine", "riscv64", &img.rules_d()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("(auditctl 4.2.1 knows it: --auditctl 4)"), "{}", err(&o));
    // --machine needs --root on the checks (the running kernel is this machine's).
    let o = nlaudit(&["check", "--profile", "stig-rhel9", "--machine", "aarch64"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--root"), "{}", err(&o));
}

/// `check --root --machine` and `docker check --root --machine`: the image's rules files are
/// parsed for that machine (a rule that cannot load there is reported with its FILE:LINE and
/// the machine), and a profile is expanded for its arches (aarch64: b32 is arm).
#[test]
fn image_checks_use_the_named_machine() {
    let img = Image::new("check", RULES);
    let want = "/etc/audit/rules.d/10-x.rules:2: Syscall name unknown: open (machine aarch64)";
    let o = nlaudit(&[
        "check",
        "--profile",
        "stig-rhel9",
        "--root",
        img.root(),
        "--machine",
        "aarch64",
    ]);
    assert!(out(&o).contains(want), "{}\n{}", out(&o), err(&o));
    assert!(out(&o).contains("arches b32+b64"), "{}", out(&o));
    let o = nlaudit(&["check", "--profile", "stig-rhel9", "--root", img.root()]);
    assert!(!out(&o).contains("Syscall name unknown"), "x86_64 has open: {}", out(&o));
    let o = nlaudit(&["docker", "check", "--root", img.root(), "--machine", "aarch64"]);
    assert!(out(&o).contains(want), "{}\n{}", out(&o), err(&o));
    // riscv64 (generation 4) has no 32-bit arch: the profile is expanded for b64 only.
    let o = nlaudit(&[
        "--auditctl",
        "4",
        "check",
        "--profile",
        "stig-rhel9",
        "--root",
        img.root(),
        "--machine",
        "riscv64",
    ]);
    assert!(out(&o).contains("arches b64,") || out(&o).contains("arches b64 "), "{}", out(&o));
    assert!(out(&o).contains("(machine riscv64)"), "{}", out(&o));
}
