//! Audit records and events, as the kernel multicasts them to `AUDIT_NLGRP_READLOG`.
//!
//! A *record* is one netlink message whose payload is text:
//! `audit(SECS.MSEC:SERIAL): name=value name="quoted" name=48455820 ...`
//! (`audit_log_start` writes the stamp, `audit_log_format` the fields; kernel/audit.c).
//! An *event* is the records that share one stamp: for a syscall, `SYSCALL`, then `CWD`,
//! `PATH`..., `PROCTITLE`, and finally `EOE` (`audit_log_exit`, kernel/auditsc.c).
//!
//! - [`Record::parse`] turns a payload into typed fields and decodes the strings the kernel
//!   hex-encodes (`audit_log_untrustedstring`: any value with a space, a quote, a control or
//!   a non-ASCII byte is written as unquoted hex);
//! - [`EventAssembler`] groups records by stamp, in bounded memory;
//! - [`EventReader`] reads the multicast socket, feeds the assembler and reports overruns
//!   (ENOBUFS) instead of failing; [`EventReader::wait_for`] waits for one matching event.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::codec::split_datagram;
use crate::consts::MsgType;
use crate::error::{Error, Op, Result};
use crate::transport::{NetlinkTransport, Transport};

// Record types this module needs by number (include/uapi/linux/audit.h).
/// `AUDIT_USER` (1005): a message from user space (`auditctl -m`).
pub const AUDIT_USER: MsgType = MsgType(1005);
/// `AUDIT_FIRST_USER_MSG` (1100): first of the user-space message types.
pub const AUDIT_FIRST_USER_MSG: MsgType = MsgType(1100);
/// `AUDIT_LAST_USER_MSG` (1199).
pub const AUDIT_LAST_USER_MSG: MsgType = MsgType(1199);
/// `AUDIT_PATH` (1302): one file name the syscall used.
pub const AUDIT_PATH: MsgType = MsgType(1302);
/// `AUDIT_CONFIG_CHANGE` (1305): a rule or setting changed.
pub const AUDIT_CONFIG_CHANGE: MsgType = MsgType(1305);
/// `AUDIT_CWD` (1307): the current directory of the syscall.
pub const AUDIT_CWD: MsgType = MsgType(1307);
/// `AUDIT_EXECVE` (1309): the arguments of an execve (`a0=... a1=...`).
pub const AUDIT_EXECVE: MsgType = MsgType(1309);
/// `AUDIT_PROCTITLE` (1327): the process title (argv, NUL-separated, hex-encoded).
pub const AUDIT_PROCTITLE: MsgType = MsgType(1327);
/// `AUDIT_KERNEL` (2000): the audit subsystem's own start-up record.
pub const AUDIT_KERNEL: MsgType = MsgType(2000);
/// `AUDIT_FIRST_USER_MSG2` (2100): first of the second block of user-space types.
pub const AUDIT_FIRST_USER_MSG2: MsgType = MsgType(2100);
/// `AUDIT_LAST_USER_MSG2` (2999).
pub const AUDIT_LAST_USER_MSG2: MsgType = MsgType(2999);

/// `MAX_AUDIT_MESSAGE_LENGTH` (8970, libaudit): the largest record the kernel sends.
pub const MAX_AUDIT_MESSAGE_LENGTH: usize = 8970;

/// Fields whose values the kernel writes with `audit_log_untrustedstring` or
/// `audit_log_n_untrustedstring` (kernel/audit.c, auditsc.c, audit_watch.c, audit_tree.c):
/// quoted when printable, else hex. `EXECVE`'s `aN`/`aN[i]` are handled apart, because
/// `SYSCALL`'s `a0`..`a3` are hex *numbers*.
const UNTRUSTED_FIELDS: &[&str] = &[
    "name",      // PATH: audit_log_name
    "cwd",       // CWD: audit_log_d_path
    "exe",       // SYSCALL and others: audit_log_d_path_exe
    "comm",      // audit_log_task_info, audit_log_untrustedstring(get_task_comm())
    "ocomm",     // OBJ_PID, signal targets
    "key",       // audit_log_key
    "proctitle", // audit_log_proctitle
    "path",      // CONFIG_CHANGE of a watch (audit_watch.c), AVC, INTEGRITY
    "dir",       // CONFIG_CHANGE of a directory tree (audit_tree.c)
    "data",      // TTY: audit_log_n_untrustedstring
    "root_dir",  // CONFIG_CHANGE of a tree
    "watch",     // older kernels' watch CONFIG_CHANGE
];

/// The stamp of a record: `audit(SECS.MSEC:SERIAL)`. All records of one event share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stamp {
    /// Seconds since the epoch (`ts.tv_sec`).
    pub secs: u64,
    /// Milliseconds (`ts.tv_nsec / 1000000`, 0..=999).
    pub millis: u32,
    /// The event's serial number (`audit_serial()`), unique per boot until it wraps.
    pub serial: u64,
}

impl fmt::Display for Stamp {
    /// `SECS.MSEC:SERIAL`, as inside `audit(...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}:{}", self.secs, self.millis, self.serial)
    }
}

/// A field's value, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Written as is: numbers (`uid=0`), hex numbers (`a0=ffffff9c`), words (`nametype=NORMAL`,
    /// `tty=(none)`).
    Raw(String),
    /// Written in quotes: `"..."` by the kernel, `'...'` around a user-space `msg`.
    Quoted(String),
    /// Hex-encoded by `audit_log_untrustedstring`: the decoded bytes.
    Hex(Vec<u8>),
    /// `(null)`: no value (an unset key).
    Null,
}

