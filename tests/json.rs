//! `--json` on every command that reports: each output (a report, or the error object of a
//! failed run) validates against its schema in docs/schemas, checked here on the real
//! output of the binary; a failed run prints one error object with the exit code it has
//! without --json. docs/json.md lists every command and its schema (checked too).
//!
//! The kernel tests take the kernel test lock and restore what they found (KernelGuard).

mod support;

use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use support::schema::Schemas;
use support::{err, kernel_available, nlaudit, out, unique_key, KernelGuard};

/// A fresh temporary directory.
fn tempdir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "nlaudit-json-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("mkdir");
    d
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

/// The one JSON object on stdout.
fn object(o: &Output) -> Value {
    serde_json::from_str(&out(o))
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}\n{}", out(o), err(o)))
}

/// Runs `args` (which hold --json), validates stdout against `schema` and returns the exit
/// code and the object.
fn run_json(schemas: &Schemas, schema: &str, args: &[&str]) -> (Option<i32>, Value) {
    let o = nlaudit(args);
    let v = object(&o);
    schemas.assert_valid(schema, &v);
    (code(&o), v)
}

/// A failed run: the same exit code with and without --json (`json_at` is where --json
/// goes in `args`), one error object (or the command's report with its `error`) on stdout.
fn failed_run(schemas: &Schemas, schema: &str, args: &[&str], json_at: usize) -> Value {
    let plain = nlaudit(args);
    let mut with: Vec<&str> = args.to_vec();
    with.insert(json_at, "--json");
    let (c, v) = run_json(schemas, schema, &with);
    assert_eq!(c, code(&plain), "{with:?}: exit code differs from without --json: {v:#}");
    assert_ne!(c, Some(0), "{with:?} succeeded: {v:#}");
    let message = v["error"].as_str().unwrap_or_else(|| panic!("{with:?}: no error in {v:#}"));
    assert!(err(&plain).contains(message.lines().next().unwrap_or("?")), "{}", err(&plain));
    if v.get("command").is_some() {
        assert_eq!(v["exit_code"].as_i64().map(|n| n as i32), c, "{v:#}");
    }
    v
}

// ---- the schemas themselves ------------------------------------------------------------

/// Every schema is draft 2020-12, names its file as `$id`, is listed in docs/json.md, and
/// every command's schema admits the error object.
#[test]
fn schemas_are_complete_and_documented() {
    let schemas = Schemas::of_repo();
    let doc = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/json.md"))
        .expect("docs/json.md");
    let names: Vec<&str> = schemas.names().collect();
    assert!(names.len() >= 13, "{names:?}");
    for name in names {
        let s = schemas.file(name);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
        assert_eq!(s["$id"], name, "{name}");
        assert!(doc.contains(&format!("schemas/{name}")), "docs/json.md does not list {name}");
        if name != "error.schema.json" {
            let error = serde_json::json!({"schema": 1, "command": "status", "error": "x",
                "exit_code": 2, "location": null, "in_force": null});
            schemas.assert_valid(name, &error);
        }
    }
}

/// The validator rejects what the schemas forbid (so that "valid" means something).
#[test]
fn the_validator_refuses_what_the_schemas_forbid() {
    let schemas = Schemas::of_repo();
    let good = serde_json::json!({"schema": 1, "rule": "-w /etc/passwd -p wa", "warnings": []});
    schemas.assert_valid("add.schema.json", &good);
    for bad in [
        serde_json::json!({"schema": 1, "rule": "-w /x", "warnings": [], "extra": 1}),
        serde_json::json!({"schema": 1, "warnings": []}),
        serde_json::json!({"schema": 2, "rule": "-w /x", "warnings": []}),
        serde_json::json!({"schema": 1, "rule": 5, "warnings": []}),
        serde_json::json!({"schema": 1, "rule": "-w /x", "warnings": [1]}),
        serde_json::json!({"schema": 1, "command": "nosuch", "error": "x", "exit_code": 2,
            "location": null, "in_force": null}),
        serde_json::json!([]),
    ] {
        assert!(!schemas.errors("add.schema.json", &bad).is_empty(), "{bad} passed");
    }
}

