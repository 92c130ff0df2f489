//! `cargo xtask bench [--runs N] [--short-runs N] [--no-write] [--only-everyday]`: nlaudit
//! against auditctl on the same kernel, in one run, and the results in `docs/benchmarks.md`.
//!
//! What is measured (wall time from spawn to exit, `wait4` rusage for CPU time, GNU time
//! for peak RSS; medians of N runs, nlaudit and auditctl alternating):
//!
//! - the everyday commands, each for both builds (`cargo build --release`, the README's for NSS;
//!   `cargo xtask dist`, the static binary of the packages and the image) against auditctl,
//!   in rotating order, medians of `--short-runs` (default 150) runs: `list` with 0, 50 and
//!   500 rules, `status`, `add` and `delete` of one rule (50 in force), and `docker check`
//!   against docker-bench's way, one `auditctl -l | grep PATH` per control in one shell;
//!   each with the floor of the same kernel exchange made in this process;
//! - `list` of 5000 rules (both builds) against `auditctl -l` (time and peak memory), with
//!   the floor of a raw receiver that only counts the kernel's messages;
//! - `load` of 1000 and 5000 rules (both builds) against `auditctl -R`, with the floor of a
//!   raw sender that packs the same rules into as few datagrams as the kernel takes;
//! - `apply` of an unchanged 5000-rule set against what augenrules does (`auditctl -R` of a
//!   file starting with `-D`: delete everything, load everything; measured once, it takes
//!   a minute); `apply` with one rule added at the end, with the last rule changed, and with
//!   a rule inserted 10 rules from the end and 10 from the head (10 re-adds each).
//!
//! The floors use a raw NETLINK_AUDIT socket opened here (plain libc calls: xtask has no
//! dependencies beyond anyhow), and rules encoded here; a check compares what the raw sender
//! loaded with what `nlaudit load` loaded.
//!
//! Between runs the kernel is emptied with `nlaudit delete --all`. The kernel waits for an
//! RCU grace period on every rule delete (`synchronize_rcu` in `audit_del_rule`; about
//! 12 ms here), so 5000 deletes take a minute; the resets therefore run with
//! `/sys/kernel/rcu_expedited` set, and the value found is put back before every timed run
//! and at the end. Every timed run sees the machine's own setting.
//!
//! The bench holds the kernel test lock (`/run/nlaudit-tests.lock`) throughout, saves the
//! kernel's rules as the raw bytes the kernel listed, and adds them back, in order, at the
//! end. It changes no setting. It must run as root.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::util;

const RCU_EXPEDITED: &str = "/sys/kernel/rcu_expedited";
const LOCK: &str = "/run/nlaudit-tests.lock";

const USAGE: &str = "bench [--runs N] [--short-runs N] [--no-write] [--only-everyday]";

pub fn run(args: &[String]) -> Result<()> {
    if args.first().is_some_and(|a| a == "events") {
        return crate::bench_events::run(&args[1..]);
    }
    let mut runs = 7usize;
    let mut short_runs = 150usize;
    let mut write = true;
    let mut only_everyday = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                runs = it.next().context("--runs takes a number")?.parse().context("--runs N")?
            }
            "--short-runs" => {
                short_runs = it
                    .next()
                    .context("--short-runs takes a number")?
                    .parse()
                    .context("--short-runs N")?
            }
            "--no-write" => write = false,
            // For iterating on the short commands: prints their tables, writes nothing.
            "--only-everyday" => {
                only_everyday = true;
                write = false;
            }
            other => bail!("unknown bench argument {other:?} (usage: {USAGE})"),
        }
    }
    ensure!(runs >= 1, "--runs must be at least 1");
    ensure!(short_runs >= 1, "--short-runs must be at least 1");
    // SAFETY: geteuid has no preconditions.
    ensure!(
        unsafe { sys::geteuid() } == 0,
        "bench must run as root: it loads rules into the kernel"
    );
    let auditctl = ["/usr/sbin/auditctl", "/sbin/auditctl"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .context("auditctl not found: install Debian's auditd package (the reference)")?;
    let root = util::root();
    eprintln!("bench: building the release nlaudit");
    util::run(
        Command::new(env!("CARGO"))
            .args(["build", "--release", "-p", "nlaudit"])
            .current_dir(&root),
    )?;
    let nlaudit = root.join("target/release/nlaudit");
    eprintln!("bench: building the static nlaudit (cargo xtask dist)");
    let dist = crate::dist::build()?;

    eprintln!("bench: waiting for the kernel test lock {LOCK}");
    let _lock = util::Lock::take(Path::new(LOCK))?;
    let rcu = Rcu::new()?;
    let saved = raw_list_payloads().context("saving the kernel's rules")?;
    eprintln!("bench: saved the kernel's {} rules; they are restored at the end", saved.len());
    let work = std::env::temp_dir().join(format!("nlaudit-bench-{}", std::process::id()));
    fs::create_dir_all(&work)?;
    fs::set_permissions(&work, fs::Permissions::from_mode(0o700))?;
    let b = Bench { nlaudit, dist, auditctl, rcu, work: work.clone(), runs, short_runs };
    let result = if only_everyday {
        b.everyday().map(|rows| {
            let mut o = String::new();
            everyday_tables(&mut o, short_runs, &rows);
            o
        })
    } else {
        b.all()
    };
    // Restore whatever happened.
    let restored = b.reset().and_then(|()| raw_add(&saved).map(|_| ()));
    let _ = fs::remove_dir_all(&work);
    let report = result?;
    restored.context("restoring the kernel's rules")?;
    eprintln!("bench: restored the kernel's {} rules", saved.len());
    print!("{report}");
    if write {
        let path = root.join("docs/benchmarks.md");
        // `bench events` writes its own section at the end: keep it.
        let old = fs::read_to_string(&path).unwrap_or_default();
        let report = match crate::bench_events::existing_section(&old) {
            Some(events) => format!("{}\n\n{events}", report.trim_end()),
            None => report,
        };
        fs::write(&path, &report)?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}

struct Bench {
    /// `cargo build --release`: the README's build where user names need glibc's NSS.
    nlaudit: PathBuf,
    /// `cargo xtask dist`: the static binary of the packages and the image.
    dist: PathBuf,
    auditctl: PathBuf,
    rcu: Rcu,
    work: PathBuf,
    /// Runs of the rows at scale.
    runs: usize,
    /// Runs of the everyday rows (short commands: at least 100 for a steady median).
    short_runs: usize,
}

/// The two builds measured, in the order of the tables' columns.
const BUILDS: [&str; 2] = ["release", "static"];

/// What exit statuses a timed run accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accept {
    /// Only success.
    Zero,
    /// Success or 1 (`docker check` exits 1 when a control fails).
    ZeroOrOne,
}

/// Whether a timed run keeps its standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    Discard,
    Capture,
}

/// One timed process run.
#[derive(Clone, Copy, Debug)]
struct Sample {
    wall: f64,
    cpu: f64,
    rss_kb: i64,
}

