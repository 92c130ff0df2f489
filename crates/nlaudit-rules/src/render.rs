//! Rendering kernel rules as `auditctl -l` prints them (auditctl 3.0.9
//! `src/auditctl-listing.c` `print_rule`): the dual of [`crate::parse`].
//!
//! Rendering a list is stateful, as in auditctl: the syscall table used for a rule without an
//! `arch` field is that of the last `arch` printed by an earlier rule of the same listing (the
//! global `_audit_elf`), else the listing machine's. [`Renderer`] keeps that state.

use std::fmt::Write as _;

use nlaudit_proto::consts::AUDIT_FEATURE_LOGINUID_IMMUTABLE;
use nlaudit_proto::consts::{
    FieldType as F, FilterList, AUDIT_PERM_ATTR, AUDIT_PERM_EXEC, AUDIT_PERM_READ, AUDIT_PERM_WRITE,
};
use nlaudit_proto::{split_keys, Features, FieldData, FieldValue, RuleData, Status};

use crate::tables::{Machine, Tables, AUDIT_ARCH_64BIT};
use crate::Generation;

/// `AUDIT_OPERATORS`: operator bits that legacy kernels kept in the field word.
const AUDIT_OPERATORS: u32 = 0x7800_0000;

/// How values are printed: `auditctl -l` or `auditctl -l -i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// `-l`: numbers as auditctl prints them (`b64`, `-1`).
    #[default]
    Plain,
    /// `-l -i`: machine names for arch, `unset` for -1 ids.
    Interpreted,
}

/// Renders rules one after another, like one `auditctl -l` run.
///
/// Text is appended to one buffer with `push_str` and hand-written number formatting, not
/// `write!`: a listing of thousands of rules spent a third of its instructions in
/// `core::fmt` (callgrind, issue 20). The output is byte for byte what `write!` made (the
/// golden and conformance tests hold it to auditctl's).
#[derive(Debug, Clone)]
pub struct Renderer {
    host: Machine,
    elf: u32,
    /// The last `AUDIT_ARCH_*` value looked up and its machine: rules of a listing mostly
    /// share one arch, and the lookup goes by name through the machine tables.
    elf_machine: Option<(u32, Option<Machine>)>,
    interpret: bool,
    generation: Generation,
}

impl Renderer {
    /// A renderer for a listing made on `host` (auditctl: `uname -m`), as auditctl 3.0.9.
    pub fn new(host: Machine) -> Self {
        Renderer { host, elf: 0, elf_machine: None, interpret: false, generation: Generation::V3 }
    }

    /// The reference [`Generation`] whose `auditctl -l` to reproduce (default 3).
    pub fn generation(mut self, generation: Generation) -> Self {
        self.generation = generation;
        self.elf_machine = None;
        self
    }

