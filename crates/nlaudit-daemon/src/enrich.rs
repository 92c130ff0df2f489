//! `log_format = ENRICHED`: the RAW line, then `0x1d` and the interpreted values of its
//! uid, gid, syscall, arch and socket-address fields, as auditd 3.0.9's `format_enrich`
//! writes them (src/auditd-event.c, with auparse's field typing and printers in
//! auparse/interpret.c and auparse/ellist.c `parse_up_record`).
//!
//! - Fields are the space-separated `name=value` tokens after `msg=audit(...):`; a
//!   `msg='` prefix is dropped (user-space messages), one trailing `:`, `,`, `'` and `)`
//!   (but not of `(none)`/`(null)`) is trimmed from a value, and empty values are skipped.
//! - uid and gid fields become `NAME="name"` (hex when the name holds a quote, a space, a
//!   control or a non-ASCII byte: `audit_encode_nv_string`): `unset` for 4294967295, `root`
//!   for 0, the name from /etc/passwd or /etc/group, else `unknown(N)`;
//! - `arch` becomes the machine name, `syscall` its name (`socketcall(bind)`, `ipc(semop)`),
//!   `saddr` the decoded socket address, all without quotes.
//!
//! Names are read from /etc/passwd and /etc/group (auditd asks NSS; on the machines we
//! target these files are the whole database). They are re-read when a record says
//! accounts changed (`ADD_USER`, `ADD_GROUP` before the record, `USER_MGMT`, `DEL_USER`,
//! `DEL_GROUP`, `GRP_MGMT` after it, as auditd flushes its caches), and when a number is
//! not found and the file changed since it was read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use nlaudit_proto::MsgType;
use nlaudit_rules::tables::Machine;

/// `AUDIT_INTERP_SEPARATOR`: separates the raw record from its interpretation.
pub const AUDIT_INTERP_SEPARATOR: u8 = 0x1d;

/// How auparse types a field, for the types ENRICHED writes (typetab.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Uid,
    Gid,
    Syscall,
    Arch,
    Sockaddr,
}

/// A field ENRICHED interprets: its name, the name as written (upper case,
/// `add_simple_field`), and its kind.
#[derive(Debug)]
struct Field {
    name: &'static str,
    upper: &'static str,
    kind: Kind,
}

/// auparse's typetab.h rows for the kinds ENRICHED writes.
const FIELD_KINDS: &[Field] = &[
    Field { name: "auid", upper: "AUID", kind: Kind::Uid },
    Field { name: "uid", upper: "UID", kind: Kind::Uid },
    Field { name: "euid", upper: "EUID", kind: Kind::Uid },
    Field { name: "suid", upper: "SUID", kind: Kind::Uid },
    Field { name: "fsuid", upper: "FSUID", kind: Kind::Uid },
    Field { name: "ouid", upper: "OUID", kind: Kind::Uid },
    Field { name: "oauid", upper: "OAUID", kind: Kind::Uid },
    Field { name: "old-auid", upper: "OLD-AUID", kind: Kind::Uid },
    Field { name: "iuid", upper: "IUID", kind: Kind::Uid },
    Field { name: "id", upper: "ID", kind: Kind::Uid },
    Field { name: "inode_uid", upper: "INODE_UID", kind: Kind::Uid },
    Field { name: "sauid", upper: "SAUID", kind: Kind::Uid },
    Field { name: "obj_uid", upper: "OBJ_UID", kind: Kind::Uid },
    Field { name: "obj_gid", upper: "OBJ_GID", kind: Kind::Gid },
    Field { name: "gid", upper: "GID", kind: Kind::Gid },
    Field { name: "egid", upper: "EGID", kind: Kind::Gid },
    Field { name: "sgid", upper: "SGID", kind: Kind::Gid },
    Field { name: "fsgid", upper: "FSGID", kind: Kind::Gid },
    Field { name: "ogid", upper: "OGID", kind: Kind::Gid },
    Field { name: "igid", upper: "IGID", kind: Kind::Gid },
    Field { name: "inode_gid", upper: "INODE_GID", kind: Kind::Gid },
    Field { name: "new_gid", upper: "NEW_GID", kind: Kind::Gid },
    Field { name: "syscall", upper: "SYSCALL", kind: Kind::Syscall },
    Field { name: "arch", upper: "ARCH", kind: Kind::Arch },
    Field { name: "saddr", upper: "SADDR", kind: Kind::Sockaddr },
];

