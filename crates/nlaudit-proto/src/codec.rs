//! The wire codec: encode into a `Vec<u8>`, decode from a cursor that fails on short input.
//!
//! Integers are host-endian, as netlink is. Netlink framing quirks of the audit protocol are
//! handled here and only here (see [`split_datagram`]).

use crate::consts::MsgType;
use crate::error::{DecodeError, EncodeError};

/// `sizeof(struct nlmsghdr)`.
pub const NLMSG_HDRLEN: usize = 16;
/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 0x4;

/// `NLMSG_ALIGN`: netlink messages start on 4-byte boundaries.
pub const fn nlmsg_align(len: usize) -> usize {
    (len + 3) & !3
}

/// A read cursor over a byte slice; every read fails cleanly on short input.
#[derive(Debug)]
pub struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Short { what, need: n, have: self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Reads a host-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a host-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_ne_bytes([b[0], b[1]]))
    }
}

/// `struct nlmsghdr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlHeader {
    /// `nlmsg_len`, as received (see [`split_datagram`] for what it may mean).
    pub len: u32,
    /// `nlmsg_type`.
    pub ty: MsgType,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`: not trusted (the sender address is, see the client).
    pub pid: u32,
}

/// One netlink message of a received datagram.
#[derive(Clone, Copy, Debug)]
pub struct NlMessage<'a> {
    /// Its header.
    pub header: NlHeader,
    /// Its payload (after the 16-byte header).
    pub payload: &'a [u8],
}

/// Appends one netlink message (header + payload + padding to 4 bytes) to `out`.
///
/// `nlmsg_len` is header + payload, unpadded, as the kernel's own `nlmsg_put` writes it; the
/// kernel walks a batch with `NLMSG_ALIGN(nlmsg_len)`, so the padding goes after. Fails
/// (leaving `out` as it was) when the message is too long for `nlmsg_len`.
pub fn encode_message(
    out: &mut Vec<u8>,
    ty: MsgType,
    flags: u16,
    seq: u32,
    payload: &[u8],
) -> Result<(), EncodeError> {
    encode_message_with(out, ty, flags, seq, |out| {
        out.extend_from_slice(payload);
        Ok::<(), EncodeError>(())
    })
}

/// [`encode_message`] with the payload written in place by `payload`, which appends it to
/// the buffer it is given. If `payload` fails, or the message is too long for `nlmsg_len`,
/// `out` is left as it was.
pub fn encode_message_with<E: From<EncodeError>>(
    out: &mut Vec<u8>,
    ty: MsgType,
    flags: u16,
    seq: u32,
    payload: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let start = out.len();
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&ty.0.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    if let Err(e) = payload(out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start;
    let Ok(wire_len) = u32::try_from(len) else {
        out.truncate(start);
        return Err(EncodeError::MessageTooLong { len }.into());
    };
    if let Some(field) = out.get_mut(start..start + 4) {
        field.copy_from_slice(&wire_len.to_ne_bytes());
    }
    out.resize(start + nlmsg_align(len), 0);
    Ok(())
}

/// Splits a received datagram into its netlink messages.
///
/// Quirk (kernel/audit.c `audit_log_end`): audit *records* unicast to auditd carry
/// `nlmsg_len = skb->len - NLMSG_HDRLEN`, i.e. the payload length only, while replies built by
/// `audit_make_reply` use the standard `NLMSG_LENGTH(size)` and the multicast copy is fixed
/// up to the standard length (`kauditd_send_multicast_skb`). So a message whose length is too
/// short to cover its header, or that overruns the datagram while being the datagram's only
/// message, is taken to span the rest of the datagram, as go-libaudit does ("a single message
/// is sent and the length in the header should be ignored"). Several messages per datagram
/// (ACK batches) are walked with `NLMSG_ALIGN`.
pub fn split_datagram(buf: &[u8]) -> Result<Vec<NlMessage<'_>>, DecodeError> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        let mut c = Cursor::new(rest);
        let len = c.u32("nlmsg_len")?;
        let ty = MsgType(c.u16("nlmsg_type")?);
        let flags = c.u16("nlmsg_flags")?;
        let seq = c.u32("nlmsg_seq")?;
        let pid = c.u32("nlmsg_pid")?;
        let header = NlHeader { len, ty, flags, seq, pid };
        let body = c.remaining();
        let declared = len as usize;
        let standard = declared >= NLMSG_HDRLEN && declared <= rest.len();
        let next = nlmsg_align(declared).min(rest.len());
        // The payload-only length: the datagram's only message, spanning it (± padding).
        let payload_only = out.is_empty()
            && declared + NLMSG_HDRLEN <= rest.len()
            && rest.len() - (declared + NLMSG_HDRLEN) <= 3;
        // Both readings can fit; the standard one wins unless it leaves bytes that are not
        // a valid message.
        if standard && !(payload_only && split_datagram(&rest[next..]).is_err()) {
            out.push(NlMessage { header, payload: &body[..declared - NLMSG_HDRLEN] });
            rest = &rest[next..];
        } else if payload_only {
            out.push(NlMessage { header, payload: &body[..declared] });
            rest = &[];
        } else {
            return Err(DecodeError::BadLength { declared, available: rest.len() });
        }
    }
    Ok(out)
}

/// `struct nlmsgerr`: the error code of an `NLMSG_ERROR` and the echoed request header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    /// 0 for a success ACK, `-errno` for an error, or (AUDIT_SET of LOST or
    /// BACKLOG_WAIT_TIME_ACTUAL alone) a positive count.
    pub error: i32,
    /// The sequence number of the request this answers (from the echoed header).
    pub request_seq: u32,
    /// The type of the request this answers.
    pub request_type: MsgType,
}

impl Ack {
    /// Decodes the payload of an `NLMSG_ERROR`. The echoed request may be capped
    /// (`NETLINK_CAP_ACK`) or whole; only its header is read.
    pub fn decode(payload: &[u8]) -> Result<Ack, DecodeError> {
        let mut c = Cursor::new(payload);
        let error = c.u32("nlmsgerr.error")? as i32;
        let _len = c.u32("nlmsgerr.msg.nlmsg_len")?;
        let request_type = MsgType(c.u16("nlmsgerr.msg.nlmsg_type")?);
        let _flags = c.u16("nlmsgerr.msg.nlmsg_flags")?;
        let request_seq = c.u32("nlmsgerr.msg.nlmsg_seq")?;
        Ok(Ack { error, request_seq, request_type })
    }

    /// Encodes an ACK as the kernel would (capped), for tests and fault injection.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(20);
        v.extend_from_slice(&self.error.to_ne_bytes());
        v.extend_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
        v.extend_from_slice(&self.request_type.0.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&self.request_seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_pads_but_len_does_not_count_padding() {
        let mut v = Vec::new();
        encode_message(&mut v, MsgType::AUDIT_GET, NLM_F_REQUEST | NLM_F_ACK, 7, &[1, 2, 3])
            .expect("encodes");
        #[rustfmt::skip]
        let want: Vec<u8> = [
            &19u32.to_ne_bytes()[..],        // nlmsg_len: 16 + 3, unpadded
            &1000u16.to_ne_bytes()[..],      // nlmsg_type: AUDIT_GET
            &5u16.to_ne_bytes()[..],         // NLM_F_REQUEST | NLM_F_ACK
            &7u32.to_ne_bytes()[..],         // nlmsg_seq
            &0u32.to_ne_bytes()[..],         // nlmsg_pid: the kernel fills in the port
            &[1, 2, 3, 0][..],               // payload + 1 pad byte
        ].concat();
        assert_eq!(v, want);
    }

    #[test]
    fn split_walks_aligned_batches() {
        let mut v = Vec::new();
        encode_message(&mut v, MsgType::NLMSG_ERROR, 0, 1, &[9; 5]).expect("encodes");
        encode_message(&mut v, MsgType::NLMSG_DONE, 2, 2, &[]).expect("encodes");
        let msgs = split_datagram(&v).expect("valid batch");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].payload, &[9; 5]);
        assert_eq!(msgs[1].header.ty, MsgType::NLMSG_DONE);
        assert_eq!(msgs[1].header.seq, 2);
    }

    #[test]
    fn split_accepts_payload_only_length_of_unicast_records() {
        let text = b"audit(1.2:3): hello";
        let mut v = Vec::new();
        v.extend_from_slice(&(text.len() as u32).to_ne_bytes()); // payload-only nlmsg_len
        v.extend_from_slice(&1300u16.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(text);
        let msgs = split_datagram(&v).expect("quirk handled");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].payload, text);
    }

    #[test]
    fn split_rejects_short_and_overlong() {
        assert!(split_datagram(&[1, 2, 3]).is_err());
        let mut v = Vec::new();
        encode_message(&mut v, MsgType::NLMSG_DONE, 0, 1, &[]).expect("encodes");
        encode_message(&mut v, MsgType::NLMSG_DONE, 0, 2, &[]).expect("encodes");
        encode_message(&mut v, MsgType::NLMSG_DONE, 0, 3, &[]).expect("encodes");
        v[32..36].copy_from_slice(&4000u32.to_ne_bytes()); // third message claims 4000 bytes
        assert!(split_datagram(&v).is_err());
    }

    #[test]
    fn ack_round_trip_and_positive_count() {
        let a = Ack { error: 17, request_seq: 9, request_type: MsgType::AUDIT_SET };
        assert_eq!(Ack::decode(&a.encode()).expect("decodes"), a);
        assert!(Ack::decode(&[0; 7]).is_err());
    }
}
