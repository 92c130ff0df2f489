//! `cargo xtask bench events [--runs N] [--calls N] [--no-write]`: the event path, measured.
//!
//! Workload (as in issue 15): a C program calling `syscall(SYS_getppid)` N times (default
//! 1,000,000) under `-a always,exit -F arch=b64 -S getppid -F key=ld`, `backlog_limit 8192`,
//! audit enabled only around the workload (the rule also names the workload's pid, so that
//! other processes' calls do not count). Collectors, alternating within each run:
//!
//! - the floor: a C receiver that registers, `recv()`s and discards (64 MiB SO_RCVBUFFORCE);
//! - Debian's `auditd -n -s nochange`, RAW and ENRICHED, flush INCREMENTAL_ASYNC/50;
//! - `nlaudit daemon` with the same auditd.conf, the release build (`cargo build --release`,
//!   dynamically linked) and the static one that the packages and the image ship
//!   (`cargo xtask dist`);
//! - `nlaudit events --raw --output FILE` (the multicast reader, no daemon).
//!
//! Measured per run: the workload's wall time (how much auditing slowed it), the collector's
//! CPU (utime+stime from /proc/PID/stat, from before enabling until it is idle again), its
//! peak RSS (VmHWM), the events in its log (SYSCALL lines with the key; the floor counts
//! records), and the kernel's `lost` counter before and after. Medians over the runs; events
//! kept is the smallest count of any run. The workload and the floor are compiled with `cc`.
//!
//! Holds the kernel test lock throughout; restores `backlog_limit`, `enabled 0` and deletes
//! its rule; stops every collector it started. Must run as root.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::util;

const LOCK: &str = "/run/nlaudit-tests.lock";
const AUDITD: &str = "/usr/sbin/auditd";
const AUDITCTL: &str = "/usr/sbin/auditctl";
/// `-a|-d always,exit -F arch=b64 -S getppid -F pid=PID -F key=ld`: the workload's calls only.
fn rule(op: &str, pid: u32) -> Vec<String> {
    let pid = format!("pid={pid}");
    [op, "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", &pid, "-F", "key=ld"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
/// The start of the section in docs/benchmarks.md (the main bench keeps it).
pub const SECTION: &str = "## Events: `nlaudit daemon` against auditd";

/// Waits for a byte on stdin (so that the rule can name its pid), then calls getppid N times.
const WORKLOAD_C: &str = r#"#include <unistd.h>
#include <sys/syscall.h>
#include <stdlib.h>
int main(int c, char **v) {
  long n = atol(v[1]); char b;
  if (read(0, &b, 1) != 1) return 1;
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  return 0;
}
"#;

const FLOOR_C: &str = r#"#include <linux/netlink.h>
#include <linux/audit.h>
#include <sys/socket.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
static volatile sig_atomic_t stop;
static void h(int s) { (void)s; stop = 1; }
static void setpid(int fd, int pid) {
  struct { struct nlmsghdr h; struct audit_status s; } m; memset(&m, 0, sizeof m);
  m.h.nlmsg_len = sizeof m; m.h.nlmsg_type = AUDIT_SET; m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  m.h.nlmsg_seq = 1; m.s.mask = AUDIT_STATUS_PID; m.s.pid = pid;
  struct sockaddr_nl k = { .nl_family = AF_NETLINK };
  sendto(fd, &m, sizeof m, 0, (void *)&k, sizeof k);
}
int main(void) {
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = h; sigaction(SIGTERM, &sa, 0);
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); int sz = 64 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
  struct sockaddr_nl a = { .nl_family = AF_NETLINK }; bind(fd, (void *)&a, sizeof a);
  setpid(fd, getpid()); static char buf[65536]; long n = 0;
  while (!stop) { if (recv(fd, buf, sizeof buf, 0) > 0) n++; }
  setpid(fd, 0); fprintf(stderr, "floor received %ld\n", n); return 0;
}
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Floor,
    Auditd,
    Nlaudit,
    Multicast,
}

