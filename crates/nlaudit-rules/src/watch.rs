//! What a rule audits on a path: the semantic view the CIS Docker checks need (a watch
//! `-w PATH`, or `-a always,exit ... -F path=/dir=` with perms), independent of how
//! auditctl renders it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;

use nlaudit_proto::consts::{Action, FieldType as F, FilterList, Operator};
use nlaudit_proto::{FieldValue, RuleData};

/// A rule's effect on one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathAudit {
    /// The watched path, byte for byte as the kernel holds it (Linux paths need not be
    /// UTF-8).
    pub path: PathBuf,
    /// `true` for `dir=` (a tree), `false` for `path=`/watch on one inode.
    pub tree: bool,
    /// `AUDIT_PERM` bits (r=4 w=2 x=1 a=8); 0 when the rule has no perm field (every access).
    pub perms: u32,
    /// `always` on the exit list: the rule records. (`never` rules record nothing.)
    pub records: bool,
    /// The rule has other fields that narrow it (uid, auid, arch, ...).
    pub narrowed: bool,
    /// The rule does not cover every syscall.
    pub syscall_subset: bool,
    /// Its keys (lossily decoded when not UTF-8).
    pub keys: Vec<String>,
}

/// The path this rule audits, if it audits one (`=` on path/dir).
pub fn path_audit(r: &RuleData) -> Option<PathAudit> {
    let mut path = None;
    let mut tree = false;
    let mut perms = 0;
    let mut narrowed = false;
    for f in &r.fields {
        match (&f.field, &f.value) {
            (&F::AUDIT_WATCH, FieldValue::Str(s)) | (&F::AUDIT_DIR, FieldValue::Str(s))
                if f.op == Operator::AUDIT_EQUAL =>
            {
                tree = f.field == F::AUDIT_DIR;
                path = Some(PathBuf::from(OsStr::from_bytes(s)));
            }
            (&F::AUDIT_PERM, FieldValue::Num(n)) => perms |= n,
            (&F::AUDIT_FILTERKEY, FieldValue::Str(_)) => {}
            _ => narrowed = true,
        }
    }
    Some(PathAudit {
        path: path?,
        tree,
        perms,
        records: r.action() == Action::ALWAYS && r.masked_list() == FilterList::EXIT,
        narrowed,
        syscall_subset: !r.all_syscalls(),
        keys: r.keys().map(|k| String::from_utf8_lossy(k).into_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nlaudit_proto::consts::AUDIT_PERM_ALL;
    use nlaudit_proto::FieldData;

    fn watch(path: &[u8], dir: F) -> RuleData {
        let field = |field, value| FieldData { field, op: Operator::AUDIT_EQUAL, value };
        RuleData {
            flags: FilterList::EXIT.0,
            action: Action::ALWAYS.0,
            fields: vec![
                field(dir, FieldValue::Str(path.to_vec())),
                field(F::AUDIT_PERM, FieldValue::Num(AUDIT_PERM_ALL)),
                field(F::AUDIT_FILTERKEY, FieldValue::Str(b"a\x01b".to_vec())),
            ],
            mask: [u32::MAX; 64],
        }
    }

    /// A path that is not UTF-8 (Latin-1 `é`) comes out byte for byte, not as U+FFFD.
    #[test]
    fn a_non_utf8_path_survives() {
        let bytes = b"/etc/caf\xe9";
        let pa = path_audit(&watch(bytes, F::AUDIT_WATCH)).expect("a path rule");
        assert_eq!(pa.path.as_os_str().as_bytes(), bytes);
        assert!(!pa.tree);
        assert_eq!(pa.keys, ["a", "b"]);
        assert!(pa.records && !pa.narrowed && !pa.syscall_subset);
        assert_eq!(pa.perms, AUDIT_PERM_ALL);
    }

    #[test]
    fn dir_is_a_tree_and_never_records_nothing() {
        let mut r = watch(b"/var/lib/docker", F::AUDIT_DIR);
        assert!(path_audit(&r).expect("a path rule").tree);
        r.action = Action::NEVER.0;
        assert!(!path_audit(&r).expect("a path rule").records);
        r.fields.remove(0);
        assert_eq!(path_audit(&r), None);
    }
}
