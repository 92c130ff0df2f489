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
