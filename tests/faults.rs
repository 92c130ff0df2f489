//! Fault injection: what the client does with every reply it should not trust.
//!
//! Most cases run the real [`Client`] over [`FakeKernel`], a [`Transport`] that answers like
//! the kernel (status, features, list, add, delete, set) and lets each test rewrite, drop,
//! reorder or forge what comes back. The decided behaviour of each case is in
//! docs/robustness.md; each test names its case there. A few cases also run against the
//! real socket: EINTR under a signal storm (no root needed), ENOBUFS after a batch and a
//! spoofed datagram from another process (root: kernel state), and the bad-input corpus
//! sent through `nlaudit add` (root): refused before the kernel, which is left unchanged.

mod support;

use support::corpus::unescape;

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nlaudit_proto::codec::{encode_message, split_datagram, Ack, NLM_F_ACK, NLM_F_MULTI};
use nlaudit_proto::consts::{status_mask, FieldType, Operator};
use nlaudit_proto::{
    AuditEnabled, BatchOp, Client, Errno, Error, Features, FieldData, FieldValue, ItemResult,
    MsgType, NetlinkTransport, OnError, Op, Received, RuleData, Setting, Status, Transport,
};

// ---------------------------------------------------------------------------------------
// The fake kernel
// ---------------------------------------------------------------------------------------

/// One request as the fake kernel received it.
#[derive(Clone, Debug)]
struct Request {
    ty: MsgType,
    flags: u16,
    seq: u32,
    payload: Vec<u8>,
}

/// What one `recv` returns.
#[derive(Debug)]
enum Ev {
    /// A datagram from `sender`; `len` overrides the length reported (`MSG_TRUNC`).
    Datagram { bytes: Vec<u8>, sender: u32, len: Option<usize> },
    /// Nothing within the timeout.
    Silence,
    /// A socket error (errno).
    Error(i32),
}

/// The kernel's state, as far as these tests need it.
struct KernelState {
    rules: Vec<RuleData>,
    status: Status,
    features: Features,
}

/// Rewrites the replies to one datagram of requests (all of a batch at once).
type Fault = Box<dyn FnMut(&[Request], &mut Vec<Ev>, &mut KernelState)>;
/// Produces a datagram whenever the queue is empty (a stream that never ends).
type Endless = Box<dyn FnMut(&[Request]) -> Ev>;

/// A [`Transport`] that answers as the kernel does, with faults.
struct FakeKernel {
    state: KernelState,
    queue: VecDeque<Ev>,
    fault: Option<Fault>,
    endless: Option<Endless>,
    /// Errors `send` returns, one per call, before sending normally again.
    send_errors: VecDeque<i32>,
    /// Every request received, in order.
    sent: Vec<Request>,
    /// The requests of the last datagram.
    last: Vec<Request>,
}

impl FakeKernel {
    fn new() -> FakeKernel {
        FakeKernel {
            state: KernelState {
                rules: Vec::new(),
                status: Status {
                    enabled: AuditEnabled::Enabled,
                    failure: 1,
                    backlog_limit: 8192,
                    lost: 7,
                    feature_bitmap: Some(0x7f),
                    backlog_wait_time: Some(60000),
                    backlog_wait_time_actual: Some(0),
                    ..Status::default()
                },
                features: Features { vers: 1, mask: 0, features: 0, lock: 0 },
            },
            queue: VecDeque::new(),
            fault: None,
            endless: None,
            send_errors: VecDeque::new(),
            sent: Vec::new(),
            last: Vec::new(),
        }
    }

    fn with_rules(rules: Vec<RuleData>) -> FakeKernel {
        let mut k = FakeKernel::new();
        k.state.rules = rules;
        k
    }

    fn fault(
        mut self,
        f: impl FnMut(&[Request], &mut Vec<Ev>, &mut KernelState) + 'static,
    ) -> Self {
        self.fault = Some(Box::new(f));
        self
    }

    fn client(self) -> Client<FakeKernel> {
        let mut c = Client::with_transport(self);
        c.set_timeout(Duration::from_millis(300));
        c
    }
}

/// One netlink message from the kernel (port 0), as its own datagram.
fn kmsg(ty: MsgType, flags: u16, seq: u32, payload: &[u8]) -> Ev {
    let mut bytes = Vec::new();
    encode_message(&mut bytes, ty, flags, seq, payload).expect("encodes");
    Ev::Datagram { bytes, sender: 0, len: None }
}

/// The ACK (`NLMSG_ERROR`) for a request, as the kernel sends it with `NETLINK_CAP_ACK`.
fn ack_for(req: &Request, error: i32) -> Ev {
    let a = Ack { error, request_seq: req.seq, request_type: req.ty };
    kmsg(MsgType::NLMSG_ERROR, 0x100, req.seq, &a.encode())
}

impl KernelState {
    /// What the kernel answers to one request (kernel/audit.c `audit_receive_msg`).
    fn answer(&mut self, req: &Request) -> Vec<Ev> {
        match req.ty {
            MsgType::AUDIT_GET => {
                vec![kmsg(MsgType::AUDIT_GET, 0, req.seq, &self.status.encode()), ack_for(req, 0)]
            }
            MsgType::AUDIT_GET_FEATURE => vec![
                kmsg(MsgType::AUDIT_GET_FEATURE, 0, req.seq, &self.features.encode()),
                ack_for(req, 0),
            ],
            MsgType::AUDIT_SET => {
                let Ok(s) = Status::decode(&req.payload) else { return vec![ack_for(req, -22)] };
                if s.mask == status_mask::LOST {
                    let old = std::mem::take(&mut self.status.lost);
                    return vec![ack_for(req, old as i32)];
                }
                if s.mask & status_mask::RATE_LIMIT != 0 {
                    self.status.rate_limit = s.rate_limit;
                }
                vec![ack_for(req, 0)]
            }
            MsgType::AUDIT_LIST_RULES => {
                // The ACK first (audit_receive), then the kthread's one message per rule and
                // NLMSG_DONE, all NLM_F_MULTI.
                let mut out = vec![ack_for(req, 0)];
                for r in &self.rules {
                    let bytes = r.encode().expect("fake rules encode");
                    out.push(kmsg(MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, req.seq, &bytes));
                }
                out.push(kmsg(MsgType::NLMSG_DONE, NLM_F_MULTI, req.seq, &0u32.to_ne_bytes()));
                out
            }
            MsgType::AUDIT_ADD_RULE => {
                let Ok(r) = RuleData::decode(&req.payload) else { return vec![ack_for(req, -22)] };
                if self.rules.contains(&r) {
                    vec![ack_for(req, -17)]
                } else {
                    self.rules.push(r);
                    vec![ack_for(req, 0)]
                }
            }
            MsgType::AUDIT_DEL_RULE => {
                let Ok(r) = RuleData::decode(&req.payload) else { return vec![ack_for(req, -22)] };
                match self.rules.iter().position(|x| *x == r) {
                    Some(i) => {
                        self.rules.remove(i);
                        vec![ack_for(req, 0)]
                    }
                    None => vec![ack_for(req, -2)],
                }
            }
            _ => vec![ack_for(req, -22)],
        }
    }
}

