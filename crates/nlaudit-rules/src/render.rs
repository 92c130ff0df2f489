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
use nlaudit_proto::{split_keys, Features, FieldValue, RuleData, Status};

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
#[derive(Debug, Clone)]
pub struct Renderer {
    host: Machine,
    elf: u32,
    interpret: bool,
    generation: Generation,
}

impl Renderer {
    /// A renderer for a listing made on `host` (auditctl: `uname -m`), as auditctl 3.0.9.
    pub fn new(host: Machine) -> Self {
        Renderer { host, elf: 0, interpret: false, generation: Generation::V3 }
    }

    /// The reference [`Generation`] whose `auditctl -l` to reproduce (default 3).
    pub fn generation(mut self, generation: Generation) -> Self {
        self.generation = generation;
        self
    }

    fn t(&self) -> &'static Tables {
        Tables::of(self.generation)
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
        let mut syscall_count = 0;
        if !watch {
            let action = self.t().action_name(r.action).unwrap_or("(null)");
            let list_name = self.t().list_name(r.flags).unwrap_or("(null)");
            let _ = write!(out, "-a {action},{list_name}");
            for f in &r.fields {
                if f.field.0 & !AUDIT_OPERATORS == F::AUDIT_ARCH.0 {
                    self.arch(out, num(&f.value), sym(f.op.0));
                }
            }
            syscall_count = self.syscalls(out, r, list);
        }
        for f in &r.fields {
            let field = f.field.0 & !AUDIT_OPERATORS;
            if field == F::AUDIT_ARCH.0 {
                continue;
            }
            let op = sym(f.op.0);
            // 4.x prints the operator of path, dir and exe (3.0.9 always printed `=`).
            let str_op = if self.generation == Generation::V3 { "=" } else { op };
            let v = num(&f.value);
            let s = || text(&f.value);
            let t = self.t();
            let Some(name) = t.field_name(field) else {
                let _ = write!(out, " f{}{op}{}", f.field.0, v as i32);
                continue;
            };
            match F(field) {
                F::AUDIT_MSGTYPE => match t.msgtype_name(v) {
                    Some(n) => write!(out, " -F {name}{op}{n}"),
                    None => write!(out, " -F {name}{op}{}", v as i32),
                },
                F::AUDIT_WATCH | F::AUDIT_DIR if watch => write!(out, "-w {}", s()),
                F::AUDIT_WATCH => write!(out, " -F path{str_op}{}", s()),
                F::AUDIT_DIR => write!(out, " -F dir{str_op}{}", s()),
                F::AUDIT_EXE => write!(out, " -F exe{str_op}{}", s()),
                F::AUDIT_FILTERKEY => {
                    for k in split_keys(until_nul(&f.value)).map(String::from_utf8_lossy) {
                        let _ =
                            if watch { write!(out, " -k {k}") } else { write!(out, " -F key={k}") };
                    }
                    Ok(())
                }
                F::AUDIT_PERM => {
                    let p = perm_letters(v);
                    if watch {
                        write!(out, " -p {p}")
                    } else {
                        write!(out, " -F perm={p}")
                    }
                }
                F::AUDIT_INODE => write!(out, " -F {name}{op}{v}"),
                F::AUDIT_FIELD_COMPARE => match t.compare_fields(v) {
                    Some((l, r)) => write!(out, " -C {l}{op}{r}"),
                    None => Ok(()),
                },
                F::AUDIT_ARG0 | F::AUDIT_ARG1 | F::AUDIT_ARG2 | F::AUDIT_ARG3 => {
                    // auditctl -l -i interprets a0..a3 through auparse only for a single
                    // syscall; nlaudit always prints hex, as plain -l does.
                    let _ = syscall_count;
                    write!(out, " -F {name}{op}0x{v:X}")
                }
                F::AUDIT_EXIT => {
                    let e = v as i32;
                    match t.errno_name(e.unsigned_abs()) {
                        Some(n) if e < 0 => write!(out, " -F {name}{op}-{n}"),
                        _ => write!(out, " -F {name}{op}{e}"),
                    }
                }
                F::AUDIT_FSTYPE => match t.fstype_name(v) {
                    Some(n) => write!(out, " -F {name}{op}{n}"),
                    None => write!(out, " -F {name}{op}{}", v as i32),
                },
                F::AUDIT_LOGINUID | F::AUDIT_SESSIONID if v == u32::MAX && self.interpret => {
                    write!(out, " -F {name}{op}unset")
                }
                f if is_string_field(f) => write!(out, " -F {name}{op}{}", s()),
                _ => write!(out, " -F {name}{op}{}", v as i32),
            }
            .ok();
        }
    }

    fn arch(&mut self, out: &mut String, value: u32, op: &str) {
        self.elf = value;
        let t = self.t();
        let _ = match t.machine_from_elf(value) {
            None => write!(out, " -F arch{op}0x{value:X}"),
            Some(m) if self.interpret => {
                write!(out, " -F arch{op}{}", t.machine_name(m).unwrap_or(""))
            }
            Some(_) if value & AUDIT_ARCH_64BIT != 0 => write!(out, " -F arch{op}b64"),
            Some(_) => write!(out, " -F arch{op}b32"),
        };
    }

    fn syscalls(&self, out: &mut String, r: &RuleData, list: u32) -> usize {
        if [FilterList::USER.0, FilterList::TASK.0, FilterList::EXCLUDE.0, FilterList::FS.0]
            .contains(&list)
        {
            return 0;
        }
        let t = self.t();
        let last = t.ioring_op_last();
        if list == FilterList::URING_EXIT.0 && last > 0 {
            return self.uring_ops(out, r, last);
        }
        if r.all_syscalls() {
            out.push_str(" -S all");
            return 63;
        }
        let machine = if self.elf != 0 { t.machine_from_elf(self.elf) } else { Some(self.host) };
        let mut count = 0;
        // Walk set bits word by word: most words of a syscall rule are zero.
        for (w, &word) in r.mask.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let nr = w * 32 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                out.push_str(if count == 0 { " -S " } else { "," });
                match machine.and_then(|m| t.syscall_name(m, nr as u32)) {
                    Some(n) => out.push_str(n),
                    None => {
                        let _ = write!(out, "{nr}");
                    }
                }
                count += 1;
            }
        }
        count
    }
}

impl Renderer {
    /// The io_uring list's `-S` (4.x auditctl-listing.c): `all` when the first `last` mask
    /// *words* are all set (its loop bound is `IORING_OP_LAST`, counted in words), else each
    /// operation below `last` by name or number.
    fn uring_ops(&self, out: &mut String, r: &RuleData, last: u32) -> usize {
        if r.mask.iter().take(last as usize).all(|&w| w == u32::MAX) {
            out.push_str(" -S all");
            return last as usize;
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
                None => {
                    let _ = write!(out, "{op}");
                }
            }
            count += 1;
        }
        count
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

/// A string value as C's `%.*s` prints it: up to the first NUL (borrowed when it is UTF-8).
fn text(v: &FieldValue) -> std::borrow::Cow<'_, str> {
    match v {
        FieldValue::Str(_) => String::from_utf8_lossy(until_nul(v)),
        FieldValue::Num(n) => n.to_string().into(),
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
