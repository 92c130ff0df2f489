//! `nlaudit docker check|ensure`: image trees (no root needed), the JSON schema, the persisted
//! rules file, and (root) the live kernel with Debian's docker.io.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use serde_json::Value;
use support::{auditctl, err, kernel_available, nlaudit, out, KernelGuard};

/// A fresh temporary directory.
fn tempdir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "nlaudit-docker-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("mkdir");
    d
}

/// Writes files (mode 0755) under `root`.
fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let f = root.join(p);
        fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        fs::write(&f, text).expect("write");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// An image tree laid out as Debian's docker.io installs it.
fn debian_image() -> PathBuf {
    let root = tempdir("image");
    write_files(&root, &[
        ("usr/sbin/dockerd", ""),
        ("usr/bin/containerd", ""),
        ("usr/bin/containerd-shim", ""),
        ("usr/bin/containerd-shim-runc-v1", ""),
        ("usr/bin/containerd-shim-runc-v2", ""),
        ("usr/sbin/runc", ""),
        (
            "usr/lib/systemd/system/docker.service",
            "[Service]\nEnvironmentFile=-/etc/default/docker\nExecStart=/usr/sbin/dockerd -H fd:// \
             --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n",
        ),
        ("usr/lib/systemd/system/docker.socket", "[Socket]\nListenStream=/run/docker.sock\n"),
        ("usr/lib/systemd/system/containerd.service", "[Service]\nExecStart=/usr/bin/containerd\n"),
        ("etc/default/docker", "#DOCKER_OPTS=\n"),
        ("etc/containerd/config.toml", "version = 2\n"),
        ("etc/docker/key.json", "{}"),
        ("var/lib/docker/.keep", ""),
    ]);
    // merged /usr, and the link Debian's runc package ships
    for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")] {
        std::os::unix::fs::symlink(target, root.join(link)).expect("symlink");
    }
    std::os::unix::fs::symlink("../sbin/runc", root.join("usr/bin/runc")).expect("symlink");
    fs::create_dir_all(root.join("run")).expect("mkdir");
    root
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = nlaudit(args);
    (o.status.code(), out(&o), err(&o))
}

fn check_json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["docker", "check", "--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, v)
}

fn control<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["controls"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn root_arg(p: &Path) -> String {
    p.display().to_string()
}

// ---- the JSON schema --------------------------------------------------------------------

#[derive(Clone, Copy)]
enum T {
    Str,
    OptStr,
    Bool,
    Num,
    OptNum,
    Arr,
    Obj,
    OptObj,
}

fn is(v: &Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::OptStr => v.is_string() || v.is_null(),
        T::Bool => v.is_boolean(),
        T::Num => v.is_u64(),
        T::OptNum => v.is_u64() || v.is_null(),
        T::Arr => v.is_array(),
        T::Obj => v.is_object(),
        T::OptObj => v.is_object() || v.is_null(),
    }
}

/// Checks that `v` has exactly these keys, with these types.
fn keys(v: &Value, want: &[(&str, T)], what: &str) {
    let obj = v.as_object().unwrap_or_else(|| panic!("{what}: not an object: {v}"));
    let got: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    let exp: BTreeSet<&str> = want.iter().map(|(k, _)| *k).collect();
    assert_eq!(got, exp, "{what}: keys");
    for (k, t) in want {
        assert!(is(&obj[*k], *t), "{what}.{k}: wrong type: {}", obj[*k]);
    }
}

const TOP: &[(&str, T)] = &[
    ("schema", T::Num),
    ("target", T::Str),
    ("root", T::OptStr),
    ("rules_dir", T::Str),
    ("audit", T::Obj),
    ("summary", T::Obj),
    ("controls", T::Arr),
];
const AUDIT: &[(&str, T)] = &[
    ("enabled", T::OptNum),
    ("auditd_pid", T::OptNum),
    ("immutable", T::Bool),
    ("recording", T::Bool),
    ("notes", T::Arr),
];
const NOTE: &[(&str, T)] = &[("level", T::Str), ("code", T::Str), ("text", T::Str)];
const SUMMARY: &[(&str, T)] =
    &[("total", T::Num), ("pass", T::Num), ("fail", T::Num), ("not_applicable", T::Num)];
const CONTROL: &[(&str, T)] = &[
    ("id", T::Str),
    ("ids", T::Obj),
    ("title", T::Str),
    ("status", T::Str),
    ("reason", T::Str),
    ("benchmark_path", T::Str),
    ("datadog_path", T::OptStr),
    ("path", T::OptStr),
    ("path_source", T::OptStr),
    ("watch_path", T::OptStr),
    ("kind", T::OptStr),
    ("symlinks", T::Arr),
    ("candidates", T::Arr),
    ("notes", T::Arr),
    ("rule_found", T::Bool),
    ("evidence", T::Arr),
    ("remediation", T::OptStr),
    ("persisted", T::OptStr),
    ("volatile", T::OptStr),
    ("verify", T::OptObj),
];
const IDS: &[(&str, T)] = &[("cis_docker_1_6_0", T::Str), ("datadog", T::OptStr)];
const CANDIDATE: &[(&str, T)] =
    &[("path", T::Str), ("source", T::Str), ("exists", T::Bool), ("real_path", T::OptStr)];
const SYMLINK: &[(&str, T)] = &[("path", T::Str), ("target", T::Str), ("last", T::Bool)];
const EVIDENCE: &[(&str, T)] = &[
    ("rule", T::Str),
    ("origin", T::Str),
    ("relation", T::Str),
    ("satisfies", T::Bool),
    ("notes", T::Arr),
];

const VERIFY: &[(&str, T)] = &[
    ("status", T::Str),
    ("reason", T::Str),
    ("serial", T::OptNum),
    ("syscall", T::OptStr),
    ("path", T::OptStr),
    ("key", T::OptStr),
];