impl Transport for FakeKernel {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        if let Some(e) = self.send_errors.pop_front() {
            return Err(io::Error::from_raw_os_error(e));
        }
        let msgs = split_datagram(datagram).expect("the client sends well-formed datagrams");
        let reqs: Vec<Request> = msgs
            .iter()
            .map(|m| Request {
                ty: m.header.ty,
                flags: m.header.flags,
                seq: m.header.seq,
                payload: m.payload.to_vec(),
            })
            .collect();
        let mut replies = Vec::new();
        for r in &reqs {
            let mut answer = self.state.answer(r);
            // audit_receive: `if (err || (nlh->nlmsg_flags & NLM_F_ACK)) netlink_ack(...)`.
            if r.flags & NLM_F_ACK == 0 {
                answer.retain(|ev| !is_success_ack(ev));
            }
            replies.extend(answer);
        }
        if let Some(f) = self.fault.as_mut() {
            f(&reqs, &mut replies, &mut self.state);
        }
        self.queue.extend(replies);
        self.sent.extend(reqs.iter().cloned());
        self.last = reqs;
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<Received>> {
        let ev = match self.queue.pop_front() {
            Some(ev) => ev,
            None => match self.endless.as_mut() {
                Some(f) => f(&self.last),
                None => Ev::Silence,
            },
        };
        match ev {
            Ev::Silence => Ok(None),
            Ev::Error(e) => Err(io::Error::from_raw_os_error(e)),
            Ev::Datagram { bytes, sender, len } => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                Ok(Some(Received { len: len.unwrap_or(bytes.len()), sender }))
            }
        }
    }
}

/// Whether `ev` is a datagram holding one success ACK.
fn is_success_ack(ev: &Ev) -> bool {
    let Ev::Datagram { bytes, .. } = ev else { return false };
    split_datagram(bytes).is_ok_and(|m| {
        m.len() == 1
            && m[0].header.ty == MsgType::NLMSG_ERROR
            && Ack::decode(m[0].payload).is_ok_and(|a| a.error == 0)
    })
}

/// A watch rule with a unique key (`-w PATH -p rwxa -k KEY`).
fn watch(path: &str, key: &str) -> RuleData {
    RuleData {
        flags: 4,
        action: 2,
        fields: vec![
            FieldData {
                field: FieldType::AUDIT_WATCH,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Str(path.as_bytes().to_vec()),
            },
            FieldData {
                field: FieldType::AUDIT_PERM,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Num(15),
            },
            FieldData {
                field: FieldType::AUDIT_FILTERKEY,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Str(key.as_bytes().to_vec()),
            },
        ],
        mask: [u32::MAX; 64],
    }
}

/// A datagram from `sender` (0 is the kernel).
fn datagram(bytes: Vec<u8>, sender: u32) -> Ev {
    Ev::Datagram { bytes, sender, len: None }
}

/// The bytes of one netlink message.
fn message(ty: MsgType, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_message(&mut v, ty, 0, seq, payload).expect("encodes");
    v
}

/// The bytes of an ACK with `error` for request `seq` of type `ty`.
fn ack_bytes(seq: u32, ty: MsgType, error: i32) -> Vec<u8> {
    message(MsgType::NLMSG_ERROR, seq, &Ack { error, request_seq: seq, request_type: ty }.encode())
}

fn assert_decode_error<T: std::fmt::Debug>(r: Result<T, Error>, op: Op, what: &str) {
    match r {
        Err(Error::Decode { op: o, .. }) if o == op => {}
        other => panic!("{what}: expected a decode error for {op:?}, got {other:?}"),
    }
}