/// Medians of samples.
#[derive(Clone, Copy, Debug)]
struct Stat {
    wall: f64,
    cpu: f64,
    rss_kb: i64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn stat(samples: &[Sample]) -> Stat {
    let mut w: Vec<f64> = samples.iter().map(|s| s.wall).collect();
    let mut c: Vec<f64> = samples.iter().map(|s| s.cpu).collect();
    let mut r: Vec<f64> = samples.iter().map(|s| s.rss_kb as f64).collect();
    Stat { wall: median(&mut w), cpu: median(&mut c), rss_kb: median(&mut r) as i64 }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The rule set: exit-list syscall rules, all different (auid), as auditctl users write
/// them. `text(i)` and `payload(i)` are the same rule.
const SYSCALLS: [(&str, u32); 10] = [
    ("open", 2),
    ("openat", 257),
    ("read", 0),
    ("write", 1),
    ("close", 3),
    ("chmod", 90),
    ("chown", 92),
    ("unlink", 87),
    ("rename", 82),
    ("mkdir", 83),
];

fn text(i: usize) -> String {
    let (name, _) = SYSCALLS[i % SYSCALLS.len()];
    format!("-a always,exit -F arch=b64 -S {name} -F auid={} -k bench{}", 1000 + i, i % 7)
}

/// `struct audit_rule_data` for [`text`]: exit list, always, fields arch, loginuid, key.
fn payload(i: usize) -> Vec<u8> {
    const AUDIT_FILTER_EXIT: u32 = 4;
    const AUDIT_ALWAYS: u32 = 2;
    const AUDIT_ARCH: u32 = 11;
    const AUDIT_LOGINUID: u32 = 9;
    const AUDIT_FILTERKEY: u32 = 210;
    const AUDIT_EQUAL: u32 = 0x4000_0000;
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    let (_, nr) = SYSCALLS[i % SYSCALLS.len()];
    let key = format!("bench{}", i % 7);
    let mut mask = [0u32; 64];
    mask[(nr / 32) as usize] |= 1 << (nr % 32);
    let mut fields = [0u32; 64];
    let mut values = [0u32; 64];
    let mut flags = [0u32; 64];
    for (k, (f, v)) in [
        (AUDIT_ARCH, AUDIT_ARCH_X86_64),
        (AUDIT_LOGINUID, 1000 + i as u32),
        (AUDIT_FILTERKEY, key.len() as u32),
    ]
    .into_iter()
    .enumerate()
    {
        fields[k] = f;
        values[k] = v;
        flags[k] = AUDIT_EQUAL;
    }
    let mut out = Vec::with_capacity(1040 + key.len());
    for w in [AUDIT_FILTER_EXIT, AUDIT_ALWAYS, 3]
        .iter()
        .chain(&mask)
        .chain(&fields)
        .chain(&values)
        .chain(&flags)
        .chain(std::iter::once(&(key.len() as u32)))
    {
        out.extend_from_slice(&w.to_ne_bytes());
    }
    out.extend_from_slice(key.as_bytes());
    out
}

fn rules_file(lines: &[String]) -> String {
    let mut s = String::from("-D\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

impl Bench {
    fn file(&self, name: &str, text: &str) -> Result<PathBuf> {
        let p = self.work.join(name);
        fs::write(&p, text)?;
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600))?;
        Ok(p)
    }

    /// Runs a command to completion; wall time, CPU time and peak RSS from `wait4`.
    /// Returns the sample and the standard output when `capture`.
    fn timed(&self, program: &Path, args: &[&str], capture: bool) -> Result<(Sample, String)> {
        let output = if capture { Output::Capture } else { Output::Discard };
        self.timed_with(program, args, output, Accept::Zero)
    }

    /// [`Bench::timed`], accepting the exit statuses `accept` names.
    fn timed_with(
        &self,
        program: &Path,
        args: &[&str],
        output: Output,
        accept: Accept,
    ) -> Result<(Sample, String)> {
        let capture = output == Output::Capture;
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
        cmd.stdout(if capture { Stdio::piped() } else { Stdio::null() });
        let start = Instant::now();
        let mut child =
            cmd.spawn().with_context(|| format!("cannot start {}", program.display()))?;
        let pid = child.id() as i32;
        // Drain the pipes while the child runs (a listing is larger than a pipe's buffer).
        let drain = |p: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                if let Some(mut p) = p {
                    let _ = p.read_to_string(&mut s);
                }
                s
            })
        };
        let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
        let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
        let mut status = 0;
        let mut ru = sys::Rusage::default();
        // SAFETY: `pid` is our child, not yet reaped; status and ru are valid for writes.
        let rc = unsafe { sys::wait4(pid, &mut status, 0, &mut ru) };
        let wall = start.elapsed();
        ensure!(rc == pid, "wait4: {}", std::io::Error::last_os_error());
        let out = out.join().unwrap_or_default();
        let err = err.join().unwrap_or_default();
        // The child is reaped; `Child` is dropped without waiting.
        let code = (status >> 8) & 0xff;
        let exited_ok =
            status & 0x7f == 0 && (code == 0 || (accept == Accept::ZeroOrOne && code == 1));
        ensure!(
            exited_ok,
            "{} {} failed (status {status:#x}): {err}",
            program.display(),
            args.join(" ")
        );
        let tv = |t: sys::Timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok((
            Sample {
                wall: secs(wall),
                cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
                rss_kb: ru.ru_maxrss,
            },
            out,
        ))
    }

    /// Peak RSS in KiB, from GNU time: `wait4` rusage of a direct child would include the
    /// bench's own pages (Linux carries the RSS high-water mark across fork and exec).
    fn peak_rss(&self, program: &Path, args: &[&str]) -> Result<Option<i64>> {
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            return Ok(None);
        }
        let out = self.work.join("rss.txt");
        let mut a = vec!["-f", "%M", "-o", s(&out), s(program)];
        a.extend_from_slice(args);
        self.timed(time, &a, false)?;
        let kb = fs::read_to_string(&out)?.trim().parse().context("GNU time's %M")?;
        Ok(Some(kb))
    }

    /// Empties the kernel's rule lists (untimed; deletes with expedited RCU).
    fn reset(&self) -> Result<()> {
        let _fast = self.rcu.expedite()?;
        let o =
            Command::new(&self.nlaudit).args(["delete", "--all"]).stdout(Stdio::null()).output()?;
        ensure!(o.status.success(), "nlaudit delete --all: {}", String::from_utf8_lossy(&o.stderr));
        Ok(())
    }

    /// Brings the kernel to `file`'s rules (untimed; deletes with expedited RCU).
    fn set_to(&self, file: &Path) -> Result<()> {
        let _fast = self.rcu.expedite()?;
        self.timed(&self.nlaudit, &["apply", s(file)], false).map(|_| ())
    }

    fn all(&self) -> Result<String> {
        let r = self.runs;
        let all: Vec<String> = (0..5010).map(text).collect();
        let n1000 = self.file("load-1000.rules", &rules_file(&all[..1000]))?;
        let n5000 = self.file("load-5000.rules", &rules_file(&all[..5000]))?;
        let n5001 = self.file("plus-one.rules", &rules_file(&all[..5001]))?;
        let mut changed = all[..5000].to_vec();
        changed[4999] = all[5005].clone();
        let changed = self.file("last-changed.rules", &rules_file(&changed))?;
        let mut tail = all[..5000].to_vec();
        tail.insert(4990, all[5006].clone());
        let tail = self.file("insert-tail.rules", &rules_file(&tail))?;
        let mut head = all[..5000].to_vec();
        head.insert(10, all[5007].clone());
        let head = self.file("insert-head.rules", &rules_file(&head))?;
        let machine = machine(&self.nlaudit, &self.auditctl, self.rcu.original.trim());

        // The floor sender must load exactly what nlaudit loads.
        self.reset()?;
        let p5000: Vec<Vec<u8>> = (0..5000).map(payload).collect();
        raw_add(&p5000[..50])?;
        let raw_text = self.timed(&self.nlaudit, &["list"], true)?.1;
        self.reset()?;
        self.timed(&self.nlaudit, &["load", s(&n5000)], false)?;
        let ours = self.timed(&self.nlaudit, &["list"], true)?.1;
        let ours50: String = ours.lines().take(50).map(|l| format!("{l}\n")).collect();
        ensure!(
            raw_text == ours50,
            "the raw sender's rules differ from nlaudit load's:\n{raw_text}\n{ours50}"
        );
        let theirs = self.timed(&self.auditctl, &["-l"], true)?.1;
        ensure!(ours == theirs, "nlaudit list and auditctl -l differ on the bench set");

        eprintln!("bench: list 5000 ({r} runs)");
        let raw5000 = || -> Result<Duration> {
            let (d, n) = raw_list_count()?;
            ensure!(n == 5000, "the raw receiver counted {n} rules");
            Ok(d)
        };
        let cmp = self.compare(
            r,
            &Compare { ours: &["list"], theirs: &["-l"], accept: Accept::Zero },
            &mut || Ok(()),
            Some(&mut || raw5000()),
        )?;
        let list_static = cmp.ours[1];
        let mut list = (cmp.ours[0], cmp.theirs, cmp.floor.unwrap_or(NO_STAT));
        let (mut nl_rss, mut ac_rss) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            if let Some(kb) = self.peak_rss(&self.nlaudit, &["list"])? {
                nl_rss.push(kb as f64);
            }
            if let Some(kb) = self.peak_rss(&self.auditctl, &["-l"])? {
                ac_rss.push(kb as f64);
            }
        }
        list.0.rss_kb = median(&mut nl_rss) as i64;
        list.1.rss_kb = median(&mut ac_rss) as i64;

        eprintln!("bench: apply, unchanged 5000 ({r} runs)");
        let mut unchanged = Vec::new();
        for _ in 0..r {
            let (smp, out) = self.timed(&self.nlaudit, &["apply", s(&n5000)], true)?;
            ensure!(out.contains("0 added, 0 deleted, 5000 kept, 0 re-added"), "apply: {out}");
            unchanged.push(smp);
        }
        let scenario = |file: &Path, expect: &str| -> Result<(Stat, String)> {
            let mut v = Vec::new();
            let mut line = String::new();
            for _ in 0..r {
                self.set_to(&n5000)?;
                let (smp, out) = self.timed(&self.nlaudit, &["apply", s(file)], true)?;
                ensure!(out.contains(expect), "apply {}: {out}", file.display());
                line = out.trim().to_string();
                v.push(smp);
            }
            Ok((stat(&v), line))
        };
        eprintln!("bench: apply with one rule added, changed, inserted ({r} runs each)");
        let plus = scenario(&n5001, "1 added, 0 deleted, 5000 kept, 0 re-added")?;
        let last = scenario(&changed, "1 added, 1 deleted, 4999 kept, 0 re-added")?;
        let ins_tail = scenario(&tail, "1 added, 0 deleted, 4990 kept, 10 re-added")?;
        let ins_head = scenario(&head, "1 added, 0 deleted, 4990 kept, 10 re-added")?;
        self.set_to(&n5000)?;

        eprintln!("bench: augenrules' -D + reload of 5000 (1 run; about a minute of deletes)");
        let aug = self.timed(&self.auditctl, &["-R", s(&n5000)], false)?.0;

        let mut loads = Vec::new();
        for (n, file) in [(1000usize, &n1000), (5000, &n5000)] {
            eprintln!("bench: load {n} ({r} runs)");
            let cmp = self.compare(
                r,
                &Compare {
                    ours: &["load", s(file)],
                    theirs: &["-R", s(file)],
                    accept: Accept::Zero,
                },
                &mut || self.reset(),
                Some(&mut || raw_add(&p5000[..n])),
            )?;
            loads.push(Load {
                n,
                ours: cmp.ours,
                theirs: cmp.theirs,
                floor: cmp.floor.unwrap_or(NO_STAT),
            });
        }
        self.reset()?;

        let everyday = self.everyday()?;
        self.reset()?;

        Ok(report(Report {
            machine,
            runs: r,
            short_runs: self.short_runs,
            everyday,
            list,
            list_static,
            loads,
            unchanged: stat(&unchanged),
            aug,
            plus,
            last,
            ins_tail,
            ins_head,
        }))
    }
}

