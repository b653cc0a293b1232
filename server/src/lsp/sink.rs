//! Stdout when it is a pipe (as VS Code, Helix and the benchmark start the server): written by
//! the session's writer thread and, when nothing is queued ahead of a frame and the pipe has
//! room for all of it, by the thread that made the frame, at once.
//!
//! Handing a frame to the writer thread costs a wake of that thread: on this project's kind of
//! (virtual) machine, about 0.1 ms, a good part of a keystroke's or a request's time. A frame
//! written at once never waits: not for the writer thread (the lock is only tried), nor for the
//! client (the pipe must have room for the whole frame, so the write cannot block). Anything
//! else (a frame behind others, a full pipe, a socket or a file for stdout, another system)
//! goes through the writer thread as before. Frames keep their order: one counted as queued
//! holds back every frame written at once until the writer thread has written it. The pipe is
//! grown to 256 KiB (where the system allows), so that a publish of a few hundred diagnostics
//! fits in it whole.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The size stdout's pipe is grown to: a publish of a few hundred diagnostics is larger than a
/// pipe's usual 64 KiB (~85 KB at 10k lines), and a frame larger than the pipe is written in
/// pieces as the client reads them, by the writer thread. Not larger: a client that reads
/// slower than the server publishes would find that many bytes of stale publishes waiting in
/// the pipe, where the writer can no longer replace them with the newest (`Outbox::latest`).
/// Linux lets an unprivileged process grow a pipe to 1 MiB by default.
#[cfg(target_os = "linux")]
const PIPE_SIZE: libc::c_int = 256 << 10;

/// Stdout as a pipe (see the module comment).
pub struct Sink {
    /// A duplicate of stdout's descriptor, written without a buffer.
    #[cfg(unix)]
    out: Mutex<std::os::fd::OwnedFd>,
    #[cfg(not(unix))]
    out: Mutex<()>,
    /// Frames sent to the writer thread and not yet written or dropped by it.
    queued: AtomicUsize,
    /// The pipe's size in bytes.
    capacity: usize,
    /// The system's page size: a pipe holds its bytes in pages.
    page: usize,
}

impl Sink {
    /// Stdout's, if stdout is a pipe.
    pub fn stdout() -> Option<Arc<Sink>> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            Self::of(std::io::stdout().as_fd().try_clone_to_owned().ok()?)
        }
        #[cfg(not(unix))]
        None
    }

    /// The write end of a pipe as a sink, the pipe grown to `PIPE_SIZE` where the system
    /// allows it; `None` for anything else.
    #[cfg(unix)]
    fn of(out: std::os::fd::OwnedFd) -> Option<Arc<Sink>> {
        use std::os::fd::AsRawFd;
        #[cfg(target_os = "linux")]
        // SAFETY: `F_GETPIPE_SZ` takes no argument and returns the pipe's size, or -1 on a
        // descriptor that is not a pipe; `F_SETPIPE_SZ` sets the size of the pipe `out` is an
        // end of, from the `int` it is given, and fails (changing nothing) on anything else or
        // above the system's limit for the user. Only grown: a client's larger pipe is kept.
        unsafe {
            if libc::fcntl(out.as_raw_fd(), libc::F_GETPIPE_SZ) < PIPE_SIZE {
                libc::fcntl(out.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE);
            }
        }
        // SAFETY: `F_GETPIPE_SZ` takes no argument and returns the pipe's size, or -1 on a
        // descriptor that is not a pipe. `sysconf` only reads a setting.
        let (capacity, page) = unsafe {
            (
                libc::fcntl(out.as_raw_fd(), libc::F_GETPIPE_SZ),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        Some(Arc::new(Sink {
            capacity: usize::try_from(capacity).ok()?,
            page: usize::try_from(page).ok().filter(|&p| p > 0)?,
            out: Mutex::new(out),
            queued: AtomicUsize::new(0),
        }))
    }

    /// A frame is about to be queued for the writer thread: none is written at once until it
    /// is [`dequeued`](Self::dequeued).
    pub fn queued(&self) {
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    /// A queued frame was written, or dropped, or never queued after all.
    pub fn dequeued(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
    }

    /// Writes `bytes` now if nothing is queued ahead of them and the pipe has room: false
    /// when they must be queued instead. Never waits.
    pub fn try_write(&self, bytes: &[u8]) -> bool {
        let Ok(out) = self.out.try_lock() else {
            return false;
        };
        if self.queued.load(Ordering::Acquire) > 0 || bytes.len() > self.room(&out) {
            return false;
        }
        match write_all(&out, bytes) {
            Ok(()) => true,
            Err(e) => {
                // The writer thread says it too, once it has something to write.
                tracing::debug!("cannot write the output: {e}");
                false
            }
        }
    }

    /// Writes `bytes`, waiting for the client to read if it must (the writer thread's write).
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        write_all(&out, bytes)
    }

    /// Bytes that can be written to the pipe without waiting, at least: its size less the
    /// pages that what the client has not read yet may take (the first may be partly read,
    /// and the last partly written).
    #[cfg(unix)]
    fn room(&self, out: &std::os::fd::OwnedFd) -> usize {
        use std::os::fd::AsRawFd;
        match unread_bytes(out.as_raw_fd()) {
            Some(unread) => self
                .capacity
                .saturating_sub((unread.div_ceil(self.page) + 1) * self.page),
            None => 0,
        }
    }

    #[cfg(not(unix))]
    fn room(&self, _: &()) -> usize {
        0
    }
}

/// The bytes in pipe or socket `fd` that no one has read yet; `None` where unknown.
pub fn unread_bytes(fd: i32) -> Option<usize> {
    #[cfg(unix)]
    {
        let mut bytes: libc::c_int = 0;
        // SAFETY: `FIONREAD` stores the number of bytes readable from `fd` in the `c_int` it
        // is given; on a descriptor that is not open, or not readable, it fails and stores
        // nothing.
        let done = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut bytes) };
        usize::try_from(bytes).ok().filter(|_| done == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = fd;
        None
    }
}

