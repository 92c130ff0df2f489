//! Kernel constants of `include/uapi/linux/audit.h`, each declared once.
//!
//! Enumerations the kernel keeps growing (message types, field types) are open newtypes whose
//! unknown values survive decode → encode unchanged; their known values live in one table each.

use std::fmt;

/// `AUDIT_MAX_FIELDS`: a rule carries at most this many fields.
pub const AUDIT_MAX_FIELDS: usize = 64;
/// `AUDIT_MAX_KEY_LEN`: the kernel's limit on a rule's (joined) key, in bytes.
pub const AUDIT_MAX_KEY_LEN: usize = 256;
/// `AUDIT_BITMASK_SIZE`: the syscall mask has this many u32 words (2048 bits).
pub const AUDIT_BITMASK_SIZE: usize = 64;
/// `AUDIT_SYSCALL_CLASSES`: the top 16 bits of mask word 63 select syscall classes; the kernel
/// clears them on input (`audit_to_entry_common`), so listed "all" masks end in `0x0000FFFF`.
pub const AUDIT_SYSCALL_CLASSES: u32 = 16;
/// `AUDIT_KEY_SEPARATOR`: several keys are joined into one `AUDIT_FILTERKEY` string with it.
pub const AUDIT_KEY_SEPARATOR: u8 = 0x01;
/// `PATH_MAX`: the kernel refuses longer path strings (ENAMETOOLONG).
pub const PATH_MAX: usize = 4096;
/// `AUDIT_NLGRP_READLOG`: the read-only multicast group for audit records (CAP_AUDIT_READ).
pub const AUDIT_NLGRP_READLOG: u32 = 1;
/// `NETLINK_AUDIT`: the netlink protocol number.
pub const NETLINK_AUDIT: isize = 9;

/// `sizeof(struct audit_rule_data)` without its trailing `buf`: 3 + 64 + 3×64 + 1 u32.
pub const AUDIT_RULE_DATA_SIZE: usize = 4 * (3 + AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS + 1);

/// A netlink message type (`nlmsghdr.nlmsg_type`): the audit ones and the netlink control ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgType(pub u16);

macro_rules! msg_types {
    ($($name:ident = $val:expr;)*) => {
        impl MsgType {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($val), ").")]
                pub const $name: MsgType = MsgType($val);
            )*
            /// The C name of a known message type.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

msg_types! {
    NLMSG_NOOP = 1;
    NLMSG_ERROR = 2;
    NLMSG_DONE = 3;
    NLMSG_OVERRUN = 4;
    AUDIT_GET = 1000;
    AUDIT_SET = 1001;
    AUDIT_LIST = 1002;
    AUDIT_ADD = 1003;
    AUDIT_DEL = 1004;
    AUDIT_USER = 1005;
    AUDIT_SIGNAL_INFO = 1010;
    AUDIT_ADD_RULE = 1011;
    AUDIT_DEL_RULE = 1012;
    AUDIT_LIST_RULES = 1013;
    AUDIT_TRIM = 1014;
    AUDIT_MAKE_EQUIV = 1015;
    AUDIT_TTY_GET = 1016;
    AUDIT_TTY_SET = 1017;
    AUDIT_SET_FEATURE = 1018;
    AUDIT_GET_FEATURE = 1019;
    AUDIT_SYSCALL = 1300;
    AUDIT_EOE = 1320;
}

impl fmt::Debug for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "MsgType({})", self.0),
        }
    }
}

/// Filter lists (`AUDIT_FILTER_*`), the low bits of a rule's `flags`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct FilterList(pub u32);

impl FilterList {
    /// `AUDIT_FILTER_USER` (0): messages from user space.
    pub const USER: FilterList = FilterList(0);
    /// `AUDIT_FILTER_TASK` (1): task creation.
    pub const TASK: FilterList = FilterList(1);
    /// `AUDIT_FILTER_ENTRY` (2): syscall entry (deprecated; recent kernels refuse it).
    pub const ENTRY: FilterList = FilterList(2);
    /// `AUDIT_FILTER_WATCH` (3): obsolete watch list.
    pub const WATCH: FilterList = FilterList(3);
    /// `AUDIT_FILTER_EXIT` (4): syscall exit.
    pub const EXIT: FilterList = FilterList(4);
    /// `AUDIT_FILTER_EXCLUDE` (5): record type exclusion.
    pub const EXCLUDE: FilterList = FilterList(5);
    /// `AUDIT_FILTER_FS` (6): filesystem type exclusion.
    pub const FS: FilterList = FilterList(6);
    /// `AUDIT_FILTER_URING_EXIT` (7): io_uring operations.
    pub const URING_EXIT: FilterList = FilterList(7);
    /// `AUDIT_NR_FILTERS`: the number of lists on current kernels.
    pub const NR_FILTERS: u32 = 8;
}

