#!/usr/bin/env python3
"""Regenerate nlaudit's golden rule vectors from the real auditctl.

nlaudit's rule parser and its `list` output must match auditctl byte for byte.
This script records what the installed auditctl (Debian bookworm: 3.0.9) and
the running kernel actually do with every line of

    tests/data/rules-valid.txt    (rules auditctl accepts)
    tests/data/rules-invalid.txt  (rules auditctl or the kernel refuses)

and writes

    tests/data/golden-valid.tsv    input exit stderr listed hex
    tests/data/golden-invalid.tsv  input exit stdout stderr added

For a valid line it snapshots the kernel rule list over NETLINK_AUDIT
(AUDIT_LIST_RULES), runs `auditctl <line>` (the line shlex-split, nothing
added), finds the rule(s) that appeared, captures `auditctl -l` for them, and
then deletes exactly those rules again by sending AUDIT_DEL_RULE with the
payload bytes the kernel listed.  For an invalid line it runs auditctl,
records exit code, stdout and stderr, and checks that no rule appeared (one
that did is recorded with added=1 and deleted again).

The kernel's audit rule list is global.  The script never deletes a rule it
did not see appear across its own auditctl call, never sends anything but
AUDIT_LIST_RULES and AUDIT_DEL_RULE itself, and checks at the end that the
list is what it was at the start.  It must run as root, on a machine whose
audit state it may add (and remove) rules on.

TSV format: the first lines start with `#` (a header naming the auditctl
version and `uname -r`, then the column names).  Every other line is one
input line, its fields separated by a tab.  Field values are bytes escaped
with backslash escapes: `\\\\` for a backslash, `\\t`, `\\n`, `\\r`, and `\\xNN`
for every other byte below 0x20 or at/above 0x7f (so the text is ASCII and
the original bytes are recovered exactly).  Several kernel rules for one line
are joined with a (escaped) newline in `listed` and with `,` in `hex`.

A valid line must exit 0 and add a rule.  An invalid line must add no rule;
it normally exits 255, but auditctl also "refuses" with exit 0 (the
deprecated `possible` action prints an error and adds nothing).

Exit status: 0 when the split in the two input files is true for this
machine and the kernel list ended as it started; 1 otherwise (misfiled lines
are printed so that they can be moved); 2 on a usage or environment error.
"""

import argparse
import os
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import time

NETLINK_AUDIT = 9
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
AUDIT_DEL_RULE = 1012
AUDIT_LIST_RULES = 1013
AUDIT_MAX_FIELDS = 64
AUDIT_BITMASK_SIZE = 64
# struct audit_rule_data: flags, action, field_count, mask[64], fields[64],
# values[64], fieldflags[64], buflen, then buf[buflen]
RULE_HDR = 4 * (3 + AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS + 1)
NLMSG_HDR = struct.Struct("=IHHII")


class NetlinkError(Exception):
    def __init__(self, errno_, what):
        super().__init__(f"{what}: kernel answered {os.strerror(errno_)} (errno {errno_})")
        self.errno = errno_


class Audit:
    """A minimal NETLINK_AUDIT client: list rules, delete one rule."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
        self.sock.bind((0, 0))
        self.sock.settimeout(5.0)
        self.seq = int(time.time()) & 0xFFFF

    def close(self):
        self.sock.close()

    def _send(self, msg_type, payload, flags):
        self.seq += 1
        hdr = NLMSG_HDR.pack(NLMSG_HDR.size + len(payload), msg_type, flags, self.seq, 0)
        self.sock.sendto(hdr + payload, (0, 0))
        return self.seq

    def _messages(self):
        data = self.sock.recv(1 << 20)
        off = 0
        while off + NLMSG_HDR.size <= len(data):
            length, mtype, flags, seq, pid = NLMSG_HDR.unpack_from(data, off)
            if length < NLMSG_HDR.size:
                break
            yield mtype, seq, data[off + NLMSG_HDR.size : off + length]
            off += (length + 3) & ~3

    def list_rules(self):
        """Returns the kernel's rules as a list of audit_rule_data payloads."""
        seq = self._send(AUDIT_LIST_RULES, b"", NLM_F_REQUEST | NLM_F_ACK)
        rules, acked, done = [], False, False
        while not (acked and done):
            for mtype, mseq, payload in self._messages():
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", payload)
                    if err:
                        raise NetlinkError(-err, "AUDIT_LIST_RULES")
                    acked = True
                elif mtype == NLMSG_DONE:
                    done = True
                elif mtype == AUDIT_LIST_RULES:
                    (buflen,) = struct.unpack_from("=I", payload, RULE_HDR - 4)
                    rules.append(bytes(payload[: RULE_HDR + buflen]))
        return rules

    def delete_rule(self, payload):
        seq = self._send(AUDIT_DEL_RULE, payload, NLM_F_REQUEST | NLM_F_ACK)
        while True:
            for mtype, mseq, msg in self._messages():
                if mseq == seq and mtype == NLMSG_ERROR:
                    (err,) = struct.unpack_from("=i", msg)
                    if err:
                        raise NetlinkError(-err, "AUDIT_DEL_RULE")
                    return


