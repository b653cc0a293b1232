//! Asking Linux's scheduler for short time slices, so that the server's threads run as soon as
//! they are woken.
//!
//! Since Linux 6.6 the fair scheduler is EEVDF: a task woken on a CPU that another task is
//! using waits until that task's slice (a few milliseconds by default, 1.4 ms on the 2-CPU
//! benchmark machine) has run out, unless its own requested slice is shorter (6.12 on: a
//! shorter slice may preempt on wakeup). The kernel tends to wake a thread on the CPU of the
//! thread that woke it, and the client that wakes the server is busy: it is still writing the
//! rest of a burst of changes. Seen with `perf sched timehist` at 100k lines: the stdin thread
//! woken by a burst's first change waited 285 µs on the client's CPU, with the other CPU idle,
//! until the client had written all 50; only then was anything read.
//!
//! The threads a keystroke waits for run briefly per wake (an outline publish: tens to a few
//! hundred µs). A full analysis runs longer, on a blocking thread; with a short slice it gives
//! way sooner to a thread that is woken, which a keystroke wants too. So the whole process asks
//! for the shortest slice the kernel allows (0.1 ms). That changes when a thread runs, not its
//! share of the CPU (that is its weight, the `nice` value), and an unprivileged process may ask
//! it for itself. Threads inherit it, so it is asked once, before
//! any other thread starts. Kernels before 6.12 accept the request and ignore it; other
//! systems are left as they are.

/// The slice asked for, in nanoseconds: the kernel's lower bound.
pub const SLICE_NS: u64 = 100_000;

/// Asks for [`SLICE_NS`] for the calling thread and the threads it starts from now on.
/// Whether the kernel took the request (it may still ignore it, before 6.12).
pub fn request_short() -> bool {
    #[cfg(target_os = "linux")]
    {
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            // SCHED_OTHER, at the nice value the process already has.
            policy: libc::SCHED_OTHER as u32,
            // SCHED_FLAG_KEEP_PARAMS would keep the runtime too: the nice value is kept by
            // passing the current one.
            flags: 0,
            nice: current_nice(),
            priority: 0,
            runtime: SLICE_NS,
            deadline: 0,
            period: 0,
        };
        // SAFETY: `sched_setattr(0, attr, 0)` reads `attr` (its size given in it) and changes
        // only the calling thread's scheduling; `attr` outlives the call.
        let done =
            unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
        done == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// `struct sched_attr` of `sched_setattr(2)`, its first version (48 bytes).
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

/// The calling thread's nice value (0 when it cannot be read).
#[cfg(target_os = "linux")]
fn current_nice() -> i32 {
    // `getpriority` returns the nice value, and -1 both for nice -1 and on error: errno tells.
    // SAFETY: errno is this thread's; `getpriority` only reads the scheduler's state.
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, 0);
        if nice == -1 && *libc::__errno_location() != 0 {
            0
        } else {
            nice
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The calling thread's slice as `sched_getattr(2)` reports it (a fair task's runtime is
    /// its slice, on kernels that have custom slices), and its nice value.
    fn reported() -> (u64, i32) {
        let mut attr = SchedAttr::default();
        // SAFETY: the kernel writes at most `size` bytes into `attr`, which it outlives.
        let done = unsafe {
            libc::syscall(
                libc::SYS_sched_getattr,
                0,
                &mut attr as *mut SchedAttr,
                std::mem::size_of::<SchedAttr>() as u32,
                0,
            )
        };
        assert_eq!(done, 0, "sched_getattr failed");
        (attr.runtime, attr.nice)
    }

    #[test]
    fn a_thread_gets_the_slice_and_passes_it_on() {
        // On a thread of its own: the test harness's threads keep theirs.
        std::thread::spawn(|| {
            let (before, nice) = reported();
            assert_ne!(
                before, SLICE_NS,
                "the default slice is already the one asked"
            );
            assert!(request_short(), "sched_setattr refused the request");
            let (after, nice_after) = reported();
            assert_eq!(nice_after, nice, "the nice value changed");
            if before == 0 {
                // A kernel without custom slices reports no runtime for a fair task.
                eprintln!("this kernel reports no slice: the slice itself is not checked");
                return;
            }
            assert_eq!(after, SLICE_NS);
            let (child, _) = std::thread::spawn(reported).join().unwrap();
            assert_eq!(
                child, SLICE_NS,
                "a thread started after does not inherit it"
            );
        })
        .join()
        .unwrap();
    }
}