/// The arguments of one comparison: nlaudit's and auditctl's.
struct Compare<'a> {
    ours: &'a [&'a str],
    theirs: &'a [&'a str],
    accept: Accept,
}

/// Medians of one comparison: each build of nlaudit ([`BUILDS`] order), auditctl, and the
/// floor where there is one.
struct Compared {
    ours: [Stat; 2],
    theirs: Stat,
    floor: Option<Stat>,
}

/// One load row.
struct Load {
    n: usize,
    ours: [Stat; 2],
    theirs: Stat,
    floor: Stat,
}

/// One everyday row.
struct Everyday {
    what: &'static str,
    reference: String,
    cmp: Compared,
    /// The ratio to auditctl to reach.
    target: f64,
    /// What the floor measures.
    floor: &'static str,
}

const NO_STAT: Stat = Stat { wall: f64::NAN, cpu: f64::NAN, rss_kb: 0 };

/// Which of the three runs goes `k`-th in round `i`: the order rotates, so that no tool
/// always follows another (the page cache, the CPU's frequency, the other tenants).
fn rotation(i: usize, k: usize) -> usize {
    (i + k) % 3
}

impl Bench {
    /// The builds, in [`BUILDS`] order.
    fn builds(&self) -> [&Path; 2] {
        [&self.nlaudit, &self.dist]
    }

    /// `runs` rounds of: both nlaudit builds and auditctl (`theirs`; a program of its own when
    /// `theirs` starts with one), in rotating order, `prepare` (untimed) before each; then
    /// the floor, `prepare` before it too.
    fn compare(
        &self,
        runs: usize,
        c: &Compare<'_>,
        prepare: &mut dyn FnMut() -> Result<()>,
        floor: Option<&mut dyn FnMut() -> Result<Duration>>,
    ) -> Result<Compared> {
        self.compare_with(runs, c, &self.auditctl, prepare, floor)
    }

    fn compare_with(
        &self,
        runs: usize,
        c: &Compare<'_>,
        reference: &Path,
        prepare: &mut dyn FnMut() -> Result<()>,
        mut floor: Option<&mut dyn FnMut() -> Result<Duration>>,
    ) -> Result<Compared> {
        let mut ours: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
        let mut theirs = Vec::new();
        let mut raw = Vec::new();
        for i in 0..runs {
            for k in 0..3 {
                prepare()?;
                let who = rotation(i, k);
                if let (Some(bin), Some(out)) = (self.builds().get(who), ours.get_mut(who)) {
                    out.push(self.timed_with(bin, c.ours, Output::Discard, c.accept)?.0);
                } else {
                    theirs.push(
                        self.timed_with(reference, c.theirs, Output::Discard, Accept::Zero)?.0,
                    );
                }
            }
            if let Some(f) = floor.as_deref_mut() {
                prepare()?;
                raw.push(Sample { wall: secs(f()?), cpu: f64::NAN, rss_kb: 0 });
            }
        }
        Ok(Compared {
            ours: [stat(&ours[0]), stat(&ours[1])],
            theirs: stat(&theirs),
            floor: floor.map(|_| stat(&raw)),
        })
    }

