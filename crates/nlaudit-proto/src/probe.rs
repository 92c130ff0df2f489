//! Learning the running kernel's syscall-class tables: a rule that selects syscall classes
//! (mask word 63, `-S 2032..2047`) is listed with the classes expanded to the syscalls of the
//! kernel's own tables (kernel/auditfilter.c `audit_register_class`, `audit_to_entry_common`),
//! which no static table can know. A probe rule that can match no task (`never,exit`,
//! `pid=0`) selecting just those classes is added, the rules are listed (the probe shows the
//! expansion), and the probes are deleted again: one add and one delete each.

use std::collections::HashMap;

use crate::client::{BatchOp, Client, ItemResult, OnError};
use crate::consts::{Action, FieldType, FilterList, Operator};
use crate::error::{Error, Op};
use crate::rule::{FieldData, FieldValue, RuleData};
use crate::transport::Transport;
use crate::Errno;

/// What a class probe learned.
#[derive(Clone, Debug, Default)]
pub struct ClassProbe {
    /// Class selector bits (mask word 63) → the syscall mask the kernel lists for them.
    pub expansions: HashMap<u32, [u32; 64]>,
    /// The rules in force, as listed with the probes, less the probes.
    pub rules: Vec<RuleData>,
}

/// Why a class probe failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A request failed (the probe could not be added, or the rules listed).
    #[error(transparent)]
    Kernel(#[from] Error),
    /// Probes stayed in force: they could not be deleted again.
    #[error("{count} probe rule(s) could not be deleted: their keys start with {key_prefix}")]
    Left {
        /// How many.
        count: usize,
        /// The prefix of their keys.
        key_prefix: String,
    },
    /// A probe the kernel accepted was not listed.
    #[error("a probe rule was added but not listed")]
    NotListed,
}

/// A rule that matches no task (`-a never,exit -F pid=0 -F key=KEY`) selecting the classes
/// `bits` of mask word 63 and no syscall.
pub fn class_probe(bits: u32, key: &str) -> RuleData {
    let mut mask = [0u32; 64];
    mask[63] = bits;
    RuleData {
        flags: FilterList::EXIT.0,
        action: Action::NEVER.0,
        fields: vec![
            FieldData {
                field: FieldType::AUDIT_PID,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Num(0),
            },
            FieldData {
                field: FieldType::AUDIT_FILTERKEY,
                op: Operator::AUDIT_EQUAL,
                value: FieldValue::Str(key.as_bytes().to_vec()),
            },
        ],
        mask,
    }
}

impl<T: Transport> Client<T> {
    /// Learns the kernel's expansion of each class selection in `selections` (see the module
    /// docs), with probe keys `KEY_PREFIX` + the bits in hex, and lists the rules in force.
    /// Whatever happens, the probes are deleted again before it returns.
    pub fn probe_classes(
        &mut self,
        selections: &[u32],
        key_prefix: &str,
    ) -> Result<ClassProbe, ProbeError> {
        let probes: Vec<RuleData> = selections
            .iter()
            .map(|&bits| class_probe(bits, &format!("{key_prefix}{bits:08x}")))
            .collect();
        let listed = match self.batch(BatchOp::Add, &probes, OnError::Stop) {
            Err(e) => Err(e),
            Ok(r) => match r.first_refusal() {
                Some(refusal) => Err(Error::Kernel { op: Op::AddRule, errno: refusal.errno }),
                None => self.list_rules(),
            },
        };
        let left = match self.batch(BatchOp::Delete, &probes, OnError::Continue) {
            Ok(r) => r
                .iter()
                .filter(|x| !matches!(x, ItemResult::Done | ItemResult::Refused(Errno::ENOENT)))
                .count(),
            Err(_) => probes.len(),
        };
        if left > 0 {
            return Err(ProbeError::Left { count: left, key_prefix: key_prefix.to_string() });
        }
        // A listed probe differs from the one sent only in its mask.
        let probe_of = |r: &RuleData| {
            probes
                .iter()
                .position(|p| (p.flags, p.action, &p.fields) == (r.flags, r.action, &r.fields))
        };
        let mut out = ClassProbe::default();
        for r in listed? {
            match probe_of(&r).and_then(|i| selections.get(i)) {
                Some(&bits) => {
                    out.expansions.insert(bits, r.mask);
                }
                None => out.rules.push(r),
            }
        }
        if out.expansions.len() != selections.len() {
            return Err(ProbeError::NotListed);
        }
        Ok(out)
    }
}
