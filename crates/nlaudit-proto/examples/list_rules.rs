//! Lists the kernel's audit rules as an agent would read them: filter list, action, number
//! of fields and keys, from `AUDIT_LIST_RULES` (needs root or CAP_AUDIT_CONTROL, in the
//! initial user and PID namespaces).
//!
//! ```sh
//! cargo run -p nlaudit-proto --example list_rules
//! ```
//!
//! Rendering a rule as `auditctl -l` text is `nlaudit-rules`' job; this crate gives the
//! kernel's `struct audit_rule_data` as it is.

use nlaudit_proto::Client;

fn main() -> Result<(), nlaudit_proto::Error> {
    let mut client = Client::open()?;
    let status = client.status()?;
    println!(
        "enabled {:?}, daemon pid {}, lost {}, backlog {}",
        status.enabled, status.pid, status.lost, status.backlog
    );
    let rules = client.list_rules()?;
    println!("{} rules", rules.len());
    for rule in &rules {
        let keys: Vec<String> =
            rule.keys().map(|k| String::from_utf8_lossy(k).into_owned()).collect();
        println!(
            "list {:?}, action {:?}, {} fields, keys {keys:?}",
            rule.list(),
            rule.action(),
            rule.fields.len()
        );
    }
    Ok(())
}
