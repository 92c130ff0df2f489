//! How records are written: auditd 3.0.9's `RAW` line, and the JSON events of
//! docs/events.md (one object per event). `ENRICHED` is RAW plus [`crate::enrich`].
//!
//! [`EventJson`] is the one event object: `nlaudit events --json` prints it and
//! `nlaudit daemon --log-format json` writes it (the daemon's own `DAEMON_*` records too), so
//! the two cannot drift apart; docs/schemas/events.schema.json is its schema, version
//! [`EVENTS_SCHEMA`].
//!
//! The RAW line is auditd's `format_raw` (src/auditd-event.c): `type=NAME msg=` and the
//! record's text up to its length or its first NUL, newlines turned into spaces, one
//! trailing space trimmed, and the whole cut to `MAX_AUDIT_MESSAGE_LENGTH - 33` bytes as its
//! `snprintf` does. `node=NAME ` comes first when `name_format` asks for it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use nlaudit_proto::records::{Event, Record, AUDIT_CWD, AUDIT_PROCTITLE};
use nlaudit_proto::MsgType;
use nlaudit_rules::tables::{msgtype_name, Machine};
use serde::Serialize;

/// `MAX_AUDIT_MESSAGE_LENGTH` (libaudit.h): auditd formats into a buffer of this size minus
/// 32, so a RAW line holds at most this minus 33 bytes.
pub const MAX_AUDIT_MESSAGE_LENGTH: usize = 8970;

/// A record type's name as auditd prints it (`SYSCALL`, or `UNKNOWN[1335]` for a number the
/// message-type table does not name).
pub fn type_name(ty: MsgType) -> Cow<'static, str> {
    msgtype_name(u32::from(ty.0))
        .map_or_else(|| Cow::Owned(format!("UNKNOWN[{}]", ty.0)), Cow::Borrowed)
}

/// The name of the event's syscall (`openat`), from its `arch` and number.
pub fn syscall_name(e: &Event) -> Option<&'static str> {
    Machine::from_elf(e.arch()?)?.syscall_name(e.syscall()?)
}