/// `id` of the group records (ADD_GROUP, GRP_MGMT, DEL_GROUP) is a gid.
const GROUP_ID: Field = Field { name: "id", upper: "ID", kind: Kind::Gid };

// Record types whose fields auparse types differently (`auparse_interp_adjust_type`).
const AUDIT_ADD_USER: MsgType = MsgType(1114);
const AUDIT_DEL_USER: MsgType = MsgType(1115);
const AUDIT_ADD_GROUP: MsgType = MsgType(1116);
const AUDIT_DEL_GROUP: MsgType = MsgType(1117);
const AUDIT_USER_MGMT: MsgType = MsgType(1102);
const AUDIT_GRP_MGMT: MsgType = MsgType(1132);
const AUDIT_NETFILTER_PKT: MsgType = MsgType(1324);
const AUDIT_AVC: MsgType = MsgType(1400);

fn kind_of(ty: MsgType, name: &str) -> Option<&'static Field> {
    if name == "id" && [AUDIT_ADD_GROUP, AUDIT_GRP_MGMT, AUDIT_DEL_GROUP].contains(&ty) {
        return Some(&GROUP_ID);
    }
    if name == "saddr" && (ty == AUDIT_AVC || ty == AUDIT_NETFILTER_PKT) {
        return None; // AVC: unclassified; NETFILTER_PKT: an address, not enriched.
    }
    FIELD_KINDS.iter().find(|k| k.name == name)
}

/// Address families (auparse famtab.h).
const FAMILIES: &[(u16, &str)] = &[
    (1, "local"),
    (2, "inet"),
    (3, "ax25"),
    (4, "ipx"),
    (5, "appletalk"),
    (6, "netrom"),
    (7, "bridge"),
    (8, "atmpvc"),
    (9, "x25"),
    (10, "inet6"),
    (11, "rose"),
    (12, "decnet"),
    (13, "netbeui"),
    (14, "security"),
    (15, "key"),
    (16, "netlink"),
    (17, "packet"),
    (18, "ash"),
    (19, "econet"),
    (20, "atmsvc"),
    (21, "rds"),
    (22, "sna"),
    (23, "irda"),
    (24, "pppox"),
    (25, "wanpipe"),
    (26, "llc"),
    (29, "can"),
    (30, "tipc"),
    (31, "bluetooth"),
    (32, "iucv"),
    (33, "rxrpc"),
    (34, "isdn"),
    (35, "phonet"),
    (36, "ieee802154"),
    (37, "caif"),
    (38, "alg"),
    (39, "nfc"),
    (40, "vsock"),
    (41, "kcm"),
    (42, "qipcrtr"),
    (43, "smc"),
    (44, "xdp"),
];

/// socketcall(2) calls (auparse socktab.h).
const SOCKETCALLS: &[(u64, &str)] = &[
    (1, "socket"),
    (2, "bind"),
    (3, "connect"),
    (4, "listen"),
    (5, "accept"),
    (6, "getsockname"),
    (7, "getpeername"),
    (8, "socketpair"),
    (9, "send"),
    (10, "recv"),
    (11, "sendto"),
    (12, "recvfrom"),
    (13, "shutdown"),
    (14, "setsockopt"),
    (15, "getsockopt"),
    (16, "sendmsg"),
    (17, "recvmsg"),
    (18, "accept4"),
    (19, "recvmmsg"),
    (20, "sendmmsg"),
];

/// ipc(2) calls (auparse ipctab.h).
const IPC_CALLS: &[(u64, &str)] = &[
    (1, "semop"),
    (2, "semget"),
    (3, "semctl"),
    (4, "semtimedop"),
    (11, "msgsnd"),
    (12, "msgrcv"),
    (13, "msgget"),
    (14, "msgctl"),
    (21, "shmat"),
    (22, "shmdt"),
    (23, "shmget"),
    (24, "shmctl"),
];

/// A name database file (/etc/passwd or /etc/group): number -> first name.
#[derive(Debug)]
struct NameFile {
    path: PathBuf,
    names: HashMap<u32, String>,
    read_at: Option<SystemTime>,
    stale: bool,
}

