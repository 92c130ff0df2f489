//! What a rule audits on a path: the semantic view the CIS Docker checks need (a watch
//! `-w PATH`, or `-a always,exit ... -F path=/dir=` with perms), independent of how
//! auditctl renders it.

use nlaudit_proto::consts::{FieldType as F, FilterList, Operator};
use nlaudit_proto::{FieldValue, RuleData};

/// A rule's effect on one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathAudit {
    /// The watched path (as the kernel holds it).
    pub path: String,
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
    /// Its keys.
    pub keys: Vec<String>,
}

/// The path this rule audits, if it audits one (`=` on path/dir).
pub fn path_audit(r: &RuleData) -> Option<PathAudit> {
    let mut path = None;
    let mut tree = false;
    let mut perms = 0;
    let mut narrowed = false;
    let mut keys = Vec::new();
    for f in &r.fields {
        match (&f.field, &f.value) {
            (&F::AUDIT_WATCH, FieldValue::Str(s)) | (&F::AUDIT_DIR, FieldValue::Str(s))
                if f.op == Operator::AUDIT_EQUAL =>
            {
                tree = f.field == F::AUDIT_DIR;
                path = Some(String::from_utf8_lossy(s).into_owned());
            }
            (&F::AUDIT_PERM, FieldValue::Num(n)) => perms |= n,
            (&F::AUDIT_FILTERKEY, FieldValue::Str(s)) => keys.extend(
                s.split(|b| *b == 1)
                    .filter(|k| !k.is_empty())
                    .map(|k| String::from_utf8_lossy(k).into_owned()),
            ),
            _ => narrowed = true,
        }
    }
    Some(PathAudit {
        path: path?,
        tree,
        perms,
        records: r.action == 2 && r.flags & 0x07 == FilterList::EXIT.0,
        narrowed,
        syscall_subset: !r.mask[..63].iter().all(|w| *w == u32::MAX),
        keys,
    })
}
