//! `cargo xtask container-test`: the kernel integration suite inside a Docker container, and
//! the failures that a container missing each privilege must show (root, Debian).
//!
//! What it does, in order:
//! 1. makes Docker usable: installs `docker.io` with apt when `docker` or `dockerd` is
//!    missing, and starts `dockerd` (log: [`DOCKERD_LOG`]) when `docker info` fails;
//! 2. builds the static `nlaudit` (`cargo xtask dist`, without its size gate) and the static
//!    `kernel` test binary, and a `FROM scratch` image holding just those two files: no
//!    shell, no libc, nothing to pull;
//! 3. tries `--privileged` once and says whether Docker can start it on this host (it cannot
//!    when the host's capability bounding set lacks one of the capabilities it asks for);
//!    the suite never relies on it: it runs with [`LEAST_PRIVILEGE`], the least that works;
//! 4. runs `nlaudit status` and `nlaudit list` with [`LEAST_PRIVILEGE`] (they must work),
//!    then the whole kernel suite (`/kernel --test-threads=1`, CI=true so that nothing may
//!    skip), counting its tests from the libtest summary line;
//! 5. runs nlaudit (`status` and `list`; `events` for its own two cases) in containers that
//!    each lack one piece ([`CASES`]) and asserts the exit code and the sentence nlaudit
//!    prints; the user-namespace case needs a daemon with `--userns-remap`, so a second
//!    `dockerd` is started for it on its own socket and data root ([`RemappedDaemon`]) and
//!    removed afterwards;
//! 6. removes its containers and images (also those an interrupted earlier run left).
//!
//! Every failure is collected, so one run reports all of them; any failure fails the task.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::util::{is_root, root};