def escape(value):
    """Backslash-escapes bytes (or UTF-8 text) into one ASCII TSV field."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    out = []
    for b in value:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x09:
            out.append("\\t")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b < 0x20 or b >= 0x7F:
            out.append("\\x%02x" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def read_lines(path):
    """The input lines: blank lines and lines starting with '#' are skipped."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            lines.append(line)
    return lines


def run_auditctl(auditctl, args):
    p = subprocess.run([auditctl] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def listing(audit, auditctl):
    """A consistent (payloads, `auditctl -l` lines) pair, or None."""
    for _ in range(5):
        before = audit.list_rules()
        rc, out, err = run_auditctl(auditctl, ["-l"])
        after = audit.list_rules()
        if rc != 0:
            raise RuntimeError(f"auditctl -l failed ({rc}): {err!r}")
        if before != after:
            continue
        lines = out.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if not before and lines == [b"No rules"]:
            lines = []
        if len(lines) == len(before):
            return before, lines
        time.sleep(0.05)
    return None


def new_rules(before, after):
    """Payloads in `after` that are not in `before` (in listing order)."""
    seen = {}
    for p in before:
        seen[p] = seen.get(p, 0) + 1
    out = []
    for p in after:
        if seen.get(p, 0):
            seen[p] -= 1
        else:
            out.append(p)
    return out


class Runner:
    def __init__(self, audit, auditctl, log):
        self.audit = audit
        self.auditctl = auditctl
        self.log = log
        self.problems = []

    def attempt(self, line, split):
        """Runs one line; returns (rc, out, err, [(payload, listed)], mine) or
        None when someone else changed the rule list meanwhile (retry)."""
        args = split(line)
        base = self.audit.list_rules()
        rc, out, err = run_auditctl(self.auditctl, args)
        snap = listing(self.audit, self.auditctl)
        if snap is None:
            return None
        rules, lines = snap
        index = {}
        for i, p in enumerate(rules):
            index.setdefault(p, i)
        added = [(p, lines[index[p]]) for p in new_rules(base, rules)]
        # auditctl sends at most one AUDIT_ADD_RULE per call and exits 0
        # exactly when the kernel took it.
        if rc == 0:
            if not added:
                # Either auditctl did nothing (`possible` is eaten with
                # exit 0) or our rule vanished again (someone ran -D).
                return rc, out, err, added, False
            if len(added) > 1:
                raise RuntimeError(
                    f"{len(added)} rules appeared for one call, someone else is adding "
                    f"rules right now; none deleted: {[l for _, l in added]}")
            return rc, out, err, added, True
        if added:
            # auditctl failed, yet rules appeared: not attributable to us.
            self.problems.append(f"rules appeared while {line!r} failed (not deleted): "
                                 f"{[l for _, l in added]}")
        return rc, out, err, added, False

    def cleanup(self, added):
        for payload, listed in added:
            try:
                self.audit.delete_rule(payload)
            except NetlinkError as e:
                self.problems.append(f"cannot delete {listed!r}: {e}")
                self.log(f"  ERROR cannot delete {listed!r}: {e}")

    def run(self, line, split=shlex.split):
        for n in range(5):
            res = self.attempt(line, split)
            if res is not None and res[0] == 0 and not res[3] and n < 2:
                res = None  # exit 0 but no rule: make sure it is repeatable
            if res is not None:
                rc, out, err, added, mine = res
                if rc != 0 and b"Rule exists" in err:
                    self.log(f"  SKIPPED (rule already present in the kernel): {line}")
                    self.problems.append(f"skipped, already present: {line}")
                if mine:
                    self.cleanup(added)
                return rc, out, err, added
            time.sleep(0.2)
        raise RuntimeError(f"the kernel rule list keeps changing under us: {line}")


def header(auditctl, columns):
    version = subprocess.run([auditctl, "-v"], capture_output=True, text=True).stdout.strip()
    kernel = os.uname().release
    return (
        f"# {version}; uname -r {kernel}; generated by xtask/golden.py\n"
        "# " + "\t".join(columns) + "\n"
    )


def split_rules_line(line):
    """A rules-file line split as auditctl -R splits it: on spaces, `\ ` keeps a
    space inside a token and `\\` is a backslash (nlaudit_rules::split_line)."""
    out, cur, i = [], [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] in " \\":
            cur.append(line[i + 1])
            i += 2
            continue
        if c == " ":
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
        i += 1
    if cur:
        out.append("".join(cur))
    return out


def corpus_lines(directory):
    """The rule lines (`-a`, `-A`, `-w`) of every *.rules file of a directory,
    in name order: what tests/conformance.rs feeds to both auditctls."""
    lines = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".rules"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for raw in f:
                t = raw.strip()
                if not t or t.startswith("#"):
                    continue
                words = split_rules_line(t)
                if words and words[0][:2] in ("-a", "-A", "-w"):
                    lines.append(t)
    return lines


def valid_row(line, rc, err, added):
    listed = b"\n".join(l for _, l in added)
    hexes = ",".join(p.hex() for p, _ in added)
    return "\t".join([escape(line), str(rc), escape(err), escape(listed), hexes]) + "\n"


def invalid_row(line, rc, out, err, added):
    return "\t".join([escape(line), str(rc), escape(out), escape(err),
                      "1" if added else "0"]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="workspace root (default: the parent of this script's folder)")
    ap.add_argument("--auditctl", default=shutil.which("auditctl") or "/sbin/auditctl")
    ap.add_argument("--generation", choices=["3", "4"], default="3",
                    help="which reference the auditctl is (3.0.9 or 4.2.x): names the files")
    ap.add_argument("--only", choices=["valid", "invalid", "corpus"],
                    help="do one of the inputs")
    ap.add_argument("--corpus", action="append", default=[], metavar="NAME=DIR",
                    help="also record the rule lines of DIR/*.rules as golden-corpus-NAME.tsv")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()

    def log(msg):
        if not a.quiet or msg.startswith("  "):
            print(msg, file=sys.stderr, flush=True)

    if os.geteuid() != 0:
        print("golden.py: must run as root (it adds and deletes audit rules)", file=sys.stderr)
        return 2
    if not os.path.exists(a.auditctl):
        print(f"golden.py: auditctl not found ({a.auditctl})", file=sys.stderr)
        return 2
    version = subprocess.run([a.auditctl, "-v"], capture_output=True, text=True).stdout
    want = "version 3." if a.generation == "3" else "version 4."
    if want not in version:
        print(f"golden.py: {a.auditctl} says {version.strip()!r}, not generation "
              f"{a.generation}", file=sys.stderr)
        return 2

    data = os.path.join(a.root, "tests", "data")
    # Generation 3 keeps its historic names; generation 4 writes golden4-*.
    prefix = "golden" if a.generation == "3" else "golden4"
    audit = Audit()
    start = listing(audit, a.auditctl)
    if start is None:
        print("golden.py: cannot get a stable rule list", file=sys.stderr)
        return 2
    start_text = run_auditctl(a.auditctl, ["-l"])[1]
    if start[0]:
        log(f"note: {len(start[0])} rule(s) already loaded; they are left alone")
    runner = Runner(audit, a.auditctl, log)
    wrong = []
    # Generation 3 is the corpus' own split (a misfiled line is an error); for
    # generation 4 the same lines are filed by what 4.x did with them, and the
    # lines whose fate differs from 3.0.9's are counted, not refused.
    moved = []
    valid_rows = [header(a.auditctl, ["input", "exit", "stderr", "listed", "hex"])]
    invalid_rows = [header(a.auditctl, ["input", "exit", "stdout", "stderr", "added"])]

    if a.only in (None, "valid"):
        lines = read_lines(os.path.join(data, "rules-valid.txt"))
        multi = warned = 0
        for n, line in enumerate(lines, 1):
            log(f"[valid {n}/{len(lines)}] {line}")
            rc, out, err, added = runner.run(line)
            if rc != 0 or not added:
                if a.generation == "3":
                    wrong.append(("valid", line, rc, err))
                else:
                    moved.append(("valid", line, rc, err))
                    invalid_rows.append(invalid_row(line, rc, out, err, added))
                    continue
            if out:
                log(f"  note: stdout {out!r}")
            multi += len(added) > 1
            warned += bool(err)
            valid_rows.append(valid_row(line, rc, err, added))
        print(f"golden.py: valid: {len(lines)} lines, {multi} with several kernel rules, "
              f"{warned} with stderr", file=sys.stderr)

    if a.only in (None, "invalid"):
        lines = read_lines(os.path.join(data, "rules-invalid.txt"))
        refused = 0
        for n, line in enumerate(lines, 1):
            log(f"[invalid {n}/{len(lines)}] {line}")
            rc, out, err, added = runner.run(line)
            refused += rc != 0
            if added and a.generation == "4" and rc == 0:
                moved.append(("invalid", line, rc, err))
                valid_rows.append(valid_row(line, rc, err, added))
                continue
            if added:
                wrong.append(("invalid", line, rc, err))
                log(f"  ADDED (and deleted again): {[l for _, l in added]}")
            invalid_rows.append(invalid_row(line, rc, out, err, added))
        print(f"golden.py: invalid: {len(lines)} lines, {refused} refused with an error exit, "
              f"{len(lines) - refused} exited 0 without adding a rule", file=sys.stderr)

    if a.only in (None, "valid", "invalid"):
        if a.only in (None, "valid") or a.generation == "4":
            with open(os.path.join(data, f"{prefix}-valid.tsv"), "w", encoding="ascii") as f:
                f.writelines(valid_rows)
        if a.only in (None, "invalid") or a.generation == "4":
            with open(os.path.join(data, f"{prefix}-invalid.tsv"), "w", encoding="ascii") as f:
                f.writelines(invalid_rows)

    # Rules-file corpora (Debian's examples, 4.x's own rules/): every rule line,
    # accepted or not, in one file per corpus and generation.  The rule files
    # themselves are not copied into the repository, only these outcomes.
    if a.only in (None, "corpus"):
        for spec in a.corpus:
            name, _, directory = spec.partition("=")
            if not name or not directory or not os.path.isdir(directory):
                print(f"golden.py: --corpus {spec!r}: want NAME=DIR", file=sys.stderr)
                return 2
            lines = corpus_lines(directory)
            rows = [header(a.auditctl, ["input", "exit", "stderr", "listed", "hex"])]
            accepted = 0
            for n, line in enumerate(lines, 1):
                log(f"[{name} {n}/{len(lines)}] {line}")
                rc, out, err, added = runner.run(line, split_rules_line)
                accepted += rc == 0 and bool(added)
                rows.append(valid_row(line, rc, err, added))
            with open(os.path.join(data, f"{prefix}-corpus-{name}.tsv"), "w",
                      encoding="ascii") as f:
                f.writelines(rows)
            print(f"golden.py: corpus {name}: {len(lines)} rule lines, {accepted} accepted",
                  file=sys.stderr)

    end_text = run_auditctl(a.auditctl, ["-l"])[1]
    audit.close()
    status = 0
    if end_text != start_text:
        print("golden.py: WARNING: `auditctl -l` differs from the start:\n"
              f"before: {start_text!r}\nafter:  {end_text!r}", file=sys.stderr)
        status = 1
    for p in runner.problems:
        print(f"golden.py: {p}", file=sys.stderr)
        status = 1
    for kind, line, rc, err in wrong:
        print(f"golden.py: misfiled {kind} line (exit {rc}): {line}\n    {err!r}", file=sys.stderr)
        status = 1
    for kind, line, rc, err in moved:
        print(f"golden.py: generation {a.generation} files this {kind} line otherwise "
              f"(exit {rc}): {line}\n    {err!r}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
