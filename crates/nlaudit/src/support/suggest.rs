//! "Did you mean": the known names closest to a mistyped one, and the value and the limit
//! behind an over-long one, for nlaudit's own commands (add, delete, load, apply). The
//! auditctl drop-in keeps auditctl's exact messages: nothing here is used by it.

use nlaudit_proto::consts::{AUDIT_MAX_FIELDS, AUDIT_MAX_KEY_LEN, PATH_MAX};
use nlaudit_rules::parse::{ParseErrorKind as K, RULE_ACTIONS, RULE_LISTS};
use nlaudit_rules::{Context, ParseError};

/// `NAME_MAX`: the longest file name (a watch's base name).
const NAME_MAX: usize = 255;

/// What to add after auditctl's message for the refused command `words` (its arguments,
/// `e.position.token` indexes them): the closest names for an unknown syscall, field, list,
/// action, errno, message type or arch, the valid ones where none is close, and for a value
/// over a limit its length and the limit. Empty when there is nothing to add.
pub fn parse_hint(e: &ParseError, words: &[impl AsRef<str>], ctx: &Context<'_>) -> String {
    let last = e.message.lines().last().unwrap_or_default();
    let token = e.token.as_deref().unwrap_or_default();
    // The value of a `-F name=value` (or `name!=value`) token.
    let value = token.split_once('=').map_or(token, |(_, v)| v);
    let t = ctx.tables();
    match e.kind {
        K::Syscall => match last.strip_prefix("Syscall name unknown: ") {
            Some(typed) => did_you_mean(&similar(typed, t.syscall_names(ctx.machine))),
            None => String::new(),
        },
        K::UnknownField => {
            if let Some(typed) = last
                .strip_prefix("-F unknown field: ")
                .or_else(|| last.strip_prefix("-C unknown field: "))
            {
                return did_you_mean(&similar(typed, t.field_names()));
            }
            if last.starts_with("-C unknown right hand value") {
                let right = token.rsplit(['=', '!']).next().unwrap_or_default();
                return did_you_mean(&similar(right, t.field_names()));
            }
            String::new()
        }
        K::ListOrAction => match last.split_once("bad keyword ") {
            Some((_, typed)) => list_action_hint(typed),
            None => String::new(),
        },
        K::BadValue if last.ends_with("elf mapping not found") => {
            let mut known = vec!["b64", "b32"];
            known.extend(t.machines().filter_map(|m| t.machine_name(m)));
            let close = similar(value, known.iter().copied().chain(t.machine_names()));
            let mean = match close.split_last() {
                None => String::new(),
                Some((l, [])) => format!("; did you mean {l}?"),
                Some((l, rest)) => format!("; did you mean {} or {l}?", rest.join(", ")),
            };
            format!(" (arch={value}: the arches are {}{mean})", known.join(", "))
        }
        K::BadValue if last.starts_with("-F unknown errno") => {
            did_you_mean(&similar(value.trim_start_matches('-'), t.errno_names()))
        }
        K::BadValue if last.starts_with("-F unknown message type") => {
            did_you_mean(&similar(value, t.msgtype_names()))
        }
        K::TooLong if last.starts_with("key option exceeds size limit") => {
            key_hint(words, e.position.token)
        }
        K::TooLong if last.starts_with("String value too long") => {
            let name = token.split(['=', '!']).next().unwrap_or_default();
            let limit = if name == "key" { AUDIT_MAX_KEY_LEN } else { PATH_MAX };
            let which = if name == "key" { "AUDIT_MAX_KEY_LEN" } else { "PATH_MAX" };
            format!(" ({name}= is {} bytes; the limit is {limit} ({which}))", value.len())
        }
        K::TooLong if last.starts_with("Too many fields") => format!(
            " (the rule has {} fields already: auditctl takes at most {}, one below the \
             kernel's AUDIT_MAX_FIELDS of {AUDIT_MAX_FIELDS}, so that a key still fits)",
            AUDIT_MAX_FIELDS - 1,
            AUDIT_MAX_FIELDS - 1
        ),
        K::Path if last.starts_with("The path passed for the watch is too big") => format!(
            " ({} bytes; the limit is {} (PATH_MAX {PATH_MAX}, its NUL included))",
            token.len(),
            PATH_MAX - 1
        ),
        K::Path if last.starts_with("The base name of the path is too big") => {
            let base = token.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            format!(" (the base name is {} bytes; the limit is {NAME_MAX} (NAME_MAX))", base.len())
        }
        K::Permission => " (the permissions are the letters r, w, x and a)".to_string(),
        _ => String::new(),
    }
}