// ---- without the kernel ----------------------------------------------------------------

#[test]
fn merge_reports_the_files_and_the_text() {
    let schemas = Schemas::of_repo();
    let dir = tempdir("merge");
    fs::write(dir.join("10-a.rules"), "-w /etc/passwd -p wa -k a\n").expect("write");
    fs::write(dir.join("20-b.rules"), "-w /etc/shadow -p wa -k b\n").expect("write");
    let d = dir.to_str().expect("utf-8");
    let (c, v) = run_json(&schemas, "merge.schema.json", &["merge", "--json", d]);
    assert_eq!(c, Some(0));
    assert_eq!(v["files"].as_array().map(Vec::len), Some(2), "{v:#}");
    let plain = nlaudit(&["merge", d]);
    assert_eq!(v["text"].as_str(), Some(out(&plain).as_str()));
    let missing = dir.join("none");
    let v = failed_run(&schemas, "merge.schema.json", &["merge", missing.to_str().expect("p")], 1);
    assert_eq!(v["command"], "merge");
}

/// Bad rule text in a file: exit 2 with the FILE:LINE, nothing changed (the check comes
/// before the kernel is asked to change anything; without root the status read fails
/// first, exit 5, and that too is one error object).
#[test]
fn bad_rule_files_are_one_error_object_with_the_location() {
    let schemas = Schemas::of_repo();
    let dir = tempdir("bad");
    let f = dir.join("bad.rules");
    fs::write(&f, "-w /etc/passwd -p wa -k ok\n-a always,exit -F uidd=0\n").expect("write");
    let f = f.to_str().expect("utf-8");
    for (schema, args) in
        [("load.schema.json", vec!["load", f]), ("apply.schema.json", vec!["apply", f])]
    {
        let v = failed_run(&schemas, schema, &args, 1);
        if v["exit_code"] == 2 {
            assert_eq!(v["location"].as_str(), Some(format!("{f}:2").as_str()), "{v:#}");
            assert!(v["error"].as_str().is_some_and(|e| e.contains("uidd")), "{v:#}");
        }
    }
    let v =
        failed_run(&schemas, "add.schema.json", &["add", "-a", "always,exit", "-S", "opnat"], 1);
    assert_eq!(v["command"], "add");
    let v = failed_run(&schemas, "delete.schema.json", &["delete"], 1);
    assert_eq!(v["exit_code"], 2, "{v:#}");
    // A flag clap refuses: exit 2 and one error object too.
    let v = failed_run(&schemas, "list.schema.json", &["list", "--bogus"], 1);
    assert!(v["error"].as_str().is_some_and(|e| e.contains("--bogus")), "{v:#}");
    let v = failed_run(&schemas, "ensure.schema.json", &["docker", "ensure", "--bogus"], 2);
    assert_eq!(v["command"], "docker ensure");
}

