//! `struct audit_rule_data`: the kernel's rule format (AUDIT_ADD_RULE, AUDIT_DEL_RULE,
//! AUDIT_LIST_RULES).
//!
//! Layout: `u32 flags, action, field_count, mask[64], fields[64], values[64], fieldflags[64],
//! buflen`, then `buf`: the string values, in field order, each `values[i]` bytes long.

use crate::codec::Cursor;
use crate::consts::{
    Action, FieldType, FilterList, Operator, ValueKind, AUDIT_BITMASK_SIZE, AUDIT_FILTER_MASK,
    AUDIT_FILTER_PREPEND, AUDIT_KEY_SEPARATOR, AUDIT_MAX_FIELDS, AUDIT_RULE_DATA_SIZE,
};
use crate::error::{DecodeError, EncodeError};

/// The keys joined in one `AUDIT_FILTERKEY` value: split on `AUDIT_KEY_SEPARATOR` (0x01),
/// empty pieces skipped, as auditctl prints them. The one key splitter of the workspace
/// (rules, listings and records all join keys this way).
pub fn split_keys(joined: &[u8]) -> impl Iterator<Item = &[u8]> {
    joined.split(|&b| b == AUDIT_KEY_SEPARATOR).filter(|k| !k.is_empty())
}

/// Where `AUDIT_ADD_RULE` inserts a rule in its list: `AUDIT_FILTER_PREPEND` or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// At the tail (`-a`).
    Append,
    /// At the head (`-A`, `AUDIT_FILTER_PREPEND`).
    Prepend,
}

/// A field's value: a number, or a string carried in `buf`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldValue {
    /// `values[i]`.
    Num(u32),
    /// Bytes in `buf` (not NUL-terminated; may be any bytes).
    Str(Vec<u8>),
}

/// One field of a rule: `fields[i]`, `fieldflags[i]`, `values[i]` (+ string).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldData {
    /// `fields[i]`.
    pub field: FieldType,
    /// `fieldflags[i]`: the operator.
    pub op: Operator,
    /// The value.
    pub value: FieldValue,
}

/// A rule as the kernel holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleData {
    /// `flags`: the filter list, possibly OR'ed with `AUDIT_FILTER_PREPEND`.
    pub flags: u32,
    /// `action`.
    pub action: u32,
    /// The fields, in order (at most `AUDIT_MAX_FIELDS`).
    pub fields: Vec<FieldData>,
    /// `mask`: syscall bits; bit n of word n/32 = syscall n.
    pub mask: [u32; AUDIT_BITMASK_SIZE],
}

impl RuleData {
    /// The filter list, without the prepend flag.
    pub fn list(&self) -> FilterList {
        FilterList(self.flags & !AUDIT_FILTER_PREPEND)
    }

    /// The filter list as auditctl prints it: `flags & AUDIT_FILTER_MASK`. Differs from
    /// [`list`](Self::list) only for flags no kernel lists (bits beyond the known lists).
    pub fn masked_list(&self) -> FilterList {
        FilterList(self.flags & AUDIT_FILTER_MASK)
    }

    /// `action`.
    pub fn action(&self) -> Action {
        Action(self.action)
    }

    /// Whether the prepend flag is set (never in listed rules: the kernel clears it).
    pub fn prepend(&self) -> bool {
        self.position() == Position::Prepend
    }

    /// Where the kernel will insert the rule (listed rules: always `Append`).
    pub fn position(&self) -> Position {
        if self.flags & AUDIT_FILTER_PREPEND != 0 {
            Position::Prepend
        } else {
            Position::Append
        }
    }

    /// Sets or clears `AUDIT_FILTER_PREPEND`.
    pub fn set_position(&mut self, position: Position) {
        match position {
            Position::Prepend => self.flags |= AUDIT_FILTER_PREPEND,
            Position::Append => self.flags &= !AUDIT_FILTER_PREPEND,
        }
    }