/// The image (in both daemons); also the label on every container, for clean-up.
const IMAGE: &str = "nlaudit-container-test:latest";
const LABEL: &str = "nlaudit-container-test";
/// The integration test binary run in the container (`tests/kernel.rs`).
const SUITE: &str = "kernel";
/// Build context for the image, relative to the workspace root.
const CONTEXT_DIR: &str = "target/container-test/image";
/// Where a `dockerd` started by this task logs.
const DOCKERD_LOG: &str = "/var/log/dockerd.log";
/// The kernel tests' machine-wide lock (tests/support/mod.rs), bind-mounted into the suite's
/// container so that it serializes with kernel tests running on the host.
const KERNEL_LOCK: &str = "/run/nlaudit-tests.lock";
/// nlaudit's exit code for "not permitted" (crates/nlaudit/src/errors.rs, `code::NOT_PERMITTED`).
const NOT_PERMITTED: i32 = 5;
/// How long the suite may run before its container is killed.
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long one nlaudit command in a container may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What the suite's container gets: audit control and the host's PID namespace (the kernel
/// serves AUDIT_GET, AUDIT_LIST_RULES, ... only to the initial PID namespace), and
/// CAP_AUDIT_READ, which `events` needs (with the host's network namespace, not given here:
/// the suite reads no events).
const LEAST_PRIVILEGE: &[&str] =
    &["--cap-add", "AUDIT_CONTROL", "--cap-add", "AUDIT_READ", "--pid=host"];

/// Flags of every container: a writable /run and /tmp (the image has neither), and the
/// label that clean-up looks for. Unless a case says `--network`, `--network none` is added:
/// only `events` needs a network namespace, the host's.
const BASE: &[&str] = &["--rm", "--tmpfs", "/run", "--tmpfs", "/tmp", "--label", LABEL];

/// The audit-control commands run with the least privilege and in the control cases.
const CONTROL: &[&[&str]] = &[&["/nlaudit", "status"], &["/nlaudit", "list"]];
/// `events`, bounded so that it ends even if it unexpectedly works.
const EVENTS: &[&[&str]] = &[&["/nlaudit", "events", "--count", "1", "--timeout", "1"]];

/// Which Docker daemon runs a case.
#[derive(Clone, Copy, PartialEq)]
enum Daemon {
    /// The host's ordinary daemon.
    Host,
    /// The `--userns-remap=default` daemon of [`RemappedDaemon`].
    Remapped,
}

/// A container configuration missing one piece, and what nlaudit must say about it.
struct Case {
    /// What is missing, for the report.
    missing: &'static str,
    daemon: Daemon,
    flags: &'static [&'static str],
    commands: &'static [&'static [&'static str]],
    /// A fragment of nlaudit's message (exit code [`NOT_PERMITTED`]).
    says: &'static str,
}

const CASES: &[Case] = &[
    Case {
        missing: "CAP_AUDIT_CONTROL (default capabilities, --pid=host)",
        daemon: Daemon::Host,
        flags: &["--pid=host"],
        commands: CONTROL,
        says: "lacks CAP_AUDIT_CONTROL",
    },
    Case {
        missing: "--pid=host (--cap-add AUDIT_CONTROL --cap-add AUDIT_READ)",
        daemon: Daemon::Host,
        flags: &["--cap-add", "AUDIT_CONTROL", "--cap-add", "AUDIT_READ"],
        commands: CONTROL,
        says: "--pid=host",
    },
    Case {
        // Docker refuses --pid=host together with a user namespace, so this case cannot
        // also have it; the kernel checks the user namespace first in any case.
        missing: "the host user namespace (daemon --userns-remap=default, --cap-add AUDIT_CONTROL --cap-add AUDIT_READ)",
        daemon: Daemon::Remapped,
        flags: &["--cap-add", "AUDIT_CONTROL", "--cap-add", "AUDIT_READ"],
        commands: CONTROL,
        says: "audit is not available in a user namespace",
    },
    Case {
        missing: "CAP_AUDIT_READ for events (--network host --cap-add AUDIT_CONTROL --pid=host)",
        daemon: Daemon::Host,
        flags: &["--network", "host", "--cap-add", "AUDIT_CONTROL", "--pid=host"],
        commands: EVENTS,
        says: "lacks CAP_AUDIT_READ",
    },
    Case {
        // The kernel multicasts records only to sockets in the initial network namespace.
        missing: "--network host for events (--cap-add AUDIT_CONTROL --cap-add AUDIT_READ --pid=host)",
        daemon: Daemon::Host,
        flags: LEAST_PRIVILEGE,
        commands: EVENTS,
        says: "--network host",
    },
];

pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("unknown container-test argument {arg:?} (usage: container-test)");
    }
    ensure!(
        is_root()?,
        "container-test needs root (it may install and start Docker, and starts a second \
         dockerd for the user-namespace case)"
    );
    let started = Instant::now();
    let root = root();

    section("Docker");
    ensure_docker()?;
    let host = Docker { host: None };
    host.remove_leftovers();

    section("static binaries");
    let nlaudit = crate::dist::build()?;
    let suite = build_suite(&root)?;
    let context = write_context(&root, &nlaudit, &suite)?;

    section("image");
    let _image = host.build(&context)?;
    println!("{IMAGE}: FROM scratch, {} bytes (nlaudit and {SUITE} only)", host.image_size()?);

    let mut failures = Vec::new();

    section("--privileged");
    try_privileged(&host, &mut failures);

    section(&format!("least privilege: {}", LEAST_PRIVILEGE.join(" ")));
    for command in CONTROL {
        match host.run(LEAST_PRIVILEGE, command, &[]) {
            Ok(out) if out.status.success() => {
                println!("ok   `{}`: exit 0", shown(command));
            }
            Ok(out) => failures.push(format!(
                "`{}` with {} failed: {}",
                shown(command),
                LEAST_PRIVILEGE.join(" "),
                describe(&out)
            )),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    match run_suite(&host) {
        Ok(summary) => {
            println!(
                "ok   {SUITE} suite in the container: {} passed, {} ignored",
                summary.passed, summary.ignored
            );
            if summary.passed == 0 {
                println!("note: the {SUITE} suite has no tests yet");
            }
        }
        Err(e) => failures.push(format!("{SUITE} suite: {e:#}")),
    }

    section("missing pieces");
    let cases = |daemon| CASES.iter().filter(move |c| c.daemon == daemon);
    for case in cases(Daemon::Host) {
        check_case(&host, case, &mut failures);
    }
    match RemappedDaemon::start() {
        Ok(remapped) => {
            match remapped.docker.build(&context) {
                Ok(_image) => {
                    for case in cases(Daemon::Remapped) {
                        check_case(&remapped.docker, case, &mut failures);
                    }
                }
                Err(e) => failures.push(format!("image in the userns-remap daemon: {e:#}")),
            }
            drop(remapped);
        }
        Err(e) => failures.push(format!("userns-remap daemon: {e:#}")),
    }

    let elapsed = started.elapsed().as_secs();
    if !failures.is_empty() {
        eprintln!();
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        bail!("{} failure(s) in {elapsed} s", failures.len());
    }
    println!("\ncontainer-test: all passed in {elapsed} s");
    Ok(())
}

fn section(title: &str) {
    println!("\n==> {title}");
}

/// `/nlaudit status` → `nlaudit status`.
fn shown(command: &[&str]) -> String {
    command.join(" ").trim_start_matches('/').to_string()
}

/// An exit status and the output, for a failure message.
fn describe(out: &Output) -> String {
    format!(
        "{}; stdout: {:?}; stderr: {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// Runs the command in a container configured by `case` and checks exit code and message.
fn check_case(docker: &Docker, case: &Case, failures: &mut Vec<String>) {
    for command in case.commands {
        let out = match docker.run(case.flags, command, &[]) {
            Ok(out) => out,
            Err(e) => {
                failures.push(format!("missing {}: {e:#}", case.missing));
                continue;
            }
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr.trim();
        if out.status.code() == Some(NOT_PERMITTED) && message.contains(case.says) {
            println!(
                "ok   missing {}\n     `{}`: exit {NOT_PERMITTED}: {message}",
                case.missing,
                shown(command)
            );
        } else {
            failures.push(format!(
                "missing {}: `{}` should exit {NOT_PERMITTED} saying {:?}; got {}",
                case.missing,
                shown(command),
                case.says,
                describe(&out)
            ));
        }
    }
}

/// Tries `--privileged --pid=host`; Docker's own failure to start it is reported, not
/// counted: the suite needs only [`LEAST_PRIVILEGE`].
fn try_privileged(docker: &Docker, failures: &mut Vec<String>) {
    let command = CONTROL[0];
    match docker.run(&["--privileged", "--pid=host"], command, &[]) {
        Ok(out) if out.status.success() => {
            println!(
                "ok   `{}` with --privileged --pid=host: exit 0 (the suite still uses the \
                 least privilege: {})",
                shown(command),
                LEAST_PRIVILEGE.join(" ")
            );
        }
        Ok(out) if out.status.code().is_some_and(|c| c >= 125) => {
            let why = String::from_utf8_lossy(&out.stderr);
            let why = why.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            let missing = missing_from_bounding_set();
            println!("note --privileged does not start on this host: {why}");
            if !missing.is_empty() {
                println!(
                    "     (--privileged asks for every capability, and this host's capability \
                     bounding set lacks {})",
                    missing.join(", ")
                );
            }
            println!("     falling back to the least privilege: {}", LEAST_PRIVILEGE.join(" "));
            println!("     (which is all the suite ever uses)");
        }
        Ok(out) => failures.push(format!(
            "`{}` with --privileged --pid=host: {}",
            shown(command),
            describe(&out)
        )),
        Err(e) => failures.push(format!("--privileged: {e:#}")),
    }
}

/// libtest's `test result:` line.
#[derive(Debug, PartialEq)]
struct Summary {
    ok: bool,
    passed: u32,
    failed: u32,
    ignored: u32,
}

/// Parses `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; ...`.
fn parse_summary(line: &str) -> Option<Summary> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let (verdict, counts) = rest.split_once(". ")?;
    let count = |name: &str| {
        counts.split(';').find_map(|part| {
            let (n, what) = part.trim().split_once(' ')?;
            (what == name).then(|| n.parse().ok()).flatten()
        })
    };
    Some(Summary {
        ok: verdict == "ok",
        passed: count("passed")?,
        failed: count("failed")?,
        ignored: count("ignored")?,
    })
}

/// Runs the suite in a least-privilege container, streaming its output.
fn run_suite(docker: &Docker) -> Result<Summary> {
    // The lock file must exist on the host to be bind-mounted.
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(KERNEL_LOCK)
        .with_context(|| format!("cannot create {KERNEL_LOCK}"))?;
    let lock_mount = format!("type=bind,source={KERNEL_LOCK},target={KERNEL_LOCK}");
    let extra = [
        "--mount",
        &lock_mount,
        // The kernel resolves a watch's directory in the caller's mount namespace, and the
        // tests watch /usr/bin/dockerd: give them a /usr/bin (/etc comes with Docker's
        // /etc/hosts mount). A real deployment mounts the host's directories instead
        // (docs/containers.md).
        "--tmpfs",
        "/usr/bin:ro",
        "--env",
        "NLAUDIT_BIN=/nlaudit",
        "--env",
        "NLAUDIT_IN_CONTAINER=1",
        "--env",
        "CI=true",
        "--env",
        "RUST_BACKTRACE=1",
    ];
    let command = ["/kernel", "--test-threads=1"];
    println!(
        "     docker run {} {} {IMAGE} {}",
        LEAST_PRIVILEGE.join(" "),
        extra.join(" "),
        command.join(" ")
    );

    let (mut cmd, name) = docker.run_command(LEAST_PRIVILEGE, &command, &extra);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().context("cannot start docker")?;
    let watchdog = docker.watchdog(&name, SUITE_TIMEOUT);
    let mut summary = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading the suite's output")?;
            println!("     | {line}");
            summary = summary.or_else(|| parse_summary(&line));
        }
    }
    let status = child.wait().context("waiting for docker")?;
    let timed_out = watchdog.finish();
    ensure!(!timed_out, "killed after {} s", SUITE_TIMEOUT.as_secs());
    ensure!(status.success(), "the container exited with {status}");
    let summary = summary.context("no libtest summary line: did the suite run?")?;
    ensure!(summary.ok && summary.failed == 0, "{summary:?}");
    Ok(summary)
}

/// Builds the static integration test binary and returns its path (from cargo's JSON).
fn build_suite(root: &Path) -> Result<PathBuf> {
    let mut cmd = crate::dist::static_cargo(root, "test");
    cmd.args(["--release", "--no-run", "--package", "nlaudit", "--test", SUITE])
        .arg("--message-format=json")
        .stderr(Stdio::inherit());
    let out = cmd.output().with_context(|| format!("cannot start {cmd:?}"))?;
    ensure!(out.status.success(), "{cmd:?} failed: {}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let exe = stdout
        .lines()
        .filter(|l| {
            l.contains(r#""reason":"compiler-artifact""#) && l.contains(r#""kind":["test"]"#)
        })
        .filter(|l| json_string(l, "name").as_deref() == Some(SUITE))
        .find_map(|l| json_string(l, "executable"))
        .with_context(|| format!("cargo reported no executable for the {SUITE} test"))?;
    println!("{SUITE} test binary: {exe}");
    Ok(PathBuf::from(exe))
}

/// The first string value of `"key":"..."` in a line of cargo's JSON (the first `name` of
/// an artifact message is its target's). Unescapes what JSON escapes.
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut out = String::new();
    let mut chars = line.get(start..)?.chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => out.push(c), // \" \\ \/
            },
            c => out.push(c),
        }
    }
}

