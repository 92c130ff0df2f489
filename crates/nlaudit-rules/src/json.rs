//! The JSON form of a kernel rule: everything the kernel holds, where auditctl's text loses
//! information (a `never` rule shown as a watch, the operator of path/key/exe fields, the
//! prepend flag of a rule about to be sent, unknown field numbers, syscall numbers).

use nlaudit_proto::consts::{FieldType as F, AUDIT_FILTER_MASK};
use nlaudit_proto::{FieldValue, RuleData};
use serde_json::{json, Value};

use crate::render::{is_watch, perm_letters, Renderer};
use crate::tables::{self, Machine};

/// The JSON object for one rule. `text` is auditctl's rendering of it.
pub fn rule_json(r: &RuleData, text: &str, host: Machine) -> Value {
    let arch =
        r.fields.iter().rev().find(|f| f.field == F::AUDIT_ARCH).and_then(|f| match f.value {
            FieldValue::Num(n) => Some(n),
            FieldValue::Str(_) => None,
        });
    let machine = arch.and_then(Machine::from_elf).unwrap_or(host);
    let all = r.all_syscalls();
    let syscalls: Vec<Value> = if all {
        Vec::new()
    } else {
        (0..2048u32)
            .filter(|nr| r.mask[(nr / 32) as usize] & (1 << (nr % 32)) != 0)
            .map(|nr| json!({"number": nr, "name": machine.syscall_name(nr)}))
            .collect()
    };
    let fields: Vec<Value> =
        r.fields.iter().map(|f| field_json(f.field, f.op.0, &f.value)).collect();
    let keys: Vec<String> = r.keys().map(|k| String::from_utf8_lossy(k).into_owned()).collect();
    let list = r.flags & AUDIT_FILTER_MASK;
    json!({
        "text": text,
        "list": tables::list_name(list).map_or(Value::from(list), Value::from),
        "list_number": list,
        "prepend": r.prepend(),
        "action": tables::action_name(r.action).map_or(Value::from(r.action), Value::from),
        "shown_as_watch": is_watch(r),
        "arch": arch.map(|a| json!({"elf": a, "machine": Machine::from_elf(a).and_then(Machine::name)})),
        "all_syscalls": all,
        "syscalls": syscalls,
        "syscall_table": machine.name(),
        "fields": fields,
        "keys": keys,
    })
}

fn field_json(field: F, op: u32, v: &FieldValue) -> Value {
    let name = tables::field_name(field.0);
    let op = tables::operator_symbol(op).map_or(Value::from(op), Value::from);
    let value = match v {
        FieldValue::Str(s) => match std::str::from_utf8(s) {
            Ok(t) => json!(t),
            Err(_) => json!({"hex": s.iter().map(|b| format!("{b:02x}")).collect::<String>()}),
        },
        FieldValue::Num(n) => json!(n),
    };
    let mut o = json!({"field": name, "field_number": field.0, "op": op, "value": value});
    let n = match v {
        FieldValue::Num(n) => *n,
        FieldValue::Str(_) => return o,
    };
    let extra = match field {
        F::AUDIT_PERM => Some(json!(perm_letters(n))),
        F::AUDIT_EXIT => Some(json!(n as i32)),
        F::AUDIT_MSGTYPE => tables::msgtype_name(n).map(|s| json!(s)),
        F::AUDIT_FILETYPE => tables::filetype_name(n).map(|s| json!(s)),
        F::AUDIT_FSTYPE => tables::fstype_name(n).map(|s| json!(s)),
        F::AUDIT_FIELD_COMPARE => tables::compare_fields(n).map(|(l, r)| json!([l, r])),
        F::AUDIT_LOGINUID
        | F::AUDIT_UID
        | F::AUDIT_EUID
        | F::AUDIT_SUID
        | F::AUDIT_FSUID
        | F::AUDIT_OBJ_UID
        | F::AUDIT_SESSIONID
            if n == u32::MAX =>
        {
            Some(json!("unset"))
        }
        _ => None,
    };
    if let (Some(e), Some(obj)) = (extra, o.as_object_mut()) {
        obj.insert("meaning".into(), e);
    }
    o
}

/// The JSON array for a listing: one object per rule, texts rendered as auditctl would.
pub fn listing_json(rules: &[RuleData], host: Machine) -> Value {
    let mut r = Renderer::new(host);
    Value::Array(rules.iter().map(|x| rule_json(x, &r.rule(x), host)).collect())
}
