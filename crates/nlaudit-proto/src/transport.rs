//! What the client sends through: the real NETLINK_AUDIT socket, or (in tests) anything that
//! can inject faults. Only the transport touches the operating system.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use netlink_sys::{Socket, SocketAddr};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::consts::NETLINK_AUDIT;

/// One datagram as received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The datagram's real length (`MSG_TRUNC`): larger than the buffer when it was cut.
    pub len: usize,
    /// The sender's port id (`sockaddr_nl.nl_pid`): 0 is the kernel.
    pub sender: u32,
}

/// A datagram channel to the kernel's audit socket.
pub trait Transport {
    /// Sends one datagram to the kernel (port 0). Retries EINTR.
    fn send(&mut self, datagram: &[u8]) -> io::Result<()>;

    /// Waits up to `timeout` for one datagram and copies it into `buf`. `Ok(None)` on
    /// timeout. Retries EINTR within the same deadline.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<Received>>;
}

/// The real NETLINK_AUDIT socket (owns its fd; not `Clone`).
#[derive(Debug)]
pub struct NetlinkTransport {
    socket: Socket,
}

impl NetlinkTransport {
    /// Opens and binds a NETLINK_AUDIT socket.
    ///
    /// `NETLINK_CAP_ACK` is set so that an error ACK does not echo the whole (≥1 KiB) rule,
    /// and the receive buffer is raised so that a batch's ACKs cannot overflow it.
    pub fn open() -> io::Result<NetlinkTransport> {
        let mut socket = Socket::new(NETLINK_AUDIT)?;
        socket.bind_auto()?;
        // Best effort: older kernels lack CAP_ACK; the buffer size is clamped to rmem_max.
        let _ = socket.set_cap_ack(true);
        let _ = socket.set_rx_buf_sz(4usize << 20);
        Ok(NetlinkTransport { socket })
    }

    /// Opens a socket that joins the read-only record multicast group (needs CAP_AUDIT_READ).
    pub fn open_readlog() -> io::Result<NetlinkTransport> {
        let mut socket = Socket::new(NETLINK_AUDIT)?;
        socket.bind(&SocketAddr::new(0, 0))?;
        let _ = socket.set_rx_buf_sz(8usize << 20);
        socket.add_membership(crate::consts::AUDIT_NLGRP_READLOG)?;
        Ok(NetlinkTransport { socket })
    }

    /// Raises the socket's receive buffer to `bytes`: `SO_RCVBUFFORCE` (CAP_NET_ADMIN, not
    /// bound by `net.core.rmem_max`) when allowed, else `SO_RCVBUF` (clamped to `rmem_max`).
    /// Returns the size the kernel reports afterwards (it doubles the request for its own
    /// bookkeeping, socket(7)). The audit daemon needs a large one: records the kernel cannot
    /// queue to it are retried and then held back (kernel/audit.c `kauditd_send_queue`).
    pub fn set_receive_buffer(&mut self, bytes: usize) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        let want = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        let set = |opt: libc::c_int| {
            // SAFETY: fd is our open socket; the option value is a c_int that lives across
            // the call, and its size is passed.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    opt,
                    (&want as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            }
        };
        if set(libc::SO_RCVBUFFORCE) != 0 && set(libc::SO_RCVBUF) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut got: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: fd is our open socket; `got` and `len` are valid for writes of their sizes.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut got as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(usize::try_from(got).unwrap_or(0))
    }

    /// The underlying netlink socket.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl AsFd for NetlinkTransport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd is owned by `self.socket` and lives as long as the borrow of self.
        unsafe { BorrowedFd::borrow_raw(self.socket.as_raw_fd()) }
    }
}

impl Transport for NetlinkTransport {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let kernel = SocketAddr::new(0, 0);
        loop {
            match self.socket.send_to(datagram, &kernel, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(n) if n != datagram.len() => {
                    return Err(io::Error::other(format!("short send: {n} of {}", datagram.len())))
                }
                Ok(_) => return Ok(()),
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<Received>> {
        let deadline = Instant::now() + timeout;
        loop {
            // Try first, poll only when nothing is queued: a list of N rules is N datagrams,
            // and this halves the syscalls per datagram.
            let mut slice: &mut [u8] = &mut *buf;
            match self.socket.recv_from(&mut slice, libc::MSG_TRUNC | libc::MSG_DONTWAIT) {
                Ok((len, addr)) => return Ok(Some(Received { len, sender: addr.port_number() })),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}
