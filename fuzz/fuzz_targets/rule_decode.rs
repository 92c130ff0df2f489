//! The rule wire decoder (`RuleData::decode`, what AUDIT_LIST_RULES replies carry): any
//! bytes decode or fail cleanly; a decoded rule re-encodes to bytes that decode to it, and
//! everything that reads rules (render, JSON, normalize) takes it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlaudit_proto::RuleData;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(rule) = RuleData::decode(data) {
        assert!(rule.fields.len() <= 64);
        let bytes = rule.encode().expect("a decoded rule encodes");
        assert_eq!(RuleData::decode(&bytes).expect("re-decodes"), rule);
        common::exercise(&rule);
    }
});