/// `AUDIT_FILTER_PREPEND` (0x10): OR'ed into `flags` to insert at the head of a list.
pub const AUDIT_FILTER_PREPEND: u32 = 0x10;
/// `AUDIT_FILTER_MASK` (0x07): the bits of `flags` that auditctl reads as the filter list
/// (`print_rule`); the kernel reads `flags & ~AUDIT_FILTER_PREPEND`.
pub const AUDIT_FILTER_MASK: u32 = 0x07;

/// `AUDIT_PERM_EXEC` (1): an `AUDIT_PERM` bit, execute.
pub const AUDIT_PERM_EXEC: u32 = 1;
/// `AUDIT_PERM_WRITE` (2): an `AUDIT_PERM` bit, write.
pub const AUDIT_PERM_WRITE: u32 = 2;
/// `AUDIT_PERM_READ` (4): an `AUDIT_PERM` bit, read.
pub const AUDIT_PERM_READ: u32 = 4;
/// `AUDIT_PERM_ATTR` (8): an `AUDIT_PERM` bit, attribute change.
pub const AUDIT_PERM_ATTR: u32 = 8;
/// Every `AUDIT_PERM_*` bit: what a watch without `-p` audits.
pub const AUDIT_PERM_ALL: u32 =
    AUDIT_PERM_READ | AUDIT_PERM_WRITE | AUDIT_PERM_EXEC | AUDIT_PERM_ATTR;

/// Rule actions (`AUDIT_NEVER`, `AUDIT_POSSIBLE`, `AUDIT_ALWAYS`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Action(pub u32);

impl Action {
    /// `AUDIT_NEVER` (0).
    pub const NEVER: Action = Action(0);
    /// `AUDIT_POSSIBLE` (1): deprecated, refused by the kernel.
    pub const POSSIBLE: Action = Action(1);
    /// `AUDIT_ALWAYS` (2).
    pub const ALWAYS: Action = Action(2);
}

/// How a field's value travels in `struct audit_rule_data`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValueKind {
    /// The value is the u32 in `values[i]`.
    Num,
    /// `values[i]` is a length and the bytes follow in `buf`, in field order.
    Str,
}

/// A rule field type (`AUDIT_PID`, `AUDIT_EXE`, ...). Open: unknown numbers are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldType(pub u32);

/// One row of the field table.
#[derive(Debug)]
pub struct FieldInfo {
    /// The field.
    pub field: FieldType,
    /// The C name, e.g. `AUDIT_EXE`.
    pub c_name: &'static str,
    /// How the value is carried on the wire.
    pub kind: ValueKind,
}

macro_rules! field_types {
    ($($name:ident = $val:expr, $kind:ident;)*) => {
        impl FieldType {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($val), ").")]
                pub const $name: FieldType = FieldType($val);
            )*
        }
        /// Every field type the kernel knows, in number order.
        pub static FIELD_TABLE: &[FieldInfo] = &[
            $(FieldInfo { field: FieldType($val), c_name: stringify!($name), kind: ValueKind::$kind },)*
        ];
    };
}