/// `2026-11-26T01:16:32.830Z`: the stamp's time in UTC.
pub fn iso_time(secs: u64, millis: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
    // Algorithms"), for years 0 to 584 billion: the input is unsigned.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Appends one RAW line (without its newline) for a record of type `ty` whose payload is
/// `payload` (`audit(...): ...` as the kernel sent it). `node` is the `node=` name, if any.
pub fn raw_line(out: &mut Vec<u8>, node: Option<&str>, ty: MsgType, payload: &[u8]) {
    let start = out.len();
    if let Some(n) = node {
        out.extend_from_slice(b"node=");
        out.extend_from_slice(n.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(b"type=");
    out.extend_from_slice(type_name(ty).as_bytes());
    out.extend_from_slice(b" msg=");
    // `%.*s`: up to the length or the first NUL.
    let text = payload.iter().position(|&b| b == 0).map_or(payload, |i| &payload[..i]);
    let body = out.len();
    out.extend_from_slice(text);
    for b in &mut out[body..] {
        if *b == b'\n' {
            *b = b' ';
        }
    }
    out.truncate(start + (out.len() - start).min(MAX_AUDIT_MESSAGE_LENGTH - 33));
    if out.len() > start && out.last() == Some(&b' ') {
        out.pop();
    }
}

/// The `syscall` object of an event's JSON.
#[derive(Debug, Serialize)]
pub struct SyscallJson {
    /// The machine's name (`x86_64`), or the `arch` in hex when unknown.
    pub arch: Option<String>,
    /// The syscall number.
    pub number: Option<u32>,
    /// Its name on that machine.
    pub name: Option<&'static str>,
    /// `success=yes`.
    pub success: Option<bool>,
    /// `exit=`.
    pub exit: Option<i64>,
}

/// One record in an event's JSON.
#[derive(Debug, Serialize)]
pub struct RecordJson {
    /// The type's name (`SYSCALL`, `UNKNOWN[1999]`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The type's number.
    pub type_id: u16,
    /// The fields, decoded; `null` for `(null)`; the first of repeated names.
    pub fields: BTreeMap<String, Option<String>>,
}

/// The `schema` version of [`EventJson`] (docs/schemas/events.schema.json): raised when a
/// key changes meaning or goes away, not when one is added.
pub const EVENTS_SCHEMA: u32 = 1;

/// One event as docs/events.md describes it (the object `nlaudit events --json` prints and
/// `nlaudit daemon --log-format json` writes, one per line).
#[derive(Debug, Serialize)]
pub struct EventJson {
    /// [`EVENTS_SCHEMA`]; first, so that a reader sees the version before the rest.
    pub schema: u32,
    /// The stamp's time in UTC (`2026-11-27T01:24:52.946Z`).
    pub time: String,
    /// `SECS.MSEC:SERIAL`.
    pub stamp: String,
    /// Seconds since the epoch.
    pub secs: u64,
    /// Milliseconds.
    pub millis: u32,
    /// The serial.
    pub serial: u64,
    /// The rule keys.
    pub keys: Vec<String>,
    /// The syscall, for events with a SYSCALL record.
    pub syscall: Option<SyscallJson>,
    /// SYSCALL's `comm`.
    pub comm: Option<String>,
    /// SYSCALL's `exe`.
    pub exe: Option<String>,
    /// CWD's `cwd`.
    pub cwd: Option<String>,
    /// Every PATH's `name`.
    pub paths: Vec<Option<String>>,
    /// PROCTITLE's command line.
    pub proctitle: Option<String>,
    /// Why the event ended (`eoe`, `single`, `idle`, ...).
    pub end: &'static str,
    /// Records over the per-event limit.
    pub dropped_records: usize,
    /// The records.
    pub records: Vec<RecordJson>,
}

fn fields_json(r: &Record) -> BTreeMap<String, Option<String>> {
    let mut m = BTreeMap::new();
    for f in &r.fields {
        m.entry(f.name.clone()).or_insert_with(|| f.value.text().map(Cow::into_owned));
    }
    m
}

impl EventJson {
    /// The JSON form of an event.
    pub fn new(e: &Event) -> EventJson {
        let text = |ty: MsgType, name: &str| -> Option<String> {
            e.record(ty).and_then(|r| r.text_of(name)).map(Cow::into_owned)
        };
        let syscall = e.record(MsgType::AUDIT_SYSCALL).map(|sc| {
            let arch = e.arch();
            SyscallJson {
                arch: arch
                    .and_then(Machine::from_elf)
                    .and_then(Machine::name)
                    .map(str::to_string)
                    .or_else(|| arch.map(|a| format!("{a:x}"))),
                number: e.syscall(),
                name: syscall_name(e),
                success: sc.text_of("success").map(|s| s == "yes"),
                exit: sc.text_of("exit").and_then(|s| s.parse::<i64>().ok()),
            }
        });
        EventJson {
            schema: EVENTS_SCHEMA,
            time: iso_time(e.stamp.secs, e.stamp.millis),
            stamp: e.stamp.to_string(),
            secs: e.stamp.secs,
            millis: e.stamp.millis,
            serial: e.stamp.serial,
            keys: e.keys(),
            syscall,
            comm: text(MsgType::AUDIT_SYSCALL, "comm"),
            exe: text(MsgType::AUDIT_SYSCALL, "exe"),
            cwd: text(AUDIT_CWD, "cwd"),
            paths: e.paths(),
            proctitle: text(AUDIT_PROCTITLE, "proctitle"),
            end: e.end.name(),
            dropped_records: e.dropped_records,
            records: e
                .records
                .iter()
                .map(|r| RecordJson {
                    ty: type_name(r.ty).into_owned(),
                    type_id: r.ty.0,
                    fields: fields_json(r),
                })
                .collect(),
        }
    }
}

/// Appends an event's JSON line (with its newline).
pub fn json_line(out: &mut Vec<u8>, e: &Event) {
    // Serializing plain structs of strings and numbers into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, &EventJson::new(e)).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(node: Option<&str>, ty: u16, payload: &[u8]) -> String {
        let mut v = Vec::new();
        raw_line(&mut v, node, MsgType(ty), payload);
        String::from_utf8_lossy(&v).into_owned()
    }

    #[test]
    fn raw_lines() {
        for (node, ty, payload, want) in [
            (
                None,
                1300,
                &b"audit(1.002:3): arch=c000003e syscall=110"[..],
                "type=SYSCALL msg=audit(1.002:3): arch=c000003e syscall=110",
            ),
            (None, 1999, b"audit(1.002:3): x=1", "type=UNKNOWN[1999] msg=audit(1.002:3): x=1"),
            (None, 1335, b"audit(1.002:3): x=1", "type=EVENT_LISTENER msg=audit(1.002:3): x=1"),
            // One trailing space is trimmed; newlines become spaces; a NUL ends the text.
            (None, 1305, b"audit(1.002:3): op=x ", "type=CONFIG_CHANGE msg=audit(1.002:3): op=x"),
            (None, 1305, b"audit(1.002:3): a\nb\n", "type=CONFIG_CHANGE msg=audit(1.002:3): a b"),
            (None, 1305, b"audit(1.002:3): a\0junk", "type=CONFIG_CHANGE msg=audit(1.002:3): a"),
            (
                Some("web1"),
                1305,
                b"audit(1.002:3): a",
                "node=web1 type=CONFIG_CHANGE msg=audit(1.002:3): a",
            ),
        ] {
            assert_eq!(raw(node, ty, payload), want);
        }
        let long = [b"audit(1.002:3): ".as_slice(), &[b'x'; 9000]].concat();
        assert_eq!(raw(None, 1305, &long).len(), MAX_AUDIT_MESSAGE_LENGTH - 33);
    }

    #[test]
    fn iso_times() {
        for (secs, millis, want) in [
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
            (1_795_742_192, 830, "2026-11-27T01:16:32.830Z"),
            (4_102_444_799, 999, "2099-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(iso_time(secs, millis), want);
        }
    }

    #[test]
    fn json_of_an_event() {
        let recs = [
            (1300u16, "audit(1795742192.922:5): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=2 auid=4294967295 uid=0 comm=\"sh\" exe=\"/usr/bin/dash\" key=636170610163617062"),
            (1302, "audit(1795742192.922:5): item=0 name=2F746D702F612062 nametype=NORMAL"),
        ];
        let records = recs
            .iter()
            .map(|(t, s)| Record::parse(MsgType(*t), s.as_bytes()).expect("parses"))
            .collect::<Vec<_>>();
        let events = nlaudit_proto::records::EventAssembler::assemble(records);
        let mut v = Vec::new();
        json_line(&mut v, &events[0]);
        let j: serde_json::Value = serde_json::from_slice(&v).expect("json");
        assert_eq!(j["schema"], EVENTS_SCHEMA);
        assert!(v.starts_with(b"{\"schema\":1,"), "{}", String::from_utf8_lossy(&v));
        assert_eq!(j["keys"], serde_json::json!(["capa", "capb"]));
        assert_eq!(j["syscall"]["name"], "openat");
        assert_eq!(j["syscall"]["arch"], "x86_64");
        assert_eq!(j["paths"], serde_json::json!(["/tmp/a b"]));
        assert_eq!(j["records"][1]["type"], "PATH");
        assert_eq!(v.last(), Some(&b'\n'));
    }
}
