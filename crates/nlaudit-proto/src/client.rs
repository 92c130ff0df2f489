//! The blocking NETLINK_AUDIT client.
//!
//! Every request carries a fresh sequence number and `NLM_F_ACK`; replies are matched by
//! sequence number, and only datagrams whose sender address is the kernel (`nl_pid == 0`) are
//! read at all. Stray messages (records with seq 0, late replies to earlier requests) are
//! skipped. Every wait is bounded; the receive buffer fits the largest rule the kernel can
//! hold, and a truncated datagram is an error.

use std::io;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::codec::{
    encode_message, encode_message_with, split_datagram, Ack, NlMessage, NLM_F_ACK, NLM_F_REQUEST,
};
use crate::consts::{
    status_mask, MsgType, AUDIT_FEATURE_VERSION, AUDIT_MAX_FIELDS, AUDIT_RULE_DATA_SIZE, PATH_MAX,
};
use crate::error::{EncodeError, Error, Op, Result};
use crate::rule::RuleData;
use crate::status::{AuditEnabled, Features, Status};
use crate::transport::{NetlinkTransport, Slots, Transport};

/// The receive buffer of a listing: a netlink header plus the largest rule the kernel can
/// list (every field a PATH_MAX string), plus slack. About 257 KiB.
pub const RECV_BUF_SIZE: usize = 16 + AUDIT_RULE_DATA_SIZE + AUDIT_MAX_FIELDS * PATH_MAX + 64;

/// The receive buffer of every other exchange: a status (60 bytes), a feature set (32) and
/// an ACK (36 with `NETLINK_CAP_ACK`) fit many times over. Without `NETLINK_CAP_ACK` (kernels
/// before 4.3) an error ACK echoes the request, so a request's exchange makes room for
/// [`ACK_OVERHEAD`] plus the datagram sent.
///
/// Why not always [`RECV_BUF_SIZE`]: a short command (`status`, `add`) would map and unmap
/// 257 KiB for a reply of 60 bytes (issue 20).
pub const SMALL_RECV_BUF_SIZE: usize = 8 * 1024;

/// What an error ACK adds to the request it echoes: its own netlink header and the errno.
pub const ACK_OVERHEAD: usize = 16 + 4;

/// Largest datagram the client sends in one batch (the kernel refuses datagrams larger than
/// `sk_sndbuf - 32`; the default `wmem_default` is 208 KiB).
pub const BATCH_BYTES: usize = 192 * 1024;
/// Most messages in one batch, so that their ACKs (one skb each) fit the receive buffer.
pub const BATCH_MESSAGES: usize = 256;

/// The default bound on each wait for a reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default bound on a whole AUDIT_LIST_RULES exchange: the kernel sends at most a few
/// hundred thousand rules; a stream that keeps going past 10 minutes is not a list.
pub const DEFAULT_LIST_TIMEOUT: Duration = Duration::from_secs(600);

/// On or off: `enabled 0|1`, a feature bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Switch {
    /// 0.
    Off,
    /// 1.
    On,
}

impl Switch {
    fn bit(self) -> u32 {
        match self {
            Switch::Off => 0,
            Switch::On => 1,
        }
    }
}

/// Whether `AUDIT_SET_FEATURE` also locks the feature bit (until reboot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeatureLock {
    /// The bit can change again later.
    Unlocked,
    /// The bit can no longer change (`audit_features.lock`).
    Locked,
}

/// What a batch does after a datagram in which the kernel refused a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OnError {
    /// Sends no further datagram; the rules not sent are [`ItemResult::NotReached`].
    Stop,
    /// Sends every rule.
    Continue,
}

/// What became of one rule of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemResult {
    /// The kernel did it (its ACK carried 0, or it sent no error for the message).
    Done,
    /// The kernel refused it with this errno.
    Refused(Errno),
    /// Never sent: an earlier datagram had a refusal and the batch stops on error.
    NotReached,
}

/// The outcome of [`Client::batch`]: one [`ItemResult`] per rule, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    items: Vec<ItemResult>,
}

/// How many rules of a batch ended each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BatchCounts {
    /// [`ItemResult::Done`].
    pub done: usize,
    /// [`ItemResult::Refused`].
    pub refused: usize,
    /// [`ItemResult::NotReached`].
    pub not_reached: usize,
}

/// The first rule of a batch the kernel refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Its index in the batch.
    pub index: usize,
    /// The kernel's errno.
    pub errno: Errno,
}

impl BatchOutcome {
    /// An outcome from per-rule results (for fakes and tests).
    pub fn from_items(items: Vec<ItemResult>) -> BatchOutcome {
        BatchOutcome { items }
    }

    /// The results, one per rule.
    pub fn items(&self) -> &[ItemResult] {
        &self.items
    }

    /// The results, one per rule.
    pub fn iter(&self) -> std::slice::Iter<'_, ItemResult> {
        self.items.iter()
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the batch had no rule.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The result of rule `index`.
    pub fn get(&self, index: usize) -> Option<ItemResult> {
        self.items.get(index).copied()
    }

    /// Whether every rule was done.
    pub fn all_done(&self) -> bool {
        self.items.iter().all(|r| *r == ItemResult::Done)
    }

    /// How many rules ended each way.
    pub fn counts(&self) -> BatchCounts {
        let mut c = BatchCounts::default();
        for r in &self.items {
            match r {
                ItemResult::Done => c.done += 1,
                ItemResult::Refused(_) => c.refused += 1,
                ItemResult::NotReached => c.not_reached += 1,
            }
        }
        c
    }

    /// The first refused rule, if any.
    pub fn first_refusal(&self) -> Option<Refusal> {
        self.items.iter().enumerate().find_map(|(index, r)| match r {
            ItemResult::Refused(errno) => Some(Refusal { index, errno: *errno }),
            _ => None,
        })
    }
}

