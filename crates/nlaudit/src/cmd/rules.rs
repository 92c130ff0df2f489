//! `nlaudit list`, `add`, `delete`: rules written and printed exactly as auditctl does.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use nlaudit_proto::{Client, RuleData, Transport};
use nlaudit_rules::{
    json::listing_json, normalize, parse_command, render::Listing, Directive, Machine, RuleCommand,
};
use serde::Serialize;

use crate::cli::{DeleteArgs, ListArgs, RuleArgs};
use crate::support::batches;
use crate::support::errors::{code, fail};
use crate::support::progress::{Progress, Show};
use crate::support::suggest;
use crate::support::system::context;
use crate::support::{interrupt, output, session};

/// Parses auditctl-style arguments that must describe exactly one rule.
/// A rule's text for a message: whole up to 160 bytes, else its start and end around the
/// number of bytes left out (a 4 KB path would bury the reason).
fn shortened(text: &str) -> String {
    const KEEP: usize = 60;
    if text.len() <= 160 {
        return text.to_string();
    }
    let start = text.char_indices().map(|(i, _)| i).take_while(|&i| i <= KEEP).last();
    let end = text.char_indices().map(|(i, _)| i).find(|&i| i >= text.len() - KEEP);
    match (start, end) {
        (Some(s), Some(e)) if s < e => {
            format!("{}…[{} bytes]…{}", &text[..s], e - s, &text[e..])
        }
        _ => text.to_string(),
    }
}

pub fn parse_rule(args: &[String], features: Option<u32>) -> Result<RuleCommand> {
    let ctx = context(features);
    let text = args.join(" ");
    let directives = parse_command(args, &ctx).map_err(|e| {
        let hint = suggest::parse_hint(&e, args, &ctx);
        fail(code::USAGE, format!("invalid rule `{}`: {}{hint}", shortened(&text), e.message))
    })?;
    // Exactly one rule and nothing else (`-h`, `-e 1`, ... are not rules).
    let mut it = directives.into_iter();
    match (it.next(), it.next()) {
        (Some(Directive::Rule(r)), None) => {
            match nlaudit_rules::validate::kernel_refusal(&r.rule) {
                Some(why) => Err(fail(
                    code::USAGE,
                    format!("invalid rule `{text}`: the kernel would refuse it: {why}"),
                )),
                None => Ok(r),
            }
        }
        (Some(Directive::Ignored(msg)), None) => {
            Err(fail(code::USAGE, format!("invalid rule `{text}`: {msg}")))
        }
        _ => Err(fail(
            code::USAGE,
            format!("`{text}` is not a rule (expected -w PATH ... or -a LIST,ACTION ...)"),
        )),
    }
}

/// `list --json` (schema docs/schemas/list.schema.json).
#[derive(Debug, Serialize)]
pub struct ListJson {
    /// 1.
    pub schema: u32,
    /// One object per rule, in the kernel's order (nlaudit_rules::json).
    pub rules: serde_json::Value,
}