fn assert_timeout<T: std::fmt::Debug>(r: Result<T, Error>, op: Op, what: &str) {
    match r {
        Err(Error::Timeout { op: o, .. }) if o == op => {}
        other => panic!("{what}: expected a timeout of {op:?}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Senders and sequence numbers
// ---------------------------------------------------------------------------------------

/// Case "foreign sender": datagrams from another process are dropped unread, whatever they
/// claim (a forged refusal, a forged status, garbage), and the kernel's answer decides.
#[test]
fn datagrams_from_another_process_are_ignored() {
    let forged = Status { enabled: AuditEnabled::Disabled, pid: 666, ..Status::default() };
    let mut c = FakeKernel::new()
        .fault(move |reqs, out, _| {
            let req = &reqs[0];
            let forgeries = [
                datagram(ack_bytes(req.seq, req.ty, -1), 4321), // EPERM, our seq
                datagram(message(MsgType::AUDIT_GET, req.seq, &forged.encode()), 4321),
                datagram(vec![0xff; 7], 4321), // not even a header
                datagram(ack_bytes(req.seq, req.ty, 0), 4321), // a forged success
            ];
            out.splice(0..0, forgeries);
        })
        .client();
    let s = c.status().expect("the kernel's status, not the forged one");
    assert_eq!((s.enabled.raw(), s.pid), (1, 0));
    assert_eq!(c.foreign_datagrams, 4);
    // A forged success must not hide the kernel's refusal either.
    c.transport().state.rules.push(watch("/etc/passwd", "dup"));
    let e = c.add_rule(&watch("/etc/passwd", "dup")).expect_err("EEXIST from the kernel");
    assert_eq!(e.errno(), Some(Errno::EEXIST), "{e}");
    assert_eq!(c.foreign_datagrams, 8);
}

/// Case "another sequence number": replies to other requests (late ACKs, another tool's
/// seq) are skipped and counted; only the reply to this request decides.
#[test]
fn replies_with_another_sequence_number_are_skipped() {
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            let req = &reqs[0];
            let stale = [
                datagram(ack_bytes(req.seq.wrapping_sub(1), req.ty, -1), 0),
                datagram(message(MsgType::AUDIT_GET, req.seq + 1000, &[0; 44]), 0),
                datagram(ack_bytes(0, req.ty, -13), 0),
            ];
            out.splice(0..0, stale);
        })
        .client();
    let s = c.status().expect("status");
    assert_eq!(s.backlog_limit, 8192);
    assert_eq!(c.stray_messages, 3);
    c.add_rule(&watch("/etc/passwd", "k")).expect("the real ACK is a success");
    assert_eq!(c.stray_messages, 6);
}

/// Case "status and features in one datagram": both requests go out in one send; the
/// replies may come in any order; the features are optional (a kernel without
/// AUDIT_GET_FEATURE refuses it, or says nothing), the status is not.
#[test]
fn status_and_features_in_one_datagram() {
    let mut k = FakeKernel::new();
    k.state.features = Features { vers: 1, mask: 2, features: 2, lock: 0 };
    let mut c = k
        .fault(|reqs, out, _| {
            assert_eq!(reqs.len(), 2, "one datagram holds both requests");
            out.reverse();
        })
        .client();
    let read = c.status_and_features().expect("status and features");
    assert_eq!(read.status.backlog_limit, 8192);
    assert_eq!(read.features, Some(Features { vers: 1, mask: 2, features: 2, lock: 0 }));
    // The kernel's quirk: the features reply carries the seq of the datagram's first message
    // (`nlmsg_hdr(skb)` in audit_get_feature), whichever that is.
    let mut k = FakeKernel::new();
    k.state.features = Features { vers: 1, mask: 2, features: 2, lock: 0 };
    let mut c = k
        .fault(|reqs, out, _| {
            let get = if reqs[0].ty == MsgType::AUDIT_GET { &reqs[0] } else { &reqs[1] };
            let f = Features { vers: 1, mask: 2, features: 2, lock: 0 }.encode();
            for ev in out.iter_mut() {
                let Ev::Datagram { bytes, .. } = ev else { continue };
                if split_datagram(bytes).is_ok_and(|m| m[0].header.ty == MsgType::AUDIT_GET_FEATURE)
                {
                    *ev = kmsg(MsgType::AUDIT_GET_FEATURE, 0, get.seq, &f);
                }
            }
        })
        .client();
    let read = c.status_and_features().expect("status and features");
    assert_eq!(read.status.backlog_limit, 8192);
    assert_eq!(read.features, Some(Features { vers: 1, mask: 2, features: 2, lock: 0 }));
    assert_eq!(c.transport().sent.len(), 2);
    // A kernel without AUDIT_GET_FEATURE: EINVAL for it, no reply.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            let f = reqs.iter().find(|r| r.ty == MsgType::AUDIT_GET_FEATURE).expect("asked");
            let refusal = ack_for(f, -22);
            out.retain(|ev| !answers(ev, f.seq));
            out.push(refusal);
        })
        .client();
    let read = c.status_and_features().expect("the status alone");
    assert_eq!((read.status.backlog_limit, read.features), (8192, None));
    // No answer at all to the features: the status still comes back, after the timeout.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            let f = reqs.iter().find(|r| r.ty == MsgType::AUDIT_GET_FEATURE).expect("asked");
            out.retain(|ev| !answers(ev, f.seq));
        })
        .client();
    assert_eq!(c.status_and_features().expect("the status alone").features, None);
    // A refused status is the call's error, whatever the features say.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            let s = reqs.iter().find(|r| r.ty == MsgType::AUDIT_GET).expect("asked");
            let refusal = ack_for(s, -1);
            out.retain(|ev| !answers(ev, s.seq));
            out.push(refusal);
        })
        .client();
    let e = c.status_and_features().expect_err("EPERM");
    assert_eq!(e.errno(), Some(Errno::EPERM), "{e}");
    // No ACK for the status: a timeout of the status.
    let mut c = FakeKernel::new().fault(|_, out, _| out.clear()).client();
    assert_timeout(c.status_and_features(), Op::GetStatus, "silence");
}

/// Whether `ev` is a datagram whose first message carries `seq`.
fn answers(ev: &Ev, seq: u32) -> bool {
    let Ev::Datagram { bytes, .. } = ev else { return false };
    split_datagram(bytes).is_ok_and(|m| m.first().is_some_and(|m| m.header.seq == seq))
}

/// Case "records in the middle of a list": audit records (seq 0, some with the unicast
/// payload-only `nlmsg_len`), a rule-shaped message with seq 0 and an early NLMSG_DONE of
/// another seq are skipped; the list is exactly the kernel's.
#[test]
fn records_in_the_middle_of_a_list_are_skipped() {
    let rules = vec![watch("/etc/a", "a"), watch("/etc/b", "b"), watch("/etc/c", "c")];
    let bogus = watch("/etc/injected", "x").encode().expect("encodes");
    let mut c = FakeKernel::with_rules(rules.clone())
        .fault(move |reqs, out, _| {
            let seq = reqs[0].seq;
            let text = b"audit(1700000000.123:42): arch=c000003e syscall=257 success=yes";
            let mut payload_only = Vec::new();
            payload_only.extend_from_slice(&(text.len() as u32).to_ne_bytes());
            payload_only.extend_from_slice(&1300u16.to_ne_bytes());
            payload_only.extend_from_slice(&[0; 10]);
            payload_only.extend_from_slice(text);
            out.insert(2, datagram(payload_only, 0));
            out.insert(3, datagram(message(MsgType::AUDIT_LIST_RULES, 0, &bogus), 0));
            out.insert(4, datagram(message(MsgType::NLMSG_DONE, seq.wrapping_sub(7), &[]), 0));
            out.insert(5, datagram(message(MsgType(1320), 0, b"audit(1700000000.123:42): "), 0));
        })
        .client();
    assert_eq!(c.list_rules().expect("list"), rules);
    assert_eq!(c.stray_messages, 4);
}