    /// The kernel holds exactly `payloads` (untimed; deletes with expedited RCU).
    fn hold(&self, payloads: &[Vec<u8>]) -> Result<()> {
        self.reset()?;
        raw_add(payloads).map(|_| ())
    }

    /// The everyday rows: short commands as scripts and people run them.
    fn everyday(&self) -> Result<Vec<Everyday>> {
        let r = self.short_runs;
        let mut rows = Vec::new();
        let base: Vec<Vec<u8>> = (0..500).map(payload).collect();
        for (n, what, target) in [
            (0usize, "list, 0 rules", 0.8),
            (50, "list, 50 rules", 0.8),
            (500, "list, 500 rules", 0.4),
        ] {
            eprintln!("bench: {what} ({r} runs)");
            self.hold(&base[..n])?;
            let mut floor = || -> Result<Duration> {
                let (d, got) = raw_list_count()?;
                ensure!(got == n, "the raw receiver counted {got} rules, not {n}");
                Ok(d)
            };
            let cmp = self.compare(
                r,
                &Compare { ours: &["list"], theirs: &["-l"], accept: Accept::Zero },
                &mut || Ok(()),
                Some(&mut floor),
            )?;
            rows.push(Everyday {
                what,
                reference: "`auditctl -l`".into(),
                cmp,
                target,
                floor: "raw receiver",
            });
        }

        // The rest with 50 rules in force.
        self.hold(&base[..50])?;
        eprintln!("bench: status ({r} runs)");
        let cmp = self.compare(
            r,
            &Compare { ours: &["status"], theirs: &["-s"], accept: Accept::Zero },
            &mut || Ok(()),
            Some(&mut raw_status),
        )?;
        rows.push(Everyday {
            what: "status",
            reference: "`auditctl -s`".into(),
            cmp,
            target: 0.8,
            floor: "raw GET_FEATURE + GET",
        });

        // One rule added, then taken away again (untimed), and the other way round.
        const ONE: usize = 6000;
        let rule = text(ONE);
        let words: Vec<&str> = rule.split_whitespace().collect();
        let one = [payload(ONE)];
        let mut ours_add = vec!["add"];
        ours_add.extend(&words);
        let mut ours_del = vec!["delete"];
        ours_del.extend(&words);
        let mut theirs_del = words.clone();
        if let Some(first) = theirs_del.first_mut() {
            *first = "-d";
        }
        eprintln!("bench: add one rule ({r} runs)");
        let mut absent = || -> Result<()> {
            let _fast = self.rcu.expedite()?;
            // ENOENT when it is not there (the first round): nothing to do.
            let _ = raw_delete(&one);
            Ok(())
        };
        let cmp = self.compare(
            r,
            &Compare { ours: &ours_add, theirs: &words, accept: Accept::Zero },
            &mut absent,
            Some(&mut || raw_add(&one)),
        )?;
        absent()?;
        rows.push(Everyday {
            what: "add one rule (50 in force)",
            reference: "`auditctl -a`".into(),
            cmp,
            target: 0.8,
            floor: "raw add",
        });
        eprintln!("bench: delete one rule ({r} runs)");
        let cmp = self.compare(
            r,
            &Compare { ours: &ours_del, theirs: &theirs_del, accept: Accept::Zero },
            &mut || raw_add(&one).map(|_| ()),
            Some(&mut || raw_delete(&one)),
        )?;
        rows.push(Everyday {
            what: "delete one rule (50 in force)",
            reference: "`auditctl -d`".into(),
            cmp,
            target: 0.8,
            floor: "raw delete",
        });

        // docker-bench: one `auditctl -l | grep PATH` per control, in one shell.
        eprintln!("bench: docker check ({r} runs)");
        let mut script = String::new();
        for p in DOCKER_PATHS {
            let _ = writeln!(script, "{} -l | grep -q -- '{p}'", s(&self.auditctl));
        }
        script.push_str("exit 0\n");
        let cmp = self.compare_with(
            r,
            &Compare {
                ours: &["docker", "check"],
                theirs: &["-c", &script],
                accept: Accept::ZeroOrOne,
            },
            Path::new("/bin/sh"),
            &mut || Ok(()),
            Some(&mut || raw_list_count().map(|(d, _)| d)),
        )?;
        rows.push(Everyday {
            what: "docker check (50 rules in force)",
            reference: format!("`sh`: `auditctl -l | grep` × {}", DOCKER_PATHS.len()),
            cmp,
            target: 0.8,
            floor: "one raw list",
        });
        Ok(rows)
    }
}

/// The files CIS Docker 1.1.3-1.1.18 audit, one `auditctl -l | grep` each in docker-bench.
const DOCKER_PATHS: [&str; 16] = [
    "/usr/bin/dockerd",
    "/run/containerd",
    "/var/lib/docker",
    "/etc/docker",
    "docker.service",
    "containerd.sock",
    "docker.socket",
    "/etc/default/docker",
    "/etc/docker/daemon.json",
    "/etc/containerd/config.toml",
    "/etc/sysconfig/docker",
    "/usr/bin/containerd",
    "/usr/bin/containerd-shim",
    "/usr/bin/containerd-shim-runc-v1",
    "/usr/bin/containerd-shim-runc-v2",
    "/usr/bin/runc",
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

struct Report {
    machine: String,
    runs: usize,
    short_runs: usize,
    everyday: Vec<Everyday>,
    list: (Stat, Stat, Stat),
    list_static: Stat,
    loads: Vec<Load>,
    unchanged: Stat,
    aug: Sample,
    plus: (Stat, String),
    last: (Stat, String),
    ins_tail: (Stat, String),
    ins_head: (Stat, String),
}

/// The everyday tables: times, then CPU.
fn everyday_tables(o: &mut String, short_runs: usize, rows: &[Everyday]) {
    let ms3 = |x: f64| format!("{:.3} ms", x * 1000.0);
    let ratio = |a: f64, b: f64| format!("{:.2}×", a / b);
    let ok = |c: bool| if c { "yes" } else { "**no**" };
    let _ = writeln!(o, "## Everyday commands\n");
    let _ = writeln!(
        o,
        "Short commands, medians of {} runs each, both builds and auditctl in rotating order, \
         in the same run: the `release` build is `cargo build --release` (the README's build for \
         hosts that need glibc's NSS), `static` is `cargo xtask dist` (the README's quick \
         start, the packages and the image). Ratios are to \
         auditctl; the floor runs in the bench process, without starting one.\n",
        short_runs
    );
    let _ = writeln!(
        o,
        "| what | reference | release | ratio | static | ratio | target | met (release, static) | floor |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    for e in rows {
        let [rel, st] = e.cmp.ours;
        let th = e.cmp.theirs;
        let floor = e.cmp.floor.map_or(String::new(), |f| {
            format!("{} {} ({})", e.floor, ms3(f.wall), ratio(f.wall, th.wall))
        });
        let _ = writeln!(
            o,
            "| {} | {} {} | {} | {} | {} | {} | ≤ {}× | {}, {} | {floor} |",
            e.what,
            e.reference,
            ms3(th.wall),
            ms3(rel.wall),
            ratio(rel.wall, th.wall),
            ms3(st.wall),
            ratio(st.wall, th.wall),
            e.target,
            ok(rel.wall <= e.target * th.wall),
            ok(st.wall <= e.target * th.wall),
        );
    }
    let _ = writeln!(o, "\nCPU time of the everyday commands (user+sys, medians):\n");
    let _ = writeln!(o, "| what | release | static | auditctl | ratio release | ratio static |");
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for e in rows {
        let [rel, st] = e.cmp.ours;
        let th = e.cmp.theirs;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            e.what,
            ms3(rel.cpu),
            ms3(st.cpu),
            ms3(th.cpu),
            ratio(rel.cpu, th.cpu),
            ratio(st.cpu, th.cpu)
        );
    }
}