impl IntoIterator for BatchOutcome {
    type Item = ItemResult;
    type IntoIter = std::vec::IntoIter<ItemResult>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a BatchOutcome {
    type Item = &'a ItemResult;
    type IntoIter = std::slice::Iter<'a, ItemResult>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// What [`Client::status_and_features`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusAndFeatures {
    /// AUDIT_GET.
    pub status: Status,
    /// AUDIT_GET_FEATURE; `None` where the kernel refused it or sent no usable reply.
    pub features: Option<Features>,
}

/// A setting `AUDIT_SET` can change without irreversible effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// `enabled` 0 or 1. (2, immutable, has its own loudly named call.)
    Enabled(Switch),
    /// `failure`: 0 silent or 1 printk. (2, panic, has its own loudly named call.)
    Failure(u32),
    /// `rate_limit`, records per second (0 = none).
    RateLimit(u32),
    /// `backlog_limit`.
    BacklogLimit(u32),
    /// `backlog_wait_time`, in jiffies-based kernel units as auditctl passes them.
    BacklogWaitTime(u32),
}

/// What to do with each rule of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOp {
    /// AUDIT_ADD_RULE.
    Add,
    /// AUDIT_DEL_RULE.
    Delete,
}

/// A blocking audit client over a [`Transport`].
#[derive(Debug)]
pub struct Client<T: Transport = NetlinkTransport> {
    transport: T,
    seq: u32,
    timeout: Duration,
    list_timeout: Duration,
    buf: Vec<u8>,
    /// Datagrams dropped because they did not come from the kernel.
    pub foreign_datagrams: u64,
    /// Kernel messages skipped because they answered no pending request.
    pub stray_messages: u64,
    /// What to do with records that arrive while a reply is awaited.
    record_policy: RecordPolicy,
    /// Records kept by [`RecordPolicy::Keep`], oldest first.
    held: std::collections::VecDeque<HeldRecord>,
    /// Where [`Client::receive_records`] receives, made on its first call.
    slots: Option<Slots>,
}

/// How many datagrams [`Client::receive_records`] takes per system call: a record is one
/// datagram, and at a high rate one `recvmmsg(2)` for 32 of them costs less than 32
/// `recvfrom(2)`s.
pub const RECORD_SLOTS: usize = 32;

/// The room for each: the largest record the kernel makes is a PATH record naming a
/// 4095-byte path in hex (8 KiB and its other fields); 64 KiB leaves a margin, and the pages
/// a short record does not reach are never touched.
pub const RECORD_SLOT_SIZE: usize = 64 * 1024;

/// What the client does with audit records (messages with sequence number 0 and a record
/// type) that arrive while it waits for a reply.
///
/// The registered audit daemon receives records on the socket it registered from, and they
/// interleave with replies: records can even come before the ACK of the `AUDIT_SET` that
/// registered it (kernel/audit.c: `auditd_set` runs inside `audit_receive_msg`, the ACK is
/// sent after it returns, and `kauditd_thread` may send in between). Skipping them would
/// lose them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RecordPolicy {
    /// Count them in [`Client::stray_messages`] and drop them (the default: a control
    /// client never registered, so records reach it only by mistake).
    #[default]
    Skip,
    /// Keep them; [`Client::receive_records`] delivers them first.
    Keep,
}

/// A record kept while a reply was awaited.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HeldRecord {
    ty: MsgType,
    payload: Vec<u8>,
}

/// `struct audit_sig_info` (AUDIT_SIGNAL_INFO): who last sent the registered audit daemon
/// SIGTERM, SIGHUP, SIGUSR1 or SIGUSR2 (kernel/audit.c `audit_signal_info_syscall`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalInfo {
    /// `uid`: the sender's login uid (its uid when the login uid is unset).
    pub auid: u32,
    /// `pid`: the sender's pid.
    pub pid: u32,
    /// `ctx`: the sender's security context, when an LSM gave one.
    pub context: Option<String>,
}

impl SignalInfo {
    /// Decodes the reply payload: two u32, then an optional NUL-terminated context.
    pub fn decode(payload: &[u8]) -> std::result::Result<SignalInfo, crate::DecodeError> {
        let mut c = crate::codec::Cursor::new(payload);
        let auid = c.u32("audit_sig_info.uid")?;
        let pid = c.u32("audit_sig_info.pid")?;
        let rest = c.remaining();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let context = (end > 0).then(|| String::from_utf8_lossy(&rest[..end]).into_owned());
        Ok(SignalInfo { auid, pid, context })
    }
}

/// What one [`Client::receive_records`] call read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordsRead {
    /// Records handed to the callback.
    pub records: usize,
    /// The socket overflowed (ENOBUFS) since the last read. For the registered daemon the
    /// kernel retries a record it could not queue (`kauditd_send_queue`), so this is a sign
    /// of pressure, not by itself of loss; the kernel's `lost` counter says what was lost.
    pub overrun: bool,
    /// Nothing was waiting: the call returned after its timeout.
    pub idle: bool,
    /// Datagrams larger than their slot ([`RECORD_SLOT_SIZE`]), which the socket cut: their
    /// records are lost, and the other datagrams of the same receive are handed over.
    pub cut: usize,
    /// Datagrams from the kernel that are not netlink messages (a length past the end):
    /// their records are lost, and the others are handed over.
    pub malformed: usize,
}

/// Whether a message is an audit record rather than a reply: records carry sequence number 0
/// and a record type (`AUDIT_USER`, or 1100 and above; 1000–1099 are commands and replies).
fn is_record(m: &NlMessage<'_>) -> bool {
    m.header.seq == 0 && (m.header.ty == MsgType::AUDIT_USER || m.header.ty.0 >= 1100)
}

