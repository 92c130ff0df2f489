//! `nlaudit events` against the real kernel (root): the dockerd watch end to end, hex-decoded
//! paths, overruns, rotation and the error cases. Every test that changes the kernel's audit
//! state holds the kernel lock through `KernelGuard`, which restores rules and settings.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nlaudit_proto::consts::Operator;
use nlaudit_proto::{Client, FieldData, FieldType, FieldValue, RuleData, Setting, Switch};
use serde_json::Value;
use support::{err, kernel_available, nlaudit, nlaudit_bin, unique_key, KernelGuard};

const DOCKERD: &str = "/usr/sbin/dockerd";

/// `-w PATH -p rwxa -k KEY`, as auditctl sends it (exit list, always, every syscall).
fn watch_rule(path: &Path, key: &str) -> RuleData {
    let field = |field: u32, value: FieldValue| FieldData {
        field: FieldType(field),
        op: Operator::AUDIT_EQUAL,
        value,
    };
    RuleData {
        flags: 4,  // AUDIT_FILTER_EXIT
        action: 2, // AUDIT_ALWAYS
        mask: [0xFFFF_FFFF; 64],
        fields: vec![
            field(105, FieldValue::Str(path.as_os_str().as_encoded_bytes().to_vec())), // WATCH
            field(106, FieldValue::Num(0xF)), // PERM: r|w|x|a
            field(210, FieldValue::Str(key.as_bytes().to_vec())), // FILTERKEY
        ],
    }
}

/// Adds the watch and enables audit (the guard restores both).
fn watch_and_enable(path: &Path, key: &str) {
    let mut c = Client::open().expect("open audit socket");
    c.add_rule(&watch_rule(path, key)).expect("add watch");
    c.set(Setting::Enabled(Switch::On)).expect("enable audit");
}

/// A fresh directory under /tmp (the name may hold spaces).
fn temp_dir(tag: &str) -> PathBuf {
    let d = PathBuf::from(format!("/tmp/nlaudit-events-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("temp dir");
    d
}

/// An executable shell script at `path`.
fn make_tool(path: &Path) {
    fs::write(path, "#!/bin/sh\necho nlaudit-test-tool\n").expect("write tool");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod tool");
}

/// Starts `nlaudit events ARGS` with piped output.
fn spawn_events(args: &[&str]) -> Child {
    Command::new(nlaudit_bin())
        .arg("events")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nlaudit events")
}

/// Touches and executes `path` (`PATH --version`) every 300 ms until every child has exited
/// (they stop by --count or --timeout), then collects their output. Repeating covers the
/// moment a child has not joined the multicast group yet.
fn touch_and_run_until_done(path: &Path, children: Vec<Child>) -> Vec<Output> {
    let start = Instant::now();
    let mut children: Vec<Option<Child>> = children.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<Output>> = children.iter().map(|_| None).collect();
    while outputs.iter().any(Option::is_none) && start.elapsed() < Duration::from_secs(40) {
        let _ = Command::new("touch").arg("-c").arg(path).status();
        let _ = Command::new(path).arg("--version").stdout(Stdio::null()).status();
        std::thread::sleep(Duration::from_millis(300));
        for (slot, out) in children.iter_mut().zip(outputs.iter_mut()) {
            let exited = slot.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited {
                *out = slot.take().map(|c| c.wait_with_output().expect("child output"));
            }
        }
    }
    outputs.into_iter().map(|o| o.expect("nlaudit events stopped within 40 s")).collect()
}

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn names_path(e: &Value, path: &Path) -> bool {
    let p = path.to_string_lossy();
    e["paths"].as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(&p)))
}