/// Validates a whole report against the documented schema.
fn validate(r: &Value) {
    keys(r, TOP, "report");
    assert_eq!(r["schema"], 1);
    assert!(["kernel", "image"].contains(&r["target"].as_str().unwrap_or("")));
    keys(&r["audit"], AUDIT, "audit");
    for n in r["audit"]["notes"].as_array().into_iter().flatten() {
        keys(n, NOTE, "audit.notes[]");
        assert!(["fail", "warning", "info"].contains(&n["level"].as_str().unwrap_or("")));
    }
    keys(&r["summary"], SUMMARY, "summary");
    let controls = r["controls"].as_array().expect("controls");
    assert_eq!(controls.len(), 16);
    assert_eq!(r["summary"]["total"], 16);
    let mut counts = [0u64; 3];
    for c in controls {
        let id = c["id"].as_str().unwrap_or("?");
        keys(c, CONTROL, id);
        keys(&c["ids"], IDS, id);
        assert_eq!(c["ids"]["cis_docker_1_6_0"], c["id"]);
        assert_eq!(c["ids"]["datadog"].is_null(), c["datadog_path"].is_null(), "{id}");
        for k in c["candidates"].as_array().into_iter().flatten() {
            keys(k, CANDIDATE, id);
        }
        for k in c["symlinks"].as_array().into_iter().flatten() {
            keys(k, SYMLINK, id);
        }
        for e in c["evidence"].as_array().into_iter().flatten() {
            keys(e, EVIDENCE, id);
            assert!(["exact", "ancestor-tree", "inside", "other-path"]
                .contains(&e["relation"].as_str().unwrap_or("")));
        }
        // With --verify every control has its proof (or why not); without, none has.
        let asked = controls.iter().any(|c| !c["verify"].is_null());
        assert_eq!(c["verify"].is_null(), !asked, "{id}");
        if !c["verify"].is_null() {
            let v = &c["verify"];
            keys(v, VERIFY, id);
            if c["status"] == "not-applicable" {
                assert_eq!((&v["status"], &v["path"]), (&Value::from("skipped"), &Value::Null));
            }
            match v["status"].as_str() {
                Some("verified") => {
                    assert!(v["serial"].is_u64() && v["syscall"].is_string(), "{id}: {v}");
                    assert_eq!(v["path"], c["watch_path"], "{id}");
                }
                Some("failed" | "skipped") => {
                    assert!(v["serial"].is_null() && v["syscall"].is_null(), "{id}: {v}")
                }
                other => panic!("{id}: verify status {other:?}"),
            }
        }
        match c["status"].as_str() {
            Some("pass") => {
                counts[0] += 1;
                assert!(c["rule_found"] == true && c["watch_path"].is_string(), "{id}");
            }
            Some("fail") => counts[1] += 1,
            Some("not-applicable") => {
                counts[2] += 1;
                assert!(c["watch_path"].is_null() && c["remediation"].is_null(), "{id}");
            }
            other => panic!("{id}: status {other:?}"),
        }
        if c["status"] != "not-applicable" {
            let rem = c["remediation"].as_str().expect("remediation");
            assert_eq!(
                rem,
                format!("-w {} -p rwxa -k docker", c["watch_path"].as_str().unwrap_or(""))
            );
        }
    }
    assert_eq!(r["summary"]["pass"], counts[0]);
    assert_eq!(r["summary"]["fail"], counts[1]);
    assert_eq!(r["summary"]["not_applicable"], counts[2]);
}

#[test]
fn json_schema_is_documented_and_complete() {
    let root = debian_image();
    let (code, r) = check_json(&["--root", &root_arg(&root)]);
    assert_eq!(code, Some(1));
    validate(&r);
    // Every key of the schema is documented.
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/docker.md"))
            .expect("docs/docker.md");
    for table in [TOP, AUDIT, NOTE, SUMMARY, CONTROL, IDS, CANDIDATE, SYMLINK, EVIDENCE, VERIFY] {
        for (k, _) in table {
            assert!(doc.contains(&format!("`{k}`")), "docs/docker.md does not document `{k}`");
        }
    }
    let _ = fs::remove_dir_all(root);
}

// ---- image trees --------------------------------------------------------------------------

#[test]
fn tree_without_docker_is_all_not_applicable() {
    let root = tempdir("empty");
    let (code, r) = check_json(&["--root", &root_arg(&root)]);
    assert_eq!(code, Some(0), "nothing applies, nothing fails");
    validate(&r);
    assert_eq!(r["target"], "image");
    assert_eq!(r["summary"]["not_applicable"], 16);
    for c in r["controls"].as_array().expect("controls") {
        assert_eq!(c["status"], "not-applicable");
        let reason = c["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("not found here")
                && reason.contains(c["benchmark_path"].as_str().unwrap_or("?")),
            "{reason}"
        );
        assert!(c["candidates"].as_array().is_some_and(|a| a.iter().all(|k| k["exists"] == false)));
    }
    // ensure has nothing to do and writes nothing.
    let (code, stdout, stderr) = run(&["docker", "ensure", "--root", &root_arg(&root)]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("nothing to change"), "{stdout}");
    assert!(!root.join("etc/audit/rules.d/docker.rules").exists());
    // text output
    let (code, text, _) = run(&["docker", "check", "--root", &root_arg(&root)]);
    assert_eq!(code, Some(0));
    assert!(text.contains("16 controls: 0 pass, 0 fail, 16 not applicable"), "{text}");
    let _ = fs::remove_dir_all(root);
}