fn report(r: Report) -> String {
    let mut o = String::new();
    let ms = |x: f64| format!("{:.1} ms", x * 1000.0);
    let ratio = |a: f64, b: f64| {
        let x = a / b;
        if x < 0.01 {
            format!("{x:.4}×")
        } else {
            format!("{x:.2}×")
        }
    };
    let ok = |c: bool| if c { "yes" } else { "**no**" };
    let _ = writeln!(o, "# Benchmarks\n");
    let _ = writeln!(
        o,
        "Generated by `cargo xtask bench` (xtask/src/bench.rs): nlaudit and Debian's auditctl \
         3.0.9, side by side in one run on the same kernel. Times are wall-clock from spawn to \
         exit (what a user waits for), medians of {} runs for the short commands and {} at \
         scale, both nlaudit builds and auditctl in rotating order (apply: the release build \
         alone); CPU is user+sys from `wait4`, memory the peak RSS from GNU time (3 runs). \
         The floors run inside the bench process (no exec) on a raw NETLINK_AUDIT socket: \
         they show what the kernel itself costs. Other engineers' builds and tests share this \
         2-CPU VM: wall times move with their load (in the machine section); CPU times are \
         steadier.\n",
        r.short_runs, r.runs
    );
    let _ = writeln!(o, "## Machine\n\n{}", r.machine);
    let (nl, ac, raw) = r.list;
    everyday_tables(&mut o, r.short_runs, &r.everyday);
    let _ = writeln!(o, "\n## At scale\n");
    let _ = writeln!(o, "Medians of {} runs.\n", r.runs);
    let _ = writeln!(o, "| what | nlaudit | reference | ratio | target | met | floor |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|");
    for (build, x) in [("release", nl), ("static", r.list_static)] {
        let _ = writeln!(
            o,
            "| list 5000 rules ({build}): time | {} | `auditctl -l` {} | {} | ≤ 0.35× | {} | raw receiver {} ({}) |",
            ms(x.wall),
            ms(ac.wall),
            ratio(x.wall, ac.wall),
            ok(x.wall <= 0.35 * ac.wall),
            ms(raw.wall),
            ratio(raw.wall, ac.wall)
        );
    }
    let _ = writeln!(
        o,
        "| list 5000 rules: peak RSS | {} KiB | `auditctl -l` {} KiB | {} | ≤ 1.0× | {} | |",
        nl.rss_kb,
        ac.rss_kb,
        ratio(nl.rss_kb as f64, ac.rss_kb as f64),
        ok(nl.rss_kb <= ac.rss_kb)
    );
    for l in &r.loads {
        let target = if l.n <= 1000 { 0.45 } else { 0.9 };
        let (ac, raw) = (l.theirs, l.floor);
        for (build, x) in BUILDS.iter().zip(l.ours) {
            let _ = writeln!(
                o,
                "| load {} rules ({build}) | {} | `auditctl -R` {} | {} | ≤ {target}× | {} | raw batched sender {} ({}) |",
                l.n,
                ms(x.wall),
                ms(ac.wall),
                ratio(x.wall, ac.wall),
                ok(x.wall <= target * ac.wall),
                ms(raw.wall),
                ratio(raw.wall, ac.wall)
            );
        }
    }
    let _ = writeln!(
        o,
        "| apply, unchanged 5000-rule set | {} | augenrules: `auditctl -R` with `-D` first, {:.1} s (1 run) | {} | ≤ 0.2 s | {} | |",
        ms(r.unchanged.wall),
        r.aug.wall,
        ratio(r.unchanged.wall, r.aug.wall),
        ok(r.unchanged.wall <= 0.2)
    );
    let _ = writeln!(
        o,
        "| apply, one rule added at the end | {} | apply unchanged {} | {} | ≈ a list plus one change | work: 1 add | |",
        ms(r.plus.0.wall),
        ms(r.unchanged.wall),
        ratio(r.plus.0.wall, r.unchanged.wall)
    );
    let _ = writeln!(
        o,
        "| apply, last rule changed | {} | apply unchanged {} | {} | ≈ a list plus one change | work: 1 add, 1 delete ({} more than one add: the delete's RCU grace period) | |",
        ms(r.last.0.wall),
        ms(r.unchanged.wall),
        ratio(r.last.0.wall, r.unchanged.wall),
        ms(r.last.0.wall - r.plus.0.wall)
    );
    for (name, x) in [("10 from the end", &r.ins_tail), ("10 from the head", &r.ins_head)] {
        let per = (x.0.wall - r.plus.0.wall) / 10.0;
        let _ = writeln!(
            o,
            "| apply, one rule inserted {name} | {} | apply unchanged {} | {} | the re-adds it needs | work: 1 add, 10 re-adds (the shorter side), {} per re-add | |",
            ms(x.0.wall),
            ms(r.unchanged.wall),
            ratio(x.0.wall, r.unchanged.wall),
            ms(per)
        );
    }
    let _ = writeln!(o, "\nCPU time (user+sys, medians):\n");
    let _ = writeln!(o, "| what | nlaudit | reference | ratio |");
    let _ = writeln!(o, "|---|---|---|---|");
    let _ =
        writeln!(o, "| list 5000 | {} | {} | {} |", ms(nl.cpu), ms(ac.cpu), ratio(nl.cpu, ac.cpu));
    for l in &r.loads {
        let [x, _] = l.ours;
        let _ = writeln!(
            o,
            "| load {} (release) | {} | {} | {} |",
            l.n,
            ms(x.cpu),
            ms(l.theirs.cpu),
            ratio(x.cpu, l.theirs.cpu)
        );
    }
    let _ = writeln!(
        o,
        "| apply unchanged 5000 | {} | {} (augenrules) | {} |",
        ms(r.unchanged.cpu),
        ms(r.aug.cpu),
        ratio(r.unchanged.cpu, r.aug.cpu)
    );
    let _ = writeln!(o, "\nThe apply summaries of the last runs:\n");
    for (name, x) in [
        ("one added", &r.plus),
        ("last changed", &r.last),
        ("inserted 10 from the end", &r.ins_tail),
        ("inserted 10 from the head", &r.ins_head),
    ] {
        let _ = writeln!(o, "- {name}: `{}`", x.1);
    }
    let _ = writeln!(o, "\n{NOTES}");
    o
}

const NOTES: &str = "## How to read this