impl Value {
    /// The value as text: hex is decoded (invalid UTF-8 becomes U+FFFD, NUL separators as in
    /// `proctitle` become spaces, trailing NULs go); `None` for `(null)`.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Raw(s) | Value::Quoted(s) => Some(Cow::Borrowed(s)),
            Value::Hex(b) => {
                let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                let s = String::from_utf8_lossy(&b[..end]);
                Some(if s.contains('\0') { Cow::Owned(s.replace('\0', " ")) } else { s })
            }
            Value::Null => None,
        }
    }

    /// Whether the value is a string (quoted or hex), not a number or word.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::Quoted(_) | Value::Hex(_))
    }
}

/// One `name=value` of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The name, as the kernel wrote it.
    pub name: String,
    /// The value.
    pub value: Value,
}

/// A record whose text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The text does not start with `audit(SECS.MSEC:SERIAL): `.
    #[error("record of type {ty} does not start with audit(SECS.MSEC:SERIAL): {start:?}")]
    Header {
        /// The record type.
        ty: u16,
        /// The first characters of the text.
        start: String,
    },
}

/// One audit record: its type, stamp and fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The record type (`nlmsg_type`).
    pub ty: MsgType,
    /// Its stamp.
    pub stamp: Stamp,
    /// The fields in the kernel's order. A token without `=` is not a field; it stays in
    /// [`Record::text`] only.
    pub fields: Vec<Field>,
    /// The whole text as received (`audit(...): ...`), without trailing NULs or newline,
    /// invalid UTF-8 replaced by U+FFFD.
    pub text: String,
}

impl Record {
    /// Parses a record's payload (the netlink message's text).
    pub fn parse(ty: MsgType, payload: &[u8]) -> Result<Record, RecordError> {
        let end = payload.iter().rposition(|&c| c != 0 && c != b'\n').map_or(0, |i| i + 1);
        let text = String::from_utf8_lossy(&payload[..end]).into_owned();
        let (stamp, body) = parse_header(&text).ok_or_else(|| RecordError::Header {
            ty: ty.0,
            start: text.chars().take(40).collect(),
        })?;
        let fields = parse_fields(ty, body);
        Ok(Record { ty, stamp, fields, text })
    }

    /// The text after `audit(...): `.
    pub fn body(&self) -> &str {
        parse_header(&self.text).map_or("", |(_, b)| b)
    }

    /// The first field called `name`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|f| f.name == name).map(|f| &f.value)
    }

    /// The first field called `name`, as text (see [`Value::text`]).
    pub fn text_of(&self, name: &str) -> Option<Cow<'_, str>> {
        self.field(name)?.text()
    }

    /// The keys of the rules that matched (`key=`): the kernel joins several with
    /// `AUDIT_KEY_SEPARATOR` (0x01). Empty for `(null)`.
    pub fn keys(&self) -> Vec<String> {
        let bytes: &[u8] = match self.field("key") {
            Some(Value::Raw(s) | Value::Quoted(s)) => s.as_bytes(),
            Some(Value::Hex(b)) => b,
            Some(Value::Null) | None => return Vec::new(),
        };
        crate::rule::split_keys(bytes).map(|k| String::from_utf8_lossy(k).into_owned()).collect()
    }
}

/// Splits `audit(SECS.MSEC:SERIAL): rest`.
fn parse_header(text: &str) -> Option<(Stamp, &str)> {
    let rest = text.strip_prefix("audit(")?;
    let close = rest.find(')')?;
    let inside = &rest[..close];
    let (time, serial) = inside.split_once(':')?;
    let (secs, millis) = time.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(secs) || !digits(millis) || !digits(serial) {
        return None;
    }
    let stamp = Stamp {
        secs: secs.parse().ok()?,
        millis: millis.parse().ok()?,
        serial: serial.parse().ok()?,
    };
    let after = rest[close + 1..].strip_prefix(':')?;
    Some((stamp, after.trim_start_matches(' ')))
}

/// Splits the body into fields. Values: `"..."` (the kernel never escapes inside: a value
/// with a quote is hex instead), `'...'` (user-space `msg`, may hold spaces and quotes; it
/// ends at a quote followed by a space or the end), or a word up to the next space.
fn parse_fields(ty: MsgType, body: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut rest = body;
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        let token_end = rest.find(' ').unwrap_or(rest.len());
        let Some(eq) = rest[..token_end].find('=') else {
            rest = &rest[token_end..]; // not name=value (e.g. AVC's "{ read }"): skipped
            continue;
        };
        let name = &rest[..eq];
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(i) => (Value::Quoted(q[..i].to_string()), &q[i + 1..]),
                None => (Value::Quoted(q.to_string()), ""),
            }
        } else if let Some(q) = after.strip_prefix('\'') {
            let close = q
                .match_indices('\'')
                .map(|(i, _)| i)
                .find(|&i| q[i + 1..].is_empty() || q[i + 1..].starts_with(' '));
            match close {
                Some(i) => (Value::Quoted(q[..i].to_string()), &q[i + 1..]),
                None => (Value::Quoted(q.to_string()), ""),
            }
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (unquoted(ty, name, &after[..end]), &after[end..])
        };
        fields.push(Field { name: name.to_string(), value });
        rest = next;
    }
    fields
}

/// An unquoted value: `(null)`, hex of an untrusted string, or a raw word.
fn unquoted(ty: MsgType, name: &str, v: &str) -> Value {
    if v == "(null)" {
        return Value::Null;
    }
    if is_untrusted(ty, name) {
        if let Some(bytes) = decode_hex(v) {
            return Value::Hex(bytes);
        }
    }
    Value::Raw(v.to_string())
}