pub fn list(a: ListArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("list");
    }
    let mut c = session::open()?;
    let mut out = output::stdout();
    let host = Machine::host();
    if a.json {
        let shown: Vec<RuleData> = c
            .list_rules()?
            .into_iter()
            .filter(|r| nlaudit_rules::render::key_matches(r, a.key.as_deref()))
            .collect();
        output::print_json(&ListJson { schema: 1, rules: listing_json(&shown, host) })?;
    } else {
        // Each rule is rendered as it arrives, while the kernel sends the next; the text is
        // printed only once the whole list is in.
        let mut listing =
            Listing::new(a.key.as_deref(), host).generation(crate::support::system::generation());
        c.list_rules_each(|r| listing.push(&r))?;
        out.write_all(listing.finish().as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_warnings(r: &RuleCommand) {
    for w in &r.warnings {
        eprintln!("{w}");
    }
}

/// What nlaudit's own `add`/`delete` refuse that auditctl silently ignores (the drop-in
/// keeps auditctl's behaviour): `-S` on a watch (`-w`/`-W`: auditctl drops the syscalls and
/// adds a plain watch) and a second `-p` (auditctl keeps the last one only).
fn refuse_ignored_options(args: &[String]) -> Result<()> {
    // auditctl's options that take a value (getopt: "c:D:e:f:a:A:d:S:F:C:w:W:k:p:m:r:R:b:").
    const VALUED: &str = "DefaAdSFCwWkpmrRb";
    let mut watch = None;
    let mut syscalls = Vec::new();
    let mut perms = Vec::new();
    let mut words = args.iter();
    while let Some(w) = words.next() {
        let Some(opt) = w.strip_prefix('-').filter(|o| !o.starts_with('-')) else { continue };
        let Some(c) = opt.chars().next() else { continue };
        let value = if opt.len() > c.len_utf8() {
            opt[c.len_utf8()..].to_string()
        } else if VALUED.contains(c) {
            words.next().cloned().unwrap_or_default()
        } else {
            String::new()
        };
        match c {
            'w' | 'W' => watch = Some(format!("-{c} {value}")),
            'S' => syscalls.push(value),
            'p' => perms.push(value),
            _ => {}
        }
    }
    if let (Some(watch), Some(first)) = (&watch, syscalls.first()) {
        return Err(fail(
            code::USAGE,
            format!(
                "`-S {first}` has no effect on a watch (`{watch}`): auditctl would drop it \
                 silently and add a plain watch. To audit given syscalls on a file, write a \
                 syscall rule: `-a always,exit -F arch=b64 -S {first} -F path=FILE -F perm=wa \
                 -k KEY`; for a plain watch, leave -S out"
            ),
        ));
    }
    if perms.len() > 1 {
        return Err(fail(
            code::USAGE,
            format!(
                "`-p` is given {} times ({}): auditctl would keep only the last one silently; \
                 give one -p with every permission wanted (e.g. -p wa)",
                perms.len(),
                perms.iter().map(|p| format!("-p {p}")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}

/// `add --json` and `delete --json` (schemas docs/schemas/add.schema.json and
/// delete.schema.json).
#[derive(Debug, Serialize)]
pub struct RuleChangeJson {
    /// 1.
    pub schema: u32,
    /// The rule added or deleted, as `list` prints it (`-A ...` for a rule added at the
    /// head of its list).
    pub rule: String,
    /// What auditctl would warn about this rule (standard error has them too).
    pub warnings: Vec<String>,
}

/// `delete --all --json` (schema docs/schemas/delete.schema.json).
#[derive(Debug, Serialize)]
pub struct DeleteAllJson {
    /// 1.
    pub schema: u32,
    /// `--key`: only rules whose key contains it were deleted.
    pub key: Option<String>,
    /// Rules deleted.
    pub deleted: usize,
    /// Rules the kernel would not delete (then the exit code is 1).
    pub failed: usize,
}

/// A parsed rule as `list` prints it.
fn rule_text(r: &RuleCommand) -> String {
    let rule = normalize(&r.rule);
    nlaudit_rules::plan::rule_text(&rule, r.rule.position(), Machine::host())
}

pub fn add(a: RuleArgs) -> Result<ExitCode> {
    add_with(a, session::open)
}

/// `add` through the client `connect` opens.
pub fn add_with<T: Transport>(
    a: RuleArgs,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<ExitCode> {
    if a.json {
        output::json_for("add");
    }
    refuse_ignored_options(&a.rule)?;
    let (mut c, status) = session::mutable(connect()?)?;
    let r = parse_rule(&a.rule, status.feature_bitmap)?;
    if r.delete {
        return Err(fail(
            code::USAGE,
            "`add` takes -w/-a/-A rules; use `nlaudit delete` to delete",
        ));
    }
    print_warnings(&r);
    c.add_rule(&r.rule)?;
    if a.json {
        output::print_json(&RuleChangeJson {
            schema: 1,
            rule: rule_text(&r),
            warnings: r.warnings.clone(),
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(a: DeleteArgs) -> Result<ExitCode> {
    delete_with(a, session::open)
}

/// `delete` through the client `connect` opens.
pub fn delete_with<T: Transport>(
    a: DeleteArgs,
    connect: impl FnOnce() -> Result<Client<T>>,
) -> Result<ExitCode> {
    if a.json {
        output::json_for("delete");
    }
    if a.all {
        if !a.rule.is_empty() {
            return Err(fail(code::USAGE, "--all takes no rule"));
        }
        let (mut c, _) = session::mutable(connect()?)?;
        let _signals = interrupt::catch();
        let d = batches::delete_all(&mut c, a.key.as_deref(), None, |n| {
            Progress::new("delete --all: rules deleted", n, n, Show::OnTerminal)
        })?;
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if let Some(stop) = d.interrupted {
            let what =
                format!("delete --all stopped after {} rule{}", d.deleted, plural(d.deleted));
            let f = batches::interrupted(&mut c, stop, &what);
            if !a.json {
                print!("{}", f.listing);
            }
            return Err(f.error);
        }
        if a.json {
            output::print_json(&DeleteAllJson {
                schema: 1,
                key: a.key.clone(),
                deleted: d.deleted,
                failed: d.failed,
            })?;
        } else {
            println!("deleted {} rule{}", d.deleted, plural(d.deleted));
        }
        if d.failed > 0 {
            return Err(fail(code::FAILED, format!("{} rules could not be deleted", d.failed)));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.rule.is_empty() {
        return Err(fail(code::USAGE, "give a rule (as auditctl's arguments) or --all"));
    }
    refuse_ignored_options(&a.rule)?;
    let (mut c, status) = session::mutable(connect()?)?;
    let r = parse_rule(&a.rule, status.feature_bitmap)?;
    print_warnings(&r);
    // The kernel compares flags too and never stores the prepend flag (see normalize).
    c.delete_rule(&normalize(&r.rule))?;
    if a.json {
        output::print_json(&RuleChangeJson {
            schema: 1,
            rule: rule_text(&r),
            warnings: r.warnings.clone(),
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(rule: &str) -> String {
        let args: Vec<String> = rule.split_whitespace().map(String::from).collect();
        match parse_rule(&args, None) {
            Ok(r) => panic!("{rule} parsed: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unknown_syscalls_get_a_suggestion() {
        let m = message("-a always,exit -F arch=b64 -S opnat -k k");
        assert!(m.ends_with("Syscall name unknown: opnat (did you mean openat?)"), "{m}");
        let m = message("-a always,exit -F arch=b64 -S open,chmdo -k k");
        assert!(m.ends_with("Syscall name unknown: chmdo (did you mean chmod?)"), "{m}");
        // Nothing close: auditctl's message alone.
        let m = message("-a always,exit -S bogus");
        assert!(m.ends_with("Syscall name unknown: bogus"), "{m}");
    }
}