impl Client<NetlinkTransport> {
    /// Opens a client on a new NETLINK_AUDIT socket.
    pub fn open() -> Result<Self> {
        let t = NetlinkTransport::open().map_err(|source| Error::Io { op: Op::Open, source })?;
        Ok(Client::with_transport(t))
    }
}

enum Step<R> {
    Continue,
    Done(R),
}

impl<T: Transport> Client<T> {
    /// A client over any transport (tests inject faults this way).
    pub fn with_transport(transport: T) -> Self {
        // Start away from 0 (records use seq 0) and from other processes' small numbers.
        let seq = (std::process::id() << 12) | 1;
        Client {
            transport,
            seq,
            timeout: DEFAULT_TIMEOUT,
            list_timeout: DEFAULT_LIST_TIMEOUT,
            // Sized by each exchange (`make_room`): most need a few KiB, a listing 257 KiB.
            buf: Vec::new(),
            foreign_datagrams: 0,
            stray_messages: 0,
            record_policy: RecordPolicy::Skip,
            held: std::collections::VecDeque::new(),
            slots: None,
        }
    }

    /// Sets the bound on each wait for a reply.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sets the bound on a whole rule listing (default [`DEFAULT_LIST_TIMEOUT`]); each wait
    /// within it is still bounded by the per-reply timeout.
    pub fn set_list_timeout(&mut self, overall: Duration) {
        self.list_timeout = overall;
    }

    /// Sets the sequence number of the last request sent; the next request uses the one
    /// after it (0 is skipped). Lets tests start next to the wrap.
    pub fn set_seq(&mut self, last: u32) {
        self.seq = last;
    }