/// Which nlaudit binary a collector runs (the others run no nlaudit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    /// `cargo build --release`: dynamically linked to glibc.
    Release,
    /// `cargo xtask dist`: static, what the .deb, the units and the image run.
    Static,
}

#[derive(Clone, Copy, Debug)]
struct Collector {
    who: Who,
    format: &'static str,
    build: Build,
}

impl Collector {
    fn name(&self) -> String {
        match self.who {
            Who::Floor => "raw unicast receiver that discards (the floor)".to_string(),
            Who::Auditd => format!("auditd 3.0.9 -n, {}", self.format),
            Who::Nlaudit => match self.build {
                Build::Release => format!("nlaudit daemon (release), {}", self.format),
                Build::Static => format!("nlaudit daemon (static, as packaged), {}", self.format),
            },
            Who::Multicast => "nlaudit events --raw --output (multicast)".to_string(),
        }
    }
}

const COLLECTORS: &[Collector] = &[
    Collector { who: Who::Floor, format: "", build: Build::Release },
    Collector { who: Who::Auditd, format: "RAW", build: Build::Release },
    Collector { who: Who::Nlaudit, format: "RAW", build: Build::Release },
    Collector { who: Who::Nlaudit, format: "RAW", build: Build::Static },
    Collector { who: Who::Auditd, format: "ENRICHED", build: Build::Release },
    Collector { who: Who::Nlaudit, format: "ENRICHED", build: Build::Release },
    Collector { who: Who::Nlaudit, format: "ENRICHED", build: Build::Static },
    Collector { who: Who::Multicast, format: "", build: Build::Release },
];

#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    workload: f64,
    cpu: f64,
    kept: u64,
    lost: u64,
    rss_kb: u64,
    anon_kb: u64,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut runs = 3usize;
    let mut calls = 1_000_000u64;
    let mut write = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().context("--runs N")?.parse().context("--runs N")?,
            "--calls" => calls = it.next().context("--calls N")?.parse().context("--calls N")?,
            "--no-write" => write = false,
            other => bail!(
                "unknown argument {other:?} (usage: bench events [--runs N] [--calls N] [--no-write])"
            ),
        }
    }
    ensure!(runs >= 1 && calls >= 1, "--runs and --calls must be at least 1");
    ensure!(Path::new(AUDITD).exists(), "{AUDITD} not found: install Debian's auditd package");
    let root = util::root();
    eprintln!("bench events: building the release nlaudit");
    util::run(
        Command::new(env!("CARGO"))
            .args(["build", "--release", "-p", "nlaudit"])
            .current_dir(&root),
    )?;
    let nlaudit = root.join("target/release/nlaudit");
    eprintln!("bench events: building the static nlaudit");
    let nlaudit_static = crate::dist::build()?;
    let work = std::env::temp_dir().join(format!("nlaudit-bench-events-{}", std::process::id()));
    fs::create_dir_all(&work)?;
    let workload = compile(&work, "workload", WORKLOAD_C)?;
    let floor = compile(&work, "floor", FLOOR_C)?;
    eprintln!("bench events: waiting for the kernel test lock {LOCK}");
    let _lock = util_lock(Path::new(LOCK))?;
    let before = status()?;
    ensure!(before.pid == 0, "an audit daemon is registered (pid {}): stop it first", before.pid);
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let b = Bench { nlaudit, nlaudit_static, floor, workload, work: work.clone(), calls };
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); COLLECTORS.len()];
    let mut failure = None;
    'runs: for r in 0..runs {
        for (i, c) in COLLECTORS.iter().enumerate() {
            eprintln!("bench events: run {}/{runs}: {}", r + 1, c.name());
            match b.measure(*c, r) {
                Ok(s) => samples[i].push(s),
                Err(e) => {
                    failure = Some(e);
                    break 'runs;
                }
            }
        }
    }
    // Put back what was found, whatever happened.
    let _ = auditctl(&["-e", "0"]);
    let _ = auditctl(&["-b", &before.backlog_limit.to_string()]);
    let _ = fs::remove_dir_all(&work);
    if let Some(e) = failure {
        return Err(e);
    }
    let section = report(
        &samples,
        runs,
        calls,
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    );
    print!("{section}");
    if write {
        let path = root.join("docs/benchmarks.md");
        let old = fs::read_to_string(&path).unwrap_or_default();
        let kept = old.find(SECTION).map_or(old.as_str(), |i| &old[..i]);
        fs::write(&path, format!("{}\n\n{section}", kept.trim_end()))?;
        eprintln!("bench events: wrote the events section of {}", path.display());
    }
    Ok(())
}