    fn t(&self) -> &'static Tables {
        Tables::of(self.generation)
    }

    /// The machine of an `AUDIT_ARCH_*` value, remembered for the next rule.
    fn machine_of(&mut self, elf: u32) -> Option<Machine> {
        match self.elf_machine {
            Some((e, m)) if e == elf => m,
            _ => {
                let m = self.t().machine_from_elf(elf);
                self.elf_machine = Some((elf, m));
                m
            }
        }
    }

    /// The [`Style`] of values (default [`Style::Plain`]).
    pub fn style(mut self, style: Style) -> Self {
        self.interpret = style == Style::Interpreted;
        self
    }

    /// Renders one rule (without the newline).
    pub fn rule(&mut self, r: &RuleData) -> String {
        let mut out = String::with_capacity(128);
        self.rule_into(&mut out, r);
        out
    }

    /// Renders one rule (without the newline) at the end of `out`: a listing of thousands
    /// of rules grows one buffer instead of building and copying a string per rule.
    pub fn rule_into(&mut self, out: &mut String, r: &RuleData) {
        let watch = is_watch(r);
        let list = r.masked_list().0;
        if !watch {
            let t = self.t();
            out.push_str("-a ");
            out.push_str(t.action_name(r.action).unwrap_or("(null)"));
            out.push(',');
            out.push_str(t.list_name(r.flags).unwrap_or("(null)"));
            for f in &r.fields {
                if f.field.0 & !AUDIT_OPERATORS == F::AUDIT_ARCH.0 {
                    self.arch(out, num(&f.value), sym(f.op.0));
                }
            }
            self.syscalls(out, r, list);
        }
        for f in &r.fields {
            let field = f.field.0 & !AUDIT_OPERATORS;
            if field == F::AUDIT_ARCH.0 {
                continue;
            }
            self.field(out, f, field, watch);
        }
    }

    /// One field other than `arch`: ` -F name<op>value` (or `-w`, `-k`, `-p`, `-C`).
    fn field(&self, out: &mut String, f: &FieldData, field: u32, watch: bool) {
        let op = sym(f.op.0);
        // 4.x prints the operator of path, dir and exe (3.0.9 always printed `=`).
        let str_op = if self.generation == Generation::V3 { "=" } else { op };
        let v = num(&f.value);
        let t = self.t();
        let Some(name) = t.field_name(field) else {
            out.push_str(" f");
            push_u32(out, f.field.0);
            out.push_str(op);
            push_i32(out, v as i32);
            return;
        };
        // ` -F name<op>`, the start of most fields.
        let named = |out: &mut String| {
            out.push_str(" -F ");
            out.push_str(name);
            out.push_str(op);
        };
        match F(field) {
            F::AUDIT_MSGTYPE => {
                named(out);
                match t.msgtype_name(v) {
                    Some(n) => out.push_str(n),
                    None => push_i32(out, v as i32),
                }
            }
            F::AUDIT_WATCH | F::AUDIT_DIR if watch => {
                out.push_str("-w ");
                push_text(out, &f.value);
            }
            F::AUDIT_WATCH | F::AUDIT_DIR | F::AUDIT_EXE => {
                out.push_str(match F(field) {
                    F::AUDIT_WATCH => " -F path",
                    F::AUDIT_DIR => " -F dir",
                    _ => " -F exe",
                });
                out.push_str(str_op);
                push_text(out, &f.value);
            }
            F::AUDIT_FILTERKEY => {
                for k in split_keys(until_nul(&f.value)) {
                    out.push_str(if watch { " -k " } else { " -F key=" });
                    push_lossy(out, k);
                }
            }
            F::AUDIT_PERM => {
                out.push_str(if watch { " -p " } else { " -F perm=" });
                for (c, bit) in PERM_LETTERS {
                    if v & bit != 0 {
                        out.push(c);
                    }
                }
            }
            F::AUDIT_INODE => {
                named(out);
                push_u32(out, v);
            }
            F::AUDIT_FIELD_COMPARE => {
                if let Some((l, r)) = t.compare_fields(v) {
                    out.push_str(" -C ");
                    out.push_str(l);
                    out.push_str(op);
                    out.push_str(r);
                }
            }
            F::AUDIT_ARG0 | F::AUDIT_ARG1 | F::AUDIT_ARG2 | F::AUDIT_ARG3 => {
                // auditctl -l -i interprets a0..a3 through auparse only for a single
                // syscall; nlaudit always prints hex, as plain -l does.
                named(out);
                push_hex(out, v);
            }
            F::AUDIT_EXIT => {
                named(out);
                let e = v as i32;
                match t.errno_name(e.unsigned_abs()) {
                    Some(n) if e < 0 => {
                        out.push('-');
                        out.push_str(n);
                    }
                    _ => push_i32(out, e),
                }
            }
            F::AUDIT_FSTYPE => {
                named(out);
                match t.fstype_name(v) {
                    Some(n) => out.push_str(n),
                    None => push_i32(out, v as i32),
                }
            }
            F::AUDIT_LOGINUID | F::AUDIT_SESSIONID if v == u32::MAX && self.interpret => {
                named(out);
                out.push_str("unset");
            }
            kind if is_string_field(kind) => {
                named(out);
                push_text(out, &f.value);
            }
            _ => {
                named(out);
                push_i32(out, v as i32);
            }
        }
    }

    fn arch(&mut self, out: &mut String, value: u32, op: &str) {
        self.elf = value;
        let machine = self.machine_of(value);
        out.push_str(" -F arch");
        out.push_str(op);
        match machine {
            None => push_hex(out, value),
            Some(m) if self.interpret => out.push_str(self.t().machine_name(m).unwrap_or("")),
            Some(_) if value & AUDIT_ARCH_64BIT != 0 => out.push_str("b64"),
            Some(_) => out.push_str("b32"),
        }
    }

    fn syscalls(&mut self, out: &mut String, r: &RuleData, list: u32) {
        if [FilterList::USER.0, FilterList::TASK.0, FilterList::EXCLUDE.0, FilterList::FS.0]
            .contains(&list)
        {
            return;
        }
        let t = self.t();
        let last = t.ioring_op_last();
        if list == FilterList::URING_EXIT.0 && last > 0 {
            self.uring_ops(out, r, last);
            return;
        }
        if r.all_syscalls() {
            out.push_str(" -S all");
            return;
        }
        let machine = if self.elf != 0 { self.machine_of(self.elf) } else { Some(self.host) };
        let table = machine.map(|m| (m, t));
        let mut count = 0;
        // Walk set bits word by word: most words of a syscall rule are zero.
        for (w, &word) in r.mask.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let nr = w * 32 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                out.push_str(if count == 0 { " -S " } else { "," });
                match table.and_then(|(m, t)| t.syscall_name(m, nr as u32)) {
                    Some(n) => out.push_str(n),
                    None => push_u32(out, nr as u32),
                }
                count += 1;
            }
        }
    }
}

