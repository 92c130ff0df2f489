#!/usr/bin/env python3
"""Generate crates/nlaudit-rules/src/tables/generated.rs from the real libaudit.

Run through `cargo xtask codegen [--check]`, or directly:

    python3 xtask/codegen.py OUTPUT.rs            # (re)write OUTPUT.rs
    python3 xtask/codegen.py --check OUTPUT.rs    # exit 1 if OUTPUT.rs is stale

Why: nlaudit's `list` output must be byte-identical to auditctl's, and auditctl
prints every name (syscalls, fields, errnos, message types, ...) through
libaudit's lookup tables.  Rather than copying those tables by hand, this
script asks the installed libaudit.so.1 itself, through ctypes, and writes the
answers as plain Rust data.  Only facts are taken from libaudit, no code.

How the tables are complete:
  * number -> name tables are found by calling the library's *_to_name
    function over a range that covers every value it knows (checked below);
  * name -> number aliases (names the parser accepts but the printer never
    returns, e.g. field "loginuid", i386 syscall "madvise1", errno
    "EWOULDBLOCK") are found by trying every NUL-terminated word stored in
    libaudit.so.1's own read-only data with each name_to_* function.
    Every accepted name must then map to a number inside the scanned range,
    which is how we know the range was wide enough.

The one table libaudit does not hold is the spelling auditctl uses to list
`-C` field comparisons (it lives in auditctl's auditctl-listing.c); it is
written below as data and checked against libaudit's parser.

Standard library only (ctypes); Linux only.
"""

from __future__ import annotations

import argparse
import ctypes
import difflib
import os
import re
import subprocess
import sys

LIBNAME = "libaudit.so.1"

# Range scans.  The kernel's syscall bitmap has 64*32 = 2048 bits; 4096 is
# a generous bound, and the alias check below proves nothing lies beyond it.
SYSCALL_SCAN = range(0, 4096)
ERRNO_SCAN = range(0, 4096)
MSGTYPE_SCAN = range(0, 65536)
FIELD_SCAN = range(0, 65536)
MACHINE_SCAN = range(0, 256)
FLAG_SCAN = range(0, 256)
ACTION_SCAN = range(0, 256)
# Operators live in the AUDIT_OPERATORS bits (0x78000000) of fieldflags.
OPERATOR_SCAN = [k << 27 for k in range(0, 16)]
# File types are the S_IFMT values (0o170000 mask).
FTYPE_SCAN = [k << 12 for k in range(0, 16)]

# AUDIT_FILTER_EXIT, the only filter that takes -C comparisons.
AUDIT_FILTER_EXIT = 4

# How auditctl 3.0.9 lists `-C` comparisons: AUDIT_COMPARE_* value, left
# field, right field (src/auditctl-listing.c, print_field_cmp; the operator
# symbol goes between the two names).  Values are linux/audit.h's.
FIELD_COMPARE_LISTING = [
    (1, "uid", "obj_uid"),
    (2, "gid", "obj_gid"),
    (3, "euid", "obj_uid"),
    (4, "egid", "obj_gid"),
    (5, "auid", "obj_uid"),
    (6, "suid", "obj_uid"),
    (7, "sgid", "obj_gid"),
    (8, "fsuid", "obj_uid"),
    (9, "fsgid", "obj_gid"),
    (10, "uid", "auid"),
    (11, "uid", "euid"),
    (12, "uid", "fsuid"),
    (13, "uid", "suid"),
    (14, "auid", "fsuid"),
    (15, "auid", "suid"),
    (16, "auid", "euid"),
    (17, "euid", "suid"),
    (18, "euid", "fsuid"),
    (19, "suid", "fsuid"),
    (20, "gid", "egid"),
    (21, "gid", "fsgid"),
    (22, "gid", "sgid"),
    (23, "egid", "fsgid"),
    (24, "egid", "sgid"),
    (25, "sgid", "fsgid"),
]

# Rust constant suffix for a libaudit machine name, where the upper-cased
# name would mislead: libaudit calls MACH_ARM "armeb" (the first of its ARM
# spellings) although MACH_ARM maps to little-endian AUDIT_ARCH_ARM.
CONST_SUFFIX_OVERRIDE = {"armeb": "ARM"}

MAX_WIDTH = 100  # rustfmt.toml's max_width


class Fail(Exception):
    pass