/// Image trees (`--root`): docker check/ensure and the profiles, no kernel.
#[test]
fn image_trees_report_in_json() {
    let schemas = Schemas::of_repo();
    let root = tempdir("image");
    let r = root.to_str().expect("utf-8");
    let (_, v) =
        run_json(&schemas, "docker-check.schema.json", &["docker", "check", "--json", "--root", r]);
    assert_eq!(v["target"], "image");
    let (c, v) = run_json(
        &schemas,
        "ensure.schema.json",
        &["docker", "ensure", "--json", "--dry-run", "--root", r],
    );
    assert_eq!(v["exit_code"].as_i64().map(|n| n as i32), c, "{v:#}");
    let (c, v) =
        run_json(&schemas, "ensure.schema.json", &["docker", "ensure", "--json", "--root", r]);
    assert_eq!(c, Some(0), "{v:#}");
    assert_eq!(v["check"][0]["profile"], "cis-docker");
    let (_, v) = run_json(
        &schemas,
        "check.schema.json",
        &["check", "--profile", "cis-linux", "--json", "--root", r],
    );
    assert_eq!(v["profiles"][0]["name"], "cis-linux");
    let (c, v) = run_json(&schemas, "check.schema.json", &["check", "--list-profiles", "--json"]);
    assert_eq!(c, Some(0));
    assert!(v["profiles"].as_array().is_some_and(|p| p.len() >= 3), "{v:#}");
    let (c, v) = run_json(
        &schemas,
        "ensure.schema.json",
        &["ensure", "--profile", "cis-linux", "--json", "--dry-run", "--root", r],
    );
    assert_eq!(c, Some(1), "something to persist in an empty tree: {v:#}");
    assert!(v["files"][0]["append"].as_array().is_some_and(|a| !a.is_empty()), "{v:#}");
    assert!(v["kernel"].is_null());
    // A bad profile: exit 2, one error object.
    let v = failed_run(
        &schemas,
        "check.schema.json",
        &["check", "--profile", "nosuch", "--root", r],
        1,
    );
    assert_eq!(v["command"], "check");
    let missing = root.join("none");
    let m = missing.to_str().expect("utf-8");
    let v = failed_run(&schemas, "ensure.schema.json", &["docker", "ensure", "--root", m], 2);
    assert_eq!(v["exit_code"], 2);
}

// ---- with the kernel -------------------------------------------------------------------

/// status, set, list, add, delete (one rule, --all), their refusals (exit 3, 4), events'
/// timeout: real output, each against its schema.
#[test]
fn kernel_commands_report_in_json() {
    if !kernel_available("kernel_commands_report_in_json") {
        return;
    }
    let _guard = KernelGuard::new();
    let schemas = Schemas::of_repo();
    let (c, s) = run_json(&schemas, "status.schema.json", &["status", "--json"]);
    assert_eq!(c, Some(0));
    let backlog = s["backlog_limit"].as_u64().expect("backlog_limit").to_string();
    let (c, v) = run_json(
        &schemas,
        "set.schema.json",
        &["set", "--json", "--backlog-limit", &backlog, "--reset-lost"],
    );
    assert_eq!(c, Some(0));
    assert_eq!(v["changed"], serde_json::json!([format!("-b {backlog}")]));
    assert!(v["lost_before_reset"].is_u64(), "{v:#}");

    let key = unique_key("json");
    let rule = ["-w", "/etc/passwd", "-p", "wa", "-k", key.as_str()];
    let add: Vec<&str> = ["add", "--json"].iter().copied().chain(rule).collect();
    let (c, v) = run_json(&schemas, "add.schema.json", &add);
    assert_eq!(c, Some(0), "{v:#}");
    assert_eq!(v["rule"], format!("-w /etc/passwd -p wa -k {key}"));
    let plain_add: Vec<&str> = ["add"].iter().copied().chain(rule).collect();
    let v = failed_run(&schemas, "add.schema.json", &plain_add, 1);
    assert_eq!(v["exit_code"], 3, "{v:#}");

    let (c, v) = run_json(&schemas, "list.schema.json", &["list", "--json", "--key", &key]);
    assert_eq!(c, Some(0));
    assert_eq!(v["rules"][0]["text"], format!("-w /etc/passwd -p wa -k {key}"), "{v:#}");

    let del: Vec<&str> = ["delete", "--json"].iter().copied().chain(rule).collect();
    let (c, v) = run_json(&schemas, "delete.schema.json", &del);
    assert_eq!(c, Some(0), "{v:#}");
    let plain_del: Vec<&str> = ["delete"].iter().copied().chain(rule).collect();
    let v = failed_run(&schemas, "delete.schema.json", &plain_del, 1);
    assert_eq!(v["exit_code"], 4, "{v:#}");

    assert!(nlaudit(&plain_add).status.success());
    let (c, v) =
        run_json(&schemas, "delete.schema.json", &["delete", "--all", "--key", &key, "--json"]);
    assert_eq!(c, Some(0));
    assert_eq!((v["deleted"].as_u64(), v["failed"].as_u64()), (Some(1), Some(0)), "{v:#}");

    // events: --count not reached before --timeout is exit 1 and ends the stream with the
    // error object (audit may be off: then no event comes either).
    let none = unique_key("none");
    let o = nlaudit(&["events", "--json", "--key", &none, "--count", "1", "--timeout", "0.2"]);
    assert_eq!(code(&o), Some(1), "{}", err(&o));
    let lines: Vec<Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for l in &lines {
        schemas.assert_valid("events.schema.json", l);
    }
    assert_eq!(lines.last().map(|l| l["command"].clone()), Some("events".into()), "{lines:?}");
}