/// `-a always,exits`: the pair with each unknown word replaced by the closest list or
/// action (`did you mean always,exit?`), else the valid names.
fn list_action_hint(typed: &str) -> String {
    let known = || RULE_LISTS.iter().chain(RULE_ACTIONS).copied();
    let mut fixed = Vec::new();
    for word in typed.split(',') {
        if known().any(|k| k == word) {
            fixed.push(word);
        } else if let Some(close) = similar(word, known()).first() {
            fixed.push(close);
        } else {
            fixed.clear();
            break;
        }
    }
    let valid = format!("lists: {}; actions: {}", RULE_LISTS.join(", "), RULE_ACTIONS.join(", "));
    match fixed.join(",") {
        f if !f.is_empty() && f != typed => format!(" (did you mean {f}? {valid})"),
        _ => format!(" (write LIST,ACTION; {valid})"),
    }
}

/// The key's length (all keys so far joined, as auditctl counts them) and the limit.
fn key_hint(words: &[impl AsRef<str>], at: Option<usize>) -> String {
    let upto = at.map_or(words.len(), |i| i + 1).min(words.len());
    let mut keys: Vec<&str> = Vec::new();
    let mut it = words.iter().take(upto).map(AsRef::as_ref).peekable();
    while let Some(w) = it.next() {
        match w {
            "-k" => keys.extend(it.next()),
            "-F" => {
                if let Some(k) = it.peek().and_then(|v| v.strip_prefix("key=")) {
                    keys.push(k);
                }
            }
            other => keys.extend(other.strip_prefix("-k").filter(|k| !k.is_empty())),
        }
    }
    let joined = keys.iter().map(|k| k.len()).sum::<usize>() + keys.len().saturating_sub(1);
    let what = if keys.len() > 1 {
        format!("the {} keys joined are {joined} bytes", keys.len())
    } else {
        format!("the key is {joined} bytes")
    };
    format!(" ({what}; the limit is {AUDIT_MAX_KEY_LEN} (AUDIT_MAX_KEY_LEN))")
}

/// Up to three of `known` within a small edit distance of `typed` (case-insensitive), the
/// closest first: one edit for names up to five characters, then one more per three.
pub fn similar<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let typed = typed.to_ascii_lowercase();
    let limit = 1 + typed.chars().count().saturating_sub(5) / 3;
    let mut close: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| (distance(&typed, &k.to_ascii_lowercase()), k))
        .filter(|&(d, _)| d > 0 && d <= limit)
        .collect();
    close.sort_unstable();
    close.dedup_by(|a, b| a.1 == b.1);
    close.into_iter().take(3).map(|(_, k)| k).collect()
}

/// `", did you mean X?"`, `", did you mean X or Y?"`, or nothing.
pub fn did_you_mean(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => format!(" (did you mean {last}?)"),
        Some((last, rest)) => format!(" (did you mean {} or {last}?)", rest.join(", ")),
    }
}