// ---------------------------------------------------------------------------------------
// Replies that do not come, or never end
// ---------------------------------------------------------------------------------------

/// Case "a list that never ends", first form: the kernel stops after two rules without
/// NLMSG_DONE. A timeout, and the partial list is not returned.
#[test]
fn a_list_that_stalls_is_a_timeout_not_a_partial_list() {
    let rules = vec![watch("/etc/a", "a"), watch("/etc/b", "b"), watch("/etc/c", "c")];
    let mut c = FakeKernel::with_rules(rules)
        .fault(|_, out, _| {
            out.truncate(3); // ACK + 2 rules, then nothing
        })
        .client();
    assert_timeout(c.list_rules(), Op::ListRules, "stalled list");
}

/// Case "a list that never ends", second form: rule messages keep coming, each in time.
/// The whole exchange has its own bound (`set_list_timeout`).
#[test]
fn a_list_that_never_ends_hits_the_overall_bound() {
    let mut k = FakeKernel::with_rules(vec![watch("/etc/a", "a")]);
    k.fault = Some(Box::new(|_, out, _| out.truncate(2))); // no DONE
    k.endless = Some(Box::new(|last| {
        let seq = last.first().map_or(0, |r| r.seq);
        let r = watch("/etc/again", "again").encode().expect("encodes");
        kmsg(MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, seq, &r)
    }));
    let mut c = k.client();
    c.set_list_timeout(Duration::from_millis(50));
    let start = Instant::now();
    assert_timeout(c.list_rules(), Op::ListRules, "endless list");
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
}

/// The same bound holds against a flood of datagrams that are all skipped (another
/// process's, or records): they do not extend the wait for the real reply.
#[test]
fn a_flood_of_skipped_datagrams_does_not_extend_the_wait() {
    let mut k = FakeKernel::new().fault(|_, out, _| out.clear());
    k.endless = Some(Box::new(|last| {
        let seq = last.first().map_or(0, |r| r.seq);
        datagram(ack_bytes(seq, MsgType::AUDIT_GET, 0), 999)
    }));
    let mut c = k.client();
    let start = Instant::now();
    assert_timeout(c.status(), Op::GetStatus, "flood");
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert!(c.foreign_datagrams > 0);
}

/// Case "an AUDIT_GET reply that never comes" (the kernel's `audit_send_reply` fails
/// silently when it cannot allocate): the success ACK alone is a timeout, not a status.
#[test]
fn a_status_reply_that_never_comes_is_a_timeout() {
    let mut c = FakeKernel::new()
        .fault(|_, out, _| {
            out.remove(0); // the AUDIT_GET reply; the ACK stays
        })
        .client();
    assert_timeout(c.status(), Op::GetStatus, "ACK without reply");
    // Nothing at all (no ACK either): the same.
    let mut c = FakeKernel::new().fault(|_, out, _| out.clear()).client();
    assert_timeout(c.features(), Op::GetFeature, "silence");
}

// ---------------------------------------------------------------------------------------
// Truncated and over-long messages
// ---------------------------------------------------------------------------------------

/// Case "truncated": a datagram cut by the receive buffer (`MSG_TRUNC`) is an error, never
/// read as if whole; so are messages and payloads shorter than their structure.
#[test]
fn truncated_datagrams_and_messages_are_errors() {
    // Cut by the socket: the real length exceeds the buffer.
    let mut c = FakeKernel::new()
        .fault(|_, out, _| {
            if let Some(Ev::Datagram { len, .. }) = out.get_mut(0) {
                *len = Some(1 << 20);
            }
        })
        .client();
    match c.status() {
        Err(Error::Truncated { op: Op::GetStatus, len, .. }) => assert_eq!(len, 1 << 20),
        other => panic!("expected Truncated, got {other:?}"),
    }
    // Cut, but a late reply to another request (its first header survives the cut): skipped
    // like any stray, and the status read.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            let late = message(MsgType::AUDIT_LIST_RULES, reqs[0].seq.wrapping_sub(1), &[0; 64]);
            out.insert(0, Ev::Datagram { bytes: late, sender: 0, len: Some(1 << 20) });
        })
        .client();
    assert_eq!(c.status().expect("status after a cut stray").backlog_limit, 8192);
    assert_eq!(c.stray_messages, 1);
    // A status reply of 20 bytes (fewer than the 32 every kernel sends).
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            out[0] = kmsg(MsgType::AUDIT_GET, 0, reqs[0].seq, &[1; 20]);
        })
        .client();
    assert_decode_error(c.status(), Op::GetStatus, "short status");
    // A listed rule cut at 1000 bytes (the structure alone is 1040).
    let mut c = FakeKernel::with_rules(vec![watch("/etc/a", "a")])
        .fault(|reqs, out, _| {
            let bytes = watch("/etc/a", "a").encode().expect("encodes");
            out[1] = kmsg(MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, reqs[0].seq, &bytes[..1000]);
        })
        .client();
    assert_decode_error(c.list_rules(), Op::ListRules, "short rule");
    // An ACK of 3 bytes.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            out[0] = kmsg(MsgType::NLMSG_ERROR, 0, reqs[0].seq, &[0, 0, 0]);
        })
        .client();
    assert_decode_error(c.add_rule(&watch("/etc/a", "a")), Op::AddRule, "short ACK");
    // A datagram shorter than a netlink header.
    let mut c = FakeKernel::new()
        .fault(|_, out, _| {
            out.insert(0, datagram(vec![16, 0, 0, 0, 2, 0], 0));
        })
        .client();
    assert_decode_error(c.status(), Op::GetStatus, "6-byte datagram");
}