/// `v` in decimal, as `{}` prints a `u32`.
fn push_u32(out: &mut String, v: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut n = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// `v` in decimal, as `{}` prints an `i32`.
fn push_i32(out: &mut String, v: i32) {
    if v < 0 {
        out.push('-');
    }
    push_u32(out, v.unsigned_abs());
}

/// `0x` and `v` in upper-case hex, as `0x{:X}` prints it.
fn push_hex(out: &mut String, v: u32) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 8];
    let mut i = buf.len();
    let mut n = v;
    loop {
        i -= 1;
        buf[i] = DIGITS[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.push_str("0x");
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// Bytes as `String::from_utf8_lossy` shows them.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// A value as C's `%.*s` prints it (up to the first NUL), a number in decimal.
fn push_text(out: &mut String, v: &FieldValue) {
    match v {
        FieldValue::Str(_) => push_lossy(out, until_nul(v)),
        FieldValue::Num(n) => push_u32(out, *n),
    }
}

impl Renderer {
    /// The io_uring list's `-S` (4.x auditctl-listing.c): `all` when the first `last` mask
    /// *words* are all set (its loop bound is `IORING_OP_LAST`, counted in words), else each
    /// operation below `last` by name or number.
    fn uring_ops(&self, out: &mut String, r: &RuleData, last: u32) {
        if r.mask.iter().take(last as usize).all(|&w| w == u32::MAX) {
            out.push_str(" -S all");
            return;
        }
        let mut count = 0;
        for op in 0..last {
            let word = r.mask.get((op / 32) as usize).copied().unwrap_or(0);
            if word & (1 << (op % 32)) == 0 {
                continue;
            }
            out.push_str(if count == 0 { " -S " } else { "," });
            match self.t().uringop_name(op) {
                Some(n) => out.push_str(n),
                None => push_u32(out, op),
            }
            count += 1;
        }
    }
}

/// auditctl's `is_watch`: only perm/key/dir/path fields, a perm field, and (on lists that
/// take syscalls) mask words 0..=62 all set. Action and list are deliberately not checked
/// (so a `never` rule renders as a watch: the JSON form keeps the truth).
pub fn is_watch(r: &RuleData) -> bool {
    let mut perm = false;
    for f in &r.fields {
        let field = F(f.field.0 & !AUDIT_OPERATORS);
        if field == F::AUDIT_PERM {
            perm = true;
        }
        if ![F::AUDIT_PERM, F::AUDIT_FILTERKEY, F::AUDIT_DIR, F::AUDIT_WATCH].contains(&field) {
            return false;
        }
    }
    let list = r.masked_list().0;
    let all = [FilterList::USER.0, FilterList::TASK.0, FilterList::EXCLUDE.0, FilterList::FS.0]
        .contains(&list)
        || r.all_syscalls();
    perm && all
}

/// auditctl's perm letters (`-p rwxa`, `-F perm=`) and their `AUDIT_PERM_*` bits, in the
/// order they are printed.
pub const PERM_LETTERS: [(char, u32); 4] = [
    ('r', AUDIT_PERM_READ),
    ('w', AUDIT_PERM_WRITE),
    ('x', AUDIT_PERM_EXEC),
    ('a', AUDIT_PERM_ATTR),
];

/// `rwxa` letters of a perm value, in that order.
pub fn perm_letters(v: u32) -> String {
    PERM_LETTERS.iter().filter(|(_, bit)| v & bit != 0).map(|(c, _)| *c).collect()
}

fn is_string_field(f: F) -> bool {
    (F::AUDIT_SUBJ_USER.0..=F::AUDIT_OBJ_LEV_HIGH.0).contains(&f.0) && f != F::AUDIT_PPID
}

fn sym(op: u32) -> &'static str {
    crate::tables::operator_symbol(op & AUDIT_OPERATORS).unwrap_or("(null)")
}

fn num(v: &FieldValue) -> u32 {
    match v {
        FieldValue::Num(n) => *n,
        FieldValue::Str(s) => s.len() as u32,
    }
}

/// A string value's bytes up to the first NUL (C's `%.*s`); none for a number.
fn until_nul(v: &FieldValue) -> &[u8] {
    match v {
        FieldValue::Str(s) => s.split(|b| *b == 0).next().unwrap_or_default(),
        FieldValue::Num(_) => &[],
    }
}

/// Renders a whole listing as `auditctl -l [-k KEY]` prints it: the rules whose key
/// contains `key` (substring, as auditctl), one per line; `No rules` when the kernel has
/// none; nothing when rules exist but none matches the key.
pub fn render_listing(rules: &[RuleData], key: Option<&str>, host: Machine) -> String {
    render_listing_as(rules, key, host, Generation::V3)
}

/// [`render_listing`] as a given generation's auditctl prints it.
pub fn render_listing_as(
    rules: &[RuleData],
    key: Option<&str>,
    host: Machine,
    generation: Generation,
) -> String {
    let mut listing = Listing::new(key, host).generation(generation);
    listing.reserve(rules.len());
    for rule in rules {
        listing.push(rule);
    }
    listing.finish()
}

/// [`render_listing`] one rule at a time, for rules as they arrive from the kernel.
#[derive(Debug, Clone)]
pub struct Listing {
    renderer: Renderer,
    key: Option<String>,
    out: String,
    rules: usize,
}

impl Listing {
    /// An empty listing of the rules whose key contains `key` (all when `None`).
    pub fn new(key: Option<&str>, host: Machine) -> Self {
        let key = key.map(str::to_string);
        Listing { renderer: Renderer::new(host), key, out: String::new(), rules: 0 }
    }

    /// The listing as `generation`'s auditctl prints it.
    pub fn generation(mut self, generation: Generation) -> Self {
        self.renderer = self.renderer.generation(generation);
        self
    }

    /// Makes room for `rules` more rules (about 100 bytes each; 5000 make 480 KB).
    pub fn reserve(&mut self, rules: usize) {
        self.out.reserve(rules.saturating_mul(128));
    }

    /// Adds one rule (or nothing, when its key does not match).
    pub fn push(&mut self, rule: &RuleData) {
        self.rules += 1;
        if key_matches(rule, self.key.as_deref()) {
            self.renderer.rule_into(&mut self.out, rule);
            self.out.push('\n');
        }
    }

    /// The text: `No rules` when no rule was pushed at all.
    pub fn finish(self) -> String {
        if self.rules == 0 {
            return "No rules\n".to_string();
        }
        self.out
    }
}

/// auditctl's `key_match`: the rule's key field contains `key` as a substring.
pub fn key_matches(r: &RuleData, key: Option<&str>) -> bool {
    let Some(key) = key.filter(|k| !k.is_empty()) else { return true };
    r.fields.iter().any(|f| {
        f.field == F::AUDIT_FILTERKEY
            && matches!(&f.value, FieldValue::Str(s) if String::from_utf8_lossy(s).contains(key))
    })
}

/// `auditctl -s`'s status block (audit-userspace `audit_print_reply`, AUDIT_GET): one
/// `name value` per line; `backlog_wait_time` always (auditctl prints its struct field,
/// 0 when the kernel sent none), `backlog_wait_time_actual` only when the kernel sent the
/// full structure. [`Style::Interpreted`] (`-s -i`) words `enabled` and `failure`. The one
/// implementation for `nlaudit status`, a rules file's `-s` line and the drop-in.
pub fn status_text(s: &Status, style: Style) -> String {
    let mut t = match style {
        Style::Interpreted => {
            let enabled = match s.enabled.raw() {
                0 => "disable",
                1 => "enabled",
                2 => "enabled+immutable",
                _ => "unknown",
            };
            let failure = match s.failure {
                0 => "silent",
                1 => "printk",
                2 => "panic",
                _ => "unknown",
            };
            format!("enabled {enabled}\nfailure {failure}\n")
        }
        Style::Plain => format!("enabled {}\nfailure {}\n", s.enabled.raw(), s.failure),
    };
    let _ = write!(
        t,
        "pid {}\nrate_limit {}\nbacklog_limit {}\nlost {}\nbacklog {}\nbacklog_wait_time {}\n",
        s.pid,
        s.rate_limit,
        s.backlog_limit,
        s.lost,
        s.backlog,
        s.backlog_wait_time.unwrap_or(0)
    );
    if let Some(w) = s.backlog_wait_time_actual {
        let _ = writeln!(t, "backlog_wait_time_actual {w}");
    }
    t
}

/// What `auditctl -s` prints: the status block, then the loginuid line when
/// AUDIT_GET_FEATURE answered (`features`).
pub fn status_listing(s: &Status, features: Option<&Features>) -> String {
    let mut t = status_text(s, Style::Plain);
    if let Some(f) = features {
        t += &loginuid_text(f);
    }
    t
}

/// The `loginuid_immutable ON LOCKED` line auditctl prints from AUDIT_GET_FEATURE.
pub fn loginuid_text(f: &Features) -> String {
    let bit = AUDIT_FEATURE_LOGINUID_IMMUTABLE;
    format!(
        "loginuid_immutable {} {}\n",
        u32::from(f.is_on(bit)),
        if f.is_locked(bit) { "locked" } else { "unlocked" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_fmt_prints_them() {
        let mut cases = vec![0u32, 1, 9, 10, 99, 100, 4095, 65535, 1 << 31, u32::MAX - 1, u32::MAX];
        cases.extend((0..32).map(|b| 1u32 << b).chain((0..10).map(|e| 10u32.pow(e))));
        for v in cases {
            let check = |push: fn(&mut String, u32), expect: String| {
                let mut out = String::from("x");
                push(&mut out, v);
                assert_eq!(out, format!("x{expect}"), "{v}");
            };
            check(push_u32, v.to_string());
            check(|o, v| push_i32(o, v as i32), (v as i32).to_string());
            check(push_hex, format!("0x{v:X}"));
        }
        let mut out = String::new();
        push_lossy(&mut out, b"ok\xffz");
        assert_eq!(out, String::from_utf8_lossy(b"ok\xffz"));
    }

    #[test]
    fn status_block_plain_and_interpreted() {
        let s = Status {
            enabled: nlaudit_proto::AuditEnabled::Enabled,
            failure: 2,
            pid: 7,
            rate_limit: 3,
            backlog_limit: 8192,
            lost: 4,
            backlog: 5,
            backlog_wait_time: Some(60000),
            backlog_wait_time_actual: Some(6),
            ..Status::default()
        };
        assert_eq!(
            status_text(&s, Style::Plain),
            "enabled 1\nfailure 2\npid 7\nrate_limit 3\nbacklog_limit 8192\nlost 4\nbacklog 5\n\
             backlog_wait_time 60000\nbacklog_wait_time_actual 6\n"
        );
        let old = Status {
            backlog_wait_time_actual: None,
            enabled: nlaudit_proto::AuditEnabled::Disabled,
            failure: 0,
            ..s
        };
        assert!(
            status_text(&old, Style::Interpreted).starts_with("enabled disable\nfailure silent\n")
        );
        assert!(!status_text(&old, Style::Interpreted).contains("actual"));
    }
}
