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

    /// Waits up to `timeout` for datagrams and receives as many as are queued, up to the
    /// number of `slots`; returns how many (0 on timeout). The default receives one with
    /// [`Transport::recv`]; the real socket takes them all in one `recvmmsg(2)`.
    fn recv_many(&mut self, slots: &mut Slots, timeout: Duration) -> io::Result<usize> {
        slots.got.clear();
        let Some(first) = slots.buf.chunks_mut(slots.size).next() else { return Ok(0) };
        if let Some(r) = self.recv(first, timeout)? {
            slots.got.push(r);
        }
        Ok(slots.got.len())
    }
}

/// Room for several datagrams, filled by [`Transport::recv_many`].
///
/// One allocation, `count × size` bytes, zeroed by the allocator: large enough that it is
/// mapped fresh, so only the pages datagrams are written into become resident (a record is
/// a few hundred bytes; a slot holds the largest one the kernel makes).
#[derive(Debug)]
pub struct Slots {
    buf: Vec<u8>,
    size: usize,
    got: Vec<Received>,
}

impl Slots {
    /// `count` slots of `size` bytes each (at least one of one byte).
    pub fn new(count: usize, size: usize) -> Slots {
        let (count, size) = (count.max(1), size.max(1));
        Slots { buf: vec![0; count * size], size, got: Vec::with_capacity(count) }
    }

    /// How many slots there are.
    pub fn count(&self) -> usize {
        self.buf.len() / self.size
    }

    /// The size of each slot.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The datagrams the last [`Transport::recv_many`] received, in order: each as its
    /// [`Received`] and the bytes held (`len` is larger than them when it was cut).
    pub fn received(&self) -> impl Iterator<Item = (Received, &[u8])> + '_ {
        self.got.iter().zip(self.buf.chunks(self.size)).map(|(r, b)| (*r, &b[..r.len.min(b.len())]))
    }

    /// For a transport's [`Transport::recv_many`]: the slots to write into, and the list of
    /// what was received, cleared.
    pub fn parts(&mut self) -> (impl Iterator<Item = &mut [u8]> + '_, &mut Vec<Received>) {
        self.got.clear();
        (self.buf.chunks_mut(self.size), &mut self.got)
    }
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

    fn recv_many(&mut self, slots: &mut Slots, timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        let fd = self.socket.as_raw_fd();
        let count = slots.count();
        let (bufs, got) = slots.parts();
        let mut iov: Vec<libc::iovec> = bufs
            .map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() })
            .collect();
        // SAFETY: sockaddr_nl is plain data; all zeroes is a valid value.
        let mut names: Vec<libc::sockaddr_nl> = vec![unsafe { std::mem::zeroed() }; count];
        let mut hdrs: Vec<libc::mmsghdr> = iov
            .iter_mut()
            .zip(names.iter_mut())
            .map(|(v, n)| {
                // SAFETY: msghdr and mmsghdr are plain data; all zeroes is valid.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = (n as *mut libc::sockaddr_nl).cast();
                h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as u32;
                h.msg_hdr.msg_iov = v;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        loop {
            // Try first, poll only when nothing is queued. MSG_TRUNC: each `msg_len` is the
            // datagram's real length, so a cut one is told, not taken whole.
            // SAFETY: fd is our socket; `hdrs` holds `count` headers whose name and iovec
            // pointers point into `names` and the slots, all alive and unaliased for the
            // call; a null timeout is allowed.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    hdrs.as_mut_ptr(),
                    count as libc::c_uint,
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n > 0 {
                let n = n as usize;
                for (h, name) in hdrs.iter().zip(names.iter()).take(n) {
                    got.push(Received { len: h.msg_len as usize, sender: name.nl_pid });
                }
                return Ok(n);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                _ if n == 0 => return Ok(0),
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {}
                _ => return Err(e),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(0);
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