/// The section of an existing report, to be kept when the main bench rewrites the file.
pub fn existing_section(text: &str) -> Option<&str> {
    text.find(SECTION).map(|i| &text[i..])
}

fn util_lock(path: &Path) -> Result<fs::File> {
    Ok(util::Lock::take(path)?.into_file())
}

fn compile(work: &Path, name: &str, source: &str) -> Result<PathBuf> {
    let src = work.join(format!("{name}.c"));
    let exe = work.join(name);
    fs::write(&src, source)?;
    util::run(Command::new("cc").args(["-O2", "-o"]).arg(&exe).arg(&src))
        .with_context(|| format!("compiling the {name} (needs cc)"))?;
    Ok(exe)
}

#[derive(Debug)]
struct Status {
    pid: u32,
    lost: u64,
    backlog_limit: u64,
}

fn auditctl(args: &[&str]) -> Result<String> {
    let o = Command::new(AUDITCTL).args(args).stdin(Stdio::null()).output()?;
    ensure!(
        o.status.success(),
        "auditctl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn status() -> Result<Status> {
    let text = auditctl(&["-s"])?;
    let get = |k: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.trim().parse().ok()))
            .unwrap_or(0)
    };
    Ok(Status { pid: get("pid ") as u32, lost: get("lost "), backlog_limit: get("backlog_limit ") })
}

