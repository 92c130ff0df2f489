//! How events are printed: one line per event for people, one JSON object per event for
//! programs, or the records as auditd writes them. docs/events.md documents all three; the
//! tests below pin them.

use std::borrow::Cow;
use std::fmt::Write as _;

use nlaudit_proto::records::{Event, Value, AUDIT_CWD, AUDIT_EXECVE, AUDIT_PATH, AUDIT_PROCTITLE};
use nlaudit_proto::MsgType;

/// `AUDIT_BPRM_FCAPS` (1321): file capabilities of an exec; in JSON only.
const AUDIT_BPRM_FCAPS: MsgType = MsgType(1321);

/// Records the text line summarizes instead of listing (they accompany SYSCALL).
const SUMMARIZED: &[MsgType] = &[
    MsgType::AUDIT_SYSCALL,
    AUDIT_CWD,
    AUDIT_PATH,
    AUDIT_PROCTITLE,
    AUDIT_EXECVE,
    AUDIT_BPRM_FCAPS,
];

// The names, times and JSON are the daemon's too: they live in nlaudit-daemon.
pub use nlaudit_daemon::format::{iso_time, syscall_name, type_name};

/// A value for the text line: bare when it is a plain word, else in double quotes with `"`,
/// `\` and control characters escaped, so that an event is always one line.
fn quote(s: &str) -> Cow<'_, str> {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            !c.is_control() && !c.is_whitespace() && !matches!(c, '"' | '\'' | '\\' | '=')
        });
    if plain {
        return Cow::Borrowed(s);
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(q, "\\x{:02x}", u32::from(c));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    Cow::Owned(q)
}

fn value_text(v: &Value) -> Cow<'_, str> {
    match v.text() {
        Some(t) => match t {
            Cow::Borrowed(b) => quote(b),
            Cow::Owned(o) => Cow::Owned(quote(&o).into_owned()),
        },
        None => Cow::Borrowed("(null)"),
    }
}

/// One line for people:
/// `TIME SERIAL TYPES [key=..] [syscall summary] [| TYPE fields...]...`.
pub fn text_line(e: &Event) -> String {
    let mut types: Vec<Cow<'static, str>> = Vec::new();
    for r in &e.records {
        let n = type_name(r.ty);
        if !types.contains(&n) {
            types.push(n);
        }
    }
    let mut line = format!(
        "{} {} {}",
        iso_time(e.stamp.secs, e.stamp.millis),
        e.stamp.serial,
        types.join(",")
    );
    let keys = e.keys();
    if !keys.is_empty() {
        let _ = write!(line, " key={}", quote(&keys.join(",")));
    }
    if let Some(sc) = e.record(MsgType::AUDIT_SYSCALL) {
        let name = syscall_name(e).map(Cow::Borrowed).unwrap_or_else(|| {
            Cow::Owned(sc.text_of("syscall").map_or_else(|| "?".into(), |s| s.into_owned()))
        });
        let _ = write!(line, " syscall={}", quote(&name));
        for f in ["success", "exit", "pid", "ppid", "auid", "uid", "euid", "tty", "comm", "exe"] {
            if let Some(v) = sc.field(f) {
                let _ = write!(line, " {f}={}", value_text(v));
            }
        }
        if let Some(v) = e.record(AUDIT_CWD).and_then(|r| r.field("cwd")) {
            let _ = write!(line, " cwd={}", value_text(v));
        }
        for r in e.records.iter().filter(|r| r.ty == AUDIT_PATH) {
            if let Some(v) = r.field("name") {
                let _ = write!(line, " path={}", value_text(v));
            }
        }
        if let Some(v) = e.record(AUDIT_PROCTITLE).and_then(|r| r.field("proctitle")) {
            let _ = write!(line, " proctitle={}", value_text(v));
        }
    }
    let has_syscall = e.record(MsgType::AUDIT_SYSCALL).is_some();
    for r in &e.records {
        if has_syscall && SUMMARIZED.contains(&r.ty) {
            continue;
        }
        if has_syscall || e.records.len() > 1 {
            let _ = write!(line, " | {}", type_name(r.ty));
        }
        for f in r.fields.iter().filter(|f| f.name != "key") {
            let _ = write!(line, " {}={}", quote(&f.name), value_text(&f.value));
        }
    }
    if e.dropped_records > 0 {
        let _ = write!(line, " (+{} records dropped)", e.dropped_records);
    }
    line
}