/// rules.d is read in augenrules' order (`ls -v`) by `docker check` as by `merge`:
/// `audit.rules` comes before `audit-docker.rules`, so its `never` rule shadows the watch
/// there (the kernel stops at the first matching rule), and `10-x.rules` comes first of all.
#[test]
fn rules_d_order_is_ls_v_for_check_and_merge() {
    let root = debian_image();
    let dir = root.join("etc/audit/rules.d");
    fs::create_dir_all(&dir).expect("mkdir");
    let files = [
        ("audit.rules", "-a never,exit -F path=/usr/sbin/dockerd -F perm=wa -k audit\n"),
        ("audit-docker.rules", "-w /usr/sbin/dockerd -p rwxa -k docker\n"),
        (
            "10-x.rules",
            "-a never,exit -F path=/etc/docker -F perm=wa -k ten\n-w /etc/docker -k x\n",
        ),
    ];
    for (name, text) in files {
        fs::write(dir.join(name), text).expect("write");
    }
    let order = ["10-x.rules", "audit.rules", "audit-docker.rules"];
    // What augenrules would read: `ls -1v` (coreutils), when it is here.
    if let Ok(o) = std::process::Command::new("ls").arg("-1v").arg(&dir).output() {
        let listed = String::from_utf8_lossy(&o.stdout);
        let rules: Vec<&str> = listed.lines().filter(|n| n.ends_with(".rules")).collect();
        assert_eq!(rules, order, "ls -1v");
    }
    // merge: the files' rules in that order.
    let (code, merged, stderr) = run(&["merge", &root_arg(&dir)]);
    assert_eq!(code, Some(0), "{stderr}");
    let keys: Vec<&str> =
        merged.lines().filter_map(|l| l.rsplit_once("-k ").map(|(_, k)| k)).collect();
    assert_eq!(keys, ["ten", "x", "audit", "docker"], "{merged}");
    // docker check: the same order, so the never rule of audit.rules shadows the watch.
    let (code, r) = check_json(&["--root", &root_arg(&root)]);
    assert_eq!(code, Some(1), "the shadowed controls fail");
    let dockerd = control(&r, "1.1.3");
    assert_eq!(dockerd["status"], "fail", "{dockerd}");
    let watch = dockerd["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["rule"] == "-w /usr/sbin/dockerd -p rwxa -k docker"))
        .unwrap_or_else(|| panic!("no watch evidence: {dockerd}"));
    assert_eq!(watch["origin"], "/etc/audit/rules.d/audit-docker.rules:1");
    assert_eq!(watch["satisfies"], false);
    let notes = watch["notes"].to_string();
    // (`auditctl -l` prints that never rule as `-w /usr/sbin/dockerd -p wa -k audit`.)
    assert!(notes.contains("shadowed by the earlier `") && notes.contains("-k audit`"), "{notes}");
    let etc = control(&r, "1.1.6");
    assert_eq!(etc["status"], "fail", "10-x.rules' never rule comes first: {etc}");
    let _ = fs::remove_dir_all(root);
}

#[test]
fn image_paths_are_the_ones_really_installed() {
    let root = debian_image();
    let (_, r) = check_json(&["--root", &root_arg(&root)]);
    let dockerd = control(&r, "1.1.3");
    assert_eq!(dockerd["ids"]["datadog"], "1.2.3");
    assert_eq!(dockerd["benchmark_path"], "/usr/bin/dockerd");
    assert_eq!(dockerd["watch_path"], "/usr/sbin/dockerd");
    assert!(dockerd["path_source"]
        .as_str()
        .is_some_and(|s| s.starts_with("docker.service ExecStart")));
    assert_eq!(dockerd["status"], "fail");
    assert_eq!(dockerd["reason"], "no rule audits /usr/sbin/dockerd");
    // runc: CIS says /usr/bin/runc (a link here), Datadog /usr/sbin/runc (the file).
    let runc = control(&r, "1.1.18");
    assert_eq!(runc["ids"]["datadog"], "1.2.12");
    assert_eq!(runc["datadog_path"], "/usr/sbin/runc");
    assert_eq!(runc["watch_path"], "/usr/sbin/runc");
    assert!(
        runc["notes"].as_array().is_some_and(|n| n.iter().any(|n| n
            .as_str()
            .is_some_and(|s| s.contains("/usr/bin/runc") && s.contains("link itself")))),
        "{runc}"
    );
    assert_eq!(control(&r, "1.1.7")["watch_path"], "/usr/lib/systemd/system/docker.service");
    assert!(control(&r, "1.1.9")["notes"].to_string().contains("/run/docker.sock"));
    // /run is empty in an image: the runtime paths do not apply.
    for id in ["1.1.4", "1.1.8"] {
        assert_eq!(control(&r, id)["status"], "not-applicable", "{id}");
    }
    for id in ["1.1.11", "1.1.13"] {
        assert_eq!(control(&r, id)["status"], "not-applicable", "{id}");
    }
    assert_eq!(r["summary"]["fail"], 12);
    let notes = r["audit"]["notes"].to_string();
    assert!(notes.contains("no-auditd") && notes.contains("no-loader"), "{notes}");
    let _ = fs::remove_dir_all(root);
}

#[test]
fn image_ensure_fixes_on_disk_once() {
    let root = debian_image();
    let r = root_arg(&root);
    let file = root.join("etc/audit/rules.d/docker.rules");

    let (code, stdout, _) = run(&["docker", "ensure", "--root", &r, "--dry-run"]);
    assert_eq!(code, Some(1), "dry run: something would change");
    assert!(stdout.contains("would append"), "{stdout}");
    assert!(!file.exists(), "dry run wrote the file");

    let (code, stdout, stderr) = run(&["docker", "ensure", "--root", &r]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("check: 12 pass, 0 fail, 4 not applicable"), "{stdout}");
    let meta = fs::metadata(&file).expect("rules file");
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert_eq!(fs::metadata(root.join("etc/audit")).expect("dir").mode() & 0o777, 0o750);
    let text = fs::read_to_string(&file).expect("read");
    let rules: Vec<&str> = text.lines().filter(|l| l.starts_with('-')).collect();
    assert_eq!(
        rules,
        [
            "-w /usr/sbin/dockerd -p rwxa -k docker",
            "-w /var/lib/docker -p rwxa -k docker",
            "-w /etc/docker -p rwxa -k docker",
            "-w /usr/lib/systemd/system/docker.service -p rwxa -k docker",
            "-w /usr/lib/systemd/system/docker.socket -p rwxa -k docker",
            "-w /etc/default/docker -p rwxa -k docker",
            "-w /etc/containerd/config.toml -p rwxa -k docker",
            "-w /usr/bin/containerd -p rwxa -k docker",
            "-w /usr/bin/containerd-shim -p rwxa -k docker",
            "-w /usr/bin/containerd-shim-runc-v1 -p rwxa -k docker",
            "-w /usr/bin/containerd-shim-runc-v2 -p rwxa -k docker",
            "-w /usr/sbin/runc -p rwxa -k docker",
        ]
    );
    // Every line is auditctl syntax: comments, and rules auditctl's grammar accepts.
    let ctx = nlaudit_rules::Context::new(&nlaudit_rules::NoEnv);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let parsed = nlaudit_rules::parse_command(&nlaudit_rules::split_line(line), &ctx);
        assert!(parsed.is_ok(), "{line}: {parsed:?}");
    }

    let (code, r2) = check_json(&["--root", &r]);
    assert_eq!(code, Some(0), "{r2}");
    validate(&r2);
    let dockerd = control(&r2, "1.1.3");
    assert_eq!(dockerd["status"], "pass");
    assert_eq!(dockerd["evidence"][0]["rule"], "-w /usr/sbin/dockerd -p rwxa -k docker");
    assert_eq!(dockerd["evidence"][0]["origin"], "/etc/audit/rules.d/docker.rules:4");
    assert_eq!(dockerd["persisted"], "/etc/audit/rules.d/docker.rules:4");

    // A second ensure changes nothing: same bytes, same inode, no write.
    let before = (fs::read(&file).expect("read"), meta.ino(), meta.mtime_nsec());
    let (code, stdout, _) = run(&["docker", "ensure", "--root", &r]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("nothing to change"), "{stdout}");
    let m2 = fs::metadata(&file).expect("stat");
    assert_eq!(before, (fs::read(&file).expect("read"), m2.ino(), m2.mtime_nsec()));
    let (code, _, _) = run(&["docker", "ensure", "--root", &r, "--dry-run"]);
    assert_eq!(code, Some(0), "dry run: nothing would change");
    let _ = fs::remove_dir_all(root);
}