    /// The rule's keys, in field order: every `AUDIT_FILTERKEY` string split with
    /// [`split_keys`].
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.fields
            .iter()
            .flat_map(|f| match (&f.field, &f.value) {
                (&FieldType::AUDIT_FILTERKEY, FieldValue::Str(s)) => Some(split_keys(s)),
                _ => None,
            })
            .flatten()
    }

    /// Whether the rule covers every syscall: mask words 0..=62 all set (auditctl's `-S all`
    /// test; word 63 holds the class selector bits, which the kernel rewrites).
    pub fn all_syscalls(&self) -> bool {
        self.mask.iter().take(AUDIT_BITMASK_SIZE - 1).all(|&w| w == u32::MAX)
    }

    /// Encodes the payload of an AUDIT_ADD_RULE / AUDIT_DEL_RULE.
    ///
    /// Fails when the rule cannot be represented (over 64 fields, a string over 4 GiB); a
    /// string value on a number field or vice versa is sent as given (the kernel judges).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// [`encode`](Self::encode), appended to `out` (a batch writes each payload straight
    /// into its datagram). On error `out` is left as it was.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count = self.fields.len();
        if count > AUDIT_MAX_FIELDS {
            return Err(EncodeError::TooManyFields { count });
        }
        let mut buflen = 0usize;
        for (index, f) in self.fields.iter().enumerate() {
            if let FieldValue::Str(s) = &f.value {
                if u32::try_from(s.len()).is_err() {
                    return Err(EncodeError::ValueTooLong { index });
                }
                buflen = buflen.checked_add(s.len()).ok_or(EncodeError::BufTooLong)?;
            }
        }
        let buflen = u32::try_from(buflen).map_err(|_| EncodeError::BufTooLong)?;
        let put = |out: &mut Vec<u8>, w: u32| out.extend_from_slice(&w.to_ne_bytes());
        let zeros = |out: &mut Vec<u8>, words: usize| out.resize(out.len() + 4 * words, 0);
        out.reserve(AUDIT_RULE_DATA_SIZE + buflen as usize);
        put(out, self.flags);
        put(out, self.action);
        put(out, count as u32);
        for &w in &self.mask {
            put(out, w);
        }
        for f in &self.fields {
            put(out, f.field.0);
        }
        zeros(out, AUDIT_MAX_FIELDS - count);
        for f in &self.fields {
            put(
                out,
                match &f.value {
                    FieldValue::Num(n) => *n,
                    FieldValue::Str(s) => s.len() as u32,
                },
            );
        }
        zeros(out, AUDIT_MAX_FIELDS - count);
        for f in &self.fields {
            put(out, f.op.0);
        }
        zeros(out, AUDIT_MAX_FIELDS - count);
        put(out, buflen);
        for f in &self.fields {
            if let FieldValue::Str(s) = &f.value {
                out.extend_from_slice(s);
            }
        }
        Ok(())
    }

    /// Decodes a listed rule. Checks what auditctl trusts blindly: `field_count ≤ 64`, every
    /// string inside `buflen`, `buflen` inside the payload and equal to the sum of the string
    /// lengths. Trailing bytes after `buf` (netlink padding) are ignored.
    pub fn decode(payload: &[u8]) -> Result<RuleData, DecodeError> {
        let mut c = Cursor::new(payload);
        let flags = c.u32("audit_rule_data.flags")?;
        let action = c.u32("audit_rule_data.action")?;
        let count = c.u32("audit_rule_data.field_count")? as usize;
        // Whole arrays at a time (a listing decodes 320 words per rule, thousands of rules).
        let mut mask = [0u32; AUDIT_BITMASK_SIZE];
        words_into(c.take(4 * AUDIT_BITMASK_SIZE, "audit_rule_data.mask")?, &mut mask);
        // The field arrays are read only as far as `field_count` (most rules use a few of
        // the 64 slots).
        let what = "audit_rule_data.fields/values/fieldflags";
        let ftypes = c.take(4 * AUDIT_MAX_FIELDS, what)?;
        let values = c.take(4 * AUDIT_MAX_FIELDS, what)?;
        let fflags = c.take(4 * AUDIT_MAX_FIELDS, what)?;
        let word = |array: &[u8], i: usize| {
            array
                .get(4 * i..4 * i + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, u32::from_ne_bytes)
        };
        let buflen = c.u32("audit_rule_data.buflen")? as usize;
        if count > AUDIT_MAX_FIELDS {
            return Err(DecodeError::Invalid(format!(
                "field_count {count} exceeds AUDIT_MAX_FIELDS ({AUDIT_MAX_FIELDS})"
            )));
        }
        let mut strings = Cursor::new(c.take(buflen, "audit_rule_data.buf")?);
        let mut fields = Vec::with_capacity(count);
        for i in 0..count {
            let field = FieldType(word(ftypes, i));
            let v = word(values, i);
            let value = match field.kind() {
                ValueKind::Num => FieldValue::Num(v),
                ValueKind::Str => FieldValue::Str(
                    strings.take(v as usize, "audit_rule_data.buf string")?.to_vec(),
                ),
            };
            fields.push(FieldData { field, op: Operator(word(fflags, i)), value });
        }
        if !strings.remaining().is_empty() {
            return Err(DecodeError::Invalid(format!(
                "buflen {buflen} exceeds the {} bytes of string values",
                buflen - strings.remaining().len()
            )));
        }
        Ok(RuleData { flags, action, fields, mask })
    }
}

