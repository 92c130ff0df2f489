//! Development tasks for nlaudit (rust-analyzer's xtask pattern): `cargo xtask <task>`.
//!
//! Each task lives in its own module; this file only dispatches.

mod bench;
mod bench_events;
mod codegen;
mod container;
mod deb;
mod deb_test;
mod dist;
mod fuzz;
mod golden;
mod test;
#[cfg(test)]
mod tidy;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task> [args]

tasks:
  codegen [--check]      regenerate the name tables in crates/nlaudit-rules/src/tables/
  golden                 regenerate tests/data golden rule vectors from real auditctl (root)
  dist                   build the static, stripped x86_64 nlaudit, its man pages and
                         completions into target/dist/
  deb                    build the Debian package target/nlaudit_VERSION_amd64.deb
  deb-test               install the .deb, check what it installed, remove it (root, Debian)
  container-test         run the kernel integration suite inside Docker containers (root)
  bench                  benchmark nlaudit against auditctl, write docs/benchmarks.md (root)
  bench events [--calls N] [--runs N]
                         nlaudit daemon against auditd on the getppid workload (root, cc)
  fuzz [SECONDS]         run every fuzz target for SECONDS each (nightly, cargo-fuzz)
  test [--no-containers] what CI runs: fmt --check, clippy -D warnings, doc -D warnings,
                         all workspace tests (tidy included), codegen --check, deb-test,
                         container-test
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match task {
        "codegen" => codegen::run(rest),
        "golden" => golden::run(rest),
        "dist" => dist::run(rest).map(|_| ()),
        "deb" => deb::run_task(rest),
        "deb-test" => deb_test::run(rest),
        "container-test" => container::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "test" => test::run_all(rest),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("unknown task {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