- **Where a short command's time goes** (issue 20; measured with `perf stat`, `perf record \
-e cpu-clock`, `strace -f -tt`, callgrind, `LD_DEBUG=statistics` on this VM). The kernel part \
is small: the floors above are 0.06 ms for an empty list and about 0.1 ms for a status (each \
reply is a kernel thread spawned inside `sendmsg`, `audit_send_reply`). The rest is starting \
a process, which both tools pay: `execve`, page faults (83 for auditctl, about 95 for the \
static nlaudit, about 125 for the dynamic one), and glibc's start-up, whose CPUID \
instructions are VM exits here (about 6 µs each, measured). What nlaudit removed: \
`libgcc_s.so.1` (its constructor `__cpu_indicator_init` runs a dozen CPUIDs; the release build \
now links GCC's unwinder statically, `crates/nlaudit/build.rs`: −0.1 ms), std's runtime \
set-up before `main` (glibc's `pthread_getattr_np` reading and `sscanf`-parsing \
/proc/self/maps, a signal stack mapped and unmapped: −0.1 ms; nlaudit starts at a C `main`, \
`crates/nlaudit/src/main.rs`), a 257 KiB receive buffer mapped for a 60-byte status reply \
(now 8 KiB, 257 KiB only for a listing), and one round trip of `status` (the status and the \
features are asked for in one datagram). The 4 MiB `SO_RCVBUF` stays: it is one \
`setsockopt`, a limit the kernel charges as replies queue, not memory. A listing renders \
each rule as it arrives, into one buffer (callgrind, 500 rules: 3.95 M instructions before, \
2.92 M after).
- **Start-up, second pass** (callgrind instruction counts of `nlaudit list` with no rules, \
release build; page faults from `perf stat`). The floor of starting any process here is a \
trivial C program: 0.4–0.5 ms of CPU and 27 page faults statically linked, 0.5–0.6 ms and 48 \
faults dynamically linked (auditctl: 83). Before: 584 k instructions, 140–165 faults. clap \
built the arguments of all 15 subcommands for every run and freed them before exit (220 k; in \
the size-tuned static build 734 k of its 1,139 k): subcommands are now deferred \
(`#[command(defer = true)]`, built only for the one that runs) and the parser is not freed. \
The name tables held a pointer per row, 9,674 relative relocations and 206 KB of copy-on-write \
`.data.rel.ro` applied by every start: they are packed at compile time (numbers, name ends, \
names, a hash index; `crates/nlaudit-rules/src/tables/packed.rs`), 2,840 relocations and 48 KB \
left. After: 320 k instructions, 108 faults. Rendering writes with `push_str` and hand-made \
numbers instead of `write!` (list of 5000: 26.0 M instructions before, 18.3 M after) and name \
lookups for parsing go through the hash index (load of 1000: 14.6 M before, 11.8 M after).
- **Targets still missed, and where the time goes** (the run of this table). Every row but \
delete meets its target with the static build except list 500 and the rows at scale; the \
release build misses every short row by the dynamic loader's 0.3 ms (next point). list 500: \
list 0 (starting the process, one round trip) is 1.3 ms, the raw receiver's 500 replies 1.6 ms \
more, which leaves about 0.7 ms (1.4 µs a rule) for decoding and rendering; 0.4× would need \
0.35 ms less. list 5000: the raw receiver is 0.24×, the client's decode and render 18 M \
instructions (about 3.6 k a rule: a `Vec` per rule and per string field, the field name \
lookups, the text itself). load 1000: the raw sender is 0.32× on this run; nlaudit's parse is \
about 8 M of its 11.8 M instructions (words split and kept per line, a `Vec` per rule). delete \
waits for the kernel's RCU grace period (below).
- **What separates the release build from the static one** is the dynamic loader: mapping \
libc, the PIE's relative relocations (about 9,700 before the tables were packed, 2,840 now) and \
150 symbol lookups (`_dl_start`: 276 k of the 484 k instructions of an `add` before), and the \
copy-on-write faults of the pages they write. \
A plain `cargo build --release` cannot link statically: `-C target-feature=+crt-static` (and \
`-C relocation-model=static`) in `.cargo/config.toml` reach the proc-macro crates too (clap, \
thiserror and serde derive), which then fail to build (tried). Linked with `-no-pie` (a \
build-script link argument for the binary alone), it measured 0.1 ms less CPU per command, \
at the cost of ASLR for the executable: not taken. The release profile linked statically \
(`+crt-static` with an explicit `--target`, so that proc-macros are built without it) measured \
the same as the dist build (`--version`: 0.70–0.86 ms of CPU and 74 faults, dist 0.75–0.78 ms \
and 76, dynamic release 0.95–0.97 ms and 95; `perf stat`, 300 runs): the gap is the dynamic \
loader, not `opt-level`. So the README's quick start builds the static binary (`cargo xtask \
dist`), as the packages and the image ship it. What it gives up is glibc's NSS modules (user \
names from LDAP or sssd in `-F auid=NAME`): it resolves names from /etc/passwd and /etc/group \
only (docs/containers.md); the README says to build `cargo build --release` where that \
matters. ASLR is kept (a static PIE).
- **Deletes wait for an RCU grace period** in the kernel (`synchronize_rcu` in \
`audit_del_rule`, seen in `/proc/PID/stack`): the raw delete's floor alone is most of \
auditctl's time, so no client can delete one rule in 0.8× of it.
- **docker check** reads the status, the features and the rules once and checks the 16 \
controls; docker-bench runs `auditctl -l | grep PATH` once per control.

- **The rule set** is 5000 (or 1000) distinct exit-list rules, `-a always,exit -F arch=b64 -S \
<call> -F auid=<n> -k bench<k>`, in a file that starts with `-D` as augenrules' output does. \
Both tools load the same file into an empty kernel.
- **Adds are quadratic in the kernel.** `audit_add_rule` compares the new rule with every rule \
of its list (`audit_find_rule`), so loading N rules costs N²/2 compares whatever the client does. \
The raw batched sender shows that floor: the rules packed into datagrams of about 160 KiB, no ACK \
requested. nlaudit packs up to 256 rules (192 KiB) per datagram and asks for an ACK on the last \
one only (the kernel answers every failure anyway, in order); auditctl sends one rule per \
datagram and waits for its ACK.
- **Deletes cost an RCU grace period each.** On this kernel `audit_del_rule` calls \
`synchronize_rcu()` for every rule (seen in `/proc/PID/stack`), about 12 ms here, and batching \
cannot share it. That is why augenrules' `-D` + reload of 5000 rules takes a minute, why `apply` \
deletes nothing it can keep, and why a re-add (delete, then add back) costs about one grace \
period. The bench's untimed resets set `/sys/kernel/rcu_expedited` (restored before every timed \
run).
- **apply** lists the kernel's rules, parses and plans the set, and sends only the changes \
(docs/rules-files.md). Unchanged, it costs one list and a parse; one rule more costs one add; a \
changed last rule one add and one delete; a rule inserted k rules from either end k re-adds.
- **Where the client's time goes** (`nlaudit load` of the 1000 rules, release profile). \
perf: about two thirds in the kernel (`audit_compare_rule` alone a third). callgrind counts \
the client's own instructions: 12.0 M for the whole load (parsing about 8.7 M of them, \
`RuleData::encode_into` 1.2 M), down from 33.3 M before the parse stopped copying every \
token and the batch stopped copying every payload (commit 90c1271 and the one after it). \
Parsing on a second thread while the first sends was tried and measured no faster on this \
2-CPU VM (11.3 ms against 10.6 ms, 60 runs each), so it was not kept. The release profile \
is `opt-level = 3` (the size-tuned `\"z\"` lives in the `dist` profile of the image binary). \
`list` spends its user time decoding and rendering 5000 rules; the raw receiver does neither.
- **Kernel threads.** Every status and list request waits for a kernel thread spawned for \
its reply (`audit_send_reply`, `audit_list_rules_send`): milliseconds on a loaded machine. \
`load` asks for the status (and, for a set that starts with `-D`, the listing) on other \
threads while it parses; auditctl -R asks for the status and lists twice, one after the other.
- Timings on a shared VM are noisy: other work on the machine shows up in the wall times (the \
load average is in the machine section). The CPU table is steadier.
";

/// A description of the machine and the software measured.
fn machine(nlaudit: &Path, auditctl: &Path, rcu: &str) -> String {
    let read = |p: &str| fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cpus = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let mem = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|r| r.trim().to_string()))
        .unwrap_or_default();
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|r| r.trim_matches('"').to_string()))
        .unwrap_or_default();
    let cmd = |p: &Path, a: &[&str]| {
        Command::new(p)
            .args(a)
            .output()
            .map(|o| {
                let t = String::from_utf8_lossy(&o.stdout).to_string()
                    + &String::from_utf8_lossy(&o.stderr);
                t.lines().next().unwrap_or_default().trim().to_string()
            })
            .unwrap_or_default()
    };
    let virt = cmd(Path::new("systemd-detect-virt"), &[]);
    let product = read("/sys/class/dmi/id/product_name").trim().to_string();
    let commit = cmd(Path::new("git"), &["-C", s(&util::root()), "rev-parse", "--short", "HEAD"]);
    // The report itself is rewritten by every run: it does not count as a change.
    let dirty = Command::new("git")
        .args(["-C", s(&util::root()), "status", "--porcelain", "--untracked-files=no", "--"])
        .args([".", ":!docs/benchmarks.md"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(true);
    let commit = if dirty { format!("{commit} (plus uncommitted work)") } else { commit };
    format!(
        "- CPU: {model}, {cpus} CPUs; memory {mem}\n\
         - virtualization: {}{}\n\
         - OS: {os}; kernel {}\n\
         - reference: {} (Debian package auditd)\n\
         - nlaudit: {} at commit {commit}; `release`: `cargo build --release` (opt-level 3, \
         LTO, dynamically linked to glibc); `static`: `cargo xtask dist` (dist profile, \
         opt-level z, static glibc)\n\
         - rustc: {}\n\
         - `/sys/kernel/rcu_expedited` during timed runs: {rcu}\n\
         - load average at the start: {}\n",
        if virt.is_empty() { "unknown" } else { &virt },
        if product.is_empty() { String::new() } else { format!(" ({product})") },
        read("/proc/sys/kernel/osrelease").trim(),
        cmd(auditctl, &["-v"]),
        cmd(nlaudit, &["--version"]),
        cmd(Path::new("rustc"), &["--version"]),
        read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// `/sys/kernel/rcu_expedited`: the value found, set to 1 while a guard lives.
struct Rcu {
    original: String,
}

struct Expedited<'a>(&'a Rcu);

impl Rcu {
    fn new() -> Result<Rcu> {
        let original = fs::read_to_string(RCU_EXPEDITED).unwrap_or_default();
        Ok(Rcu { original })
    }

    fn expedite(&self) -> Result<Expedited<'_>> {
        if !self.original.is_empty() {
            let _ = fs::write(RCU_EXPEDITED, "1");
        }
        Ok(Expedited(self))
    }
}

impl Drop for Expedited<'_> {
    fn drop(&mut self) {
        if !self.0.original.is_empty() {
            let _ = fs::write(RCU_EXPEDITED, self.0.original.trim());
        }
    }
}