field_types! {
    AUDIT_PID = 0, Num;
    AUDIT_UID = 1, Num;
    AUDIT_EUID = 2, Num;
    AUDIT_SUID = 3, Num;
    AUDIT_FSUID = 4, Num;
    AUDIT_GID = 5, Num;
    AUDIT_EGID = 6, Num;
    AUDIT_SGID = 7, Num;
    AUDIT_FSGID = 8, Num;
    AUDIT_LOGINUID = 9, Num;
    AUDIT_PERS = 10, Num;
    AUDIT_ARCH = 11, Num;
    AUDIT_MSGTYPE = 12, Num;
    AUDIT_SUBJ_USER = 13, Str;
    AUDIT_SUBJ_ROLE = 14, Str;
    AUDIT_SUBJ_TYPE = 15, Str;
    AUDIT_SUBJ_SEN = 16, Str;
    AUDIT_SUBJ_CLR = 17, Str;
    AUDIT_PPID = 18, Num;
    AUDIT_OBJ_USER = 19, Str;
    AUDIT_OBJ_ROLE = 20, Str;
    AUDIT_OBJ_TYPE = 21, Str;
    AUDIT_OBJ_LEV_LOW = 22, Str;
    AUDIT_OBJ_LEV_HIGH = 23, Str;
    AUDIT_LOGINUID_SET = 24, Num;
    AUDIT_SESSIONID = 25, Num;
    AUDIT_FSTYPE = 26, Num;
    AUDIT_DEVMAJOR = 100, Num;
    AUDIT_DEVMINOR = 101, Num;
    AUDIT_INODE = 102, Num;
    AUDIT_EXIT = 103, Num;
    AUDIT_SUCCESS = 104, Num;
    AUDIT_WATCH = 105, Str;
    AUDIT_PERM = 106, Num;
    AUDIT_DIR = 107, Str;
    AUDIT_FILETYPE = 108, Num;
    AUDIT_OBJ_UID = 109, Num;
    AUDIT_OBJ_GID = 110, Num;
    AUDIT_FIELD_COMPARE = 111, Num;
    AUDIT_EXE = 112, Str;
    AUDIT_SADDR_FAM = 113, Num;
    AUDIT_ARG0 = 200, Num;
    AUDIT_ARG1 = 201, Num;
    AUDIT_ARG2 = 202, Num;
    AUDIT_ARG3 = 203, Num;
    AUDIT_FILTERKEY = 210, Str;
}

impl FieldType {
    /// This field's table row, if the kernel knows it.
    pub fn info(self) -> Option<&'static FieldInfo> {
        FIELD_TABLE.iter().find(|i| i.field == self)
    }

    /// How the value travels. Unknown fields are numbers: the kernel only packs strings for
    /// the types `audit_krule_to_data` lists, all of which are in the table.
    pub fn kind(self) -> ValueKind {
        self.info().map_or(ValueKind::Num, |i| i.kind)
    }
}

impl fmt::Debug for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            Some(i) => write!(f, "{}", i.c_name),
            None => write!(f, "FieldType({})", self.0),
        }
    }
}

/// A field operator as the kernel encodes it in `fieldflags[i]` (`AUDIT_EQUAL`, ...).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Operator(pub u32);

/// One row of the operator table: the kernel encoding and auditctl's symbol.
#[derive(Debug)]
pub struct OperatorInfo {
    /// The operator.
    pub op: Operator,
    /// The C name.
    pub c_name: &'static str,
    /// The symbol auditctl reads and prints.
    pub symbol: &'static str,
}

macro_rules! operators {
    ($($name:ident = $val:expr, $sym:expr;)*) => {
        impl Operator {
            $(
                #[doc = concat!("`", stringify!($name), "` (`", $sym, "`).")]
                pub const $name: Operator = Operator($val);
            )*
        }
        /// Every operator, in auditctl's parse precedence (two-character symbols first).
        pub static OPERATOR_TABLE: &[OperatorInfo] = &[
            $(OperatorInfo { op: Operator($val), c_name: stringify!($name), symbol: $sym },)*
        ];
    };
}

operators! {
    AUDIT_NOT_EQUAL = 0x3000_0000, "!=";
    AUDIT_GREATER_THAN_OR_EQUAL = 0x6000_0000, ">=";
    AUDIT_LESS_THAN_OR_EQUAL = 0x5000_0000, "<=";
    AUDIT_BIT_TEST = 0x4800_0000, "&=";
    AUDIT_EQUAL = 0x4000_0000, "=";
    AUDIT_GREATER_THAN = 0x2000_0000, ">";
    AUDIT_LESS_THAN = 0x1000_0000, "<";
    AUDIT_BIT_MASK = 0x0800_0000, "&";
}

impl Operator {
    /// auditctl's symbol for a known operator.
    pub fn symbol(self) -> Option<&'static str> {
        OPERATOR_TABLE.iter().find(|o| o.op == self).map(|o| o.symbol)
    }
}