/// Whether the kernel writes field `name` of a record of type `ty` as an untrusted string.
fn is_untrusted(ty: MsgType, name: &str) -> bool {
    if UNTRUSTED_FIELDS.contains(&name) {
        return true;
    }
    // EXECVE: a0, a1, ... and the pieces a0[0], a0[1]... of a long argument
    // (audit_log_execve_info), but not a0_len.
    if ty == AUDIT_EXECVE {
        if let Some(n) = name.strip_prefix('a') {
            let n = n.split_once('[').map_or(n, |(i, rest)| {
                if rest.strip_suffix(']').is_some_and(|j| j.bytes().all(|c| c.is_ascii_digit())) {
                    i
                } else {
                    ""
                }
            });
            return !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit());
        }
    }
    false
}

/// Decodes an even-length, all-hex string (either case).
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16)?;
            let lo = (p[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// Why an event was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventEnd {
    /// Its `EOE` record arrived: the kernel says it is complete.
    Eoe,
    /// A record type that is an event by itself (user-space messages, `AUDIT_KERNEL`).
    Single,
    /// No record arrived for it during the idle timeout (records outside a syscall have no
    /// `EOE`; an `EOE` may also have been lost).
    Idle,
    /// Emitted early to keep memory bounded (too many events pending).
    Evicted,
    /// Emitted by [`EventAssembler::flush`] (the reader stopped).
    Flushed,
}

impl EventEnd {
    /// A stable lower-case name: `eoe`, `single`, `idle`, `evicted`, `flushed`.
    pub fn name(self) -> &'static str {
        match self {
            EventEnd::Eoe => "eoe",
            EventEnd::Single => "single",
            EventEnd::Idle => "idle",
            EventEnd::Evicted => "evicted",
            EventEnd::Flushed => "flushed",
        }
    }
}

/// The records of one event, in arrival order (the `EOE` record itself is not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The stamp every record shares.
    pub stamp: Stamp,
    /// The records.
    pub records: Vec<Record>,
    /// Why the event was emitted.
    pub end: EventEnd,
    /// Records dropped because the event reached [`EventAssembler`]'s per-event limit.
    pub dropped_records: usize,
}

impl Event {
    /// The first record of type `ty`.
    pub fn record(&self, ty: MsgType) -> Option<&Record> {
        self.records.iter().find(|r| r.ty == ty)
    }

    /// The keys of every record, without duplicates, in order.
    pub fn keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in self.records.iter().flat_map(Record::keys) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// Whether one of the event's keys is exactly `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.records.iter().any(|r| r.keys().iter().any(|k| k == key))
    }

    /// The `SYSCALL` record's `arch` (`AUDIT_ARCH_*`, hex in the text).
    pub fn arch(&self) -> Option<u32> {
        let v = self.record(MsgType::AUDIT_SYSCALL)?.text_of("arch")?;
        u32::from_str_radix(&v, 16).ok()
    }

    /// The `SYSCALL` record's syscall number.
    pub fn syscall(&self) -> Option<u32> {
        self.record(MsgType::AUDIT_SYSCALL)?.text_of("syscall")?.parse().ok()
    }

    /// The `name` of every `PATH` record, in order (`None` for `name=(null)`).
    pub fn paths(&self) -> Vec<Option<String>> {
        self.records
            .iter()
            .filter(|r| r.ty == AUDIT_PATH)
            .map(|r| r.text_of("name").map(Cow::into_owned))
            .collect()
    }

    /// The first `name` field among the records, as text.
    pub fn text_of(&self, name: &str) -> Option<Cow<'_, str>> {
        self.records.iter().find_map(|r| r.text_of(name))
    }

    /// Bytes of record text held (what [`EventAssembler`] bounds).
    fn size(&self) -> usize {
        self.records.iter().map(|r| r.text.len()).sum()
    }
}

/// Whether a record of this type is an event by itself: the kernel logs user-space
/// messages (`AUDIT_USER`, 1100–1199, 2100–2999) from `audit_receive_msg` with
/// `audit_log_start(NULL, ...)`, i.e. outside any syscall context, with a serial of their
/// own and no `EOE`; so is `AUDIT_KERNEL` (`audit_init`). audit-userspace's
/// `audit_is_last_record` lists these too. Other records outside a syscall context (e.g.
/// `CONFIG_CHANGE` from a task that has no audit context) have no `EOE` either: the idle
/// timeout ends them.
pub fn is_single_record(ty: MsgType) -> bool {
    ty == AUDIT_USER
        || ty == AUDIT_KERNEL
        || (AUDIT_FIRST_USER_MSG..=AUDIT_LAST_USER_MSG).contains(&ty)
        || (AUDIT_FIRST_USER_MSG2..=AUDIT_LAST_USER_MSG2).contains(&ty)
}

/// Limits of an [`EventAssembler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// An event with no new record for this long is emitted ([`EventEnd::Idle`]).
    pub idle: Duration,
    /// Most events pending at once; beyond it the oldest is emitted ([`EventEnd::Evicted`]).
    pub max_pending: usize,
    /// Most record bytes pending at once (same remedy).
    pub max_bytes: usize,
    /// Most records kept per event; further ones are counted in
    /// [`Event::dropped_records`].
    pub max_records: usize,
}

impl Default for Limits {
    /// 2 s idle (auparse's `eoe_timeout` default), 256 events, 16 MiB, 4096 records/event.
    fn default() -> Self {
        Limits {
            idle: Duration::from_secs(2),
            max_pending: 256,
            max_bytes: 16 << 20,
            max_records: 4096,
        }
    }
}

#[derive(Debug)]
struct Pending {
    event: Event,
    last: Instant,
}