/// load and apply: a run, a stop at a refused line (exit 3, its FILE:LINE and the rules in
/// force), a -c run that fails at the end (exit 1), a dry run.
#[test]
fn load_and_apply_report_in_json() {
    if !kernel_available("load_and_apply_report_in_json") {
        return;
    }
    let _guard = KernelGuard::new();
    let schemas = Schemas::of_repo();
    let dir = tempdir("load");
    let key = unique_key("load");
    let good = dir.join("good.rules");
    fs::write(
        &good,
        format!(
            "-w /etc/passwd -p wa -k {key}\n-a always,exit -F arch=b64 -S openat -F exit=-EACCES \
             -k {key}\n-l\n"
        ),
    )
    .expect("write");
    let dup = dir.join("dup.rules");
    fs::write(&dup, format!("-w /etc/group -p wa -k {key}\n-w /etc/group -p wa -k {key}\n"))
        .expect("write");
    let (good, dup) = (good.to_str().expect("p"), dup.to_str().expect("p"));

    let (c, v) = run_json(&schemas, "load.schema.json", &["load", "--json", good]);
    assert_eq!(c, Some(0), "{v:#}");
    assert_eq!(v["added"], 2);
    assert!(v["output"].as_str().is_some_and(|o| o.contains(&key)), "{v:#}");

    // The second line of dup.rules is refused (the first added it): exit 3 with and
    // without --json; the rules in force are named.
    let (c, v) = run_json(&schemas, "load.schema.json", &["load", "--json", dup]);
    assert_eq!(c, Some(3), "{v:#}");
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["location"].as_str(), Some(format!("{dup}:2").as_str()), "{v:#}");
    let in_force = v["in_force"].as_array().expect("in_force");
    assert!(in_force.iter().any(|r| r == &format!("-w /etc/group -p wa -k {key}")), "{v:#}");
    assert_eq!(code(&nlaudit(&["load", dup])), Some(3));

    let (c, v) = run_json(&schemas, "load.schema.json", &["load", "--json", "-c", dup]);
    assert_eq!(c, Some(1), "{v:#}");
    assert_eq!(v["failed_lines"], 2, "{v:#}");
    assert!(v["error"].is_string());
    assert!(nlaudit(&["delete", "--all", "--key", &key]).status.success());

    let (c, v) = run_json(&schemas, "apply.schema.json", &["apply", "--json", "--dry-run", good]);
    assert_eq!(c, Some(1), "would change: {v:#}");
    let (c, v) = run_json(&schemas, "apply.schema.json", &["apply", "--json", good]);
    assert_eq!(c, Some(0), "{v:#}");
    assert_eq!(v["in_sync"], true);
    assert!(nlaudit(&["delete", "--all", "--key", &key]).status.success());
}