    /// The transport.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.seq = 1;
        }
        self.seq
    }

    fn send(&mut self, op: Op, datagram: &[u8]) -> Result<()> {
        self.transport.send(datagram).map_err(|source| io_error(op, source))
    }

    /// Makes the receive buffer at least `bytes` long, and at least [`SMALL_RECV_BUF_SIZE`].
    /// A larger buffer is a fresh zeroed allocation, not a resize: the old contents are not
    /// needed between datagrams, and the allocator maps large zeroed blocks without
    /// touching them, so pages cost only when a reply fills them.
    fn make_room(&mut self, bytes: usize) {
        let want = bytes.max(SMALL_RECV_BUF_SIZE);
        if self.buf.len() < want {
            self.buf = vec![0; want];
        }
    }

    fn request(&mut self, op: Op, ty: MsgType, payload: &[u8]) -> Result<u32> {
        let seq = self.next_seq();
        let mut out = Vec::with_capacity(16 + payload.len() + 3);
        encode_message(&mut out, ty, NLM_F_REQUEST | NLM_F_ACK, seq, payload)
            .map_err(|source| Error::Invalid { op, source })?;
        self.make_room(ACK_OVERHEAD + out.len());
        self.send(op, &out)?;
        Ok(seq)
    }

    /// Reads kernel datagrams until `f` says done; `f` sees only messages for which `wanted`
    /// holds. Each wait is bounded by the timeout; the whole exchange by `overall`.
    fn receive<R>(
        &mut self,
        op: Op,
        wanted: impl Fn(u32) -> bool,
        overall: Duration,
        mut f: impl FnMut(&NlMessage<'_>) -> Result<Step<R>>,
    ) -> Result<R> {
        let start = Instant::now();
        loop {
            let left = overall.saturating_sub(start.elapsed());
            if left.is_zero() {
                // Checked before each read, not only when a read times out: a sender that
                // never stops (records, a list without end) must not keep us here.
                return Err(Error::Timeout { op, secs: overall.as_secs_f64() });
            }
            let wait = self.timeout.min(left);
            let got = self.transport.recv(&mut self.buf, wait).map_err(|e| io_error(op, e))?;
            let Some(got) = got else {
                return Err(Error::Timeout { op, secs: wait.as_secs_f64() });
            };
            if got.sender != 0 {
                // Only the kernel (port 0) may answer; another process's datagram is dropped.
                self.foreign_datagrams += 1;
                continue;
            }
            if got.len > self.buf.len() {
                // The first header survives the cut: a datagram that answers nothing pending
                // (a late reply to an earlier, abandoned request) is skipped like any stray.
                let first_seq = self.buf.get(8..12).and_then(|b| b.try_into().ok());
                if first_seq.is_some_and(|s| !wanted(u32::from_ne_bytes(s))) {
                    self.stray_messages += 1;
                    continue;
                }
                return Err(Error::Truncated { op, len: got.len, cap: self.buf.len() });
            }
            let msgs = split_datagram(&self.buf[..got.len])
                .map_err(|source| Error::Decode { op, source })?;
            let mut done = None;
            for m in &msgs {
                if !wanted(m.header.seq) {
                    if self.record_policy == RecordPolicy::Keep && is_record(m) {
                        self.held
                            .push_back(HeldRecord { ty: m.header.ty, payload: m.payload.to_vec() });
                    } else {
                        self.stray_messages += 1;
                    }
                    continue;
                }
                if let Step::Done(r) = f(m)? {
                    done = Some(r);
                    break;
                }
            }
            if let Some(r) = done {
                return Ok(r);
            }
        }
    }

    /// A request answered by an ACK only; returns the ACK's value (≥ 0).
    fn ack_only(&mut self, op: Op, ty: MsgType, payload: &[u8]) -> Result<i32> {
        let seq = self.request(op, ty, payload)?;
        let timeout = self.timeout;
        self.receive(
            op,
            |s| s == seq,
            timeout,
            |m| match m.header.ty {
                MsgType::NLMSG_ERROR => {
                    let ack = decode_ack(op, m.payload)?;
                    kernel_result(op, ack.error).map(Step::Done)
                }
                _ => Ok(Step::Continue),
            },
        )
    }

    /// A request answered by an ACK and one reply of type `ty` (AUDIT_GET, GET_FEATURE).
    fn query(&mut self, op: Op, ty: MsgType, payload: &[u8]) -> Result<Vec<u8>> {
        let seq = self.request(op, ty, payload)?;
        let mut acked = false;
        let mut reply: Option<Vec<u8>> = None;
        let timeout = self.timeout;
        self.receive(
            op,
            |s| s == seq,
            timeout,
            |m| {
                if m.header.ty == MsgType::NLMSG_ERROR {
                    let ack = decode_ack(op, m.payload)?;
                    kernel_result(op, ack.error)?;
                    acked = true;
                } else if m.header.ty == ty {
                    reply = Some(m.payload.to_vec());
                }
                Ok(match (&reply, acked) {
                    (Some(r), true) => Step::Done(r.clone()),
                    _ => Step::Continue,
                })
            },
        )
    }

    /// AUDIT_GET and AUDIT_GET_FEATURE, both in one datagram: what `status` prints.
    ///
    /// The kernel answers each with a kernel thread it spawns inside `sendmsg`
    /// (`audit_send_reply`), so asking for both at once costs one `sendmsg`, and the first
    /// reply's thread runs while the second is spawned, instead of two round trips one after
    /// the other. The features are optional, as kernels before 3.13 lack AUDIT_GET_FEATURE:
    /// a refusal, an undecodable reply or no reply within the timeout leaves them `None`.
    /// Errors of the status are errors of the call.
    pub fn status_and_features(&mut self) -> Result<StatusAndFeatures> {
        let op = Op::GetStatus;
        let features_seq = self.next_seq();
        let status_seq = self.next_seq();
        let mut out = Vec::with_capacity(2 * 16);
        // Kernel quirk: `audit_get_feature` answers with the sequence number of the *first*
        // message of the datagram (`nlmsg_hdr(skb)->nlmsg_seq`), not its own; seen on 6.18
        // (strace: a GET_FEATURE reply carrying the GET's seq). So GET_FEATURE goes first,
        // and its reply is recognised by type under either number.
        for (ty, seq) in
            [(MsgType::AUDIT_GET_FEATURE, features_seq), (MsgType::AUDIT_GET, status_seq)]
        {
            encode_message(&mut out, ty, NLM_F_REQUEST | NLM_F_ACK, seq, &[])
                .map_err(|source| Error::Invalid { op, source })?;
        }
        self.make_room(ACK_OVERHEAD + out.len());
        self.send(op, &out)?;
        let mut status: Option<Status> = None;
        let mut status_acked = false;
        let mut features: Option<Features> = None;
        let mut features_acked = false;
        let mut features_failed = false;
        let timeout = self.timeout;
        let got = self.receive(
            op,
            |s| s == status_seq || s == features_seq,
            timeout,
            |m| {
                let ty = m.header.ty;
                if ty == MsgType::AUDIT_GET_FEATURE {
                    match Features::decode(m.payload) {
                        Ok(f) => features = Some(f),
                        Err(_) => features_failed = true,
                    }
                } else if m.header.seq == status_seq {
                    if ty == MsgType::NLMSG_ERROR {
                        kernel_result(op, decode_ack(op, m.payload)?.error)?;
                        status_acked = true;
                    } else if ty == MsgType::AUDIT_GET {
                        let s = Status::decode(m.payload)
                            .map_err(|source| Error::Decode { op, source })?;
                        status = Some(s);
                    }
                } else if ty == MsgType::NLMSG_ERROR {
                    match Ack::decode(m.payload) {
                        Ok(a) if a.error == 0 => features_acked = true,
                        _ => features_failed = true,
                    }
                }
                let features_done = features_failed || (features.is_some() && features_acked);
                Ok(if status.is_some() && status_acked && features_done {
                    Step::Done(())
                } else {
                    Step::Continue
                })
            },
        );
        match (got, status) {
            (Ok(()), Some(status)) => {
                Ok(StatusAndFeatures { status, features: features.filter(|_| !features_failed) })
            }
            // The status is whole; only the optional features are missing.
            (Err(Error::Timeout { .. }), Some(status)) if status_acked => {
                Ok(StatusAndFeatures { status, features: None })
            }
            (Err(e), _) => Err(e),
            (Ok(()), None) => Err(Error::Timeout { op, secs: timeout.as_secs_f64() }),
        }
    }

    /// AUDIT_GET: the kernel's audit status.
    pub fn status(&mut self) -> Result<Status> {
        let op = Op::GetStatus;
        let reply = self.query(op, MsgType::AUDIT_GET, &[])?;
        Status::decode(&reply).map_err(|source| Error::Decode { op, source })
    }

    fn set_raw(&mut self, mask: u32, fill: impl FnOnce(&mut Status)) -> Result<i32> {
        let mut s = Status { mask, ..Status::default() };
        fill(&mut s);
        let payload = s.encode();
        self.ack_only(Op::SetStatus, MsgType::AUDIT_SET, &payload)
    }

    /// AUDIT_SET of one reversible setting.
    pub fn set(&mut self, setting: Setting) -> Result<()> {
        let op = Op::SetStatus;
        match setting {
            Setting::Enabled(on) => self.set_raw(status_mask::ENABLED, |s| {
                s.enabled = AuditEnabled::from_raw(on.bit());
            }),
            Setting::Failure(v @ (0 | 1)) => self.set_raw(status_mask::FAILURE, |s| s.failure = v),
            Setting::Failure(v) => {
                return Err(Error::Invalid {
                    op,
                    source: EncodeError::NotReversible(format!(
                        "failure {v}: only 0 and 1 are reversible \
                         (2 panics the machine on a lost record)"
                    )),
                })
            }
            Setting::RateLimit(v) => self.set_raw(status_mask::RATE_LIMIT, |s| s.rate_limit = v),
            Setting::BacklogLimit(v) => {
                self.set_raw(status_mask::BACKLOG_LIMIT, |s| s.backlog_limit = v)
            }
            Setting::BacklogWaitTime(v) => {
                self.set_raw(status_mask::BACKLOG_WAIT_TIME, |s| s.backlog_wait_time = Some(v))
            }
        }
        .map(|_| ())
    }

    /// AUDIT_SET enabled=2: locks the audit configuration until the next reboot. No rule or
    /// setting can change afterwards. Irreversible.
    pub fn lock_configuration_until_reboot(&mut self) -> Result<()> {
        self.set_raw(status_mask::ENABLED, |s| s.enabled = AuditEnabled::Locked).map(|_| ())
    }

    /// AUDIT_SET failure=2: the kernel panics whenever a record is lost. Dangerous.
    pub fn set_failure_panic(&mut self) -> Result<()> {
        self.set_raw(status_mask::FAILURE, |s| s.failure = 2).map(|_| ())
    }

    /// AUDIT_SET with mask LOST alone: resets the lost counter, returns its old value (the
    /// kernel returns it as a positive "error" in the ACK).
    pub fn reset_lost(&mut self) -> Result<u32> {
        self.set_raw(status_mask::LOST, |_| ()).map(|v| v as u32)
    }

    /// AUDIT_SET with mask BACKLOG_WAIT_TIME_ACTUAL alone: resets it, returns the old value.
    pub fn reset_backlog_wait_time_actual(&mut self) -> Result<u32> {
        self.set_raw(status_mask::BACKLOG_WAIT_TIME_ACTUAL, |_| ()).map(|v| v as u32)
    }

    /// AUDIT_GET_FEATURE.
    pub fn features(&mut self) -> Result<Features> {
        let op = Op::GetFeature;
        let reply = self.query(op, MsgType::AUDIT_GET_FEATURE, &[])?;
        Features::decode(&reply).map_err(|source| Error::Decode { op, source })
    }

    /// AUDIT_SET_FEATURE: sets feature bit `bit` to `value`, and locks it with
    /// [`FeatureLock::Locked`].
    pub fn set_feature(&mut self, bit: u32, value: Switch, lock: FeatureLock) -> Result<()> {
        let m = 1u32.checked_shl(bit).unwrap_or(0);
        let f = Features {
            vers: AUDIT_FEATURE_VERSION,
            mask: m,
            features: match value {
                Switch::On => m,
                Switch::Off => 0,
            },
            lock: match lock {
                FeatureLock::Locked => m,
                FeatureLock::Unlocked => 0,
            },
        };
        self.ack_only(Op::SetFeature, MsgType::AUDIT_SET_FEATURE, &f.encode()).map(|_| ())
    }

    /// AUDIT_LIST_RULES: every rule, in the kernel's order (list by list, insertion order).
    ///
    /// The kernel answers ACK, one message per rule, then NLMSG_DONE. A list that stalls is a
    /// timeout error; a partial list is never returned.
    pub fn list_rules(&mut self) -> Result<Vec<RuleData>> {
        let mut rules = Vec::new();
        self.list_rules_each(|r| rules.push(r))?;
        Ok(rules)
    }

    /// AUDIT_LIST_RULES, handing each rule to `f` as it is decoded; returns how many.
    ///
    /// What `f` saw is the kernel's whole list only when this returns `Ok`: act on it (print
    /// it) only then. The point is to do per-rule work (rendering) while the kernel is still
    /// sending, not after the last rule, and to hold one rule at a time.
    pub fn list_rules_each(&mut self, mut f: impl FnMut(RuleData)) -> Result<usize> {
        let op = Op::ListRules;
        self.make_room(RECV_BUF_SIZE);
        let seq = self.request(op, MsgType::AUDIT_LIST_RULES, &[])?;
        let mut count = 0;
        let overall = self.list_timeout;
        self.receive(
            op,
            |s| s == seq,
            overall,
            |m| match m.header.ty {
                MsgType::NLMSG_ERROR => {
                    kernel_result(op, decode_ack(op, m.payload)?.error)?;
                    Ok(Step::Continue)
                }
                MsgType::AUDIT_LIST_RULES => {
                    let r = RuleData::decode(m.payload)
                        .map_err(|source| Error::Decode { op, source })?;
                    f(r);
                    count += 1;
                    Ok(Step::Continue)
                }
                MsgType::NLMSG_DONE => Ok(Step::Done(())),
                _ => Ok(Step::Continue),
            },
        )?;
        Ok(count)
    }

    /// AUDIT_ADD_RULE. EEXIST means the kernel already holds an identical rule.
    pub fn add_rule(&mut self, rule: &RuleData) -> Result<()> {
        self.one_rule(BatchOp::Add, rule)
    }

    /// AUDIT_DEL_RULE. ENOENT means no identical rule is held.
    pub fn delete_rule(&mut self, rule: &RuleData) -> Result<()> {
        self.one_rule(BatchOp::Delete, rule)
    }

    fn one_rule(&mut self, what: BatchOp, rule: &RuleData) -> Result<()> {
        let (op, ty) = batch_kind(what);
        let payload = rule.encode().map_err(|source| Error::Invalid { op, source })?;
        match self.ack_only(op, ty, &payload)? {
            0 => Ok(()),
            n => Err(unexpected_count(op, n)),
        }
    }

    /// Adds or deletes many rules with few syscalls: messages are packed into datagrams (the
    /// kernel's `audit_receive` walks every message of a datagram), and each message's ACK
    /// is collected by sequence number.
    ///
    /// Returns one result per rule, in order. With [`OnError::Stop`], no datagram is sent
    /// after one that had a failure; rules never sent are [`ItemResult::NotReached`]. Rules
    /// of the failing datagram after the failure *were* processed: their results say how.
    pub fn batch(
        &mut self,
        what: BatchOp,
        rules: &[impl std::borrow::Borrow<RuleData>],
        on_error: OnError,
    ) -> Result<BatchOutcome> {
        let (op, ty) = batch_kind(what);
        let mut results: Vec<Option<ItemResult>> = vec![None; rules.len()];
        let mut next = 0;
        let mut datagram = Vec::with_capacity(BATCH_BYTES + 4096);
        let mut seqs = Vec::with_capacity(BATCH_MESSAGES);
        while next < rules.len() {
            let first = next;
            // The sequence numbers of this datagram's messages, in order (not always
            // contiguous: `next_seq` skips 0 when it wraps).
            seqs.clear();
            datagram.clear();
            // Only the last message asks for an ACK: the kernel answers every failure
            // anyway (`if (err || NLM_F_ACK)` in audit_receive) and handles the messages of
            // a datagram in order, synchronously, so the last ACK comes after every error.
            let mut last_off = 0;
            while let Some(rule) = rules.get(next).filter(|_| next - first < BATCH_MESSAGES) {
                let at = datagram.len();
                let before = self.seq;
                let seq = self.next_seq();
                encode_message_with(&mut datagram, ty, NLM_F_REQUEST, seq, |out| {
                    rule.borrow().encode_into(out)
                })
                .map_err(|source| Error::Invalid { op, source })?;
                if next > first && datagram.len() > BATCH_BYTES {
                    datagram.truncate(at);
                    self.seq = before;
                    break;
                }
                last_off = at;
                seqs.push(seq);
                next += 1;
            }
            let count = next - first;
            if let Some(last) = datagram.get_mut(last_off..) {
                set_flag(last, NLM_F_ACK);
            }
            // An error ACK echoes at most one message of the datagram (none with CAP_ACK).
            self.make_room(ACK_OVERHEAD + datagram.len());
            self.send(op, &datagram)?;
            let timeout = self.timeout;
            let slots = results.get_mut(first..next).unwrap_or_default();
            let index = |s: u32| seqs.iter().position(|&x| x == s);
            self.receive(
                op,
                |s| index(s).is_some(),
                timeout,
                |m| {
                    if m.header.ty != MsgType::NLMSG_ERROR {
                        return Ok(Step::Continue);
                    }
                    let Some(i) = index(m.header.seq) else { return Ok(Step::Continue) };
                    let ack = decode_ack(op, m.payload)?;
                    if let Some(slot @ None) = slots.get_mut(i) {
                        *slot = Some(match ack.error {
                            0 => ItemResult::Done,
                            e if e < 0 => ItemResult::Refused(errno_of(e)),
                            // Not an errno: reading it as one would turn, say, 17 into
                            // EEXIST ("already there") for a rule that may not be.
                            e => return Err(unexpected_count(op, e)),
                        });
                    }
                    Ok(if i + 1 == count { Step::Done(()) } else { Step::Continue })
                },
            )?;
            // Every message the kernel did not refuse succeeded.
            let mut refused = false;
            for slot in slots.iter_mut() {
                match slot {
                    None => *slot = Some(ItemResult::Done),
                    Some(ItemResult::Refused(_)) => refused = true,
                    Some(_) => {}
                }
            }
            if on_error == OnError::Stop && refused {
                break;
            }
        }
        let items = results.into_iter().map(|r| r.unwrap_or(ItemResult::NotReached)).collect();
        Ok(BatchOutcome { items })
    }
}