impl NameFile {
    fn new(path: PathBuf) -> NameFile {
        NameFile { path, names: HashMap::new(), read_at: None, stale: true }
    }

    fn mtime(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path).and_then(|m| m.modified()).ok()
    }

    fn load(&mut self) {
        self.names.clear();
        self.read_at = self.mtime();
        self.stale = false;
        // A missing or unreadable file leaves the table empty: numbers print as unknown(N).
        let Ok(text) = std::fs::read_to_string(&self.path) else { return };
        for line in text.lines() {
            let mut cols = line.split(':');
            let (Some(name), Some(_), Some(id)) = (cols.next(), cols.next(), cols.next()) else {
                continue;
            };
            if let Ok(id) = id.parse::<u32>() {
                self.names.entry(id).or_insert_with(|| name.to_string());
            }
        }
    }

    fn lookup(&mut self, id: u32) -> Option<&str> {
        let changed = || self.mtime() != self.read_at;
        if self.stale || (!self.names.contains_key(&id) && changed()) {
            self.load();
        }
        self.names.get(&id).map(String::as_str)
    }
}

/// Appends the interpreted part of ENRICHED lines; holds the user and group names.
#[derive(Debug)]
pub struct Enricher {
    users: NameFile,
    groups: NameFile,
    host: Machine,
    scratch: String,
}

impl Default for Enricher {
    fn default() -> Self {
        Enricher::new(Path::new("/etc/passwd"), Path::new("/etc/group"))
    }
}

/// A field of a record, as auparse splits it.
struct Token<'a> {
    name: &'a str,
    value: &'a str,
}

/// auparse's field split of the text after the header (see the module doc).
fn tokens(body: &str) -> impl Iterator<Item = Token<'_>> {
    body.split(' ').filter_map(|t| {
        let t = match t.strip_prefix("msg=") {
            Some(rest) if rest.starts_with('a') => return None, // msg=audit(...):
            Some(rest) => match rest.strip_prefix('\'') {
                Some(inner) => inner,
                None => t,
            },
            None => t,
        };
        let (name, value) = t.split_once('=')?;
        let name = name.strip_prefix('(').unwrap_or(name);
        let mut v = value;
        for p in [':', ',', '\''] {
            v = v.strip_suffix(p).unwrap_or(v);
        }
        if v != "(none)" && v != "(null)" {
            v = v.strip_suffix(')').unwrap_or(v);
        }
        (!v.is_empty()).then_some(Token { name, value: v })
    })
}

/// `strtoul(val, NULL, 10)` cast to a 32-bit id: leading digits (an optional `-` negates),
/// nothing is 0, overflow of 64 bits is an error.
fn strtoul32(v: &str) -> Option<u32> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let end = digits.bytes().position(|c| !c.is_ascii_digit()).unwrap_or(digits.len());
    let n: u64 = if end == 0 { 0 } else { digits[..end].parse().ok()? };
    let n = if neg { n.wrapping_neg() } else { n };
    Some(n as u32)
}

/// `audit_value_needs_encoding`: a quote, a byte below 0x21, DEL or a non-ASCII byte.
fn needs_encoding(s: &str) -> bool {
    s.bytes().any(|b| b == b'"' || !(0x21..0x7f).contains(&b))
}

impl Enricher {
    /// An enricher that reads names from these files.
    pub fn new(passwd: &Path, group: &Path) -> Enricher {
        Enricher {
            users: NameFile::new(passwd.to_path_buf()),
            groups: NameFile::new(group.to_path_buf()),
            host: Machine::host(),
            scratch: String::new(),
        }
    }

    /// Forgets the names (SIGHUP, or accounts changed); they are read again when needed.
    pub fn forget_names(&mut self) {
        self.users.stale = true;
        self.groups.stale = true;
    }

