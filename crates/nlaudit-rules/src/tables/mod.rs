//! Name tables: syscalls per machine, errnos, message types, fields, file and filesystem
//! types, machines, field comparisons. The data is generated from libaudit 3.0.9 (the
//! reference auditctl's library) by `cargo xtask codegen`; this module only looks it up.
//!
//! libaudit's name lookups are ASCII-case-insensitive; printing uses the table spelling.

pub(crate) mod generated;

use generated as g;

/// A libaudit machine (`MACH_*`), e.g. 1 = x86_64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Machine(pub u32);

/// `__AUDIT_ARCH_64BIT`.
pub const AUDIT_ARCH_64BIT: u32 = 0x8000_0000;

impl Machine {
    /// `MACH_X86`.
    pub const I386: Machine = Machine(0);
    /// `MACH_86_64`.
    pub const X86_64: Machine = Machine(1);
    /// `MACH_PPC64`.
    pub const PPC64: Machine = Machine(3);
    /// `MACH_PPC`.
    pub const PPC: Machine = Machine(4);
    /// `MACH_S390X`.
    pub const S390X: Machine = Machine(5);
    /// `MACH_S390`.
    pub const S390: Machine = Machine(6);
    /// `MACH_ARM`.
    pub const ARM: Machine = Machine(8);
    /// `MACH_AARCH64`.
    pub const AARCH64: Machine = Machine(9);
    /// `MACH_PPC64LE`.
    pub const PPC64LE: Machine = Machine(10);

    /// libaudit's name (`audit_machine_to_name`).
    pub fn name(self) -> Option<&'static str> {
        g::MACHINES.iter().find(|m| m.1 == self.0).map(|m| m.0)
    }

    /// By name or alias (`audit_name_to_machine`), case-insensitively.
    pub fn from_name(name: &str) -> Option<Machine> {
        let canonical = g::MACHINE_ALIASES
            .iter()
            .find(|a| a.0.eq_ignore_ascii_case(name))
            .map_or(name, |a| a.1);
        g::MACHINES.iter().find(|m| m.0.eq_ignore_ascii_case(canonical)).map(|m| Machine(m.1))
    }

    /// The `AUDIT_ARCH_*` value (`audit_machine_to_elf`).
    pub fn elf(self) -> Option<u32> {
        let name = self.name()?;
        g::MACHINE_ELF.iter().find(|m| m.0 == name).map(|m| m.1)
    }

    /// The machine of an `AUDIT_ARCH_*` value (`audit_elf_to_machine`).
    pub fn from_elf(elf: u32) -> Option<Machine> {
        let name = g::MACHINE_ELF.iter().find(|m| m.1 == elf)?.0;
        Machine::from_name(name)
    }

    /// The machine this process runs on (`uname -m`, as `audit_detect_machine`).
    pub fn host() -> Machine {
        let m = match std::env::consts::ARCH {
            "x86" => "i686",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "powerpc64" => "ppc64",
            "powerpc" => "ppc",
            "s390x" => "s390x",
            "arm" => "armv7l",
            other => other,
        };
        Machine::from_name(m).unwrap_or(Machine::X86_64)
    }

    /// The name of syscall `nr` on this machine.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        let t = g::syscalls_for_machine(self.0)?;
        t.binary_search_by_key(&nr, |e| e.0).ok().map(|i| t[i].1)
    }

    /// The number of a syscall name on this machine (`audit_name_to_syscall`).
    pub fn syscall_number(self, name: &str) -> Option<u32> {
        let t = g::syscalls_for_machine(self.0)?;
        t.iter().find(|e| e.1.eq_ignore_ascii_case(name)).map(|e| e.0).or_else(|| {
            g::syscall_aliases_for_machine(self.0)
                .iter()
                .find(|e| e.0.eq_ignore_ascii_case(name))
                .map(|e| e.1)
        })
    }
}

fn by_number<T: Copy + PartialEq>(t: &'static [(T, &'static str)], n: T) -> Option<&'static str> {
    t.iter().find(|e| e.0 == n).map(|e| e.1)
}

fn by_name<T: Copy>(t: &'static [(T, &'static str)], name: &str) -> Option<T> {
    t.iter().find(|e| e.1.eq_ignore_ascii_case(name)).map(|e| e.0)
}

/// `audit_errno_to_name` (positive errno).
pub fn errno_name(e: u32) -> Option<&'static str> {
    by_number(g::ERRNO_NAMES, e)
}