/// The audit daemon's side of the protocol.
impl<T: Transport> Client<T> {
    /// Sets what happens to records that arrive while a reply is awaited (see
    /// [`RecordPolicy`]).
    pub fn set_record_policy(&mut self, policy: RecordPolicy) {
        self.record_policy = policy;
    }

    /// AUDIT_SET with mask PID: registers process `pid` (it must be the caller's own tgid,
    /// else EINVAL) as the audit daemon; records are unicast to this socket from then on.
    /// EEXIST: another live daemon is registered. Records that arrive before the ACK are
    /// kept (the policy becomes [`RecordPolicy::Keep`]).
    pub fn register_daemon(&mut self, pid: u32) -> Result<()> {
        self.record_policy = RecordPolicy::Keep;
        self.set_pid(pid)
    }

    /// AUDIT_SET with mask PID and pid 0: stops the unicast of records. Only the registered
    /// daemon may (EACCES otherwise). Records still queued to this socket stay readable with
    /// [`Client::receive_records`].
    pub fn unregister_daemon(&mut self) -> Result<()> {
        self.set_pid(0)
    }

    fn set_pid(&mut self, pid: u32) -> Result<()> {
        let mut s = Status { mask: status_mask::PID, ..Status::default() };
        s.pid = pid;
        let payload = s.encode();
        let op = Op::RegisterDaemon;
        match self.ack_only(op, MsgType::AUDIT_SET, &payload)? {
            0 => Ok(()),
            n => Err(unexpected_count(op, n)),
        }
    }