/// Case "over-long": a message whose `nlmsg_len` runs past its datagram is an error; longer
/// payloads than known are read by their known prefix (a future kernel's status) or, for a
/// rule, up to `buflen` (bytes after it are padding).
#[test]
fn over_long_messages() {
    // Two messages; the second claims 4000 bytes in a 52-byte datagram.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, _| {
            let mut bytes = message(MsgType::NLMSG_NOOP, reqs[0].seq, &[0; 4]);
            let mut second = ack_bytes(reqs[0].seq, reqs[0].ty, 0);
            second[..4].copy_from_slice(&4000u32.to_ne_bytes());
            bytes.extend(second);
            out.insert(0, datagram(bytes, 0));
        })
        .client();
    assert_decode_error(c.status(), Op::GetStatus, "nlmsg_len past the datagram");
    // A 64-byte status (a kernel newer than the structure we know): the known 44 bytes.
    let mut c = FakeKernel::new()
        .fault(|reqs, out, st| {
            let mut s = st.status.encode();
            s.extend([0xAA; 20]);
            out[0] = kmsg(MsgType::AUDIT_GET, 0, reqs[0].seq, &s);
        })
        .client();
    assert_eq!(c.status().expect("longer status").backlog_wait_time, Some(60000));
    // A rule followed by bytes after its strings.
    let r = watch("/etc/a", "a");
    let mut c = FakeKernel::with_rules(vec![r.clone()])
        .fault(|reqs, out, st| {
            let mut bytes = st.rules[0].encode().expect("encodes");
            bytes.extend([0; 3]);
            out[1] = kmsg(MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, reqs[0].seq, &bytes);
        })
        .client();
    assert_eq!(c.list_rules().expect("padded rule"), vec![r]);
}

/// Byte offset of `buflen` in `struct audit_rule_data`.
const BUFLEN_AT: usize = 4 * (3 + 64 * 4);

/// Case "`buflen` larger than the payload", and its opposite: a listed rule whose `buflen`
/// does not equal its strings fails the whole list (no partial list is returned).
#[test]
fn buflen_that_lies_fails_the_list() {
    for (what, delta) in [("buflen past the payload", 100i64), ("buflen short of the strings", -1)]
    {
        let rules = vec![watch("/etc/a", "a"), watch("/etc/b", "b")];
        let mut c = FakeKernel::with_rules(rules)
            .fault(move |reqs, out, st| {
                let mut bytes = st.rules[1].encode().expect("encodes");
                let buflen = u32::from_ne_bytes(
                    bytes[BUFLEN_AT..BUFLEN_AT + 4].try_into().expect("4 bytes"),
                );
                let lie = (i64::from(buflen) + delta) as u32;
                bytes[BUFLEN_AT..BUFLEN_AT + 4].copy_from_slice(&lie.to_ne_bytes());
                out[2] = kmsg(MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, reqs[0].seq, &bytes);
            })
            .client();
        assert_decode_error(c.list_rules(), Op::ListRules, what);
    }
}

/// Case "65 fields": a listed rule with `field_count` 65 fails the list; a rule of 65
/// fields is refused before anything is sent.
#[test]
fn sixty_five_fields() {
    let mut c = FakeKernel::with_rules(vec![watch("/etc/a", "a")])
        .fault(|reqs, out, st| {
            let mut bytes = st.rules[0].encode().expect("encodes");
            bytes[8..12].copy_from_slice(&65u32.to_ne_bytes());
            out[1] = kmsg(MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, reqs[0].seq, &bytes);
        })
        .client();
    assert_decode_error(c.list_rules(), Op::ListRules, "field_count 65");

    let mut big = watch("/etc/a", "a");
    big.fields = (0..65)
        .map(|i| FieldData {
            field: FieldType::AUDIT_UID,
            op: Operator::AUDIT_NOT_EQUAL,
            value: FieldValue::Num(i),
        })
        .collect();
    let mut c = FakeKernel::new().client();
    for r in [c.add_rule(&big), c.delete_rule(&big)] {
        assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    }
    let r = c.batch(BatchOp::Add, &[watch("/etc/ok", "ok"), big], OnError::Continue);
    assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    assert!(c.transport().sent.is_empty(), "sent {:?}", c.transport().sent);
}

// ---------------------------------------------------------------------------------------
// ACK values
// ---------------------------------------------------------------------------------------