/// `audit_name_to_errno` (positive errno).
pub fn errno_number(name: &str) -> Option<u32> {
    by_name(g::ERRNO_NAMES, name)
        .or_else(|| g::ERRNO_ALIASES.iter().find(|a| a.0.eq_ignore_ascii_case(name)).map(|a| a.1))
}

/// `audit_msg_type_to_name`.
pub fn msgtype_name(t: u32) -> Option<&'static str> {
    by_number(g::MSGTYPE_NAMES, t)
}

/// `audit_name_to_msg_type`: a name, or `UNKNOWN[N]` (how unnamed types are printed in
/// records), at most 7 digits read in decimal.
pub fn msgtype_number(name: &str) -> Option<u32> {
    if let Some(n) = by_name(g::MSGTYPE_NAMES, name) {
        return Some(n);
    }
    let inner = name.strip_prefix("UNKNOWN[")?;
    let end = inner.find(']')?;
    let digits: String = inner[..end].chars().take(7).collect();
    let v = crate::cnum::strtol(&format!(
        "{}",
        digits.trim_start_matches('0').parse::<i64>().unwrap_or(0)
    ));
    (v > 0).then_some(v as u32)
}

/// `audit_field_to_name`.
pub fn field_name(f: u32) -> Option<&'static str> {
    by_number(g::FIELD_NAMES, f)
}

/// `audit_name_to_field`.
pub fn field_number(name: &str) -> Option<u32> {
    by_name(g::FIELD_NAMES, name)
        .or_else(|| g::FIELD_ALIASES.iter().find(|a| a.0.eq_ignore_ascii_case(name)).map(|a| a.1))
}

/// `audit_name_to_ftype`.
pub fn filetype_number(name: &str) -> Option<u32> {
    by_name(g::FILETYPE_NAMES, name)
}

/// `audit_name_to_ftype`'s inverse (for JSON).
pub fn filetype_name(v: u32) -> Option<&'static str> {
    by_number(g::FILETYPE_NAMES, v)
}

/// `audit_fstype_to_name`.
pub fn fstype_name(v: u32) -> Option<&'static str> {
    by_number(g::FSTYPE_NAMES, v)
}

/// `audit_name_to_fstype`.
pub fn fstype_number(name: &str) -> Option<u32> {
    by_name(g::FSTYPE_NAMES, name)
}

/// `audit_flag_to_name`: filter list names.
pub fn list_name(list: u32) -> Option<&'static str> {
    by_number(g::FLAG_NAMES, list)
}

/// `audit_action_to_name`.
pub fn action_name(action: u32) -> Option<&'static str> {
    by_number(g::ACTION_NAMES, action)
}

/// `audit_operator_to_symbol`.
pub fn operator_symbol(op: u32) -> Option<&'static str> {
    by_number(g::OPERATOR_NAMES, op)
}

/// The `-C` spelling of an `AUDIT_COMPARE_*` value: (left, right).
pub fn compare_fields(v: u32) -> Option<(&'static str, &'static str)> {
    g::FIELD_COMPARE.iter().find(|e| e.0 == v).map(|e| (e.1, e.2))
}

/// The `AUDIT_COMPARE_*` value of two fields, either way round (auditctl's `-C`).
pub fn compare_value(a: u32, b: u32) -> Option<u32> {
    g::FIELD_COMPARE.iter().find_map(|e| {
        let l = field_number(e.1)?;
        let r = field_number(e.2)?;
        ((l, r) == (a, b) || (l, r) == (b, a)).then_some(e.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(Machine::X86_64.syscall_name(2), Some("open"));
        assert_eq!(Machine::I386.syscall_name(2), Some("fork"));
        assert_eq!(Machine::X86_64.syscall_number("OPENAT"), Some(257));
        assert_eq!(Machine::from_name("i686"), Some(Machine::I386));
        assert_eq!(Machine::X86_64.elf(), Some(0xC000_003E));
        assert_eq!(Machine::from_elf(0x4000_0003), Some(Machine::I386));
        assert_eq!(errno_number("eacces"), Some(13));
        assert_eq!(errno_name(11), Some("EAGAIN"));
        assert_eq!(field_number("loginuid"), Some(9));
        assert_eq!(compare_value(109, 9), Some(5));
        assert_eq!(compare_fields(5), Some(("auid", "obj_uid")));
        assert_eq!(filetype_number("dir"), Some(0o40000));
        assert_eq!(msgtype_name(1100), Some("USER_AUTH"));
    }
}