/// Groups records into events by stamp. Records of different events may interleave (one
/// event per CPU being logged at a time); records of one event arrive in order.
///
/// An event is emitted when its `EOE` arrives, at once for single-record types, after
/// [`Limits::idle`] without a new record, or early when the limits are reached. Time is
/// passed in, so that the assembler is deterministic.
#[derive(Debug)]
pub struct EventAssembler {
    limits: Limits,
    pending: Vec<Pending>,
    bytes: usize,
}

impl Default for EventAssembler {
    fn default() -> Self {
        EventAssembler::new(Limits::default())
    }
}

impl EventAssembler {
    /// An assembler with these limits (`max_pending` and `max_records` at least 1).
    pub fn new(limits: Limits) -> Self {
        let limits = Limits {
            max_pending: limits.max_pending.max(1),
            max_records: limits.max_records.max(1),
            ..limits
        };
        EventAssembler { limits, pending: Vec::new(), bytes: 0 }
    }

    /// Events waiting for more records.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds a record received at `now`; completed events are appended to `out`.
    pub fn push(&mut self, record: Record, now: Instant, out: &mut Vec<Event>) {
        let at = self.pending.iter().position(|p| p.event.stamp == record.stamp);
        if record.ty == MsgType::AUDIT_EOE {
            // A lone EOE (its event was evicted or timed out) ends nothing.
            if let Some(i) = at {
                out.push(self.take(i, EventEnd::Eoe));
            }
            return;
        }
        match at {
            Some(i) => {
                let p = &mut self.pending[i];
                p.last = now;
                if p.event.records.len() >= self.limits.max_records {
                    p.event.dropped_records += 1;
                } else {
                    self.bytes += record.text.len();
                    p.event.records.push(record);
                }
            }
            None if is_single_record(record.ty) => out.push(Event {
                stamp: record.stamp,
                records: vec![record],
                end: EventEnd::Single,
                dropped_records: 0,
            }),
            None => {
                self.bytes += record.text.len();
                let event = Event {
                    stamp: record.stamp,
                    records: vec![record],
                    end: EventEnd::Eoe,
                    dropped_records: 0,
                };
                self.pending.push(Pending { event, last: now });
            }
        }
        while self.pending.len() > self.limits.max_pending
            || (self.bytes > self.limits.max_bytes && self.pending.len() > 1)
        {
            out.push(self.take(0, EventEnd::Evicted));
        }
    }

    /// Emits the events idle since before `now - idle`.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<Event>) {
        let idle = self.limits.idle;
        let mut i = 0;
        while i < self.pending.len() {
            if now.saturating_duration_since(self.pending[i].last) >= idle {
                out.push(self.take(i, EventEnd::Idle));
            } else {
                i += 1;
            }
        }
    }

    /// When the next pending event goes idle.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.last + self.limits.idle).min()
    }

    /// Emits every pending event ([`EventEnd::Flushed`]), oldest first.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        while !self.pending.is_empty() {
            out.push(self.take(0, EventEnd::Flushed));
        }
    }

    /// Groups a finished sequence of records (an audit log, a test capture) into events,
    /// in the order they end; events still open at the end are flushed.
    pub fn assemble(records: impl IntoIterator<Item = Record>) -> Vec<Event> {
        let mut a = EventAssembler::default();
        let mut out = Vec::new();
        let now = Instant::now();
        for r in records {
            a.push(r, now, &mut out);
        }
        a.flush(&mut out);
        out
    }

    fn take(&mut self, i: usize, end: EventEnd) -> Event {
        let mut e = self.pending.remove(i).event;
        self.bytes = self.bytes.saturating_sub(e.size());
        e.end = end;
        e
    }
}

/// What [`EventReader::next`] delivers.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadItem {
    /// An event.
    Event(Event),
    /// The socket's receive buffer overflowed (ENOBUFS): the kernel dropped records for this
    /// socket (the number is the socket's drop counter, `sk_drops`, shown in
    /// `/proc/net/netlink`). Reading goes on.
    Overrun,
    /// A record that does not parse; reading goes on.
    Malformed(RecordError),
}

/// Counters of an [`EventReader`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Datagrams read.
    pub datagrams: u64,
    /// Records parsed.
    pub records: u64,
    /// Overruns (ENOBUFS) seen.
    pub overruns: u64,
    /// Datagrams dropped because they did not come from the kernel (`nl_pid != 0`).
    pub foreign_datagrams: u64,
    /// Datagrams that were cut (larger than the buffer) or did not split into messages.
    pub bad_datagrams: u64,
    /// Records that did not parse.
    pub malformed: u64,
}

/// Reads records from the `AUDIT_NLGRP_READLOG` multicast group and delivers events.
///
/// Joining the group needs CAP_AUDIT_READ; it does not disturb auditd (which receives by
/// unicast). The kernel multicasts only in the initial network namespace (kernel/audit.c
/// `kauditd_send_multicast_skb` uses `init_net`), and only while audit is enabled.
#[derive(Debug)]
pub struct EventReader<T: Transport = NetlinkTransport> {
    transport: T,
    buf: Vec<u8>,
    assembler: EventAssembler,
    ready: VecDeque<Event>,
    scratch: Vec<Event>,
    malformed: VecDeque<RecordError>,
    overrun: bool,
    /// Counters.
    pub stats: ReaderStats,
}

impl EventReader<NetlinkTransport> {
    /// Opens a socket and joins the read-only record group.
    pub fn open() -> Result<Self> {
        let t = NetlinkTransport::open_readlog()
            .map_err(|source| Error::Io { op: Op::ReadLog, source })?;
        Ok(EventReader::with_transport(t, Limits::default()))
    }
}

