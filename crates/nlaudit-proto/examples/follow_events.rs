//! Follows audit events as an agent would: joins the kernel's read-only record multicast
//! group (`AUDIT_NLGRP_READLOG`, needs CAP_AUDIT_READ and the initial network namespace;
//! auditd, if running, is not disturbed), and prints one line per event: its stamp, keys and
//! record types. Stops after `N` seconds (the first argument, default 10).
//!
//! ```sh
//! cargo run -p nlaudit-proto --example follow_events -- 30
//! ```

use std::time::{Duration, Instant};

use nlaudit_proto::records::{EventReader, ReadItem};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse().map_err(|e| format!("bad seconds {s:?}: {e}"))?,
        None => 10,
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut reader = EventReader::open()?;
    while let Some(item) = reader.next(deadline)? {
        match item {
            ReadItem::Event(event) => {
                let types: Vec<String> =
                    event.records.iter().map(|r| format!("{:?}", r.ty)).collect();
                println!("{} keys {:?}: {}", event.stamp, event.keys(), types.join(" "));
            }
            ReadItem::Overrun => eprintln!("the kernel dropped records (receive buffer full)"),
            ReadItem::Malformed(e) => eprintln!("a record did not parse: {e}"),
            // Kinds a later version may add.
            _ => {}
        }
    }
    for event in reader.flush() {
        println!("{} keys {:?} (flushed)", event.stamp, event.keys());
    }
    Ok(())
}
