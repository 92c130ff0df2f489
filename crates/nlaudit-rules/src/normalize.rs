//! What the kernel does to a rule between `AUDIT_ADD_RULE` and `AUDIT_LIST_RULES`, in one
//! place (kernel/auditfilter.c):
//!
//! - `audit_to_entry_common` clears the syscall-class selector bits, the top 16 bits of mask
//!   word 63, and ORs in the syscalls of each selected class. A rule sent with every bit set
//!   (`-S all`, watches) therefore lists with word 63 = `0x0000FFFF`. Class bits set alone
//!   (`-S 2047`) expand to an architecture's class table, which is not predicted here: such
//!   rules compare unequal until listed once.
//! - `audit_add_rule` clears `AUDIT_FILTER_PREPEND` after inserting: listed rules never
//!   carry it, and `-A` rules are indistinguishable from `-a` ones once in.
//! - `audit_data_to_entry` stores a legacy `auid=-1` (`AUDIT_LOGINUID` = `AUDIT_UID_UNSET`)
//!   as `AUDIT_LOGINUID_SET` with the `AUDIT_LOGINUID_LEGACY` pflag, and
//!   `audit_krule_to_data` converts it back: the listed bytes are unchanged.
//!
//! Deleting by the listed bytes (or by the text auditctl printed, parsed again) works
//! because the kernel applies the same rewrites to the rule it is asked to delete.

use nlaudit_proto::consts::AUDIT_FILTER_PREPEND;
use nlaudit_proto::RuleData;

/// The class selector bits of mask word 63 (`AUDIT_SYSCALL_CLASSES` = 16 bits).
pub const CLASS_BITS: u32 = 0xFFFF_0000;

/// The rule as the kernel will list it (see the module docs for what is and is not
/// predicted).
pub fn normalize(r: &RuleData) -> RuleData {
    let mut n = r.clone();
    n.flags &= !AUDIT_FILTER_PREPEND;
    if n.mask[63] & CLASS_BITS == CLASS_BITS {
        n.mask[63] &= !CLASS_BITS;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

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