/// The live docker check/ensure and the profiles (dry runs: they change nothing).
#[test]
fn controls_report_in_json_live() {
    if !kernel_available("controls_report_in_json_live") {
        return;
    }
    let _guard = KernelGuard::new();
    let schemas = Schemas::of_repo();
    let (_, v) = run_json(&schemas, "docker-check.schema.json", &["docker", "check", "--json"]);
    assert_eq!(v["target"], "kernel");
    let (c, v) =
        run_json(&schemas, "ensure.schema.json", &["docker", "ensure", "--json", "--dry-run"]);
    assert_eq!(v["exit_code"].as_i64().map(|n| n as i32), c);
    assert!(v["kernel"].is_object(), "{v:#}");
    let (_, v) =
        run_json(&schemas, "check.schema.json", &["check", "--profile", "cis-linux", "--json"]);
    assert!(v["audit"]["enabled"].is_u64(), "{v:#}");
    let (c, v) = run_json(
        &schemas,
        "ensure.schema.json",
        &["ensure", "--profile", "cis-linux", "--json", "--dry-run"],
    );
    assert_eq!(v["exit_code"].as_i64().map(|n| n as i32), c);
}

/// `n` distinct syscall rules keyed `key` (uid 1000.. so they never match a test's process).
fn many(key: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("-a always,exit -F arch=b64 -S open -F uid={} -k {key}\n", 1000 + i))
        .collect()
}

fn rules_in_force() -> usize {
    nlaudit_proto::Client::open().and_then(|mut c| c.list_rules()).map(|r| r.len()).unwrap_or(0)
}

/// Starts nlaudit, waits until the kernel holds fewer than `below` rules (the change is
/// under way), sends `sig`, and returns the output.
fn interrupted(args: &[&str], below: usize, sig: nix::sys::signal::Signal) -> Output {
    let child = std::process::Command::new(support::nlaudit_bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn nlaudit");
    let start = std::time::Instant::now();
    while rules_in_force() >= below {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, sig).expect("kill");
    child.wait_with_output().expect("wait")
}

/// Interrupted part-way, `delete --all --json` (SIGTERM, 143) and `load --json` (SIGINT,
/// 130) still print one object: the error, the exit code and the rules in force.
#[test]
fn interrupted_runs_say_what_is_in_force() {
    if !kernel_available("interrupted_runs_say_what_is_in_force") {
        return;
    }
    let _guard = KernelGuard::new();
    let schemas = Schemas::of_repo();
    let key = unique_key("intr");
    let dir = tempdir("intr");
    let set = dir.join("set.rules");
    fs::write(&set, many(&key, 250)).expect("write");
    let set = set.to_str().expect("utf-8");
    assert!(nlaudit(&["load", set]).status.success());
    let held = rules_in_force();
    let o = interrupted(
        &["delete", "--all", "--key", &key, "--json"],
        held,
        nix::sys::signal::Signal::SIGTERM,
    );
    assert_eq!(code(&o), Some(143), "{}", err(&o));
    let v = object(&o);
    schemas.assert_valid("delete.schema.json", &v);
    assert_eq!(v["exit_code"], 143);
    let in_force = v["in_force"].as_array().expect("in_force");
    let left = in_force.iter().filter(|r| r.as_str().is_some_and(|r| r.contains(&key))).count();
    assert!(left > 0 && left < 250, "{left} of the rules left");

    let reload = dir.join("reload.rules");
    fs::write(&reload, format!("-D\n{}", many(&key, 250))).expect("write");
    let reload = reload.to_str().expect("utf-8");
    assert!(nlaudit(&["load", reload]).status.success());
    let held = rules_in_force();
    let o = interrupted(&["load", "--json", reload], held, nix::sys::signal::Signal::SIGINT);
    assert_eq!(code(&o), Some(130), "{}", err(&o));
    let v = object(&o);
    schemas.assert_valid("load.schema.json", &v);
    assert_eq!(v["exit_code"], 130);
    assert!(v["error"].as_str().is_some_and(|e| e.contains("interrupted by SIGINT")), "{v:#}");
    assert!(v["in_force"].is_array(), "{v:#}");
}