/// Writes the image's build context: the two binaries and a Dockerfile.
fn write_context(root: &Path, nlaudit: &Path, suite: &Path) -> Result<PathBuf> {
    let dir = root.join(CONTEXT_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (from, name) in [(nlaudit, "nlaudit"), (suite, SUITE)] {
        std::fs::copy(from, dir.join(name))
            .with_context(|| format!("cannot copy {} into {}", from.display(), dir.display()))?;
    }
    let dockerfile = format!(
        "# Written by `cargo xtask container-test`: the static binaries, nothing else (no shell).\n\
         FROM scratch\n\
         COPY nlaudit {SUITE} /\n"
    );
    std::fs::write(dir.join("Dockerfile"), dockerfile)?;
    Ok(dir)
}

/// A Docker daemon, reached through the `docker` CLI.
struct Docker {
    /// `-H` address; None for the default daemon.
    host: Option<String>,
}

/// The image in one daemon; removed (with the containers) on drop.
struct Image<'a> {
    docker: &'a Docker,
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        self.docker.remove_leftovers();
    }
}

impl Docker {
    fn cmd(&self) -> Command {
        let mut cmd = Command::new("docker");
        if let Some(host) = &self.host {
            cmd.args(["-H", host]);
        }
        cmd
    }

    /// Whether `docker info` reaches the daemon.
    fn works(&self) -> bool {
        self.cmd()
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn build(&self, context: &Path) -> Result<Image<'_>> {
        let mut cmd = self.cmd();
        cmd.args(["build", "--quiet", "--tag", IMAGE, "--label", LABEL]).arg(context);
        // The legacy builder prints a deprecation notice on stderr: show it only on failure.
        let out = cmd.output().with_context(|| format!("cannot start {cmd:?}"))?;
        ensure!(out.status.success(), "{cmd:?} failed: {}", describe(&out));
        Ok(Image { docker: self })
    }