/// The end-to-end check: with the watch on `path` and audit enabled, touching and
/// executing it yields events with the key that name the path and the syscall, in JSON and
/// in text. `rule_key` is the rule's whole key (several keys joined by 0x01, as auditctl
/// sends `-k a -k b`); `key` is the one filtered on.
fn watch_touch_exec(path: &Path, rule_key: &str, key: &str) {
    watch_and_enable(path, rule_key);
    let all_keys: Vec<&str> = rule_key.split('\x01').collect();
    let json = spawn_events(&["--key", key, "--json", "--count", "6", "--timeout", "20"]);
    let text = spawn_events(&["--key", key, "--count", "3", "--timeout", "20"]);
    let outs = touch_and_run_until_done(path, vec![json, text]);
    for o in &outs {
        assert!(o.status.success(), "nlaudit events failed: {}", err(o));
    }

    let events = json_lines(&outs[0]);
    assert_eq!(events.len(), 6, "{events:#?}");
    let mut syscalls = Vec::new();
    for e in &events {
        assert_eq!(e["keys"], serde_json::json!(all_keys), "{e:#}");
        assert!(names_path(e, path), "event does not name {}: {e:#}", path.display());
        assert!(e["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{e:#}");
        assert!(e["serial"].is_u64() && e["secs"].is_u64(), "{e:#}");
        assert_eq!(e["records"][0]["type"], "SYSCALL", "{e:#}");
        assert_eq!(e["syscall"]["arch"], "x86_64", "{e:#}");
        syscalls.push(e["syscall"]["name"].as_str().unwrap_or("?").to_string());
    }
    assert!(syscalls.iter().any(|s| s == "execve"), "no execve among {syscalls:?}");
    let touched = ["openat", "open", "creat", "utimensat", "utimes", "utime", "futimesat"];
    assert!(syscalls.iter().any(|s| touched.contains(&s.as_str())), "no touch in {syscalls:?}");
    let exec = events.iter().find(|e| e["syscall"]["name"] == "execve").expect("an execve");
    assert!(
        exec["proctitle"].as_str().is_some_and(|t| t.ends_with(" --version")),
        "proctitle is decoded from hex, NULs as spaces: {exec:#}"
    );

    let text = String::from_utf8_lossy(&outs[1].stdout).into_owned();
    assert_eq!(text.lines().count(), 3, "{text}");
    let quoted = support_quote(&path.to_string_lossy());
    for line in text.lines() {
        assert!(line.contains(&format!(" key={} ", all_keys.join(","))), "{line}");
        assert!(line.contains(" syscall="), "{line}");
        assert!(line.contains(&format!(" path={quoted}")), "{line}");
    }
}

/// How the text line writes a path: bare, or quoted when it holds a space.
fn support_quote(s: &str) -> String {
    if s.contains(' ') {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

#[test]
fn dockerd_watch_events_name_path_and_syscall() {
    if !kernel_available("dockerd_watch_events") {
        return;
    }
    let _g = KernelGuard::new();
    let dockerd = Path::new(DOCKERD);
    if dockerd.exists() {
        // Touching changes the binary's times; put them back afterwards.
        let meta = fs::metadata(dockerd).expect("stat dockerd");
        let times = (meta.accessed().expect("atime"), meta.modified().expect("mtime"));
        let key = unique_key("docker");
        watch_touch_exec(dockerd, &key, &key);
        let f = fs::File::open(dockerd).expect("open dockerd");
        f.set_times(fs::FileTimes::new().set_accessed(times.0).set_modified(times.1))
            .expect("restore dockerd times");
    } else {
        assert!(!support::in_ci(), "CI installs docker.io: {DOCKERD} must exist");
        eprintln!("{DOCKERD} absent: watching a stand-in executable");
        let d = temp_dir("dockerd");
        let tool = d.join("dockerd");
        make_tool(&tool);
        let key = unique_key("docker");
        watch_touch_exec(&tool, &key, &key);
        let _ = fs::remove_dir_all(&d);
    }
}

#[test]
fn hex_encoded_path_and_keys_are_decoded() {
    if !kernel_available("hex_encoded_path") {
        return;
    }
    let _g = KernelGuard::new();
    let d = temp_dir("spaced dir");
    let tool = d.join("my tool");
    make_tool(&tool);
    // The kernel hex-encodes a name with a space, and a key holding the 0x01 separator of
    // several keys (audit_log_untrustedstring); events --key matches any one of them.
    let key = unique_key("hex");
    watch_touch_exec(&tool, &format!("{key}\x01second"), &key);
    let _ = fs::remove_dir_all(&d);
}

/// Reads a child's stdout lines into a channel.
fn line_channel(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn overrun_is_reported_and_reading_goes_on() {
    if !kernel_available("overrun") {
        return;
    }
    let _g = KernelGuard::new();
    let d = temp_dir("overrun");
    let file = d.join("watched");
    fs::write(&file, "x").expect("write");
    let key = unique_key("overrun");
    watch_and_enable(&file, &key);
    let mut child =
        spawn_events(&["--key", &key, "--json", "--buffer-size", "16K", "--timeout", "30"]);
    let lines = line_channel(&mut child);
    // Wait until the reader is joined: its first event arrives.
    let start = Instant::now();
    let first = loop {
        let _ = fs::read(&file);
        if let Ok(l) = lines.recv_timeout(Duration::from_millis(200)) {
            break l;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no event within 20 s");
    };
    assert!(first.contains(&key), "{first}");
    // Stop the reader, make far more records than 16 KiB of socket buffer holds, resume.
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP");
    for _ in 0..2000 {
        let _ = fs::read(&file);
    }
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("SIGCONT");
    // Reading goes on: an event made after the flood (by `sh`, not by this process) arrives.
    let start = Instant::now();
    let script = format!("echo after > '{}'", file.display());
    'after: loop {
        let _ = Command::new("sh").args(["-c", &script]).status();
        let until = Instant::now() + Duration::from_millis(300);
        while let Ok(l) = lines.recv_timeout(until.saturating_duration_since(Instant::now())) {
            let e: Value = serde_json::from_str(&l).expect("JSON event");
            if e["comm"] == "sh" {
                assert!(names_path(&e, &file), "{e:#}");
                break 'after;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no event after the overrun");
    }
    let _ = child.kill();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let _ = child.wait();
    let _ = fs::remove_dir_all(&d);
    let lost_line = stderr.lines().find(|l| l.contains("ENOBUFS")).unwrap_or_else(|| {
        panic!("no overrun reported; stderr: {stderr}");
    });
    // "N records lost (M in all)" with N > 0, counted by the kernel (sk_drops).
    let n: u64 = lost_line
        .split("ENOBUFS): ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no count in {lost_line:?}"));
    assert!(n > 0, "{lost_line}");
}

#[test]
fn output_file_rotates_with_bounded_sizes() {
    if !kernel_available("output_rotation") {
        return;
    }
    let _g = KernelGuard::new();
    let d = temp_dir("rotate");
    let tool = d.join("tool");
    make_tool(&tool);
    let log = d.join("events.log");
    let key = unique_key("rotate");
    watch_and_enable(&tool, &key);
    let log_s = log.to_string_lossy().into_owned();
    let args = ["--key", &key, "--json", "--count", "30", "--timeout", "30", "--output", &log_s];
    let mut all = args.to_vec();
    all.extend(["--max-size", "8K", "--keep", "2"]);
    let outs = touch_and_run_until_done(&tool, vec![spawn_events(&all)]);
    assert!(outs[0].status.success(), "{}", err(&outs[0]));
    assert!(outs[0].stdout.is_empty(), "events go to the file, not stdout");
    let numbered = |n: u32| PathBuf::from(format!("{log_s}.{n}"));
    let mut last_serial = 0;
    for f in [numbered(2), numbered(1), log.clone()] {
        let meta = fs::metadata(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(meta.len() > 0 && meta.len() <= 8192, "{}: {} bytes", f.display(), meta.len());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{}", f.display());
        for line in fs::read_to_string(&f).expect("read log").lines() {
            let e: Value = serde_json::from_str(line).expect("a JSON event per line");
            assert!(e["keys"].as_array().is_some_and(|k| k.iter().any(|k| k == &key)));
            let serial = e["serial"].as_u64().expect("serial");
            assert!(serial > last_serial, "oldest in FILE.2, newest in FILE");
            last_serial = serial;
        }
    }
    assert!(!numbered(3).exists(), "only --keep 2 rotated files");
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn audit_disabled_says_so_and_how_to_enable() {
    if !kernel_available("audit_disabled") {
        return;
    }
    let _g = KernelGuard::new();
    let mut c = Client::open().expect("open");
    c.set(Setting::Enabled(Switch::Off)).expect("disable audit (restored by the guard)");
    let o = nlaudit(&["events", "--count", "1", "--timeout", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("audit is disabled"), "{}", err(&o));
    assert!(err(&o).contains("nlaudit set --enabled 1"), "{}", err(&o));
    // Enabled, a key nothing carries: --count is not reached, which is an error.
    c.set(Setting::Enabled(Switch::On)).expect("enable audit");
    let k = unique_key("none");
    let o = nlaudit(&["events", "--key", &k, "--count", "1", "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("timed out after 1 s with 0 of 1 events"), "{}", err(&o));
    // Without --count, the timeout is the normal end.
    let o = nlaudit(&["events", "--key", &k, "--timeout", "0.5"]);
    assert!(o.status.success(), "{}", err(&o));
}

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `nlaudit ARGS` under a wrapper that takes a shell command (capsh, unshare).
fn wrapped(wrapper: &[&str], args: &str) -> Output {
    let cmd = format!("{} {args}", nlaudit_bin().display());
    Command::new(wrapper[0])
        .args(&wrapper[1..])
        .arg(cmd)
        .stdin(Stdio::null())
        .output()
        .expect("run wrapper")
}

#[test]
fn without_cap_audit_read_the_message_names_it() {
    if !kernel_available("events_no_cap") {
        return;
    }
    assert!(!support::in_ci() || tool("capsh"), "capsh (libcap2-bin) is required in CI");
    if !tool("capsh") {
        return;
    }
    let o =
        wrapped(&["capsh", "--drop=cap_audit_read", "--", "-c"], "events --count 1 --timeout 2");
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(err(&o).contains("CAP_AUDIT_READ"), "{}", err(&o));
    assert!(err(&o).contains("--cap-add AUDIT_READ"), "{}", err(&o));
}

#[test]
fn in_another_network_namespace_the_message_says_so() {
    if !kernel_available("events_net_ns") || !tool("unshare") {
        return;
    }
    let o = wrapped(&["unshare", "-n", "sh", "-c"], "events --count 1 --timeout 2");
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(err(&o).contains("not in the initial network namespace"), "{}", err(&o));
    assert!(err(&o).contains("--network host"), "{}", err(&o));
}

#[test]
fn bad_arguments_are_usage_errors() {
    // No kernel access happens before these are checked.
    for args in [
        &["events", "--timeout", "-1"][..],
        &["events", "--timeout", "nan"],
        &["events", "--max-size", "1M"], // needs --output
        &["events", "--output", "/nonexistent/x", "--max-size", "1X"],
        &["events", "--buffer-size", "lots"],
        &["events", "--json", "--raw"],
    ] {
        let o = nlaudit(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
    }
}
