//! Test support for the CLI's unit tests: a fake kernel in immutable mode, for the code
//! paths a test machine cannot reach (enabled 2 lasts until reboot), and events built from
//! captured records.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nlaudit_proto::codec::{encode_message, split_datagram, Ack, NLM_F_MULTI};
use nlaudit_proto::records::{Event, EventAssembler, Record};
use nlaudit_proto::{AuditEnabled, MsgType, Received, RuleData, Status, Transport};

/// A kernel whose audit configuration is locked (enabled 2): it answers AUDIT_GET and
/// AUDIT_LIST_RULES (with `rules`), acknowledges everything else, and records every
/// message it is sent.
#[derive(Default)]
pub struct Locked {
    pub sent: Arc<Mutex<Vec<MsgType>>>,
    pub rules: Vec<RuleData>,
    pub replies: VecDeque<Vec<u8>>,
}

impl Transport for Locked {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        self.answer(datagram, AuditEnabled::Locked)
    }

    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<Received>> {
        Ok(next_reply(&mut self.replies, buf))
    }
}

/// The same fake kernel, not locked (enabled 1): for the paths that must not send a change.
#[derive(Default)]
pub struct Unlocked(pub Locked);

impl Transport for Unlocked {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        self.0.answer(datagram, AuditEnabled::Enabled)
    }

    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Option<Received>> {
        Ok(next_reply(&mut self.0.replies, buf))
    }
}

impl Locked {
    /// Records and answers every message of a datagram, reporting `enabled` on AUDIT_GET.
    fn answer(&mut self, datagram: &[u8], enabled: AuditEnabled) -> io::Result<()> {
        let msgs = split_datagram(datagram).map_err(io::Error::other)?;
        for m in msgs {
            let (ty, seq) = (m.header.ty, m.header.seq);
            self.sent.lock().map_err(|_| io::Error::other("poisoned"))?.push(ty);
            let mut out = Vec::new();
            let ack = Ack { error: 0, request_seq: seq, request_type: ty };
            encode_message(&mut out, MsgType::NLMSG_ERROR, 0, seq, &ack.encode()).expect("encodes");
            if ty == MsgType::AUDIT_GET {
                let s = Status { enabled, failure: 1, backlog_limit: 64, ..Status::default() };
                encode_message(&mut out, MsgType::AUDIT_GET, 0, seq, &s.encode()).expect("encodes");
            }
            self.replies.push_back(out);
            if ty == MsgType::AUDIT_LIST_RULES {
                for r in &self.rules {
                    let mut out = Vec::new();
                    let bytes = r.encode().map_err(io::Error::other)?;
                    encode_message(&mut out, MsgType::AUDIT_LIST_RULES, NLM_F_MULTI, seq, &bytes)
                        .expect("encodes");
                    self.replies.push_back(out);
                }
                let mut out = Vec::new();
                encode_message(&mut out, MsgType::NLMSG_DONE, NLM_F_MULTI, seq, &[0; 4])
                    .expect("encodes");
                self.replies.push_back(out);
            }
        }
        Ok(())
    }
}

/// A fake kernel's `recv`: the next queued datagram from the kernel (port 0), truncated to
/// `buf` with its whole length reported (as `MSG_TRUNC` does); `None` when none is queued.
pub fn next_reply(replies: &mut VecDeque<Vec<u8>>, buf: &mut [u8]) -> Option<Received> {
    let d = replies.pop_front()?;
    let n = d.len().min(buf.len());
    buf[..n].copy_from_slice(&d[..n]);
    Some(Received { len: d.len(), sender: 0 })
}

/// The one event the records `(type, text)` make, as the reader would assemble them.
pub fn event(recs: &[(u16, &str)]) -> Event {
    let records = recs
        .iter()
        .map(|&(ty, text)| Record::parse(MsgType(ty), text.as_bytes()).expect("sample parses"));
    EventAssembler::assemble(records).pop().expect("one event")
}