impl Drop for Rcu {
    fn drop(&mut self) {
        if !self.original.is_empty() {
            let _ = fs::write(RCU_EXPEDITED, self.original.trim());
        }
    }
}

// ---- a raw NETLINK_AUDIT socket, for the floors and for saving/restoring rules ----

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const AUDIT_GET: u16 = 1000;
const AUDIT_ADD_RULE: u16 = 1011;
const AUDIT_DEL_RULE: u16 = 1012;
const AUDIT_GET_FEATURE: u16 = 1019;
const AUDIT_LIST_RULES: u16 = 1013;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
/// Bytes per datagram for the raw sender (the kernel takes up to `sk_sndbuf - 32`).
const RAW_DATAGRAM: usize = 160 * 1024;

struct Netlink {
    fd: i32,
}

impl Netlink {
    fn open() -> Result<Netlink> {
        // SAFETY: plain socket(2) call.
        let fd = unsafe {
            sys::socket(sys::AF_NETLINK, sys::SOCK_RAW | sys::SOCK_CLOEXEC, sys::NETLINK_AUDIT)
        };
        ensure!(fd >= 0, "socket(NETLINK_AUDIT): {}", std::io::Error::last_os_error());
        let nl = Netlink { fd };
        let addr = sys::SockaddrNl {
            nl_family: sys::AF_NETLINK as u16,
            nl_pad: 0,
            nl_pid: 0,
            nl_groups: 0,
        };
        // SAFETY: `addr` is a valid sockaddr_nl of the given size.
        let rc = unsafe { sys::bind(fd, &addr, std::mem::size_of::<sys::SockaddrNl>() as u32) };
        ensure!(rc == 0, "bind: {}", std::io::Error::last_os_error());
        let big: i32 = 16 << 20;
        let one: i32 = 1;
        // SAFETY: option values are valid i32s of the given size. Failures are harmless.
        unsafe {
            let sz = std::mem::size_of::<i32>() as u32;
            if sys::setsockopt(
                fd,
                sys::SOL_SOCKET,
                sys::SO_RCVBUFFORCE,
                (&big as *const i32).cast(),
                sz,
            ) != 0
            {
                sys::setsockopt(
                    fd,
                    sys::SOL_SOCKET,
                    sys::SO_RCVBUF,
                    (&big as *const i32).cast(),
                    sz,
                );
            }
            sys::setsockopt(
                fd,
                sys::SOL_NETLINK,
                sys::NETLINK_CAP_ACK,
                (&one as *const i32).cast(),
                sz,
            );
        }
        Ok(nl)
    }

    fn send(&self, datagram: &[u8]) -> Result<()> {
        let kernel = sys::SockaddrNl {
            nl_family: sys::AF_NETLINK as u16,
            nl_pad: 0,
            nl_pid: 0,
            nl_groups: 0,
        };
        // SAFETY: the buffer and address are valid for the lengths given.
        let n = unsafe {
            sys::sendto(
                self.fd,
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                &kernel,
                std::mem::size_of::<sys::SockaddrNl>() as u32,
            )
        };
        ensure!(n == datagram.len() as isize, "sendto: {}", std::io::Error::last_os_error());
        Ok(())
    }

    /// One datagram, or None when nothing is queued and `wait` is false.
    fn recv(&self, buf: &mut [u8], wait: bool) -> Result<Option<usize>> {
        let flags = if wait { 0 } else { sys::MSG_DONTWAIT };
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe { sys::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), flags) };
            if n >= 0 {
                return Ok(Some(n as usize));
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::WouldBlock => return Ok(None),
                _ => bail!("recv: {e}"),
            }
        }
    }
}