/// Case "positive error in an ACK": the lost-counter reset returns the old count that way;
/// on any other request a positive value is a malformed reply, never read as an errno
/// (17 is not "EEXIST"). `i32::MIN` has no errno either and must not overflow.
#[test]
fn positive_and_extreme_ack_values() {
    let mut c = FakeKernel::new().client();
    assert_eq!(c.reset_lost().expect("reset"), 7);
    assert_eq!(c.reset_lost().expect("reset again"), 0);

    let positive = |v: i32| {
        move |reqs: &[Request], out: &mut Vec<Ev>, _: &mut KernelState| {
            out.clear();
            out.extend(reqs.iter().map(|r| ack_for(r, v)));
        }
    };
    let mut c = FakeKernel::new().fault(positive(17)).client();
    assert_decode_error(c.add_rule(&watch("/etc/a", "a")), Op::AddRule, "positive ACK");
    assert_decode_error(c.delete_rule(&watch("/etc/a", "a")), Op::DeleteRule, "positive ACK");
    let batch = [watch("/etc/a", "a"), watch("/etc/b", "b")];
    assert_decode_error(
        c.batch(BatchOp::Add, &batch, OnError::Continue),
        Op::AddRule,
        "positive ACK",
    );

    let mut c = FakeKernel::new().fault(positive(i32::MIN)).client();
    let e = c.add_rule(&watch("/etc/a", "a")).expect_err("refused");
    assert!(matches!(e, Error::Kernel { op: Op::AddRule, .. }), "{e:?}");
    let r = c.batch(BatchOp::Add, &batch, OnError::Continue).expect("batch results");
    assert!(r.iter().all(|x| matches!(x, ItemResult::Refused(_))), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// ENOBUFS and EINTR
// ---------------------------------------------------------------------------------------

/// Case "ENOBUFS after a batch": the kernel applied the batch (its processing is
/// synchronous) but dropped ACKs. The outcome is unknown: the client says so, stays usable,
/// and a list shows what is in force; late ACKs of the batch are skipped.
#[test]
fn enobufs_after_a_batch_is_outcome_unknown_then_the_list_tells() {
    let batch: Vec<RuleData> = (0..10).map(|i| watch("/etc/x", &format!("k{i}"))).collect();
    let mut c = FakeKernel::with_rules(vec![watch("/etc/x", "k3")]) // k3 already there
        .fault(|reqs, out, _| {
            if reqs.len() > 1 {
                // The receive buffer overflowed: the first answers were dropped, the last
                // two (the refusal of k3 and the final ACK) were queued after the error.
                out.clear();
                out.push(Ev::Error(Errno::ENOBUFS as i32));
                out.push(ack_for(&reqs[3], -17));
                out.push(ack_for(&reqs[reqs.len() - 1], 0));
            }
        })
        .client();
    match c.batch(BatchOp::Add, &batch, OnError::Continue) {
        Err(Error::OutcomeUnknown { op: Op::AddRule }) => {}
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
    // What is in force: every rule of the batch (k3 was there before).
    let in_force = c.list_rules().expect("the list after ENOBUFS");
    assert!(batch.iter().all(|r| in_force.contains(r)), "{in_force:?}");
    assert_eq!(in_force.len(), 10);
    assert_eq!(c.stray_messages, 2, "the late ACKs of the batch");
}

/// ENOBUFS on a single request is the same verdict, for the request it answered.
#[test]
fn enobufs_on_a_single_request() {
    let mut c = FakeKernel::new()
        .fault(|_, out, _| {
            out.clear();
            out.push(Ev::Error(Errno::ENOBUFS as i32));
        })
        .client();
    assert!(matches!(
        c.delete_rule(&watch("/etc/a", "a")),
        Err(Error::OutcomeUnknown { op: Op::DeleteRule })
    ));
}

/// Case "EINTR": retried inside the transport, which alone knows whether the interrupted
/// call completed. A transport that lets EINTR out gets a bounded error with the errno,
/// not a silent retry that could send a rule twice.
#[test]
fn eintr_escaping_a_transport_is_an_error_not_a_retry() {
    let mut k = FakeKernel::new();
    k.send_errors.push_back(Errno::EINTR as i32);
    let mut c = k.client();
    let e = c.add_rule(&watch("/etc/a", "a")).expect_err("EINTR from send");
    assert_eq!(e.errno(), Some(Errno::EINTR), "{e}");
    assert!(c.transport().sent.is_empty());
    // On receive: the request was sent once; it is not sent again.
    let mut c =
        FakeKernel::new().fault(|_, out, _| out.insert(0, Ev::Error(Errno::EINTR as i32))).client();
    let e = c.add_rule(&watch("/etc/a", "a")).expect_err("EINTR from recv");
    assert_eq!(e.errno(), Some(Errno::EINTR), "{e}");
    assert_eq!(c.transport().sent.len(), 1);
}

extern "C" fn on_signal(_: libc::c_int) {}

/// Sends SIGUSR1 to one thread every 200 µs until dropped; the handler is installed
/// without SA_RESTART so that every blocking call it hits returns EINTR.
struct SignalStorm {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl SignalStorm {
    fn at_this_thread() -> SignalStorm {
        // SAFETY: the handler does nothing, so it is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = 0; // no SA_RESTART
            libc::sigemptyset(&mut sa.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
        }
        // SAFETY: pthread_self has no preconditions.
        let target = unsafe { libc::pthread_self() };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut sent = 0;
            while !flag.load(Ordering::Relaxed) {
                // SAFETY: the target thread outlives the storm (it joins it on drop).
                if unsafe { libc::pthread_kill(target, libc::SIGUSR1) } == 0 {
                    sent += 1;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            sent
        });
        SignalStorm { stop, thread: Some(thread) }
    }

    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().expect("storm thread"))
    }
}

impl Drop for SignalStorm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The real socket under a signal storm: a wait that is interrupted thousands of times
/// still ends at its deadline with "nothing", and requests still get their answers (the
/// kernel's, or its EPERM when not root), never EINTR. No root needed.
#[test]
fn the_real_socket_retries_eintr_within_its_deadline() {
    let mut t = match NetlinkTransport::open() {
        Ok(t) => t,
        Err(e) => {
            assert!(!support::in_ci(), "cannot open NETLINK_AUDIT in CI: {e}");
            eprintln!("skipping: no NETLINK_AUDIT socket here ({e})");
            return;
        }
    };
    let storm = SignalStorm::at_this_thread();
    let mut buf = vec![0u8; 64];
    let start = Instant::now();
    let got = t.recv(&mut buf, Duration::from_millis(300)).expect("no EINTR escapes");
    let waited = start.elapsed();
    assert!(got.is_none(), "nothing was sent to us: {got:?}");
    assert!(waited >= Duration::from_millis(300), "returned early after {waited:?}");
    assert!(waited < Duration::from_secs(5), "overran its deadline: {waited:?}");

    let mut c = Client::with_transport(t);
    for _ in 0..200 {
        match c.status() {
            Ok(_) => {}
            Err(e @ Error::Kernel { .. }) if !support::is_root() => {
                assert_eq!(e.errno(), Some(Errno::EPERM), "{e}")
            }
            Err(e) => panic!("status under a signal storm: {e:?}"),
        }
    }
    let sent = storm.stop();
    assert!(sent > 100, "only {sent} signals were sent");
}

/// Root: a batch of adds under a signal storm adds each rule exactly once.
#[test]
fn batch_under_a_signal_storm_adds_each_rule_once() {
    if !support::kernel_available("batch_under_a_signal_storm_adds_each_rule_once") {
        return;
    }
    let _guard = support::KernelGuard::new();
    let key = support::unique_key("eintr");
    let rules: Vec<RuleData> =
        (0..150).map(|i| watch("/etc/passwd", &format!("{key}-{i}"))).collect();
    let mut c = Client::open().expect("open");
    let storm = SignalStorm::at_this_thread();
    let results = c.batch(BatchOp::Add, &rules, OnError::Continue).expect("batch under signals");
    storm.stop();
    assert!(results.iter().all(|r| matches!(r, ItemResult::Done)), "{results:?}");
    let listed = c.list_rules().expect("list");
    for r in rules.iter().map(nlaudit_rules::normalize) {
        assert_eq!(listed.iter().filter(|x| **x == r).count(), 1, "{r:?}");
    }
}

/// Root: ENOBUFS from the real kernel. With the smallest receive buffer, the error ACKs of
/// a batch of 64 deletes (of rules that do not exist, so nothing changes) overflow it; the
/// client reports the outcome as unknown and a list afterwards still works.
#[test]
fn real_enobufs_after_a_batch() {
    if !support::kernel_available("real_enobufs_after_a_batch") {
        return;
    }
    let guard = support::KernelGuard::new();
    let key = support::unique_key("enobufs");
    let rules: Vec<RuleData> =
        (0..64).map(|i| watch("/etc/passwd", &format!("{key}-{i}"))).collect();
    let mut c = Client::open().expect("open");
    c.transport().socket().set_rx_buf_sz(0 as libc::c_int).expect("SO_RCVBUF");
    match c.batch(BatchOp::Delete, &rules, OnError::Continue) {
        Err(Error::OutcomeUnknown { op: Op::DeleteRule }) => {}
        other => panic!("expected ENOBUFS as OutcomeUnknown, got {other:?}"),
    }
    c.transport().socket().set_rx_buf_sz((4 << 20) as libc::c_int).expect("SO_RCVBUF");
    let now = c.list_rules().expect("list after ENOBUFS");
    assert_eq!(now, guard.initial_rules(), "deletes of absent rules changed nothing");
}

/// Root: another socket (root holds CAP_NET_ADMIN, which lets it unicast to our port)
/// queues a forged refusal and a forged status carrying the sequence number of our next
/// request; the client drops both by sender address and reads the kernel's answer.
#[test]
fn real_spoofed_datagrams_are_dropped() {
    if !support::kernel_available("real_spoofed_datagrams_are_dropped") {
        return;
    }
    let _lock = support::kernel_lock();
    let mut c = Client::open().expect("open");
    let ours = port_of(c.transport().as_fd());
    let truth = Client::open().expect("open").status().expect("status");
    // Client::with_transport starts at (pid << 12) | 1; its first request takes the next.
    let next_seq = ((std::process::id() << 12) | 1).wrapping_add(1);
    let forged = Status { enabled: AuditEnabled::Unknown(9), pid: 4242, ..Status::default() };
    let mut bytes = message(MsgType::AUDIT_GET, next_seq, &forged.encode());
    bytes.extend(ack_bytes(next_seq, MsgType::AUDIT_GET, -1));
    send_as_another_process(ours, &bytes);
    let s = c.status().expect("the kernel's status");
    assert_eq!(s.enabled, truth.enabled);
    assert_ne!(s.pid, 4242);
    assert_eq!(c.foreign_datagrams, 1);
}

/// The netlink port id a socket is bound to.
fn port_of(fd: BorrowedFd<'_>) -> u32 {
    // SAFETY: an all-zero sockaddr_nl is valid; getsockname writes at most `len` bytes.
    unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        let rc = libc::getsockname(fd.as_raw_fd(), std::ptr::addr_of_mut!(addr).cast(), &mut len);
        assert_eq!(rc, 0, "getsockname: {}", io::Error::last_os_error());
        addr.nl_pid
    }
}

/// Sends one datagram to netlink port `port` from a fresh NETLINK_AUDIT socket.
fn send_as_another_process(port: u32, bytes: &[u8]) {
    // SAFETY: plain socket calls on a fd we own and close; the address outlives the call.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_AUDIT,
        );
        assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_pid = port;
        let n = libc::sendto(
            fd.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            std::ptr::addr_of!(addr).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        );
        assert_eq!(n, bytes.len() as isize, "sendto: {}", io::Error::last_os_error());
    }
}

