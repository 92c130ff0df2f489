//! `nlaudit daemon` against the real kernel (root), compared with Debian's auditd 3.0.9 and
//! read back by ausearch and aureport. Every kernel test holds the kernel lock through
//! [`Restore`], which puts back rules, settings and the registered daemon pid (a daemon
//! killed by a test stays registered as a dead pid until someone takes over: the guard
//! takes over and unregisters). Daemons run as child processes killed on drop.

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nlaudit_proto::consts::Operator;
use nlaudit_proto::{Client, FieldData, FieldType, FieldValue, RuleData, Setting, Switch};
use support::{auditctl, err, kernel_available, nlaudit, nlaudit_bin, unique_key, KernelGuard};

/// getppid on x86_64.
const GETPPID: usize = 110;
/// AUDIT_ARCH_X86_64.
const ARCH_X86_64: u32 = 0xC000_003E;
/// Waits that end early when the condition holds; a generous bound fails the test.
const PATIENCE: Duration = Duration::from_secs(30);

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = PathBuf::from(format!("/tmp/nlaudit-daemon-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("scratch dir");
        Scratch(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The kernel lock, rules and settings (KernelGuard), and the daemon pid: on drop a dead
/// registered pid is taken over and unregistered, so pid 0 is left.
struct Restore {
    _kernel: KernelGuard,
}

impl Restore {
    fn new() -> Restore {
        let kernel = KernelGuard::new();
        assert_eq!(kernel.initial_status().pid, 0, "an audit daemon is registered: cannot test");
        Restore { _kernel: kernel }
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let Ok(mut c) = Client::open() else { return };
        let _ = c.set(Setting::Enabled(Switch::Off));
        if c.status().is_ok_and(|s| s.pid != 0) {
            // Ours are dead by now (Daemon is dropped first): take over, then let go.
            if c.register_daemon(std::process::id()).is_ok() {
                let _ = c.unregister_daemon();
            }
        }
    }
}

/// A daemon process, killed on drop.
struct Daemon {
    child: Child,
    stderr: PathBuf,
}

impl Daemon {
    fn start(dir: &Scratch, args: &[&str]) -> Daemon {
        Daemon::start_as(&nlaudit_bin(), &["daemon"], dir, args)
    }

    fn start_as(program: &Path, first: &[&str], dir: &Scratch, args: &[&str]) -> Daemon {
        let stderr = dir.path(&format!("stderr-{}", unique_key("d")));
        let child = Command::new(program)
            .args(first)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn daemon");
        Daemon { child, stderr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the kernel reports this process as its audit daemon.
    fn wait_registered(&mut self) {
        let pid = self.pid();
        wait_until("the daemon to register", || {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("daemon exited early ({st}): {}", self.stderr_text());
            }
            Client::open().and_then(|mut c| c.status()).is_ok_and(|s| s.pid == pid)
        });
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st;
            }
            assert!(start.elapsed() < PATIENCE, "daemon did not exit: {}", self.stderr_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr_text(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `-a always,exit -F arch=b64 -S getppid -F pid=PID -k KEY`: only this test's calls.
fn getppid_rule(pid: u32, key: &str) -> RuleData {
    let field = |field: u32, value: FieldValue| FieldData {
        field: FieldType(field),
        op: Operator::AUDIT_EQUAL,
        value,
    };
    let mut mask = [0u32; 64];
    mask[GETPPID / 32] |= 1 << (GETPPID % 32);
    RuleData {
        flags: 4,  // AUDIT_FILTER_EXIT
        action: 2, // AUDIT_ALWAYS
        mask,
        fields: vec![
            field(11, FieldValue::Num(ARCH_X86_64)), // AUDIT_ARCH
            field(0, FieldValue::Num(pid)),          // AUDIT_PID
            field(210, FieldValue::Str(key.as_bytes().to_vec())), // AUDIT_FILTERKEY
        ],
    }
}

/// Raises the backlog (so that bursts wait instead of being lost), enables audit, waits
/// until the daemon logs a user message sent after that, and adds the rule; [`Restore`]
/// undoes all three.
///
/// The wait matters for auditd 3.0.9: records the kernel sends right after registration,
/// before auditd has read the ACK of its AUDIT_SET, are read and dropped by libaudit's
/// `audit_set_pid` (seen here: the first SYSCALL of a burst started at once was missing).
fn audit_getppid(log: &Path, key: &str) {
    let mut c = Client::open().expect("open audit socket");
    c.set(Setting::BacklogLimit(8192)).expect("backlog");
    c.set(Setting::Enabled(Switch::On)).expect("enable audit");
    let mark = format!("sync-{key}");
    let mut tries = 0;
    wait_until(&format!("a user message in {}", log.display()), || {
        // Sent again now and then: auditd may drop the first one (see above).
        if tries % 25 == 0 {
            let o = auditctl(&["-m", &mark]).expect("auditctl is installed");
            assert!(o.status.success(), "auditctl -m: {}", err(&o));
        }
        tries += 1;
        read(log).contains(&mark)
    });
    c.add_rule(&getppid_rule(std::process::id(), key)).expect("add rule");
}

fn disable() {
    Client::open().and_then(|mut c| c.set(Setting::Enabled(Switch::Off))).expect("disable audit");
}

/// `n` getppid calls by this process.
fn getppid_calls(n: usize) {
    for _ in 0..n {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
}

/// The SYSCALL lines of `text` that carry `key`.
fn key_lines(text: &str, key: &str) -> usize {
    let k = format!("key=\"{key}\"");
    text.lines().filter(|l| l.starts_with("type=SYSCALL") && l.contains(&k)).count()
}

fn wait_for_lines(log: &Path, key: &str, n: usize) {
    let start = Instant::now();
    while key_lines(&read(log), key) < n {
        if start.elapsed() > PATIENCE {
            let text = read(log);
            let tail: Vec<&str> = text.lines().rev().take(6).collect();
            panic!(
                "timed out waiting for {n} records with key {key} in {}; it ends: {tail:#?}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(sig: &str) {
    let o = auditctl(&["--signal", sig]).expect("auditctl is installed");
    assert!(o.status.success(), "auditctl --signal {sig}: {}", err(&o));
}

fn config_file(dir: &Scratch, format: &str, extra: &str) -> PathBuf {
    let p = dir.path("auditd.conf");
    let text = format!(
        "log_file = {}\nlog_format = {format}\nflush = incremental_async\nfreq = 50\n\
         max_log_file = 8\nnum_logs = 5\nmax_log_file_action = rotate\nspace_left = 2\n\
         admin_space_left = 1\n{extra}",
        dir.path("audit.log").display()
    );
    fs::write(&p, text).expect("config");
    p
}

fn kernel_pid() -> u32 {
    Client::open().and_then(|mut c| c.status()).map(|s| s.pid).expect("status")
}

/// Registration, records, SIGTERM through the real auditctl, pid 0 after; ausearch and
/// aureport find the events by key; the counts equal what was generated.
#[test]
fn daemon_keeps_every_record_and_ausearch_reads_the_log() {
    if !kernel_available("daemon_keeps_every_record_and_ausearch_reads_the_log") {
        return;
    }
    let _restore = Restore::new();
    for format in ["raw", "enriched"] {
        let dir = Scratch::new(&format!("keep-{format}"));
        let key = unique_key("keep");
        let conf = config_file(&dir, format, "");
        let log = dir.path("audit.log");
        let mut d = Daemon::start(&dir, &["--config", conf.to_str().expect("utf-8")]);
        d.wait_registered();
        audit_getppid(&log, &key);
        getppid_calls(500);
        wait_for_lines(&log, &key, 500);
        disable();
        signal("TERM");
        let st = d.wait_exit();
        assert!(st.success(), "{st}: {}", d.stderr_text());
        assert_eq!(kernel_pid(), 0, "unregistered at stop");
        let text = read(&log);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.first().is_some_and(|l| l.starts_with("type=DAEMON_START msg=audit(")));
        assert!(lines.first().is_some_and(|l| l.contains(&format!(" format={format} "))));
        assert!(lines.last().is_some_and(|l| l.starts_with("type=DAEMON_END msg=audit(")));
        assert!(lines.last().is_some_and(|l| l.contains("op=terminate auid=")));
        assert_eq!(key_lines(&text, &key), 500, "every record, once");
        assert!(!text.contains("type=EOE"), "no EOE lines");
        if format == "enriched" {
            let l = lines
                .iter()
                .find(|l| l.starts_with("type=SYSCALL") && l.contains(&key))
                .expect("a record");
            assert!(l.contains("\u{1d}ARCH=x86_64 SYSCALL=getppid AUID="), "{l}");
        } else {
            assert!(!text.contains('\u{1d}'));
        }
        let mode = fs::metadata(&log).expect("log").mode() & 0o777;
        assert_eq!(mode, 0o600, "no log_group: owner only");

        let found = Command::new("ausearch")
            .args(["-if", log.to_str().expect("utf-8"), "-k", &key, "--raw"])
            .output()
            .expect("ausearch");
        assert!(found.status.success(), "ausearch: {}", err(&found));
        assert_eq!(key_lines(&String::from_utf8_lossy(&found.stdout), &key), 500);
        let report = Command::new("aureport")
            .args(["-if", log.to_str().expect("utf-8"), "--key", "--summary"])
            .output()
            .expect("aureport");
        let report = String::from_utf8_lossy(&report.stdout).into_owned();
        let line = report.lines().find(|l| l.contains(&key)).expect("the key in the report");
        // 500 syscalls and the CONFIG_CHANGE of the rule's addition carry the key.
        assert_eq!(line.split_whitespace().next(), Some("501"), "{report}");
        // The next format's rule must be the first match (the kernel stops at the first).
        let mut c = Client::open().expect("client");
        c.delete_rule(&getppid_rule(std::process::id(), &key)).expect("delete rule");
    }
}

/// `--log-format json`: one event per line, the events format; `--log-file -` writes to
/// standard output.
#[test]
fn json_events_to_standard_output() {
    if !kernel_available("json_events_to_standard_output") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("json");
    let key = unique_key("json");
    let out = dir.path("stdout");
    let stderr = dir.path("stderr");
    let child = Command::new(nlaudit_bin())
        .args(["daemon", "--config", "/dev/null", "--log-file", "-", "--log-format", "json"])
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).expect("stdout"))
        .stderr(fs::File::create(&stderr).expect("stderr"))
        .spawn()
        .expect("spawn");
    let mut d = Daemon { child, stderr };
    d.wait_registered();
    audit_getppid(&out, &key);
    getppid_calls(20);
    let count = |text: &str| {
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["keys"] == serde_json::json!([key.clone()]))
            .filter(|v| v["syscall"]["name"] == "getppid")
            .count()
    };
    wait_until("20 JSON events", || count(&read(&out)) >= 20);
    disable();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.pid() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("kill");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
    let text = read(&out);
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["records"].is_array(), "{l}");
    }
    assert_eq!(count(&text), 20);
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(first["records"][0]["type"], "DAEMON_START");
    let ev = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["keys"] == serde_json::json!([key.clone()]) && v["syscall"]["number"] == 110)
        .expect("an event");
    assert_eq!(ev["syscall"]["name"], "getppid");
    assert_eq!(ev["end"], "eoe");
}

/// The JSON objects of a `--log-format json` log, one per line; a line that is not JSON
/// fails the test.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The daemon's own records (`DAEMON_CONFIG`...) with `op=OP` among `events`.
fn own_records<'a>(
    events: &'a [serde_json::Value],
    ty: &str,
    op: &str,
) -> Vec<&'a serde_json::Value> {
    events
        .iter()
        .filter(|v| v["records"][0]["type"] == ty && v["records"][0]["fields"]["op"] == op)
        .collect()
}

/// `--log-format json --log-file FILE`: every line of the log, the kernel's events and the
/// daemon's own records (DAEMON_START, the DAEMON_CONFIG of a rule put back and of a
/// reload, DAEMON_ROTATE, DAEMON_END), is an object of docs/schemas/events.schema.json with
/// `schema` first, as `events --json` prints it.
#[test]
fn json_log_lines_validate_against_the_events_schema() {
    if !kernel_available("json_log_lines_validate_against_the_events_schema") {
        return;
    }
    let _restore = Restore::new();
    let schemas = support::schema::Schemas::of_repo();
    let dir = Scratch::new("json-schema");
    let key = unique_key("jsch");
    let conf = config_file(&dir, "json", "");
    let rules = dir.path("audit.rules");
    fs::write(
        &rules,
        format!("-a always,exit -F arch=b64 -S getppid -F pid={} -k {key}\n", std::process::id()),
    )
    .expect("rules");
    let log = dir.path("audit.log");
    let log1 = dir.path("audit.log.1");
    let mut d = Daemon::start(
        &dir,
        &[
            "--config",
            conf.to_str().expect("utf-8"),
            "--rules",
            rules.to_str().expect("utf-8"),
            "--enable",
            "--check-interval",
            "0",
            "--num-logs",
            "3",
        ],
    );
    d.wait_registered();
    let ours = |events: &[serde_json::Value]| {
        events
            .iter()
            .filter(|v| v["keys"] == serde_json::json!([key.clone()]))
            .filter(|v| v["syscall"]["name"] == "getppid")
            .count()
    };
    let triggered = |op: &str, trigger: &str| {
        own_records(&json_lines(&read(&log)), "DAEMON_CONFIG", op)
            .iter()
            .any(|v| v["records"][0]["fields"]["trigger"] == trigger)
    };
    wait_until("the rules applied at start", || triggered("rules-repair", "start"));
    getppid_calls(5);
    wait_until("5 getppid events", || ours(&json_lines(&read(&log))) >= 5);

    // Another agent deletes the rule: the daemon puts it back and says so.
    let mut c = Client::open().expect("client");
    c.delete_rule(&getppid_rule(std::process::id(), &key)).expect("delete rule");
    wait_until("the repair record", || triggered("rules-repair", "config-change"));
    // A reload, and a rotation by signal.
    signal("HUP");
    wait_until("the reload record", || {
        !own_records(&json_lines(&read(&log)), "DAEMON_CONFIG", "reconfigure").is_empty()
    });
    signal("USR1");
    wait_until("the rotation", || {
        json_lines(&read(&log)).first().is_some_and(|v| v["records"][0]["type"] == "DAEMON_ROTATE")
    });
    getppid_calls(3);
    wait_until("3 more getppid events", || ours(&json_lines(&read(&log))) >= 3);
    disable();
    signal("TERM");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
    assert_eq!(kernel_pid(), 0, "unregistered at stop");

    let text = read(&log1) + &read(&log);
    for l in text.lines() {
        assert!(l.starts_with("{\"schema\":1,"), "schema first: {l}");
    }
    let events = json_lines(&text);
    for v in &events {
        schemas.assert_valid("events.schema.json", v);
    }
    assert_eq!(ours(&events), 8, "every getppid event, once");
    let types =
        |ty: &str| events.iter().filter(|v| v["records"][0]["type"] == ty).collect::<Vec<_>>();
    assert_eq!(types("DAEMON_START").len(), 1, "{text}");
    assert_eq!(types("DAEMON_ROTATE").len(), 1, "{text}");
    assert_eq!(types("DAEMON_END").len(), 1, "{text}");
    assert_eq!(
        events.first().map(|v| v["records"][0]["type"].clone()),
        Some("DAEMON_START".into())
    );
    assert_eq!(events.last().map(|v| v["records"][0]["type"].clone()), Some("DAEMON_END".into()));
    for v in types("DAEMON_START").iter().chain(&types("DAEMON_END")) {
        assert_eq!(v["end"], "single", "{v}");
        assert_eq!(v["syscall"], serde_json::Value::Null, "{v}");
    }
    let drift = own_records(&events, "DAEMON_CONFIG", "rules-drift");
    assert!(
        drift.iter().any(|v| v["records"][0]["fields"]["kernel_op"] == "remove_rule"),
        "{drift:#?}"
    );
    assert!(!own_records(&events, "DAEMON_CONFIG", "rules-repair").is_empty());
    assert!(!own_records(&events, "DAEMON_CONFIG", "reconfigure").is_empty());
}

/// A second daemon is refused (EEXIST) with the first one's pid and command; the first keeps
/// running. Killed, the first leaves a dead pid that a restarted daemon takes over; the log
/// holds whole lines and the restart appends.
#[test]
fn refusal_takeover_and_restart_after_sigkill() {
    if !kernel_available("refusal_takeover_and_restart_after_sigkill") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("refuse");
    let key = unique_key("kill");
    let conf = config_file(&dir, "raw", "");
    let conf = conf.to_str().expect("utf-8");
    let log = dir.path("audit.log");
    let mut first = Daemon::start(&dir, &["--config", conf]);
    first.wait_registered();

    let other = Scratch::new("refuse-2");
    let second = nlaudit(&[
        "daemon",
        "--config",
        "/dev/null",
        "--log-file",
        &other.path("a.log").to_string_lossy(),
    ]);
    assert_eq!(second.status.code(), Some(1), "{}", err(&second));
    let want = format!("another audit daemon is registered: pid {} (nlaudit)", first.pid());
    assert!(err(&second).contains(&want), "{}", err(&second));
    // Nothing written: the live daemon may be writing the same file.
    assert_eq!(read(&other.path("a.log")), "", "a refused daemon writes nothing");
    assert_eq!(kernel_pid(), first.pid(), "the first daemon is still the one");

    audit_getppid(&log, &key);
    // Kill in the middle of a burst.
    getppid_calls(2000);
    wait_for_lines(&log, &key, 100);
    first.child.kill().expect("SIGKILL");
    first.wait_exit();
    let killed = read(&log);
    // Lines are written whole, but the kernel ends a write on a fatal signal between pages
    // (generic_perform_write), so a SIGKILL during a write of many lines can leave part of
    // the last one: the next daemon cuts it back to the last newline and says so.
    let whole = match killed.rfind('\n') {
        Some(i) => killed[..=i].to_string(),
        None => String::new(),
    };
    let cut = killed.len() - whole.len();
    let kept = key_lines(&whole, &key);

    let mut restarted = Daemon::start(&dir, &["--config", conf]);
    restarted.wait_registered();
    assert!(
        restarted.stderr_text().contains("took over from audit daemon pid"),
        "{}",
        restarted.stderr_text()
    );
    getppid_calls(10);
    wait_for_lines(&log, &key, kept + 10);
    disable();
    signal("TERM");
    assert!(restarted.wait_exit().success(), "{}", restarted.stderr_text());
    let text = read(&log);
    assert!(text.starts_with(&whole), "the restart appended to the whole lines");
    if cut > 0 {
        let said = format!("removed a partial last line of {cut} bytes");
        assert!(restarted.stderr_text().contains(&said), "{}", restarted.stderr_text());
    }
    assert!(text.lines().all(|l| l.starts_with("type=")), "only whole records: {text}");
    assert!(text.ends_with('\n'));
    assert_eq!(text.matches("type=DAEMON_START").count(), 2);
    assert_eq!(text.matches("type=DAEMON_END").count(), 1);
    assert_eq!(kernel_pid(), 0);
}

/// `auditctl --signal USR1` rotates (DAEMON_ROTATE opens the new file, the old one becomes
/// read-only); a size limit rotates by itself; `num_logs` bounds the files; SIGCONT writes
/// the state report; SIGHUP reloads (DAEMON_CONFIG); SIGUSR2 resumes (DAEMON_RESUME).
#[test]
fn rotation_by_signal_and_by_size_and_the_other_signals() {
    if !kernel_available("rotation_by_signal_and_by_size_and_the_other_signals") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("rotate");
    let key = unique_key("rot");
    let conf = config_file(&dir, "raw", "");
    let conf_s = conf.to_str().expect("utf-8").to_string();
    let state = dir.path("state");
    let log = dir.path("audit.log");
    let log1 = dir.path("audit.log.1");
    let mut d = Daemon::start(
        &dir,
        &["--config", &conf_s, "--state-file", state.to_str().expect("utf-8"), "--num-logs", "3"],
    );
    d.wait_registered();
    audit_getppid(&log, &key);
    getppid_calls(5);
    wait_for_lines(&log, &key, 5);
    signal("USR1");
    wait_until("the rotation", || read(&log).contains("type=DAEMON_ROTATE"));
    assert_eq!(key_lines(&read(&log1), &key), 5);
    assert!(read(&log1).starts_with("type=DAEMON_START"));
    assert!(read(&log).starts_with("type=DAEMON_ROTATE"), "{}", read(&log));
    assert!(read(&log).contains("op=rotate-logs auid="));
    assert_eq!(fs::metadata(&log1).expect("log.1").mode() & 0o777, 0o400);

    signal("CONT");
    wait_until("the state report", || read(&state).contains("records received"));
    assert!(read(&state).contains("rotations = 1"), "{}", read(&state));

    // A size limit of 1 MB in the reloaded file: SIGHUP.
    fs::write(
        &conf,
        fs::read_to_string(&conf).expect("conf").replace("max_log_file = 8", "max_log_file = 1"),
    )
    .expect("write");
    signal("HUP");
    wait_until("DAEMON_CONFIG", || read(&log).contains("type=DAEMON_CONFIG"));
    assert!(read(&log).contains("op=reconfigure state=changed"), "{}", read(&log));
    // ~2 lines of ~330 bytes per call: 4000 calls are over 2 MB, so two rotations by size.
    getppid_calls(4000);
    let all = || {
        [dir.path("audit.log"), dir.path("audit.log.1"), dir.path("audit.log.2")]
            .iter()
            .map(|p| key_lines(&read(p), &key))
            .sum::<usize>()
    };
    wait_until("records over two rotations", || {
        dir.path("audit.log.2").exists() && fs::metadata(&log1).is_ok_and(|m| m.len() >= 1 << 20)
    });
    assert!(!dir.path("audit.log.3").exists(), "num_logs 3 keeps three files");
    signal("USR2");
    wait_until("DAEMON_RESUME", || read(&log).contains("type=DAEMON_RESUME"));
    disable();
    signal("TERM");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
    // The oldest file (the first 5 records) was deleted by the second rotation, or kept as
    // .2: count what the three files hold and allow for exactly that.
    let held = all();
    assert!((4000..=4005).contains(&held), "{held}");
}

/// Installed as `auditd`, auditd's options work: `-n -s nochange -c DIR`.
#[test]
fn auditd_command_line() {
    if !kernel_available("auditd_command_line") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("argv0");
    config_file(&dir, "enriched", "");
    let auditd = dir.path("auditd");
    std::os::unix::fs::symlink(nlaudit_bin(), &auditd).expect("symlink");
    let c = dir.0.to_str().expect("utf-8").to_string();
    let mut d = Daemon::start_as(&auditd, &[], &dir, &["-n", "-s", "nochange", "-c", &c]);
    d.wait_registered();
    signal("TERM");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
    let text = read(&dir.path("audit.log"));
    assert!(text.starts_with("type=DAEMON_START"), "{text}");
    assert!(text.contains("format=enriched"));
    assert_eq!(kernel_pid(), 0);
    let bad = Command::new(&auditd).args(["-s", "maybe"]).output().expect("run");
    assert_eq!(bad.status.code(), Some(2));
    assert!(err(&bad).contains("usage: auditd"), "{}", err(&bad));

    // Without -n or -f it forks, as auditd does: the parent exits 0 once the child is
    // registered, and the child writes /run/auditd.pid.
    struct KillPid(u32);
    impl Drop for KillPid {
        fn drop(&mut self) {
            if self.0 != 0 {
                let pid = nix::unistd::Pid::from_raw(self.0 as i32);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
    let st = Command::new(&auditd).args(["-s", "nochange", "-c", &c]).status().expect("run");
    assert!(st.success(), "{st}");
    let pid: u32 = read(Path::new("/run/auditd.pid")).trim().parse().expect("a pid file");
    let mut forked = KillPid(pid);
    assert_eq!(kernel_pid(), pid, "the child is registered when the parent exits");
    signal("TERM");
    wait_until("the forked daemon to stop", || kernel_pid() == 0);
    wait_until("the pid file to go", || !Path::new("/run/auditd.pid").exists());
    forked.0 = 0;
}

/// Debian's auditd 3.0.9 and nlaudit daemon write the same line shapes for the same
/// records: the same field names in the same order, and the same ENRICHED names.
#[test]
fn same_line_shapes_as_auditd() {
    if !kernel_available("same_line_shapes_as_auditd") {
        return;
    }
    if !Path::new("/usr/sbin/auditd").exists() {
        assert!(!support::in_ci(), "auditd (Debian package auditd) is required in CI");
        eprintln!("skipping same_line_shapes_as_auditd: no /usr/sbin/auditd");
        return;
    }
    let _restore = Restore::new();
    let shape = |line: &str| -> String {
        let (raw, enriched) = line.split_once('\u{1d}').unwrap_or((line, ""));
        let names = |s: &str| -> Vec<String> {
            s.split(' ').filter_map(|t| t.split_once('=').map(|(n, _)| n.to_string())).collect()
        };
        format!("{:?} | {:?}", names(raw), names(enriched))
    };
    let mut shapes = Vec::new();
    for who in ["auditd", "nlaudit"] {
        let dir = Scratch::new(&format!("shape-{who}"));
        let key = unique_key("shape");
        config_file(&dir, "enriched", "");
        let c = dir.0.to_str().expect("utf-8").to_string();
        let mut d = if who == "auditd" {
            Daemon::start_as(
                Path::new("/usr/sbin/auditd"),
                &[],
                &dir,
                &["-n", "-s", "nochange", "-c", &c],
            )
        } else {
            Daemon::start(&dir, &["--config", &dir.path("auditd.conf").to_string_lossy()])
        };
        d.wait_registered();
        let log = dir.path("audit.log");
        audit_getppid(&log, &key);
        getppid_calls(3);
        wait_for_lines(&log, &key, 3);
        disable();
        signal("TERM");
        d.wait_exit();
        assert_eq!(kernel_pid(), 0, "{who} unregistered");
        let text = read(&log);
        let pick = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix) && (prefix != "type=SYSCALL" || l.contains(&key)))
                .map(shape)
        };
        shapes.push([
            pick("type=DAEMON_START"),
            pick("type=SYSCALL"),
            pick("type=CONFIG_CHANGE"),
            pick("type=DAEMON_END"),
        ]);
        // Clean up the rule for the next daemon (the guard restores at the end too).
        let mut cl = Client::open().expect("client");
        let _ = cl.delete_rule(&getppid_rule(std::process::id(), &key));
    }
    assert_eq!(shapes[0], shapes[1]);
    assert!(shapes[0].iter().all(Option::is_some), "{:?}", shapes[0]);
}

/// A bad value stops the start with FILE:LINE (exit 2); refused actions say why; nothing is
/// registered. (No root needed: the configuration is read first.)
#[test]
fn configuration_errors_name_file_and_line() {
    let dir = Scratch::new("conf");
    for (text, want) in [
        (
            "log_format = raw\n\nflush = sometimes\n",
            ":3: \"sometimes\": expected one of none, incremental, incremental_async, data, sync",
        ),
        ("disk_full_action = halt\n", ":1: action halt is refused: it halts the machine"),
        ("space_left_action = email\n", ":1: action email is refused: it sends mail"),
        ("num_logs = 5000\n", ":1: 5000 is too large (at most 999)"),
    ] {
        let conf = dir.path("bad.conf");
        fs::write(&conf, text).expect("write");
        let o = nlaudit(&["daemon", "--config", conf.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", err(&o));
        let want = format!("nlaudit: {}{want}", conf.display());
        assert!(err(&o).starts_with(&want), "{text}: {}", err(&o));
    }
    // A flag is checked as the key would be.
    let o = nlaudit(&["daemon", "--config", "/dev/null", "--log-file", "/no/such/dir/a.log"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains(
            "--log-file: log_file /no/such/dir/a.log: directory /no/such/dir does not exist"
        ),
        "{}",
        err(&o)
    );
}

/// `--rules FILE --enable`: the set is applied after registration (its CONFIG_CHANGE
/// records are in the log: no gap), then its records come.
#[test]
fn rules_and_enable_at_start() {
    if !kernel_available("rules_and_enable_at_start") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("rules");
    let key = unique_key("rules");
    let conf = config_file(&dir, "raw", "");
    let rules = dir.path("audit.rules");
    fs::write(
        &rules,
        format!("-a always,exit -F arch=b64 -S getppid -F pid={} -k {key}\n", std::process::id()),
    )
    .expect("rules");
    let log = dir.path("audit.log");
    let mut d = Daemon::start(
        &dir,
        &[
            "--config",
            conf.to_str().expect("utf-8"),
            "--rules",
            rules.to_str().expect("utf-8"),
            "--enable",
        ],
    );
    d.wait_registered();
    wait_until("the rule's CONFIG_CHANGE", || {
        read(&log).lines().any(|l| {
            l.starts_with("type=CONFIG_CHANGE") && l.contains("op=add_rule") && l.contains(&key)
        })
    });
    getppid_calls(7);
    wait_for_lines(&log, &key, 7);
    disable();
    signal("TERM");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
}

/// A full disk (a 256 KiB tmpfs): the write fails, logging is suspended as configured, the
/// daemon keeps running; after SIGUSR2 it resumes and logs how many records it could not
/// write.
#[test]
fn disk_full_suspends_and_resume_reports_what_was_not_written() {
    if !kernel_available("disk_full_suspends_and_resume_reports_what_was_not_written") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("full");
    let mnt = dir.path("mnt");
    fs::create_dir_all(&mnt).expect("mnt");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.to_str().expect("utf-8")])
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(!support::in_ci(), "cannot mount a tmpfs");
        eprintln!("skipping disk_full...: cannot mount a tmpfs");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let key = unique_key("full");
    let log = mnt.join("audit.log");
    let conf = dir.path("full.conf");
    fs::write(
        &conf,
        format!(
            "log_file = {}\nlog_format = raw\nflush = none\nmax_log_file = 0\n\
             space_left = 2\nspace_left_action = ignore\nadmin_space_left = 1\n\
             admin_space_left_action = ignore\ndisk_full_action = suspend\n",
            log.display()
        ),
    )
    .expect("conf");
    let state = dir.path("state");
    let mut d = Daemon::start(
        &dir,
        &[
            "--config",
            conf.to_str().expect("utf-8"),
            "--state-file",
            state.to_str().expect("utf-8"),
        ],
    );
    d.wait_registered();
    audit_getppid(&log, &key);
    getppid_calls(2000);
    wait_until("the suspension", || d.stderr_text().contains("suspended because the disk is full"));
    assert!(d.stderr_text().contains("No space left on device"), "{}", d.stderr_text());
    // Every record of the burst received (SYSCALL, PROCTITLE, EOE per call): SIGCONT's report.
    let received = || {
        read(&state)
            .lines()
            .find_map(|l| l.strip_prefix("records received = "))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let mut n = 0;
    wait_until("every record received", || {
        if n % 25 == 0 {
            signal("CONT");
        }
        n += 1;
        received() >= 3 * 2000
    });
    assert!(matches!(d.child.try_wait(), Ok(None)), "still running");
    let full = read(&log);
    assert!(full.ends_with('\n'), "whole lines only on a full disk");
    fs::remove_file(&log).expect("make room");
    signal("USR2");
    wait_until("DAEMON_RESUME", || read(&log).contains("type=DAEMON_RESUME"));
    wait_until("the report of unwritten records", || {
        read(&log).contains("op=unwritten-records count=")
    });
    let text = read(&log);
    let count: usize = text
        .split("op=unwritten-records count=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    // Each line of the burst (SYSCALL and PROCTITLE; EOE is not written) is in the full
    // log or counted; the full log also holds the rule's CONFIG_CHANGE event.
    let lines = |t: &str| {
        t.lines()
            .filter(|l| {
                (l.starts_with("type=SYSCALL") && l.contains(&key))
                    || l.starts_with("type=PROCTITLE")
            })
            .count()
    };
    let kept = lines(&full);
    assert!(count > 0, "records were counted");
    assert!((4000..=4002).contains(&(kept + count)), "kept {kept} lines, counted {count}");
    getppid_calls(3);
    wait_for_lines(&log, &key, 3);
    disable();
    signal("TERM");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
}

/// A rise of the kernel's `lost` counter (here: `rate_limit 1` drops records) is logged as
/// DAEMON_ERR and said on standard error.
#[test]
fn kernel_lost_records_are_logged() {
    if !kernel_available("kernel_lost_records_are_logged") {
        return;
    }
    let _restore = Restore::new();
    let dir = Scratch::new("lost");
    let key = unique_key("lost");
    let conf = config_file(&dir, "raw", "");
    let log = dir.path("audit.log");
    let mut d = Daemon::start(&dir, &["--config", conf.to_str().expect("utf-8")]);
    d.wait_registered();
    audit_getppid(&log, &key);
    Client::open().and_then(|mut c| c.set(Setting::RateLimit(1))).expect("rate limit");
    getppid_calls(200);
    wait_until("DAEMON_ERR op=kernel-lost", || read(&log).contains("op=kernel-lost lost="));
    assert!(d.stderr_text().contains("the kernel lost"), "{}", d.stderr_text());
    disable();
    signal("TERM");
    assert!(d.wait_exit().success(), "{}", d.stderr_text());
}

/// `nlaudit daemon --status` without an nlaudit daemon to ask: none registered (exit 3),
/// auditd registered (exit 4, naming its pid and comm; it is never signalled), a killed
/// daemon's pid still registered (exit 3, it is gone).
#[test]
fn daemon_status_needs_a_running_nlaudit_daemon() {
    if !kernel_available("daemon_status_needs_a_running_nlaudit_daemon") {
        return;
    }
    let _restore = Restore::new();
    let o = nlaudit(&["daemon", "--status"]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("no audit daemon is registered with the kernel"), "{}", err(&o));
    let o = nlaudit(&["daemon", "--status", "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the error object");
    support::schema::Schemas::of_repo().assert_valid("daemon-status.schema.json", &v);
    assert_eq!(
        (v["command"].as_str(), v["exit_code"].as_u64()),
        (Some("daemon --status"), Some(3))
    );

    let dir = Scratch::new("status");
    let conf = config_file(&dir, "raw", "");
    let auditd = Path::new("/usr/sbin/auditd");
    if auditd.exists() {
        let c = dir.0.to_str().expect("utf-8").to_string();
        let mut a = Daemon::start_as(auditd, &[], &dir, &["-n", "-s", "nochange", "-c", &c]);
        a.wait_registered();
        let o = nlaudit(&["daemon", "--status"]);
        assert_eq!(o.status.code(), Some(4), "{}", err(&o));
        let want = format!("the registered audit daemon is not nlaudit: pid {} (auditd)", a.pid());
        assert!(err(&o).contains(&want), "{}", err(&o));
        // auditd loses a SIGTERM that comes while it is still starting: sent until it ends.
        let start = Instant::now();
        while matches!(a.child.try_wait(), Ok(None)) {
            assert!(start.elapsed() < PATIENCE, "auditd did not stop: {}", a.stderr_text());
            let p = nix::unistd::Pid::from_raw(i32::try_from(a.pid()).expect("pid"));
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGTERM);
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(kernel_pid(), 0, "auditd unregistered");
    } else {
        assert!(!support::in_ci(), "auditd (Debian package auditd) is required in CI");
        eprintln!("skipping the auditd case of daemon_status_needs_a_running_nlaudit_daemon");
    }

    let state = dir.path("state").display().to_string();
    let mut d =
        Daemon::start(&dir, &["--config", conf.to_str().expect("utf-8"), "--state-file", &state]);
    d.wait_registered();
    let pid = d.pid();
    let o = nlaudit(&["daemon", "--status"]);
    assert!(o.status.success(), "{}", err(&o));
    d.child.kill().expect("SIGKILL");
    d.wait_exit();
    assert_eq!(kernel_pid(), pid, "a killed daemon stays registered");
    let o = nlaudit(&["daemon", "--status"]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains(&format!("pid {pid}, is gone")), "{}", err(&o));
    // Restore takes the dead pid over and lets it go.
}
