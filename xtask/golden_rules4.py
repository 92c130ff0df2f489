#!/usr/bin/env python3
"""Records tests/data/golden4-rules.tsv: `auditctl -R FILE` of the real auditctl 4.2.1 for
a set of rules files (stdout, stderr, exit code). Run as root, on a kernel with no rules,
under the kernel test lock:

    flock /run/nlaudit-tests.lock python3 xtask/golden_rules4.py BUILD/src/auditctl [CMD...]

With CMD (e.g. `target/debug/nlaudit --auditctl 4 auditctl`), it runs that instead and
prints the differences from the committed file rather than writing it. `{D}` in the file
stands for the scratch directory, `{K}` for the rules' key. Deletes every rule after each
file (the kernel must have none to start with); never sets enabled or failure.
"""
import os, subprocess, sys, shutil

K = "nlt-g4r"
D = "/tmp/nlaudit-golden4-rules"
LONG = "x" * 7000
# name, mode, content ({D}, {K} substituted); mode None: not written (missing / special)
CASES = [
    ("good", 0o640, "# comment\n-D -k {K}\n\n-w {D}/w/r1 -p wa -k {K}\n-a always,exit -F arch=b64 -S mkdir,rmdir -k {K}\n   \n-l -k {K}\n"),
    ("empty", 0o600, ""),
    ("comments", 0o644, "# only\n\n   # indented\n"),
    ("errfirst", 0o640, "-a always,exit -F foo=1\n-l -k {K}\n"),
    ("erradd", 0o640, "-w {D}/w/r2 -k {K}\n-a always,exit -F foo=1\n-w {D}/w/r3 -k {K}\n"),
    ("ignore", 0o640, "-i\n-a always,exit -F foo=1\n\t-l\n-w {D}/w/r4 -k {K}\n-z\n#" + LONG + "\n-w {D}/w/r5 -k {K}\n-l -k {K}\n"),
    ("cont", 0o640, "-c\n-a bogus,exit\n-w {D}/w/r6 -k {K}\n"),
    ("exists", 0o640, "-w {D}/w/r7 -k {K}\n-w {D}/w/r7 -k {K}\n"),
    ("mismatch", 0o640, "-a always,exit -S open -k {K}\n-a always,exit -S open -k {K}\n"),
    ("nested", 0o640, "-R /etc/audit/audit.rules\n"),
    ("nested-after", 0o640, "-w {D}/w/r8 -k {K}\n-R /etc/audit/audit.rules\n"),
    ("badsetting", 0o640, "-e 5\n"),
    ("badsetting-after", 0o640, "-w {D}/w/r9 -k {K}\n-e 5\n-b x\n"),
    ("possible", 0o640, "-a possible,exit\n-w {D}/w/r10 -k {K}\n"),
    ("crlf", 0o640, "-w {D}/w/r11 -k {K}\r\n-l -k {K}\r\n"),
    ("escapes", 0o640, "-w {D}/w/with\\ space -k {K}\n-l -k {K}\n-w {D}/w/b\\\\s -k {K}\\ x\n-l -k {K}\\ x\n"),
    ("listing", 0o640, "-w {D}/w/r12 -k {K}\n-l -k {K}\n-l -i -k {K}\n-v\n-l -k {K}\n"),
    ("delete", 0o640, "-W {D}/w/none -k {K}\n"),
    ("delete-after", 0o640, "-w {D}/w/r13 -k {K}\n-W {D}/w/r13 -k {K}\n-W {D}/w/r13 -k {K}\n"),
    ("invalid", 0o640, "-x\n"),
    ("invalid-after", 0o640, "-w {D}/w/r14 -k {K}\n-x\n"),
    ("key-after", 0o640, "-w {D}/w/r15 -k {K}\n-k {K}\n"),
    ("help", 0o640, "-h\n"),
    ("help-after", 0o640, "-w {D}/w/r16 -k {K}\n-h\n-h x\n-l -k {K}\n"),
    ("stray-after", 0o640, "-w {D}/w/r17 -k {K}\n-l x\n"),
    ("quiet-after", 0o640, "-w {D}/w/r18 -k {K}\n-a always,exit -S open,nosuch -k {K}\n"),
    ("ignore-after", 0o640, "-i\n-w {D}/w/r19 -k {K}\n-x\n-a always,exit -F foo=1 -k {K}\n-s x\n-l -k {K}\n"),
    ("cont-after", 0o640, "-c\n-w {D}/w/r20 -k {K}\n-x\n-w {D}/w/r21 -k {K}\n"),
    ("noopt", 0o640, "- l\nl\n"),
    ("noopt-after", 0o640, "-w {D}/w/r22 -k {K}\nl\n"),
    ("tabs", 0o640, "-w\t{D}/w/r23\n"),
    ("nul", 0o640, "-w {D}/w/r24 -k {K}\0junk\n-l -k {K}\n"),
    ("long", 0o640, "-w {D}/w/r25 -k " + LONG + "\n"),
    ("keylong", 0o640, "-w {D}/w/r26 -k {K}\n-w {D}/w/r27 -k " + "k" * 300 + "\n"),
    ("worldw", 0o666, "-l -k {K}\n"),
    ("notroot", 0o640, "-l -k {K}\n"),
    ("missing", None, ""),
    ("dir", None, ""),
]


def sub(s):
    return s.replace("{D}", D).replace("{K}", K)


def esc(b):
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x0D:
            out.append("\\r")
        elif c < 0x20 or c >= 0x7F:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def placeholders(b):
    return esc(b).replace(D, "{D}").replace(K, "{K}")


def rules():
    return subprocess.run(["auditctl", "-l"], capture_output=True).stdout


def main():
    cmd = sys.argv[1:]
    if rules() != b"No rules\n":
        sys.exit("the kernel has rules: refusing to record")
    shutil.rmtree(D, ignore_errors=True)
    os.makedirs(D + "/w")
    rows = []
    for name, mode, content in CASES:
        path = f"{D}/{name}.rules" if name != "dir" else D + "/w"
        if mode is not None:
            with open(path, "wb") as f:
                f.write(sub(content).encode())
            os.chmod(path, mode)
            if name == "notroot":
                os.chown(path, 65534, -1)
        r = subprocess.run(cmd + ["-R", path], capture_output=True, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, LC_ALL="C"))
        subprocess.run(["auditctl", "-D"], capture_output=True)
        rows.append("\t".join([name, "-" if mode is None else "%o" % mode, placeholders(content.encode()),
                               str(r.returncode), placeholders(r.stdout), placeholders(r.stderr)]))
    shutil.rmtree(D, ignore_errors=True)
    header = ["# auditctl -R FILE of the real auditctl 4.2.1 (uname -r %s); recorded by xtask/golden_rules4.py" % os.uname().release,
              "# name\tmode\tcontent\texit\tstdout\tstderr"]
    text = "\n".join(header + rows) + "\n"
    sys.stdout.write(text)


main()
