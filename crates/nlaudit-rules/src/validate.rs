//! What the kernel refuses that auditctl lets through (kernel/auditfilter.c
//! `audit_to_entry_common`, `audit_field_valid`, `audit_data_to_entry`; kernel/audit_watch.c
//! `audit_to_watch`; kernel/audit_tree.c `audit_make_tree`; kernel/audit_fsnotify.c
//! `audit_alloc_mark`). auditctl sends these and reports the kernel's bare EINVAL; nlaudit's
//! own commands refuse them before sending, naming the field and the reason. (The auditctl
//! drop-in keeps auditctl's behaviour.) Checked against this kernel by the golden test: the
//! validator refuses every rule of the corpus the kernel refused with EINVAL and none it took
//! (`field_compare` values out of range, for one, are taken by 6.18, so they are not refused).

use nlaudit_proto::consts::{FieldType as F, FilterList, Operator};
use nlaudit_proto::{FieldValue, RuleData};

/// `S_IFMT`.
const S_IFMT: u32 = 0o170000;
/// `AF_MAX` on current kernels.
const AF_MAX: u32 = 46;

/// How the kernel lets a field be compared.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Allowed {
    /// Every operator (syscall arguments, personality, devminor).
    All,
    /// Every operator but `&` and `&=`.
    NoBitOperators,
    /// `=` and `!=` only.
    EqualNotEqual,
}

/// The kernel's operator rule for each known field (`audit_field_valid`).
fn allowed_ops(f: F) -> Option<Allowed> {
    Some(match f {
        F::AUDIT_ARG0
        | F::AUDIT_ARG1
        | F::AUDIT_ARG2
        | F::AUDIT_ARG3
        | F::AUDIT_PERS
        | F::AUDIT_DEVMINOR => Allowed::All,
        F::AUDIT_UID
        | F::AUDIT_EUID
        | F::AUDIT_SUID
        | F::AUDIT_FSUID
        | F::AUDIT_LOGINUID
        | F::AUDIT_OBJ_UID
        | F::AUDIT_GID
        | F::AUDIT_EGID
        | F::AUDIT_SGID
        | F::AUDIT_FSGID
        | F::AUDIT_OBJ_GID
        | F::AUDIT_PID
        | F::AUDIT_MSGTYPE
        | F::AUDIT_PPID
        | F::AUDIT_DEVMAJOR
        | F::AUDIT_EXIT
        | F::AUDIT_SUCCESS
        | F::AUDIT_INODE
        | F::AUDIT_SESSIONID
        | F::AUDIT_SUBJ_SEN
        | F::AUDIT_SUBJ_CLR
        | F::AUDIT_OBJ_LEV_LOW
        | F::AUDIT_OBJ_LEV_HIGH
        | F::AUDIT_SADDR_FAM => Allowed::NoBitOperators,
        F::AUDIT_SUBJ_USER
        | F::AUDIT_SUBJ_ROLE
        | F::AUDIT_SUBJ_TYPE
        | F::AUDIT_OBJ_USER
        | F::AUDIT_OBJ_ROLE
        | F::AUDIT_OBJ_TYPE
        | F::AUDIT_WATCH
        | F::AUDIT_DIR
        | F::AUDIT_FILTERKEY
        | F::AUDIT_LOGINUID_SET
        | F::AUDIT_ARCH
        | F::AUDIT_FSTYPE
        | F::AUDIT_PERM
        | F::AUDIT_FILETYPE
        | F::AUDIT_FIELD_COMPARE
        | F::AUDIT_EXE => Allowed::EqualNotEqual,
        _ => return None,
    })
}

fn is_uid_or_gid(f: F) -> bool {
    matches!(
        f,
        F::AUDIT_UID
            | F::AUDIT_EUID
            | F::AUDIT_SUID
            | F::AUDIT_FSUID
            | F::AUDIT_OBJ_UID
            | F::AUDIT_GID
            | F::AUDIT_EGID
            | F::AUDIT_SGID
            | F::AUDIT_FSGID
            | F::AUDIT_OBJ_GID
    )
}

/// A field's name for a message, formatted only when a message is made.
struct FieldName(F);

impl std::fmt::Display for FieldName {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match crate::tables::field_name(self.0 .0) {
            Some(name) => out.write_str(name),
            None => write!(out, "f{}", self.0 .0),
        }
    }
}

