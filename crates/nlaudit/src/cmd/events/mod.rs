//! `nlaudit events`: read audit records from the kernel's read-only multicast group
//! (`AUDIT_NLGRP_READLOG`), group them into events, filter by key, print or log them.
//!
//! Reading needs CAP_AUDIT_READ only, and does not replace or disturb auditd. The reader is
//! opened by [`crate::support::readlog::open_reader`], which `docker check --verify` uses too.

pub mod format;
mod rotate;

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use nlaudit_proto::records::{Event, EventReader, ReadItem};

use crate::cli::EventsArgs;
use crate::support::errors::{code, fail};
use crate::support::output;
use crate::support::readlog::open_reader;

use rotate::{parse_size, RotatingFile};

/// Default rotation size and number of rotated files (auditd's `max_log_file = 8` MB and
/// `num_logs = 5` files in all).
const DEFAULT_MAX_SIZE: u64 = 8 << 20;
const DEFAULT_KEEP: u32 = 4;

/// The kernel's count of records dropped for this socket (`sk_drops`, the `Drops` column of
/// /proc/net/netlink, found by the socket's inode).
fn socket_drops(reader: &EventReader) -> Option<u64> {
    let st = nix::sys::stat::fstat(reader.transport().as_fd()).ok()?;
    let inode = st.st_ino.to_string();
    let table = std::fs::read_to_string("/proc/net/netlink").ok()?;
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    table.lines().skip(1).find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.last() == Some(&inode.as_str()) {
            cols.get(8)?.parse().ok()
        } else {
            None
        }
    })
}

enum Style {
    Text,
    Json,
    Raw,
}

enum Sink {
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    File(RotatingFile),
}

impl Sink {
    fn write(&mut self, data: &str) -> Result<()> {
        match self {
            Sink::Stdout(out) => {
                out.write_all(data.as_bytes())?;
                out.flush()?; // people and pipes see each event as it happens
            }
            Sink::File(f) => f.write_lines(data.as_bytes())?,
        }
        Ok(())
    }
}

fn render(style: &Style, e: &Event) -> String {
    match style {
        Style::Text => format::text_line(e) + "\n",
        Style::Json => format::json_line(e),
        Style::Raw => format::raw_lines(e),
    }
}

fn size_arg(flag: &str, v: Option<&String>) -> Result<Option<u64>> {
    v.map(|s| {
        parse_size(s).ok_or_else(|| {
            fail(code::USAGE, format!("{flag} {s:?}: expected bytes, or a number with K, M or G"))
        })
    })
    .transpose()
}

fn open_sink(path: Option<&Path>, max_size: Option<u64>, keep: Option<u32>) -> Result<Sink> {
    let Some(path) = path else { return Ok(Sink::Stdout(output::stdout())) };
    let max = max_size.unwrap_or(DEFAULT_MAX_SIZE);
    if max == 0 {
        return Err(fail(code::USAGE, "--max-size must be at least 1 byte"));
    }
    let f = RotatingFile::open(path, max, keep.unwrap_or(DEFAULT_KEEP)).map_err(|e| {
        let why = if e.raw_os_error() == Some(libc::ELOOP) {
            "it is a symbolic link (refused: write to the real path)".to_string()
        } else {
            e.to_string()
        };
        fail(code::FAILED, format!("cannot open {} for appending: {why}", path.display()))
    })?;
    Ok(Sink::File(f))
}

pub fn run(a: EventsArgs) -> Result<ExitCode> {
    if a.json {
        output::json_for("events");
    }
    let timeout = a
        .timeout
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                fail(code::USAGE, format!("--timeout {s}: expected a number of seconds ≥ 0"))
            })
        })
        .transpose()?;
    let max_size = size_arg("--max-size", a.max_size.as_ref())?;
    let buffer = size_arg("--buffer-size", a.buffer_size.as_ref())?
        .map(|b| usize::try_from(b).unwrap_or(usize::MAX).min(i32::MAX as usize));
    let style = if a.json {
        Style::Json
    } else if a.raw {
        Style::Raw
    } else {
        Style::Text
    };
    let mut sink = open_sink(a.output.as_deref(), max_size, a.keep)?;
    let mut reader = open_reader(buffer)?;

    let start = Instant::now();
    let deadline = timeout.map(|t| start + t);
    let wanted = |e: &Event| a.key.as_deref().is_none_or(|k| e.has_key(k));
    let done = |n: u64| a.count.is_some_and(|c| n >= c);
    let mut printed: u64 = 0;
    let mut drops_seen = socket_drops(&reader).unwrap_or(0);
    let mut lost: u64 = 0;
    while !done(printed) {
        // Without --timeout, wait in slices of an hour.
        let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        match reader.next(until)? {
            Some(ReadItem::Event(e)) if wanted(&e) => {
                sink.write(&render(&style, &e))?;
                printed += 1;
            }
            Some(ReadItem::Event(_)) => {}
            Some(ReadItem::Overrun) => {
                let drops = socket_drops(&reader);
                let what = match drops {
                    Some(d) => {
                        let n = d.saturating_sub(drops_seen);
                        drops_seen = d;
                        lost += n;
                        format!("{n} records lost ({lost} in all)")
                    }
                    None => "records lost (the kernel's count is unavailable)".to_string(),
                };
                eprintln!(
                    "nlaudit: the socket receive buffer overflowed (ENOBUFS): {what}; \
                     reading on. A larger --buffer-size helps."
                );
            }
            Some(ReadItem::Malformed(err)) => eprintln!("nlaudit: skipping a record: {err}"),
            Some(_) => {}
            None if deadline.is_some() => break,
            None => {}
        }
    }
    // --timeout ended the wait: events still waiting for records are printed as they are.
    if !done(printed) {
        for e in reader.flush() {
            if !done(printed) && wanted(&e) {
                sink.write(&render(&style, &e))?;
                printed += 1;
            }
        }
    }
    if let Some(c) = a.count {
        if printed < c {
            let secs = timeout.map_or(0.0, |t| t.as_secs_f64());
            return Err(fail(
                code::FAILED,
                format!("timed out after {secs} s with {printed} of {c} events"),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