/// Settings requests go through the same checks (a positive ACK answers `set` harmlessly).
#[test]
fn set_and_features_round_trip_through_the_fake() {
    let mut c = FakeKernel::new().client();
    c.set(Setting::RateLimit(5)).expect("set");
    assert_eq!(c.transport().state.status.rate_limit, 5);
    assert_eq!(c.features().expect("features").vers, 1);
    assert_eq!(c.stray_messages + c.foreign_datagrams, 0);
}

// ---------------------------------------------------------------------------------------
// The bad-input corpus, through the real command
// ---------------------------------------------------------------------------------------

/// The command lines of tests/data/bad-input.tsv (crates/nlaudit-rules/tests/bad_input.rs
/// checks every line against the parser), unescaped, with their expected messages.
fn bad_command_lines() -> Vec<(String, String)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-input.tsv");
    let text = std::fs::read_to_string(&path).expect("read bad-input.tsv");
    text.lines()
        .filter(|l| l.starts_with("cmd\t"))
        .filter_map(|l| {
            let mut cols = l.splitn(3, '\t').skip(1);
            Some((unescape(cols.next()?), unescape(cols.next()?)))
        })
        .collect()
}

/// Root: every command line of the corpus given to `nlaudit add` is refused as bad rule
/// text (exit 2) with its message, and the kernel's rules are exactly what they were: no
/// malformed rule reached the kernel. (NUL bytes cannot be in an argument: those lines
/// are checked by the parser test only.)
#[test]
fn bad_input_through_nlaudit_add_never_reaches_the_kernel() {
    if !support::kernel_available("bad_input_through_nlaudit_add_never_reaches_the_kernel") {
        return;
    }
    let guard = support::KernelGuard::new();
    let mut failures = Vec::new();
    let lines = bad_command_lines();
    assert!(lines.len() >= 200, "only {} command lines", lines.len());
    let mut run = 0;
    for (input, expected) in &lines {
        if input.contains('\0') {
            continue;
        }
        let mut args = vec!["add".to_string()];
        args.extend(nlaudit_rules::split_line(input));
        let o = std::process::Command::new(support::nlaudit_bin())
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run nlaudit");
        run += 1;
        let err = support::err(&o);
        // auditctl eats a `possible` rule with its deprecation message; `nlaudit add`
        // refuses it as not a rule (also exit 2, also nothing sent).
        let said = err.contains(expected.trim_end())
            || (expected.ends_with("possible is deprecated") && err.contains("is not a rule"));
        if o.status.code() != Some(2) || !said {
            failures.push(format!(
                "{input:.120}\n    exit {:?}, stderr {:.300}\n    want {expected:.200}",
                o.status.code(),
                err
            ));
        }
    }
    let now = Client::open().expect("open").list_rules().expect("list");
    assert_eq!(now, guard.initial_rules(), "a bad input changed the kernel's rules");
    assert!(failures.is_empty(), "{} of {run} differ:\n{}", failures.len(), failures.join("\n"));
}

