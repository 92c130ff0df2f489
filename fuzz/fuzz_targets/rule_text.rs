//! The rule text parser (`parse_command`): one auditctl command, from a rules-file line
//! (`split_line`) or as an argument vector (NUL-separated, so arguments may hold spaces).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlaudit_rules::{parse_command, split_line, Context};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let args: Vec<String> = if mode & 1 == 0 {
        split_line(&text)
    } else {
        text.split('\0').map(str::to_string).collect()
    };
    let env = common::FuzzEnv;
    let mut ctx = Context::new(&env);
    ctx.machine = common::MACHINES[usize::from(mode >> 1) % common::MACHINES.len()];
    // Kernels without some feature bits take other paths (exe, exclude, filesystem).
    ctx.features = if mode & 0x80 != 0 { u32::from(mode) & 0x7f } else { 0x7f };
    ctx.lineno = (mode & 0x40 != 0).then_some(7);
    if let Ok(d) = parse_command(&args, &ctx) {
        common::check_accepted(&d);
    }
});
