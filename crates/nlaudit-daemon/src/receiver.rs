//! The receiving end: registration as the kernel's audit daemon and the unicast records.
//!
//! kernel/audit.c: AUDIT_SET with `AUDIT_STATUS_PID` and the caller's own tgid registers it
//! (any other pid: EINVAL); while a healthy daemon is registered the kernel first sends it
//! AUDIT_REPLACE and refuses with EEXIST; a registered pid whose socket is gone (the kernel
//! cannot send to it) is replaced. From then on records are unicast to the socket that
//! registered, with the payload-only `nlmsg_len` that nlaudit-proto's codec reads. Only
//! the registered daemon may unregister (pid 0; EACCES for anyone else).

use std::time::Duration;

use nix::errno::Errno;
use nlaudit_proto::{
    Client, MsgType, NetlinkTransport, RecordsRead, SignalInfo, Status, Transport,
};

/// The socket receive buffer the daemon asks for: the kernel retries records it cannot
/// queue and, after a few failures, holds them back (kernel/audit.c `kauditd_send_queue`);
/// a large buffer rides out bursts while the log is flushed or rotated.
pub const DEFAULT_RECEIVE_BUFFER: usize = 64 << 20;

/// What went wrong while receiving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiverError {
    /// Another live audit daemon is registered (the kernel answered EEXIST).
    #[error(
        "another audit daemon is registered: pid {pid} ({command}); stop it first \
         (auditctl --signal TERM, or systemctl stop auditd)"
    )]
    Busy {
        /// Its pid, from AUDIT_GET.
        pid: u32,
        /// Its command, from /proc/PID/comm (`?` when unreadable).
        command: String,
    },
    /// The kernel or the socket failed.
    #[error(transparent)]
    Kernel(#[from] nlaudit_proto::Error),
}

/// What registration found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The pid that was registered before, if any (a daemon that died without
    /// unregistering: the kernel let us take over).
    pub replaced: Option<u32>,
}

/// The audit daemon's socket.
#[derive(Debug)]
pub struct Receiver<T: Transport = NetlinkTransport> {
    client: Client<T>,
    registered: bool,
    buffer: usize,
}

impl Receiver<NetlinkTransport> {
    /// Opens a socket with a receive buffer of about `buffer` bytes (best effort: the size
    /// granted is in [`Receiver::buffer`]).
    pub fn open(buffer: usize) -> Result<Self, ReceiverError> {
        let mut t = NetlinkTransport::open()
            .map_err(|source| nlaudit_proto::Error::Io { op: nlaudit_proto::Op::Open, source })?;
        let granted = t.set_receive_buffer(buffer).unwrap_or(0);
        let mut r = Receiver::with_client(Client::with_transport(t));
        r.buffer = granted;
        Ok(r)
    }
}

/// The command of a process, from /proc/PID/comm.
pub fn command_of(pid: u32) -> Option<String> {
    let c = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(c.trim_end_matches('\n').to_string())
}

impl<T: Transport> Receiver<T> {
    /// A receiver over any client (tests use a fake transport).
    pub fn with_client(client: Client<T>) -> Self {
        Receiver { client, registered: false, buffer: 0 }
    }

    /// The receive buffer the kernel granted (0 when unknown).
    pub fn buffer(&self) -> usize {
        self.buffer
    }

    /// Whether this receiver is registered.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The client, for the other requests the daemon makes (rules, `enabled`).
    pub fn client(&mut self) -> &mut Client<T> {
        &mut self.client
    }

    /// Registers this process as the audit daemon.
    pub fn register(&mut self) -> Result<Registration, ReceiverError> {
        let before = self.client.status()?.pid;
        let pid = std::process::id();
        match self.client.register_daemon(pid) {
            Ok(()) => {
                self.registered = true;
                let replaced = (before != 0 && before != pid).then_some(before);
                Ok(Registration { replaced })
            }
            Err(e) if e.errno() == Some(Errno::EEXIST) => {
                let pid = self.client.status().map_or(before, |s| s.pid);
                let command = command_of(pid).unwrap_or_else(|| "?".to_string());
                Err(ReceiverError::Busy { pid, command })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Unregisters (pid 0). Records already queued to the socket stay readable.
    pub fn unregister(&mut self) -> Result<(), ReceiverError> {
        if self.registered {
            self.client.unregister_daemon()?;
            self.registered = false;
        }
        Ok(())
    }

    /// Hands the records of the datagrams queued (or those kept while replies were awaited) to
    /// `f`, waiting up to `timeout`. AUDIT_REPLACE (the kernel asking whether we are alive
    /// when someone else tries to register) is not a record and is skipped.
    pub fn receive(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(MsgType, &[u8]),
    ) -> Result<RecordsRead, ReceiverError> {
        Ok(self.client.receive_records(timeout, |ty, p| {
            if ty != AUDIT_REPLACE {
                f(ty, p)
            }
        })?)
    }

    /// AUDIT_GET.
    pub fn status(&mut self) -> Result<Status, ReceiverError> {
        Ok(self.client.status()?)
    }

    /// AUDIT_SIGNAL_INFO: who sent the last signal.
    pub fn signal_info(&mut self) -> Result<SignalInfo, ReceiverError> {
        Ok(self.client.signal_info()?)
    }
}

/// `AUDIT_REPLACE` (1329).
pub const AUDIT_REPLACE: MsgType = MsgType(1329);

impl<T: Transport> Drop for Receiver<T> {
    /// A daemon that ends without [`Receiver::unregister`] (an error, a panic) still
    /// unregisters, so that the kernel does not keep a dead pid.
    fn drop(&mut self) {
        let _ = self.unregister();
    }
}
