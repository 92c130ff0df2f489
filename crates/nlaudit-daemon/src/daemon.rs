//! The daemon loop: records in, lines out, requests (signals) in between.
//!
//! Start (auditd's order): open the log, write DAEMON_START, register. Then receive until
//! asked to stop: a record is formatted and buffered, the buffer is written when the socket
//! is drained. Stop: ask the kernel who sent the signal, unregister, read what was already
//! queued to the socket, write DAEMON_END, flush and sync.
//!
//! DAEMON_* records carry the daemon's own serial numbers, starting at a random number
//! below 10000 as auditd's do (src/auditd.c `send_audit_event`), and the signal sender's
//! `auid`, `uid`, `ses` and `pid` as libaudit's `audit_format_signal_info` writes them.

use std::time::{Duration, Instant, SystemTime};

use nlaudit_proto::client::{RecordsRead, RECORD_SLOT_SIZE};
use nlaudit_proto::records::{Event, EventAssembler, EventEnd, Limits, Record};
use nlaudit_proto::{MsgType, SignalInfo, Transport};

use crate::config::{Config, ConfigError, Loaded, LogFormat, NameFormat};
use crate::drift::{self, Check, Keeper, Noted, RuleChange, Schedule, Told, Trigger};
use crate::enrich::Enricher;
use crate::format::{json_line, raw_line};
use crate::log::{LogState, LogWriter, Notice, OpenError};
use crate::receiver::{Receiver, ReceiverError, Registration};
use crate::state::{LogReport, StateReport};

/// The version written in DAEMON_START's `ver=`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `AUDIT_DAEMON_START` (1200).
pub const AUDIT_DAEMON_START: MsgType = MsgType(1200);
/// `AUDIT_DAEMON_END` (1201).
pub const AUDIT_DAEMON_END: MsgType = MsgType(1201);
/// `AUDIT_DAEMON_ABORT` (1202).
pub const AUDIT_DAEMON_ABORT: MsgType = MsgType(1202);
/// `AUDIT_DAEMON_CONFIG` (1203).
pub const AUDIT_DAEMON_CONFIG: MsgType = MsgType(1203);
/// `AUDIT_DAEMON_ROTATE` (1205).
pub const AUDIT_DAEMON_ROTATE: MsgType = MsgType(1205);
/// `AUDIT_DAEMON_RESUME` (1206).
pub const AUDIT_DAEMON_RESUME: MsgType = MsgType(1206);
/// `AUDIT_DAEMON_ERR` (1209).
pub const AUDIT_DAEMON_ERR: MsgType = MsgType(1209);

/// How long a receive waits when nothing is buffered; requests are looked at in between.
pub const IDLE_WAIT: Duration = Duration::from_millis(200);
/// How often the kernel's `lost` counter is read while idle.
pub const LOST_CHECK: Duration = Duration::from_secs(5);

/// What the host (the CLI's signal handlers) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// SIGTERM: stop.
    Stop,
    /// SIGUSR1: rotate now.
    Rotate,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGUSR2: resume logging after a suspension.
    Resume,
    /// SIGCONT: report the state.
    State,
}

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// For the record.
    Info,
    /// Something to look at.
    Warning,
    /// Records are, or may be, not kept.
    Error,
}

/// What the daemon needs from the program that runs it.
pub trait Host {
    /// The next pending request, if any (checked between receives).
    fn next_request(&mut self) -> Option<Request>;
    /// Loads the configuration again (SIGHUP).
    fn reload(&mut self) -> Result<Loaded, ConfigError>;
    /// Something to log for the operator.
    fn notice(&mut self, level: Level, message: &str);
    /// The state report (SIGCONT), `key = value` lines.
    fn state_report(&mut self, report: &str);
    /// What keeps the rule set in force, when the daemon keeps one (`--rules`).
    fn keeper(&mut self) -> Option<&mut dyn Keeper> {
        None
    }
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Records received from the kernel.
    pub records: u64,
    /// Receive-buffer overruns seen (ENOBUFS).
    pub overruns: u64,
    /// Records the kernel counted as lost since the daemon started.
    pub kernel_lost: u64,
    /// Datagrams lost because they were larger than the receive slot or not netlink
    /// messages.
    pub unreadable: u64,
}