    /// AUDIT_SIGNAL_INFO: who last signalled the registered audit daemon. The kernel
    /// answers with what it last recorded (zeros when nothing was).
    pub fn signal_info(&mut self) -> Result<SignalInfo> {
        let op = Op::SignalInfo;
        let reply = self.query(op, MsgType::AUDIT_SIGNAL_INFO, &[])?;
        SignalInfo::decode(&reply).map_err(|source| Error::Decode { op, source })
    }

    /// Hands records to `f` (type and payload, as the kernel sent them): first those kept
    /// while replies were awaited, else those of every datagram queued (up to
    /// [`RECORD_SLOTS`]), waiting up to `timeout` for one. Unicast records carry a
    /// payload-only `nlmsg_len`; [`split_datagram`] reads both forms. Replies and datagrams
    /// not from the kernel are skipped and counted; a datagram that is cut or cannot be
    /// read is counted in [`RecordsRead`], and the others are still handed over.
    pub fn receive_records(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(MsgType, &[u8]),
    ) -> Result<RecordsRead> {
        let op = Op::ReceiveRecords;
        let mut read = RecordsRead::default();
        if !self.held.is_empty() {
            while let Some(r) = self.held.pop_front() {
                f(r.ty, &r.payload);
                read.records += 1;
            }
            return Ok(read);
        }
        let slots = self.slots.get_or_insert_with(|| Slots::new(RECORD_SLOTS, RECORD_SLOT_SIZE));
        match self.transport.recv_many(slots, timeout) {
            Ok(0) => {
                read.idle = true;
                return Ok(read);
            }
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                read.overrun = true;
                return Ok(read);
            }
            Err(source) => return Err(Error::Io { op, source }),
        }
        for (got, bytes) in slots.received() {
            if got.sender != 0 {
                self.foreign_datagrams += 1;
                continue;
            }
            if got.len > bytes.len() {
                read.cut += 1;
                continue;
            }
            let Ok(msgs) = split_datagram(bytes) else {
                read.malformed += 1;
                continue;
            };
            for m in &msgs {
                if is_record(m) {
                    f(m.header.ty, m.payload);
                    read.records += 1;
                } else {
                    self.stray_messages += 1;
                }
            }
        }
        Ok(read)
    }
}