/// `AUDIT_STATUS_*` bits of `audit_status.mask`: which fields an `AUDIT_SET` changes.
pub mod status_mask {
    /// `AUDIT_STATUS_ENABLED`.
    pub const ENABLED: u32 = 0x0001;
    /// `AUDIT_STATUS_FAILURE`.
    pub const FAILURE: u32 = 0x0002;
    /// `AUDIT_STATUS_PID`.
    pub const PID: u32 = 0x0004;
    /// `AUDIT_STATUS_RATE_LIMIT`.
    pub const RATE_LIMIT: u32 = 0x0008;
    /// `AUDIT_STATUS_BACKLOG_LIMIT`.
    pub const BACKLOG_LIMIT: u32 = 0x0010;
    /// `AUDIT_STATUS_BACKLOG_WAIT_TIME`.
    pub const BACKLOG_WAIT_TIME: u32 = 0x0020;
    /// `AUDIT_STATUS_LOST`: alone, resets the lost counter; the ACK carries the old count.
    pub const LOST: u32 = 0x0040;
    /// `AUDIT_STATUS_BACKLOG_WAIT_TIME_ACTUAL`: alone, resets it; the ACK carries the old value.
    pub const BACKLOG_WAIT_TIME_ACTUAL: u32 = 0x0080;
}

/// `AUDIT_FEATURE_BITMAP_*` bits of `audit_status.feature_bitmap`.
pub mod feature_bitmap {
    /// `AUDIT_FEATURE_BITMAP_BACKLOG_LIMIT`.
    pub const BACKLOG_LIMIT: u32 = 0x01;
    /// `AUDIT_FEATURE_BITMAP_BACKLOG_WAIT_TIME`.
    pub const BACKLOG_WAIT_TIME: u32 = 0x02;
    /// `AUDIT_FEATURE_BITMAP_EXECUTABLE_PATH`: `exe=` rules.
    pub const EXECUTABLE_PATH: u32 = 0x04;
    /// `AUDIT_FEATURE_BITMAP_EXCLUDE_EXTEND`: more fields on the exclude list.
    pub const EXCLUDE_EXTEND: u32 = 0x08;
    /// `AUDIT_FEATURE_BITMAP_SESSIONID_FILTER`.
    pub const SESSIONID_FILTER: u32 = 0x10;
    /// `AUDIT_FEATURE_BITMAP_LOST_RESET`.
    pub const LOST_RESET: u32 = 0x20;
    /// `AUDIT_FEATURE_BITMAP_FILTER_FS`.
    pub const FILTER_FS: u32 = 0x40;
}

/// `AUDIT_FEATURE_LOGINUID_IMMUTABLE`: bit number in `audit_features.features`.
pub const AUDIT_FEATURE_LOGINUID_IMMUTABLE: u32 = 1;
/// `AUDIT_FEATURE_VERSION_1`: the only version of `struct audit_features`.
pub const AUDIT_FEATURE_VERSION: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_data_is_1040_bytes() {
        assert_eq!(AUDIT_RULE_DATA_SIZE, 1040);
    }

    #[test]
    fn field_table_is_sorted_and_unique() {
        assert!(FIELD_TABLE.windows(2).all(|w| w[0].field.0 < w[1].field.0));
    }

    /// Our tables agree with netlink-packet-audit where it has the constant, and own the two
    /// it lacks or gets wrong (AUDIT_SADDR_FAM missing; io_uring's list counted as NR_FILTERS).
    #[test]
    fn agrees_with_netlink_packet_audit() {
        use netlink_packet_audit::constants as npa;
        assert_eq!(FieldType::AUDIT_EXE.0, npa::AUDIT_EXE);
        assert_eq!(FieldType::AUDIT_FILTERKEY.0, npa::AUDIT_FILTERKEY);
        assert_eq!(FieldType::AUDIT_FIELD_COMPARE.0, npa::AUDIT_FIELD_COMPARE);
        assert_eq!(u32::from(MsgType::AUDIT_LIST_RULES.0), u32::from(npa::AUDIT_LIST_RULES));
        assert_eq!(u32::from(MsgType::AUDIT_GET_FEATURE.0), u32::from(npa::AUDIT_GET_FEATURE));
        assert_eq!(Operator::AUDIT_BIT_TEST.0, npa::AUDIT_BIT_TEST);
        assert_eq!(FieldType::AUDIT_SADDR_FAM.kind(), ValueKind::Num);
        assert_eq!(FieldType::AUDIT_EXE.kind(), ValueKind::Str);
        // netlink-packet-audit 0.7 says 7 lists; the kernel's io_uring list is number 7.
        assert_eq!(npa::AUDIT_NR_FILTERS, 7);
        assert_eq!(FilterList::URING_EXIT.0, 7);
    }
}