impl<T: Transport> EventReader<T> {
    /// A reader over any transport (tests inject records and faults this way).
    pub fn with_transport(transport: T, limits: Limits) -> Self {
        EventReader {
            transport,
            // Multicast records are single messages of at most MAX_AUDIT_MESSAGE_LENGTH; the
            // slack covers the header and anything a newer kernel adds.
            buf: vec![0; 64 * 1024],
            assembler: EventAssembler::new(limits),
            ready: VecDeque::new(),
            scratch: Vec::new(),
            malformed: VecDeque::new(),
            overrun: false,
            stats: ReaderStats::default(),
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The next event, overrun or malformed record; `Ok(None)` once `deadline` passes.
    /// Events are delivered in the order they complete.
    pub fn next(&mut self, deadline: Instant) -> Result<Option<ReadItem>> {
        loop {
            if std::mem::take(&mut self.overrun) {
                return Ok(Some(ReadItem::Overrun));
            }
            if let Some(e) = self.malformed.pop_front() {
                return Ok(Some(ReadItem::Malformed(e)));
            }
            if let Some(e) = self.ready.pop_front() {
                return Ok(Some(ReadItem::Event(e)));
            }
            let now = Instant::now();
            self.assembler.expire(now, &mut self.scratch);
            if !self.scratch.is_empty() {
                self.ready.extend(self.scratch.drain(..));
                continue;
            }
            if now >= deadline {
                return Ok(None);
            }
            let until = self.assembler.next_expiry().map_or(deadline, |t| t.min(deadline));
            self.receive(until.saturating_duration_since(now))?;
        }
    }

    /// Emits every pending event now (e.g. before stopping); they come from [`next`]
    /// (or this call's return) marked [`EventEnd::Flushed`].
    ///
    /// [`next`]: EventReader::next
    pub fn flush(&mut self) -> Vec<Event> {
        let mut out: Vec<Event> = self.ready.drain(..).collect();
        self.assembler.flush(&mut out);
        out
    }

    /// Waits up to `timeout` for an event that has key `key` and satisfies `pred`; other
    /// events, overruns and malformed records are skipped. `Ok(None)` on timeout.
    ///
    /// Open the reader *before* causing the event: records logged before the group was
    /// joined are not delivered.
    pub fn wait_for(
        &mut self,
        key: &str,
        timeout: Duration,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Result<Option<Event>> {
        let deadline = Instant::now() + timeout;
        while let Some(item) = self.next(deadline)? {
            if let ReadItem::Event(e) = item {
                if e.has_key(key) && pred(&e) {
                    return Ok(Some(e));
                }
            }
        }
        // Records of a matching event may still be pending (no EOE yet): look there too.
        Ok(self.flush().into_iter().find(|e| e.has_key(key) && pred(e)))
    }

    /// Waits up to `wait` for one datagram and feeds its records to the assembler.
    fn receive(&mut self, wait: Duration) -> Result<()> {
        let op = Op::ReadLog;
        let got = match self.transport.recv(&mut self.buf, wait) {
            Ok(Some(got)) => got,
            Ok(None) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                // netlink_overrun (af_netlink.c): records for this socket were dropped; the
                // socket stays usable. Report it and go on.
                self.stats.overruns += 1;
                self.overrun = true;
                return Ok(());
            }
            Err(source) => return Err(Error::Io { op, source }),
        };
        self.stats.datagrams += 1;
        if got.sender != 0 {
            self.stats.foreign_datagrams += 1;
            return Ok(());
        }
        let Some(data) = self.buf.get(..got.len) else {
            self.stats.bad_datagrams += 1;
            return Ok(());
        };
        // split_datagram handles the payload-only nlmsg_len of unicast records; multicast
        // copies carry the standard length (kauditd_send_multicast_skb fixes it up).
        let Ok(msgs) = split_datagram(data) else {
            self.stats.bad_datagrams += 1;
            return Ok(());
        };
        let now = Instant::now();
        for m in msgs {
            // Netlink control messages (NOOP, ERROR, DONE, OVERRUN) are not records.
            if m.header.ty.0 < 16 {
                continue;
            }
            match Record::parse(m.header.ty, m.payload) {
                Ok(r) => {
                    self.stats.records += 1;
                    self.assembler.push(r, now, &mut self.scratch);
                }
                Err(e) => {
                    self.stats.malformed += 1;
                    self.malformed.push_back(e);
                }
            }
        }
        self.ready.extend(self.scratch.drain(..));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    // Records captured from kernel 6.18 (AUDIT_NLGRP_READLOG) with
    // `-w /usr/sbin/dockerd -p rwxa -k capdock`, `-w "/tmp/evcap/d ir" -p wa -k capa -k capb`
    // and `-a always,exit -S mkdirat`, while running `touch /usr/sbin/dockerd`,
    // `dockerd --version`, `echo hi > "/tmp/evcap/d ir/f x"` and `auditctl -m`.
    const TOUCH: &[(u16, &str)] = &[
        (1300, "audit(1795742192.830:2): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd92645931 a2=941 a3=1b6 items=1 ppid=23235 pid=23285 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"touch\" exe=\"/usr/bin/touch\" key=\"capdock\""),
        (1307, "audit(1795742192.830:2): cwd=\"/work/main\""),
        (1302, "audit(1795742192.830:2): item=0 name=\"/usr/sbin/dockerd\" inode=9125927 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"),
        (1327, "audit(1795742192.830:2): proctitle=746F756368002F7573722F7362696E2F646F636B657264"),
        (1320, "audit(1795742192.830:2): "),
    ];
    const EXEC: &[(u16, &str)] = &[
        (1300, "audit(1795742192.830:3): arch=c000003e syscall=59 success=yes exit=0 a0=7fa5881792f0 a1=7fa588179150 a2=7ffebf5b2460 a3=8 items=2 ppid=23235 pid=23286 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"dockerd\" exe=\"/usr/sbin/dockerd\" key=\"capdock\""),
        (1321, "audit(1795742192.830:3): fver=0 fp=0 fi=0 fe=0 old_pp=000001fffeffffff old_pi=0 old_pe=000001fffeffffff old_pa=0 pp=000001fffeffffff pi=0 pe=000001fffeffffff pa=0 frootid=0"),
        (1309, "audit(1795742192.830:3): argc=2 a0=\"/usr/sbin/dockerd\" a1=\"--version\""),
        (1307, "audit(1795742192.830:3): cwd=\"/work/main\""),
        (1302, "audit(1795742192.830:3): item=0 name=\"/usr/sbin/dockerd\" inode=9125927 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"),
        (1302, "audit(1795742192.830:3): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=325843 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"),
        (1327, "audit(1795742192.830:3): proctitle=2F7573722F7362696E2F646F636B657264002D2D76657273696F6E"),
        (1320, "audit(1795742192.830:3): "),
    ];
    const SPACES: &[(u16, &str)] = &[
        (1300, "audit(1795742192.922:5): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55db20c72930 a2=241 a3=1b6 items=1 ppid=23235 pid=23292 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"sh\" exe=\"/usr/bin/dash\" key=636170610163617062"),
        (1307, "audit(1795742192.922:5): cwd=\"/work/main\""),
        (1302, "audit(1795742192.922:5): item=0 name=2F746D702F65766361702F642069722F662078 inode=10011187 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"),
        (1327, "audit(1795742192.922:5): proctitle=7368002D63006563686F206869203E20222F746D702F65766361702F642069722F66207822"),
        (1320, "audit(1795742192.922:5): "),
    ];
    const CONFIG: &[(u16, &str)] = &[
        (1305, "audit(1795742205.654:8): auid=4294967295 ses=4294967295 op=add_rule key=(null) list=4 res=1"),
        (1300, "audit(1795742205.654:8): arch=c000003e syscall=44 success=yes exit=1068 a0=4 a1=7fff63ca7730 a2=42c a3=0 items=0 ppid=23638 pid=23684 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"auditctl\" exe=\"/usr/sbin/auditctl\" key=(null)"),
        (1327, "audit(1795742205.654:8): proctitle=617564697463746C002D6100616C776179732C65786974002D46006172636800623634002D53006D6B6469726174002D4600646972002F746D702F65766361702F78"),
        (1320, "audit(1795742205.654:8): "),
    ];
    const USER: (u16, &str) = (1005, "audit(1795742205.654:9): pid=23686 uid=0 auid=4294967295 ses=4294967295 msg='text=hello from cap2 exe=\"/usr/sbin/auditctl\" hostname=? addr=? terminal=? res=success'");

    fn rec(r: (u16, &str)) -> Record {
        Record::parse(MsgType(r.0), r.1.as_bytes()).expect("captured record parses")
    }

    /// One field of a parsed record, rendered for comparison: `text` or `(null)`.
    fn check(r: (u16, &str), name: &str, expect: Option<&str>) {
        let got =
            rec(r).field(name).map(|v| v.text().map_or("(null)".to_string(), |t| t.into_owned()));
        assert_eq!(got.as_deref(), expect, "{name} of {}", r.1);
    }

    #[test]
    fn fields_decode() {
        check(TOUCH[0], "syscall", Some("257"));
        check(TOUCH[0], "a0", Some("ffffff9c")); // a hex number, not a string
        check(TOUCH[0], "tty", Some("(none)"));
        check(TOUCH[0], "comm", Some("touch"));
        check(TOUCH[0], "key", Some("capdock"));
        check(TOUCH[0], "nosuch", None);
        check(TOUCH[1], "cwd", Some("/work/main"));
        check(TOUCH[2], "name", Some("/usr/sbin/dockerd"));
        check(TOUCH[2], "dev", Some("fe:00"));
        check(TOUCH[3], "proctitle", Some("touch /usr/sbin/dockerd"));
        check(EXEC[1], "old_pp", Some("000001fffeffffff")); // even-length hex, not untrusted
        check(EXEC[2], "a1", Some("--version"));
        check(SPACES[2], "name", Some("/tmp/evcap/d ir/f x"));
        check(SPACES[3], "proctitle", Some("sh -c echo hi > \"/tmp/evcap/d ir/f x\""));
        check(CONFIG[0], "key", Some("(null)"));
        check(CONFIG[0], "op", Some("add_rule"));
        check(USER, "msg", Some("text=hello from cap2 exe=\"/usr/sbin/auditctl\" hostname=? addr=? terminal=? res=success"));
        check(USER, "pid", Some("23686"));
        check((1309, "audit(1.000:1): argc=2 a0=6C73 a1=2D6C2061 a1_len=4"), "a1", Some("-l a"));
        check((1309, "audit(1.000:1): a0_len=4 a0[0]=6C73 a0[1]=2D6C"), "a0[1]", Some("-l"));
        check((1309, "audit(1.000:1): a0_len=4"), "a0_len", Some("4"));
        check((1300, "audit(1.000:1): a1=6C73"), "a1", Some("6C73"));
        check((1302, "audit(1.000:1): name=6C7"), "name", Some("6C7")); // odd: not hex
        check((1302, "audit(1.000:1): name=zz"), "name", Some("zz"));
        check((1302, "audit(1.000:1): name=\"unterminated"), "name", Some("unterminated"));
        check((1107, "audit(1.000:1): msg='it's ok' x=1"), "msg", Some("it's ok"));
        check((1107, "audit(1.000:1): msg='it's ok' x=1"), "x", Some("1"));
        check((1400, "audit(1.000:1): avc:  denied  { read } for pid=5"), "pid", Some("5"));
    }

    #[test]
    fn header_and_text() {
        let r = rec(TOUCH[0]);
        assert_eq!(r.stamp, Stamp { secs: 1795742192, millis: 830, serial: 2 });
        assert_eq!(r.stamp.to_string(), "1795742192.830:2");
        assert!(r.body().starts_with("arch=c000003e syscall=257"));
        assert_eq!(r.fields.len(), 25);
        // Trailing NULs and a newline (user-space messages may carry them) are not text.
        let r = Record::parse(MsgType(1005), b"audit(1.002:3): msg='x'\n\0\0").expect("parses");
        assert_eq!(r.text, "audit(1.002:3): msg='x'");
        let eoe = rec(TOUCH[4]);
        assert!(eoe.fields.is_empty());
        // Invalid UTF-8 does not fail (user-space msg text is copied as is).
        let r = Record::parse(MsgType(1005), b"audit(1.002:3): msg='\xff'").expect("parses");
        assert_eq!(r.text_of("msg").as_deref(), Some("\u{fffd}"));
    }

    #[test]
    fn bad_headers_are_errors() {
        for bad in [
            "",
            "audit(",
            "audit(1.2:3)",
            "audit(1.2:3) x",
            "audit(a.2:3): x",
            "audit(1:3): x",
            "audit(1.2): x",
            "type=SYSCALL msg=audit(1.2:3): x",
            "audit(1.2:-3): x",
            "audit(99999999999999999999.2:3): x",
        ] {
            let e = Record::parse(MsgType(1300), bad.as_bytes());
            assert!(matches!(e, Err(RecordError::Header { ty: 1300, .. })), "{bad:?}: {e:?}");
        }
    }

    #[test]
    fn keys_split_on_separator_and_skip_null() {
        assert_eq!(rec(SPACES[0]).keys(), ["capa", "capb"]);
        assert_eq!(rec(TOUCH[0]).keys(), ["capdock"]);
        assert!(rec(CONFIG[0]).keys().is_empty());
        assert!(rec(TOUCH[1]).keys().is_empty());
    }

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("00ff7F"), Some(vec![0, 255, 127]));
        assert_eq!(decode_hex(""), None);
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("g0"), None);
        assert_eq!(decode_hex("é0"), None); // multi-byte UTF-8, not hex
        assert_eq!(Value::Hex(b"a\0b\0\0".to_vec()).text().as_deref(), Some("a b"));
        assert_eq!(Value::Hex(vec![0]).text().as_deref(), Some(""));
        assert_eq!(Value::Null.text(), None);
    }