    fn image_size(&self) -> Result<u64> {
        let out = self.cmd().args(["image", "inspect", "--format", "{{.Size}}", IMAGE]).output()?;
        ensure!(out.status.success(), "docker image inspect: {}", describe(&out));
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    }

    /// Removes this task's containers and image, if any.
    fn remove_leftovers(&self) {
        let label = format!("label={LABEL}");
        if let Ok(out) = self.cmd().args(["ps", "--all", "--quiet", "--filter", &label]).output() {
            let ids = String::from_utf8_lossy(&out.stdout);
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let _ =
                    self.cmd().args(["rm", "--force"]).args(&ids).stdout(Stdio::null()).status();
            }
        }
        let _ = self
            .cmd()
            .args(["image", "rm", "--force", IMAGE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// `docker run` with [`BASE`], `flags` and `extra`, and a unique container name.
    fn run_command(&self, flags: &[&str], command: &[&str], extra: &[&str]) -> (Command, String) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{LABEL}-{}-{n}", std::process::id());
        let mut cmd = self.cmd();
        cmd.arg("run").args(["--name", &name]).args(BASE);
        if !flags.contains(&"--network") {
            cmd.args(["--network", "none"]);
        }
        cmd.args(flags).args(extra).arg(IMAGE);
        cmd.args(command).stdin(Stdio::null());
        (cmd, name)
    }

    /// Runs a container to completion and captures its output.
    fn run(&self, flags: &[&str], command: &[&str], extra: &[&str]) -> Result<Output> {
        let (mut cmd, name) = self.run_command(flags, command, extra);
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        let watchdog = self.watchdog(&name, COMMAND_TIMEOUT);
        let out = child.wait_with_output().context("waiting for docker")?;
        ensure!(!watchdog.finish(), "{cmd:?} killed after {} s", COMMAND_TIMEOUT.as_secs());
        Ok(out)
    }

    /// Kills the named container when it runs longer than `limit`.
    fn watchdog(&self, name: &str, limit: Duration) -> Watchdog {
        let (done, wait) = mpsc::channel::<()>();
        let mut kill = self.cmd();
        kill.args(["kill", name]).stdout(Stdio::null()).stderr(Stdio::null());
        let thread = std::thread::spawn(move || match wait.recv_timeout(limit) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = kill.status();
                true
            }
            _ => false,
        });
        Watchdog { done, thread }
    }
}