/// ORs `flag` into the `nlmsg_flags` of the message at the start of `msg`.
fn set_flag(msg: &mut [u8], flag: u16) {
    if let Some(f) = msg.get_mut(6..8) {
        let v = u16::from_ne_bytes([f[0], f[1]]) | flag;
        f.copy_from_slice(&v.to_ne_bytes());
    }
}

fn batch_kind(what: BatchOp) -> (Op, MsgType) {
    match what {
        BatchOp::Add => (Op::AddRule, MsgType::AUDIT_ADD_RULE),
        BatchOp::Delete => (Op::DeleteRule, MsgType::AUDIT_DEL_RULE),
    }
}

fn decode_ack(op: Op, payload: &[u8]) -> Result<Ack> {
    Ack::decode(payload).map_err(|source| Error::Decode { op, source })
}

/// An ACK's error field: 0 ok, negative errno, or a positive count (reset-lost).
fn kernel_result(op: Op, error: i32) -> Result<i32> {
    if error < 0 {
        Err(Error::Kernel { op, errno: errno_of(error) })
    } else {
        Ok(error)
    }
}

/// The errno of a negative ACK value (`i32::MIN` has no positive counterpart).
fn errno_of(error: i32) -> Errno {
    error.checked_neg().map_or(Errno::UnknownErrno, Errno::from_raw)
}

/// A positive ACK value answering a request for which the kernel returns only 0 or -errno
/// (positive counts answer only the counter resets of AUDIT_SET).
fn unexpected_count(op: Op, value: i32) -> Error {
    Error::Decode {
        op,
        source: crate::error::DecodeError::Invalid(format!(
            "the ACK carries the positive value {value}, which only a counter reset returns"
        )),
    }
}

