//! `nlaudit apply --watch DIR|FILE`: the daemon's rule keeping (nlaudit_daemon::drift,
//! support::keeper) for machines where another audit daemon (auditd) is registered: the
//! kernel's CONFIG_CHANGE records come from the multicast group (READLOG) instead of the
//! daemon's socket, and the reports go to standard error (or, with `--json`, one object per
//! line on standard output) instead of a log. Runs until SIGINT/SIGTERM.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use nlaudit_daemon::daemon::Level;
use nlaudit_daemon::drift::{self, Keeper as _, Schedule, Told};
use nlaudit_proto::records::ReadItem;
use serde::Serialize;

use crate::support::keeper::RulesKeeper;
use crate::support::{interrupt, output, readlog};

/// How the reports are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Sentences on standard error.
    Text,
    /// One [`WatchRecord`] per line on standard output (sentences still on standard error).
    Json,
}

/// `apply --watch --json`: one object per drift or repair record (docs/rules-files.md).
#[derive(Debug, Serialize)]
pub struct WatchRecord {
    /// 1.
    pub schema: u32,
    /// The record's `op=` (`rules-drift`, `rules-repair`, ...).
    pub op: String,
    /// The record's text, as the daemon writes it in its log (docs/daemon.md).
    pub record: String,
}

/// Longest wait for records between looks at the schedule and the signals.
const POLL: Duration = Duration::from_millis(200);

pub fn run(path: &Path, period: Option<Duration>, out: Output) -> Result<ExitCode> {
    let _signals = interrupt::catch();
    let mut reader = readlog::open_reader(None)?;
    let mut keeper = RulesKeeper::new(path);
    let mut sched = Schedule::new(period, Instant::now());
    let me = std::process::id();
    loop {
        if interrupt::pending().is_some() {
            return Ok(ExitCode::SUCCESS);
        }
        let now = Instant::now();
        if let Some(t) = keeper.poll(now) {
            sched.soon(now, t);
        }
        if let Some((trigger, changes)) = sched.take_due(now, me) {
            let repair = sched.repair(now);
            let check = keeper.check(trigger, repair);
            let noted = sched.checked(trigger, &check, Instant::now());
            for t in drift::told(trigger, &changes, &check, &noted) {
                tell(&t, out)?;
            }
        }
        let wait = sched.wait(Instant::now(), POLL);
        if let Some(ReadItem::Event(e)) = reader.next(Instant::now() + wait)? {
            let at = Instant::now();
            for r in &e.records {
                if let Some(c) = drift::rule_change(r.ty, r.text.as_bytes()) {
                    sched.rule_change(c, at);
                }
            }
            if let Some(s) = e.records.iter().find_map(|r| drift::sender(r.ty, r.text.as_bytes())) {
                sched.sender(&s);
            }
        }
    }
}

fn tell(t: &Told, out: Output) -> Result<()> {
    match t {
        Told::Notice(level, message) => {
            let word = match level {
                Level::Info => "notice",
                Level::Warning => "warning",
                _ => "error",
            };
            eprintln!("nlaudit apply --watch: {word}: {message}");
        }
        Told::Record(body) if out == Output::Json => {
            let op =
                body.split(' ').find_map(|f| f.strip_prefix("op=")).unwrap_or_default().to_string();
            let r = WatchRecord { schema: 1, op, record: body.clone() };
            let mut o = output::stdout();
            serde_json::to_writer(&mut o, &r)?;
            writeln!(o)?;
            o.flush()?;
        }
        _ => {}
    }
    Ok(())
}