# --------------------------------------------------------------------------
# libaudit access


class AuditRuleData(ctypes.Structure):
    """struct audit_rule_data from linux/audit.h, without its trailing buf[]."""

    _fields_ = [
        ("flags", ctypes.c_uint32),
        ("action", ctypes.c_uint32),
        ("field_count", ctypes.c_uint32),
        ("mask", ctypes.c_uint32 * 64),
        ("fields", ctypes.c_uint32 * 64),
        ("values", ctypes.c_uint32 * 64),
        ("fieldflags", ctypes.c_uint32 * 64),
        ("buflen", ctypes.c_uint32),
    ]


def load_libaudit(path=None):
    try:
        lib = ctypes.CDLL(path or LIBNAME)
    except OSError as e:
        raise Fail(f"cannot load {LIBNAME} ({e}); apt-get install -y libaudit1") from e

    cstr = ctypes.c_char_p
    for name, res, args in [
        ("audit_syscall_to_name", cstr, [ctypes.c_int, ctypes.c_int]),
        ("audit_name_to_syscall", ctypes.c_int, [cstr, ctypes.c_int]),
        ("audit_machine_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_machine", ctypes.c_int, [cstr]),
        ("audit_determine_machine", ctypes.c_int, [cstr]),
        ("audit_machine_to_elf", ctypes.c_uint, [ctypes.c_int]),
        ("audit_elf_to_machine", ctypes.c_int, [ctypes.c_uint]),
        ("audit_errno_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_errno", ctypes.c_int, [cstr]),
        ("audit_msg_type_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_msg_type", ctypes.c_int, [cstr]),
        ("audit_field_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_field", ctypes.c_int, [cstr]),
        ("audit_ftype_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_ftype", ctypes.c_int, [cstr]),
        ("audit_flag_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_flag", ctypes.c_int, [cstr]),
        ("audit_action_to_name", cstr, [ctypes.c_int]),
        ("audit_name_to_action", ctypes.c_int, [cstr]),
        ("audit_operator_to_symbol", cstr, [ctypes.c_int]),
        ("audit_rule_create_data", ctypes.POINTER(AuditRuleData), []),
        ("audit_rule_free_data", None, [ctypes.POINTER(AuditRuleData)]),
        (
            "audit_rule_fieldpair_data",
            ctypes.c_int,
            [ctypes.POINTER(ctypes.POINTER(AuditRuleData)), ctypes.c_char_p, ctypes.c_int],
        ),
        (
            "audit_rule_interfield_comp_data",
            ctypes.c_int,
            [ctypes.POINTER(ctypes.POINTER(AuditRuleData)), ctypes.c_char_p, ctypes.c_int],
        ),
    ]:
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    # Optional: not every libaudit has them (3.0.9 has the fstype pair but
    # no io_uring operation table).
    for name, res in [
        ("audit_fstype_to_name", cstr),
        ("audit_name_to_fstype", ctypes.c_int),
        ("audit_uringop_to_name", cstr),
        ("audit_name_to_uringop", ctypes.c_int),
    ]:
        if hasattr(lib, name):
            fn = getattr(lib, name)
            fn.restype = res
            fn.argtypes = [ctypes.c_int] if res is cstr else [cstr]
    return lib


def has(lib, name):
    return hasattr(lib, name)