    /// Appends `0x1d` and the interpretation to `line`, the RAW line of a record of type
    /// `ty` (nothing when the record has no field to interpret).
    pub fn append(&mut self, ty: MsgType, line: &mut Vec<u8>) {
        if ty == AUDIT_ADD_USER || ty == AUDIT_ADD_GROUP {
            self.forget_names();
        }
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        {
            let text: Cow<'_, str> = match std::str::from_utf8(line) {
                Ok(t) => Cow::Borrowed(t),
                Err(_) => Cow::Owned(String::from_utf8_lossy(line).into_owned()),
            };
            let body = text.find("msg=").map_or("", |i| &text[i..]);
            self.interpret(ty, body, &mut out);
        }
        // The separator is a control byte: the String holds it as one byte.
        line.extend_from_slice(out.as_bytes());
        self.scratch = out;
        if [AUDIT_USER_MGMT, AUDIT_DEL_USER, AUDIT_DEL_GROUP, AUDIT_GRP_MGMT].contains(&ty) {
            self.forget_names();
        }
    }

    fn interpret(&mut self, ty: MsgType, body: &str, out: &mut String) {
        let mut machine: Option<Machine> = None;
        let mut syscall: Option<&str> = None;
        let mut a0: Option<u64> = None;
        for (i, t) in tokens(body).enumerate() {
            // auparse takes the machine, syscall and a0 from fixed positions (counting
            // `type=` as the first field): arch 2nd (or 11th, SECCOMP), syscall 3rd
            // (12th), a0 6th.
            let pos = i + 2;
            match (t.name, pos) {
                ("arch", 2 | 11) => {
                    machine = u32::from_str_radix(t.value, 16).ok().and_then(Machine::from_elf)
                }
                ("syscall", 3 | 12) => syscall = Some(t.value),
                ("a0", 6) => a0 = u64::from_str_radix(t.value, 16).ok(),
                _ => {}
            }
            let Some(field) = kind_of(ty, t.name) else { continue };
            let kind = field.kind;
            out.push(if out.is_empty() { '\u{1d}' } else { ' ' });
            out.push_str(field.upper);
            out.push('=');
            match kind {
                Kind::Uid | Kind::Gid => {
                    let v = self.id_name(kind, t.value);
                    if needs_encoding(&v) {
                        for b in v.bytes() {
                            let _ = write!(out, "{b:02X}");
                        }
                    } else {
                        out.push('"');
                        out.push_str(&v);
                        out.push('"');
                    }
                }
                Kind::Arch => out.push_str(&arch_text(t.value)),
                Kind::Syscall => {
                    let m = machine.unwrap_or(self.host);
                    let nr = syscall.unwrap_or(t.value);
                    out.push_str(&syscall_text(m, nr, a0));
                }
                Kind::Sockaddr => out.push_str(&sockaddr_text(t.value)),
            }
        }
    }

    fn id_name(&mut self, kind: Kind, value: &str) -> Cow<'_, str> {
        let Some(id) = strtoul32(value) else {
            return Cow::Owned(format!("conversion error({value})"));
        };
        match id {
            u32::MAX => Cow::Borrowed("unset"),
            0 => Cow::Borrowed("root"),
            _ => {
                let table = if kind == Kind::Uid { &mut self.users } else { &mut self.groups };
                match table.lookup(id) {
                    Some(n) => Cow::Borrowed(n),
                    None => Cow::Owned(format!("unknown({})", id as i32)),
                }
            }
        }
    }
}

/// `print_arch`.
fn arch_text(v: &str) -> Cow<'static, str> {
    match u32::from_str_radix(v, 16) {
        Err(_) => Cow::Owned(format!("conversion error({v}) ")),
        Ok(elf) => match Machine::from_elf(elf).and_then(Machine::name) {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(format!("unknown-elf-type({v})")),
        },
    }
}

/// `print_syscall`.
fn syscall_text(m: Machine, nr: &str, a0: Option<u64>) -> Cow<'static, str> {
    let n: i64 = nr.parse().unwrap_or(-1);
    let Some(name) = u32::try_from(n).ok().and_then(|n| m.syscall_name(n)) else {
        return Cow::Owned(format!("unknown-syscall({n})"));
    };
    let sub = match name {
        "socketcall" => SOCKETCALLS,
        "ipc" => IPC_CALLS,
        _ => return Cow::Borrowed(name),
    };
    match a0.and_then(|a| sub.iter().find(|s| s.0 == a)) {
        Some(s) => Cow::Owned(format!("{name}({})", s.1)),
        None => Cow::Borrowed(name),
    }
}

