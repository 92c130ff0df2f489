//! nlaudit-rules: auditctl's rule language.
//!
//! - [`parse`]: text → kernel rule data (and the control directives of rules files), as
//!   auditctl 3.0.9 builds them, with auditctl's error messages;
//! - [`render`]: kernel rule data → the exact text `auditctl -l` prints; its dual;
//! - [`normalize`](mod@normalize): what the kernel rewrites between add and list, in one place;
//! - [`merge`] and [`rules_d`]: augenrules' merge of a rules.d directory, and its one reader;
//! - [`json`]: the lossless JSON form;
//! - [`tables`]: the name tables (generated from libaudit by `cargo xtask codegen`).
//!
//! This crate does no I/O: the file system and user database come in through
//! [`parse::Env`] and [`rules_d::RulesFs`].
//!
//! From auditctl's words to the kernel's rule data and back to `auditctl -l`'s text, with
//! no kernel involved:
//!
//! ```
//! use nlaudit_rules::{parse_command, render_listing, Context, Directive, Machine, NoEnv};
//!
//! let words = ["-a", "always,exit", "-F", "arch=b64", "-S", "openat", "-k", "opens"];
//! let mut ctx = Context::new(&NoEnv);
//! ctx.machine = Machine::X86_64;
//! let rules: Vec<_> = parse_command(&words, &ctx)?
//!     .into_iter()
//!     .filter_map(|d| match d {
//!         Directive::Rule(r) => Some(r.rule),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(
//!     render_listing(&rules, None, Machine::X86_64),
//!     "-a always,exit -F arch=b64 -S openat -F key=opens\n"
//! );
//! # Ok::<(), nlaudit_rules::ParseError>(())
//! ```
#![deny(missing_docs)]

pub mod cnum;
pub mod generation;
pub mod json;
pub mod merge;
pub mod normalize;
pub mod parse;
pub mod plan;
pub mod render;
pub mod rules_d;
pub mod tables;
pub mod validate;
pub mod watch;

pub use generation::Generation;
pub use normalize::normalize;
pub use parse::{
    parse_command, split_line, split_words, Context, Directive, Env, NoEnv, ParseError, RuleCommand,
};
pub use render::{render_listing, render_listing_as, Renderer, Style};
pub use tables::{Machine, Tables};
