//! What the kernel does to a rule between `AUDIT_ADD_RULE` and `AUDIT_LIST_RULES`, in one
//! place (kernel/auditfilter.c):
//!
//! - `audit_to_entry_common` clears the syscall-class selector bits, the top 16 bits of mask
//!   word 63, and ORs in the syscalls of each selected class. A rule sent with every bit set
//!   (`-S all`, watches) therefore lists with word 63 = `0x0000FFFF`. Class bits selected
//!   otherwise (`-S 2047`) expand to the running kernel's class tables (arch/*/kernel/audit*.c,
//!   `audit_register_class`; they change between kernel versions), which no static table
//!   predicts: [`class_selection`] finds such rules, and [`with_classes`] rewrites one with
//!   the expansion the kernel gave a probe rule selecting the same classes (`nlaudit apply`
//!   asks it, ruleset/apply.rs).
//! - `audit_add_rule` clears `AUDIT_FILTER_PREPEND` after inserting: listed rules never
//!   carry it, and `-A` rules are indistinguishable from `-a` ones once in.
//! - `audit_data_to_entry` stores a legacy `auid=-1` (`AUDIT_LOGINUID` = `AUDIT_UID_UNSET`)
//!   as `AUDIT_LOGINUID_SET` with the `AUDIT_LOGINUID_LEGACY` pflag, and
//!   `audit_krule_to_data` converts it back: the listed bytes are unchanged.
//!
//! Deleting by the listed bytes (or by the text auditctl printed, parsed again) works
//! because the kernel applies the same rewrites to the rule it is asked to delete.

use nlaudit_proto::consts::{AUDIT_BITMASK_SIZE, AUDIT_FILTER_PREPEND};
use nlaudit_proto::RuleData;

/// The class selector bits of mask word 63 (`AUDIT_SYSCALL_CLASSES` = 16 bits).
pub const CLASS_BITS: u32 = 0xFFFF_0000;

/// The rule as the kernel will list it (see the module docs for what is and is not
/// predicted).
pub fn normalize(r: &RuleData) -> RuleData {
    let mut n = r.clone();
    n.flags &= !AUDIT_FILTER_PREPEND;
    // With the rest of the mask full the classes add nothing and only their bits go;
    // otherwise the expansion is the kernel's (`with_classes`), and the bits stay as sent
    // (a delete sent with them is expanded by the kernel the same way).
    if class_selection(&n).is_none() {
        n.mask[63] &= !CLASS_BITS;
    }
    n
}

/// The class selector bits of a rule whose listed mask depends on the kernel's class
/// tables: `None` when it selects no class, or when the rest of its mask is all ones (the
/// classes add nothing: `-S all` and watches, which [`normalize`] predicts).
pub fn class_selection(r: &RuleData) -> Option<u32> {
    let bits = r.mask[63] & CLASS_BITS;
    let rest_full = r.all_syscalls() && r.mask[63] | CLASS_BITS == !0;
    (bits != 0 && !rest_full).then_some(bits)
}

/// The rule as the kernel will list it, given `expansion`: the syscall mask the kernel
/// listed for a rule selecting the same classes and nothing else.
pub fn with_classes(r: &RuleData, expansion: &[u32; AUDIT_BITMASK_SIZE]) -> RuleData {
    let mut n = normalize(r);
    n.mask[63] &= !CLASS_BITS;
    for (w, e) in n.mask.iter_mut().zip(expansion) {
        *w |= e;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_selections_and_their_expansion() {
        let mut r = RuleData { flags: 4, action: 2, fields: vec![], mask: [0; 64] };
        assert_eq!(class_selection(&r), None);
        r.mask[63] = 1 << 31; // -S 2047
        r.mask[0] = 1 << 2; // -S open
        assert_eq!(class_selection(&r), Some(1 << 31));
        let mut expansion = [0u32; 64];
        expansion[2] = 0b1010; // as if the class held syscalls 65 and 67
        let n = with_classes(&r, &expansion);
        assert_eq!(n.mask[63], 0);
        assert_eq!((n.mask[0], n.mask[2]), (1 << 2, 0b1010));
        // Every bit set: the classes add nothing.
        assert_eq!(class_selection(&RuleData { mask: [u32::MAX; 64], ..r.clone() }), None);
        // Every class bit set over a partial mask still depends on the tables.
        r.mask[63] = CLASS_BITS;
        assert_eq!(class_selection(&r), Some(CLASS_BITS));
    }

    #[test]
    fn clears_prepend_and_class_bits() {
        let r = RuleData { flags: 0x14, action: 2, fields: vec![], mask: [u32::MAX; 64] };
        let n = normalize(&r);
        assert_eq!(n.flags, 4);
        assert_eq!(n.mask[63], 0x0000_FFFF);
        assert_eq!(n.mask[62], u32::MAX);
        assert_eq!(normalize(&n), n);
    }
}