/// `print_sockaddr`: the families auparse decodes, the family name for the others.
fn sockaddr_text(v: &str) -> String {
    let Some(b) = nlaudit_proto::records::decode_hex(v).filter(|b| b.len() >= 2) else {
        return format!("malformed-host({v})");
    };
    let fam = u16::from_ne_bytes([b[0], b[1]]);
    let Some(name) = FAMILIES.iter().find(|f| f.0 == fam).map(|f| f.1) else {
        return format!("unknown-family({fam})");
    };
    let byte = |i: usize| b.get(i).copied().unwrap_or(0);
    let cstr = |from: usize, max: usize| -> String {
        let s = b.get(from..).unwrap_or(&[]);
        let s = &s[..s.len().min(max)];
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        String::from_utf8_lossy(&s[..end]).into_owned()
    };
    match fam {
        1 if b.len() < 4 => format!("{{ saddr_fam={name} sockaddr len too short }}"),
        1 => {
            let from = if byte(2) != 0 { 2 } else { 3 };
            format!("{{ saddr_fam={name} path={} }}", cstr(from, 108))
        }
        2 if b.len() < 16 => format!("{{ saddr_fam={name} sockaddr len too short }}"),
        2 => format!(
            "{{ saddr_fam={name} laddr={}.{}.{}.{} lport={} }}",
            byte(4),
            byte(5),
            byte(6),
            byte(7),
            u16::from_be_bytes([byte(2), byte(3)])
        ),
        3 => format!(
            "{{ saddr_fam={name} call={} }}",
            (2..9).map(|i| char::from(byte(i))).collect::<String>()
        ),
        8 => format!("{{ saddr_fam={name} int={} }}", i16::from_ne_bytes([byte(2), byte(3)])),
        9 => format!("{{ saddr_fam={name} laddr={} }}", cstr(2, 15)),
        10 if b.len() < 28 => format!("{{ saddr_fam={name} sockaddr6 len too short }}"),
        10 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            format!(
                "{{ saddr_fam={name} laddr={} lport={} }}",
                std::net::Ipv6Addr::from(a),
                u16::from_be_bytes([byte(2), byte(3)])
            )
        }
        16 if b.len() < 12 => format!("{{ saddr_fam={name} len too short }}"),
        16 => format!(
            "{{ saddr_fam={name} nlnk-fam={fam} nlnk-pid={} }}",
            u32::from_ne_bytes([byte(4), byte(5), byte(6), byte(7)])
        ),
        _ => format!("{{ saddr_fam={name} (unsupported) }}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enricher() -> (Enricher, tempdir::Dir) {
        let d = tempdir::Dir::new();
        let p = d.path().join("passwd");
        let g = d.path().join("group");
        std::fs::write(&p, "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\n")
            .expect("write");
        std::fs::write(&g, "root:x:0:\nadm:x:4:\nstaff:x:50:\n").expect("write");
        (Enricher::new(&p, &g), d)
    }

    fn check(ty: u16, raw: &str, want: &str) {
        let (mut e, _d) = enricher();
        let mut line = raw.as_bytes().to_vec();
        e.append(MsgType(ty), &mut line);
        assert_eq!(String::from_utf8_lossy(&line), want, "{raw}");
    }

    mod tempdir {
        /// A directory removed on drop.
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let p =
                    std::env::temp_dir().join(format!("nlaudit-enrich-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&p).expect("mkdir");
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn syscall_records_as_auditd_3_0_9_writes_them() {
        // Captured from auditd 3.0.9 (ENRICHED) on kernel 6.18.
        check(
            1300,
            "type=SYSCALL msg=audit(1796219932.224:55): arch=c000003e syscall=110 success=yes exit=17087 a0=a a1=7f50022aa3c0 a2=4 a3=7f50022a9ac0 items=0 ppid=17087 pid=17153 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"sh\" exe=\"/usr/bin/dash\" key=\"adref\"",
            "type=SYSCALL msg=audit(1796219932.224:55): arch=c000003e syscall=110 success=yes exit=17087 a0=a a1=7f50022aa3c0 a2=4 a3=7f50022a9ac0 items=0 ppid=17087 pid=17153 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"sh\" exe=\"/usr/bin/dash\" key=\"adref\"\u{1d}ARCH=x86_64 SYSCALL=getppid AUID=\"unset\" UID=\"root\" GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" EGID=\"root\" SGID=\"root\" FSGID=\"root\"",
        );
    }

    #[test]
    fn other_records() {
        for (ty, raw, want) in [
            (1327, "type=PROCTITLE msg=audit(1.0:5): proctitle=2F62696E", ""),
            (1306, "type=SOCKADDR msg=audit(1.0:5): saddr=100000000000000000000000", "\u{1d}SADDR={ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 }"),
            (1306, "type=SOCKADDR msg=audit(1.0:5): saddr=02000050C0A80001", "\u{1d}SADDR={ saddr_fam=inet sockaddr len too short }"),
            (1306, "type=SOCKADDR msg=audit(1.0:5): saddr=02000050C0A800010000000000000000", "\u{1d}SADDR={ saddr_fam=inet laddr=192.168.0.1 lport=80 }"),
            (1306, "type=SOCKADDR msg=audit(1.0:5): saddr=01002F746D702F73", "\u{1d}SADDR={ saddr_fam=local path=/tmp/s }"),
            (1306, "type=SOCKADDR msg=audit(1.0:5): saddr=0000", "\u{1d}SADDR=unknown-family(0)"),
            (1306, "type=SOCKADDR msg=audit(1.0:5): saddr=zz", "\u{1d}SADDR=malformed-host(zz)"),
            (1305, "type=CONFIG_CHANGE msg=audit(1.0:5): op=set audit_enabled=0 old=1 auid=4294967295 ses=4294967295 res=1", "\u{1d}AUID=\"unset\""),
            (1302, "type=PATH msg=audit(1.0:5): item=0 name=\"/x\" ouid=1000 ogid=50 rdev=00:00", "\u{1d}OUID=\"alice\" OGID=\"staff\""),
            (1302, "type=PATH msg=audit(1.0:5): item=0 ouid=4242 ogid=4", "\u{1d}OUID=\"unknown(4242)\" OGID=\"adm\""),
            (1116, "type=ADD_GROUP msg=audit(1.0:5): pid=1 uid=0 auid=1000 ses=1 msg='op=add-group id=50 exe=\"/x\" res=success'", "\u{1d}UID=\"root\" AUID=\"alice\" ID=\"staff\""),
            (1200, "type=DAEMON_START msg=audit(1.0:5): op=start ver=3.0.9 format=enriched kernel=6.18 auid=4294967295 pid=17088 uid=0 ses=4294967295 res=success", "\u{1d}AUID=\"unset\" UID=\"root\""),
            // SECCOMP: the machine comes from arch only as the 11th field (with subj=).
            (1326, "type=SECCOMP msg=audit(1.0:5): auid=0 uid=0 gid=0 ses=1 subj=unconfined pid=1 comm=\"x\" exe=\"/x\" sig=0 arch=40000003 syscall=102 compat=1 ip=0x1 code=0x0", "\u{1d}AUID=\"root\" UID=\"root\" GID=\"root\" ARCH=i386 SYSCALL=socketcall"),
        ] {
            check(ty, raw, &format!("{raw}{want}"));
        }
        // Without subj=, auparse names the syscall on the host's machine (102 is getuid on
        // x86_64).
        if cfg!(target_arch = "x86_64") {
            let raw = "type=SECCOMP msg=audit(1.0:5): auid=0 uid=0 gid=0 ses=1 pid=1 comm=\"x\" exe=\"/x\" sig=0 arch=40000003 syscall=102 compat=1 ip=0x1 code=0x0";
            check(
                1326,
                raw,
                &format!(
                    "{raw}\u{1d}AUID=\"root\" UID=\"root\" GID=\"root\" ARCH=i386 SYSCALL=getuid"
                ),
            );
        }
    }

    #[test]
    fn ids() {
        assert_eq!(strtoul32("4294967295"), Some(u32::MAX));
        assert_eq!(strtoul32("-1"), Some(u32::MAX));
        assert_eq!(strtoul32("?"), Some(0));
        assert_eq!(strtoul32("99999999999999999999999"), None);
        assert!(needs_encoding("a b") && needs_encoding("é") && !needs_encoding("alice"));
    }
}