    fn feed(a: &mut EventAssembler, recs: &[(u16, &str)], now: Instant) -> Vec<Event> {
        let mut out = Vec::new();
        for &r in recs {
            a.push(rec(r), now, &mut out);
        }
        out
    }

    #[test]
    fn assembles_at_eoe() {
        let mut a = EventAssembler::default();
        let now = Instant::now();
        let out = feed(&mut a, TOUCH, now);
        assert_eq!(out.len(), 1);
        let e = &out[0];
        assert_eq!(e.end, EventEnd::Eoe);
        assert_eq!(e.records.len(), 4, "EOE is not kept");
        assert_eq!(e.keys(), ["capdock"]);
        assert!(e.has_key("capdock") && !e.has_key("capd"));
        assert_eq!(e.syscall(), Some(257));
        assert_eq!(e.arch(), Some(0xc000003e));
        assert_eq!(e.paths(), [Some("/usr/sbin/dockerd".to_string())]);
        assert_eq!(e.text_of("exe").as_deref(), Some("/usr/bin/touch"));
        assert_eq!(a.pending(), 0);
        let out = feed(&mut a, EXEC, now);
        assert_eq!(out[0].syscall(), Some(59));
        assert_eq!(out[0].paths().len(), 2);
        assert_eq!(
            out[0].record(AUDIT_EXECVE).and_then(|r| r.text_of("a1")).as_deref(),
            Some("--version")
        );
    }