/// Writes all of `bytes` to `fd`, waiting if it must.
#[cfg(unix)]
fn write_all(fd: &std::os::fd::OwnedFd, mut bytes: &[u8]) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    while !bytes.is_empty() {
        // SAFETY: `write` reads at most `bytes.len()` bytes from the buffer it is given.
        let written = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(written) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(_) => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn write_all(_: &(), _: &[u8]) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A frame is written at once only when nothing is queued ahead of it and the pipe has
    /// room for it; otherwise it is left to the writer thread, and nothing waits.
    #[test]
    fn a_frame_skips_the_queue_only_when_it_can_be_written_at_once() {
        use std::os::fd::{FromRawFd, OwnedFd};
        let mut fds = [0; 2];
        // SAFETY: `pipe` fills the two descriptors it is given, each owned by one `OwnedFd`
        // from here on, which closes it. `F_SETFL` sets the flags given.
        let (client, server) = unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            // A write that would wait fails instead, having written what fitted: the test
            // sees it rather than hangs.
            assert_eq!(libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK), 0);
            (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
        };
        let client_fd = fds[0];
        let read_exact = |len: usize| {
            let mut buf = vec![0u8; len];
            let mut at = 0;
            while at < len {
                // SAFETY: `read` writes at most `len - at` bytes after `at` in `buf`.
                let n = unsafe { libc::read(client_fd, buf[at..].as_mut_ptr().cast(), len - at) };
                at += usize::try_from(n).expect("read from the pipe");
            }
            buf
        };
        let sink = Sink::of(server).expect("a pipe");
        let frame = b"Content-Length: 2\r\n\r\n{}".to_vec();
        assert!(sink.try_write(&frame));
        assert_eq!(read_exact(frame.len()), frame);
        // Something queued ahead of it: its turn comes after.
        sink.queued();
        assert!(!sink.try_write(&frame));
        sink.dequeued();
        // Larger than the pipe: it would wait for the client.
        assert!(!sink.try_write(&vec![b' '; sink.capacity]));
        // The client reads nothing: once the pipe is nearly full, nothing more is written
        // at once, and nothing is written in part.
        let chunk = vec![b' '; 1000];
        let mut written = 0;
        while sink.try_write(&chunk) {
            written += chunk.len();
        }
        assert!(written > sink.capacity / 2, "only {written} bytes written");
        assert!(unread_bytes(client_fd) > Some(0));
        read_exact(written);
        assert_eq!(
            unread_bytes(client_fd),
            Some(0),
            "a frame was written in part"
        );
        drop(client);
    }

    #[test]
    fn only_a_pipe_is_a_sink() {
        use std::os::fd::{FromRawFd, OwnedFd};
        let mut fds = [0; 2];
        // SAFETY: `socketpair` fills the two descriptors it is given, each owned by one
        // `OwnedFd` from here on, which closes it.
        let (a, _b) = unsafe {
            assert_eq!(
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()),
                0
            );
            (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
        };
        assert!(Sink::of(a).is_none());
    }
}
