//! The netlink reply stream: the client's request/reply loop fed with fuzzed datagrams,
//! sender addresses, truncation flags, timeouts and socket errors, through every request
//! (status, features, list, add, delete, batch, counter reset, set).
//!
//! Input: a sequence of events `ctl: u8, len: u16 (LE), bytes[len]`. `ctl & 3`: 0 or 3 a
//! datagram, 1 a timeout, 2 a socket error (ENOBUFS, EINTR or EIO by `ctl >> 4`). For
//! datagrams: bit 2 = from another process (port 1234), bit 3 = give each message the
//! sequence number of a request just sent (so that replies reach the matching code), bit 4 =
//! pick among the batch's numbers, bit 6 = report the datagram as truncated.
#![no_main]

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nlaudit_proto::codec::{nlmsg_align, split_datagram, Ack, NLMSG_HDRLEN};
use nlaudit_proto::consts::{FieldType, Operator};
use nlaudit_proto::{
    BatchOp, Client, Errno, FieldData, FieldValue, OnError, RuleData, Setting, Transport,
};

#[path = "common.rs"]
mod common;

enum Event {
    Datagram { bytes: Vec<u8>, foreign: bool, patch: Option<bool>, truncated: bool },
    Timeout,
    Error(i32),
}

struct Script {
    events: VecDeque<Event>,
    /// Sequence numbers of the messages in the last datagram sent.
    seqs: Vec<u32>,
}

impl Transport for Script {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let msgs = split_datagram(datagram).expect("the client sends well-formed datagrams");
        self.seqs = msgs.iter().map(|m| m.header.seq).collect();
        Ok(())
    }

    fn recv(
        &mut self,
        buf: &mut [u8],
        _timeout: Duration,
    ) -> io::Result<Option<nlaudit_proto::Received>> {
        let Some(ev) = self.events.pop_front() else { return Ok(None) };
        match ev {
            Event::Timeout => Ok(None),
            Event::Error(e) => Err(io::Error::from_raw_os_error(e)),
            Event::Datagram { mut bytes, foreign, patch, truncated } => {
                if let Some(spread) = patch {
                    patch_seqs(&mut bytes, &self.seqs, spread);
                }
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                let len = if truncated { buf.len() + 1 + bytes.len() } else { n };
                Ok(Some(nlaudit_proto::Received { len, sender: if foreign { 1234 } else { 0 } }))
            }
        }
    }
}

/// Writes request sequence numbers into the headers of the messages a datagram holds,
/// walking it as the kernel lays out batches (aligned `nlmsg_len`).
fn patch_seqs(bytes: &mut [u8], seqs: &[u32], spread: bool) {
    let Some(&last) = seqs.last() else { return };
    let mut off = 0;
    let mut k = 0;
    while off + NLMSG_HDRLEN <= bytes.len() {
        let seq = if spread { seqs[k % seqs.len()] } else { last };
        bytes[off + 8..off + 12].copy_from_slice(&seq.to_ne_bytes());
        let len = u32::from_ne_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]]);
        let step = nlmsg_align(len as usize).max(NLMSG_HDRLEN);
        off += step;
        k += 1;
    }
}

fn parse_events(mut data: &[u8]) -> VecDeque<Event> {
    let mut out = VecDeque::new();
    while let [ctl, a, b, rest @ ..] = data {
        let len = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
        let (bytes, tail) = rest.split_at(len);
        data = tail;
        out.push_back(match ctl & 3 {
            1 => Event::Timeout,
            2 => Event::Error(match ctl >> 4 & 3 {
                0 => Errno::ENOBUFS as i32,
                1 => Errno::EINTR as i32,
                _ => Errno::EIO as i32,
            }),
            _ => {
                // Direct decoders see every datagram too.
                if let Ok(msgs) = split_datagram(bytes) {
                    for m in msgs {
                        let _ = Ack::decode(m.payload);
                    }
                }
                Event::Datagram {
                    bytes: bytes.to_vec(),
                    foreign: ctl & 4 != 0,
                    patch: (ctl & 8 != 0).then_some(ctl & 16 != 0),
                    truncated: ctl & 64 != 0,
                }
            }
        });
    }
    out
}

fn rule(key: &str) -> RuleData {
    RuleData {
        flags: 4,
        action: 2,
        fields: vec![
            FieldData {
                field: FieldType::AUDIT_WATCH,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Str(b"/etc/passwd".to_vec()),
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

fuzz_target!(|data: &[u8]| {
    let script = Script { events: parse_events(data), seqs: Vec::new() };
    let mut c = Client::with_transport(script);
    c.set_timeout(Duration::from_secs(5));
    let _ = c.status();
    let _ = c.features();
    if let Ok(rules) = c.list_rules() {
        for r in &rules {
            assert!(r.fields.len() <= 64);
            common::exercise(r);
        }
    }
    let _ = c.add_rule(&rule("a"));
    let _ = c.delete_rule(&rule("a"));
    let batch = [rule("b"), rule("c"), rule("d")];
    if let Ok(results) = c.batch(BatchOp::Add, &batch, OnError::Stop) {
        assert_eq!(results.len(), batch.len());
    }
    let _ = c.reset_lost();
    let _ = c.set(Setting::RateLimit(0));
    let _ = c.list_rules();
});