fn io_error(op: Op, source: io::Error) -> Error {
    if source.raw_os_error() == Some(libc::ENOBUFS) {
        Error::OutcomeUnknown { op }
    } else {
        Error::Io { op, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_info_decodes_with_and_without_context() {
        #[rustfmt::skip]
        let plain: Vec<u8> = [
            &0u32.to_ne_bytes()[..],   // uid: the sender's login uid
            &4242u32.to_ne_bytes()[..], // pid
        ].concat();
        let s = SignalInfo::decode(&plain).expect("8 bytes");
        assert_eq!(s, SignalInfo { auid: 0, pid: 4242, context: None });
        let with: Vec<u8> = [&plain[..], b"unconfined\0"].concat();
        assert_eq!(SignalInfo::decode(&with).expect("ctx").context.as_deref(), Some("unconfined"));
        assert!(SignalInfo::decode(&[0; 7]).is_err());
    }

    #[test]
    fn records_are_told_from_replies() {
        let msg = |ty: u16, seq: u32| crate::codec::NlMessage {
            header: crate::codec::NlHeader { len: 0, ty: MsgType(ty), flags: 0, seq, pid: 0 },
            payload: &[],
        };
        assert!(is_record(&msg(1300, 0)));
        assert!(is_record(&msg(1005, 0)));
        assert!(is_record(&msg(2100, 0)));
        assert!(!is_record(&msg(1300, 7)));
        assert!(!is_record(&msg(1000, 0)));
        assert!(!is_record(&msg(2, 0)));
    }

    /// A fake kernel that answers AUDIT_SET the way a busy kernel can: a record for the
    /// new daemon first (unicast: payload-only `nlmsg_len`), then the ACK.
    struct RecordsBeforeAck(std::collections::VecDeque<Vec<u8>>);

    impl Transport for RecordsBeforeAck {
        fn send(&mut self, d: &[u8]) -> io::Result<()> {
            let msgs = split_datagram(d).map_err(io::Error::other)?;
            for m in msgs {
                let text = b"audit(1.000:7): arch=c000003e syscall=110";
                let mut rec = Vec::new();
                encode_message(&mut rec, MsgType::AUDIT_SYSCALL, 0, 0, text).expect("fits");
                rec.truncate(16 + text.len());
                rec[..4].copy_from_slice(&(text.len() as u32).to_ne_bytes());
                self.0.push_back(rec);
                let ack = Ack { error: 0, request_seq: m.header.seq, request_type: m.header.ty };
                let mut a = Vec::new();
                encode_message(&mut a, MsgType::NLMSG_ERROR, 0, m.header.seq, &ack.encode())
                    .expect("fits");
                self.0.push_back(a);
            }
            Ok(())
        }
        fn recv(&mut self, buf: &mut [u8], _: Duration) -> io::Result<Option<crate::Received>> {
            Ok(self.0.pop_front().map(|d| {
                buf[..d.len()].copy_from_slice(&d);
                crate::Received { len: d.len(), sender: 0 }
            }))
        }
    }

    #[test]
    fn records_before_the_registration_ack_are_kept() {
        let mut c = Client::with_transport(RecordsBeforeAck(Default::default()));
        c.register_daemon(4242).expect("registered");
        assert_eq!(c.stray_messages, 0);
        let mut got = Vec::new();
        let read =
            c.receive_records(Duration::ZERO, |ty, p| got.push((ty, p.to_vec()))).expect("records");
        assert_eq!(read.records, 1);
        assert_eq!(
            got,
            vec![(MsgType::AUDIT_SYSCALL, b"audit(1.000:7): arch=c000003e syscall=110".to_vec())]
        );
        let read = c.receive_records(Duration::ZERO, |_, _| ()).expect("idle");
        assert!(read.idle && read.records == 0);
        // Without the daemon's policy, the same record is a stray and dropped.
        let mut plain = Client::with_transport(RecordsBeforeAck(Default::default()));
        plain.set(Setting::Enabled(Switch::On)).expect("acked");
        assert_eq!(plain.stray_messages, 1);
    }

    /// Regression: `-i32::MIN` overflowed (a panic in debug builds) on a hostile ACK.
    #[test]
    fn ack_values_map_without_overflow() {
        assert_eq!(errno_of(-17), Errno::EEXIST);
        assert_eq!(errno_of(i32::MIN), Errno::UnknownErrno);
        assert!(matches!(
            kernel_result(Op::AddRule, i32::MIN),
            Err(Error::Kernel { op: Op::AddRule, errno: Errno::UnknownErrno })
        ));
        assert_eq!(kernel_result(Op::SetStatus, 42).expect("a count"), 42);
        assert!(matches!(unexpected_count(Op::AddRule, 17), Error::Decode { .. }));
    }

    /// A fake socket holding unicast records: `recv_many` takes as many as there are slots,
    /// as `recvmmsg(2)` does; each is (sender, datagram, real length).
    struct Queued(std::collections::VecDeque<(u32, Vec<u8>, usize)>);

    fn unicast(text: &[u8]) -> Vec<u8> {
        let mut rec = Vec::new();
        encode_message(&mut rec, MsgType::AUDIT_SYSCALL, 0, 0, text).expect("fits");
        rec.truncate(16 + text.len());
        rec[..4].copy_from_slice(&(text.len() as u32).to_ne_bytes());
        rec
    }

    impl Transport for Queued {
        fn send(&mut self, _: &[u8]) -> io::Result<()> {
            Ok(())
        }
        fn recv(&mut self, _: &mut [u8], _: Duration) -> io::Result<Option<crate::Received>> {
            unreachable!("records are received many at a time")
        }
        fn recv_many(&mut self, slots: &mut Slots, _: Duration) -> io::Result<usize> {
            let (bufs, got) = slots.parts();
            for b in bufs {
                let Some((sender, d, len)) = self.0.pop_front() else { break };
                let n = d.len().min(b.len());
                b[..n].copy_from_slice(&d[..n]);
                got.push(crate::Received { len, sender });
            }
            Ok(got.len())
        }
    }

    #[test]
    fn the_records_of_many_datagrams_come_from_one_receive() {
        let mut q = std::collections::VecDeque::new();
        for i in 0..40u32 {
            let d = unicast(format!("audit(1.000:{i}): syscall=110").as_bytes());
            q.push_back((if i == 3 { 4242 } else { 0 }, d.clone(), d.len()));
        }
        let mut c = Client::with_transport(Queued(q));
        let mut got = Vec::new();
        let read = c
            .receive_records(Duration::ZERO, |_, p| {
                got.push(String::from_utf8_lossy(p).into_owned())
            })
            .expect("records");
        assert_eq!(read.records, RECORD_SLOTS - 1, "one call, every slot; one not the kernel's");
        assert_eq!(c.foreign_datagrams, 1);
        assert_eq!(got[0], "audit(1.000:0): syscall=110");
        assert_eq!(got[3], "audit(1.000:4): syscall=110");
        let read = c.receive_records(Duration::ZERO, |_, _| {}).expect("the rest");
        assert_eq!(read.records, 40 - RECORD_SLOTS);
        assert!(c.receive_records(Duration::ZERO, |_, _| {}).expect("none").idle);
    }

    #[test]
    fn a_record_cut_by_its_slot_is_counted_not_taken_and_the_others_are() {
        let d = unicast(b"audit(1.000:1): syscall=110");
        let q =
            [(0, d.clone(), RECORD_SLOT_SIZE + 1), (0, d.clone(), d.len())].into_iter().collect();
        let mut c = Client::with_transport(Queued(q));
        let read = c.receive_records(Duration::ZERO, |_, _| {}).expect("records");
        assert_eq!((read.cut, read.records), (1, 1));
    }

    #[test]
    fn a_datagram_that_is_not_netlink_is_counted_and_the_others_are_taken() {
        let d = unicast(b"audit(1.000:1): syscall=110");
        let mut bad = d.clone();
        bad[..4].copy_from_slice(&4000u32.to_ne_bytes());
        let q = [(0, bad.clone(), bad.len()), (0, d.clone(), d.len())].into_iter().collect();
        let mut c = Client::with_transport(Queued(q));
        let read = c.receive_records(Duration::ZERO, |_, _| {}).expect("records");
        assert_eq!((read.malformed, read.records), (1, 1));
    }
}
