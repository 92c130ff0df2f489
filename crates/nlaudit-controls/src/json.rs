//! The check's JSON form (schema in docs/docker.md), built once from a [`Report`].
//!
//! The fields of each object are declared in alphabetical order: the output is byte for byte
//! what schema 1 has always printed.

use serde::Serialize;

use crate::evaluate::{Outcome, Report};
use crate::verify::Verification;

/// The JSON schema version (`schema` key); bumped on incompatible changes.
pub const SCHEMA: u32 = 1;

/// The JSON form of a report: `serde_json::to_writer_pretty(out, &check_json(&report))`.
pub fn check_json(r: &Report) -> impl Serialize + '_ {
    let counts = r.counts();
    CheckJson {
        audit: AuditJson {
            auditd_pid: r.state.auditd_pid,
            enabled: r.state.enabled,
            immutable: r.state.immutable,
            notes: r
                .state
                .notes
                .iter()
                .map(|n| NoteJson { code: n.code, level: n.level.name(), text: &n.text })
                .collect(),
            recording: r.state.recording,
        },
        controls: r.outcomes.iter().map(control_json).collect(),
        root: r.root.as_ref().map(|p| p.display().to_string()),
        rules_dir: &r.rules_dir,
        schema: SCHEMA,
        summary: SummaryJson {
            fail: counts.fail,
            not_applicable: counts.not_applicable,
            pass: counts.pass,
            total: r.outcomes.len(),
        },
        target: if r.root.is_some() { "image" } else { "kernel" },
    }
}

#[derive(Serialize)]
struct CheckJson<'a> {
    audit: AuditJson<'a>,
    controls: Vec<ControlJson<'a>>,
    root: Option<String>,
    rules_dir: &'a str,
    schema: u32,
    summary: SummaryJson,
    target: &'static str,
}

#[derive(Serialize)]
struct AuditJson<'a> {
    auditd_pid: Option<u32>,
    enabled: Option<u32>,
    immutable: bool,
    notes: Vec<NoteJson<'a>>,
    recording: bool,
}

#[derive(Serialize)]
struct NoteJson<'a> {
    code: &'static str,
    level: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct SummaryJson {
    fail: usize,
    not_applicable: usize,
    pass: usize,
    total: usize,
}

#[derive(Serialize)]
struct ControlJson<'a> {
    benchmark_path: &'static str,
    candidates: Vec<CandidateJson<'a>>,
    datadog_path: Option<&'static str>,
    evidence: Vec<EvidenceJson<'a>>,
    id: &'static str,
    ids: IdsJson,
    kind: Option<&'static str>,
    notes: &'a [String],
    path: Option<&'a str>,
    path_source: Option<&'a str>,
    persisted: Option<String>,
    reason: &'a str,
    remediation: Option<&'a str>,
    rule_found: bool,
    status: &'static str,
    symlinks: Vec<LinkJson<'a>>,
    title: &'static str,
    verify: Option<VerifyJson<'a>>,
    volatile: Option<&'a str>,
    watch_path: Option<&'a str>,
}

#[derive(Serialize)]
struct IdsJson {
    cis_docker_1_6_0: &'static str,
    datadog: Option<&'static str>,
}

#[derive(Serialize)]
struct CandidateJson<'a> {
    exists: bool,
    path: &'a str,
    real_path: Option<&'a str>,
    source: &'a str,
}

#[derive(Serialize)]
struct LinkJson<'a> {
    last: bool,
    path: &'a str,
    target: &'a str,
}

#[derive(Serialize)]
struct EvidenceJson<'a> {
    notes: &'a [String],
    origin: String,
    relation: &'static str,
    rule: &'a str,
    satisfies: bool,
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    key: Option<&'a str>,
    path: Option<&'a str>,
    reason: &'a str,
    serial: Option<u64>,
    status: &'static str,
    syscall: Option<&'a str>,
}

fn control_json(o: &Outcome) -> ControlJson<'_> {
    let c = o.control;
    let l = &o.located;
    let chosen = l.path();
    let resolved = l.resolved.as_ref().filter(|_| l.not_applicable.is_none());
    ControlJson {
        benchmark_path: c.benchmark_path,
        candidates: l
            .candidates
            .iter()
            .map(|k| CandidateJson {
                exists: k.exists,
                path: &k.path,
                real_path: k.real.as_deref(),
                source: &k.source,
            })
            .collect(),
        datadog_path: c.datadog_path,
        evidence: o
            .evidence
            .iter()
            .map(|e| EvidenceJson {
                notes: &e.notes,
                origin: e.origin.to_string(),
                relation: e.relation.name(),
                rule: &e.text,
                satisfies: e.satisfies,
            })
            .collect(),
        id: c.cis,
        ids: IdsJson { cis_docker_1_6_0: c.cis, datadog: c.datadog },
        kind: resolved.and_then(|r| r.kind).map(|k| k.name()),
        notes: &l.notes,
        path: chosen.map(|p| p.path.as_str()),
        path_source: chosen.map(|p| p.source.as_str()),
        persisted: o.persisted.as_ref().map(|p| p.to_string()),
        reason: &o.reason,
        remediation: o.remediation.as_deref(),
        rule_found: o.rule_found,
        status: o.verdict.name(),
        symlinks: resolved
            .map(|r| {
                r.links
                    .iter()
                    .map(|k| LinkJson { last: k.last, path: &k.path, target: &k.target })
                    .collect()
            })
            .unwrap_or_default(),
        title: c.title,
        verify: o.verify.as_ref().map(verify_json),
        volatile: o.volatile.as_deref(),
        watch_path: l.watch_path(),
    }
}

fn verify_json(v: &Verification) -> VerifyJson<'_> {
    VerifyJson {
        key: v.key.as_deref(),
        path: v.path.as_deref(),
        reason: &v.reason,
        serial: v.serial,
        status: v.status.name(),
        syscall: v.syscall.as_deref(),
    }
}