    #[test]
    fn interleaved_events_and_single_records() {
        let mut a = EventAssembler::default();
        let now = Instant::now();
        let mut out = Vec::new();
        // Two events interleaved, a user message in between.
        for (i, r) in TOUCH.iter().enumerate() {
            a.push(rec(*r), now, &mut out);
            if let Some(x) = SPACES.get(i) {
                a.push(rec(*x), now, &mut out);
            }
            if i == 1 {
                a.push(rec(USER), now, &mut out);
                assert_eq!(out.len(), 1, "a user message is an event at once");
                assert_eq!(out[0].end, EventEnd::Single);
            }
        }
        let serials: Vec<u64> = out.iter().map(|e| e.stamp.serial).collect();
        assert_eq!(serials, [9, 2, 5]);
        assert!(out.iter().skip(1).all(|e| e.records.len() == 4));
        assert_eq!(out[2].keys(), ["capa", "capb"]);
    }

    #[test]
    fn idle_timeout_ends_events_without_eoe() {
        let mut a = EventAssembler::default();
        let t0 = Instant::now();
        let out = feed(&mut a, &CONFIG[..1], t0);
        assert!(out.is_empty());
        assert_eq!(a.next_expiry(), Some(t0 + Duration::from_secs(2)));
        let mut out = Vec::new();
        a.expire(t0 + Duration::from_millis(1999), &mut out);
        assert!(out.is_empty());
        a.expire(t0 + Duration::from_secs(2), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end, EventEnd::Idle);
        // Its late EOE ends nothing.
        let mut out = Vec::new();
        a.push(rec(CONFIG[3]), t0, &mut out);
        assert!(out.is_empty() && a.pending() == 0);
        // flush emits what is pending.
        let out = feed(&mut a, &EXEC[..3], t0);
        assert!(out.is_empty());
        let mut out = Vec::new();
        a.flush(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end, EventEnd::Flushed);
        assert_eq!(out[0].records.len(), 3);
    }