/// The rules-file lines of the corpus, each at its line number `N` (after `N - 1` comment
/// lines) in a rules file.
fn bad_file_lines() -> Vec<(usize, String, String)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-input.tsv");
    let text = std::fs::read_to_string(&path).expect("read bad-input.tsv");
    text.lines()
        .filter_map(|l| {
            let mut cols = l.splitn(3, '\t');
            let n = cols.next()?.strip_prefix("file:")?.parse().ok()?;
            Some((n, unescape(cols.next()?), unescape(cols.next()?)))
        })
        .collect()
}

/// Root: every rules-file line of the corpus, at its line number in a rules file given to
/// the real reader (`nlaudit load FILE`), fails the load with its message, and the kernel's
/// rules are exactly what they were.
#[test]
fn bad_rules_file_lines_through_nlaudit_load_never_reach_the_kernel() {
    let test = "bad_rules_file_lines_through_nlaudit_load_never_reach_the_kernel";
    if !support::kernel_available(test) {
        return;
    }
    let guard = support::KernelGuard::new();
    let dir = std::env::temp_dir().join(format!("nlaudit-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut failures = Vec::new();
    let lines = bad_file_lines();
    assert!(lines.len() >= 20, "only {} rules-file lines", lines.len());
    for (n, input, expected) in &lines {
        let file = dir.join("bad.rules");
        let mut content = "#\n".repeat(n - 1);
        content.push_str(input);
        content.push('\n');
        std::fs::write(&file, content).expect("write rules file");
        let o = std::process::Command::new(support::nlaudit_bin())
            .arg("load")
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run nlaudit");
        let err = support::err(&o);
        let said = expected.lines().all(|l| err.contains(l));
        if o.status.success() || !said {
            failures.push(format!(
                "line {n}: {input:.120}\n    exit {:?}, stderr {:.300}\n    want {expected:.200}",
                o.status.code(),
                err
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let now = Client::open().expect("open").list_rules().expect("list");
    assert_eq!(now, guard.initial_rules(), "a bad rules-file line changed the kernel's rules");
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        lines.len(),
        failures.join("\n")
    );
}

/// The fake kernel answers a batch as the kernel does (an ACK for each failure and for
/// each message that asks for one), and the client reads each rule's result from it.
#[test]
fn batch_results_through_the_fake() {
    let rules: Vec<RuleData> = (0..5).map(|i| watch("/etc/x", &format!("b{i}"))).collect();
    let mut c = FakeKernel::with_rules(vec![rules[2].clone()]).client();
    let r = c.batch(BatchOp::Add, &rules, OnError::Continue).expect("batch");
    use ItemResult::{Done, Refused};
    let want = [Done, Done, Refused(Errno::EEXIST), Done, Done];
    assert_eq!(r.items(), want);
    assert_eq!(c.transport().state.rules.len(), 5);
    assert_eq!(c.stray_messages + c.foreign_datagrams, 0);
}

// ---------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------

/// A batch larger than one datagram, sent across the sequence-number wrap (the client
/// skips 0, so the numbers of one datagram are not contiguous there): every rule gets its
/// own result, the duplicate in the middle is the one refused, each datagram asks for one
/// ACK (its last message's), and every message is a rule that decodes as it was given.
#[test]
fn a_batch_across_datagrams_and_the_sequence_wrap() {
    let n = 552;
    let mut rules: Vec<RuleData> = (0..n).map(|i| watch("/etc/b", &format!("b{i}"))).collect();
    let dup = 300;
    rules[dup] = rules[3].clone();
    let mut c = FakeKernel::new().client();
    // The wrap falls inside the second datagram, before the duplicate.
    c.set_seq(u32::MAX - 200);
    let results = c.batch(BatchOp::Add, &rules, OnError::Continue).expect("batch");
    assert_eq!(results.len(), n);
    for (i, r) in results.iter().enumerate() {
        let want = if i == dup {
            ItemResult::Refused(nlaudit_proto::Errno::EEXIST)
        } else {
            ItemResult::Done
        };
        assert_eq!(*r, want, "rule {i}");
    }
    let sent = &c.transport().sent;
    assert_eq!(sent.len(), n);
    assert!(sent.iter().all(|r| r.seq != 0), "seq 0 was used");
    let acked: Vec<usize> =
        sent.iter().enumerate().filter(|(_, r)| r.flags & NLM_F_ACK != 0).map(|(i, _)| i).collect();
    // About 1 KiB a rule: the 192 KiB bound closes each datagram after 184 of them.
    assert_eq!(acked, [183, 367, 551]);
    assert_eq!(n - 1, 551);
    for (r, want) in sent.iter().zip(&rules) {
        assert_eq!(RuleData::decode(&r.payload).expect("decodes"), *want);
    }
    let kept = &c.transport().state.rules;
    assert_eq!(kept.len(), n - 1);
}

/// Rules too large to share a datagram go one per datagram; a batch stopping on error
/// sends nothing after the datagram with the failure.
#[test]
fn large_rules_split_datagrams_and_a_stop_sends_no_more() {
    let long = |i: usize| {
        let mut r = watch(&format!("/{}", "d".repeat(4000)), &format!("l{i}"));
        for k in 0..40 {
            r.fields.insert(
                0,
                FieldData {
                    field: FieldType::AUDIT_DIR,
                    op: Operator::AUDIT_EQUAL,
                    value: FieldValue::Str(format!("/{k}{}", "x".repeat(4000)).into_bytes()),
                },
            );
        }
        r
    };
    // Each rule is about 165 KiB: one per datagram (192 KiB).
    let rules: Vec<RuleData> = (0..3).map(long).collect();
    let mut c = FakeKernel::new().client();
    let r = c.batch(BatchOp::Add, &rules, OnError::Stop).expect("batch");
    assert_eq!(r.items(), vec![ItemResult::Done; 3]);
    assert!(c.transport().sent.iter().all(|r| r.flags & NLM_F_ACK != 0), "one per datagram");
    // The same rules again: the first is refused, nothing more is sent.
    c.transport().sent.clear();
    let r = c.batch(BatchOp::Add, &rules, OnError::Stop).expect("batch");
    assert_eq!(
        r.items(),
        [
            ItemResult::Refused(nlaudit_proto::Errno::EEXIST),
            ItemResult::NotReached,
            ItemResult::NotReached
        ]
    );
    assert_eq!(c.transport().sent.len(), 1);
}
