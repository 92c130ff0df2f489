//! SIGINT and SIGTERM during a long change of the kernel's rules (load, apply, delete
//! --all): the signal is noted, and the change stops at its next safe point — between
//! datagrams, never between a re-added rule's delete and its add — then says what is in
//! force and exits 128 + the signal (130 for SIGINT, 143 for SIGTERM).

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    PENDING.store(sig, Ordering::SeqCst);
}

/// The signal that asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop(pub Signal);

impl Stop {
    /// The exit code: 128 + the signal number, as a shell reports a death by it.
    pub fn exit_code(self) -> u8 {
        128u8.saturating_add(self.0 as i32 as u8)
    }

    /// `SIGINT`, `SIGTERM`.
    pub fn name(self) -> &'static str {
        self.0.as_str()
    }
}

/// While held, SIGINT and SIGTERM are noted instead of ending the process; the command
/// checks [`pending`] at its safe points. Dropping it puts the default actions back.
pub struct Guard {
    _private: (),
}

/// Catches SIGINT and SIGTERM until the guard is dropped. System calls restart
/// (`SA_RESTART`), so a blocked receive is not cut short.
pub fn catch() -> Guard {
    let action = SigAction::new(SigHandler::Handler(note), SaFlags::SA_RESTART, SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        // A failure leaves the default action, which is what we had.
        let _ = unsafe { sigaction(sig, &action) };
    }
    Guard { _private: () }
}

/// The signal noted since [`catch`], if any.
pub fn pending() -> Option<Stop> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        n => Signal::try_from(n).ok().map(Stop),
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            // SAFETY: restoring the default action installs no handler.
            let _ = unsafe { sigaction(sig, &default) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(Stop(Signal::SIGINT).exit_code(), 130);
        assert_eq!(Stop(Signal::SIGTERM).exit_code(), 143);
        assert_eq!(Stop(Signal::SIGTERM).name(), "SIGTERM");
    }
}