    #[test]
    fn memory_is_bounded() {
        let limits =
            Limits { max_pending: 3, max_records: 2, max_bytes: 1 << 20, ..Limits::default() };
        let mut a = EventAssembler::new(limits);
        let now = Instant::now();
        let mut out = Vec::new();
        for serial in 0..10 {
            let text = format!("audit(1.000:{serial}): x=1");
            a.push(Record::parse(MsgType(1300), text.as_bytes()).expect("parses"), now, &mut out);
        }
        assert_eq!(a.pending(), 3);
        assert_eq!(out.len(), 7);
        assert!(out.iter().all(|e| e.end == EventEnd::Evicted));
        assert_eq!(out[0].stamp.serial, 0, "oldest first");
        // Records beyond max_records are counted, not kept.
        let mut out = Vec::new();
        for _ in 0..5 {
            a.push(
                Record::parse(MsgType(1302), b"audit(1.000:9): y=2").expect("parses"),
                now,
                &mut out,
            );
        }
        a.push(Record::parse(MsgType(1320), b"audit(1.000:9): ").expect("parses"), now, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].records.len(), 2);
        assert_eq!(out[0].dropped_records, 4);
        // The byte bound evicts too.
        let limits = Limits { max_bytes: 100, ..Limits::default() };
        let mut a = EventAssembler::new(limits);
        let out = feed(&mut a, &[TOUCH[0], SPACES[0], EXEC[0]], now);
        assert_eq!(out.len(), 2);
        assert_eq!(a.pending(), 1);
    }

    /// A transport that replays datagrams and errors.
    struct Replay(VecDeque<io::Result<(u32, Vec<u8>)>>);

    impl Transport for Replay {
        fn send(&mut self, _: &[u8]) -> io::Result<()> {
            Ok(())
        }
        fn recv(&mut self, buf: &mut [u8], _: Duration) -> io::Result<Option<crate::Received>> {
            match self.0.pop_front() {
                None => Ok(None),
                Some(Err(e)) => Err(e),
                Some(Ok((sender, d))) => {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    Ok(Some(crate::Received { len: d.len(), sender }))
                }
            }
        }
    }

    fn message(r: (u16, &str)) -> Vec<u8> {
        let mut v = Vec::new();
        crate::codec::encode_message(&mut v, MsgType(r.0), 0, 0, r.1.as_bytes()).expect("encodes");
        v
    }

    fn datagram(r: (u16, &str)) -> io::Result<(u32, Vec<u8>)> {
        Ok((0, message(r)))
    }

    fn payload_only(r: (u16, &str)) -> io::Result<(u32, Vec<u8>)> {
        let mut v = message(r);
        v.truncate(16 + r.1.len());
        v[..4].copy_from_slice(&(r.1.len() as u32).to_ne_bytes()); // unicast-style nlmsg_len
        Ok((0, v))
    }

    #[test]
    fn reader_survives_overrun_foreign_and_garbage() {
        let mut q: VecDeque<_> = VecDeque::new();
        q.push_back(datagram(TOUCH[0]));
        q.push_back(Ok((4242, message(USER)))); // not from the kernel: ignored
        q.push_back(Err(io::Error::from_raw_os_error(libc::ENOBUFS)));
        for r in &TOUCH[1..] {
            q.push_back(payload_only(*r));
        }
        q.push_back(Ok((0, vec![1, 2, 3]))); // too short for a header
        q.push_back(datagram((1300, "garbage")));
        q.push_back(datagram(USER));
        q.push_back(datagram(CONFIG[0])); // no EOE follows: flushed by wait_for
        let mut r = EventReader::with_transport(Replay(q), Limits::default());
        let far = Instant::now() + Duration::from_secs(60);
        let mut items = Vec::new();
        for _ in 0..4 {
            items.push(r.next(far).expect("replayed datagrams read"));
        }
        assert!(matches!(items[0], Some(ReadItem::Overrun)), "{items:?}");
        assert!(
            matches!(&items[1], Some(ReadItem::Event(e)) if e.stamp.serial == 2 && e.records.len() == 4)
        );
        assert!(matches!(
            &items[2],
            Some(ReadItem::Malformed(RecordError::Header { ty: 1300, .. }))
        ));
        assert!(matches!(&items[3], Some(ReadItem::Event(e)) if e.end == EventEnd::Single));
        let found = r.wait_for("nosuch", Duration::from_millis(10), |_| true);
        assert!(matches!(found, Ok(None)));
        assert_eq!(r.stats.overruns, 1);
        assert_eq!(r.stats.foreign_datagrams, 1);
        assert_eq!(r.stats.bad_datagrams, 1);
        assert_eq!(r.stats.malformed, 1);
        assert_eq!(r.stats.records, 7);
    }

    #[test]
    fn wait_for_finds_pending_and_completed_events() {
        let mut q: VecDeque<_> = VecDeque::new();
        for r in TOUCH.iter().chain(EXEC) {
            q.push_back(datagram(*r));
        }
        q.push_back(datagram(CONFIG[0]));
        let mut r = EventReader::with_transport(Replay(q), Limits::default());
        let e = r.wait_for("capdock", Duration::from_secs(5), |e| e.syscall() == Some(59));
        assert_eq!(e.ok().flatten().map(|e| e.stamp.serial), Some(3));
        // The CONFIG_CHANGE has no EOE and no key: on timeout it is flushed, then rejected.
        let e = r.wait_for("capdock", Duration::from_millis(10), |_| true);
        assert!(matches!(e, Ok(None)));
    }
}