/// Turns records into lines for the log.
#[derive(Debug)]
struct Sink {
    format: LogFormat,
    node: Option<String>,
    enricher: Enricher,
    assembler: EventAssembler,
    writer: Option<LogWriter>,
    line: Vec<u8>,
    events: Vec<Event>,
    counters: Counters,
    /// When rules are kept: the rule changes the kernel reports, and when to check.
    keeping: Option<Schedule>,
}

fn node_name(n: &NameFormat) -> Option<String> {
    match n {
        NameFormat::None => None,
        // gethostname(2) reads the UTS name this file shows.
        NameFormat::Hostname => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim_end().to_string()),
        NameFormat::User(s) => Some(s.clone()),
        // NameFormat is non_exhaustive within the crate too only by attribute.
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn limits(cfg: &Config) -> Limits {
    Limits { idle: Duration::from_secs(u64::from(cfg.end_of_event_timeout)), ..Limits::default() }
}

impl Sink {
    /// A record from the kernel.
    fn record(&mut self, ty: MsgType, payload: &[u8]) {
        self.counters.records += 1;
        if let Some(s) = self.keeping.as_mut() {
            if let Some(c) = drift::rule_change(ty, payload) {
                s.rule_change(c, Instant::now());
            } else if s.gathering() {
                if let Some(x) = drift::sender(ty, payload) {
                    s.sender(&x);
                }
            }
        }
        // auditd does not log these from the kernel (src/auditd.c `netlink_handler`):
        // replies and commands, and daemon types (only the daemon writes those).
        if (1000..1100).contains(&ty.0) && ty != MsgType::AUDIT_USER || (1200..1300).contains(&ty.0)
        {
            return;
        }
        let Some(w) = self.writer.as_mut() else { return };
        match self.format {
            LogFormat::Json => {
                match Record::parse(ty, payload) {
                    Ok(r) => self.assembler.push(r, Instant::now(), &mut self.events),
                    // A record without a stamp still goes to the log, as an event of its own.
                    Err(_) => {
                        self.line.clear();
                        raw_line(&mut self.line, self.node.as_deref(), ty, payload);
                        w.push_line(&self.line);
                    }
                }
                self.write_events();
            }
            LogFormat::Raw | LogFormat::Enriched => {
                if ty == MsgType::AUDIT_EOE {
                    return;
                }
                self.line.clear();
                raw_line(&mut self.line, self.node.as_deref(), ty, payload);
                if self.format == LogFormat::Enriched {
                    self.enricher.append(ty, &mut self.line);
                }
                w.push_line(&self.line);
            }
        }
    }

    fn write_events(&mut self) {
        let Some(w) = self.writer.as_mut() else { return };
        for e in self.events.drain(..) {
            self.line.clear();
            json_line(&mut self.line, &e);
            if self.line.last() == Some(&b'\n') {
                self.line.pop();
            }
            w.push_line(&self.line);
        }
    }

    /// A record the daemon makes itself, written now.
    fn own_record(&mut self, ty: MsgType, serial: u32, body: &str) {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let text = format!("audit({}.{:03}:{serial}): {body}", now.as_secs(), now.subsec_millis());
        if self.format == LogFormat::Json {
            match Record::parse(ty, text.as_bytes()) {
                Ok(r) => self.events.push(Event {
                    stamp: r.stamp,
                    records: vec![r],
                    end: EventEnd::Single,
                    dropped_records: 0,
                }),
                Err(_) => return,
            }
            self.write_events();
        } else {
            self.line.clear();
            raw_line(&mut self.line, self.node.as_deref(), ty, text.as_bytes());
            if self.format == LogFormat::Enriched {
                self.enricher.append(ty, &mut self.line);
            }
            if let Some(w) = self.writer.as_mut() {
                w.push_line(&self.line);
            }
        }
    }

    fn idle(&mut self) {
        if self.format == LogFormat::Json {
            self.assembler.expire(Instant::now(), &mut self.events);
            self.write_events();
        }
        if let Some(w) = self.writer.as_mut() {
            w.flush();
        }
    }
}

/// The audit daemon.
#[derive(Debug)]
pub struct Daemon<T: Transport> {
    receiver: Receiver<T>,
    config: Config,
    sink: Sink,
    serial: u32,
    lost_at_start: Option<u32>,
    lost_seen: u32,
    last_lost_check: Instant,
    stopping: bool,
    /// State reports made so far.
    reports: u64,
}

/// The start failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The log cannot be opened.
    #[error(transparent)]
    Log(#[from] OpenError),
    /// Registration failed (another daemon, or the kernel refused).
    #[error(transparent)]
    Receiver(#[from] ReceiverError),
}

/// A `/proc/self/...` number (loginuid, sessionid), 4294967295 when unreadable.
fn proc_number(path: &str) -> u32 {
    std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(u32::MAX)
}

/// `audit_format_signal_info`: `op=OP auid=A uid=U ses=S pid=P res=RES`, `uid` being the
/// owner of /proc/PID (4294967295 once the sender is gone).
pub fn signal_info_text(op: &str, info: Option<&SignalInfo>, res: &str) -> String {
    let Some(info) = info else {
        return format!("op={op} auid=-1 uid=-1 ses=-1 pid=-1 subj=? res={res}");
    };
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(format!("/proc/{}", info.pid)).map_or(u32::MAX, |m| m.uid());
    let ses = std::fs::read_to_string(format!("/proc/{}/sessionid", info.pid))
        .ok()
        .filter(|s| !s.is_empty() && s.len() < 16)
        .unwrap_or_else(|| "4294967295".to_string());
    match &info.context {
        None => {
            format!("op={op} auid={} uid={uid} ses={ses} pid={} res={res}", info.auid, info.pid)
        }
        Some(ctx) => format!(
            "op={op} auid={} uid={uid} ses={ses} pid={} subj={ctx} res={res}",
            info.auid, info.pid
        ),
    }
}

impl<T: Transport> Daemon<T> {
    /// Opens the log for a daemon that will receive on `receiver`.
    pub fn new(receiver: Receiver<T>, config: Config) -> Result<Self, OpenError> {
        let writer = if config.write_logs { Some(LogWriter::open(&config)?) } else { None };
        let sink = Sink {
            format: config.log_format,
            node: node_name(&config.name_format),
            enricher: Enricher::default(),
            assembler: EventAssembler::new(limits(&config)),
            writer,
            line: Vec::with_capacity(16 * 1024),
            events: Vec::new(),
            counters: Counters::default(),
            keeping: None,
        };
        // Like auditd's: random below 10000, then counting up (src/auditd.c).
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let serial = (now.subsec_nanos() ^ std::process::id().wrapping_mul(2_654_435_761)) % 10_000;
        Ok(Daemon {
            receiver,
            config,
            sink,
            serial,
            lost_at_start: None,
            lost_seen: 0,
            last_lost_check: Instant::now(),
            stopping: false,
            reports: 0,
        })
    }

    /// The receiver (the CLI applies rules and `enabled` through its client).
    pub fn receiver(&mut self) -> &mut Receiver<T> {
        &mut self.receiver
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.sink.counters
    }

    /// The log's state, when logs are written.
    pub fn log_state(&self) -> Option<&LogState> {
        self.sink.writer.as_ref().map(LogWriter::state)
    }

    /// Keeps the host's [`Host::keeper`] rule set in force from now on: checked at once,
    /// after rule changes the kernel reports, when the keeper's poll says so, and every
    /// `period` (`None`: no backstop).
    pub fn keep_rules(&mut self, period: Option<Duration>) {
        self.sink.keeping = Some(Schedule::new(period, Instant::now()));
    }

    /// Runs the check that is due, if any, and logs what it found and did.
    fn keep(&mut self, host: &mut impl Host) {
        let now = Instant::now();
        let Some(sched) = self.sink.keeping.as_mut() else { return };
        if let Some(t) = host.keeper().and_then(|k| k.poll(now)) {
            sched.soon(now, t);
        }
        let Some((trigger, changes)) = sched.take_due(now, std::process::id()) else { return };
        let repair = sched.repair(now);
        let Some(check) = host.keeper().map(|k| k.check(trigger, repair)) else { return };
        let noted = sched.checked(trigger, &check, Instant::now());
        self.report_check(trigger, &changes, &check, &noted, host);
        self.sink.idle();
        self.relay(host);
    }

    /// The records (and notices) of a check (see [`drift::told`]).
    fn report_check(
        &mut self,
        trigger: Trigger,
        changes: &[RuleChange],
        check: &Check,
        noted: &Noted,
        host: &mut impl Host,
    ) {
        for t in drift::told(trigger, changes, check, noted) {
            match t {
                Told::Record(body) => self.own(AUDIT_DAEMON_CONFIG, &body),
                Told::Notice(level, message) => host.notice(level, &message),
            }
        }
    }

    fn next_serial(&mut self) -> u32 {
        self.serial = self.serial.wrapping_add(1);
        self.serial
    }

    fn own(&mut self, ty: MsgType, body: &str) {
        let s = self.next_serial();
        self.sink.own_record(ty, s, body);
    }

    /// Registers with the kernel and writes DAEMON_START. When another daemon is registered
    /// nothing is written (it may be writing the same file); another refusal is logged as
    /// DAEMON_START and DAEMON_ABORT, as auditd does. auditd writes DAEMON_START first.
    pub fn start(&mut self, host: &mut impl Host) -> Result<Registration, ReceiverError> {
        let release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        let release: String = release.chars().take(56).collect();
        let auid = proc_number("/proc/self/loginuid");
        let ses = proc_number("/proc/self/sessionid");
        let pid = std::process::id();
        let uid = nix::unistd::getuid().as_raw();
        let start = format!(
            "op=start ver={VERSION} format={} kernel={release} auid={auid} pid={pid} uid={uid} ses={ses} res=success",
            self.config.log_format.name()
        );
        match self.receiver.register() {
            Ok(reg) => {
                if let Some(w) = self.sink.writer.as_mut() {
                    w.take_ownership();
                }
                self.own(AUDIT_DAEMON_START, &start);
                self.sink.idle();
                if let Some(old) = reg.replaced {
                    host.notice(
                        Level::Warning,
                        &format!("took over from audit daemon pid {old}, which is gone"),
                    );
                }
                if let Ok(s) = self.receiver.status() {
                    self.lost_at_start = Some(s.lost);
                    self.lost_seen = s.lost;
                }
                self.relay(host);
                Ok(reg)
            }
            Err(e @ ReceiverError::Busy { .. }) => Err(e),
            Err(e) => {
                self.own(AUDIT_DAEMON_START, &start);
                let abort =
                    format!("op=set-pid auid={auid} pid={pid} uid={uid} ses={ses} res=failed");
                self.own(AUDIT_DAEMON_ABORT, &abort);
                self.sink.idle();
                self.relay(host);
                Err(e)
            }
        }
    }

    /// Receives and writes until [`Request::Stop`]; then stops (see the module doc).
    pub fn run(&mut self, host: &mut impl Host) -> Result<Counters, ReceiverError> {
        let mut buffered = false;
        while !self.stopping {
            while let Some(r) = host.next_request() {
                self.handle(r, host);
                if self.stopping {
                    break;
                }
            }
            if self.stopping {
                break;
            }
            let wait = if buffered { Duration::ZERO } else { IDLE_WAIT };
            let wait = self.sink.keeping.as_ref().map_or(wait, |k| k.wait(Instant::now(), wait));
            let sink = &mut self.sink;
            let read = self.receiver.receive(wait, |ty, p| sink.record(ty, p))?;
            if read.overrun {
                self.sink.counters.overruns += 1;
                self.check_lost(host);
            }
            self.unreadable(&read, host);
            buffered = read.records > 0;
            if read.idle {
                self.sink.idle();
                buffered = false;
                if self.last_lost_check.elapsed() >= LOST_CHECK {
                    self.check_lost(host);
                }
            }
            self.relay(host);
            self.keep(host);
        }
        self.stop(host)
    }

    fn handle(&mut self, r: Request, host: &mut impl Host) {
        match r {
            Request::Stop => self.stopping = true,
            Request::Rotate => {
                let info = self.receiver.signal_info().ok();
                self.sink.idle();
                if let Some(w) = self.sink.writer.as_mut() {
                    w.rotate_now();
                }
                let body = signal_info_text("rotate-logs", info.as_ref(), "success");
                self.own(AUDIT_DAEMON_ROTATE, &body);
                self.sink.idle();
            }
            Request::Resume => {
                let info = self.receiver.signal_info().ok();
                if let Some(w) = self.sink.writer.as_mut() {
                    w.resume();
                }
                let body = signal_info_text("resume-logging", info.as_ref(), "success");
                self.own(AUDIT_DAEMON_RESUME, &body);
                self.sink.idle();
            }
            Request::Reload => {
                let info = self.receiver.signal_info().ok();
                match host.reload() {
                    Ok(loaded) => {
                        for w in &loaded.warnings {
                            host.notice(Level::Warning, &w.to_string());
                        }
                        self.apply(loaded.config, host);
                        let (auid, pid) =
                            info.as_ref().map_or((u32::MAX, -1i64), |i| (i.auid, i64::from(i.pid)));
                        let ctx = info.and_then(|i| i.context).unwrap_or_else(|| "?".to_string());
                        let body = format!(
                            "op=reconfigure state=changed auid={auid} pid={pid} subj={ctx} res=success"
                        );
                        self.own(AUDIT_DAEMON_CONFIG, &body);
                    }
                    Err(e) => {
                        host.notice(Level::Error, &format!("configuration not reloaded: {e}"));
                        let body = signal_info_text(
                            "reconfigure state=no-change",
                            info.as_ref(),
                            "failed",
                        );
                        self.own(AUDIT_DAEMON_CONFIG, &body);
                    }
                }
                self.sink.idle();
            }
            Request::State => {
                self.reports += 1;
                let mut report = self.state();
                if let Some(k) = self.sink.keeping.as_ref() {
                    let mut keeping = k.state(Instant::now());
                    keeping.set = host.keeper().map(|k| k.state());
                    report.rules = Some(keeping);
                }
                host.state_report(&report.to_string());
            }
        }
        self.relay(host);
    }

    fn apply(&mut self, config: Config, host: &mut impl Host) {
        self.sink.idle();
        self.sink.format = config.log_format;
        self.sink.node = node_name(&config.name_format);
        self.sink.enricher.forget_names();
        match (config.write_logs, self.sink.writer.as_mut()) {
            (true, Some(w)) => w.reconfigure(&config),
            (true, None) => match LogWriter::open(&config) {
                Ok(w) => self.sink.writer = Some(w),
                Err(e) => host.notice(Level::Error, &e.to_string()),
            },
            (false, _) => self.sink.writer = None,
        }
        self.config = config;
    }

    /// The SIGCONT report's own part (without the rule keeping, which the host's keeper
    /// and the schedule add); `number` is the count of reports made so far.
    pub fn state(&self) -> StateReport {
        let c = self.sink.counters;
        let log = self.sink.writer.as_ref().map(|w| {
            let st = w.state();
            LogReport {
                file: w.path().map_or_else(|| "-".to_string(), |p| p.display().to_string()),
                size_kb: st.size / 1024,
                max_size_kb: self.config.max_log_file * 1024,
                suspended: st.suspended.is_some(),
                lines_written: st.written,
                records_not_written: st.unwritten,
                rotations: st.rotations,
            }
        });
        StateReport {
            version: VERSION.to_string(),
            pid: std::process::id(),
            number: self.reports,
            log_format: self.config.log_format.name().to_string(),
            log,
            records_received: c.records,
            receive_buffer_overruns: c.overruns,
            receive_buffer_bytes: u64::try_from(self.receiver.buffer()).unwrap_or(u64::MAX),
            kernel_lost_at_start: self.lost_at_start,
            kernel_lost_since_start: c.kernel_lost,
            rules: None,
        }
    }

    /// Datagrams the socket cut (larger than the receive slot: none the kernel makes today)
    /// or that are not netlink messages: their records are lost, logged as DAEMON_ERR and
    /// told, never silent.
    fn unreadable(&mut self, read: &RecordsRead, host: &mut impl Host) {
        let cases = [
            (read.cut, "records-cut", format!("were larger than {RECORD_SLOT_SIZE} bytes")),
            (read.malformed, "records-malformed", "were not netlink messages".to_string()),
        ];
        for (n, op, why) in cases {
            if n == 0 {
                continue;
            }
            self.sink.counters.unreadable += n as u64;
            self.own(AUDIT_DAEMON_ERR, &format!("op={op} count={n} res=failed"));
            host.notice(
                Level::Error,
                &format!("{n} audit datagrams {why}: their records are lost"),
            );
        }
    }

    /// Reads the kernel's `lost` counter; a rise is logged as DAEMON_ERR.
    fn check_lost(&mut self, host: &mut impl Host) {
        self.last_lost_check = Instant::now();
        let Ok(s) = self.receiver.status() else { return };
        if s.lost > self.lost_seen {
            let rise = s.lost - self.lost_seen;
            self.lost_seen = s.lost;
            self.sink.counters.kernel_lost += u64::from(rise);
            let body = format!("op=kernel-lost lost={rise} total={} res=failed", s.lost);
            self.own(AUDIT_DAEMON_ERR, &body);
            host.notice(
                Level::Error,
                &format!(
                    "the kernel lost {rise} audit records (lost counter now {}): raise \
                     backlog_limit or backlog_wait_time",
                    s.lost
                ),
            );
        } else if s.lost < self.lost_seen {
            self.lost_seen = s.lost; // reset by someone (auditctl --reset-lost)
        }
    }

    /// Hands the writer's notices to the host and logs records that could not be written.
    fn relay(&mut self, host: &mut impl Host) {
        let Some(w) = self.sink.writer.as_mut() else { return };
        let notices = w.take_notices();
        let unreported = w.take_unreported();
        for n in notices {
            let level = match n {
                Notice::Repaired { .. } | Notice::LowSpace { .. } | Notice::SizeLimit { .. } => {
                    Level::Warning
                }
                Notice::Failed { .. } | Notice::Suspended(_) => Level::Error,
                _ => Level::Info,
            };
            host.notice(level, &n.to_string());
        }
        if let Some(n) = unreported {
            let body = format!("op=unwritten-records count={n} res=failed");
            self.own(AUDIT_DAEMON_ERR, &body);
            self.sink.idle();
            host.notice(
                Level::Error,
                &format!("{n} audit records could not be written to the log"),
            );
        }
    }

    fn stop(&mut self, host: &mut impl Host) -> Result<Counters, ReceiverError> {
        let info = self.receiver.signal_info().ok();
        let unregistered = self.receiver.unregister();
        // Records already queued to the socket are ours: read them before the end record.
        loop {
            let sink = &mut self.sink;
            let read = self.receiver.receive(Duration::ZERO, |ty, p| sink.record(ty, p))?;
            self.unreadable(&read, host);
            if read.idle {
                break;
            }
        }
        self.check_lost(host);
        if self.sink.format == LogFormat::Json {
            self.sink.assembler.flush(&mut self.sink.events);
            self.sink.write_events();
        }
        let body = signal_info_text("terminate", info.as_ref(), "success");
        self.own(AUDIT_DAEMON_END, &body);
        self.sink.idle();
        if let Some(w) = self.sink.writer.as_mut() {
            w.sync_now();
        }
        self.relay(host);
        unregistered?;
        Ok(self.sink.counters)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::io;
    use std::path::PathBuf;

    use nlaudit_proto::codec::{encode_message, split_datagram, Ack};
    use nlaudit_proto::{Client, Status};

    use super::*;
    use crate::config::{Flush, LogTarget, Space};

    /// A fake kernel: answers AUDIT_GET, AUDIT_SET (remembering the pid) and
    /// AUDIT_SIGNAL_INFO, and delivers `records` one datagram per receive, unicast-style.
    #[derive(Default)]
    struct FakeKernel {
        replies: VecDeque<Vec<u8>>,
        records: VecDeque<Vec<u8>>,
        pid: u32,
    }

    fn message(ty: MsgType, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_message(&mut v, ty, 0, seq, payload).expect("fits");
        v
    }

    impl Transport for FakeKernel {
        fn send(&mut self, d: &[u8]) -> io::Result<()> {
            for m in split_datagram(d).map_err(io::Error::other)? {
                let (seq, ty) = (m.header.seq, m.header.ty);
                let ack = Ack { error: 0, request_seq: seq, request_type: ty };
                self.replies.push_back(message(MsgType::NLMSG_ERROR, seq, &ack.encode()));
                match ty {
                    MsgType::AUDIT_GET => {
                        let s = Status { pid: self.pid, ..Status::default() };
                        self.replies.push_back(message(ty, seq, &s.encode()));
                    }
                    MsgType::AUDIT_SET => {
                        let s = Status::decode(m.payload).map_err(io::Error::other)?;
                        self.pid = s.pid;
                    }
                    MsgType::AUDIT_SIGNAL_INFO => {
                        let info = [0u32.to_ne_bytes(), 1u32.to_ne_bytes()].concat();
                        self.replies.push_back(message(ty, seq, &info));
                    }
                    _ => {}
                }
            }
            Ok(())
        }

        fn recv(
            &mut self,
            buf: &mut [u8],
            _: Duration,
        ) -> io::Result<Option<nlaudit_proto::Received>> {
            let Some(d) = self.replies.pop_front().or_else(|| self.records.pop_front()) else {
                return Ok(None);
            };
            buf[..d.len()].copy_from_slice(&d);
            Ok(Some(nlaudit_proto::Received { len: d.len(), sender: 0 }))
        }
    }

    /// A unicast record: payload-only `nlmsg_len`.
    fn record(ty: u16, text: &str) -> Vec<u8> {
        let mut v = message(MsgType(ty), 0, text.as_bytes());
        v.truncate(16 + text.len());
        v[..4].copy_from_slice(&(text.len() as u32).to_ne_bytes());
        v
    }

    struct Script {
        requests: VecDeque<Option<Request>>,
        notices: Vec<String>,
    }

    impl Host for Script {
        fn next_request(&mut self) -> Option<Request> {
            self.requests.pop_front().unwrap_or(Some(Request::Stop))
        }
        fn reload(&mut self) -> Result<Loaded, ConfigError> {
            Err(ConfigError::Line { path: "x".into(), line: 1, message: "no".into() })
        }
        fn notice(&mut self, _: Level, message: &str) {
            self.notices.push(message.to_string());
        }
        fn state_report(&mut self, _: &str) {}
    }

    #[test]
    fn start_records_rotate_stop() {
        let dir = std::env::temp_dir().join(format!("nlaudit-daemon-loop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let log = dir.join("audit.log");
        let config = Config {
            log_file: LogTarget::File(log.clone()),
            log_format: LogFormat::Raw,
            flush: Flush::None,
            space_left: Space::Megabytes(0),
            admin_space_left: Space::Megabytes(0),
            ..Config::default()
        };
        let mut kernel = FakeKernel::default();
        for (ty, text) in [
            (1300, "audit(1.001:5): arch=c000003e syscall=110 key=\"k\""),
            (1320, "audit(1.001:5): "),
            (1300, "audit(1.002:6): arch=c000003e syscall=110 key=\"k\""),
            (1329, "audit(1.002:7): replace"),
            (1300, "audit(1.003:8): arch=c000003e syscall=110 key=\"k\""),
        ] {
            kernel.records.push_back(record(ty, text));
        }
        let receiver = Receiver::with_client(Client::with_transport(kernel));
        let mut d = Daemon::new(receiver, config).expect("log opens");
        let mut host = Script {
            requests: [None, None, None, None, Some(Request::Rotate), None, None, None]
                .into_iter()
                .collect(),
            notices: Vec::new(),
        };
        d.start(&mut host).expect("registers");
        let counters = d.run(&mut host).expect("runs");
        assert_eq!(counters.records, 4, "EOE counted, AUDIT_REPLACE skipped");
        let read = |p: &PathBuf| std::fs::read_to_string(p).expect("read");
        let old = read(&dir.join("audit.log.1"));
        let new = read(&log);
        let types = |t: &str| -> Vec<String> {
            t.lines().map(|l| l.split(' ').next().unwrap_or("").to_string()).collect()
        };
        assert_eq!(types(&old), ["type=DAEMON_START", "type=SYSCALL", "type=SYSCALL"]);
        assert_eq!(types(&new), ["type=DAEMON_ROTATE", "type=SYSCALL", "type=DAEMON_END"]);
        assert!(new.contains("op=rotate-logs auid=0 uid="), "{new}");
        assert!(new.lines().last().is_some_and(|l| l.contains("op=terminate auid=0")));
        assert!(
            old.contains("type=SYSCALL msg=audit(1.001:5): arch=c000003e syscall=110 key=\"k\"\n")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