struct Watchdog {
    done: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    /// Stops the watchdog; true when it had to kill the container.
    fn finish(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// Makes `docker` reach a running daemon: installs docker.io and starts dockerd as needed.
fn ensure_docker() -> Result<()> {
    if !on_path("docker") || !on_path("dockerd") {
        println!("installing docker.io (apt-get)");
        crate::util::run(Command::new("apt-get").args(["update", "-q"]))?;
        crate::util::run(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "docker.io"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    let docker = Docker { host: None };
    if docker.works() {
        println!("dockerd is running");
        return Ok(());
    }
    if Path::new("/run/systemd/system").exists() {
        println!("starting docker.service");
        let _ = Command::new("systemctl").args(["start", "docker"]).status();
        if wait_for(&docker, Duration::from_secs(60)) {
            return Ok(());
        }
    }
    println!("starting dockerd (log: {DOCKERD_LOG})");
    let mut child = spawn_daemon(Command::new("dockerd"), Path::new(DOCKERD_LOG))?;
    if !wait_for(&docker, Duration::from_secs(60)) {
        let exited = child.try_wait().ok().flatten();
        bail!(
            "dockerd did not come up in 60 s ({}); the end of {DOCKERD_LOG}:\n{}",
            exited.map_or("still running".to_string(), |s| format!("it exited: {s}")),
            log_tail(Path::new(DOCKERD_LOG))
        );
    }
    // dockerd keeps running after this task (in its own process group), as a service would.
    Ok(())
}

/// Starts a daemon in the background, in its own process group (an interrupt of this task
/// does not reach it), with stdout and stderr appended to `log`.
fn spawn_daemon(mut cmd: Command, log: &Path) -> Result<Child> {
    use std::os::unix::process::CommandExt as _;
    let file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))
}

/// Polls `docker info` until it works or `limit` passes.
fn wait_for(docker: &Docker, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if docker.works() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A second dockerd with `--userns-remap=default` (Docker creates the `dockremap` user and
/// its subordinate ids), on its own socket, data root and exec root, without networking.
/// Stopped, and its data root removed, on drop.
struct RemappedDaemon {
    child: Child,
    docker: Docker,
}

impl RemappedDaemon {
    /// Short paths: containerd's sockets under the exec root must fit `sun_path`.
    const DATA_ROOT: &'static str = "/var/lib/nlaudit-userns-docker";
    const EXEC_ROOT: &'static str = "/run/nlaudit-userns-docker";
    const LOG: &'static str = "/var/log/nlaudit-userns-dockerd.log";

    fn pidfile() -> PathBuf {
        Path::new(Self::EXEC_ROOT).join("dockerd.pid")
    }

    fn start() -> Result<RemappedDaemon> {
        Self::stop_stale()?;
        Self::remove_roots()?;
        let socket = format!("unix://{}/docker.sock", Self::EXEC_ROOT);
        let mut cmd = Command::new("dockerd");
        cmd.arg("--userns-remap=default")
            .args(["--data-root", Self::DATA_ROOT, "--exec-root", Self::EXEC_ROOT])
            .arg("--pidfile")
            .arg(Self::pidfile())
            .args(["--host", &socket])
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            // Separate from the host daemon's, should both use a system containerd.
            .args(["--containerd-namespace", "nlaudit-userns"])
            .args(["--containerd-plugins-namespace", "nlaudit-userns-plugins"]);
        println!("starting a second dockerd with --userns-remap=default (log: {})", Self::LOG);
        let child = spawn_daemon(cmd, Path::new(Self::LOG))?;
        let mut daemon = RemappedDaemon { child, docker: Docker { host: Some(socket) } };
        if !wait_for(&daemon.docker, Duration::from_secs(60)) {
            let exited = daemon.child.try_wait().ok().flatten();
            bail!(
                "it did not come up in 60 s ({}); the end of {}:\n{}",
                exited.map_or("still running".to_string(), |s| format!("it exited: {s}")),
                Self::LOG,
                log_tail(Path::new(Self::LOG))
            );
        }
        Ok(daemon)
    }

    /// Stops a remapped daemon that an interrupted earlier run left (found by its pidfile).
    fn stop_stale() -> Result<()> {
        let Ok(pid) = std::fs::read_to_string(Self::pidfile()) else { return Ok(()) };
        let pid = pid.trim();
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let comm = std::fs::read_to_string(proc.join("comm")).unwrap_or_default();
        if comm.trim() != "dockerd" {
            return Ok(());
        }
        println!("stopping the userns-remap dockerd {pid} of an earlier run");
        let _ = Command::new("kill").args(["-TERM", pid]).status();
        let start = Instant::now();
        while proc.exists() {
            ensure!(start.elapsed() < Duration::from_secs(30), "dockerd {pid} does not stop");
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// Removes the data and exec roots, unless something is still mounted below them.
    fn remove_roots() -> Result<()> {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        for dir in [Self::DATA_ROOT, Self::EXEC_ROOT] {
            let busy = mounts
                .lines()
                .filter_map(|l| l.split(' ').nth(4))
                .any(|m| m == dir || m.starts_with(&format!("{dir}/")));
            ensure!(!busy, "{dir} still has mounts: not removing it");
            if Path::new(dir).exists() {
                std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {dir}"))?;
            }
        }
        Ok(())
    }

    fn stop(&mut self) -> Result<ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                return Ok(self.child.wait()?);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for RemappedDaemon {
    fn drop(&mut self) {
        self.docker.remove_leftovers();
        match self.stop().and_then(|_| Self::remove_roots()) {
            Ok(()) => println!("stopped the userns-remap dockerd and removed {}", Self::DATA_ROOT),
            Err(e) => eprintln!("warning: cleaning up the userns-remap dockerd: {e:#}"),
        }
    }
}

/// Whether an executable of this name is on PATH.
fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Capability names by number (linux/capability.h), to name what a bounding set lacks.
const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The capabilities this kernel knows that our bounding set (CapBnd) lacks.
fn missing_from_bounding_set() -> Vec<String> {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(bounding) = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
    else {
        return Vec::new();
    };
    (0..=last.min(63))
        .filter(|bit| bounding & (1u64 << bit) == 0)
        .map(|bit| match CAPABILITIES.get(bit as usize) {
            Some(name) => (*name).to_string(),
            None => format!("capability {bit}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let check = |line: &str, expect: Option<(bool, u32, u32, u32)>| {
            let got = parse_summary(line).map(|s| (s.ok, s.passed, s.failed, s.ignored));
            assert_eq!(got, expect, "{line}");
        };
        check(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 3.21s",
            Some((true, 12, 0, 1)),
        );
        check(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s",
            Some((false, 3, 2, 0)),
        );
        check("test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s", Some((true, 0, 0, 0)));
        check("running 3 tests", None);
        check("test result: ok.", None);
    }

    #[test]
    fn json_strings() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"kernel"},"executable":"/w/a \"b\"\\c\u00e9"}"#;
        assert_eq!(json_string(line, "name").as_deref(), Some("kernel"));
        assert_eq!(json_string(line, "executable").as_deref(), Some("/w/a \"b\"\\cé"));
        assert_eq!(json_string(line, "missing"), None);
        assert_eq!(json_string(r#"{"executable":null}"#, "executable"), None);
        assert_eq!(json_string(r#"{"name":"unterminated"#, "name"), None);
    }
}