/// Host-endian `u32`s from `bytes` into `out` (as many as both hold).
fn words_into(bytes: &[u8], out: &mut [u32]) {
    for (w, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = <[u8; 4]>::try_from(b).map_or(0, u32::from_ne_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(v: u32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    /// `-a always,exit -F arch=b64 -S open -F exe=/usr/bin/su -F key=k` as the kernel lists
    /// it, built by hand from the layout.
    fn exe_rule_bytes() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&w(4)); // flags: AUDIT_FILTER_EXIT
        v.extend_from_slice(&w(2)); // action: AUDIT_ALWAYS
        v.extend_from_slice(&w(3)); // field_count
        let mut mask = [0u32; 64];
        mask[0] = 1 << 2; // syscall 2 (open on x86_64)
        mask.iter().for_each(|m| v.extend_from_slice(&w(*m)));
        let mut fields = [0u32; 64];
        fields[..3].copy_from_slice(&[11, 112, 210]); // AUDIT_ARCH, AUDIT_EXE, AUDIT_FILTERKEY
        fields.iter().for_each(|m| v.extend_from_slice(&w(*m)));
        let mut values = [0u32; 64];
        values[..3].copy_from_slice(&[0xC000_003E, 11, 1]); // AUDIT_ARCH_X86_64, len 11, len 1
        values.iter().for_each(|m| v.extend_from_slice(&w(*m)));
        let mut ops = [0u32; 64];
        ops[..3].copy_from_slice(&[0x4000_0000; 3]); // AUDIT_EQUAL
        ops.iter().for_each(|m| v.extend_from_slice(&w(*m)));
        v.extend_from_slice(&w(12)); // buflen: 11 + 1
        v.extend_from_slice(b"/usr/bin/suk"); // exe string then key string
        v.push(0); // netlink padding the kernel may leave after buf
        v
    }

    #[test]
    fn exe_is_a_string_and_the_key_after_it_is_intact() {
        let r = RuleData::decode(&exe_rule_bytes()).expect("decodes");
        assert_eq!(r.list(), FilterList::EXIT);
        assert_eq!(r.fields[1].value, FieldValue::Str(b"/usr/bin/su".to_vec()));
        assert_eq!(r.fields[2].value, FieldValue::Str(b"k".to_vec()));
        let mut again = r.encode().expect("encodes");
        again.push(0);
        assert_eq!(again, exe_rule_bytes());
    }

    /// netlink-packet-audit 0.7 reads AUDIT_EXE as a number, so the key after an exe field is
    /// decoded from the exe's bytes: the bug nlaudit-proto exists to fix.
    #[test]
    fn netlink_packet_audit_misreads_exe() {
        use netlink_packet_audit::rules::{RuleField, RuleMessage};
        use netlink_packet_audit::RuleBuffer;
        use netlink_packet_core::Parseable as _;
        let bytes = exe_rule_bytes();
        let theirs = RuleMessage::parse(&RuleBuffer::new(&bytes[..bytes.len() - 1]));
        let key_is_right = matches!(&theirs, Ok(m) if m.fields.iter().any(
            |(f, _)| matches!(f, RuleField::Filterkey(k) if k == "k")));
        assert!(!key_is_right, "netlink-packet-audit decoded the key correctly: {theirs:?}");
        let ours = RuleData::decode(&bytes).expect("decodes");
        assert_eq!(ours.fields[2].value, FieldValue::Str(b"k".to_vec()));
    }

    #[test]
    fn saddr_fam_decodes_as_a_number() {
        let mut r = RuleData { flags: 4, action: 2, fields: vec![], mask: [u32::MAX; 64] };
        r.fields.push(FieldData {
            field: FieldType::AUDIT_SADDR_FAM,
            op: Operator::AUDIT_EQUAL,
            value: FieldValue::Num(2),
        });
        let back = RuleData::decode(&r.encode().expect("encodes")).expect("decodes");
        assert_eq!(back, r);
    }

    #[test]
    fn rejects_lies() {
        let good = exe_rule_bytes();
        let mut many = good.clone();
        many[8..12].copy_from_slice(&w(65)); // field_count 65
        assert!(RuleData::decode(&many).is_err());
        let mut long = good.clone();
        long[1036..1040].copy_from_slice(&w(5000)); // buflen past the payload
        assert!(RuleData::decode(&long).is_err());
        let mut short = good.clone();
        short[1036..1040].copy_from_slice(&w(11)); // buflen shorter than the strings
        assert!(RuleData::decode(&short).is_err());
        assert!(RuleData::decode(&good[..1039]).is_err());
    }

    #[test]
    fn encode_into_appends_or_leaves_the_buffer_alone() {
        let r = RuleData::decode(&exe_rule_bytes()).expect("decodes");
        let mut out = b"head".to_vec();
        r.encode_into(&mut out).expect("encodes");
        assert_eq!(&out[..4], b"head");
        assert_eq!(out[4..], r.encode().expect("encodes")[..]);
        assert!(exe_rule_bytes().starts_with(&out[4..]));
        let mut too_many = r.clone();
        too_many.fields = vec![r.fields[0].clone(); AUDIT_MAX_FIELDS + 1];
        let mut out = b"head".to_vec();
        assert!(too_many.encode_into(&mut out).is_err());
        assert_eq!(out, b"head");
    }

    #[test]
    fn accessors_read_the_flags_action_keys_and_mask() {
        let mut r = RuleData::decode(&exe_rule_bytes()).expect("decodes");
        assert_eq!(
            (r.list(), r.masked_list(), r.action()),
            (FilterList::EXIT, FilterList::EXIT, Action::ALWAYS)
        );
        assert_eq!(r.position(), Position::Append);
        r.set_position(Position::Prepend);
        assert_eq!((r.flags, r.prepend(), r.list()), (0x14, true, FilterList::EXIT));
        r.set_position(Position::Append);
        assert_eq!(r.flags, 4);
        assert_eq!(r.keys().collect::<Vec<_>>(), [b"k"]);
        r.fields[2].value = FieldValue::Str(b"\x01a\x01\x01b\x01".to_vec());
        assert_eq!(r.keys().collect::<Vec<_>>(), [&b"a"[..], b"b"]);
        assert!(!r.all_syscalls());
        r.mask = [u32::MAX; 64];
        r.mask[63] = 0x0000_FFFF; // the class bits, as the kernel lists `-S all`
        assert!(r.all_syscalls());
        r.mask[62] = 0xFFFF_FFFE;
        assert!(!r.all_syscalls());
        assert_eq!(split_keys(b"").count(), 0);
    }

    #[test]
    fn encode_errors_name_the_limit() {
        let mut r = RuleData::decode(&exe_rule_bytes()).expect("decodes");
        r.fields = vec![r.fields[0].clone(); AUDIT_MAX_FIELDS + 1];
        assert_eq!(r.encode(), Err(EncodeError::TooManyFields { count: 65 }));
        assert_eq!(
            EncodeError::TooManyFields { count: 65 }.to_string(),
            "65 fields; the kernel takes at most 64"
        );
    }

    fn arb_field() -> impl Strategy<Value = FieldData> {
        (any::<u32>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 1..40)).prop_map(
            |(f, op, s)| {
                let field = FieldType(f % 260);
                let value = match field.kind() {
                    ValueKind::Num => FieldValue::Num(op ^ f),
                    ValueKind::Str => FieldValue::Str(s),
                };
                FieldData { field, op: Operator(op), value }
            },
        )
    }

    proptest! {
        #[test]
        fn decode_encode_round_trips(
            flags in 0u32..32, action in 0u32..3,
            fields in proptest::collection::vec(arb_field(), 0..=64),
            mask in proptest::array::uniform32(any::<u32>()),
        ) {
            let mut m = [0u32; 64];
            m[..32].copy_from_slice(&mask);
            let r = RuleData { flags, action, fields, mask: m };
            let bytes = r.encode().expect("encodes");
            prop_assert_eq!(RuleData::decode(&bytes).expect("decodes"), r);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
            let _ = RuleData::decode(&bytes);
        }
    }
}