/// Why the kernel would refuse this rule (EINVAL), or `None` if it would take it.
pub fn kernel_refusal(r: &RuleData) -> Option<String> {
    let list = r.list();
    let known_list = [
        FilterList::USER,
        FilterList::TASK,
        FilterList::EXIT,
        FilterList::EXCLUDE,
        FilterList::FS,
        FilterList::URING_EXIT,
    ];
    if !known_list.contains(&list) {
        return Some(format!("filter list {} is not accepted by current kernels", list.0));
    }
    if r.action != 0 && r.action != 2 {
        return Some(format!("action {} is not `never` or `always`", r.action));
    }
    let (mut keys, mut exes, mut paths) = (0, 0, 0);
    for f in &r.fields {
        let n = FieldName(f.field);
        let op = f.op;
        let sym = crate::tables::operator_symbol(op.0).unwrap_or("?");
        let Some(allowed) = allowed_ops(f.field) else {
            return Some(format!("field {n}: the kernel does not know field number {}", f.field.0));
        };
        let bit = op == Operator::AUDIT_BIT_MASK || op == Operator::AUDIT_BIT_TEST;
        let eq = op == Operator::AUDIT_EQUAL || op == Operator::AUDIT_NOT_EQUAL;
        match allowed {
            Allowed::NoBitOperators if bit => {
                return Some(format!(
                    "{n}{sym}: bit operators apply only to a0..a3, pers, devminor"
                ))
            }
            Allowed::EqualNotEqual if !eq => {
                return Some(format!("{n}{sym}: only = and != are allowed"))
            }
            _ => {}
        }
        if list == FilterList::FS && f.field != F::AUDIT_FSTYPE && f.field != F::AUDIT_FILTERKEY {
            return Some(format!("{n}: the filesystem list takes only fstype and key"));
        }
        let num = match f.value {
            FieldValue::Num(v) => Some(v),
            FieldValue::Str(_) => None,
        };
        if is_uid_or_gid(f.field) && num == Some(u32::MAX) {
            return Some(format!(
                "{n}{sym}-1: not a valid id (only auid and sessionid take unset)"
            ));
        }
        match (f.field, num) {
            (F::AUDIT_PERM, Some(v)) if v & !15 != 0 => return Some(format!("perm {v}: not rwxa")),
            (F::AUDIT_FILETYPE, Some(v)) if v & !S_IFMT != 0 => {
                return Some(format!("filetype {v}: not a file type"))
            }
            (F::AUDIT_SADDR_FAM, Some(v)) if v >= AF_MAX => {
                return Some(format!("saddr_fam {v}: not an address family"))
            }
            (F::AUDIT_LOGINUID_SET, Some(v)) if v > 1 => {
                return Some(format!("loginuid_set {v}: must be 0 or 1"))
            }
            _ => {}
        }
        if let FieldValue::Str(s) = &f.value {
            if s.is_empty() {
                return Some(format!("{n}: empty value"));
            }
        }
        match f.field {
            F::AUDIT_FILTERKEY => keys += 1,
            F::AUDIT_EXE => exes += 1,
            F::AUDIT_WATCH | F::AUDIT_DIR | F::AUDIT_INODE => paths += 1,
            _ => {}
        }
        if matches!(f.field, F::AUDIT_WATCH | F::AUDIT_DIR | F::AUDIT_EXE) {
            if let FieldValue::Str(s) = &f.value {
                if !s.starts_with(b"/") {
                    return Some(format!("{n}: the path must be absolute"));
                }
                if f.field != F::AUDIT_DIR && s.len() > 1 && s.ends_with(b"/") {
                    return Some(format!("{n}: the path must not end with /"));
                }
            }
            if f.field != F::AUDIT_EXE && op != Operator::AUDIT_EQUAL {
                return Some(format!("{n}{sym}: a path or dir rule takes only ="));
            }
            if f.field != F::AUDIT_EXE && list != FilterList::EXIT && list != FilterList::URING_EXIT
            {
                return Some(format!("{n}: path and dir rules belong on the exit list"));
            }
        }
    }
    if keys > 1 {
        return Some("more than one key field (give several keys with -k/-F key= instead)".into());
    }
    if exes > 1 {
        return Some("more than one exe field".into());
    }
    if paths > 1 {
        return Some("more than one of path, dir and inode".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_command, Context, Directive, Machine, NoEnv};

    fn refusal(s: &str) -> Option<String> {
        let env = NoEnv;
        let mut ctx = Context::new(&env);
        ctx.machine = Machine::X86_64;
        let args = crate::split_line(s);
        match parse_command(&args, &ctx).expect("auditctl accepts it").pop() {
            Some(Directive::Rule(r)) => kernel_refusal(&r.rule),
            other => panic!("not a rule: {other:?}"),
        }
    }

    #[test]
    fn what_auditctl_sends_but_the_kernel_refuses() {
        for (rule, want) in [
            ("-a always,exit -S open -F uid&=0", "bit operators"),
            ("-a always,exit -S open -F uid=-1", "not a valid id"),
            ("-a always,exit -S open -F key<k", "only = and !="),
            ("-a always,filesystem -F fstype=debugfs -F uid=0", "filesystem list"),
            ("-a always,exit -F path=relative -F perm=w", "absolute"),
            ("-a always,exit -F path=/a -F path=/b", "more than one of path"),
            ("-a always,exit -S open -F exe=/a -F exe=/b", "more than one exe"),
            ("-a always,exit -F path!=/etc -F perm=w", "takes only ="),
        ] {
            let got = refusal(rule).unwrap_or_default();
            assert!(got.contains(want), "{rule}: {got:?}");
        }
    }

    #[test]
    fn ordinary_rules_pass() {
        for rule in [
            "-w /etc/passwd -p wa -k identity",
            "-a always,exit -F arch=b64 -S openat -F auid>=1000 -F auid!=unset -k k",
            "-a always,exit -F arch=b64 -S chmod -F a1&=0x12",
            "-a never,exclude -F msgtype=CWD",
            "-a always,exit -F dir=/etc/ -F perm=wa",
        ] {
            assert_eq!(refusal(rule), None, "{rule}");
        }
    }
}
