//! The commands: one module per command family, each turning its arguments (from `cli`)
//! into calls on the libraries and the shared services (`support`), and printing what they
//! did. No command module imports another; what two need lives in `support` or a library.

pub mod daemon;
pub mod docker;
pub mod dropin;
pub mod events;
#[cfg(feature = "generate")]
pub mod generate;
pub mod profile;
pub mod rules;
pub mod ruleset;
pub mod status;