#[test]
fn persisting_keeps_lines_and_never_duplicates() {
    let root = debian_image();
    let r = root_arg(&root);
    let dir = root.join("etc/audit/rules.d");
    fs::create_dir_all(&dir).expect("mkdir");
    // Lines already there stay, byte for byte (no final newline either).
    let old =
        "## mine\n-w /usr/sbin/dockerd -p wa -k mine\n-a always,exit -F arch=b64 -S mount -k mnt";
    fs::write(dir.join("docker.rules"), old).expect("write");
    // A sibling file augenrules merges already audits /etc/docker and /usr/sbin/runc.
    fs::write(
        dir.join("10-site.rules"),
        "-w /etc/docker -k site\n-w /usr/sbin/runc -p rwxa -k docker\n",
    )
    .expect("write");
    let (code, stdout, stderr) = run(&["docker", "ensure", "--root", &r]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let text = fs::read_to_string(dir.join("docker.rules")).expect("read");
    assert!(text.starts_with(&format!("{old}\n")), "{text}");
    assert!(!text.contains("-w /usr/sbin/dockerd -p rwxa"), "satisfied by `-p wa`: {text}");
    assert!(!text.contains("-w /etc/docker "), "already in 10-site.rules: {text}");
    assert!(!text.contains("/usr/sbin/runc"), "already in 10-site.rules: {text}");
    // No rule twice across the directory.
    let mut seen = BTreeSet::new();
    for f in ["10-site.rules", "docker.rules"] {
        for l in fs::read_to_string(dir.join(f)).expect("read").lines() {
            if l.starts_with('-') {
                assert!(seen.insert(l.to_string()), "duplicate: {l}");
            }
        }
    }
    // The narrower rule passes, with a warning in the evidence.
    let (code, rep) = check_json(&["--root", &r]);
    assert_eq!(code, Some(0), "{rep}");
    let ev = &control(&rep, "1.1.3")["evidence"][0];
    assert_eq!(ev["rule"], "-w /usr/sbin/dockerd -p wa -k mine");
    assert_eq!(ev["satisfies"], true);
    assert!(ev["notes"][0]
        .as_str()
        .is_some_and(|n| n.contains("narrower than the benchmark's rwxa")));
    // Running again, and with the file named explicitly, changes nothing.
    for extra in [None, Some("/etc/audit/rules.d/docker.rules")] {
        let mut args = vec!["docker", "ensure", "--root", &r];
        if let Some(f) = extra {
            args.extend(["--rules-file", f]);
        }
        let before = fs::read(dir.join("docker.rules")).expect("read");
        let (code, stdout, _) = run(&args);
        assert_eq!(code, Some(0));
        assert!(stdout.contains("nothing to change"), "{stdout}");
        assert_eq!(before, fs::read(dir.join("docker.rules")).expect("read"));
    }
    let _ = fs::remove_dir_all(root);
}

#[test]
fn rules_file_is_replaced_atomically_and_links_are_refused() {
    let root = debian_image();
    let r = root_arg(&root);
    let dir = root.join("etc/audit/rules.d");
    fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("docker.rules");
    let old = "## old content that a reader must see whole or not at all\n".repeat(200);
    fs::write(&file, &old).expect("write");
    let ino = fs::metadata(&file).expect("stat").ino();

    // A reader sees either the old file or the new one, never a mix or a truncation.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (file, stop, old) = (file.clone(), stop.clone(), old.clone());
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let got = fs::read_to_string(&file).expect("the file never disappears");
                assert!(
                    got == old || (got.starts_with(&old) && got.ends_with("-k docker\n")),
                    "torn read: {} bytes",
                    got.len()
                );
                reads += 1;
            }
            reads
        })
    };
    let (code, stdout, stderr) = run(&["docker", "ensure", "--root", &r]);
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().expect("reader") > 0);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let m = fs::metadata(&file).expect("stat");
    assert_ne!(m.ino(), ino, "replaced by rename, not rewritten in place");
    assert_eq!(m.mode() & 0o777, 0o640);
    let leftovers: Vec<String> = fs::read_dir(&dir)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "docker.rules")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // A symlink or a directory as the target is refused, and left alone.
    let elsewhere = root.join("elsewhere.rules");
    fs::write(&elsewhere, "").expect("write");
    let link = dir.join("link.rules");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");
    let (code, _, stderr) =
        run(&["docker", "ensure", "--root", &r, "--rules-file", "/etc/audit/rules.d/link.rules"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(fs::read_to_string(&elsewhere).expect("read"), "");
    fs::create_dir_all(dir.join("adir.rules")).expect("mkdir");
    let (code, _, stderr) =
        run(&["docker", "ensure", "--root", &r, "--rules-file", "/etc/audit/rules.d/adir.rules"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let _ = fs::remove_dir_all(root);
}

#[test]
fn usage_errors_exit_2() {
    let root = tempdir("usage");
    let r = root_arg(&root);
    for args in [
        vec!["docker", "ensure", "--root", &r, "--enable"],
        vec!["docker", "ensure", "--root", &r, "--no-persist"],
        vec!["docker", "ensure", "--root", &r, "--rules-file", "relative.rules"],
        vec!["docker", "check", "--root", "/nonexistent/nlaudit-root"],
        vec!["docker", "check", "--verify", "--root", &r],
    ] {
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
    }
    let _ = fs::remove_dir_all(root);
}

// ---- the live kernel (root) ---------------------------------------------------------------

#[test]
fn without_privilege_check_exits_2_and_says_why() {
    let has_setpriv = std::process::Command::new("sh")
        .args(["-c", "command -v setpriv"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !kernel_available("docker unprivileged") || !has_setpriv {
        return;
    }
    let bin = support::nlaudit_bin();
    let o = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["docker", "check", "--json"])
        .output()
        .expect("setpriv");
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("CAP_AUDIT_CONTROL"), "{}", err(&o));
    // No partial report: the error object of docs/json.md alone.
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON object on stdout");
    assert_eq!(v["command"], "docker check", "{v}");
    assert_eq!(v["exit_code"], 2, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("CAP_AUDIT_CONTROL")), "{v}");
    assert!(v.get("controls").is_none(), "{v}");
}

/// Removes every rule whose key contains "docker" (the guard puts them back).
fn clear_docker_rules() {
    let o = nlaudit(&["delete", "--all", "--key", "docker"]);
    assert!(o.status.success(), "{}", err(&o));
}

fn set_enabled(on: bool) {
    let mut c = nlaudit_proto::Client::open().expect("open");
    let on = if on { nlaudit_proto::Switch::On } else { nlaudit_proto::Switch::Off };
    c.set(nlaudit_proto::Setting::Enabled(on)).expect("set enabled");
}

fn listing() -> String {
    out(&nlaudit(&["list"]))
}

#[test]
fn live_check_then_ensure_then_check_passes() {
    if !kernel_available("docker live") {
        return;
    }
    let _g = KernelGuard::new();
    clear_docker_rules();
    set_enabled(false);
    let tmp = tempdir("live");
    let rules_file = tmp.join("docker.rules");
    let rf = rules_file.display().to_string();

    let (code, r) = check_json(&[]);
    validate(&r);
    assert_eq!(r["target"], "kernel");
    assert_eq!(r["audit"]["enabled"], 0);
    assert_eq!(r["audit"]["recording"], false);
    assert!(r["audit"]["notes"].to_string().contains("audit-disabled"));
    let dockerd = control(&r, "1.1.3").clone();
    if dockerd["status"] == "not-applicable" {
        eprintln!(
            "skipping the rest of live_check: dockerd is not installed (apt-get install docker.io)"
        );
        return;
    }
    assert_eq!(code, Some(1));
    let real = dockerd["watch_path"].as_str().expect("watch path").to_string();
    if Path::new("/usr/sbin/dockerd").exists() && !Path::new("/usr/bin/dockerd").exists() {
        // Debian's docker.io: the benchmark's path does not exist, the real one is used.
        assert_eq!(real, "/usr/sbin/dockerd");
        assert_eq!(dockerd["benchmark_path"], "/usr/bin/dockerd");
    }
    assert_eq!(dockerd["reason"], format!("no rule audits {real}"));
    assert_eq!(dockerd["evidence"], serde_json::json!([]));
    let want_line = format!("-w {real} -p rwxa -k docker");

    // Without --enable: rules go in, but audit stays off, so the controls still fail.
    let (code, stdout, stderr) = run(&["docker", "ensure", "--rules-file", &rf]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("rerun with --enable"), "{stdout}");
    assert!(listing().lines().any(|l| l == want_line), "{}", listing());
    let (_, r) = check_json(&[]);
    let d = control(&r, "1.1.3");
    assert_eq!((d["status"].as_str(), d["rule_found"].as_bool()), (Some("fail"), Some(true)));
    assert!(d["reason"].as_str().is_some_and(|s| s.contains("audit is disabled")), "{d}");

    // With --enable: everything applicable passes.
    let (code, stdout, stderr) = run(&["docker", "ensure", "--rules-file", &rf, "--enable"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("enable "), "{stdout}");
    let (code, r) = check_json(&[]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["summary"]["fail"], 0);
    let d = control(&r, "1.1.3");
    assert_eq!(d["evidence"][0]["rule"], want_line.as_str());
    assert_eq!(d["evidence"][0]["origin"], "kernel");

    // The benchmark's own audit step now finds the watch on the real dockerd.
    if let Some(l) = auditctl(&["-l"]) {
        let grep: Vec<String> =
            out(&l).lines().filter(|x| x.contains("dockerd")).map(str::to_string).collect();
        assert_eq!(grep, std::slice::from_ref(&want_line));
        // auditctl deletes it by its own text: the bytes nlaudit sent are auditctl's.
        let del = auditctl(&["-W", &real, "-p", "rwxa", "-k", "docker"]).expect("auditctl -W");
        assert!(del.status.success(), "{}", err(&del));
        let (_, r) = check_json(&[]);
        assert_eq!(control(&r, "1.1.3")["status"], "fail");
        let (code, _, _) = run(&["docker", "ensure", "--rules-file", &rf]);
        assert_eq!(code, Some(0));
    }

    // A second ensure changes nothing, in the kernel or on disk.
    let (before_rules, before_file) = (listing(), fs::read(&rules_file).expect("persisted"));
    let (code, stdout, _) = run(&["docker", "ensure", "--rules-file", &rf, "--enable"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("nothing to change"), "{stdout}");
    assert_eq!(before_rules, listing());
    assert_eq!(before_file, fs::read(&rules_file).expect("persisted"));
    let text = String::from_utf8_lossy(&before_file).into_owned();
    assert!(text.lines().any(|l| l == want_line), "{text}");
    // What is persisted loads with the real auditctl, as augenrules would at boot.
    if support::auditctl_path().is_some() {
        clear_docker_rules();
        let load = auditctl(&["-R", &rf]).expect("auditctl -R");
        assert!(load.status.success(), "auditctl -R {rf}: {}", err(&load));
        let (_, r) = check_json(&[]);
        for c in r["controls"].as_array().expect("controls") {
            let want = match (c["status"].as_str(), c["volatile"].is_null()) {
                (Some("not-applicable"), _) => "not-applicable",
                (_, true) => "pass",
                (_, false) => "fail",
            };
            assert_eq!(c["status"], want, "{}", c["id"]);
        }
        let (code, stdout, _) = run(&["docker", "ensure", "--no-persist"]);
        assert_eq!(code, Some(0), "{stdout}");
    }
    // Runtime paths under /run/<dir>/ are live only (they would break the boot-time load).
    for c in r["controls"].as_array().expect("controls") {
        if let (Some(p), false) = (c["watch_path"].as_str(), c["volatile"].is_null()) {
            assert!(!text.contains(&format!("-w {p} ")), "{p} persisted");
        }
    }
    let _ = fs::remove_dir_all(tmp);
}

#[test]
fn live_evidence_explains_near_misses() {
    if !kernel_available("docker evidence") {
        return;
    }
    let _g = KernelGuard::new();
    clear_docker_rules();
    set_enabled(true);
    let (_, r) = check_json(&[]);
    let key = support::unique_key("near");
    let add = |args: &[&str]| {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        all.extend(["-k", &key]);
        let o = nlaudit(&all);
        assert!(o.status.success(), "{all:?}: {}", err(&o));
    };
    let mut checks: Vec<(&str, &str, bool, &str)> = Vec::new();
    if let Some(run_c) = control(&r, "1.1.4")["watch_path"].as_str() {
        // The containerd.sock watch that makes `auditctl -l | grep /run/containerd` pass.
        add(&["-w", &format!("{run_c}/containerd.sock")]);
        checks.push(("1.1.4", "inside", false, "would wrongly match"));
    }
    if let Some(d) = control(&r, "1.1.3")["watch_path"].as_str() {
        add(&["-a", "never,exit", "-F", &format!("path={d}"), "-F", "perm=rwxa"]);
        checks.push(("1.1.3", "exact", false, "`never`"));
    }
    if let Some(d) = control(&r, "1.1.6")["watch_path"].as_str() {
        add(&["-w", d, "-p", "wa"]);
        checks.push(("1.1.6", "exact", true, "narrower"));
    }
    if let Some(d) = control(&r, "1.1.14")["watch_path"].as_str() {
        add(&["-w", d, "-p", "rx"]);
        checks.push(("1.1.14", "exact", false, "lacks wa"));
    }
    let (_, r) = check_json(&[]);
    validate(&r);
    for (id, relation, satisfies, note) in checks {
        let c = control(&r, id);
        let e = &c["evidence"][0];
        assert_eq!(e["relation"], relation, "{id}: {c}");
        assert_eq!(e["satisfies"], satisfies, "{id}: {c}");
        assert!(e["notes"].to_string().contains(note), "{id}: {e}");
        assert_eq!(c["status"], if satisfies { "pass" } else { "fail" }, "{id}");
    }
    // The text table shows the same.
    let (_, text, _) = run(&["docker", "check"]);
    assert!(text.contains("does not qualify"), "{text}");
}

#[test]
fn live_finds_a_running_daemon_by_proc_exe() {
    if !kernel_available("docker proc exe") {
        return;
    }
    // Serialized with the other live tests (they would see this process too).
    let _g = KernelGuard::new();
    let tmp = tempdir("exe");
    let fake = tmp.join("containerd-shim-runc-v1");
    fs::copy("/bin/sleep", &fake).expect("copy sleep");
    let mut child = std::process::Command::new(&fake).arg("60").spawn().expect("spawn");
    let (_, r) = check_json(&[]);
    let _ = child.kill();
    let _ = child.wait();
    let c = control(&r, "1.1.16");
    assert_eq!(c["path"], fake.display().to_string(), "{c}");
    assert_eq!(c["path_source"], format!("process {} /proc/{}/exe", child.id(), child.id()));
    assert_eq!(c["watch_path"], fake.display().to_string());
    let _ = fs::remove_dir_all(tmp);
}

// ---- check --verify (root) ----------------------------------------------------------------

/// The dockerd Debian's docker.io installs (CI installs it).
const DOCKERD: &str = "/usr/sbin/dockerd";

/// Whether the verify tests can run: root, and dockerd installed (required in CI).
fn verify_available(test: &str) -> bool {
    if !kernel_available(test) {
        return false;
    }
    if Path::new(DOCKERD).exists() {
        return true;
    }
    assert!(!support::in_ci(), "{test}: {DOCKERD} is missing; CI installs docker.io");
    eprintln!("skipping {test}: {DOCKERD} is missing (apt-get install docker.io)");
    false
}

/// `nlaudit set --enabled N`, as a person would.
fn nlaudit_set_enabled(n: &str) {
    let o = nlaudit(&["set", "--enabled", n]);
    assert!(o.status.success(), "set --enabled {n}: {}", err(&o));
}

/// Deletes every rule in force on the dockerd file (the guard puts them back), and returns
/// the path the check watches for the daemon.
fn clear_dockerd_rules() -> String {
    clear_docker_rules();
    let (_, r) = check_json(&[]);
    let c = control(&r, "1.1.3");
    for e in c["evidence"].as_array().into_iter().flatten() {
        if e["origin"] == "kernel" && e["relation"] == "exact" {
            let rule = e["rule"].as_str().unwrap_or_default();
            let mut args = vec!["delete"];
            args.extend(rule.split_whitespace());
            let o = nlaudit(&args);
            assert!(o.status.success(), "{rule}: {}", err(&o));
        }
    }
    c["watch_path"].as_str().expect("dockerd applies").to_string()
}

/// `docker check --verify --json`: exit code, report (validated), the dockerd control's
/// `verify` object.
fn verify_json(extra: &[&str]) -> (Option<i32>, Value, Value) {
    let mut args = vec!["--verify"];
    args.extend_from_slice(extra);
    let (code, r) = check_json(&args);
    validate(&r);
    let v = control(&r, "1.1.3")["verify"].clone();
    assert!(v.is_object(), "{r}");
    (code, r, v)
}

#[test]
fn live_verify_reads_back_the_dockerd_execve() {
    if !verify_available("docker verify") {
        return;
    }
    let _g = KernelGuard::new();
    let dockerd = clear_dockerd_rules();
    let key = support::unique_key("verify");
    let before = fs::metadata(&dockerd).expect("stat dockerd");

    // No rule on dockerd: nothing to prove, skipped (not an error, not a failure).
    nlaudit_set_enabled("1");
    let (code, _, v) = verify_json(&[]);
    assert_eq!(code, Some(1), "the dockerd control fails");
    assert_eq!(v["status"], "skipped", "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(&format!("no rule in force audits {dockerd}")), "{reason}");
    assert_eq!((&v["key"], &v["path"]), (&Value::Null, &Value::from(dockerd.as_str())));

    // The watch and audit on: the probe's execve comes back with the watch's key.
    let add = nlaudit(&["add", "-w", &dockerd, "-p", "rwxa", "-k", &key]);
    assert!(add.status.success(), "{}", err(&add));
    let (_, r, v) = verify_json(&[]);
    assert_eq!(control(&r, "1.1.3")["status"], "pass");
    assert_eq!(v["status"], "verified", "{v}");
    assert_eq!(v["syscall"], "execve");
    assert_eq!(v["path"], dockerd.as_str());
    assert_eq!(v["key"], key.as_str());
    assert!(v["serial"].as_u64().is_some_and(|s| s > 0), "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(&format!("execve of {dockerd}")), "{reason}");
    assert!(reason.contains(&format!("`{dockerd} --version`")), "{reason}");
    // The text table says the same under the control.
    let (_, text, _) = run(&["docker", "check", "--verify"]);
    let line = text.lines().find(|l| l.trim_start().starts_with("verified: event ")).unwrap_or("");
    assert!(line.ends_with(&format!(" execve {dockerd} key={key}")), "{text}");
    assert!(text.contains("verify 1.1.3/1.2.3: verified"), "{text}");

    // Audit disabled: the rule is there, but nothing would be recorded.
    nlaudit_set_enabled("0");
    let (code, r, v) = verify_json(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(control(&r, "1.1.3")["rule_found"], true);
    assert_eq!(v["status"], "skipped", "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("audit is disabled") && reason.contains("nlaudit set --enabled 1"),
        "{reason}"
    );
    assert_eq!(v["key"], key.as_str());
    let (_, text, _) = run(&["docker", "check", "--verify"]);
    assert!(text.contains("verify skipped: audit is disabled"), "{text}");

    // Executing it is harmless: content, mtime and ctime are untouched.
    let after = fs::metadata(&dockerd).expect("stat dockerd");
    assert_eq!(
        (after.mtime(), after.mtime_nsec(), after.ctime(), after.ctime_nsec(), after.len()),
        (before.mtime(), before.mtime_nsec(), before.ctime(), before.ctime_nsec(), before.len())
    );
}

/// With every applicable control audited (by `ensure`) and audit on, --verify proves each
/// one: the binaries by executing them (execve), every other file, directory and socket by
/// opening it for reading (openat), each event read back with the key `docker`.
#[test]
fn live_verify_proves_every_applicable_control() {
    if !verify_available("docker verify all") {
        return;
    }
    let _g = KernelGuard::new();
    clear_docker_rules();
    let (code, stdout, stderr) = run(&["docker", "ensure", "--no-persist", "--enable"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, r) = check_json(&["--verify"]);
    validate(&r);
    assert_eq!(code, Some(0), "{r}");
    let binaries = ["1.1.3", "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18"];
    let mut verified = 0;
    for c in r["controls"].as_array().expect("controls") {
        let (id, v) = (c["id"].as_str().unwrap_or("?"), &c["verify"]);
        if c["status"] == "not-applicable" {
            continue;
        }
        assert_eq!(v["status"], "verified", "{id}: {v}");
        assert_eq!(v["key"], "docker", "{id}: {v}");
        let want = if binaries.contains(&id) { "execve" } else { "openat" };
        assert_eq!(v["syscall"], want, "{id}: {v}");
        let reason = v["reason"].as_str().unwrap_or_default();
        let path = c["watch_path"].as_str().unwrap_or_default();
        assert!(reason.contains(&format!("{want} of {path} by the probe")), "{id}: {reason}");
        verified += 1;
    }
    // Debian's docker.io, running or not: at least the daemon (executed) and its unit file
    // (opened) apply.
    assert!(verified >= 2, "only {verified} controls verified: {r}");
    assert_eq!(control(&r, "1.1.7")["verify"]["syscall"], "openat", "{r}");
    let (_, text, _) = run(&["docker", "check", "--verify"]);
    assert_eq!(text.matches("\n    verified: event ").count(), verified, "{text}");
    assert!(text.contains("verify 1.1.7/1.2.6: verified"), "{text}");
}

#[test]
fn live_verify_failure_exits_1() {
    if !verify_available("docker verify failure") {
        return;
    }
    let _g = KernelGuard::new();
    let dockerd = clear_dockerd_rules();
    let key = support::unique_key("narrow");
    // A rule that satisfies the control (with a warning) but that the probe, run as root,
    // never meets: the proof must fail, and only the proof.
    let add = nlaudit(&[
        "add",
        "-a",
        "always,exit",
        "-F",
        &format!("path={dockerd}"),
        "-F",
        "perm=rwxa",
        "-F",
        "uid=4242",
        "-k",
        &key,
    ]);
    assert!(add.status.success(), "{}", err(&add));
    nlaudit_set_enabled("1");
    let (code, stdout, stderr) = run(&["docker", "ensure", "--no-persist"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, r) = check_json(&[]);
    assert_eq!(code, Some(0), "every control passes: {r}");
    assert!(control(&r, "1.1.3")["verify"].is_null());

    let (code, r, v) = verify_json(&[]);
    assert_eq!(code, Some(1), "a failed proof fails the check: {v}");
    assert_eq!(r["summary"]["fail"], 0);
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["key"], key.as_str());
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("no audit event for") && reason.contains("narrow"), "{reason}");
    let (code, text, _) = run(&["docker", "check", "--verify"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("NOT verified: no audit event"), "{text}");
    assert!(text.contains("verify 1.1.3/1.2.3: FAILED"), "{text}");
}

#[test]
fn live_verify_skips_without_audit_read_or_outside_the_initial_netns() {
    if !verify_available("docker verify skips") {
        return;
    }
    let _g = KernelGuard::new();
    let dockerd = clear_dockerd_rules();
    let key = support::unique_key("skips");
    let add = nlaudit(&["add", "-w", &dockerd, "-p", "rwxa", "-k", &key]);
    assert!(add.status.success(), "{}", err(&add));
    nlaudit_set_enabled("1");
    let bin = support::nlaudit_bin().display().to_string();
    for (wrapper, want) in [
        (["setpriv", "--bounding-set", "-audit_read"], "lacks CAP_AUDIT_READ"),
        (["unshare", "-n", "--"], "not in the initial network namespace"),
    ] {
        let o = std::process::Command::new(wrapper[0])
            .args(&wrapper[1..])
            .args([bin.as_str(), "docker", "check", "--verify", "--json"])
            .output();
        let Some(o) = o.ok().filter(|o| !o.stdout.is_empty()) else {
            assert!(!support::in_ci(), "{wrapper:?} did not run");
            eprintln!("skipping the {wrapper:?} case: it cannot run here");
            continue;
        };
        let r: Value = serde_json::from_slice(&o.stdout).expect("JSON");
        validate(&r);
        let v = &control(&r, "1.1.3")["verify"];
        assert_eq!(v["status"], "skipped", "{wrapper:?}: {v}");
        assert!(v["reason"].as_str().is_some_and(|s| s.contains(want)), "{wrapper:?}: {v}");
        assert_eq!(v["key"], key.as_str());
        assert_eq!(o.status.code(), Some(1), "other controls fail; a skip is not an error");
    }
}

/// `docker check` recognises a registered `nlaudit daemon` and says where the records go
/// (issue 15 point 5); with no daemon it warns that none is registered.
#[test]
fn live_check_names_a_registered_nlaudit_daemon_and_its_log() {
    if !kernel_available("live_check_names_a_registered_nlaudit_daemon_and_its_log") {
        return;
    }
    let _g = KernelGuard::new();
    let notes = || -> Vec<(String, String)> {
        let o = nlaudit(&["docker", "check", "--json"]);
        let v: Value =
            serde_json::from_str(&out(&o)).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
        v["audit"]["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                (
                    n["code"].as_str().unwrap_or("").to_string(),
                    n["text"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert!(notes().iter().any(|(c, _)| c == "no-auditd"));
    let dir = std::env::temp_dir().join(format!("nlaudit-docker-daemon-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    let log = dir.join("audit.log");
    let mut child = std::process::Command::new(support::nlaudit_bin())
        .args(["daemon", "--log-format", "raw", "--log-file"])
        .arg(&log)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the daemon");
    let pid = child.id();
    let start = std::time::Instant::now();
    let registered = loop {
        let now = nlaudit_proto::Client::open().and_then(|mut c| c.status()).map(|s| s.pid);
        if now.as_ref().is_ok_and(|p| *p == pid) {
            break true;
        }
        if start.elapsed() > std::time::Duration::from_secs(10) {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let seen = if registered { notes() } else { Vec::new() };
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    let _ = fs::remove_dir_all(&dir);
    assert!(registered, "the daemon did not register");
    let note = seen.iter().find(|(c, _)| c == "nlaudit-daemon");
    let (_, text) = note.unwrap_or_else(|| panic!("no nlaudit-daemon note: {seen:?}"));
    assert!(text.contains(&format!("pid {pid} (nlaudit daemon)")), "{text}");
    assert!(text.contains(&log.display().to_string()), "{text}");
    assert!(!seen.iter().any(|(c, _)| c == "no-auditd"), "{seen:?}");
    let after = nlaudit_proto::Client::open().and_then(|mut c| c.status()).map(|s| s.pid);
    assert_eq!(after.ok(), Some(0), "the daemon unregistered");
}