/// One JSON object for programs, on one line with its newline (schema
/// docs/schemas/events.schema.json, docs/events.md): the daemon's own serializer
/// ([`nlaudit_daemon::format::json_line`]), so `events --json` and the daemon's JSON log are
/// the same bytes, `schema` first, and cannot drift apart.
pub fn json_line(e: &Event) -> String {
    let mut out = Vec::new();
    nlaudit_daemon::format::json_line(&mut out, e);
    // serde_json writes UTF-8 only.
    String::from_utf8_lossy(&out).into_owned()
}

/// The records as auditd's `log_format = RAW` writes them, one line each:
/// `type=SYSCALL msg=audit(1795742192.830:2): arch=...`. The EOE record is not written.
pub fn raw_lines(e: &Event) -> String {
    let mut out = Vec::new();
    for r in &e.records {
        // auditd's format_raw (newlines become spaces): one record per line.
        nlaudit_daemon::format::raw_line(
            &mut out,
            None,
            r.ty,
            r.text.replace('\r', " ").as_bytes(),
        );
        out.push(b'\n');
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsupport::event;
    use serde_json::{json, Value as Json};

    // Captured from kernel 6.18: `echo hi > "/tmp/evcap/d ir/f x"` under
    // `-w "/tmp/evcap/d ir" -p wa -k capa -k capb`.
    const SPACES: &[(u16, &str)] = &[
        (1300, "audit(1795742192.922:5): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55db20c72930 a2=241 a3=1b6 items=1 ppid=23235 pid=23292 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"sh\" exe=\"/usr/bin/dash\" key=636170610163617062"),
        (1307, "audit(1795742192.922:5): cwd=\"/work/main\""),
        (1302, "audit(1795742192.922:5): item=0 name=2F746D702F65766361702F642069722F662078 inode=10011187 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"),
        (1327, "audit(1795742192.922:5): proctitle=7368002D63006563686F206869203E20222F746D702F65766361702F642069722F66207822"),
        (1320, "audit(1795742192.922:5): "),
    ];
    const CONFIG: &[(u16, &str)] = &[
        (1305, "audit(1795742205.654:8): auid=4294967295 ses=4294967295 op=add_rule key=(null) list=4 res=1"),
        (1300, "audit(1795742205.654:8): arch=c000003e syscall=44 success=yes exit=1068 a0=4 a1=7fff63ca7730 a2=42c a3=0 items=0 ppid=23638 pid=23684 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"auditctl\" exe=\"/usr/sbin/auditctl\" key=(null)"),
        (1320, "audit(1795742205.654:8): "),
    ];
    const USER: &[(u16, &str)] = &[(1005, "audit(1795742205.654:9): pid=23686 uid=0 auid=4294967295 ses=4294967295 msg='text=hello from cap2 exe=\"/usr/sbin/auditctl\" hostname=? addr=? terminal=? res=success'")];

    #[test]
    fn quoting() {
        for (s, want) in [
            ("/usr/bin/x", "/usr/bin/x"),
            ("", "\"\""),
            ("a b", "\"a b\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("line\nbreak", "\"line\\x0abreak\""),
            ("k=v", "\"k=v\""),
            ("é", "é"),
        ] {
            assert_eq!(quote(s), want);
        }
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            text_line(&event(SPACES)),
            "2026-11-27T01:16:32.922Z 5 SYSCALL,CWD,PATH,PROCTITLE key=capa,capb syscall=openat \
             success=yes exit=3 pid=23292 ppid=23235 auid=4294967295 uid=0 euid=0 tty=(none) \
             comm=sh exe=/usr/bin/dash cwd=/work/main path=\"/tmp/evcap/d ir/f x\" \
             proctitle=\"sh -c echo hi > \\\"/tmp/evcap/d ir/f x\\\"\""
        );
        assert_eq!(
            text_line(&event(CONFIG)),
            "2026-11-27T01:16:45.654Z 8 CONFIG_CHANGE,SYSCALL syscall=sendto success=yes \
             exit=1068 pid=23684 ppid=23638 auid=4294967295 uid=0 euid=0 tty=(none) \
             comm=auditctl exe=/usr/sbin/auditctl | CONFIG_CHANGE auid=4294967295 \
             ses=4294967295 op=add_rule list=4 res=1"
        );
        assert_eq!(
            text_line(&event(USER)),
            "2026-11-27T01:16:45.654Z 9 USER pid=23686 uid=0 auid=4294967295 ses=4294967295 \
             msg=\"text=hello from cap2 exe=\\\"/usr/sbin/auditctl\\\" hostname=? addr=? \
             terminal=? res=success\""
        );
    }

    fn json(e: &Event) -> Json {
        serde_json::from_str(&json_line(e)).unwrap_or(Json::Null)
    }

    #[test]
    fn json_objects() {
        let line = json_line(&event(SPACES));
        assert!(line.starts_with("{\"schema\":1,\"time\":"), "{line}");
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1, "{line}");
        let j = json(&event(SPACES));
        assert_eq!(j["schema"], 1);
        assert_eq!(j["time"], "2026-11-27T01:16:32.922Z");
        assert_eq!(j["stamp"], "1795742192.922:5");
        assert_eq!(j["serial"], 5);
        assert_eq!(j["keys"], json!(["capa", "capb"]));
        assert_eq!(
            j["syscall"],
            json!({"arch": "x86_64", "number": 257, "name": "openat", "success": true, "exit": 3})
        );
        assert_eq!(j["paths"], json!(["/tmp/evcap/d ir/f x"]));
        assert_eq!(j["cwd"], "/work/main");
        assert_eq!(j["comm"], "sh");
        assert_eq!(j["exe"], "/usr/bin/dash");
        assert_eq!(j["proctitle"], "sh -c echo hi > \"/tmp/evcap/d ir/f x\"");
        assert_eq!(j["end"], "eoe");
        assert_eq!(j["records"][0]["type"], "SYSCALL");
        assert_eq!(j["records"][0]["type_id"], 1300);
        assert_eq!(j["records"][0]["fields"]["key"], "capa\u{1}capb");
        assert_eq!(j["records"][2]["fields"]["name"], "/tmp/evcap/d ir/f x");
        assert_eq!(j["records"].as_array().map(Vec::len), Some(4));
        let u = json(&event(USER));
        assert_eq!(u["syscall"], Json::Null);
        assert_eq!(u["keys"], json!([]));
        assert_eq!(u["end"], "single");
        assert_eq!(u["records"][0]["type"], "USER");
        let c = json(&event(CONFIG));
        assert_eq!(c["records"][0]["fields"]["key"], Json::Null);
        assert_eq!(c["syscall"]["name"], "sendto");
    }

    #[test]
    fn raw_records() {
        assert_eq!(
            raw_lines(&event(CONFIG)),
            "type=CONFIG_CHANGE msg=audit(1795742205.654:8): auid=4294967295 ses=4294967295 \
             op=add_rule key=(null) list=4 res=1\ntype=SYSCALL msg=audit(1795742205.654:8): \
             arch=c000003e syscall=44 success=yes exit=1068 a0=4 a1=7fff63ca7730 a2=42c a3=0 \
             items=0 ppid=23638 pid=23684 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 \
             egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"auditctl\" \
             exe=\"/usr/sbin/auditctl\" key=(null)\n"
        );
        assert_eq!(type_name(MsgType(1335)), "EVENT_LISTENER");
        assert_eq!(type_name(MsgType(1999)), "UNKNOWN[1999]");
    }
}