/// utime+stime of a process, in seconds (USER_HZ = 100 on Linux).
fn cpu_of(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // Fields after the comm: state is not numeric, so utime/stime are the 12th/13th numbers.
    let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

/// A `/proc/PID/status` line in kB (`VmHWM`: peak RSS; `RssAnon`: the process's own
/// memory now, without the pages of its binary and libraries).
fn status_kb(pid: u32, key: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// SYSCALL lines with the key, counted without holding the file in memory.
fn count_events(log: &Path) -> u64 {
    use std::io::BufRead;
    let Ok(f) = fs::File::open(log) else { return 0 };
    let mut n = 0;
    let mut line = Vec::new();
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    while r.read_until(b'\n', &mut line).is_ok_and(|k| k > 0) {
        if line.starts_with(b"type=SYSCALL") && line.windows(8).any(|w| w == b"key=\"ld\"") {
            n += 1;
        }
        line.clear();
    }
    n
}

struct Bench {
    nlaudit: PathBuf,
    nlaudit_static: PathBuf,
    floor: PathBuf,
    workload: PathBuf,
    work: PathBuf,
    calls: u64,
}

/// Deletes the rule (these `-d` arguments) on drop, whatever happened.
struct RuleGuard(Vec<String>);

impl Drop for RuleGuard {
    fn drop(&mut self) {
        let _ = auditctl(&self.0.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Bench {
    fn measure(&self, c: Collector, run: usize) -> Result<Sample> {
        let dir = self.work.join(format!("{:?}-{:?}-{}-{run}", c.who, c.build, c.format));
        fs::create_dir_all(&dir)?;
        let log = dir.join("audit.log");
        fs::write(
            dir.join("auditd.conf"),
            format!(
                "log_file = {}\nlog_format = {}\nflush = incremental_async\nfreq = 50\n\
                 max_log_file = 0\nmax_log_file_action = ignore\nnum_logs = 5\n\
                 space_left = 2\nadmin_space_left = 1\n",
                log.display(),
                if c.format.is_empty() { "RAW" } else { c.format }
            ),
        )?;
        let err = fs::File::create(dir.join("stderr"))?;
        if c.who == Who::Multicast {
            // `nlaudit events` refuses to wait for records while audit is off.
            auditctl(&["-e", "1"])?;
        }
        let conf = dir.join("auditd.conf");
        let mut cmd = match c.who {
            Who::Floor => Command::new(&self.floor),
            Who::Auditd => {
                let mut k = Command::new(AUDITD);
                k.args(["-n", "-s", "nochange", "-c"]).arg(&dir);
                k
            }
            Who::Nlaudit => {
                let bin = match c.build {
                    Build::Release => &self.nlaudit,
                    Build::Static => &self.nlaudit_static,
                };
                let mut k = Command::new(bin);
                k.arg("daemon").arg("--config").arg(&conf);
                k
            }
            Who::Multicast => {
                let mut k = Command::new(&self.nlaudit);
                k.args(["events", "--raw", "--max-size", "64G", "--output"]).arg(&log);
                k
            }
        };
        let child = Running(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err).spawn()?);
        let pid = child.0.id();
        let start = Instant::now();
        if c.who == Who::Multicast {
            std::thread::sleep(Duration::from_secs(1)); // joins the group; nothing to poll
        } else {
            while status()?.pid != pid {
                ensure!(start.elapsed() < Duration::from_secs(20), "{} did not register", c.name());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // auditd drops records sent before it has read its AUDIT_SET ACK: let it settle.
        std::thread::sleep(Duration::from_millis(500));
        auditctl(&["-b", "8192"])?;
        let mut gen = Running(
            Command::new(&self.workload)
                .arg(self.calls.to_string())
                .stdin(Stdio::piped())
                .spawn()
                .context("the workload")?,
        );
        let add = rule("-a", gen.0.id());
        auditctl(&add.iter().map(String::as_str).collect::<Vec<_>>())?;
        let _rule = RuleGuard(rule("-d", gen.0.id()));
        let lost0 = status()?.lost;
        let cpu0 = cpu_of(pid);
        auditctl(&["-e", "1"])?;
        let t = Instant::now();
        {
            use std::io::Write as _;
            let mut go = gen.0.stdin.take().context("the workload's stdin")?;
            go.write_all(b"g")?;
        }
        let st = gen.0.wait()?;
        let workload = t.elapsed().as_secs_f64();
        auditctl(&["-e", "0"])?;
        ensure!(st.success(), "the workload failed");
        // Idle again: CPU and log size unchanged for a second.
        let mut last = (cpu_of(pid), fs::metadata(&log).map_or(0, |m| m.len()));
        let mut still = Instant::now();
        while still.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(100));
            let now = (cpu_of(pid), fs::metadata(&log).map_or(0, |m| m.len()));
            if now != last {
                last = now;
                still = Instant::now();
            }
        }
        let cpu = cpu_of(pid) - cpu0;
        let rss_kb = status_kb(pid, "VmHWM:");
        let anon_kb = status_kb(pid, "RssAnon:");
        let lost = status()?.lost.saturating_sub(lost0);
        let mut child = child;
        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        let _ = child.0.wait();
        let kept = if c.who == Who::Floor {
            // SYSCALL, PROCTITLE and EOE per call.
            let t = fs::read_to_string(dir.join("stderr")).unwrap_or_default();
            t.split_whitespace().last().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0) / 3
        } else {
            count_events(&log)
        };
        ensure!(status()?.pid == 0, "{} left a registered pid", c.name());
        let _ = fs::remove_dir_all(&dir);
        Ok(Sample { workload, cpu, kept, lost, rss_kb, anon_kb })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn report(samples: &[Vec<Sample>], runs: usize, calls: u64, load: String) -> String {
    let med = |i: usize, f: fn(&Sample) -> f64| median(samples[i].iter().map(f).collect());
    let floor = med(0, |s| s.workload);
    let mut o = String::new();
    let _ = writeln!(o, "{SECTION}\n");
    let _ = writeln!(
        o,
        "Generated by `cargo xtask bench events` (xtask/src/bench_events.rs): {calls} getppid \
         calls under one rule, `backlog_limit 8192`, each collector in turn, {runs} runs, \
         medians (events kept: the smallest of the runs). Workload is the program's own wall \
         time; collector CPU is utime+stime until it is idle again; RSS is VmHWM. Load \
         average at the start: {load}.\n"
    );
    let _ = writeln!(o, "| collector | workload | × floor | events kept | kernel lost | collector CPU | CPU per event | peak RSS | anonymous RSS after |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    for (i, c) in COLLECTORS.iter().enumerate() {
        let w = med(i, |s| s.workload);
        let cpu = med(i, |s| s.cpu);
        let kept = samples[i].iter().map(|s| s.kept).min().unwrap_or(0);
        let lost = samples[i].iter().map(|s| s.lost).max().unwrap_or(0);
        let rss = med(i, |s| s.rss_kb as f64);
        let anon = med(i, |s| s.anon_kb as f64);
        let _ = writeln!(
            o,
            "| {} | {w:.2} s | {:.2}× | {kept} | {lost} | {cpu:.2} s | {:.1} µs | {:.1} MiB | {:.1} MiB |",
            c.name(),
            w / floor,
            cpu * 1e6 / calls as f64,
            rss / 1024.0,
            anon / 1024.0
        );
    }
    let idx = |who: Who, f: &str, b: Build| {
        COLLECTORS.iter().position(|c| c.who == who && c.format == f && c.build == b)
    };
    let _ = writeln!(o, "\nTargets (issue 15):\n");
    for (f, build) in [
        ("RAW", Build::Release),
        ("RAW", Build::Static),
        ("ENRICHED", Build::Release),
        ("ENRICHED", Build::Static),
    ] {
        let (Some(n), Some(a)) = (idx(Who::Nlaudit, f, build), idx(Who::Auditd, f, Build::Release))
        else {
            continue;
        };
        let target = if f == "RAW" { 1.2 } else { 1.5 };
        let w = med(n, |s| s.workload) / floor;
        let cpu = med(n, |s| s.cpu) / med(a, |s| s.cpu);
        let rss = med(n, |s| s.rss_kb as f64) / med(a, |s| s.rss_kb as f64);
        let kept = samples[n].iter().all(|s| s.kept == calls && s.lost == 0);
        let ok = |b: bool| if b { "met" } else { "**not met**" };
        let _ = writeln!(
            o,
            "- {f}, the {} build: workload {w:.2}× the floor (target ≤ {target}×: {}); CPU per event {cpu:.2}× \
             auditd's (≤ 0.5×: {}); peak RSS {rss:.2}× auditd's (≤ 1×: {}); every event kept, \
             kernel `lost` unchanged: {}.",
            if build == Build::Release { "release" } else { "static (packaged)" },
            ok(w <= target),
            ok(cpu <= 0.5),
            ok(rss <= 1.0),
            ok(kept)
        );
    }
    let _ = writeln!(
        o,
        "\nPeak RSS is mostly file pages: nlaudit is one {:.1} MiB binary (release) for every \
         command, and the pages start-up touches stay resident, with those of the shared \
         glibc and its loader in the release build; the static build (what the .deb, the \
         units and the image run) carries only the parts of glibc it uses. The daemon's own \
         (anonymous) memory is the last column. The multicast reader has no \
         back-pressure: what it keeps depends on the machine's load.",
        fs::metadata(util::root().join("target/release/nlaudit")).map_or(0.0, |m| m.len() as f64)
            / (1024.0 * 1024.0)
    );
    o
}