/// Levenshtein distance, with a transposition counted as one edit (optimal string
/// alignment): `opnat` -> `openat` is 1, `oepnat` -> `openat` is 1.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: i-2, i-1, i; every index is below b.len() + 1, their length.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
            if i > 0 && j > 0 && Some(&ca) == b.get(j - 1) && a.get(i - 1) == Some(&cb) {
                d = d.min(before[j - 1] + 1);
            }
            row[j + 1] = d;
        }
        before = std::mem::replace(&mut prev, row);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint after auditctl's message for a refused rule (x86_64, libaudit 3.0.9).
    fn hint(rule: &str) -> String {
        let words: Vec<String> = rule.split_whitespace().map(String::from).collect();
        let env = nlaudit_rules::NoEnv;
        let mut ctx = Context::new(&env);
        ctx.machine = nlaudit_rules::Machine::X86_64;
        match nlaudit_rules::parse_command(&words, &ctx) {
            Ok(d) => panic!("{rule} parsed: {d:?}"),
            Err(e) => format!("{}{}", e.message, parse_hint(&e, &words, &ctx)),
        }
    }

    fn check_hint(rule: &str, expect: &str) {
        let got = hint(rule);
        assert!(got.ends_with(expect), "{rule}:\n got {got}\nwant …{expect}");
    }

    #[test]
    fn hints_name_the_close_names() {
        check_hint("-a always,exit -S opnat", "opnat (did you mean openat?)");
        check_hint("-a always,exit -F uidd=0", "-F unknown field: uidd (did you mean uid?)");
        check_hint("-a always,exit -F auid>=1000 -F euidd=0", "(did you mean euid?)");
        check_hint("-a always,exit -C uid!=euidd", "(did you mean euid?)");
        check_hint(
            "-a always,exits",
            "always,exits (did you mean always,exit? lists: exit, \
            task, user, exclude, filesystem; actions: always, never)",
        );
        check_hint(
            "-a alway,exit",
            "(did you mean always,exit? lists: exit, task, user, \
            exclude, filesystem; actions: always, never)",
        );
        check_hint(
            "-a exit,nevr",
            "(did you mean exit,never? lists: exit, task, user, \
            exclude, filesystem; actions: always, never)",
        );
        check_hint(
            "-a bogus,zzzzzz",
            "(write LIST,ACTION; lists: exit, task, user, exclude, \
            filesystem; actions: always, never)",
        );
        check_hint("-a always,exit -F exit=-EACCESS", "(did you mean EACCES?)");
        check_hint("-a always,exclude -F msgtype=SYSCAL", "(did you mean SYSCALL?)");
        let arch = hint("-a always,exit -F arch=b65 -S openat");
        assert!(
            arch.contains("arch elf mapping not found (arch=b65: the arches are b64, b32, "),
            "{arch}"
        );
        assert!(arch.contains("x86_64") && arch.ends_with("; did you mean b64?)"), "{arch}");
    }

    #[test]
    fn hints_name_the_length_and_the_limit() {
        let k300 = "k".repeat(300);
        check_hint(
            &format!("-w /etc/passwd -k {k300}"),
            "key option exceeds size limit (the key is 300 bytes; the limit is 256 \
             (AUDIT_MAX_KEY_LEN))",
        );
        let k200 = "k".repeat(200);
        check_hint(
            &format!("-w /etc/passwd -k {k200} -k {k200}"),
            "(the 2 keys joined are 401 bytes; the limit is 256 (AUDIT_MAX_KEY_LEN))",
        );
        let p = format!("/{}", "p".repeat(4200));
        check_hint(
            &format!("-a always,exit -F path={p}"),
            "String value too long (path= is 4201 bytes; the limit is 4096 (PATH_MAX))",
        );
        check_hint(
            &format!("-w {p}"),
            "The path passed for the watch is too big (4201 bytes; the limit is 4095 \
             (PATH_MAX 4096, its NUL included))",
        );
        check_hint(
            &format!("-w /tmp/{}", "n".repeat(300)),
            "(the base name is 300 bytes; the limit is 255 (NAME_MAX))",
        );
        let fields: Vec<String> = (0..64).map(|i| format!("-F uid={i}")).collect();
        check_hint(
            &format!("-a always,exit {}", fields.join(" ")),
            "Too many fields in rule: uid=63 (the rule has 63 fields already: auditctl takes \
             at most 63, one below the kernel's AUDIT_MAX_FIELDS of 64, so that a key still \
             fits)",
        );
        check_hint("-w /etc/passwd -p wz", "(the permissions are the letters r, w, x and a)");
        // Nothing to add.
        assert_eq!(hint("-a always,exit -S bogusbogus"), "Syscall name unknown: bogusbogus");
    }

    const NAMES: &[&str] = &["open", "openat", "openat2", "close", "chmod", "fchmod", "execve"];

    fn check(typed: &str, expect: &[&str]) {
        assert_eq!(similar(typed, NAMES.iter().copied()), expect, "{typed}");
    }

    #[test]
    fn suggests_close_names() {
        check("opnat", &["openat"]);
        check("oepnat", &["openat"]);
        check("OPENATT", &["openat", "openat2"]);
        check("execv", &["execve"]);
        check("chmdo", &["chmod"]);
        check("bogus", &[]);
        check("openat", &["openat2"]); // an exact match is never suggested
        check("x", &[]);
    }

    #[test]
    fn says_it_in_words() {
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["openat"]), " (did you mean openat?)");
        assert_eq!(did_you_mean(&["a", "b", "c"]), " (did you mean a, b or c?)");
    }

    #[test]
    fn distance_counts_edits() {
        for (a, b, d) in [("", "", 0), ("a", "", 1), ("kitten", "sitting", 3), ("ab", "ba", 1)] {
            assert_eq!(distance(a, b), d, "{a} {b}");
        }
    }
}
