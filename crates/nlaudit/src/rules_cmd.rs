//! `nlaudit list`, `add`, `delete`: rules written and printed exactly as auditctl does.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use nlaudit_proto::{
    BatchOp, Client, Errno, Error as ProtoError, ItemResult, OnError, Op, RuleData,
};
use nlaudit_rules::{
    json::listing_json, normalize, parse_command, render_listing, Context, Directive, Env, Machine,
    RuleCommand,
};

use crate::cli::{DeleteArgs, ListArgs, RuleArgs};
use crate::errors::{code, fail};
use crate::{output, session};

/// The real system: the user and group databases and the file system.
///
/// Names are read from `/etc/passwd` and `/etc/group` directly rather than through NSS:
/// a static binary cannot load NSS modules anyway, and this keeps ~0.2 MB of glibc's
/// lookup machinery out of it. (Rules naming users from LDAP/SSSD need numeric ids.)
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEnv;

/// The id of `name` in a colon-separated database (`name:x:id:...`).
fn id_from_db(db: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(db).ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.split(':');
        if parts.next()? != name {
            return None;
        }
        parts.nth(1)?.parse().ok()
    })
}

impl Env for SystemEnv {
    fn uid(&self, name: &str) -> Option<u32> {
        id_from_db("/etc/passwd", name)
    }
    fn gid(&self, name: &str) -> Option<u32> {
        id_from_db("/etc/group", name)
    }
    fn is_dir(&self, path: &str) -> bool {
        std::path::Path::new(path).is_dir()
    }
}

/// A parse context for this machine and kernel (`features` from AUDIT_GET).
pub fn context(features: Option<u32>) -> Context<'static> {
    static ENV: SystemEnv = SystemEnv;
    let mut c = Context::new(&ENV);
    if let Some(f) = features {
        c.features = f;
    }
    c
}

/// Parses auditctl-style arguments that must describe exactly one rule.
pub fn parse_rule(args: &[String], features: Option<u32>) -> Result<RuleCommand> {
    let ctx = context(features);
    let text = args.join(" ");
    let directives = parse_command(args, &ctx)
        .map_err(|e| fail(code::USAGE, format!("invalid rule `{text}`: {}", e.message)))?;
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

pub fn list(a: ListArgs) -> Result<ExitCode> {
    let mut c = session::open()?;
    let rules = c.list_rules()?;
    let mut out = output::stdout();
    let host = Machine::host();
    if a.json {
        let shown: Vec<RuleData> = rules
            .into_iter()
            .filter(|r| nlaudit_rules::render::key_matches(r, a.key.as_deref()))
            .collect();
        output::json(&mut out, &listing_json(&shown, host))?;
    } else {
        out.write_all(render_listing(&rules, a.key.as_deref(), host).as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_warnings(r: &RuleCommand) {
    for w in &r.warnings {
        eprintln!("{w}");
    }
}

pub fn add(a: RuleArgs) -> Result<ExitCode> {
    let (mut c, status) = session::open_mutable()?;
    let r = parse_rule(&a.rule, status.feature_bitmap)?;
    if r.delete {
        return Err(fail(
            code::USAGE,
            "`add` takes -w/-a/-A rules; use `nlaudit delete` to delete",
        ));
    }
    print_warnings(&r);
    c.add_rule(&r.rule)?;
    Ok(ExitCode::SUCCESS)
}

pub fn delete(a: DeleteArgs) -> Result<ExitCode> {
    if a.all {
        if !a.rule.is_empty() {
            return Err(fail(code::USAGE, "--all takes no rule"));
        }
        let (mut c, _) = session::open_mutable()?;
        let (deleted, failed) = delete_all(&mut c, a.key.as_deref())?;
        println!("deleted {deleted} rule{}", if deleted == 1 { "" } else { "s" });
        if failed > 0 {
            return Err(fail(code::FAILED, format!("{failed} rules could not be deleted")));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.rule.is_empty() {
        return Err(fail(code::USAGE, "give a rule (as auditctl's arguments) or --all"));
    }
    let (mut c, status) = session::open_mutable()?;
    let r = parse_rule(&a.rule, status.feature_bitmap)?;
    print_warnings(&r);
    // The kernel compares flags too and never stores the prepend flag (see normalize).
    c.delete_rule(&normalize(&r.rule))?;
    Ok(ExitCode::SUCCESS)
}

/// `auditctl -D [-k KEY]`: lists the rules and sends each matching one back as a delete,
/// batched. A rule that vanished meanwhile (ENOENT) counts as deleted. Returns
/// (deleted, failed).
pub fn delete_all(c: &mut Client, key: Option<&str>) -> Result<(usize, usize)> {
    let rules: Vec<RuleData> = c
        .list_rules()?
        .into_iter()
        .filter(|r| nlaudit_rules::render::key_matches(r, key))
        .collect();
    let results = c.batch(BatchOp::Delete, &rules, OnError::Continue)?;
    let mut deleted = 0;
    let mut failed = 0;
    for res in results {
        match res {
            ItemResult::Done | ItemResult::Refused(Errno::ENOENT) => deleted += 1,
            ItemResult::Refused(e) => {
                if e == Errno::EPERM {
                    return Err(ProtoError::Kernel { op: Op::DeleteRule, errno: e }.into());
                }
                failed += 1
            }
            ItemResult::NotReached => failed += 1,
        }
    }
    Ok((deleted, failed))
}