def loaded_path():
    """The file the dynamic loader mapped for libaudit.so.1."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and os.path.basename(parts[5].strip()).startswith("libaudit.so"):
                return os.path.realpath(parts[5].strip())
    raise Fail("libaudit.so.1 is loaded but not found in /proc/self/maps")


def package_version(path):
    """(upstream version, "package version") of the Debian package owning path."""
    # With merged /usr, dpkg may know the file under /lib rather than /usr/lib.
    candidates = [path]
    if path.startswith("/usr/"):
        candidates.append(path[len("/usr") :])
    candidates.append("*/" + os.path.basename(path))
    try:
        for cand in candidates:
            found = subprocess.run(["dpkg-query", "-S", cand], capture_output=True, text=True)
            if found.returncode == 0 and found.stdout.strip():
                break
        else:
            return "unknown", None
        pkg = found.stdout.splitlines()[0].split(": ", 1)[0].strip()
        ver = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, IndexError, subprocess.CalledProcessError):
        return "unknown", None
    if not ver:
        return "unknown", None
    upstream = ver.split(":", 1)[-1].rsplit("-", 1)[0]
    return upstream, f"{pkg.split(':')[0]} {ver}"


def words_in(path):
    """Every NUL-terminated identifier-like string in the file (candidate names)."""
    with open(path, "rb") as f:
        data = f.read()
    out = set()
    for chunk in data.split(b"\0"):
        if 0 < len(chunk) <= 64 and re.fullmatch(rb"[A-Za-z0-9_]+", chunk):
            out.add(chunk.decode("ascii"))
    return sorted(out)


def s(b):
    return None if b is None else b.decode("ascii")


def scan(fn, values):
    """[(v, name)] for every v where fn(v) returns a name."""
    out = []
    for v in values:
        name = s(fn(v))
        if name is not None:
            out.append((v, name))
    return out


def aliases(words, to_number, to_name, known_max, what):
    """Names to_number accepts that to_name never returns: [(alias, number)]."""
    out = []
    for w in words:
        n = to_number(w.encode())
        if n is None:
            continue
        if n > known_max:
            raise Fail(f"{what}: {w!r} maps to {n}, beyond the scanned range; widen the scan")
        canon = s(to_name(n))
        if canon is None:
            raise Fail(f"{what}: {w!r} maps to {n}, which has no name")
        if canon != w and canon.lower() != w.lower():
            out.append((w, n))
    return out


# --------------------------------------------------------------------------
# collection


def collect(lib, source_version=None):
    path = loaded_path()
    version, debpkg = package_version(path)
    if source_version:
        version, debpkg = source_version, None
    words = words_in(path)
    t = {"path": path, "version": version, "debpkg": debpkg}

    def neg_is_none(fn):
        def f(b):
            r = fn(b)
            return None if r < 0 else r

        return f

    # Machines.
    machines = scan(lib.audit_machine_to_name, MACHINE_SCAN)
    # audit 4.x built --with-io_uring names a pseudo-machine `uring` (MACH_IO_URING)
    # whose "syscalls" are io_uring operations and which has no ELF arch: -F arch=
    # cannot name it, and its names are IO_URING_OPS below.
    machines = [(m, n) for m, n in machines if lib.audit_machine_to_elf(m) != 0 or n != "uring"]
    if not machines:
        raise Fail("audit_machine_to_name knows no machine")
    t["machines"] = machines
    elf = []
    for m, name in machines:
        e = lib.audit_machine_to_elf(m)
        if e == 0:
            raise Fail(f"machine {name} has no ELF value")
        back = lib.audit_elf_to_machine(e)
        if back != m:
            raise Fail(f"elf {e:#x} of {name} maps back to machine {back}")
        elf.append((name, e))
    t["machine_elf"] = sorted(elf, key=lambda x: x[1])
    mnames = dict(machines)
    mach_alias = aliases(
        words,
        neg_is_none(lib.audit_name_to_machine),
        lib.audit_machine_to_name,
        max(MACHINE_SCAN),
        "machine",
    )
    for w, m in mach_alias:
        if lib.audit_determine_machine(w.encode()) != m:
            raise Fail(f"audit_determine_machine({w!r}) disagrees with audit_name_to_machine")
    t["machine_aliases"] = sorted(((w, mnames[m]) for w, m in mach_alias), key=lambda x: (
        next(v for v, n in machines if n == x[1]),
        x[0],
    ))

    # Syscalls, one table per machine; identical tables are shared.
    tables = {}  # machine value -> [(nr, name)]
    for m, name in machines:
        tab = scan(lambda nr, m=m: lib.audit_syscall_to_name(nr, m), SYSCALL_SCAN)
        if not tab:
            raise Fail(f"machine {name} has no syscalls")
        if tab[-1][0] > max(SYSCALL_SCAN) - 256:
            raise Fail(f"machine {name}: syscalls reach {tab[-1][0]}; widen SYSCALL_SCAN")
        tables[m] = tab
    t["syscalls"] = tables
    sc_alias = {}
    for m, _ in machines:
        sc_alias[m] = aliases(
            words,
            neg_is_none(lambda b, m=m: lib.audit_name_to_syscall(b, m)),
            lambda nr, m=m: lib.audit_syscall_to_name(nr, m),
            max(SYSCALL_SCAN),
            f"syscall/{mnames[m]}",
        )
    t["syscall_aliases"] = sc_alias

    # Errnos (audit_name_to_errno returns 0 for unknown names).
    t["errno"] = scan(lib.audit_errno_to_name, ERRNO_SCAN)
    t["errno_aliases"] = aliases(
        words,
        lambda b: lib.audit_name_to_errno(b) or None,
        lib.audit_errno_to_name,
        max(ERRNO_SCAN),
        "errno",
    )

    # Message types.  audit_name_to_msg_type also parses numbers and
    # "UNKNOWN[n]", so only non-numeric words are alias candidates.
    t["msgtype"] = scan(lib.audit_msg_type_to_name, MSGTYPE_SCAN)
    t["msgtype_aliases"] = aliases(
        [w for w in words if not w[0].isdigit()],
        neg_is_none(lib.audit_name_to_msg_type),
        lib.audit_msg_type_to_name,
        max(MSGTYPE_SCAN),
        "msgtype",
    )

    # Fields.
    t["fields"] = scan(lib.audit_field_to_name, FIELD_SCAN)
    t["field_aliases"] = aliases(
        words,
        neg_is_none(lib.audit_name_to_field),
        lib.audit_field_to_name,
        max(FIELD_SCAN),
        "field",
    )

    # File types (S_IF* values).
    t["ftype"] = scan(lib.audit_ftype_to_name, FTYPE_SCAN)
    ftype_alias = aliases(
        words,
        neg_is_none(lib.audit_name_to_ftype),
        lib.audit_ftype_to_name,
        max(FTYPE_SCAN),
        "ftype",
    )
    if ftype_alias:
        raise Fail(f"unexpected file type aliases {ftype_alias}")
    for w in words:
        v = lib.audit_name_to_ftype(w.encode())
        if v >= 0 and (v, s(lib.audit_ftype_to_name(v))) not in t["ftype"]:
            raise Fail(f"file type {w!r}={v:#o} outside the S_IFMT scan")

    # File system types: no range to scan (they are 32-bit magic numbers),
    # so the names come from the library's own strings.
    if has(lib, "audit_name_to_fstype") and has(lib, "audit_fstype_to_name"):
        fs = {}
        for w in words:
            v = lib.audit_name_to_fstype(w.encode())
            if v == -1:
                continue
            v &= 0xFFFFFFFF
            canon = s(lib.audit_fstype_to_name(v))
            if canon is None:
                raise Fail(f"fstype {w!r}={v:#x} has no name")
            fs[v] = canon
        t["fstype"] = sorted(fs.items())
    else:
        t["fstype"] = None

    # io_uring operations (audit 3.1+).
    if has(lib, "audit_uringop_to_name"):
        t["uring"] = scan(lib.audit_uringop_to_name, range(0, 4096))
    else:
        t["uring"] = None

    # Filter lists, actions, operators.
    t["flags"] = scan(lib.audit_flag_to_name, FLAG_SCAN)
    t["actions"] = scan(lib.audit_action_to_name, ACTION_SCAN)
    t["operators"] = scan(lib.audit_operator_to_symbol, OPERATOR_SCAN)
    for what, to_num, to_name, rng in [
        ("flag", lib.audit_name_to_flag, lib.audit_flag_to_name, FLAG_SCAN),
        ("action", lib.audit_name_to_action, lib.audit_action_to_name, ACTION_SCAN),
    ]:
        extra = aliases(words, neg_is_none(to_num), to_name, max(rng), what)
        if extra:
            raise Fail(f"unexpected {what} aliases {extra}")

    # -C comparisons: check the listing spellings against libaudit's parser,
    # which must accept exactly these field pairs, in either order.
    field_num = {name: v for v, name in t["fields"]}
    parsed = {}  # frozenset of field numbers -> compare value
    for _, a in t["fields"]:
        for _, b in t["fields"]:
            v = interfield_compare(lib, f"{a}={b}")
            if v is not None:
                key = frozenset((field_num[a], field_num[b]))
                if parsed.setdefault(key, v) != v:
                    raise Fail(f"-C {a}={b} is not symmetric")
    listed = {}
    for v, a, b in FIELD_COMPARE_LISTING:
        if a not in field_num or b not in field_num:
            raise Fail(f"-C spelling {a}/{b} uses an unknown field")
        listed[frozenset((field_num[a], field_num[b]))] = v
    if listed != parsed:
        raise Fail(
            "-C table disagrees with libaudit's parser: "
            f"{sorted(set(parsed.items()) ^ set(listed.items()), key=lambda kv: kv[1])}"
        )
    t["compare"] = FIELD_COMPARE_LISTING
    t["perm_syscalls"] = perm_syscalls(lib, machines)
    return t


# AUDIT_PERM_* bits and the letter `-F perm=` takes for each.
PERM_BITS = [(1, "x"), (2, "w"), (4, "r"), (8, "a")]


def perm_syscalls(lib, machines):
    """{machine: [(perm bit, [syscall numbers])]} for a libaudit that turns
    `-F arch=... -F perm=...` into syscalls (audit 4.x, lib/permtab.h filtered
    by each machine's syscall table), or None for one that does not (3.0.9).

    Read from the library itself: a rule gets `arch=<ELF>` then `perm=<letter>`
    through audit_rule_fieldpair_data, and the syscall mask it ends with is the
    answer.  libaudit keeps per-rule state in globals (`_audit_elf`,
    `_audit_syscalladded`, ...), which are reset before each probe, as
    auditctl's own per-rule reset does."""
    globals_ = []
    for name in ["_audit_elf", "_audit_syscalladded", "_audit_permadded", "_audit_archadded",
                 "_audit_exeadded", "_audit_filterfsadded"]:
        try:
            globals_.append(ctypes.c_uint.in_dll(lib, name))
        except ValueError:
            pass
    out = {}
    for m, name in machines:
        elf = lib.audit_machine_to_elf(m)
        rows = []
        for bit, letter in PERM_BITS:
            for g in globals_:
                g.value = 0
            rule = lib.audit_rule_create_data()
            if not rule:
                raise Fail("audit_rule_create_data failed")
            ok = True
            for pair in [f"arch={elf:#x}", f"perm={letter}"]:
                buf = ctypes.create_string_buffer(pair.encode())
                if lib.audit_rule_fieldpair_data(ctypes.byref(rule), buf, AUDIT_FILTER_EXIT) != 0:
                    ok = False
                    break
                rule.contents.field_count += 1
            if not ok:
                lib.audit_rule_free_data(rule)
                raise Fail(f"arch={elf:#x} perm={letter} refused by libaudit ({name})")
            mask = list(rule.contents.mask)
            lib.audit_rule_free_data(rule)
            nrs = [w * 32 + b for w in range(64) for b in range(32) if mask[w] >> b & 1]
            rows.append((bit, nrs))
        out[m] = rows
    for g in globals_:
        g.value = 0
    if all(not nrs for rows in out.values() for _, nrs in rows):
        return None
    return out


def interfield_compare(lib, pair):
    """The AUDIT_COMPARE_* value libaudit stores for `-C pair`, or None."""
    rule = lib.audit_rule_create_data()
    if not rule:
        raise Fail("audit_rule_create_data failed")
    buf = ctypes.create_string_buffer(pair.encode())
    rc = lib.audit_rule_interfield_comp_data(ctypes.byref(rule), buf, AUDIT_FILTER_EXIT)
    v = rule.contents.values[0] if rc == 0 else None
    lib.audit_rule_free_data(rule)
    return v


# --------------------------------------------------------------------------
# Rust output


def rust_str(text):
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    out.append('"')
    return "".join(out)


def const_suffix(machine_name):
    return CONST_SUFFIX_OVERRIDE.get(machine_name, re.sub(r"[^A-Za-z0-9]", "_", machine_name).upper())


class Writer:
    def __init__(self):
        self.lines = []

    def raw(self, line=""):
        self.lines.append(line)

    def doc(self, text):
        for line in text.strip("\n").split("\n"):
            self.lines.append(("/// " + line).rstrip())

    def table(self, doc, vis, kind, name, ty, items):
        """`vis kind name: ty = &[items];`, laid out the way rustfmt does."""
        self.doc(doc)
        head = f"{vis}{kind} {name}: {ty} = &["
        one = head + ", ".join(items) + "];"
        body = "&[" + ", ".join(items) + "];"
        if len(one) <= MAX_WIDTH:
            self.lines.append(one)
        elif items and len("    " + body) <= MAX_WIDTH:
            # rustfmt breaks after `=` when that makes the array fit.
            self.lines.append(head[: -len(" &[")])
            self.lines.append("    " + body)
        elif not items:
            self.lines.append(head + "];")
        else:
            self.lines.append(head)
            for it in items:
                self.lines.append(f"    {it},")
            self.lines.append("];")
        self.lines.append("")

    def text(self):
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def num_str(pairs):
    return [f"({n}, {rust_str(v)})" for n, v in pairs]


def render(t):
    w = Writer()
    w.raw(f"// @generated by cargo xtask codegen from libaudit {t['version']}; do not edit.")
    src = os.path.basename(t["path"])
    if t["debpkg"]:
        src += f", Debian package {t['debpkg']}"
    w.raw(f"// Source: {src}.")
    w.raw("// Regenerate with `cargo xtask codegen`; check with `cargo xtask codegen --check`.")
    w.raw("")
    w.raw("//! libaudit's name tables, as data (see `xtask/codegen.py` for how they are read).")
    w.raw("//!")
    w.raw("//! Every `(number, name)` table is sorted by number, one entry per number, and")
    w.raw("//! its name is the one libaudit's `*_to_name` function returns (so the one")
    w.raw("//! auditctl prints).  `*_ALIASES` tables hold the other names libaudit's")
    w.raw("//! `audit_name_to_*` functions accept.  libaudit's name lookups are")
    w.raw("//! ASCII-case-insensitive.")
    w.raw("")
    w.raw("#![allow(dead_code)]")
    w.raw("")

    machines = t["machines"]
    mname = dict(machines)
    sfx = {m: const_suffix(n) for m, n in machines}

    w.table(
        "libaudit's machines (`audit_machine_to_name`): (name, `MACH_*` enum value).",
        "pub(crate) ",
        "static",
        "MACHINES",
        "&[(&str, u32)]",
        [f"({rust_str(n)}, {m})" for m, n in machines],
    )
    w.table(
        "The `AUDIT_ARCH_*` value of each machine (`audit_machine_to_elf`; `audit_elf_to_machine`\n"
        "is its inverse): (machine name, ELF arch), sorted by ELF arch.",
        "pub(crate) ",
        "static",
        "MACHINE_ELF",
        "&[(&str, u32)]",
        [f"({rust_str(n)}, {e:#010x})" for n, e in t["machine_elf"]],
    )
    w.table(
        "Other names `audit_name_to_machine`/`audit_determine_machine` accept: (alias, machine\n"
        "name).  `audit_determine_machine` also takes `b32`/`b64` (relative to the host) and a\n"
        "hexadecimal ELF arch; `-F arch=` with a leading digit is read as a C number instead.",
        "pub(crate) ",
        "static",
        "MACHINE_ALIASES",
        "&[(&str, &str)]",
        [f"({rust_str(a)}, {rust_str(c)})" for a, c in t["machine_aliases"]],
    )

    # Syscall tables: one private const per distinct table, one static per machine.
    groups = []  # [(data, [machine values])]
    for m, _ in machines:
        data = t["syscalls"][m]
        for g in groups:
            if g[0] == data:
                g[1].append(m)
                break
        else:
            groups.append((data, [m]))
    for data, ms in groups:
        if len(ms) == 1:
            continue
        shared = min((sfx[m] for m in ms), key=lambda x: (len(x), x))
        names = ", ".join(f"`{mname[m]}`" for m in ms)
        w.table(
            f"The syscall table libaudit shares between machines {names}.",
            "",
            "const",
            f"{shared}_SYSCALLS",
            "&[(u32, &str)]",
            num_str(data),
        )
    for m, n in machines:
        data = t["syscalls"][m]
        group = next(g for g in groups if g[0] == data)
        hi = data[-1][0]
        doc = (
            f"Syscalls of machine `{n}` (`audit_syscall_to_name(nr, {m})`): "
            f"{len(data)} names, highest {hi}."
        )
        if len(group[1]) == 1:
            w.table(doc, "pub(crate) ", "static", f"SYSCALLS_{sfx[m]}", "&[(u32, &str)]",
                    num_str(data))
        else:
            shared = min((sfx[x] for x in group[1]), key=lambda x: (len(x), x))
            w.doc(doc)
            w.raw(f"pub(crate) static SYSCALLS_{sfx[m]}: &[(u32, &str)] = {shared}_SYSCALLS;")
            w.raw("")
    for m, n in machines:
        w.table(
            f"Other syscall names `audit_name_to_syscall(name, {m})` (`{n}`) accepts: (alias, number).",
            "pub(crate) ",
            "static",
            f"SYSCALL_ALIASES_{sfx[m]}",
            "&[(&str, u32)]",
            [f"({rust_str(a)}, {nr})" for a, nr in t["syscall_aliases"][m]],
        )
    w.doc("The syscall table libaudit uses for a machine (`MACH_*` value), or `None`.")
    w.raw("pub(crate) fn syscalls_for_machine(machine: u32) -> Option<&'static [(u32, &'static str)]> {")
    w.raw("    match machine {")
    for m, _ in machines:
        w.raw(f"        {m} => Some(SYSCALLS_{sfx[m]}),")
    w.raw("        _ => None,")
    w.raw("    }")
    w.raw("}")
    w.raw("")
    w.doc("Syscall aliases for a machine (`MACH_*` value); empty for unknown machines.")
    w.raw("pub(crate) fn syscall_aliases_for_machine(machine: u32) -> &'static [(&'static str, u32)] {")
    w.raw("    match machine {")
    for m, _ in machines:
        w.raw(f"        {m} => SYSCALL_ALIASES_{sfx[m]},")
    w.raw("        _ => &[],")
    w.raw("    }")
    w.raw("}")
    w.raw("")

    w.table(
        "Errno names (`audit_errno_to_name`): (positive errno, name).",
        "pub(crate) ",
        "static",
        "ERRNO_NAMES",
        "&[(u32, &str)]",
        num_str(t["errno"]),
    )
    w.table(
        "Other errno names `audit_name_to_errno` accepts: (alias, positive errno).",
        "pub(crate) ",
        "static",
        "ERRNO_ALIASES",
        "&[(&str, u32)]",
        [f"({rust_str(a)}, {n})" for a, n in t["errno_aliases"]],
    )
    w.table(
        "Message type names (`audit_msg_type_to_name`): (type, name).",
        "pub(crate) ",
        "static",
        "MSGTYPE_NAMES",
        "&[(u32, &str)]",
        num_str(t["msgtype"]),
    )
    if t["msgtype_aliases"]:
        w.table(
            "Other message type names `audit_name_to_msg_type` accepts: (alias, type).",
            "pub(crate) ",
            "static",
            "MSGTYPE_ALIASES",
            "&[(&str, u32)]",
            [f"({rust_str(a)}, {n})" for a, n in t["msgtype_aliases"]],
        )
    w.table(
        "Rule field names (`audit_field_to_name`): (`AUDIT_*` field, name).",
        "pub(crate) ",
        "static",
        "FIELD_NAMES",
        "&[(u32, &str)]",
        num_str(t["fields"]),
    )
    w.table(
        "Other field names `audit_name_to_field` accepts: (alias, field).",
        "pub(crate) ",
        "static",
        "FIELD_ALIASES",
        "&[(&str, u32)]",
        [f"({rust_str(a)}, {n})" for a, n in t["field_aliases"]],
    )
    w.table(
        "`-F filetype=` names (`audit_name_to_ftype`/`audit_ftype_to_name`): (`S_IF*`, name).\n"
        "auditctl lists filetype values as plain decimal numbers, not these names.",
        "pub(crate) ",
        "static",
        "FILETYPE_NAMES",
        "&[(u32, &str)]",
        [f"({v:#o}, {rust_str(n)})" for v, n in t["ftype"]],
    )
    if t["fstype"] is not None:
        w.table(
            "`-F fstype=` names (`audit_name_to_fstype`/`audit_fstype_to_name`): (magic, name).",
            "pub(crate) ",
            "static",
            "FSTYPE_NAMES",
            "&[(u32, &str)]",
            [f"({v:#x}, {rust_str(n)})" for v, n in t["fstype"]],
        )
    else:
        w.raw("// This libaudit has no audit_fstype_to_name/audit_name_to_fstype.")
        w.raw("")
    if t["uring"] is not None:
        w.table(
            "io_uring operation names (`audit_uringop_to_name`): (op, name).",
            "pub(crate) ",
            "static",
            "IO_URING_OPS",
            "&[(u32, &str)]",
            num_str(t["uring"]),
        )
    else:
        w.raw(
            f"// libaudit {t['version']} has no audit_uringop_to_name: no io_uring operation "
            "names (no IO_URING_OPS)."
        )
        w.raw("")
    w.table(
        "Filter list names (`audit_flag_to_name`): (`AUDIT_FILTER_*`, name).",
        "pub(crate) ",
        "static",
        "FLAG_NAMES",
        "&[(u32, &str)]",
        num_str(t["flags"]),
    )
    w.table(
        "Rule action names (`audit_action_to_name`): (`AUDIT_NEVER`/..., name).",
        "pub(crate) ",
        "static",
        "ACTION_NAMES",
        "&[(u32, &str)]",
        num_str(t["actions"]),
    )
    w.table(
        "Operator symbols (`audit_operator_to_symbol`): (`AUDIT_*` operator bits, symbol).",
        "pub(crate) ",
        "static",
        "OPERATOR_NAMES",
        "&[(u32, &str)]",
        [f"({v:#010x}, {rust_str(n)})" for v, n in t["operators"]],
    )
    w.table(
        "`-C` field comparisons: (`AUDIT_COMPARE_*`, left field, right field) as auditctl lists\n"
        "them (`-C {left}{op}{right}`; from auditctl-listing.c, checked against libaudit).\n"
        "libaudit's parser accepts each pair in either order, and field aliases (`loginuid`).",
        "pub(crate) ",
        "static",
        "FIELD_COMPARE",
        "&[(u32, &str, &str)]",
        [f"({v}, {rust_str(a)}, {rust_str(b)})" for v, a, b in t["compare"]],
    )
    if t["perm_syscalls"] is not None:
        for m, n in machines:
            w.doc(
                f"What `-F arch={n} -F perm=` adds to the syscall mask: (`AUDIT_PERM_*` bit,\n"
                "syscall numbers); lib/permtab.h's names filtered by this machine's table."
            )
            w.raw(f"pub(crate) static PERM_SYSCALLS_{sfx[m]}: &[(u32, &[u32])] = &[")
            for bit, nrs in t["perm_syscalls"][m]:
                w.raw(f"    ({bit}, &[{', '.join(str(x) for x in nrs)}]),")
            w.raw("];")
            w.raw("")
        w.doc("The perm expansion of a machine (`MACH_*` value), or `None`.")
        w.raw("pub(crate) fn perm_syscalls_for_machine(")
        w.raw("    machine: u32,")
        w.raw(") -> Option<&'static [(u32, &'static [u32])]> {")
        w.raw("    match machine {")
        for m, _ in machines:
            w.raw(f"        {m} => Some(PERM_SYSCALLS_{sfx[m]}),")
        w.raw("        _ => None,")
        w.raw("    }")
        w.raw("}")
        w.raw("")
    return rustfmt(w.text())


def rustfmt(text):
    """The text as `cargo fmt` leaves it (rustfmt with the workspace's rustfmt.toml), so
    that the committed file is both generated and formatted; unchanged without rustfmt."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        p = subprocess.run(
            ["rustfmt", "--edition", "2021", "--config-path", os.path.join(root, "rustfmt.toml"),
             "--emit", "stdout"],
            input=text, capture_output=True, text=True)
    except OSError:
        return text
    if p.returncode != 0:
        raise Fail(f"rustfmt failed: {p.stderr.strip()}")
    return p.stdout


# --------------------------------------------------------------------------


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("output", help="path of generated.rs")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("--lib", help="the libaudit.so.1 to read (default: the installed one)")
    ap.add_argument("--source-version", help="the version to name in the header (with --lib)")
    args = ap.parse_args(argv)
    try:
        lib = load_libaudit(args.lib)
        tables = collect(lib, args.source_version)
    except Fail as e:
        print(f"codegen: {e}", file=sys.stderr)
        return 2
    text = render(tables)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                old = f.read()
        except FileNotFoundError:
            print(f"codegen --check: {args.output} does not exist", file=sys.stderr)
            return 1
        if old == text:
            print(f"codegen --check: {args.output} is up to date")
            return 0
        diff = list(
            difflib.unified_diff(
                old.splitlines(), text.splitlines(), "existing", "regenerated", lineterm="", n=1
            )
        )
        added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
        removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
        print(
            f"codegen --check: {args.output} is stale (+{added} -{removed} lines); "
            "run `cargo xtask codegen`",
            file=sys.stderr,
        )
        for line in diff[:60]:
            print(line, file=sys.stderr)
        if len(diff) > 60:
            print(f"... ({len(diff) - 60} more diff lines)", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)
    print(f"codegen: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