impl Drop for Netlink {
    fn drop(&mut self) {
        // SAFETY: closing the fd this struct owns, once.
        unsafe { sys::close(self.fd) };
    }
}

fn put_message(out: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, payload: &[u8]) {
    let len = 16 + payload.len();
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len() + ((4 - len % 4) % 4), 0);
}

/// Walks the messages of a datagram: (type, seq, payload).
fn messages(buf: &[u8]) -> Vec<(u16, u32, &[u8])> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        let seq = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
        let len = len.clamp(16, rest.len());
        out.push((ty, seq, &rest[16..len]));
        rest = &rest[((len + 3) & !3).min(rest.len())..];
    }
    out
}

/// Adds rules (payloads) with as few datagrams as the kernel takes and no ACK requested;
/// returns the time the sends took (the kernel processes a datagram inside `sendmsg`).
/// Fails if the kernel refused any rule.
fn raw_add(payloads: &[Vec<u8>]) -> Result<Duration> {
    raw_rules(AUDIT_ADD_RULE, payloads)
}

/// Deletes rules as [`raw_add`] adds them.
fn raw_delete(payloads: &[Vec<u8>]) -> Result<Duration> {
    raw_rules(AUDIT_DEL_RULE, payloads)
}

/// AUDIT_GET_FEATURE and AUDIT_GET in one datagram, waiting for both replies and ACKs (what
/// `status` needs): the floor of a status. Returns the time from the send to the last one.
fn raw_status() -> Result<Duration> {
    let nl = Netlink::open()?;
    let mut req = Vec::new();
    put_message(&mut req, AUDIT_GET_FEATURE, NLM_F_REQUEST | NLM_F_ACK, 1, &[]);
    put_message(&mut req, AUDIT_GET, NLM_F_REQUEST | NLM_F_ACK, 2, &[]);
    let mut buf = vec![0u8; 8192];
    let start = Instant::now();
    nl.send(&req)?;
    let mut seen = 0;
    while seen < 4 {
        let Some(n) = nl.recv(&mut buf, true)? else { continue };
        for (ty, _, p) in messages(&buf[..n]) {
            match ty {
                NLMSG_ERROR if p.len() >= 4 => {
                    let e = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
                    ensure!(e == 0, "AUDIT_GET(_FEATURE) refused (errno {})", -e);
                    seen += 1;
                }
                AUDIT_GET | AUDIT_GET_FEATURE => seen += 1,
                _ => {}
            }
        }
    }
    Ok(start.elapsed())
}

/// Sends rule messages of type `ty` as [`raw_add`] describes.
fn raw_rules(ty: u16, payloads: &[Vec<u8>]) -> Result<Duration> {
    let nl = Netlink::open()?;
    let mut datagrams = Vec::new();
    let mut d = Vec::with_capacity(RAW_DATAGRAM);
    for (i, p) in payloads.iter().enumerate() {
        if !d.is_empty() && d.len() + 20 + p.len() > RAW_DATAGRAM {
            datagrams.push(std::mem::take(&mut d));
        }
        put_message(&mut d, ty, NLM_F_REQUEST, i as u32 + 1, p);
    }
    if !d.is_empty() {
        datagrams.push(d);
    }
    let start = Instant::now();
    for d in &datagrams {
        nl.send(d)?;
    }
    let took = start.elapsed();
    // Errors are ACKed whether or not asked for; all are queued by now.
    let mut buf = vec![0u8; 1 << 16];
    while let Some(n) = nl.recv(&mut buf, false)? {
        for (ty, seq, p) in messages(&buf[..n]) {
            if ty == NLMSG_ERROR && p.len() >= 4 {
                let e = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
                ensure!(e == 0, "the kernel refused rule {seq} (errno {})", -e);
            }
        }
    }
    Ok(took)
}

/// AUDIT_LIST_RULES, reading every reply: calls `f` with each rule payload. Returns the
/// time from the request to NLMSG_DONE.
fn raw_list(mut f: impl FnMut(&[u8])) -> Result<Duration> {
    let nl = Netlink::open()?;
    let mut req = Vec::new();
    put_message(&mut req, AUDIT_LIST_RULES, NLM_F_REQUEST | NLM_F_ACK, 1, &[]);
    let mut buf = vec![0u8; 1 << 18];
    let start = Instant::now();
    nl.send(&req)?;
    loop {
        let Some(n) = nl.recv(&mut buf, true)? else { continue };
        for (ty, seq, p) in messages(&buf[..n]) {
            if seq != 1 {
                continue;
            }
            match ty {
                NLMSG_DONE => return Ok(start.elapsed()),
                AUDIT_LIST_RULES => f(p),
                NLMSG_ERROR if p.len() >= 4 => {
                    let e = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
                    ensure!(e == 0, "AUDIT_LIST_RULES refused (errno {})", -e);
                }
                _ => {}
            }
        }
    }
}

/// The raw receiver floor: list and count, nothing decoded or printed.
fn raw_list_count() -> Result<(Duration, usize)> {
    let mut n = 0;
    let d = raw_list(|_| n += 1)?;
    Ok((d, n))
}

/// The kernel's rules as the bytes it listed (what it accepts back, in order).
fn raw_list_payloads() -> Result<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    raw_list(|p| v.push(p.to_vec()))?;
    Ok(v)
}

/// The few libc calls the bench needs (xtask depends on nothing but anyhow).
mod sys {
    use std::os::raw::{c_int, c_long, c_void};

    pub const AF_NETLINK: c_int = 16;
    pub const SOCK_RAW: c_int = 3;
    pub const SOCK_CLOEXEC: c_int = 0o2000000;
    pub const NETLINK_AUDIT: c_int = 9;
    pub const SOL_SOCKET: c_int = 1;
    pub const SO_RCVBUF: c_int = 8;
    pub const SO_RCVBUFFORCE: c_int = 33;
    pub const SOL_NETLINK: c_int = 270;
    pub const NETLINK_CAP_ACK: c_int = 10;
    pub const MSG_DONTWAIT: c_int = 0x40;

    #[repr(C)]
    pub struct SockaddrNl {
        pub nl_family: u16,
        pub nl_pad: u16,
        pub nl_pid: u32,
        pub nl_groups: u32,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    pub struct Timeval {
        pub tv_sec: c_long,
        pub tv_usec: c_long,
    }

    /// `struct rusage` (Linux, LP64).
    #[repr(C)]
    #[derive(Default)]
    pub struct Rusage {
        pub ru_utime: Timeval,
        pub ru_stime: Timeval,
        pub ru_maxrss: c_long,
        pub rest: [c_long; 13],
    }

    extern "C" {
        pub fn geteuid() -> u32;
        pub fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
        pub fn bind(fd: c_int, addr: *const SockaddrNl, len: u32) -> c_int;
        pub fn setsockopt(
            fd: c_int,
            level: c_int,
            name: c_int,
            val: *const c_void,
            len: u32,
        ) -> c_int;
        pub fn sendto(
            fd: c_int,
            buf: *const c_void,
            len: usize,
            flags: c_int,
            addr: *const SockaddrNl,
            alen: u32,
        ) -> isize;
        pub fn recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize;
        pub fn close(fd: c_int) -> c_int;
        pub fn wait4(pid: c_int, status: *mut c_int, options: c_int, rusage: *mut Rusage) -> c_int;
    }
}
