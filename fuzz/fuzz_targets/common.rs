//! Checks shared by the fuzz targets: what every accepted or decoded rule must satisfy.
#![allow(dead_code)]

use nlaudit_proto::consts::{FieldType, AUDIT_MAX_FIELDS, AUDIT_MAX_KEY_LEN, PATH_MAX};
use nlaudit_proto::{FieldValue, RuleData};
use nlaudit_rules::{json, normalize, Directive, Env, Machine, Renderer};

/// An environment that knows a few users, groups and directories, so that name lookups and
/// the watch/dir choice take both branches.
pub struct FuzzEnv;

impl Env for FuzzEnv {
    fn uid(&self, name: &str) -> Option<u32> {
        match name {
            "root" => Some(0),
            "daemon" => Some(1),
            "nobody" => Some(65534),
            _ => None,
        }
    }
    fn gid(&self, name: &str) -> Option<u32> {
        self.uid(name)
    }
    fn is_dir(&self, path: &str) -> bool {
        matches!(path, "/" | "/etc" | "/tmp" | "/var/lib/docker")
    }
}

/// The machines a parse may assume (`uname -m`).
pub const MACHINES: [Machine; 5] =
    [Machine::X86_64, Machine::I386, Machine::AARCH64, Machine::PPC64LE, Machine::S390X];

/// A rule the parser accepted must be one the kernel can be sent: at most 64 fields, a key
/// of at most 256 bytes, strings of at most PATH_MAX, and bytes that decode back to it.
pub fn check_accepted(d: &[Directive]) {
    for x in d {
        if let Directive::Rule(r) = x {
            let rule = &r.rule;
            assert!(rule.fields.len() <= AUDIT_MAX_FIELDS, "{} fields", rule.fields.len());
            for f in &rule.fields {
                if let FieldValue::Str(s) = &f.value {
                    assert!(!s.is_empty(), "empty string value in {rule:?}");
                    assert!(s.len() <= PATH_MAX, "{}-byte string", s.len());
                    if f.field == FieldType::AUDIT_FILTERKEY {
                        assert!(s.len() <= AUDIT_MAX_KEY_LEN, "{}-byte key", s.len());
                    }
                }
            }
            let bytes = rule.encode().expect("an accepted rule encodes");
            let back = RuleData::decode(&bytes).expect("an encoded rule decodes");
            assert_eq!(&back, rule, "decode(encode(r)) != r");
            exercise(rule);
        }
    }
}

/// Everything that reads a rule must take any rule: render (both ways), JSON, normalize.
pub fn exercise(rule: &RuleData) {
    let text = Renderer::new(Machine::X86_64).rule(rule);
    let _ = Renderer::new(Machine::AARCH64).style(nlaudit_rules::Style::Interpreted).rule(rule);
    let _ = json::rule_json(rule, &text, Machine::X86_64);
    let _ = normalize(rule);
    let _ = nlaudit_rules::watch::path_audit(rule);
}
